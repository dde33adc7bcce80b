"""The ``/device`` page for people signed in to the web UI (identity provider or local).

Before, someone who signs in only through the identity provider approved a terminal
with ``POST /api/v1/device/approve`` and no page showing who asked; the API took an
open step-up window as the factor (a stolen session could mint itself tokens); and a
code could be denied by anyone holding it. Now: after the OIDC sign-in ``/device``
shows the requester, the address warning and the person's own step-up; approving is
a CSRF-checked POST with an explicit click and a factor verified with it; a person
with no factor is told how to enrol; denying needs the signed-in person.
"""

from __future__ import annotations

import base64
import html
import json
import re
from datetime import timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient

from stagewall.identity import device
from tests.identity.conftest import OidcProvider
from tests.identity.conftest import browser as browser
from tests.identity.conftest import oidc_provider as oidc_provider
from tests.identity.softauthn import SoftAuthenticator
from tests.server.conftest import PASSWORD, Person, World
from tests.server.test_device_phishing import ATTACKER, _events, _link, _poll, _start
from tests.server.test_oidc_login import _callback
from tests.server.test_oidc_login import oidc_world as oidc_world

RP, ORIGIN = "stagewall.example.com", "https://stagewall.example.com"


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def _challenge(options: dict[str, Any]) -> bytes:
    text = str(options["challenge"])
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _pending(world: World, terminal: TestClient, code: dict[str, Any]) -> None:
    world.clock.advance(timedelta(seconds=device.INTERVAL_S + 1))  # a polite terminal
    assert _poll(terminal, code) == {"error": "authorization_pending"}


def _oidc_sign_in(world: World, provider: OidcProvider, browser: httpx.Client, page: str) -> str:
    """Follow the signed-out page's identity-provider link; the path it comes back to."""
    found = re.search(r'href="(/api/v1/oidc/login\?[^"]+)"', page)
    assert found, page
    res = world.client.get(html.unescape(found.group(1)), follow_redirects=False)
    assert res.status_code == 303, res.text
    done = _callback(world, provider.login(browser, res.headers["location"], "alice"))
    assert done.status_code == 200, done.text
    back = re.search(r'url=([^"]+)"', done.text)
    assert back, done.text
    return html.unescape(back.group(1))


def test_an_oidc_person_sees_who_asked_and_approves_with_a_fresh_factor(
    oidc_world: World, oidc_provider: OidcProvider, browser: httpx.Client
) -> None:
    world = oidc_world
    attacker, code = _start(world, user_agent="curl/8.5.0", hostname="kali-box")
    page = world.client.get(_link(code))
    assert page.status_code == 200 and "Sign in with your company account" in page.text
    back = _oidc_sign_in(world, oidc_provider, browser, page.text)
    assert back == _link(code)

    # Signed in (oidc): the page names the person and the terminal that asked.
    page = world.client.get(back)
    assert page.status_code == 200, page.text
    text = page.text
    assert "Signed in as <strong>alice</strong> (oidc)" in text
    assert "203.0.113.9" in text and "curl/8.5.0" in text and "kali-box" in text
    assert "claimed by the terminal, not verified" in text and "seconds ago" in text
    assert "Only approve if you started this login yourself" in text
    assert "another address than this" in text  # the browser is not 203.0.113.9
    # No factor yet: no Approve, only how to enrol (and Deny).
    assert "You have no second factor yet" in text and "/security" in text
    assert 'value="approve"' not in text
    csrf = _csrf(text)
    approve = {"user_code": code["user_code"], "csrf": csrf, "decision": "approve"}
    res = world.client.post("/device/decide", data=approve)
    assert res.status_code == 403 and "no second factor" in res.text, res.text
    _pending(world, attacker, code)

    # She registers a passkey (her first factor) and comes back to the page.
    key = SoftAuthenticator()
    hdr = {"X-CSRF-Token": csrf}
    opts = world.client.post("/api/v1/mfa/webauthn/registration/options", json={}, headers=hdr)
    reg = key.register(challenge=_challenge(opts.json()), rp_id=RP, origin=ORIGIN)
    res = world.client.post(
        "/api/v1/mfa/webauthn/registration",
        json={"credential": json.loads(reg), "name": "laptop"},
        headers=hdr,
    )
    assert res.status_code == 201, res.text
    text = world.client.get(back).text
    assert 'data-passkey="yes" value="approve"' in text and 'name="otp"' not in text

    def assertion() -> str:
        opts = world.client.post("/api/v1/mfa/webauthn/assertion/options", headers=hdr)
        return key.assert_(challenge=_challenge(opts.json()), rp_id=RP, origin=ORIGIN)

    # Without the session's CSRF token, without a click, or without the factor: nothing.
    res = world.client.post("/device/decide", data={**approve, "csrf": "forged"})
    assert res.status_code == 403, res.text
    no_click = {k: v for k, v in approve.items() if k != "decision"}
    res = world.client.post("/device/decide", data={**no_click, "webauthn": assertion()})
    assert res.status_code == 400, res.text
    res = world.client.post("/device/decide", data=approve)
    assert res.status_code == 403 and "fresh second factor" in res.text, res.text
    other = TestClient(world.app, follow_redirects=False)  # another browser, no session
    res = other.post("/device/decide", data={**approve, "webauthn": assertion()})
    assert res.status_code == 303 and res.headers["location"].startswith("/login")
    _pending(world, attacker, code)
    assert not _events(world, "identity.device.approved")

    res = world.client.post("/device/decide", data={**approve, "webauthn": assertion()})
    assert res.status_code == 200 and "Signed in" in res.text, res.text
    got = _poll(attacker, code)
    assert got["principal"] == "alice", got
    who = world.client.get(
        "/api/v1/whoami", headers={"Authorization": f"Bearer {got['access_token']}"}
    ).json()
    assert who["principal"] == "alice" and who["method"] == "oidc"
    [event] = _events(world, "identity.device.approved")
    assert event.actor == "alice"
    assert event.details["method"] == "oidc" and event.details["factor"] == "webauthn"
    assert event.details["decided_via"] == "page"
    assert event.details["requester_address"] == "203.0.113.9"
    assert event.details["requester_hostname_claimed"] == "kali-box"
    assert event.details["decided_from_address"] == "testclient"


