"""A promotion approval withdrawn by its approver no longer counts at `gate check`."""

from __future__ import annotations

import json

from tests.gates.conftest import World, approve, gate_check
from tests.gates.test_promotions import ART, _ready_for_production


def test_a_withdrawn_promotion_approval_no_longer_lets_the_change_deploy(world: World) -> None:
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    other = world.as_person("bob", "gate", "withdraw", pid, "--otp", world.otp("bob"))
    assert other.exit_code == 1 and "'bob' has no approval" in other.stderr
    assert "Traceback" not in other.stderr
    res = world.as_person(
        "alice", "gate", "withdraw", pid, "--otp", world.otp("alice"),
        "--reason", "saw a bug", "--format", "json",
    )  # fmt: skip
    assert res.exit_code == 0, res.stderr
    got = json.loads(res.stdout)
    assert got["promotion"] == pid and got["withdrawn_by"] == "alice"
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1, r.stdout
    assert "approval by alice was withdrawn" in r.stderr
