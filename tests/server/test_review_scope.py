"""An access review covers every standing access path, not only live grants.

Pipeline tokens (up to 366 days), personal API tokens and ``server.admins`` /
``server.auditors`` membership each get a campaign item, decided keep/revoke with the
rules of grants; a revoke that stagewall cannot carry out (an estate entry) is a
recorded finding, an alert and a failing evidence check, never a silent "done".
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from stagewall.identity.pipeline import create_pipeline_token
from stagewall.identity.tokens import resolve_token
from tests.server.conftest import Person, World


def _items(world: World, person: Person, cid: str) -> list[dict[str, Any]]:
    res = person.get(f"/api/v1/reviews/{cid}")
    assert res.status_code == 200, res.text
    items: list[dict[str, Any]] = res.json()["items"]
    return items


def _one(items: list[dict[str, Any]], kind: str, principal: str) -> dict[str, Any]:
    [item] = [i for i in items if i["kind"] == kind and i["principal"] == principal]
    return item


def _check(world: World) -> dict[str, Any]:
    result = world.state.evaluation(fresh=True).to_json()
    [check] = [c for c in result["checks"] if c["check"] == "access.review_campaigns"]
    return dict(check)


def test_a_campaign_reviews_tokens_and_server_memberships(
    world: World, people: dict[str, Person]
) -> None:
    alice, bob, carol, dana = people["alice"], people["bob"], people["carol"], people["dana"]
    piped = create_pipeline_token(
        world.state.ctx.store, world.state.estate, world.state.ctx.audit, "deploybot",
        now=world.clock(), ttl=timedelta(days=366),
    )  # fmt: skip
    due = (world.clock() + timedelta(days=2)).date().isoformat()
    res = carol.post("/api/v1/reviews", {"name": "Q4", "due": due})
    assert res.status_code == 201, res.text
    cid = res.json()["id"]
    items = _items(world, carol, cid)
    kinds = {(i["kind"], i["principal"]) for i in items}
    # every standing path: the year-long pipeline token, each person's API token,
    # the admin (carol) and the auditor (audrey)
    assert ("pipeline_token", "deploybot") in kinds
    assert {("api_token", p) for p in ("alice", "bob", "carol", "dana", "audrey")} <= kinds
    assert ("admin", "carol") in kinds and ("auditor", "audrey") in kinds
    pipe = _one(items, "pipeline_token", "deploybot")
    assert pipe["subject"] == piped.info.id and pipe["grant_id"] is None

    # the holder never decides on their own access, admin membership included
    admin = _one(items, "admin", "carol")
    res = carol.post(
        f"/api/v1/review-items/{admin['id']}/decision", {"keep": True, "otp": carol.otp()}
    )
    assert res.status_code == 403 and "cannot review their own access" in res.text

    # revoking the pipeline token revokes it, named after the reviewer who did it
    res = bob.post(f"/api/v1/review-items/{pipe['id']}/decision", {"keep": False, "otp": bob.otp()})
    assert res.status_code == 200, res.text
    assert resolve_token(world.state.ctx.store, piped.secret, now=world.clock()) is None
    [revoked] = [e for e in world.events() if e.code == "access.campaign.revoked"]
    assert revoked.actor == "bob" and revoked.resource == f"token:{piped.info.id}"

    # revoking carol's admin membership cannot be carried out by the server (it is in
    # stagewall.yaml): a finding, a failure event, a critical alert — not a silent "done"
    res = bob.post(
        f"/api/v1/review-items/{admin['id']}/decision", {"keep": False, "otp": bob.otp()}
    )
    assert res.status_code == 200, res.text
    assert "still listed under server.admins" in res.json()["finding"]
    [finding] = [e for e in world.events() if e.code == "access.campaign.finding"]
    assert finding.actor == "bob" and finding.status.value == "Failure"
    assert any(a["kind"] == "access.review.finding" for a in world.alerts())

    # alice keeps the auditor membership (independent: she is not audrey)
    auditor = _one(items, "auditor", "audrey")
    res = alice.post(
        f"/api/v1/review-items/{auditor['id']}/decision", {"keep": True, "otp": alice.otp()}
    )
    assert res.status_code == 200 and res.json()["outcome"] == "keep"

    # no keep after the due date; silence revokes the personal tokens at close
    world.clock.advance(timedelta(days=3))
    for p in (alice, bob, carol, dana):
        p.token = None
    dana_item = _one(_items(world, carol, cid), "api_token", "dana")
    late = alice.post(
        f"/api/v1/review-items/{dana_item['id']}/decision", {"keep": True, "otp": alice.otp()}
    )
    assert late.status_code == 403 and "was due" in late.text
    res = carol.post(f"/api/v1/reviews/{cid}/close")
    assert res.status_code == 200, res.text
    closed = res.json()
    assert dana_item["id"] in closed["revoked_undecided"]
    assert [f["principal"] for f in closed["findings"]] == ["carol"]
    after = {i["id"]: i for i in _items(world, carol, cid)}
    assert after[dana_item["id"]]["outcome"] == "revoke_no_answer"

    # the evidence check fails while stagewall.yaml still lists carol as an admin
    check = _check(world)
    assert check["status"] == "FAIL"
    assert any("carol is still listed under server.admins" in str(i) for i in check["items"])
