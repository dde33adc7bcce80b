"""Access-review campaigns over the API, attacked with real accounts (red-team review)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

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


def _offboard_devshop(world: World, carol: Person) -> None:
    carol.headers()  # signed in first: the login takes a code of its own
    res = carol.post("/api/v1/vendors/devshop/offboard", {"otp": carol.otp()})
    assert res.status_code == 200, res.text


def _accept(world: World, link: str) -> Any:
    return world.client.post(
        "/api/v1/invitations/accept", json={"token": link, "password": "correct horse battery"}
    )


def test_an_invitation_link_dies_with_its_vendors_offboarding(world: World) -> None:
    carol = world.onboard("carol")
    world.settle()
    before = world.invite("dana")  # sent to dana, not opened yet: offboarding expires it
    _offboard_devshop(world, carol)
    after = world.invite("dana")  # made after (by mistake): the server refuses to open it
    res = _accept(world, before)
    assert res.status_code == 401 and "unknown, already used or expired" in res.text, res.text
    res = _accept(world, after)
    assert res.status_code == 401 and "has been offboarded" in res.text, res.text
    # no account, no factor, and nothing in the log says dana created one
    codes = [e.code for e in world.events() if e.actor == "dana"]
    assert "identity.invitation.accepted" not in codes and "identity.account.created" not in codes
    from stagewall.identity import accounts

    assert not accounts.account_active(world.state.ctx.store, "dana")
    from stagewall import mfa

    assert not mfa.is_enrolled(world.state.ctx.store, "dana")


def test_device_and_browser_sign_ins_in_flight_die_with_the_offboarding(
    world: World, people: dict[str, Person]
) -> None:
    from stagewall.identity import device, handoff
    from stagewall.identity.actor import LoginMethod

    store = world.state.ctx.store
    redirect = "http://127.0.0.1:5555/cb"
    verifier = "v" * 64

    def approved() -> tuple[str, str]:
        """A device code and a `login --browser` code, both approved as dana."""
        now = world.clock()
        code = device.start(store, now=now)
        assert device.approve(store, code.user_code, "dana", LoginMethod.LOCAL, now=now)
        swa = handoff.approve_login(
            store,
            "dana",
            LoginMethod.LOCAL,
            challenge=handoff.s256(verifier),
            redirect_uri=redirect,
            now=now,
        )
        return code.device_code, swa

    def redeem(device_code: str, swa: str) -> list[Any]:
        return [
            world.client.post(
                "/api/v1/device/token",
                data={"grant_type": device.GRANT_TYPE, "device_code": device_code},
            ),
            world.client.post(
                "/api/v1/cli/token",
                json={"code": swa, "code_verifier": verifier, "redirect_uri": redirect},
            ),
        ]

    before = approved()  # dana approved both just before: offboarding cancels them
    _offboard_devshop(world, people["carol"])
    after = approved()  # approved behind the offboarding's back: the server refuses them
    cancelled, refused = redeem(*before), redeem(*after)
    for res in cancelled + refused:
        assert res.status_code in (400, 401), res.text
        assert "swt_" not in res.text
    assert cancelled[0].json() == {"error": "access_denied"}  # the offboarding denied it
    assert all("has been offboarded" in res.text for res in refused)
    from sqlalchemy import select

    from stagewall.identity._tables import identity_tokens

    with store.read() as conn:
        live = conn.execute(
            select(identity_tokens.c.id)
            .where(identity_tokens.c.principal == "dana")
            .where(identity_tokens.c.revoked_at.is_(None))
        ).all()
    assert live == []
