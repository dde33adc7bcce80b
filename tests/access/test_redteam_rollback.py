"""Red team (continuity): a grant's end, once logged, outranks its row.

An insider with the store's credentials sets a revoked grant's row back to ``active``
(or restores the grants table from a backup taken before the revocation). The row is
still bound to its genuine ``access.grant.created`` event, so the binding check passed:
the sweep left the grant alone and new credentials were issued for it. The log holds
the grant's ``access.grant.revoked`` event; a grant never becomes active again, so that
event wins: no credentials, and the sweep ends the grant again, loudly.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from stagewall.access import issue_credentials, list_grants, request_access, review_request, sweep
from stagewall.access._tables import access_grants
from stagewall.access.revoke import revoke_grant
from stagewall.errors import AccessDenied
from tests.access.conftest import Env


def _revoked_then_restored(env: Env) -> str:
    req = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="x"
    )
    res = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
    gid = str(res.result_ref)
    revoke_grant(env.ctx, gid, actor="carol", reason="left the team", otp=env.otp("carol"))
    with env.ctx.store.transaction() as conn:  # the grants row as an older backup has it
        conn.execute(
            update(access_grants)
            .where(access_grants.c.id == gid)
            .values(status="active", revoked_at=None, revoked_by=None, revoke_reason=None)
        )
    [g] = [g for g in list_grants(env.ctx) if g.id == gid]
    assert g.status.value == "active"
    return gid


def test_a_revocation_rolled_back_in_the_store_issues_no_credentials(env: Env) -> None:
    gid = _revoked_then_restored(env)
    with pytest.raises(AccessDenied, match="records that this grant ended") as exc:
        issue_credentials(env.ctx, gid, holder="alice", otp=env.otp("alice"))
    assert "restored from an older backup" in exc.value.message
    [g] = [g for g in list_grants(env.ctx) if g.id == gid]
    assert g.status.value == "revoked"
    assert env.alerts()[-1]["severity"] == "critical"


def test_the_sweep_ends_a_rolled_back_grant_again_and_records_it(env: Env) -> None:
    gid = _revoked_then_restored(env)
    report = sweep(env.ctx)
    assert gid in report.invalidated
    unbound = [e for e in env.events() if e.code == "access.grant.unbound"]
    assert unbound and "records that this grant ended" in unbound[-1].message
    assert any(a["kind"] == "access.grant.unbound" for a in env.alerts())
    [g] = [g for g in list_grants(env.ctx) if g.id == gid]
    assert g.status.value == "revoked"


def test_a_live_grant_that_was_never_ended_still_gets_credentials(env: Env) -> None:
    req = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="x"
    )
    res = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
    assert sweep(env.ctx).invalidated == []
    creds = issue_credentials(env.ctx, str(res.result_ref), holder="alice", otp=env.otp("alice"))
    assert creds and creds[0].password


def test_an_offboarding_deleted_from_the_store_still_blocks_the_vendor(env: Env) -> None:
    """Offboarding is final: deleting the ``access_offboarded`` row (or restoring that table
    from a backup taken before) does not let the vendor's people get access again."""
    from sqlalchemy import delete

    from stagewall.access import offboard_vendor
    from stagewall.access._tables import access_offboarded

    offboard_vendor(env.ctx, "devshop", actor="alice", otp=env.otp("alice"))
    with env.ctx.store.transaction() as conn:
        assert conn.execute(delete(access_offboarded)).rowcount == 1
    with pytest.raises(AccessDenied, match="offboarded"):
        request_access(
            env.ctx, requester="dana", role="staging-write", duration=timedelta(hours=1), reason="x"
        )
    with env.ctx.store.read() as conn:
        assert env.ctx.offboarded(conn) == {"devshop"}
