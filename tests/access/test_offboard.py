"""Vendor offboarding works from the store's grants, not only from stagewall.yaml."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import psycopg
import pytest

from stagewall.access import (
    Outcome,
    issue_credentials,
    offboard_vendor,
    request_access,
    review_request,
)
from tests.access.conftest import connect_as

pytestmark = pytest.mark.postgres


def test_offboarding_revokes_logins_of_people_already_removed_from_the_file(split: Any) -> None:
    env, world, _ = split
    req = request_access(
        env.ctx, requester="dana", role="staging-write", duration=timedelta(hours=4), reason="x"
    )
    res = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
    assert res.outcome is Outcome.APPROVED and res.result_ref
    gid = res.result_ref
    [cred] = issue_credentials(env.ctx, gid, holder="dana")
    session = connect_as(env, cred.login, cred.password, port=world.port, db=world.db)
    # dana leaves the file (and the eligible list) before anyone offboards her vendor.
    text = env.config.read_text(encoding="utf-8")
    text = text.replace("  dana: {affiliation: external, vendor: devshop}\n", "")
    text = text.replace(
        "eligible: [group:sre, dana, nick, olga]", "eligible: [group:sre, nick, olga]"
    )
    env.config.write_text(text, encoding="utf-8")
    env.ctx = env.context()
    rep = offboard_vendor(env.ctx, "devshop", actor="alice", otp=env.otp("alice"))
    assert rep.verified and rep.undeclared == ("dana",)
    assert [g.grant_id for g in rep.grants] == [gid]
    with pytest.raises(psycopg.OperationalError):
        session.execute("SELECT 1")
    session.close()
    with pytest.raises(psycopg.OperationalError):
        connect_as(env, cred.login, cred.password, port=world.port, db=world.db)
