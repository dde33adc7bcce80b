"""OIDC browser login through the server, against the real OpenID provider fixture.

The test plays the person's browser: the server's test client keeps the server's
cookies, and an httpx client drives the provider's login and consent pages.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select

from stagewall.identity._tables import identity_oidc_logins
from tests.identity.conftest import REDIRECT_URI, Client, OidcProvider
from tests.identity.conftest import browser as browser
from tests.identity.conftest import oidc_provider as oidc_provider
from tests.server.conftest import World


def _configure(world: World, provider: OidcProvider, client: Client) -> None:
    text = world.config.read_text()
    text = text.replace(
        "alice: {affiliation: internal, emails: [alice@example.com]}",
        "alice: {affiliation: internal, emails: [alice@example.com, alice@example.test]}",
    ).replace(
        "bob: {affiliation: internal}", "bob: {affiliation: internal, emails: [bob@example.test]}"
    )
    text = text.split("  oidc:\n")[0].rstrip("\n") + "\n"
    text += (
        "  oidc:\n"
        f"    issuer: {provider.issuer}\n"
        f"    client_id: {client.client_id}\n"
        "    client_secret_env: SW_TEST_OIDC_SECRET\n"
        f"    redirect_uri: {REDIRECT_URI}\n"
    )
    world.config.write_text(text)


@pytest.fixture
def oidc_world(
    world: World,
    oidc_provider: OidcProvider,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[World]:
    monkeypatch.setenv("SW_TEST_OIDC_SECRET", oidc_provider.main.client_secret)
    _configure(world, oidc_provider, oidc_provider.main)
    yield world


def _start(world: World) -> str:
    res = world.client.get("/api/v1/oidc/login", follow_redirects=False)
    assert res.status_code == 303, res.text
    assert "stagewall_oidc" in res.headers["set-cookie"]
    assert "httponly" in res.headers["set-cookie"].lower()
    location = res.headers["location"]
    for param in ("code_challenge_method=S256", "nonce=", "state=", "code_challenge="):
        assert param in location
    return location


def _callback(world: World, query: dict[str, str]) -> Any:
    return world.client.get("/api/v1/oidc/callback", params=query, follow_redirects=False)


def _logins(world: World) -> list[Any]:
    return [e for e in world.events() if e.code == "identity.login"]


def _refused(res: Any, words: str) -> None:
    assert res.status_code == 401, res.text
    body = res.json()
    assert body["code"] == "SW844", body
    assert words in body["detail"], body
    assert "stagewall_session" not in res.headers.get("set-cookie", "")


def test_oidc_login_creates_a_browser_session(
    oidc_world: World,
    oidc_provider: OidcProvider,
    browser: httpx.Client,
) -> None:
    world = oidc_world
    query = oidc_provider.login(browser, _start(world), "alice")
    res = _callback(world, query)
    # a page that moves on to / itself (a same-site navigation, which carries the
    # SameSite=Strict session cookie; a 303 from the provider's redirect would not)
    assert res.status_code == 200, res.text
    assert '<meta http-equiv="refresh" content="0;url=/">' in res.text
    cookies = res.headers.get_list("set-cookie")
    session = [c for c in cookies if c.startswith("stagewall_session=")]
    assert session and "httponly" in session[0].lower() and "samesite=strict" in session[0].lower()
    res = world.client.get("/api/v1/whoami")
    assert res.status_code == 200, res.text
    assert res.json()["principal"] == "alice" and res.json()["method"] == "oidc"
    # The session is a cookie session: a state-changing call needs the CSRF token.
    res = world.client.post("/api/v1/step-up", json={"otp": "123456"})
    assert res.status_code == 403 and "CSRF" in res.json()["detail"]
    csrf = world.client.cookies.get("stagewall_csrf")
    assert csrf
    login = _logins(world)[-1]
    assert login.actor == "alice" and login.status.value == "Success"
    assert login.details["method"] == "oidc" and login.details["subject"] == "alice"
    # The same callback a second time (a replayed code and state) is refused.
    _refused(_callback(world, query), "already finished")


def test_unknown_subject_is_refused_and_recorded(
    oidc_world: World,
    oidc_provider: OidcProvider,
    browser: httpx.Client,
) -> None:
    world = oidc_world
    query = oidc_provider.login(browser, _start(world), "stranger")
    _refused(_callback(world, query), "not declared for any principal")
    failed = _logins(world)[-1]
    assert failed.status.value == "Failure" and failed.actor == "unknown"
    raw = json.loads(failed.raw)
    assert raw["class_uid"] == 3002


def test_unverified_email_is_refused(
    oidc_world: World,
    oidc_provider: OidcProvider,
    browser: httpx.Client,
) -> None:
    world = oidc_world
    query = oidc_provider.login(browser, _start(world), "mallory")  # claims bob's address
    _refused(_callback(world, query), "verified")
    assert world.client.get("/api/v1/whoami").status_code == 401


def test_wrong_state_and_foreign_browser_are_refused(
    oidc_world: World,
    oidc_provider: OidcProvider,
    browser: httpx.Client,
) -> None:
    world = oidc_world
    query = oidc_provider.login(browser, _start(world), "bob")
    _refused(_callback(world, {**query, "state": query["state"] + "x"}), "state does not match")
    # The login started in this browser; the callback arriving in another one (no binding
    # cookie: a victim made to finish an attacker's login) is refused.
    binding = world.client.cookies.get("stagewall_oidc")
    world.client.cookies.clear()
    _refused(_callback(world, query), "did not start the login")
    assert binding


def test_wrong_nonce_is_refused(
    oidc_world: World,
    oidc_provider: OidcProvider,
    browser: httpx.Client,
) -> None:
    """The provider signs an ID token for another nonce than this login's (derived
    from the login's binding secret and state): refused."""
    world = oidc_world
    location = _start(world)
    nonce = parse_qs(urlsplit(location).query)["nonce"][0]
    query = oidc_provider.login(browser, location.replace(nonce, "another-logins-nonce"), "alice")
    _refused(_callback(world, query), "nonce")


