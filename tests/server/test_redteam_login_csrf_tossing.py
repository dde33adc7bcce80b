"""Red team: the cookies a sign-in form and an OIDC login rest on cannot be tossed either.

The sign-in and invitation forms are protected by a double-submit cookie, and an OIDC
login by a binding cookie; each proves that this browser started the form or the
login. A sibling subdomain sets ``stagewall_login_csrf=X; Domain=example.com`` (or the
binding of a login the attacker started and finished at the identity provider with
their own account) and sends the person's browser to the form post (or the callback):
the person is signed in to the attacker's account (login CSRF). Over https these
cookies are ``__Host-`` cookies too (Path=/, Secure, no Domain): only this host sets them.
"""

from __future__ import annotations

import httpx
from fastapi.testclient import TestClient

from tests.identity.conftest import OidcProvider
from tests.identity.conftest import browser as browser
from tests.identity.conftest import oidc_provider as oidc_provider
from tests.server.conftest import PASSWORD, Person, World
from tests.server.test_oidc_login import oidc_world as oidc_world
from tests.server.test_redteam_cookie_tossing import HOST, _https

DOMAIN = "stagewall.example.com"


def _names(res: object) -> list[str]:
    return [c.split("=", 1)[0] for c in res.headers.get_list("set-cookie")]  # type: ignore[attr-defined]


def test_a_tossed_sign_in_form_cookie_signs_nobody_in(
    world: World, people: dict[str, Person]
) -> None:
    client = _https(world)
    try:
        # a fresh browser: only the tossed cookie and the attacker's own sign-in
        victim = TestClient(client.app, base_url=HOST)
        victim.cookies.set("stagewall_login_csrf", "tossed-value-0123456789", domain=DOMAIN)
        dana = people["dana"]
        form = {"principal": "dana", "password": PASSWORD, "otp": dana.otp()}
        res = victim.post(
            "/login", data={**form, "csrf": "tossed-value-0123456789"}, follow_redirects=False
        )
        assert res.status_code == 403, res.text
        assert not any("stagewall_session" in n for n in _names(res))
        victim.close()
        page = client.get("/login")
        assert "__Host-stagewall_login_csrf" in _names(page), page.headers
        assert "path=/;" in page.headers["set-cookie"].lower() + ";"
    finally:
        client.close()


def test_a_tossed_invitation_form_cookie_is_refused(world: World) -> None:
    client = _https(world)
    try:
        token = world.invite("alice")
        victim = TestClient(client.app, base_url=HOST)
        victim.cookies.set("stagewall_invite_csrf", "tossed-value-0123456789", domain=DOMAIN)
        res = victim.post(
            "/invite",
            data={
                "token": token,
                "password": PASSWORD,
                "again": PASSWORD,
                "csrf": "tossed-value-0123456789",
            },
        )
        assert res.status_code == 403, res.text
        victim.close()
        page = client.get("/invite", params={"token": token})
        assert "__Host-stagewall_invite_csrf" in _names(page), page.headers
    finally:
        client.close()


def test_a_tossed_oidc_binding_signs_nobody_in(
    oidc_world: World, oidc_provider: OidcProvider, browser: httpx.Client
) -> None:
    client = _https(oidc_world)
    try:
        # the attacker starts a login in their own browser and finishes it at the
        # provider with their own account; they keep the binding cookie and the callback
        start = client.get("/api/v1/oidc/login", follow_redirects=False)
        assert start.status_code == 303, start.text
        (binding,) = [
            c.split(";")[0].partition("=")[2]
            for c in start.headers.get_list("set-cookie")
            if c.split("=", 1)[0].endswith("stagewall_oidc")
        ]
        query = oidc_provider.login(browser, start.headers["location"], "alice")
        # the person's browser gets the binding from a sibling subdomain, then the callback
        victim = TestClient(client.app, base_url=HOST)
        victim.cookies.set("stagewall_oidc", binding, domain=DOMAIN, path="/api/v1/oidc")
        res = victim.get("/api/v1/oidc/callback", params=query, follow_redirects=False)
        assert res.status_code == 401, res.text
        assert "did not start the login" in res.json()["detail"]
        assert victim.get("/api/v1/whoami").status_code == 401
        victim.close()
        assert "__Host-stagewall_oidc" in _names(start), start.headers
    finally:
        client.close()
