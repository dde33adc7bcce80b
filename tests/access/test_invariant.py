"""Every path an external principal could take to production is refused, audited, alerted."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from stagewall.access import (
    break_glass,
    issue_credentials,
    list_grants,
    request_access,
    review_request,
    sweep,
)
from stagewall.access._tables import access_grants
from stagewall.audit import Status
from stagewall.errors import AccessDenied
from tests.access.conftest import Env

pytestmark = pytest.mark.postgres


def _refusals(env: Env) -> list[Any]:
    return [e for e in env.events() if e.status is Status.FAILURE]


@pytest.mark.parametrize("who", ["dana", "nick", "olga", "ghost", "nobody"])
def test_request_for_production_refused(env: Env, who: str) -> None:
    with pytest.raises(AccessDenied, match="refused"):
        request_access(
            env.ctx, requester=who, role="prod-read", duration=timedelta(hours=1), reason="x"
        )
    assert _refusals(env)[-1].code == "access.request.refused"
    assert any(a["kind"] == "access.request.refused" for a in env.alerts())


def test_external_eligible_by_config_still_refused(make_env: Any) -> None:
    env: Env = make_env(extra_eligible=", dana")
    with pytest.raises(AccessDenied, match="externals never hold production"):
        request_access(
            env.ctx, requester="dana", role="prod-read", duration=timedelta(hours=1), reason="x"
        )


@pytest.mark.parametrize("who", ["dana", "ghost", "nobody"])
def test_break_glass_refused(env: Env, who: str) -> None:
    with pytest.raises(AccessDenied, match="refused"):
        break_glass(env.ctx, principal=who, role="prod-read", reason="fire", otp="123456")
    assert env.alerts()[-1]["severity"] == "critical"


def test_external_reviewer_refused_and_alerted(env: Env) -> None:
    env.enrol("dana")
    req = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="x"
    )
    with pytest.raises(AccessDenied, match="approvers must be internal"):
        review_request(env.ctx, req.id, reviewer="dana", approve=True, otp=env.otp("dana"))
    assert env.alerts()[-1]["kind"] == "access.review.refused"


def test_standing_grant_on_production_never_materialises(make_env: Any) -> None:
    env: Env = make_env(standing="  - {principal: dana, role: prod-read, expires: 2099-01-01}")
    assert list_grants(env.ctx) == []
    assert _refusals(env)[-1].code == "access.grant.refused"
    assert env.alerts()[-1]["severity"] == "critical"


@pytest.mark.parametrize("who", ["nick", "olga"])
def test_vendor_without_nda_or_past_contract_gets_nothing(env: Env, who: str) -> None:
    with pytest.raises(AccessDenied, match=r"no NDA|ended 2021"):
        request_access(
            env.ctx, requester=who, role="staging-write", duration=timedelta(hours=1), reason="x"
        )


def test_store_edit_to_external_is_refused_at_issuance_and_by_sweep(env: Env) -> None:
    req = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="x"
    )
    gid = review_request(
        env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob")
    ).result_ref
    with env.ctx.store.transaction() as conn:  # someone edits the store row
        conn.execute(
            access_grants.update().where(access_grants.c.id == gid).values(principal="dana")
        )
    env.enrol("dana")
    # The edited row no longer matches the audit event that created it.
    with pytest.raises(AccessDenied, match="principal differs from what audit event"):
        issue_credentials(env.ctx, gid, holder="dana", otp=env.otp("dana"))
    [g] = list_grants(env.ctx)
    assert g.status.value == "revoked"
    # And a sweep catches such a row even if nobody asks for credentials.
    req2 = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="y"
    )
    gid2 = review_request(
        env.ctx, req2.id, reviewer="bob", approve=True, otp=env.otp("bob")
    ).result_ref
    with env.ctx.store.transaction() as conn:
        conn.execute(
            access_grants.update().where(access_grants.c.id == gid2).values(principal="erin")
        )
    assert gid2 in sweep(env.ctx).invalidated


def test_service_principal_cannot_break_glass(make_env: Any) -> None:
    """Issue 10: ``access break-glass`` accepted a service principal (no human involved)."""
    env: Env = make_env(extra_eligible=", deploybot")
    with pytest.raises(AccessDenied, match="break-glass is for internal humans only"):
        break_glass(env.ctx, principal="deploybot", role="prod-read", reason="fire", otp="123456")
    assert env.alerts()[-1]["severity"] == "critical"
