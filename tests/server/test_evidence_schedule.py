"""The leader evaluates the evidence checks on a schedule; a PASS -> FAIL drift alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.evidence.record import DRIFTED, EVALUATED
from stagewall.scan._audit import SCAN_COMPLETED
from stagewall.server.sweeper import EVIDENCE_EVERY, Leadership, evidence, tick
from tests.server.conftest import World


def _scan(world: World, high: int) -> None:
    AuditLog(world.state.ctx.store).append(
        AuditEvent(
            SCAN_COMPLETED.code,
            Status.FAILURE if high else Status.SUCCESS,
            "os:ci",
            f"scan: {high} findings",
            details={"counts_by_severity": {"high": high, "medium": 0, "low": 0}},
        )
    )
    world.clock.now = datetime.now(UTC) + timedelta(seconds=1)  # the scan is in the window


def _codes(world: World) -> list[str]:
    return [e.code for e in AuditLog(world.state.ctx.store).events()]


def test_drift_from_pass_to_fail_is_recorded_and_alerts(world: World) -> None:
    _scan(world, 0)
    assert evidence(world.state) == 0
    assert world.alerts() == []
    assert _codes(world).count(EVALUATED.code) == 1
    _scan(world, 2)
    assert evidence(world.state) == 1
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
    assert evidence(world.state) == 0
    assert len([a for a in world.alerts() if a["kind"] == "evidence.check.drifted"]) == 1


def test_the_leader_evaluates_once_per_interval(world: World) -> None:
    lead = Leadership(world.state)
    try:
        tick(world.state, lead)
        tick(world.state, lead)
        assert _codes(world).count(EVALUATED.code) == 1
        world.clock.advance(EVIDENCE_EVERY + timedelta(seconds=1))
        tick(world.state, lead)
        assert _codes(world).count(EVALUATED.code) == 2
    finally:
        lead.release()
