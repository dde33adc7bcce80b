"""Suppressed findings of every rule are counted in the evidence, per rule and by what.

A scan's ``stagewall:ignore``/baseline and monitoring's ``monitoring.suppress`` silence
findings; the evidence must still say, for each rule, how many were silenced and by
which suppression, so that one accepted risk cannot hide a whole class of findings.
"""

from __future__ import annotations

from stagewall.alerts import FileAlertSink
from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.estate import load_estate
from stagewall.evidence import CheckResult, CheckStatus, evaluate
from stagewall.monitoring import GrantIndex, IngestContext, ingest_lines
from stagewall.scan._audit import SCAN_COMPLETED
from tests.evidence.history import History

SCAN = "scan.no_high_findings"
ALERTING = "monitoring.alerting"


def _check(history: History, name: str) -> CheckResult:
    return evaluate(history.inputs()).results[name]


def _scan(history: History, **details: object) -> int:
    return AuditLog(history.ctx.store).append(
        AuditEvent(
            SCAN_COMPLETED.code,
            Status.SUCCESS,
            "os:ci",
            "scan of 12 files: 0 findings",
            details={
                "counts_by_severity": {"high": 0, "medium": 0, "low": 0},
                "files_scanned": 12,
                **details,
            },
        )
    )


def test_the_scan_check_names_every_rule_whose_findings_were_suppressed(
    history: History,
) -> None:
    by_rule = {
        "SW-SCAN-001": {"inline": 1, "baseline": 0},
        "SW-SCAN-005": {"inline": 0, "baseline": 3},
    }
    _scan(history, suppressed=4, suppressed_by_rule=by_rule)
    r = _check(history, SCAN)
    assert r.status is CheckStatus.PASS, r.summary
    assert r.figures["suppressed"] == 4
    assert r.figures["suppressed_by_rule"] == {
        "SW-SCAN-001": {"inline": 1},
        "SW-SCAN-005": {"baseline": 3},
    }
    assert "SW-SCAN-001 1 (inline 1)" in r.summary
    assert "SW-SCAN-005 3 (baseline 3)" in r.summary


def test_a_scan_that_recorded_only_a_total_says_the_rules_are_unknown(history: History) -> None:
    _scan(history, suppressed=2)
    r = _check(history, SCAN)
    assert r.figures["suppressed"] == 2
    assert "2 findings suppressed" in r.summary and "did not record which rules" in r.summary


def test_a_scan_without_suppressions_says_so(history: History) -> None:
    _scan(history, suppressed=0, suppressed_by_rule={})
    r = _check(history, SCAN)
    assert r.figures["suppressed"] == 0 and "0 findings suppressed" in r.summary


def test_monitoring_suppressions_of_every_rule_are_counted(history: History) -> None:
    """Suppressing an evidence rule's alert and another rule's findings: both counted."""
    text = history.config.read_text("utf-8").replace(
        "emails: [dana@devshop.example]}",
        "emails: [dana@devshop.example], identities: {logins: [dana]}}",
    )
    history.config.write_text(
        text + "monitoring:\n  sources:\n    pg: {type: postgresql, resource: prod-db}\n"
        "  suppress:\n    - {rule: external_production_access, principal: dana, "
        "reason: vendor maintenance}\n"
        "    - {rule: off_hours_activity, principal: dana, reason: night batch RISK-7}\n",
        "utf-8",
    )
    estate = load_estate(history.config).estate
    ts = "2026-12-06 03:00:00.000 UTC"  # a Sunday night: off the default working hours
    lines = [
        f"{ts} [1] LOG:  connection received: host=203.0.113.9 port=5000",
        f"{ts} [1] LOG:  connection authorized: user=dana database=shop",
    ]
    ctx = IngestContext(
        estate,
        history.ctx.store,
        grants=GrantIndex(()),
        sinks=[FileAlertSink(history.root / "alerts.jsonl")],
    )
    try:
        report = ingest_lines("pg", lines, ctx)
    finally:
        ctx.close()
    assert report.suppressed >= 2
    assert set(report.suppressed_by_rule) >= {"external_production_access", "off_hours_activity"}
    assert report.suppressed_by_rule["off_hours_activity"] == {
        "monitoring.suppress[1] (night batch RISK-7)": 1
    }
    r = _check(history, ALERTING)
    assert r.figures["suppressed_findings"] == report.suppressed
    assert r.figures["suppressed_by_rule"] == report.suppressed_by_rule
    assert "off_hours_activity 1 (monitoring.suppress[1] (night batch RISK-7) 1)" in r.summary
    assert "external_production_access" in r.summary
    assert r.events  # the batch event that says so is cited
