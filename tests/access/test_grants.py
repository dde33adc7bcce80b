"""Request → review → grant → credentials → expiry/revoke on the real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest

from stagewall.access import (
    Outcome,
    issue_credentials,
    list_grants,
    request_access,
    review_request,
    revoke_grant,
    sweep,
)
from stagewall.errors import AccessDenied, StepUpRequired, UsageError
from tests.access.conftest import Env, connect_as

pytestmark = pytest.mark.postgres


def _granted(env: Env, who: str = "alice", role: str = "prod-read", hours: float = 1) -> str:
    req = request_access(
        env.ctx, requester=who, role=role, duration=timedelta(hours=hours), reason="incident 42"
    )
    res = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
    assert res.outcome is Outcome.APPROVED and res.result_ref
    return res.result_ref


def test_credentials_work_until_expiry_then_sessions_die(env: Env) -> None:
    with psycopg.connect(env.pg_url, autocommit=True) as admin:
        admin.execute("CREATE TABLE t (x int)")
        admin.execute("INSERT INTO t VALUES (1)")
    gid = _granted(env)
    [cred] = issue_credentials(env.ctx, gid, holder="alice", otp=env.otp("alice"))
    plain = connect_as(env, cred.login, cred.password)
    assert plain.execute("SELECT x FROM t").fetchone() == (1,)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        plain.execute("INSERT INTO t VALUES (2)")
    switched = connect_as(env, cred.login, cred.password)
    group = switched.execute(
        "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
        "JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s AND r.rolname LIKE 'sw_grp_%%'",
        (cred.login,),
    ).fetchone()[0]
    switched.execute(psycopg.sql.SQL("SET ROLE {}").format(psycopg.sql.Identifier(group)))
    assert switched.execute("SELECT current_user").fetchone() == (group,)
    # Not yet expired: the sweep leaves it alone.
    assert sweep(env.ctx).expired == []
    env.clock.advance(timedelta(hours=2))
    rep = sweep(env.ctx)
    assert rep.expired == [gid] and rep.ok
    for conn in (plain, switched):
        with pytest.raises(psycopg.OperationalError):
            conn.execute("SELECT 1")
    with pytest.raises(psycopg.OperationalError, match=r"does not exist|not permitted"):
        connect_as(env, cred.login, cred.password)
    revoked = [e for e in env.events() if e.code == "access.credential.revoked"]
    assert revoked[-1].details["verified"] is True
    assert revoked[-1].details["sessions_terminated"] >= 2


def test_manual_revoke_kills_sessions_and_is_verified(env: Env) -> None:
    gid = _granted(env)
    [cred] = issue_credentials(env.ctx, gid, holder="alice", otp=env.otp("alice"))
    conns = [connect_as(env, cred.login, cred.password) for _ in range(3)]
    rep = revoke_grant(env.ctx, gid, actor="carol", reason="done", otp=env.otp("carol"))
    assert rep.verified and rep.proofs[0].sessions_remaining == 0
    for c in conns:
        with pytest.raises(psycopg.OperationalError):
            c.execute("SELECT 1")
    with pytest.raises(UsageError, match="already revoked"):
        revoke_grant(env.ctx, gid, actor="carol", reason="again", otp=env.otp("carol"))


def test_credentials_are_issued_once_and_only_to_the_holder(env: Env) -> None:
    gid = _granted(env)
    with pytest.raises(AccessDenied, match="belongs to 'alice'"):
        issue_credentials(env.ctx, gid, holder="bob", otp=env.otp("bob"))
    issue_credentials(env.ctx, gid, holder="alice", otp=env.otp("alice"))
    with pytest.raises(AccessDenied, match="already issued"):
        issue_credentials(env.ctx, gid, holder="alice", otp=env.otp("alice"))
    # already issued is decided before the factor (no code is asked for, none burnt) ...
    with pytest.raises(AccessDenied, match="already issued"):
        issue_credentials(env.ctx, gid, holder="alice")
    # ... and a production grant's first issuance without a factor asks for one
    with pytest.raises(StepUpRequired, match="needs a fresh second factor"):
        issue_credentials(env.ctx, _granted(env), holder="alice")


def test_grant_end_is_capped_by_role_max(env: Env) -> None:
    with pytest.raises(UsageError, match="allows at most 2h, but 3h was requested"):
        request_access(
            env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=3), reason="x"
        )
    gid = _granted(env, hours=2)
    [g] = [g for g in list_grants(env.ctx) if g.id == gid]
    assert g.ends_at - g.starts_at == timedelta(hours=2)


def test_orphan_login_is_reconciled(env: Env) -> None:
    gid = _granted(env)
    [cred] = issue_credentials(env.ctx, gid, holder="alice", otp=env.otp("alice"))
    session = connect_as(env, cred.login, cred.password)
    # Simulate a lost store row: the login exists but no credential row explains it.
    from stagewall.access._tables import access_credentials

    with env.ctx.store.transaction() as conn:
        conn.execute(access_credentials.delete())
    rep = sweep(env.ctx)
    assert cred.login in rep.orphans
    with pytest.raises(psycopg.OperationalError):
        session.execute("SELECT 1")
    with psycopg.connect(env.pg_url) as admin:
        assert (
            admin.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (cred.login,)).fetchone()
            is None
        )


def test_standing_grants_are_visible_with_expiry(make_env: Any) -> None:
    env: Env = make_env(standing="  - {principal: dana, role: staging-write, expires: 2099-01-01}")
    grants = list_grants(env.ctx, active_only=True)
    assert [(g.principal, g.role, g.source.value) for g in grants] == [
        ("dana", "staging-write", "standing")
    ]
    assert grants[0].ends_at.date().isoformat() == "2099-01-01"
    # Materialised once only.
    assert len(list_grants(env.ctx)) == 1