def test_the_store_holds_nothing_that_finishes_a_login(
    oidc_world: World,
    oidc_provider: OidcProvider,
    browser: httpx.Client,
) -> None:
    """Someone who reads the store while a login is in progress (up to 10 minutes) finds
    no nonce or PKCE verifier there, nor the state or binding secret they derive from:
    only digests. The row holds none of the values the login sent or will send."""
    world = oidc_world
    location = _start(world)
    sent = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    binding = world.client.cookies.get("stagewall_oidc")
    assert binding
    with world.state.ctx.store.read() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(identity_oidc_logins))]
    assert len(rows) == 1
    assert set(rows[0]) == {
        "id",
        "state_hash",
        "binding_hash",
        "created_at",
        "expires_at",
        "used_at",
        "row_mac",
    }
    stored = " ".join(str(v) for v in rows[0].values())
    for secret in (sent["nonce"], sent["state"], sent["code_challenge"], binding):
        assert secret not in stored
    # the login still completes: nonce and verifier are derived again at the callback
    query = oidc_provider.login(browser, location, "alice")
    res = _callback(world, query)
    assert res.status_code == 200, res.text


def test_expired_id_token_is_refused(
    world: World,
    oidc_provider: OidcProvider,
    browser: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The short-lived client's ID tokens live one second; the callback comes 5 min later."""
    monkeypatch.setenv("SW_TEST_OIDC_SECRET", oidc_provider.short_lived.client_secret)
    _configure(world, oidc_provider, oidc_provider.short_lived)
    query = oidc_provider.login(browser, _start(world), "alice")
    world.clock.advance(timedelta(minutes=5))
    _refused(_callback(world, query), "expired")


def test_a_code_for_another_client_is_refused(
    world: World,
    oidc_provider: OidcProvider,
    browser: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A login made for another client (audience) cannot be redeemed by this server."""
    monkeypatch.setenv("SW_TEST_OIDC_SECRET", oidc_provider.other.client_secret)
    _configure(world, oidc_provider, oidc_provider.other)
    query = oidc_provider.login(browser, _start(world), "alice")
    monkeypatch.setenv("SW_TEST_OIDC_SECRET", oidc_provider.main.client_secret)
    _configure(world, oidc_provider, oidc_provider.main)
    _refused(_callback(world, query), "another client")


def test_oidc_fails_closed_without_configuration(world: World) -> None:
    res = world.client.get("/api/v1/oidc/login", follow_redirects=False)
    assert res.status_code == 400 and res.json()["code"] == "SW845"
    res = world.client.get("/api/v1/oidc/callback?code=x&state=y", follow_redirects=False)
    assert res.status_code == 400 and res.json()["code"] == "SW845"


def test_failed_callbacks_are_rate_limited_per_address(oidc_world: World) -> None:
    world = oidc_world
    for i in range(5):
        _refused(_callback(world, {"code": "c", "state": f"forged-{i}"}), "state does not match")
    res = _callback(world, {"code": "c", "state": "forged-6"})
    assert res.status_code == 429, res.text
    assert len([e for e in _logins(world) if e.status.value == "Failure"]) == 5


def test_an_oidc_person_signs_in_a_terminal_with_step_up(
    oidc_world: World,
    oidc_provider: OidcProvider,
    browser: httpx.Client,
) -> None:
    """No password: the terminal's device code is approved from the OIDC browser session."""
    import base64

    from tests.identity.softauthn import SoftAuthenticator

    world = oidc_world
    query = oidc_provider.login(browser, _start(world), "alice")
    assert _callback(world, query).status_code == 200
    csrf = {"X-CSRF-Token": world.client.cookies.get("stagewall_csrf") or ""}
    code = world.client.post("/api/v1/device/code").json()
    approve = {"user_code": code["user_code"]}
    # alice (OIDC, no factor yet) cannot mint a terminal token without step-up, and is
    # told how to enrol one.
    res = world.client.post("/api/v1/device/approve", json=approve, headers=csrf)
    assert res.status_code == 403 and res.json()["code"] == "SW611", res.text
    assert "/security" in res.json()["hint"]
    # She registers a passkey (her first factor: no step-up needed) and uses it.
    key = SoftAuthenticator()
    rp, origin = "stagewall.example.com", "https://stagewall.example.com"

    def challenge(options: dict[str, Any]) -> bytes:
        text = str(options["challenge"])
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))

    opts = world.client.post(
        "/api/v1/mfa/webauthn/registration/options", json={}, headers=csrf
    ).json()
    reg = key.register(challenge=challenge(opts), rp_id=rp, origin=origin)
    res = world.client.post(
        "/api/v1/mfa/webauthn/registration",
        json={"credential": json.loads(reg), "name": "laptop"},
        headers=csrf,
    )
    assert res.status_code == 201, res.text
    opts = world.client.post("/api/v1/mfa/webauthn/assertion/options", headers=csrf).json()
    assertion = json.loads(key.assert_(challenge=challenge(opts), rp_id=rp, origin=origin))
    res = world.client.post(
        "/api/v1/device/approve", json={**approve, "webauthn": assertion}, headers=csrf
    )
    assert res.status_code == 204, res.text
    # The terminal polls and receives its own token: alice, login method oidc.
    res = world.client.post(
        "/api/v1/device/token",
        data={
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": code["device_code"],
        },
    )
    assert res.status_code == 200, res.text
    token = res.json()["access_token"]
    # A bearer header wins over the browser's cookie: this is the terminal's own token.
    who = world.client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"}).json()
    assert who["session"] != world.client.get("/api/v1/whoami").json()["session"]
    assert who["principal"] == "alice" and who["method"] == "oidc"


