"""Access-review campaigns: snapshot, decisions with MFA, any revoke wins, close, report."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select

from stagewall.access import (
    Outcome,
    campaign_report,
    close_campaign,
    decide,
    issue_credentials,
    list_grants,
    render_html,
    request_access,
    review_request,
    revoke_grant,
    start_campaign,
)
from stagewall.access._tables import access_campaign_decisions
from stagewall.access.grants import GrantStatus
from stagewall.audit import Status
from stagewall.errors import AccessDenied, UsageError
from tests.access.conftest import CliWorld, Env, connect_as

STANDING = "  - {principal: dana, role: staging-write, expires: 2099-01-01}"


@pytest.fixture
def lite(tmp_path: Path, sqlite_store_url: str) -> Env:
    """SQLite store and no database logins: campaigns do not need PostgreSQL."""
    env = Env(
        tmp_path, "postgresql://postgres@127.0.0.1:5432/unused", sqlite_store_url, standing=STANDING
    )
    env.enrol("alice", "bob", "carol")
    return env


def _granted(env: Env, who: str = "alice", role: str = "prod-read") -> str:
    req = request_access(
        env.ctx, requester=who, role=role, duration=timedelta(hours=1), reason="incident 42"
    )
    res = review_request(env.ctx, req.id, reviewer="bob", approve=True, otp=env.otp("bob"))
    assert res.outcome is Outcome.APPROVED and res.result_ref
    return res.result_ref


def _items(env: Env, cid: str) -> dict[str, dict[str, Any]]:
    """Campaign items keyed by grant id."""
    return {i["grant_id"]: i for i in campaign_report(env.ctx, cid)["items"]}


def _decision_count(env: Env) -> int:
    with env.ctx.store.read() as conn:
        return int(
            conn.execute(select(func.count()).select_from(access_campaign_decisions)).scalar_one()
        )


def _status(env: Env, gid: str) -> GrantStatus:
    return next(g.status for g in list_grants(env.ctx) if g.id == gid)


def _start(env: Env, days: int = 1) -> str:
    camp = start_campaign(env.ctx, name="Q3", due=(env.clock.now + timedelta(days=days)).date())
    return str(camp["id"])


def test_start_snapshots_every_live_grant_with_last_activity(lite: Env) -> None:
    jit = _granted(lite)
    ended = _granted(lite, "carol")
    revoke_grant(lite.ctx, ended, actor="bob", reason="done", otp=lite.otp("bob"))
    camp = start_campaign(lite.ctx, name="Q3", due=lite.clock.now.date() + timedelta(days=7))
    assert camp["items"] == 2 and camp["name"] == "Q3" and camp["closed_at"] is None
    items = _items(lite, camp["id"])
    [standing] = [g for g in items if g != jit]
    assert set(items) == {jit, standing}  # the revoked grant is not live, so not snapshotted
    assert items[standing]["principal"] == "dana" and items[standing]["source"] == "standing"
    assert items[jit]["principal"] == "alice" and items[jit]["source"] == "request"
    assert all(i["outcome"] is None and i["decisions"] == [] for i in items.values())
    # last activity = the holder's newest audit event; dana never did anything
    assert items[jit]["last_activity"] == max(e.time for e in lite.events() if e.actor == "alice")
    assert items[standing]["last_activity"] is None
    started = [e for e in lite.events() if e.code == "access.campaign.started"]
    assert len(started) == 1 and started[0].details["items"] == 2


def test_start_rejects_past_due_date_and_empty_name(lite: Env) -> None:
    with pytest.raises(UsageError, match="is in the past"):
        start_campaign(lite.ctx, name="x", due=lite.clock.now.date() - timedelta(days=1))
    with pytest.raises(UsageError, match="campaign name is required"):
        start_campaign(lite.ctx, name="  ", due=lite.clock.now.date())


def test_holder_cannot_decide_own_item(lite: Env) -> None:
    gid = _granted(lite)
    cid = _start(lite)
    item = _items(lite, cid)[gid]["id"]
    with pytest.raises(AccessDenied, match="cannot review their own access"):
        decide(lite.ctx, item, reviewer="alice", keep=True, otp=lite.otp("alice"))
    assert _decision_count(lite) == 0
    refused = [e for e in lite.events() if e.code == "access.campaign.decided"]
    assert [e.status for e in refused] == [Status.FAILURE]
    assert _status(lite, gid) is GrantStatus.ACTIVE


def test_mfa_is_required_and_a_code_cannot_be_replayed(lite: Env) -> None:
    gid = _granted(lite)
    cid = _start(lite)
    item = _items(lite, cid)[gid]["id"]
    with pytest.raises(UsageError, match="exactly 6 digits"):
        decide(lite.ctx, item, reviewer="carol", keep=True, otp="12345")
    code = lite.otp("carol")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    with pytest.raises(AccessDenied, match="wrong or expired"):
        decide(lite.ctx, item, reviewer="carol", keep=True, otp=wrong)
    assert _decision_count(lite) == 0
    decide(lite.ctx, item, reviewer="carol", keep=True, otp=code, note="still on call")
    with pytest.raises(AccessDenied, match="already used"):
        decide(lite.ctx, item, reviewer="carol", keep=True, otp=code)
    assert _decision_count(lite) == 1


def test_reviewer_without_enrolment_is_refused(lite: Env) -> None:
    gid = _granted(lite, "carol")
    cid = _start(lite)
    item = _items(lite, cid)[gid]["id"]
    with pytest.raises(AccessDenied, match="not an internal, enabled principal"):
        decide(lite.ctx, item, reviewer="ghost", keep=True, otp="000000")
    with pytest.raises(AccessDenied, match="not an internal, enabled principal"):
        decide(lite.ctx, item, reviewer="nobody", keep=True, otp="000000")
    assert _decision_count(lite) == 0


@pytest.mark.parametrize("order", [("keep", "revoke"), ("revoke", "keep")])
def test_any_revoke_wins(lite: Env, order: tuple[str, str]) -> None:
    gid = _granted(lite)
    cid = _start(lite)
    item = _items(lite, cid)[gid]["id"]
    first, second = order
    # carol keeps (bob approved the grant, so he may only revoke it); bob revokes
    who = {"keep": "carol", "revoke": "bob"}
    r1 = decide(lite.ctx, item, reviewer=who[first], keep=first == "keep", otp=lite.otp(who[first]))
    assert r1["outcome"] == first
    assert _status(lite, gid) is (GrantStatus.ACTIVE if first == "keep" else GrantStatus.REVOKED)
    r2 = decide(
        lite.ctx, item, reviewer=who[second], keep=second == "keep", otp=lite.otp(who[second])
    )
    assert r2["outcome"] == "revoke"
    assert _status(lite, gid) is GrantStatus.REVOKED
    assert _items(lite, cid)[gid]["outcome"] == "revoke"
    revoked = [e for e in lite.events() if e.code == "access.grant.revoked"]
    assert [e.actor for e in revoked] == ["bob"]


def test_external_principal_cannot_decide(lite: Env) -> None:
    lite.enrol("erin")  # external, vendor devshop
    prod = _granted(lite)
    cid = _start(lite)
    items = _items(lite, cid)
    standing = next(g for g in items if g != prod)
    for gid in (prod, standing):
        with pytest.raises(AccessDenied, match="decided by internal reviewers"):
            decide(lite.ctx, items[gid]["id"], reviewer="erin", keep=True, otp=lite.otp("erin"))
    assert _decision_count(lite) == 0
    alert = lite.alerts()[-1]
    assert alert["kind"] == "access.campaign.decided" and alert["severity"] == "critical"
    assert _status(lite, prod) is GrantStatus.ACTIVE


def test_close_before_due_needs_every_item_decided(lite: Env) -> None:
    gid = _granted(lite)
    cid = _start(lite, days=3)
    items = _items(lite, cid)
    with pytest.raises(AccessDenied, match=r"2 item\(s\) are undecided"):
        close_campaign(lite.ctx, cid)
    assert campaign_report(lite.ctx, cid)["campaign"]["closed_at"] is None
    assert _status(lite, gid) is GrantStatus.ACTIVE
    for i in items.values():
        decide(lite.ctx, i["id"], reviewer="carol", keep=True, otp=lite.otp("carol"))
    res = close_campaign(lite.ctx, cid)
    assert res["revoked_undecided"] == []
    assert all(g.status is GrantStatus.ACTIVE for g in list_grants(lite.ctx))
    with pytest.raises(UsageError, match="already closed"):
        close_campaign(lite.ctx, cid)
    with pytest.raises(UsageError, match="is closed"):
        decide(lite.ctx, items[gid]["id"], reviewer="bob", keep=False, otp=lite.otp("bob"))


def test_close_after_due_revokes_every_undecided_item(lite: Env) -> None:
    kept = _granted(lite)
    silent = _granted(lite, "carol")
    cid = _start(lite, days=1)
    items = _items(lite, cid)
    standing = next(g for g in items if g not in (kept, silent))
    decide(lite.ctx, items[kept]["id"], reviewer="carol", keep=True, otp=lite.otp("carol"))
    lite.clock.advance(timedelta(days=2))
    res = close_campaign(lite.ctx, cid)
    assert sorted(res["revoked_undecided"]) == sorted([items[silent]["id"], items[standing]["id"]])
    grants = {g.id: g for g in list_grants(lite.ctx)}
    assert grants[silent].status is GrantStatus.REVOKED
    assert grants[standing].status is GrantStatus.REVOKED
    assert "no decision by the due date" in (grants[silent].revoke_reason or "")
    # the kept grant expired on its own clock (1h), it was not revoked by the close
    assert grants[kept].status is GrantStatus.ACTIVE
    after = _items(lite, cid)
    assert after[silent]["outcome"] == after[standing]["outcome"] == "revoke_no_answer"
    assert after[kept]["outcome"] == "keep"
    closed = [e for e in lite.events() if e.code == "access.campaign.closed"]
    assert len(closed) == 1
    assert sorted(closed[0].details["revoked_undecided"]) == sorted([silent, standing])


def test_report_lists_every_decision_as_json_and_html(lite: Env) -> None:
    gid = _granted(lite)
    cid = _start(lite)
    item = _items(lite, cid)[gid]["id"]
    decide(
        lite.ctx, item, reviewer="carol", keep=True, otp=lite.otp("carol"), note="<b>on call</b>"
    )
    decide(lite.ctx, item, reviewer="bob", keep=False, otp=lite.otp("bob"), note="left team")
    rep = campaign_report(lite.ctx, cid)
    [it] = [i for i in rep["items"] if i["grant_id"] == gid]
    assert [
        (d["reviewer"], d["decision"], d["note"], d["mfa_method"]) for d in it["decisions"]
    ] == [
        ("carol", "keep", "<b>on call</b>", "totp"),
        ("bob", "revoke", "left team", "totp"),
    ]
    assert all(d["mfa_time"] and d["decided_at"] for d in it["decisions"])
    json.dumps(rep)  # serialisable as is
    page = render_html(rep)
    assert page.startswith("<!doctype html>")
    assert "keep by carol" in page and "revoke by bob" in page
    assert "&lt;b&gt;on call&lt;/b&gt;" in page and "<b>on call" not in page
    assert "undecided" in page  # dana's standing grant has no decision
    with pytest.raises(UsageError, match="no access-review campaign 'c000'"):
        campaign_report(lite.ctx, "c000")
    with pytest.raises(UsageError, match="no review item 'i000'"):
        decide(lite.ctx, "i000", reviewer="bob", keep=True, otp=lite.otp("bob"))


@pytest.mark.postgres
def test_revoke_decision_drops_the_login_and_its_sessions(env: Env) -> None:
    gid = _granted(env)
    [cred] = issue_credentials(env.ctx, gid, holder="alice", otp=env.otp("alice"))
    session = connect_as(env, cred.login, cred.password)
    assert session.execute("SELECT 1").fetchone() == (1,)
    cid = _start(env)
    item = _items(env, cid)[gid]["id"]
    decide(env.ctx, item, reviewer="carol", keep=True, otp=env.otp("carol"))
    decide(env.ctx, item, reviewer="bob", keep=False, otp=env.otp("bob"), note="not needed")
    with pytest.raises(psycopg.OperationalError):
        session.execute("SELECT 1")
    with psycopg.connect(env.pg_url, autocommit=True) as admin:
        assert admin.execute(
            "SELECT count(*) FROM pg_roles WHERE rolname = %s", (cred.login,)
        ).fetchone() == (0,)
    proof = [e for e in env.events() if e.code == "access.credential.revoked"]
    assert len(proof) == 1 and proof[0].status is Status.SUCCESS
    assert proof[0].actor == "bob"


@pytest.mark.postgres
def test_campaign_on_a_postgresql_store(make_env: Any, pg_store_url: str) -> None:
    """The store columns hold every outcome value (PostgreSQL enforces lengths)."""
    env: Env = make_env(store_url=pg_store_url, standing=STANDING)
    env.enrol("alice", "bob", "carol")
    gid = _granted(env)
    cid = _start(env)
    decide(env.ctx, _items(env, cid)[gid]["id"], reviewer="carol", keep=True, otp=env.otp("carol"))
    env.clock.advance(timedelta(days=2))
    res = close_campaign(env.ctx, cid)
    assert len(res["revoked_undecided"]) == 1
    assert {i["outcome"] for i in _items(env, cid).values()} == {"keep", "revoke_no_answer"}


def test_campaign_through_the_cli(tmp_path: Path) -> None:
    world = CliWorld(tmp_path, standing=STANDING)
    with world.stack:
        _campaign_through_the_cli(world)


def _campaign_through_the_cli(world: CliWorld) -> None:
    world.enrol("alice", "bob", "carol")
    req = json.loads(
        world.ok(
            "access",
            "request",
            "--as",
            "alice",
            "--role",
            "prod-read",
            "--for",
            "1h",
            "--reason",
            "INC-7",
            "--format",
            "json",
        ).stdout
    )["request"]
    gid = json.loads(
        world.ok(
            "access",
            "review",
            req,
            "--as",
            "bob",
            "--approve",
            "--otp",
            world.otp("bob"),
            "--format",
            "json",
        ).stdout
    )["grant"]
    camp = json.loads(
        world.ok(
            "review", "start", "--name", "Q3 <2026>", "--due", "2099-12-31", "--format", "json"
        ).stdout
    )
    cid = camp["id"]
    report = json.loads(world.ok("review", "report", cid, "--format", "json").stdout)
    # the two live grants, and the personal API tokens the CLI world's people signed in with
    assert {"kind": "grant", "count": 2} in camp["kinds"]
    assert {i["kind"] for i in report["items"]} == {"grant", "api_token"}
    item = next(i["id"] for i in report["items"] if i["grant_id"] == gid)

    own = world.run(
        "review", "decide", item, "--as", "alice", "--keep", "--otp", world.otp("alice")
    )
    assert own.exit_code == 1
    assert "'alice' cannot review their own access" in own.stderr
    assert "Traceback" not in own.stderr

    # bob approved the grant: he cannot certify it (exit 1, no traceback); the refusal
    # comes before the MFA check, so his code still works for the revoke below
    code = world.otp("bob")
    approver = world.run("review", "decide", item, "--as", "bob", "--keep", "--otp", code)
    assert approver.exit_code == 1 and "Traceback" not in approver.stderr
    assert "'bob' approved grant" in approver.stderr

    out = world.ok(
        "review",
        "decide",
        item,
        "--as",
        "carol",
        "--keep",
        "--otp",
        world.otp("carol"),
        "--note",
        "on call",
    ).stdout
    assert "keep (outcome keep)" in out
    out = world.ok("review", "decide", item, "--as", "bob", "--revoke", "--otp", code).stdout
    assert "revoke (outcome revoke)" in out
    replay = world.run("review", "decide", item, "--as", "bob", "--revoke", "--otp", code)
    assert replay.exit_code == 1 and "already used" in replay.stderr

    grants = json.loads(world.ok("access", "grants", "--format", "json").stdout)
    assert next(g for g in grants if g["id"] == gid)["status"] == "revoked"

    early = world.run("review", "close", cid)
    assert early.exit_code == 1
    assert f"campaign {cid} is due 2099-12-31" in early.stderr
    assert f"{camp['items'] - 1} item(s) are undecided" in early.stderr

    html = world.ok("review", "report", cid, "--format", "html").stdout
    assert "keep by carol" in html and "revoke by bob" in html
    assert "Q3 &lt;2026&gt;" in html
    text = world.ok("review", "report", cid).stdout
    assert f"{item} alice prod-read revoke" in text
    assert "dana staging-write undecided" in text
