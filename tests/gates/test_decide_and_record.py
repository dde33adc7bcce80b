"""``gate check`` decides and records the deployment in one write transaction.

An approval withdrawn between the decision and the recording must not count once:
the hook between the two steps withdraws it (no sleeps, no timing).
"""

from __future__ import annotations

import json

import pytest

from stagewall.gates import deploy
from stagewall.gates.promotions import Promotion
from tests.gates.conftest import World, approve, gate_check
from tests.gates.test_promotions import ART, _ready_for_production


def test_an_approval_withdrawn_between_decision_and_record_does_not_count(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    withdrawn: list[str] = []

    def withdraw_now(promotion: Promotion) -> None:
        if withdrawn:
            return
        res = world.as_person(
            "alice", "gate", "withdraw", promotion.id, "--otp", world.otp("alice")
        )
        assert res.exit_code == 0, res.stderr
        withdrawn.append(promotion.id)

    monkeypatch.setattr(deploy, "_after_decision", withdraw_now)
    r = gate_check(world, sha, ART, "production")
    assert withdrawn == [pid]
    assert r.exit_code == 1, r.stdout
    assert f"{pid} changed while it was decided" in r.stderr
    assert "approval by alice was withdrawn" in r.stderr
    listed = json.loads(world.gate("list", "--format", "json").stdout)
    # not deployed, and not "approved" either: its only approval was withdrawn (gatelist)
    assert [p["state"] for p in listed if p["id"] == pid] == ["withdrawn"]
    r = gate_check(world, sha, ART, "production")  # and it stays refused
    assert r.exit_code == 1 and "approval by alice was withdrawn" in r.stderr
