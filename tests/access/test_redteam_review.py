"""Attacks on access-review campaigns, JIT approval and break-glass (red-team review).

Each test plays the attack that worked before its fix and asserts it fails closed now.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from stagewall.access import (
    Outcome,
    break_glass,
    campaign_report,
    close_campaign,
    complete_follow_up,
    decide,
    issue_credentials,
    list_grants,
    request_access,
    review_request,
    start_campaign,
    sweep,
)
from stagewall.access.grants import GrantStatus
from stagewall.audit import Status
from stagewall.errors import AccessDenied
from tests.access.conftest import ESTATE, Env

# ivan: internal, not in group sre; prod-read's eligibility is a template field.
TEMPLATE = ESTATE.replace(
    "  alice: {{affiliation: internal}}\n",
    "  alice: {{affiliation: internal}}\n  ivan: {{affiliation: internal}}\n",
).replace("eligible: [group:sre, ghost{extra_eligible}]", "eligible: {prod_eligible}")
STANDING = "  - {principal: dana, role: staging-write, expires: 2099-01-01}"


def _write(env: Env, eligible: str) -> None:
    """Edit stagewall.yaml's prod-read eligibility and reopen, as an operator would."""
    env.config.write_text(
        TEMPLATE.format(db=env.db, prod_rule="one-sre", standing=STANDING, prod_eligible=eligible),
        encoding="utf-8",
    )
    env.ctx = env.context()


@pytest.fixture
def lite(tmp_path: Path, sqlite_store_url: str) -> Env:
    env = Env(
        tmp_path,
        "postgresql://postgres@127.0.0.1:5432/unused",
        sqlite_store_url,
        template=TEMPLATE,
        prod_eligible="[group:sre]",
        standing=STANDING,
    )
    env.enrol("alice", "bob", "carol", "ivan")
    return env


def _granted(env: Env, who: str = "alice", approver: str = "bob") -> str:
    req = request_access(
        env.ctx, requester=who, role="prod-read", duration=timedelta(hours=1), reason="inc 42"
    )
    res = review_request(env.ctx, req.id, reviewer=approver, approve=True, otp=env.otp(approver))
    assert res.outcome is Outcome.APPROVED and res.result_ref
    return res.result_ref


def _campaign(env: Env, days: int = 3) -> str:
    due = env.clock.now.date() + timedelta(days=days)
    return str(start_campaign(env.ctx, name="Q", due=due)["id"])


def _item(env: Env, cid: str, gid: str) -> dict[str, Any]:
    return next(i for i in campaign_report(env.ctx, cid)["items"] if i["grant_id"] == gid)


def _grant(env: Env, gid: str) -> Any:
    return next(g for g in list_grants(env.ctx) if g.id == gid)


def _refused_decisions(env: Env, who: str) -> list[Any]:
    return [
        e
        for e in env.events()
        if e.code == "access.campaign.decided" and e.actor == who and e.status is Status.FAILURE
    ]


# --- access-review campaigns ----------------------------------------------------------


def test_the_approver_of_a_grant_cannot_certify_it_but_may_revoke_it(lite: Env) -> None:
    gid = _granted(lite)  # bob approved it
    cid = _campaign(lite)
    item = _item(lite, cid, gid)["id"]
    code = lite.otp("bob")
    with pytest.raises(AccessDenied, match=r"'bob' approved grant .*independent of the approval"):
        decide(lite.ctx, item, reviewer="bob", keep=True, otp=code)
    assert _item(lite, cid, gid)["decisions"] == [] and len(_refused_decisions(lite, "bob")) == 1
    # refused before the MFA check: the same code still revokes (revoking is always open)
    assert decide(lite.ctx, item, reviewer="bob", keep=False, otp=code)["outcome"] == "revoke"
    assert _grant(lite, gid).status is GrantStatus.REVOKED


def test_a_reviewer_who_may_not_approve_the_role_cannot_certify_it(lite: Env) -> None:
    gid = _granted(lite)
    cid = _campaign(lite)
    item = _item(lite, cid, gid)["id"]
    # ivan is internal but not in sre, the only group that may approve prod-read
    with pytest.raises(AccessDenied, match=r"needs a reviewer who may approve it \(group sre\)"):
        decide(lite.ctx, item, reviewer="ivan", keep=True, otp=lite.otp("ivan"))
    assert _item(lite, cid, gid)["outcome"] is None
    assert decide(lite.ctx, item, reviewer="carol", keep=True, otp=lite.otp("carol"))[
        "outcome"
    ] == ("keep")


def test_a_keep_after_the_due_date_cannot_overturn_silence(lite: Env) -> None:
    gid = _granted(lite)
    cid = _campaign(lite, days=0)  # due at the end of today
    item = _item(lite, cid, gid)["id"]
    lite.clock.advance(timedelta(days=1))
    with pytest.raises(AccessDenied, match=r"was due .* a late keep cannot overturn"):
        decide(lite.ctx, item, reviewer="carol", keep=True, otp=lite.otp("carol"))
    assert _item(lite, cid, gid)["outcome"] is None
    close_campaign(lite.ctx, cid, actor="carol")
    assert _item(lite, cid, gid)["outcome"] == "revoke_no_answer"
    assert _grant(lite, gid).status is GrantStatus.REVOKED


