"""Review rules: self-approval, same vendor, groups, deny, expiry, MFA, concurrency."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta
from typing import Any

import pyotp
import pytest

from stagewall.access import (
    AccessContext,
    Outcome,
    break_glass,
    complete_follow_up,
    list_grants,
    offboard_vendor,
    request_access,
    review_request,
)
from stagewall.access._core import fmt_time
from stagewall.access.breakglass import overdue_follow_ups
from stagewall.errors import AccessDenied, UsageError
from tests.access.conftest import Env

pytestmark = pytest.mark.postgres


def _req(env: Env, who: str = "alice", role: str = "prod-read") -> str:
    return request_access(
        env.ctx, requester=who, role=role, duration=timedelta(hours=1), reason="r"
    ).id


def test_self_approval_refused(env: Env) -> None:
    rid = _req(env)
    with pytest.raises(AccessDenied, match="nobody reviews their own request"):
        review_request(env.ctx, rid, reviewer="alice", approve=True, otp=env.otp("alice"))


def test_same_vendor_approval_refused(env: Env) -> None:
    env.enrol("erin")
    rid = _req(env, "dana", "staging-write")
    with pytest.raises(AccessDenied, match="approvers must be internal"):
        review_request(env.ctx, rid, reviewer="erin", approve=True, otp=env.otp("erin"))


def test_deny_ends_the_request(env: Env) -> None:
    rid = _req(env)
    res = review_request(
        env.ctx, rid, reviewer="bob", approve=False, otp=env.otp("bob"), reason="no"
    )
    assert res.outcome is Outcome.DENIED
    with pytest.raises(AccessDenied, match="already denied"):
        review_request(env.ctx, rid, reviewer="carol", approve=True, otp=env.otp("carol"))


def test_expired_pending_request_cannot_be_approved(env: Env) -> None:
    rid = _req(env)
    env.clock.advance(timedelta(hours=2))
    with pytest.raises(AccessDenied, match="expired"):
        review_request(env.ctx, rid, reviewer="bob", approve=True, otp=env.otp("bob"))
    assert list_grants(env.ctx) == []


def test_wrong_and_replayed_totp_refused(env: Env) -> None:
    rid = _req(env)
    with pytest.raises(AccessDenied, match="wrong or expired"):
        review_request(env.ctx, rid, reviewer="bob", approve=True, otp="000000")
    with pytest.raises(UsageError, match="exactly 6 digits"):
        review_request(env.ctx, rid, reviewer="bob", approve=True, otp="12ab")
    env.clock.advance(timedelta(seconds=30))
    code = pyotp.TOTP(env.secrets["carol"]).at(env.clock.now)
    rid2 = _req(env)
    review_request(env.ctx, rid2, reviewer="carol", approve=True, otp=code)
    with pytest.raises(AccessDenied, match="already used"):
        review_request(env.ctx, rid, reviewer="carol", approve=True, otp=code)
    details = [e.document() for e in env.events() if e.code == "mfa.verified"]
    assert all(code not in str(d) for d in details)


def test_review_records_mfa_evidence_not_code(env: Env) -> None:
    rid = _req(env)
    code = env.otp("bob")
    review_request(env.ctx, rid, reviewer="bob", approve=True, otp=code)
    [ev] = [e for e in env.events() if e.code == "access.review.recorded"]
    assert ev.details["mfa"]["method"] == "totp" and ev.details["mfa"]["time"]
    assert code not in ev.raw.decode()


def _approve(
    config: str, store: str, rid: str, who: str, secret: str, barrier: Any, out: Any
) -> None:
    ctx = AccessContext.open(config, store, sinks=[])
    code = pyotp.TOTP(secret).now()
    barrier.wait()
    try:
        out.put(review_request(ctx, rid, reviewer=who, approve=True, otp=code).outcome.value)
    except AccessDenied as exc:
        out.put("denied:" + exc.message)


@pytest.mark.parametrize("rule", ["one-sre", "two-sre"])
def test_concurrent_approvals_make_exactly_one_grant(
    make_env: Any, pg_store_url: str, rule: str
) -> None:
    env: Env = make_env(store_url=pg_store_url, prod_rule=rule)
    env.clock.now = env.clock.now.__class__.now(env.clock.now.tzinfo)
    env.enrol("alice", "bob", "carol")
    rid = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="r"
    ).id
    mp = multiprocessing.get_context("spawn")
    barrier, out = mp.Barrier(2), mp.Queue()
    procs = [
        mp.Process(
            target=_approve,
            args=(str(env.config), pg_store_url, rid, who, env.secrets[who], barrier, out),
        )
        for who in ("bob", "carol")
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    results = sorted(out.get(timeout=5) for _ in procs)
    grants = list_grants(env.ctx)
    assert len(grants) == 1, results
    if rule == "one-sre":
        assert results[0] == "approved" and "already approved" in results[1]
    else:
        assert results == ["approved", "pending"]


def test_break_glass_follow_up_and_overdue_check(env: Env) -> None:
    grant, fu = break_glass(
        env.ctx, principal="alice", role="prod-read", reason="db on fire", otp=env.otp("alice")
    )
    assert grant.ends_at - grant.starts_at == timedelta(hours=1)
    assert env.alerts()[-1]["kind"] == "access.breakglass.used"
    with pytest.raises(AccessDenied, match="cannot review their own"):
        complete_follow_up(env.ctx, fu.id, reviewer="alice", otp=env.otp("alice"), note="n")
    late = fmt_time(env.clock.now + timedelta(hours=25))
    assert [f.id for f in overdue_follow_ups(env.store_url, late)] == [fu.id]
    done = complete_follow_up(
        env.ctx, fu.id, reviewer="bob", otp=env.otp("bob"), note="checked queries"
    )
    assert done.completed_by == "bob"
    assert overdue_follow_ups(env.store_url, late) == []


def test_break_glass_refused_on_role_without_it(env: Env) -> None:
    with pytest.raises(AccessDenied, match="does not allow break-glass"):
        break_glass(env.ctx, principal="alice", role="staging-write", reason="x", otp="123456")


def test_vendor_offboard_revokes_and_blocks(make_env: Any) -> None:
    env: Env = make_env(standing="  - {principal: dana, role: staging-write, expires: 2099-01-01}")
    env.enrol("alice", "bob")
    [g] = list_grants(env.ctx, active_only=True)
    rep = offboard_vendor(env.ctx, "devshop", actor="alice", otp=env.otp("alice"))
    assert [r.grant_id for r in rep.grants] == [g.id]
    assert list_grants(env.ctx, active_only=True) == []
    with pytest.raises(AccessDenied, match="offboarded"):
        request_access(
            env.ctx, requester="dana", role="staging-write", duration=timedelta(hours=1), reason="x"
        )
    with pytest.raises(UsageError, match="not declared"):
        offboard_vendor(env.ctx, "nope", actor="alice", otp=env.otp("alice"))
