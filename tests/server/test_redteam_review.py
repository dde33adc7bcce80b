"""Access-review campaigns over the API, attacked with real accounts (red-team review)."""

from __future__ import annotations

from datetime import timedelta

from tests.server.conftest import Person, World


def test_campaign_start_and_close_name_the_person_who_did_them(
    world: World, people: dict[str, Person]
) -> None:
    alice, carol = people["alice"], people["carol"]
    res = alice.post(
        "/api/v1/access/requests", {"role": "prod-read", "duration": "1h", "reason": "INC-1"}
    )
    assert res.status_code == 201, res.text
    rid = res.json()["request"]
    res = people["bob"].post(
        f"/api/v1/access/requests/{rid}/reviews", {"approve": True, "otp": people["bob"].otp()}
    )
    assert res.status_code == 200, res.text
    due = (world.clock() + timedelta(days=1)).date().isoformat()
    res = carol.post("/api/v1/reviews", {"name": "Q4", "due": due})
    assert res.status_code == 201, res.text
    cid = res.json()["id"]
    world.clock.advance(timedelta(days=2))
    carol.token = None
    carol.login()
    res = carol.post(f"/api/v1/reviews/{cid}/close")
    assert res.status_code == 200, res.text
    [started] = [e for e in world.events() if e.code == "access.campaign.started"]
    [closed] = [e for e in world.events() if e.code == "access.campaign.closed"]
    assert started.actor == "carol" and closed.actor == "carol"
    # the grant the close revoked names carol too (the evidence pack's revoked_by)
    revoked = [e for e in world.events() if e.code == "access.grant.revoked"]
    assert revoked and all(e.actor == "carol" for e in revoked)
