"""Claimed slots: each (task, slot) goes to its first claimant, one at a time or many at once."""

from __future__ import annotations

from stagewall.server.slots import claim, claim_many
from tests.server.conftest import World


def test_many_claims_in_one_transaction_are_the_claims_one_by_one(world: World) -> None:
    state = world.state
    assert claim(state, "t", "a")
    # "a" is taken, "b" is listed twice: the new ones once each, in the order given.
    assert claim_many(state, "t", ["c", "a", "b", "b"]) == ["c", "b"]
    assert claim_many(state, "t", ["a", "b", "c"]) == []
    assert not claim(state, "t", "b")
    assert claim_many(state, "other", ["a", "b"]) == ["a", "b"]  # per task
    assert claim_many(state, "t", []) == []