def test_the_api_wants_a_factor_with_the_approval_not_an_open_window(
    people: dict[str, Person],
) -> None:
    """A stolen session or token with an open step-up window must not mint new tokens."""
    bob = people["bob"]
    world = bob.world
    res = bob.post("/api/v1/step-up", {"otp": bob.otp()})
    assert res.status_code == 200, res.text
    attacker, code = _start(world, user_agent="curl/8.5.0", hostname="kali-box")
    res = bob.post("/api/v1/device/approve", {"user_code": code["user_code"]})
    assert res.status_code == 403 and res.json()["code"] == "SW721", res.text
    assert "open step-up window is not enough" in res.json()["detail"]
    assert _poll(attacker, code) == {"error": "authorization_pending"}
    res = bob.post("/api/v1/device/approve", {"user_code": code["user_code"], "otp": bob.otp()})
    assert res.status_code == 204, res.text
    [event] = _events(world, "identity.device.approved")
    assert event.details["factor"] == "totp" and event.details["decided_via"] == "api"
    assert _poll(attacker, code)["principal"] == "bob"


def test_a_signed_in_local_person_denies_and_approves_on_the_page(
    people: dict[str, Person],
) -> None:
    alice = people["alice"]
    world = alice.world
    me = TestClient(world.app, follow_redirects=False)
    login = me.get("/login")
    res = me.post(
        "/login",
        data={
            "principal": "alice",
            "password": PASSWORD,
            "otp": alice.otp(),
            "csrf": _csrf(login.text),
            "next": "/",
        },
    )
    assert res.status_code == 303, res.text

    attacker, code = _start(world, user_agent="curl/8.5.0", hostname="kali-box")
    text = me.get(_link(code)).text
    assert "Signed in as <strong>alice</strong> (local)" in text and 'name="otp"' in text
    deny = {"user_code": code["user_code"], "csrf": _csrf(text), "decision": "deny"}
    # Denying without the session (someone else holding the code) does nothing.
    stranger = TestClient(world.app, client=ATTACKER, follow_redirects=False)
    assert stranger.post("/device/decide", data=deny).status_code == 303
    assert me.post("/device/decide", data={**deny, "csrf": "forged"}).status_code == 403
    assert _poll(attacker, code) == {"error": "authorization_pending"}
    res = me.post("/device/decide", data=deny)
    assert res.status_code == 200 and "Login denied" in res.text, res.text
    assert _poll(attacker, code) == {"error": "access_denied"}
    [event] = _events(world, "identity.device.denied")
    assert event.actor == "alice" and event.details["method"] == "local"

    # Her own terminal: approved with a one-time code typed on the page.
    mine, code = _start(world, user_agent="stagewall-cli", hostname="laptop")
    text = me.get(_link(code)).text
    approve = {"user_code": code["user_code"], "csrf": _csrf(text), "decision": "approve"}
    res = me.post("/device/decide", data={**approve, "otp": "000000"})
    assert res.status_code == 403 and "Approve a terminal login?" in res.text, res.text
    res = me.post("/device/decide", data={**approve, "otp": alice.otp()})
    assert res.status_code == 200 and "Signed in" in res.text, res.text
    assert _poll(mine, code)["principal"] == "alice"
    [event] = _events(world, "identity.device.approved")
    assert event.details["factor"] == "totp" and event.details["method"] == "local"
