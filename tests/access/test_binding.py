"""Grant rows are bound to their creating audit event; a row written in the store is refused.

Reproduces the issue-10 bypass: a row inserted straight into ``access_grants`` used
to be honoured (credentials issued, ``audit verify`` and ``check`` clean).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from stagewall.access import (
    issue_credentials,
    list_grants,
    request_access,
    review_request,
    sweep,
    withdraw_approval,
)
from stagewall.access._tables import access_grants, access_reviews
from stagewall.errors import AccessDenied
from tests.access.conftest import Env


def _insert_row(env: Env, gid: str, **extra: object) -> None:
    now = env.clock()
    values = {
        "id": gid,
        "principal": "alice",
        "role": "prod-read",
        "environment": "production",
        "production": True,
        "source": "request",
        "request_id": None,
        "reason": "inserted by hand",
        "starts_at": (now - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "ends_at": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "status": "active",
        "created_at": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        **extra,
    }
    with env.ctx.store.transaction() as conn:
        conn.execute(access_grants.insert().values(**values))


def test_inserted_grant_row_gets_no_credentials_and_alerts(env: Env) -> None:
    _insert_row(env, "gforged000001")
    with pytest.raises(AccessDenied, match="names no audit event"):
        issue_credentials(env.ctx, "gforged000001", holder="alice", otp=env.otp("alice"))
    [g] = list_grants(env.ctx)
    assert g.status.value == "revoked"
    assert env.alerts()[-1]["severity"] == "critical"


def test_sweep_revokes_an_inserted_row_and_records_it(env: Env) -> None:
    _insert_row(env, "gforged000002")
    report = sweep(env.ctx)
    assert "gforged000002" in report.invalidated
    codes = [e.code for e in env.events()]
    assert "access.grant.unbound" in codes
    assert any(a["kind"] == "access.grant.unbound" for a in env.alerts())


def test_row_pointing_at_another_event_is_refused(env: Env) -> None:
    """Copying the binding of a real grant onto a forged row does not help."""
    req = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="x"
    )
    gid = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
    with env.ctx.store.read() as conn:
        real = conn.execute(
            access_grants.select().where(access_grants.c.id == gid.result_ref)
        ).first()
    assert real is not None and real.audit_index is not None
    _insert_row(env, "gforged000003", audit_index=real.audit_index, audit_leaf=real.audit_leaf)
    with pytest.raises(AccessDenied, match="id differs from what audit event"):
        issue_credentials(env.ctx, "gforged000003", holder="alice", otp=env.otp("alice"))


def test_genuine_grant_is_bound(env: Env) -> None:
    req = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="x"
    )
    res = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
    creds = issue_credentials(env.ctx, str(res.result_ref), holder="alice", otp=env.otp("alice"))
    assert creds and creds[0].password


def test_the_sweeps_batched_check_finds_what_the_single_check_finds(env: Env) -> None:
    """unbound_problems (one read for all live grants, used by the sweep) reports exactly
    what unbound_problem reports grant by grant: genuine, inserted, re-pointed, edited
    grant rows, an approval edited after the fact, a row naming an event that is not
    there."""
    from sqlalchemy import update

    from stagewall.access._tables import access_reviews
    from stagewall.access.grants import unbound_problem, unbound_problems

    def granted() -> str:
        req = request_access(
            env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="x"
        )
        res = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
        return str(res.result_ref)

    genuine, edited, review_edited, missing = granted(), granted(), granted(), granted()
    with env.ctx.store.read() as conn:
        real = conn.execute(access_grants.select().where(access_grants.c.id == genuine)).one()
    _insert_row(env, "gforged000010")
    _insert_row(env, "gforged000011", audit_index=real.audit_index, audit_leaf=real.audit_leaf)
    with env.ctx.store.transaction() as conn:
        conn.execute(
            update(access_grants).where(access_grants.c.id == edited).values(role="prod-admin")
        )
        rid = (
            conn.execute(access_grants.select().where(access_grants.c.id == review_edited))
            .one()
            .request_id
        )
        conn.execute(
            update(access_reviews).where(access_reviews.c.request_id == rid).values(decision="deny")
        )
        conn.execute(
            update(access_grants).where(access_grants.c.id == missing).values(audit_index=10**6)
        )
    with env.ctx.store.read() as conn:
        rows = conn.execute(access_grants.select()).all()
        batched = unbound_problems(env.ctx, conn, rows)
        single = {
            str(r.id): why
            for r in rows
            if (why := unbound_problem(env.ctx, conn, str(r.id))) is not None
        }
    assert batched == single
    assert set(batched) == {
        "gforged000010",
        "gforged000011",
        edited,
        review_edited,
        missing,
    }


def _withdrawn_then_cleared(env: Env) -> str:
    """A grant whose approval bob withdrew, then someone with store access cleared
    ``withdrawn_at`` and set the ended grant active again (no event for either)."""
    req = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="x"
    )
    res = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
    gid = str(res.result_ref)
    withdraw_approval(env.ctx, req.id, reviewer="bob", otp=env.otp("bob"), reason="wrong")
    with env.ctx.store.transaction() as conn:
        done = conn.execute(
            update(access_reviews)
            .where(access_reviews.c.request_id == req.id)
            .values(withdrawn_at=None, withdrawn_reason=None)
        ).rowcount
        conn.execute(update(access_grants).where(access_grants.c.id == gid).values(status="active"))
    assert done == 1
    return gid


def test_withdrawal_cleared_in_the_store_still_refuses_credentials(env: Env) -> None:
    gid = _withdrawn_then_cleared(env)
    with pytest.raises(AccessDenied, match="records that bob withdrew this approval"):
        issue_credentials(env.ctx, gid, holder="alice", otp=env.otp("alice"))
    assert env.alerts()[-1]["severity"] == "critical"


def test_sweep_revokes_a_grant_whose_withdrawal_was_cleared(env: Env) -> None:
    gid = _withdrawn_then_cleared(env)
    report = sweep(env.ctx)
    assert gid in report.invalidated
    [found] = [e for e in env.events() if e.code == "access.grant.unbound"]
    assert "records that bob withdrew" in found.message
    assert any(a["kind"] == "access.grant.unbound" for a in env.alerts())
