"""The approval count at review time reads withdrawals as issuance and the sweep do.

A withdrawal is final, and its audit event outranks the review row. The count when
the next reviewer approves used to read ``withdrawn_at`` from the row only: someone who
could write the store cleared it, and the next approval met the threshold with the
withdrawn one and granted access. Now the log's withdrawal counts there too; a row
marked withdrawn (with no event) still counts for nothing (fail closed, as at issuance).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from stagewall.access import request_access, review_request, withdraw_approval
from stagewall.access._tables import access_grants, access_reviews
from tests.access.conftest import Env


def _two_approvals(make_env: Any) -> tuple[Env, str]:
    env: Env = make_env(prod_rule="two-sre")
    env.enrol("alice", "bob", "carol")
    req = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="x"
    )
    first = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
    assert first.outcome.value == "pending"
    return env, req.id


def _set_withdrawn(env: Env, request_id: str, value: str | None) -> None:
    with env.ctx.store.transaction() as conn:
        done = conn.execute(
            update(access_reviews)
            .where(access_reviews.c.request_id == request_id)
            .where(access_reviews.c.reviewer == "bob")
            .values(withdrawn_at=value)
        ).rowcount
    assert done == 1


def _grants(env: Env) -> int:
    with env.ctx.store.read() as conn:
        return len(conn.execute(access_grants.select()).all())


def test_a_withdrawal_cleared_in_the_store_does_not_count_at_the_next_review(
    make_env: Any,
) -> None:
    env, rid = _two_approvals(make_env)
    withdraw_approval(env.ctx, rid, reviewer="bob", otp=env.otp("bob"), reason="wrong")
    _set_withdrawn(env, rid, None)  # the row says bob's approval stands again
    res = review_request(env.ctx, rid, reviewer="carol", approve=True, otp=env.otp("carol"))
    assert res.outcome.value == "pending" and res.result_ref is None
    assert _grants(env) == 0


def test_a_withdrawal_set_in_the_store_without_an_event_still_counts_for_nothing(
    make_env: Any,
) -> None:
    """The other direction: the row says withdrawn, the log has no withdrawal. The
    approval does not count (fail closed, as issuance refuses such a grant); it is not
    resurrected by the log's silence."""
    env, rid = _two_approvals(make_env)
    _set_withdrawn(env, rid, "2020-01-01T00:00:00.000000Z")
    res = review_request(env.ctx, rid, reviewer="carol", approve=True, otp=env.otp("carol"))
    assert res.outcome.value == "pending" and res.result_ref is None
    assert _grants(env) == 0


def test_a_genuine_second_approval_still_grants(make_env: Any) -> None:
    env, rid = _two_approvals(make_env)
    res = review_request(env.ctx, rid, reviewer="carol", approve=True, otp=env.otp("carol"))
    assert res.outcome.value == "approved" and res.result_ref is not None
