"""Results as audit events: a PASS -> FAIL drift is recorded once."""

from __future__ import annotations

from stagewall.audit import AuditLog
from stagewall.evidence import evaluate
from stagewall.evidence.record import DRIFTED, EVALUATED, previous_statuses, record_evaluation
from tests.evidence.history import History


def test_drift_is_recorded(history: History) -> None:
    log = AuditLog(history.ctx.store)
    assert previous_statuses(log) == {}
    assert record_evaluation(log, evaluate(history.inputs()), actor="scheduler") == []
    assert previous_statuses(log)["scan.no_high_findings"] == "PASS"
    history.scan(high=1)
    drifts = record_evaluation(log, evaluate(history.inputs()), actor="scheduler")
    assert [(d.check, d.before, d.after) for d in drifts] == [
        ("scan.no_high_findings", "PASS", "FAIL")
    ]
    codes = [e.code for e in log.events()[-3:]]
    assert codes == ["scan.run.completed", EVALUATED.code, DRIFTED.code]
    # still failing: no second drift event
    assert record_evaluation(log, evaluate(history.inputs()), actor="scheduler") == []
