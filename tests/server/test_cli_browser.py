"""``stagewall login --browser`` and ``stagewall mfa step-up --browser`` against a live server.

The CLI runs as a real process (its loopback listener on 127.0.0.1 and a random
port); httpx plays the browser: it follows the printed URL, signs in with a local
account through the web form (CSRF included), confirms, and is redirected to the
CLI's listener. For the step-up, a software authenticator (tests/identity/softauthn.py,
checked by the webauthn library on the server) makes a real assertion.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.identity.softauthn import SoftAuthenticator
from tests.live_server import serve
from tests.server.conftest import PASSWORD, Person, World

SRC = Path(__file__).resolve().parents[2] / "src"
RP_ID = "stagewall.example.com"
ORIGIN = "https://stagewall.example.com"


class Cli:
    """The stagewall CLI as its own process, printing a URL and waiting for the browser."""

    def __init__(self, xdg: Path, *args: str) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STAGEWALL_")}
        env.update({"PYTHONPATH": str(SRC), "XDG_CONFIG_HOME": str(xdg), "PYTHONUNBUFFERED": "1"})
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from stagewall.cli import main; main()", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def url(self) -> str:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            found = re.search(r"https?://\S+", line)
            if found:
                return found.group(0)
        raise AssertionError(f"the CLI printed no URL: {self.finish()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=30)

    def finish(self) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=60)
        return self.proc.returncode, out, err


def _field(page: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page)
    assert found, f"no field {name!r} in the page"
    return unescape(found.group(1))


@pytest.fixture
def live(world: World) -> Iterator[str]:
    with serve(world.state, run_sweeper=False) as url:
        yield url


def _post_sign_in(
    browser: httpx.Client, form_page: str, person: Person, next_url: str | None = None
) -> httpx.Response:
    """Fill in the web sign-in form of ``form_page`` as ``person`` (its CSRF included)."""
    return browser.post(
        "/login",
        data={
            "principal": person.name,
            "password": PASSWORD,
            "otp": person.otp(),
            "csrf": _field(form_page, "csrf"),
            "next": next_url or _field(form_page, "next"),
        },
    )


def _web_sign_in(browser: httpx.Client, start: str, person: Person) -> httpx.Response:
    """Follow ``start`` to the sign-in form, sign in (form CSRF), land back on ``start``."""
    res = browser.get(start)
    assert res.status_code == 200 and "/login" in str(res.url), res.text
    res = _post_sign_in(browser, res.text, person)
    assert res.status_code == 200, res.text
    return res


def test_login_browser_with_a_local_account(world: World, live: str, tmp_path: Path) -> None:
    alice = world.onboard("alice")
    cli = Cli(tmp_path / "xdg", "login", "--browser", "--no-open", "--server", live)
    try:
        url = cli.url()
        assert url.startswith(f"{live}/cli/login?")
        query = parse_qs(urlsplit(url).query)
        assert query["code_challenge_method"] == ["S256"]
        assert urlsplit(query["redirect_uri"][0]).hostname == "127.0.0.1"
        with httpx.Client(base_url=live, follow_redirects=True) as browser:
            page = _web_sign_in(browser, url, alice)
            assert "Sign in a terminal" in page.text and "alice" in page.text
            assert (
                urlsplit(query["redirect_uri"][0]).netloc in page.headers["content-security-policy"]
            )
            # Without the session's CSRF token the confirmation is refused.
            form = {
                k: _field(page.text, k)
                for k in ("redirect_uri", "state", "code_challenge", "code_challenge_method")
            }
            bad = browser.post("/cli/login", data={**form, "csrf": "forged"})
            assert bad.status_code == 403
            done = browser.post("/cli/login", data={**form, "csrf": _field(page.text, "csrf")})
            assert done.status_code == 200 and "return to the terminal" in done.text
            assert str(done.url).startswith(query["redirect_uri"][0])
        code, out, err = cli.finish()
    finally:
        cli.stop()
    assert code == 0, err
    assert "logged in to" in out and "as alice (local)" in out
    creds = json.loads((tmp_path / "xdg" / "stagewall" / "credentials.json").read_text())
    token = creds["servers"][live]["token"]
    assert oct((tmp_path / "xdg" / "stagewall" / "credentials.json").stat().st_mode)[-3:] == "600"
    who = httpx.get(f"{live}/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    assert who.json()["principal"] == "alice" and who.json()["method"] == "local"
    approved = [e for e in world.events() if e.code == "identity.browser_login.approved"]
    assert approved and approved[-1].actor == "alice"


def _code_from(world: World, live: str, alice: Person, tmp: Path) -> tuple[str, dict[str, Any]]:
    """Drive a sign-in up to the redirect, without letting the CLI redeem: (code, query)."""
    from stagewall.identity.handoff import s256

    verifier = "v" * 43
    redirect = "http://127.0.0.1:9/callback"
    params = {
        "redirect_uri": redirect,
        "state": "s" * 20,
        "code_challenge": s256(verifier),
        "code_challenge_method": "S256",
    }
    with httpx.Client(base_url=live, follow_redirects=False) as browser:
        start = str(httpx.URL(f"{live}/cli/login", params=params))
        res = browser.get(start)
        login = browser.get(res.headers["location"])
        res = _post_sign_in(browser, login.text, alice)
        page = browser.get(res.headers["location"])
        res = browser.post("/cli/login", data={**params, "csrf": _field(page.text, "csrf")})
        assert res.status_code == 303, res.text
        got = parse_qs(urlsplit(res.headers["location"]).query)
    return got["code"][0], {"verifier": verifier, "redirect_uri": redirect}


def _redeem(live: str, code: str, verifier: str, redirect_uri: str) -> httpx.Response:
    body = {"code": code, "code_verifier": verifier, "redirect_uri": redirect_uri}
    return httpx.post(f"{live}/api/v1/cli/token", json=body)


def test_a_code_needs_its_verifier_and_works_once(world: World, live: str, tmp_path: Path) -> None:
    alice = world.onboard("alice")
    code, facts = _code_from(world, live, alice, tmp_path)
    wrong = _redeem(live, code, "w" * 43, facts["redirect_uri"])
    assert wrong.status_code == 401 and wrong.json()["code"] == "SW926"
    # The failed attempt spent it: even the right verifier is refused now.
    assert _redeem(live, code, facts["verifier"], facts["redirect_uri"]).status_code == 401
    # Another redirect URI than the one the browser was sent to is refused too.
    code, facts = _code_from(world, live, alice, tmp_path)
    other = _redeem(live, code, facts["verifier"], "http://127.0.0.1:10/callback")
    assert other.status_code == 401
    code, facts = _code_from(world, live, alice, tmp_path)
    ok = _redeem(live, code, facts["verifier"], facts["redirect_uri"])
    assert ok.status_code == 200, ok.text
    assert ok.json()["principal"] == "alice" and ok.json()["method"] == "local"
    assert _redeem(live, code, facts["verifier"], facts["redirect_uri"]).status_code == 401


@pytest.mark.parametrize(
    "redirect",
    [
        "https://evil.example/callback",
        "http://localhost:5000/callback",
        "http://127.0.0.1/callback",
        "http://127.0.0.1:5000/callback?x=1",
        "http://user@127.0.0.1:5000/callback",
    ],
)
def test_only_a_loopback_listener_may_receive_a_code(
    world: World, live: str, redirect: str
) -> None:
    from stagewall.identity.handoff import s256

    bob = world.onboard("bob")
    with httpx.Client(base_url=live) as browser:
        bob_token = bob.login()
        browser.cookies.set("stagewall_session", bob_token)
        res = browser.get(
            "/cli/login",
            params={
                "redirect_uri": redirect,
                "state": "s" * 20,
                "code_challenge": s256("v" * 43),
                "code_challenge_method": "S256",
            },
        )
    assert res.status_code == 400 and "loopback" in unescape(res.text)


# ---- step-up --------------------------------------------------------------------------


def _challenge(options: dict[str, Any]) -> bytes:
    text = str(options["challenge"])
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@contextmanager
def _browser_session(live: str, person: Person) -> Iterator[tuple[httpx.Client, str]]:
    """A browser signed in to the web UI as ``person``; its CSRF token."""
    with httpx.Client(base_url=live, follow_redirects=True) as browser:
        yield browser, _sign_in(browser, person)


def _sign_in(browser: httpx.Client, person: Person) -> str:
    login = browser.get("/login")
    res = _post_sign_in(browser, login.text, person, "/security")
    assert res.status_code == 200, res.text
    csrf = re.search(r'name="stagewall-csrf" content="([^"]+)"', res.text)
    assert csrf
    return csrf.group(1)


def _register_passkey(person: Person, auth: SoftAuthenticator) -> None:
    person.login()  # first: a code older than the login's own would count as reused
    res = person.post("/api/v1/mfa/webauthn/registration/options", {"otp": person.otp()})
    assert res.status_code == 200, res.text
    made = auth.register(challenge=_challenge(res.json()), rp_id=RP_ID, origin=ORIGIN)
    res = person.post(
        "/api/v1/mfa/webauthn/registration", {"credential": json.loads(made), "name": "key"}
    )
    assert res.status_code == 201, res.text


def _confirm(browser: httpx.Client, csrf: str, url: str, auth: SoftAuthenticator) -> httpx.Response:
    page = browser.get(url)
    assert page.status_code == 200, page.text
    options = browser.post(
        "/api/v1/mfa/webauthn/assertion/options", headers={"X-CSRF-Token": csrf}
    ).json()
    answer = auth.assert_(challenge=_challenge(options), rp_id=RP_ID, origin=ORIGIN)
    return browser.post(
        "/cli/step-up",
        data={
            "csrf": _field(page.text, "csrf"),
            "request": _field(page.text, "request"),
            "webauthn": answer,
            "otp": "",
        },
    )


def _wait_for_url(cli: Cli) -> str:
    url = cli.url()
    assert "/cli/step-up?request=swu_" in url
    return url


def test_step_up_browser_opens_the_window_on_the_cli_session(
    world: World, live: str, tmp_path: Path
) -> None:
    alice, bob = world.onboard("alice"), world.onboard("bob")
    world.settle()  # bob approves: invited a day ago, out of the invitation quarantine
    key = SoftAuthenticator()
    _register_passkey(bob, key)
    # Bob's terminal: a personal token, saved where the CLI reads it.
    from stagewall.cli import _client

    xdg = Path(os.environ["XDG_CONFIG_HOME"])  # this test's own (tests/conftest.py)
    _client.save_login(live, bob.login(), "bob", "2099-01-01T00:00:00Z")
    terminal = {"Authorization": f"Bearer {bob.token}"}

    rid = alice.post(
        "/api/v1/access/requests", {"role": "prod-read", "duration": "1h", "reason": "INC-9"}
    ).json()["request"]
    # Without a factor or window, the terminal may not approve.
    res = httpx.post(f"{live}/api/v1/access/requests/{rid}/reviews", json={"approve": True},
                     headers=terminal)  # fmt: skip
    assert res.status_code == 403 and res.json()["code"] == "SW721"

    cli = Cli(xdg, "mfa", "step-up", "--browser", "--no-open", "--server", live)
    try:
        url = _wait_for_url(cli)
        with _browser_session(live, bob) as (browser, csrf):
            done = _confirm(browser, csrf, url, key)
            assert done.status_code == 200, done.text
            assert "Step-up confirmed" in done.text
        code, out, err = cli.finish()
    finally:
        cli.stop()
    assert code == 0, err
    assert "step-up window open until" in out

    # The terminal's session now holds the ordinary window: it approves without a factor.
    res = httpx.post(f"{live}/api/v1/access/requests/{rid}/reviews", json={"approve": True},
                     headers=terminal)  # fmt: skip
    assert res.status_code == 200, res.text
    event = [e for e in world.events() if e.code == "access.review.recorded"][-1]
    authn = json.loads(event.raw)["actor"]["authn"]
    assert authn["step_up"]["window"] is True and authn["step_up"]["factor"] == "webauthn"
    confirmed = [e for e in world.events() if e.code == "identity.browser_step_up.confirmed"]
    assert confirmed and confirmed[-1].details["session"] == bob_session(world, bob)


def bob_session(world: World, bob: Person) -> str:
    res = world.client.get("/api/v1/whoami", headers=bob.headers())
    return str(res.json()["session"])


def test_step_up_is_refused_for_another_principal_and_works_once(
    world: World, live: str, tmp_path: Path
) -> None:
    alice, bob = world.onboard("alice"), world.onboard("bob")
    alice_key, bob_key = SoftAuthenticator(), SoftAuthenticator()
    _register_passkey(alice, alice_key)
    _register_passkey(bob, bob_key)
    terminal = {"Authorization": f"Bearer {bob.login()}"}
    made = httpx.post(f"{live}/api/v1/step-up/browser", headers=terminal).json()
    url = made["path"]

    # Alice, signed in in her browser, cannot confirm Bob's terminal with her passkey.
    with _browser_session(live, alice) as (browser, csrf):
        page = browser.get(url)
        assert page.status_code == 403 and "nobody steps up for another" in unescape(page.text)
        res = browser.post(
            "/cli/step-up",
            data={"csrf": csrf, "request": parse_qs(urlsplit(url).query)["request"][0],
                  "webauthn": "{}"},
        )  # fmt: skip
        assert res.status_code == 403
    status = httpx.get(f"{live}/api/v1/step-up/browser/{made['request']}", headers=terminal)
    assert status.json()["status"] == "pending"

    # Another session of Bob cannot read (or use) this terminal's request.
    other = {"Authorization": f"Bearer {bob.login()}"}
    res = httpx.get(f"{live}/api/v1/step-up/browser/{made['request']}", headers=other)
    assert res.status_code == 400

    with _browser_session(live, bob) as (browser, csrf):
        assert _confirm(browser, csrf, url, bob_key).status_code == 200
        again = browser.get(url)
        assert again.status_code == 403 and "already confirmed" in unescape(again.text)
    status = httpx.get(f"{live}/api/v1/step-up/browser/{made['request']}", headers=terminal)
    assert status.json()["status"] == "confirmed" and status.json()["window_until"]
    # The window is the terminal's, not the other session's.
    rid = alice.post(
        "/api/v1/access/requests", {"role": "prod-read", "duration": "1h", "reason": "INC-10"}
    ).json()["request"]
    res = httpx.post(f"{live}/api/v1/access/requests/{rid}/reviews", json={"approve": True},
                     headers=other)  # fmt: skip
    assert res.status_code == 403


def test_login_browser_fails_at_once_when_the_server_cannot_be_reached(tmp_path: Path) -> None:
    """A mistyped or stopped server is a clear error (exit 2), not five minutes of waiting
    for a browser sign-in that can never happen; no URL is printed, nothing is saved."""
    cli = Cli(tmp_path, "login", "--browser", "--no-open", "--server", "http://127.0.0.1:1")
    try:
        code, out, err = cli.finish()
    finally:
        cli.stop()
    assert code == 2, (out, err)
    assert "cannot reach the stagewall server at http://127.0.0.1:1" in err
    assert "Traceback" not in err and "/cli/login" not in out
    assert not any(tmp_path.rglob("*.json"))
