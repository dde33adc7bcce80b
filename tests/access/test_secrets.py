"""A malformed admin URL or a "%" in its password never leaks the password, never crashes."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from stagewall.access import Outcome, issue_credentials, request_access, review_request, sweep
from tests.access.conftest import Env
from tests.cli_helpers import run_cli

pytestmark = pytest.mark.postgres

PASSWORD = "Pr0d%zzS3cr#t"
BROKEN = [
    f"postgres//stagewall:{PASSWORD}@127.0.0.1:5432/postgres",
    f"postgresql://stagewall:{PASSWORD}@127.0.0.1:5432/postgres",
]


@pytest.mark.parametrize("broken", BROKEN)
def test_broken_admin_url_keeps_its_password_out_of_events_alerts_and_stderr(
    env: Env, monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    req = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="x"
    )
    res = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
    assert res.outcome is Outcome.APPROVED and res.result_ref
    [cred] = issue_credentials(env.ctx, res.result_ref, holder="alice", otp=env.otp("alice"))
    good = env.pg_url
    monkeypatch.setenv("SW_TEST_ADMIN_URL", broken)
    env.ctx = env.context()
    env.clock.advance(timedelta(hours=3))
    rep = sweep(env.ctx)
    assert rep.expired == [res.result_ref] and cred.login in rep.unverified
    events = json.dumps(
        [e.details for e in env.events()] + [e.message for e in env.events()], default=dict
    )
    assert "revoke pending" in events and PASSWORD not in events
    alerts = json.dumps(env.alerts())
    assert "access.revocation.failed" in alerts and PASSWORD not in alerts
    out = run_cli("access", "sweep", "--config", str(env.config), "--db", env.store_url)
    assert out.exit_code == 1
    assert "***" in out.stderr and PASSWORD not in out.stderr + out.stdout
    assert "Traceback" not in out.stderr
    monkeypatch.setenv("SW_TEST_ADMIN_URL", good)
    env.ctx = env.context()
    assert cred.login not in sweep(env.ctx).unverified


def test_identity_refusal_details_are_redacted_too(env: Env) -> None:
    env.ctx.record(
        "access.resource.refused",
        "alice",
        f"see postgres//u:{PASSWORD}@db.prod/x",
        details={"url": f"postgresql://u:{PASSWORD}@h/x", "nested": [f"password={PASSWORD}"]},
    )
    last: Any = env.events()[-1]
    assert PASSWORD not in last.message + json.dumps(last.details, default=dict)
