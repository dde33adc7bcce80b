"""A failure decided before the act never burns the user's TOTP code (issue 12).

The docs promise that a refusal decidable without the code, and a configuration
error, leave the one-time code usable: the same code works once the problem is
fixed. Each test retries with the *same* code (the clock does not move).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pyotp
import pytest

from stagewall.access import (
    Outcome,
    issue_credentials,
    request_access,
    review_request,
    revoke_grant,
)
from stagewall.audit import Status
from stagewall.errors import AccessDenied, ConfigError, UsageError
from tests.access.conftest import Env

pytestmark = pytest.mark.postgres


def _granted(env: Env) -> str:
    req = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="inc 7"
    )
    res = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
    assert res.outcome is Outcome.APPROVED and res.result_ref
    return res.result_ref


def _same_code(env: Env, who: str) -> str:
    return pyotp.TOTP(env.secrets[who]).at(env.clock.now)


def test_missing_admin_env_does_not_burn_the_credentials_code(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    gid = _granted(env)
    code = env.otp("alice")
    admin_url = env.pg_url
    monkeypatch.delenv("SW_TEST_ADMIN_URL")
    with pytest.raises(ConfigError, match="SW_TEST_ADMIN_URL"):
        issue_credentials(env.ctx, gid, holder="alice", otp=code)
    monkeypatch.setenv("SW_TEST_ADMIN_URL", admin_url)
    ctx = env.context()  # a fresh context, as after fixing the environment
    [cred] = issue_credentials(ctx, gid, holder="alice", otp=code)
    assert cred.login
    verified = [e for e in env.events() if e.code == "mfa.verified" and e.actor == "alice"]
    assert [e.status for e in verified] == [Status.SUCCESS]


def test_already_issued_refusal_does_not_burn_the_code(env: Env) -> None:
    gid = _granted(env)
    other = _granted(env)
    issue_credentials(env.ctx, gid, holder="alice", otp=env.otp("alice"))
    code = env.otp("alice")
    with pytest.raises(AccessDenied, match="already issued"):
        issue_credentials(env.ctx, gid, holder="alice", otp=code)
    # the code is still good for the next act of the same principal
    assert _same_code(env, "alice") == code
    [cred] = issue_credentials(env.ctx, other, holder="alice", otp=code)
    assert cred.login


def test_revoking_an_ended_grant_does_not_burn_the_code(env: Env) -> None:
    first = _granted(env)
    second = _granted(env)
    revoke_grant(env.ctx, first, actor="carol", reason="done", otp=env.otp("carol"))
    code = env.otp("carol")
    with pytest.raises(UsageError, match="already revoked"):
        revoke_grant(env.ctx, first, actor="carol", reason="again", otp=code)
    rep = revoke_grant(env.ctx, second, actor="carol", reason="done", otp=code)
    assert rep.ended_now


def test_a_wrong_code_is_still_refused_and_a_used_code_never_works_twice(env: Env) -> None:
    first = _granted(env)
    second = _granted(env)
    code = env.otp("carol")
    revoke_grant(env.ctx, first, actor="carol", reason="done", otp=code)
    with pytest.raises(AccessDenied, match="already used"):
        revoke_grant(env.ctx, second, actor="carol", reason="done", otp=code)


def test_a_second_review_by_the_same_person_does_not_burn_the_code(make_env: Any) -> None:
    env: Env = make_env(prod_rule="two-sre")
    env.enrol("alice", "bob", "carol")
    req = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="x"
    )
    other = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="y"
    )
    review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
    code = env.otp("bob")
    with pytest.raises(AccessDenied, match="already reviewed"):
        review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=code)
    res = review_request(env.ctx, other.id, reviewer="bob", approve=True, otp=code)
    assert res.outcome is Outcome.PENDING  # the same code worked: it was never used
