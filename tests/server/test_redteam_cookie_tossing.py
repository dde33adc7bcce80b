"""Red team: a sibling subdomain cannot plant its session in a person's browser.

Over https the session cookie was ``stagewall_session``: any host under the same
registrable domain (``wiki.example.com``, a preview deployment, a compromised
marketing site) may set ``stagewall_session=...; Domain=example.com``, and the browser
sends it to ``stagewall.example.com``. A person who is not signed in then works, without
noticing, in the attacker's session (login CSRF by cookie tossing): what they register
(a passkey), request or type ends up in the attacker's account. The ``__Host-`` prefix
(RFC 6265bis 4.1.3.2) makes browsers accept the cookie only from the host itself, with
``Secure``, ``Path=/`` and no ``Domain``; the server reads that name only.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from stagewall.server import create_app
from tests.server.conftest import PASSWORD, Person, World

HOST = "https://stagewall.example.com"


def _https(world: World) -> TestClient:
    text = world.config.read_text()
    world.config.write_text(text.replace("server:\n", f"server:\n  public_url: {HOST}\n", 1))
    world.state.refresh()
    app = create_app(world.state, run_sweeper=False)
    return TestClient(app, base_url=HOST)


def _sign_in(client: TestClient, person: Person) -> str:
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, page.text
    form = {"principal": person.name, "password": PASSWORD, "otp": person.otp()}
    res = client.post("/login", data={**form, "csrf": csrf.group(1)}, follow_redirects=False)
    assert res.status_code == 303, res.text
    (cookie,) = [c for c in res.headers.get_list("set-cookie") if "stagewall_session=" in c]
    return cookie


def test_over_https_the_session_cookie_is_host_only(
    world: World, people: dict[str, Person]
) -> None:
    client = _https(world)
    try:
        cookie = _sign_in(client, people["alice"])
        name, _, rest = cookie.partition("=")
        assert name == "__Host-stagewall_session", cookie
        attrs = [a.strip().lower() for a in rest.split(";")[1:]]
        assert "secure" in attrs and "httponly" in attrs and "samesite=strict" in attrs
        assert "path=/" in attrs and not any(a.startswith("domain") for a in attrs)
        assert client.get("/api/v1/whoami").json()["principal"] == "alice"
        # signing out clears it (same name, Secure, so that browsers accept the deletion)
        inbox = client.get("/")
        token = re.search(r'name="csrf" value="([^"]+)"', inbox.text)
        assert token
        res = client.post("/logout", data={"csrf": token.group(1)}, follow_redirects=False)
        gone = [c for c in res.headers.get_list("set-cookie") if "stagewall_session=" in c]
        assert (
            gone and gone[0].startswith("__Host-stagewall_session=") and "secure" in gone[0].lower()
        )
    finally:
        client.close()


def test_a_tossed_session_cookie_is_ignored(world: World, people: dict[str, Person]) -> None:
    client = _https(world)
    try:
        # the attacker signs in with their own account and keeps the cookie's value
        attacker = TestClient(client.app, base_url=HOST)
        value = _sign_in(attacker, people["dana"]).split(";")[0].partition("=")[2]
        attacker.close()
        # ... and a sibling subdomain sets it, under the old name, in the victim's browser
        client.cookies.set("stagewall_session", value, domain="stagewall.example.com")
        res = client.get("/", follow_redirects=False)
        assert res.status_code == 303 and res.headers["location"].startswith("/login")
        assert client.get("/api/v1/whoami").status_code == 401
    finally:
        client.close()


def test_over_plain_http_the_name_stays(world: World, people: dict[str, Person]) -> None:
    """``__Host-`` needs Secure; a loopback or development server keeps the plain name."""
    cookie = _sign_in(world.client, people["alice"])
    assert cookie.startswith("stagewall_session=")
