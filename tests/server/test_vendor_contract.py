"""A vendor's contract that ended without anyone offboarding the vendor ends its
people's logins too.

Red team: devshop's contract_end passed while nobody ran `vendor offboard`; dana kept
signing in and submitting promotions (grants were capped at the contract end, but a
login is itself access to the control plane). Fail closed: outside the contract window
the server refuses the vendor's people at sign-in (a *failed* identity.login that says
why) and on every request of a token minted before.
"""

from __future__ import annotations

import re
from datetime import timedelta

from tests.server.conftest import PASSWORD, Person, World


def _contract(world: World, *, start: str = "2020-01-01", end: str) -> None:
    text = world.config.read_text()
    old = re.search(r"  devshop:\n    contract_start: .*\n    contract_end: .*\n", text)
    assert old, text
    new = f"  devshop:\n    contract_start: {start}\n    contract_end: {end}\n"
    world.config.write_text(text.replace(old.group(0), new, 1))
    world.state.refresh()


def _logins_of(world: World, who: str) -> list[str]:
    return [e.status.value for e in world.events() if e.code == "identity.login" and e.actor == who]


def test_a_vendor_past_its_contract_end_cannot_sign_in_or_act(
    world: World, people: dict[str, Person]
) -> None:
    dana = people["dana"]
    assert dana.get("/api/v1/access/grants").status_code == 200
    yesterday = (world.clock() - timedelta(days=1)).date()
    _contract(world, end=str(yesterday))
    res = dana.get("/api/v1/access/grants")
    assert res.status_code == 401, res.text
    assert f"to {yesterday}" in res.json()["detail"], res.text
    res = dana.post("/api/v1/access/requests", {"role": "stg-read", "reason": "x"})
    assert res.status_code == 401, res.text
    before = len(_logins_of(world, "dana"))
    res = world.client.post(
        "/api/v1/session", json={"principal": "dana", "password": PASSWORD, "otp": dana.otp()}
    )
    assert res.status_code == 401 and "contract" in res.json()["detail"], res.text
    assert _logins_of(world, "dana")[before:] == ["Failure"]
    # internal people are not affected
    assert people["alice"].get("/api/v1/access/grants").status_code == 200


def test_a_contract_not_yet_started_refuses_and_a_renewed_one_lets_back(
    world: World, people: dict[str, Person]
) -> None:
    dana = people["dana"]
    tomorrow = (world.clock() + timedelta(days=1)).date()
    _contract(world, start=str(tomorrow), end="2099-12-31")
    assert dana.get("/api/v1/access/grants").status_code == 401
    # the administrator fixes the dates: the same login works again (never revoked)
    _contract(world, start="2020-01-01", end="2099-12-31")
    assert dana.get("/api/v1/access/grants").status_code == 200