def test_an_oidc_person_signs_in_a_terminal_through_the_browser(
    oidc_world: World,
    oidc_provider: OidcProvider,
    browser: httpx.Client,
) -> None:
    """``stagewall login --browser`` with the identity provider: the OIDC login comes back
    to the terminal's page (``next``), and the terminal's token says ``oidc``."""
    import html
    import re
    from urllib.parse import parse_qs, urlencode, urlsplit

    from stagewall.identity.handoff import s256

    world = oidc_world
    params = {
        "redirect_uri": "http://127.0.0.1:9/callback",
        "state": "s" * 20,
        "code_challenge": s256("v" * 43),
        "code_challenge_method": "S256",
    }
    start = "/cli/login?" + urlencode(params)
    res = world.client.get(start, follow_redirects=False)  # signed out: to the sign-in page
    assert res.status_code == 303 and res.headers["location"].startswith("/login?next=")
    page = world.client.get(res.headers["location"])
    found = re.search(r'href="(/api/v1/oidc/login\?next=[^"]+)"', page.text)
    assert found, page.text
    res = world.client.get(html.unescape(found.group(1)), follow_redirects=False)
    query = oidc_provider.login(browser, res.headers["location"], "alice")
    res = _callback(world, query)
    assert res.status_code == 200, res.text
    assert f'content="0;url={html.escape(start)}"' in res.text
    page = world.client.get(start)
    assert page.status_code == 200 and "Sign in a terminal" in page.text
    assert 'name="otp"' not in page.text  # a session this fresh needs no other factor
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf
    form = {**params, "csrf": csrf.group(1)}
    res = world.client.post("/cli/login", data=form, follow_redirects=False)
    assert res.status_code == 303, res.text
    sent = parse_qs(urlsplit(res.headers["location"]).query)
    assert res.headers["location"].startswith(params["redirect_uri"] + "?")
    assert sent["state"] == [params["state"]]
    res = world.client.post(
        "/api/v1/cli/token",
        json={
            "code": sent["code"][0],
            "code_verifier": "v" * 43,
            "redirect_uri": params["redirect_uri"],
        },
    )
    assert res.status_code == 200, res.text
    assert res.json()["principal"] == "alice" and res.json()["method"] == "oidc"
    # Ten minutes on, the browser session is no longer a fresh sign-in: step up first.
    world.clock.advance(timedelta(minutes=11))
    page = world.client.get(start)
    assert 'name="otp"' in page.text
    res = world.client.post("/cli/login", data=form, follow_redirects=False)
    assert res.status_code == 403 and "second factor" in html.unescape(res.text)


