"""A promotion approval withdrawn by its approver no longer counts at `gate check`."""

from __future__ import annotations

import json

from sqlalchemy import update

from stagewall.access._tables import access_reviews
from stagewall.store import open_store
from tests.gates.conftest import World, approve, gate_check
from tests.gates.test_binding import _alerts, _events
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


def test_a_withdrawal_cleared_in_the_store_still_counts_from_the_log(world: World) -> None:
    """Someone who can write the store clears ``withdrawn_at``: the log's
    gate.approval.withdrawn event still discounts the approval, alerted and recorded."""
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    res = world.as_person("alice", "gate", "withdraw", pid, "--otp", world.otp("alice"))
    assert res.exit_code == 0, res.stderr
    store = open_store(world.db)
    try:
        with store.transaction() as conn:
            cleared = conn.execute(
                update(access_reviews)
                .where(access_reviews.c.request_id == pid)
                .values(withdrawn_at=None, withdrawn_reason=None)
            ).rowcount
        assert cleared == 1
    finally:
        store.dispose()
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1, r.stdout
    assert "records that alice withdrew this approval" in r.stderr
    assert "Traceback" not in r.stderr
    found = [e for e in _events(world) if e.code == "gate.row.unbound"]
    assert len(found) == 1 and found[0].details["promotion"] == pid
    assert any(a.get("kind") == "gate.row.unbound" for a in _alerts(world))


def test_a_withdrawal_cleared_in_the_store_does_not_count_at_the_next_approval(
    world: World,
) -> None:
    """Two approvals needed: alice approves and withdraws, the store clears her
    withdrawal, bob approves. The count at bob's approval reads the log's withdrawal (as
    `gate check` does), so the promotion stays pending instead of being approved."""
    text = world.config.read_text()
    world.config.write_text(text.replace("one-sre: {approvals: 1,", "one-sre: {approvals: 2,"))
    _sha, pid = _ready_for_production(world, "dana@devshop.example")
    first = approve(world, pid, "alice")
    assert first.exit_code == 0 and "state: pending" in first.stdout, first.stdout
    res = world.as_person("alice", "gate", "withdraw", pid, "--otp", world.otp("alice"))
    assert res.exit_code == 0, res.stderr
    store = open_store(world.db)
    try:
        with store.transaction() as conn:
            conn.execute(
                update(access_reviews)
                .where(access_reviews.c.request_id == pid)
                .values(withdrawn_at=None, withdrawn_reason=None)
            )
    finally:
        store.dispose()
    second = approve(world, pid, "bob")
    assert second.exit_code == 0, second.stderr
    assert "state: pending" in second.stdout, second.stdout
