"""The approve and issue paths read less and decide exactly as before.

* a request, its recorded outcome and its reviews come from one statement
  (``load_request_state``), equal to the three separate reads;
* whether a grant has credentials and which vendors are offboarded come from one
  statement (``_issued_and_offboarded``), equal to the two separate reads;
* a resource's pin is read once per context and kept: a pin row edited in the store
  afterwards does not move it for that context (a fresh context reads the edit and
  refuses the server it no longer matches).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from stagewall.access import Outcome, issue_credentials, request_access, review_request
from stagewall.access._core import load_request, load_request_state, load_reviews
from stagewall.access._tables import access_offboarded, access_outcomes
from stagewall.access.grants import _issued_and_offboarded, credential_rows
from stagewall.access.identity import accesspg_identities, pinned
from stagewall.errors import IdentityRefused, UsageError
from tests.access.conftest import Env

pytestmark = pytest.mark.postgres


def _separately(env: Env, request_id: str) -> tuple[Any, Any, Any]:
    with env.ctx.store.read() as conn:
        request = load_request(conn, request_id)
        row = conn.execute(
            select(access_outcomes.c.outcome, access_outcomes.c.result_ref).where(
                access_outcomes.c.request_id == request_id
            )
        ).first()
        reviews = load_reviews(conn, request_id)
    return request, (row[0], row[1]) if row is not None else None, reviews


def _at_once(env: Env, request_id: str) -> tuple[Any, Any, Any]:
    with env.ctx.store.read() as conn:
        return load_request_state(conn, request_id)


@pytest.fixture
def two_approvals(make_env: Any, any_store_url: str) -> Env:
    env: Env = make_env(store_url=any_store_url, prod_rule="two-sre")
    env.enrol("alice", "bob", "carol")
    return env


def test_request_state_in_one_statement_equals_the_three_reads(two_approvals: Env) -> None:
    env = two_approvals
    req = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="x"
    )
    stages = [_at_once(env, req.id)]
    assert stages[-1] == _separately(env, req.id) and stages[-1][2] == []
    first = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
    assert first.outcome is Outcome.PENDING
    stages.append(_at_once(env, req.id))
    assert stages[-1] == _separately(env, req.id) and stages[-1][1] is None
    second = review_request(env.ctx, req.id, reviewer="carol", approve=True, otp=env.otp("carol"))
    assert second.outcome is Outcome.APPROVED
    request, recorded, reviews = _at_once(env, req.id)
    assert (request, recorded, reviews) == _separately(env, req.id)
    assert recorded == ("approved", second.result_ref)
    assert [r.reviewer for r in reviews] == ["bob", "carol"]  # in the order they came
    assert request == req
    # a denied request (outcome without a grant) and an unknown id
    other = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="y"
    )
    review_request(env.ctx, other.id, reviewer="bob", approve=False, otp=env.otp("bob"))
    assert _at_once(env, other.id) == _separately(env, other.id)
    assert _at_once(env, other.id)[1] == ("denied", None)
    with pytest.raises(UsageError, match="there is no request 'r-nope'") as one:
        _at_once(env, "r-nope")
    with pytest.raises(UsageError) as three:
        _separately(env, "r-nope")
    assert (one.value.message, one.value.hint) == (three.value.message, three.value.hint)


def test_issued_and_offboarded_in_one_statement_equals_the_two_reads(env: Env) -> None:
    req = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="x"
    )
    gid = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
    assert gid.result_ref

    def both() -> tuple[tuple[bool, set[str]], tuple[bool, set[str]]]:
        with env.ctx.store.read() as conn:
            return (
                _issued_and_offboarded(conn, gid.result_ref or ""),
                (bool(credential_rows(conn, gid.result_ref or "")), env.ctx.offboarded(conn)),
            )

    one, two = both()
    assert one == two == (False, set())
    issue_credentials(env.ctx, gid.result_ref, holder="alice", otp=env.otp("alice"))
    with env.ctx.store.transaction() as conn:
        for vendor in ("devshop", "oldco"):
            conn.execute(
                insert(access_offboarded).values(
                    vendor=vendor, offboarded_at="2026-01-01T00:00:00.000000Z", offboarded_by="t"
                )
            )
    one, two = both()
    assert one == two == (True, {"devshop", "oldco"})


def test_a_pin_is_read_once_per_context_and_kept(env: Env) -> None:
    def granted() -> str:
        req = request_access(
            env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="x"
        )
        res = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
        assert res.result_ref
        return res.result_ref

    issue_credentials(env.ctx, granted(), holder="alice", otp=env.otp("alice"))  # pins prod-db
    issue_credentials(env.ctx, granted(), holder="alice", otp=env.otp("alice"))  # reads the pin
    real = pinned(env.ctx.store, "prod-db")
    assert real is not None and env.ctx.pins["prod-db"] == real
    # Someone edits the pin in the store: this context keeps the pin it read ...
    with env.ctx.store.transaction() as conn:
        conn.execute(
            update(accesspg_identities)
            .where(accesspg_identities.c.resource == "prod-db")
            .values(server="0000000000000000000")
        )
    issue_credentials(env.ctx, granted(), holder="alice", otp=env.otp("alice"))
    # ... and a context that reads the edited row refuses the server it no longer matches.
    fresh = env.context()
    with pytest.raises(IdentityRefused, match="changed identity"):
        issue_credentials(fresh, granted(), holder="alice", otp=env.otp("alice"))


def test_a_grant_reads_the_offboarded_vendors_only_for_a_vendors_principal(env: Env) -> None:
    """hold_problem looks at the offboarded set only for a principal with a vendor: the
    approval of an internal person's request spares the read; a vendor's principal whose
    vendor was offboarded after the request is still refused at approval."""
    from sqlalchemy import event

    from stagewall.errors import AccessDenied

    seen: list[str] = []

    def listen(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        if "access_offboarded" in statement:
            seen.append(statement)

    internal = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="x"
    )
    vendor = request_access(
        env.ctx, requester="dana", role="staging-write", duration=timedelta(hours=1), reason="y"
    )
    with env.ctx.store.transaction() as conn:  # offboarded while the request waits
        conn.execute(
            insert(access_offboarded).values(
                vendor="devshop", offboarded_at="2026-01-01T00:00:00.000000Z", offboarded_by="t"
            )
        )
    event.listen(env.ctx.store.engine, "before_cursor_execute", listen)
    try:
        done = review_request(
            env.ctx, internal.id, reviewer="bob", approve=True, otp=env.otp("bob")
        )
        assert done.outcome is Outcome.APPROVED and seen == []
        with pytest.raises(AccessDenied, match="vendor 'devshop' has been offboarded"):
            review_request(env.ctx, vendor.id, reviewer="bob", approve=True, otp=env.otp("bob"))
        assert seen, "a vendor's principal must be checked against the offboarded vendors"
    finally:
        event.remove(env.ctx.store.engine, "before_cursor_execute", listen)
