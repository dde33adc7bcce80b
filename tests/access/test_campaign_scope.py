"""A login of an ended grant whose removal has not verified is an access-review item."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from stagewall.access import (
    Outcome,
    campaign_report,
    close_campaign,
    decide,
    issue_credentials,
    request_access,
    review_request,
    start_campaign,
    sweep,
)
from stagewall.access._tables import access_credentials
from stagewall.errors import AccessDenied
from tests.access.conftest import Env

pytestmark = pytest.mark.postgres

BROKEN = "postgresql://stagewall@127.0.0.1:1/postgres"


def _state(env: Env, grant_id: str) -> str:
    with env.ctx.store.read() as conn:
        return str(
            conn.execute(
                select(access_credentials.c.state).where(access_credentials.c.grant_id == grant_id)
            ).scalar_one()
        )


def test_a_login_awaiting_revocation_is_reviewed_never_kept_and_removed_at_close(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    req = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="x"
    )
    res = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
    assert res.outcome is Outcome.APPROVED and res.result_ref
    gid = res.result_ref
    issue_credentials(env.ctx, gid, holder="alice", otp=env.otp("alice"))
    good = env.pg_url
    monkeypatch.setenv("SW_TEST_ADMIN_URL", BROKEN)
    env.ctx = env.context()
    env.clock.advance(timedelta(hours=3))
    assert gid in sweep(env.ctx).expired
    assert _state(env, gid) == "revoke_pending"  # the grant ended, its login did not

    camp = start_campaign(env.ctx, name="Q4", due=env.clock.now.date() + timedelta(days=1))
    [item] = [i for i in campaign_report(env.ctx, camp["id"])["items"] if i["grant_id"] == gid]
    assert item["kind"] == "pending_login" and item["subject"] == "prod-db"
    with pytest.raises(AccessDenied, match="awaits removal and is nobody's to keep"):
        decide(env.ctx, item["id"], reviewer="carol", keep=True, otp=env.otp("carol"))

    monkeypatch.setenv("SW_TEST_ADMIN_URL", good)
    env.ctx = env.context()
    env.clock.advance(timedelta(days=2))
    closed = close_campaign(env.ctx, camp["id"], actor="carol")
    assert closed["revoked_undecided"] == [item["id"]] and closed["findings"] == []
    assert _state(env, gid) == "revoked"
