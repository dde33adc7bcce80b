"""What the web UI's red team (test_redteam_web.py) left open, each closed with the
attempt that got through before."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from stagewall.web._render import CSP
from tests.server.conftest import Person, World
from tests.web.conftest import Browser, field, open_invitation

SECRET = "postgresql://admin:hunter2@db.internal/prod"


def _browser(world: World, person: Person) -> Browser:
    b = Browser(world, person)
    b.sign_in()
    return b


def _headers_of_a_page(res) -> None:  # type: ignore[no-untyped-def]
    assert res.headers.get("content-security-policy") == CSP, res.headers
    assert "frame-ancestors 'none'" in res.headers["content-security-policy"]
    assert res.headers.get("x-content-type-options") == "nosniff"
    assert res.headers.get("referrer-policy") == "no-referrer"
    assert res.headers.get("x-frame-options") == "DENY"
    assert res.headers.get("cache-control") == "no-store"


def test_an_unhandled_error_is_a_fixed_answer_with_the_security_headers(world: World) -> None:
    """A defect's 500 was Starlette's plain-text page, sent from outside every middleware:
    no CSP, no nosniff, no Referrer-Policy, cacheable. It is now a fixed problem (API) or
    the error page (pages), with every header a page has and nothing of the exception."""

    def broken() -> None:
        raise RuntimeError(SECRET)

    world.app.add_api_route("/api/v1/broken", broken, name="broken")
    world.app.add_api_route("/broken", broken, name="web.broken")
    client = TestClient(world.app, raise_server_exceptions=False)
    api = client.get("/api/v1/broken")
    assert api.status_code == 500
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["code"] == "SW956" and api.json()["status"] == 500
    page = client.get("/broken")
    assert page.status_code == 500 and page.headers["content-type"].startswith("text/html")
    assert "SW956" in page.text
    for res in (api, page):
        _headers_of_a_page(res)
        assert "hunter2" not in res.text and "RuntimeError" not in res.text


def test_routing_errors_carry_the_headers_and_a_browser_gets_the_error_page(
    world: World,
) -> None:
    """404 and 405 from routing: the page's headers on every one (a missing static file's
    404 too), the HTML error page for a browser, the problem for the API."""
    client = TestClient(world.app)
    html = {"accept": "text/html,application/xhtml+xml"}
    page = client.get("/no-such-page", headers=html)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    wrong = client.delete("/login", headers=html)
    assert wrong.status_code == 405 and wrong.headers["content-type"].startswith("text/html")
    api = client.get("/api/v1/no-such-thing", headers=html)
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
    static = client.get("/static/no-such-file.css")
    assert static.status_code == 404
    for res in (page, wrong, api, static):
        _headers_of_a_page(res)


def _still_works(world: World, cookie: str) -> bool:
    c = TestClient(world.app)
    c.cookies.set("stagewall_session", cookie)
    return c.get("/api/v1/whoami").status_code == 200


def test_signing_in_again_ends_the_browsers_previous_session(
    world: World, people: dict[str, Person]
) -> None:
    """Signing in on a browser that had a session left that session live in the store:
    its cookie (copied, or fixed there by someone else) kept working."""
    b = _browser(world, people["alice"])
    old = b.client.cookies["stagewall_session"]
    assert _still_works(world, old)
    b.person = people["bob"]
    b.sign_in()
    assert b.client.cookies["stagewall_session"] != old
    assert not _still_works(world, old)
    assert _still_works(world, b.client.cookies["stagewall_session"])
    ended = [e for e in world.events() if e.code == "identity.logout" and e.actor == "alice"]
    assert ended and "signed in again" in ended[-1].message


def test_completing_an_invitation_ends_the_browsers_previous_session(world: World) -> None:
    bob = world.onboard("bob")
    b = _browser(world, bob)
    old = b.client.cookies["stagewall_session"]
    token = world.invite("carol")
    page, secret = open_invitation(b, token)
    carol = Person(world, "carol", secret)
    res = b.client.post(
        "/invite/confirm",
        data={"token": token, "otp": carol.otp(), "csrf": field(page.text, "csrf")},
    )
    assert res.status_code == 200, res.text
    assert not _still_works(world, old)
    assert "stagewall_session" not in b.client.cookies


def _menu(page: str, name: str) -> set[str]:
    m = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert m, f"no {name} menu"
    return set(re.findall(r'<option value="([^"]+)"', m.group(1)))


def test_an_external_sees_only_reachable_names_in_the_filter_menus(
    world: World, people: dict[str, Person]
) -> None:
    """The role and environment menus of /requests and /grants listed all of
    stagewall.yaml to an external developer, production included."""
    dana = _browser(world, people["dana"])
    for path in ("/requests", "/grants"):
        page = dana.get(path)
        assert page.status_code == 200, page.text
        assert _menu(page.text, "role") == {"staging-write"}, path
        assert _menu(page.text, "environment") == {"staging"}, path
        # Naming an environment does not tell whether it exists.
        for env in ("production", "nowhere"):
            res = dana.get(path, params={"environment": env})
            assert res.status_code == 200 and "production" not in _menu(res.text, "environment")
    # Internal people and auditors still see every name.
    for who in ("alice", "audrey"):
        page = _browser(world, people[who]).get("/requests").text
        assert {"prod-read", "staging-write"} <= _menu(page, "role")
        assert _menu(page, "environment") == {"production", "staging"}
        res = _browser(world, people[who]).get("/grants", params={"environment": "nowhere"})
        assert res.status_code == 400 and "nowhere" in res.text
