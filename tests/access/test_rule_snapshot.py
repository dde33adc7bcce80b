"""Rules that change under a pending request (issue 12).

The approval rule is snapshotted into the request when it is filed; a review is
evaluated against the stricter of the snapshot and the current estate file.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from stagewall.access import Outcome, request_access, review_request
from stagewall.access._tables import access_requests
from stagewall.errors import AccessDenied
from tests.access.conftest import ESTATE, Env

pytestmark = pytest.mark.postgres

# "any-one": one approval from any internal principal, no group restriction.
OPEN_RULE = ESTATE.replace(
    "  two-sre: {{approvals: 2, from_groups: [sre]}}\n",
    "  two-sre: {{approvals: 2, from_groups: [sre]}}\n  any-one: {{approvals: 1}}\n",
).replace("  alice: {{affiliation: internal}}\n", "  alice: {{affiliation: internal}}\n"
          "  ivan: {{affiliation: internal}}\n")  # fmt: skip


def _rewrite(env: Env, **fmt: str) -> None:
    """Edit stagewall.yaml in place and reopen, as an operator would."""
    values = {"db": env.db, "extra_eligible": "", "prod_rule": "one-sre", "standing": "  []"}
    values.update(fmt)
    env.config.write_text(env.template.format(**values), encoding="utf-8")
    env.ctx = env.context()


def _file(env: Env) -> str:
    req = request_access(
        env.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="inc"
    )
    return req.id


def test_weakening_the_rule_does_not_lower_the_bar_of_a_pending_request(make_env: Any) -> None:
    env: Env = make_env(prod_rule="two-sre")
    env.enrol("alice", "bob", "carol")
    rid = _file(env)
    _rewrite(env, prod_rule="one-sre")  # weakened after filing
    first = review_request(env.ctx, rid, reviewer="bob", approve=True, otp=env.otp("bob"))
    assert first.outcome is Outcome.PENDING  # the snapshot still asks for two
    second = review_request(env.ctx, rid, reviewer="carol", approve=True, otp=env.otp("carol"))
    assert second.outcome is Outcome.APPROVED
    # a request filed after the change gets the new rule
    rid2 = _file(env)
    assert (
        review_request(env.ctx, rid2, reviewer="bob", approve=True, otp=env.otp("bob")).outcome
        is Outcome.APPROVED
    )


def test_strengthening_the_rule_applies_to_a_pending_request(make_env: Any) -> None:
    env: Env = make_env(prod_rule="one-sre")
    env.enrol("alice", "bob", "carol")
    rid = _file(env)
    _rewrite(env, prod_rule="two-sre")
    first = review_request(env.ctx, rid, reviewer="bob", approve=True, otp=env.otp("bob"))
    assert first.outcome is Outcome.PENDING


def test_dropping_the_group_restriction_does_not_admit_other_approvers(make_env: Any) -> None:
    env: Env = make_env(prod_rule="one-sre")
    env.template = OPEN_RULE
    _rewrite(env, prod_rule="one-sre")
    env.enrol("alice", "bob", "ivan")
    rid = _file(env)
    _rewrite(env, prod_rule="any-one")  # ivan (internal, not in sre) could approve now
    with pytest.raises(AccessDenied, match="approvers must be in group sre"):
        review_request(env.ctx, rid, reviewer="ivan", approve=True, otp=env.otp("ivan"))
    rid2 = _file(env)  # filed under the open rule: ivan may approve it
    res = review_request(env.ctx, rid2, reviewer="ivan", approve=True, otp=env.otp("ivan"))
    assert res.outcome is Outcome.APPROVED


def test_the_snapshot_and_its_hash_are_in_the_request_and_its_event(make_env: Any) -> None:
    env: Env = make_env(prod_rule="two-sre")
    rid = _file(env)
    [created] = [e for e in env.events() if e.code == "access.request.created"]
    assert created.details["rule"]["approvals"] == 2
    assert created.details["rule"]["from_groups"] == ["sre"]
    assert created.details["rule_hash"].startswith("sha256:")
    with env.ctx.store.read() as conn:
        stored = json.loads(
            conn.execute(
                select(access_requests.c.details).where(access_requests.c.id == rid)
            ).scalar_one()
        )
    assert stored["rule_hash"] == created.details["rule_hash"]


def test_an_edited_snapshot_fails_closed(make_env: Any) -> None:
    env: Env = make_env(prod_rule="two-sre")
    env.enrol("alice", "bob", "carol")
    rid = _file(env)
    with env.ctx.store.transaction() as conn:
        raw = json.loads(
            conn.execute(
                select(access_requests.c.details).where(access_requests.c.id == rid)
            ).scalar_one()
        )
        raw["rule"]["approvals"] = 1  # lowered in the store, hash left as it was
        conn.execute(
            update(access_requests)
            .where(access_requests.c.id == rid)
            .values(details=json.dumps(raw, sort_keys=True))
        )
    with pytest.raises(AccessDenied, match="does not match its hash"):
        review_request(env.ctx, rid, reviewer="bob", approve=True, otp=env.otp("bob"))