# --- just-in-time access --------------------------------------------------------------


def test_a_request_of_someone_no_longer_eligible_cannot_be_approved(lite: Env) -> None:
    req = request_access(
        lite.ctx, requester="alice", role="prod-read", duration=timedelta(hours=1), reason="x"
    )
    _write(lite, "[bob, carol]")  # alice moved teams while her request was pending
    code = lite.otp("bob")
    with pytest.raises(AccessDenied, match="'alice' is no longer eligible for role 'prod-read'"):
        review_request(lite.ctx, req.id, reviewer="bob", approve=True, otp=code)
    assert not [g for g in list_grants(lite.ctx) if g.principal == "alice"]
    _write(lite, "[group:sre]")  # back on the list: the code was not burnt by the refusal
    res = review_request(lite.ctx, req.id, reviewer="bob", approve=True, otp=code)
    assert res.outcome is Outcome.APPROVED


def test_a_grant_ends_at_the_sweep_when_its_holder_is_no_longer_eligible(lite: Env) -> None:
    gid = _granted(lite, who="bob", approver="carol")
    _write(lite, "[alice, carol]")  # bob left the on-call group
    report = sweep(lite.ctx)
    assert gid in report.invalidated
    assert "'bob' is no longer eligible" in (_grant(lite, gid).revoke_reason or "")
    # a standing grant needs no eligibility: dana's stays
    assert [g.status for g in list_grants(lite.ctx) if g.principal == "dana"] == [
        GrantStatus.ACTIVE
    ]


@pytest.mark.postgres
def test_no_credentials_from_a_grant_whose_holder_is_no_longer_eligible(make_env: Any) -> None:
    env: Env = make_env(template=TEMPLATE, prod_eligible="[group:sre]", standing="  []")
    env.enrol("alice", "bob", "carol")
    gid = _granted(env)
    _write(env, "[bob, carol]")
    with pytest.raises(AccessDenied, match="'alice' is no longer eligible"):
        issue_credentials(env.ctx, gid, holder="alice", otp=env.otp("alice"))
    assert _grant(env, gid).status is GrantStatus.REVOKED


# --- break-glass ----------------------------------------------------------------------


def test_break_glass_cannot_be_chained_past_its_cap(lite: Env) -> None:
    g1, fu = break_glass(
        lite.ctx, principal="alice", role="prod-read", reason="outage", otp=lite.otp("alice")
    )
    with pytest.raises(AccessDenied, match=f"follow-up {fu.id} .* is still open"):
        break_glass(
            lite.ctx, principal="alice", role="prod-read", reason="outage", otp=lite.otp("alice")
        )
    # the follow-up completed while the grant is live: still no second hour on top of it
    complete_follow_up(lite.ctx, fu.id, reviewer="bob", otp=lite.otp("bob"), note="ok")
    with pytest.raises(AccessDenied, match=f"already holds break-glass grant {g1.id}"):
        break_glass(
            lite.ctx, principal="alice", role="prod-read", reason="outage", otp=lite.otp("alice")
        )
    assert [g.id for g in list_grants(lite.ctx) if g.source.value == "break_glass"] == [g1.id]
    assert lite.alerts()[-1]["severity"] == "critical"  # each refusal is loud
    lite.clock.advance(timedelta(hours=1))  # the first one ended and was reviewed
    g2, _ = break_glass(
        lite.ctx, principal="alice", role="prod-read", reason="outage 2", otp=lite.otp("alice")
    )
    assert g2.id != g1.id


def test_an_unreviewed_break_glass_blocks_the_next_one(lite: Env) -> None:
    break_glass(lite.ctx, principal="alice", role="prod-read", reason="o", otp=lite.otp("alice"))
    lite.clock.advance(timedelta(hours=25))  # ended, and its follow-up is overdue
    with pytest.raises(AccessDenied, match="is still open"):
        break_glass(
            lite.ctx, principal="alice", role="prod-read", reason="o", otp=lite.otp("alice")
        )
    # a colleague without an open follow-up still can
    break_glass(lite.ctx, principal="bob", role="prod-read", reason="o", otp=lite.otp("bob"))


def test_a_follow_up_is_signed_off_only_by_someone_who_may_approve_the_role(lite: Env) -> None:
    _, fu = break_glass(
        lite.ctx, principal="alice", role="prod-read", reason="outage", otp=lite.otp("alice")
    )
    # ivan is internal but not in sre: he could never have approved prod-read
    with pytest.raises(AccessDenied, match=r"may approve role 'prod-read' \(group sre\)"):
        complete_follow_up(lite.ctx, fu.id, reviewer="ivan", otp=lite.otp("ivan"), note="ok")
    done = complete_follow_up(lite.ctx, fu.id, reviewer="bob", otp=lite.otp("bob"), note="ok")
    assert done.completed_by == "bob"
