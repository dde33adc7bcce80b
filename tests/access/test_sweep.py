"""The sweep: unattributable marked roles are reported, never dropped, and stop nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import psycopg
import pytest
from psycopg import sql

from stagewall.access import Outcome, issue_credentials, request_access, review_request, sweep
from tests.access.conftest import Env

pytestmark = pytest.mark.postgres


def test_unattributed_marked_roles_are_alerted_not_dropped_and_expiry_still_runs(
    env: Env,
) -> None:
    req = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="x"
    )
    res = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
    assert res.outcome is Outcome.APPROVED and res.result_ref
    gid = res.result_ref
    issue_credentials(env.ctx, gid, holder="alice", otp=env.otp("alice"))
    tag = uuid.uuid4().hex[:8]
    # One looks like a stagewall login but carries no marker comment; one is a person's role
    # somebody added to the marker role.
    strays = [f"sw_stray_{tag}", f"dba_{tag}"]
    with psycopg.connect(env.pg_url, autocommit=True) as admin:
        for name in strays:
            admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(name)))
            admin.execute(sql.SQL("GRANT stagewall_managed TO {}").format(sql.Identifier(name)))
    try:
        env.clock.advance(timedelta(hours=3))
        rep = sweep(env.ctx)
        assert rep.expired == [gid]
        # prod-db and staging-db are the same database here, so each is seen twice.
        assert sorted(n for n in rep.unattributed if n in strays) == sorted(strays * 2)
        assert not rep.ok and rep.errors == []
        with psycopg.connect(env.pg_url) as admin:
            for name in strays:
                assert admin.execute(
                    "SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)
                ).fetchone() == (1,)

        def alerted() -> list[str]:
            return sorted(
                a["details"]["login"]
                for a in env.alerts()
                if a["kind"] == "access.orphan.unattributed" and a["details"]["login"] in strays
            )

        assert alerted() == sorted(strays * 2)
        # Alerted once per role and resource, not at every sweep.
        sweep(env.ctx)
        assert alerted() == sorted(strays * 2)
    finally:
        with psycopg.connect(env.pg_url, autocommit=True) as admin:
            for name in strays:
                admin.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))
