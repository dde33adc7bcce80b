"""Results as audit events: a PASS -> FAIL drift is recorded once."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from stagewall.audit import AuditLog
from stagewall.evidence import evaluate
from stagewall.evidence.pack import build_pack
from stagewall.evidence.record import DRIFTED, EVALUATED, previous_statuses, record_evaluation
from stagewall.evidence.verify import verify_pack
from stagewall.keys import load_public_key, load_signing_key
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


def test_drift_shows_in_the_pack(history: History, tmp_path: Path) -> None:
    log = AuditLog(history.ctx.store)
    record_evaluation(log, evaluate(history.inputs()), actor="scheduler")
    history.scan(high=1)
    record_evaluation(log, evaluate(history.inputs()), actor="scheduler")
    drifted = log.size() - 1
    res = build_pack(
        history.inputs(), tmp_path / "p.zip", signing_key=load_signing_key(), pdf=False
    )
    with zipfile.ZipFile(res.path) as z:
        html = z.read("report.html").decode()
        index = json.loads(z.read("index.json"))
    assert "<h2>Drift in the window</h2>" in html
    assert f"<td>{drifted}</td>" in html and "scan.no_high_findings" in html
    assert drifted in index["events"]  # the drift event itself is proven in the pack
    assert verify_pack(res.path, public_key=load_public_key()).events == len(index["events"])