def test_the_relying_party_client_is_closed_when_the_app_stops(oidc_world: World) -> None:
    """Its HTTP client to the provider must not outlive the app (an unclosed client
    leaks sockets into whatever runs next)."""
    from fastapi.testclient import TestClient

    from stagewall.server import create_app

    app = create_app(oidc_world.state, run_sweeper=False)
    with TestClient(app) as client:
        assert client.get("/api/v1/oidc/login", follow_redirects=False).status_code == 303
        parties = [c.__self__ for c in oidc_world.state.closers if hasattr(c, "__self__")]
        party = parties[-1]._current[1]
        assert not party._http.is_closed
    assert party._http.is_closed


def test_an_oidc_sign_in_ends_the_browsers_previous_session(
    oidc_world: World,
    oidc_provider: OidcProvider,
    browser: httpx.Client,
) -> None:
    """A browser that already had a session kept it live in the store after signing in
    through the provider: the old cookie (copied, or fixed by someone) still worked."""
    from fastapi.testclient import TestClient

    world = oidc_world
    assert _callback(world, oidc_provider.login(browser, _start(world), "alice")).status_code == 200
    old = world.client.cookies["stagewall_session"]
    assert _callback(world, oidc_provider.login(browser, _start(world), "alice")).status_code == 200
    assert world.client.cookies["stagewall_session"] != old
    assert world.client.get("/api/v1/whoami").status_code == 200
    stale = TestClient(world.app)
    stale.cookies.set("stagewall_session", old)
    assert stale.get("/api/v1/whoami").status_code == 401


def test_the_script_readable_csrf_cookie_is_host_only_over_https_and_ends_at_logout(
    oidc_world: World,
    oidc_provider: OidcProvider,
    browser: httpx.Client,
) -> None:
    """``stagewall_csrf`` had no ``__Host-`` prefix over https (a sibling subdomain could
    shadow it) and stayed in the browser after signing out."""
    from fastapi.testclient import TestClient

    world = oidc_world
    text = world.config.read_text(encoding="utf-8")
    world.config.write_text(
        text.replace("server:\n", "server:\n  public_url: https://sw.test\n", 1)
    )
    world.state.refresh()
    world.client = TestClient(world.app, base_url="https://sw.test")
    res = _callback(world, oidc_provider.login(browser, _start(world), "alice"))
    assert res.status_code == 200, res.text
    [csrf] = [c for c in res.headers.get_list("set-cookie") if "stagewall_csrf=" in c]
    assert csrf.startswith("__Host-stagewall_csrf=") and "Secure" in csrf and "Path=/" in csrf
    assert "httponly" not in csrf.lower()  # the page's script reads it
    token = world.client.cookies.get("__Host-stagewall_csrf")
    assert token and world.client.cookies.get("stagewall_csrf") is None
    # The documented use: sent back as X-CSRF-Token, it lets the session change state.
    res = world.client.delete("/api/v1/session", headers={"X-CSRF-Token": token})
    assert res.status_code == 204, res.text
    gone = " ".join(res.headers.get_list("set-cookie"))
    assert "__Host-stagewall_csrf=" in gone and "__Host-stagewall_session=" in gone
    assert world.client.cookies.get("__Host-stagewall_csrf") is None


def test_signing_out_of_the_web_ui_clears_the_csrf_cookie(
    oidc_world: World,
    oidc_provider: OidcProvider,
    browser: httpx.Client,
) -> None:
    world = oidc_world
    assert _callback(world, oidc_provider.login(browser, _start(world), "alice")).status_code == 200
    token = world.client.cookies.get("stagewall_csrf")
    assert token
    res = world.client.post("/logout", data={"csrf": token}, follow_redirects=False)
    assert res.status_code == 303, res.text
    assert world.client.cookies.get("stagewall_csrf") is None
    assert world.client.get("/api/v1/whoami").status_code == 401
