"""Evidence in the server: the leader evaluates the checks on a schedule (a PASS -> FAIL
drift alerts); the pack and the questionnaire answers through the API."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.evidence.record import DRIFTED, EVALUATED, PACKED
from stagewall.evidence.verify import verify_pack
from stagewall.keys import load_public_key
from stagewall.scan._audit import SCAN_COMPLETED
from stagewall.server._state import EVALUATION_REUSE
from stagewall.server.scheduler import run_evidence
from tests.server.conftest import Person, World


def _scan(world: World, high: int) -> None:
    AuditLog(world.state.ctx.store).append(
        AuditEvent(
            SCAN_COMPLETED.code,
            Status.FAILURE if high else Status.SUCCESS,
            "os:ci",
            f"scan: {high} findings",
            # as `stagewall scan` records it: a scan that read no file proves nothing
            details={
                "counts_by_severity": {"high": high, "medium": 0, "low": 0},
                "files_scanned": 3,
            },
        )
    )
    world.clock.now = datetime.now(UTC) + timedelta(seconds=1)  # the scan is in the window


def _codes(world: World) -> list[str]:
    return [e.code for e in AuditLog(world.state.ctx.store).events()]


def _drifts(world: World) -> int:
    return sum(1 for a in world.alerts() if a["kind"] == "evidence.check.drifted")


def test_drift_from_pass_to_fail_is_recorded_and_alerts(world: World) -> None:
    """The scheduled evaluation (run by the leader's worker, once per claimed slot)."""
    _scan(world, 0)
    run_evidence(world.state, "slot-1")
    assert _drifts(world) == 0
    assert _codes(world).count(EVALUATED.code) == 1
    _scan(world, 2)
    run_evidence(world.state, "slot-2")
    codes = _codes(world)
    assert codes.count(EVALUATED.code) == 2 and codes[-1] == DRIFTED.code
    alerts = [a for a in world.alerts() if a["kind"] == "evidence.check.drifted"]
    assert len(alerts) == 1
    assert alerts[0]["details"] == {
        "check": "scan.no_high_findings",
        "before": "PASS",
        "after": "FAIL",
    }
    # still failing: no new drift, no new alert
    run_evidence(world.state, "slot-3")
    assert _drifts(world) == 1


def test_pack_through_the_api_verifies_offline_and_is_audited(
    world: World, people: dict[str, Person], tmp_path: Path
) -> None:
    day = world.clock.now.date()
    url = f"/api/v1/evidence/pack?from={day - timedelta(days=30)}&to={day}&pdf=false"
    assert people["alice"].get(url).status_code == 403  # internal, neither auditor nor admin
    res = people["audrey"].get(url)
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "application/zip"
    out = tmp_path / "pack.zip"
    out.write_bytes(res.content)
    report = verify_pack(out, public_key=load_public_key(world.home))
    assert report.warnings == () and report.counts
    taken = [e for e in AuditLog(world.state.ctx.store).events() if e.code == PACKED.code]
    assert [(e.actor, e.details["sha256"]) for e in taken] == [
        ("audrey", hashlib.sha256(res.content).hexdigest())
    ]
    bad = people["audrey"].get("/api/v1/evidence/pack?from=yesterday&to=2026-01-01")
    assert bad.status_code == 400 and "not a date" in bad.json()["detail"]


def test_answers_through_the_api(world: World, people: dict[str, Person]) -> None:
    res = people["alice"].get("/api/v1/evidence/answers?questionnaire=caiq-v4")
    assert res.status_code == 200, res.text
    answers = res.json()["answers"]
    assert answers and {a["answer"] for a in answers} <= {"Yes", "No", "Partial"}
    assert all(a["as_of"] and a["confidence"] for a in answers)
    assert any(a["caiq"] for a in answers)
    assert people["dana"].get("/api/v1/evidence/answers").status_code == 403
    bad = people["alice"].get("/api/v1/evidence/answers?questionnaire=nope")
    assert bad.status_code == 409 and "no built-in question set" in bad.json()["detail"]


def test_readers_share_one_evaluation_per_minute(world: World, people: dict[str, Person]) -> None:
    """Polling the checks cannot make the server re-read the whole log on every request."""
    first = people["audrey"].get("/api/v1/evidence/checks").json()
    world.clock.now += timedelta(seconds=30)
    AuditLog(world.state.ctx.store).append(
        AuditEvent(
            SCAN_COMPLETED.code,
            Status.FAILURE,
            "os:ci",
            "scan: 3 findings",
            details={"counts_by_severity": {"high": 3, "medium": 0, "low": 0}},
        )
    )  # would fail scan.no_high_findings, but the minute is not over
    again = people["alice"].get("/api/v1/evidence/checks").json()
    assert again == first
    world.clock.now = datetime.now(UTC) + EVALUATION_REUSE  # the scan is in the window
    later = people["audrey"].get("/api/v1/evidence/checks").json()
    assert later["as_of"] != first["as_of"]
    status = {c["check"]: c["status"] for c in later["checks"]}
    assert status["scan.no_high_findings"] == "FAIL"
