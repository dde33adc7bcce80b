"""Red team: a refused login is never on the record as a successful one.

After her vendor was offboarded, dana's correct password and code were answered 401,
but the log said ``local login of 'dana' succeeded``: the success event was written
before the offboarding was checked. An auditor asking "did anyone of devshop sign in
after the offboarding?" found a successful login that never happened, and the event
that should have said why she was refused was missing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from tests.identity.conftest import OidcProvider
from tests.identity.conftest import browser as browser
from tests.identity.conftest import oidc_provider as oidc_provider
from tests.server.conftest import PASSWORD, Person, World
from tests.server.test_oidc_login import _callback, _start
from tests.server.test_oidc_login import oidc_world as oidc_world
from tests.server.test_redteam_logout import web_sign_in


def _logins_of(world: World, who: str) -> list[Any]:
    return [e for e in world.events() if e.code == "identity.login" and e.actor == who]


def _offboard(world: World, people: dict[str, Person]) -> Person:
    carol = people["carol"]
    res = carol.post("/api/v1/vendors/devshop/offboard", {"otp": carol.otp()})
    assert res.status_code == 200, res.text
    return people["dana"]


def test_an_offboarded_persons_api_login_is_recorded_as_refused(
    world: World, people: dict[str, Person]
) -> None:
    dana = _offboard(world, people)
    before = len(_logins_of(world, "dana"))
    res = world.client.post(
        "/api/v1/session", json={"principal": "dana", "password": PASSWORD, "otp": dana.otp()}
    )
    assert res.status_code == 401 and "offboarded" in res.json()["detail"], res.text
    new = _logins_of(world, "dana")[before:]
    assert [e.status.value for e in new] == ["Failure"], [(e.status, e.message) for e in new]
    assert "offboarded" in new[0].details["reason"]


def test_an_offboarded_persons_web_login_is_recorded_as_refused(
    world: World, people: dict[str, Person]
) -> None:
    dana = _offboard(world, people)
    before = len(_logins_of(world, "dana"))
    res = web_sign_in(world, dana)
    assert res.status_code == 401 and "offboarded" in res.text
    assert "stagewall_session" not in res.headers.get("set-cookie", "")
    new = _logins_of(world, "dana")[before:]
    assert [e.status.value for e in new] == ["Failure"], [(e.status, e.message) for e in new]


def test_an_offboarded_persons_oidc_login_is_recorded_as_refused(
    oidc_world: World,
    oidc_provider: OidcProvider,
    browser: httpx.Client,
    people: dict[str, Person],
) -> None:
    world = oidc_world
    text = world.config.read_text()
    text = text.replace(
        "dana: {affiliation: external, vendor: devshop}",
        "dana: {affiliation: external, vendor: devshop, oidc_subject: stranger}",
    )
    world.config.write_text(text)
    _offboard(world, people)
    # the people settled a day ahead; the provider's ID tokens are for the real time
    world.clock.now = datetime.now(UTC)
    before = len(_logins_of(world, "dana"))
    query = oidc_provider.login(browser, _start(world), "stranger")
    res = _callback(world, query)
    assert res.status_code == 401 and "offboarded" in res.json()["detail"], res.text
    assert "stagewall_session" not in res.headers.get("set-cookie", "")
    new = _logins_of(world, "dana")[before:]
    assert [e.status.value for e in new] == ["Failure"], [(e.status, e.message) for e in new]
    assert new[0].details["method"] == "oidc" and new[0].details["subject"] == "stranger"
