"""The server keeps admin sessions between issuances: reused, checked, closed at stop."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest

from stagewall.access import Outcome, issue_credentials, request_access, review_request
from stagewall.access.issuers import postgres as pg_issuer
from tests.access.conftest import Env, connect_as

pytestmark = pytest.mark.postgres


def _granted(env: Env, who: str = "alice") -> str:
    req = request_access(
        env.ctx, requester=who, role="prod-read", duration=timedelta(hours=1), reason="incident"
    )
    res = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
    assert res.outcome is Outcome.APPROVED and res.result_ref
    return res.result_ref


def _kept(env: Env) -> list[Any]:
    issuer = env.ctx.issuer("prod-db")
    assert isinstance(issuer, pg_issuer.PostgresIssuer)
    return [conn for conn, _at in issuer._idle]


def _issue(env: Env, who: str = "alice") -> Any:
    gid = _granted(env, who)
    [cred] = issue_credentials(env.ctx, gid, holder=who, otp=env.otp(who))
    with connect_as(env, cred.login, cred.password) as c:
        assert c.execute("SELECT current_user").fetchone() == (cred.login,)
    return cred


def test_issuances_reuse_one_kept_session_and_still_read_the_identity(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.ctx.keep_admin_sessions(True)
    reads: list[int] = []
    real = pg_issuer.read_postgres

    def counting(conn: Any) -> Any:
        reads.append(conn.info.backend_pid)
        return real(conn)

    monkeypatch.setattr(pg_issuer, "read_postgres", counting)
    _issue(env)
    [first] = _kept(env)
    _issue(env, "carol")
    [second] = _kept(env)
    assert second is first and not first.closed
    # Each issuance read the server's identity, on the session that created its login.
    assert reads == [first.info.backend_pid] * 2
    env.ctx.keep_admin_sessions(False)
    assert _kept(env) == [] and first.closed


def test_without_keeping_no_admin_session_outlives_an_issuance(env: Env) -> None:
    _issue(env)
    assert _kept(env) == []


def test_a_kept_session_that_died_is_replaced(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    env.ctx.keep_admin_sessions(True)
    _issue(env)
    [dead] = _kept(env)
    with psycopg.connect(env.pg_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (dead.info.backend_pid,))
    # Idle longer than the ping threshold: checked before use, found dead, replaced.
    monkeypatch.setattr(pg_issuer, "PING_AFTER_IDLE_SECONDS", 0.0)
    _issue(env, "carol")
    [fresh] = _kept(env)
    assert fresh is not dead and dead.closed and not fresh.closed
    env.ctx.keep_admin_sessions(False)


def test_a_session_idle_too_long_is_closed_not_reused(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    env.ctx.keep_admin_sessions(True)
    _issue(env)
    [old] = _kept(env)
    monkeypatch.setattr(pg_issuer, "ADMIN_SESSION_IDLE_SECONDS", 0.0)
    _issue(env, "carol")
    [new] = _kept(env)
    assert new is not old and old.closed
    env.ctx.keep_admin_sessions(False)
