"""Red team: responses that carry secrets are never stored by a cache; HTTPS is pinned.

Production passwords (credentials), login tokens, TOTP secrets and invitation tokens
travel in API response bodies. RFC 6749 (5.1) and RFC 9111 ask for
``Cache-Control: no-store`` on such responses, so that no browser disk cache, shared
proxy or CDN in front of the server keeps a copy. Only the web pages had it.
A server whose ``public_url`` is https also sends ``Strict-Transport-Security``, so a
browser that has seen it once never again sends its session cookie over plain HTTP
to an attacker downgrading the connection.
"""

from __future__ import annotations

from typing import Any

from tests.server.conftest import PASSWORD, Person, World
from tests.server.test_flows import _request


def _no_store(res: Any) -> None:
    assert "no-store" in res.headers.get("cache-control", ""), (
        res.request.url,
        dict(res.headers),
    )


def test_a_login_token_and_a_totp_secret_are_never_cacheable(world: World) -> None:
    token = world.invite("alice")
    res = world.client.post(
        "/api/v1/invitations/accept", json={"token": token, "password": PASSWORD}
    )
    assert res.status_code == 200 and res.json()["totp_secret"], res.text
    _no_store(res)
    alice = Person(world, "alice", res.json()["totp_secret"])
    res = world.client.post(
        "/api/v1/invitations/confirm", json={"token": token, "otp": alice.otp()}
    )
    assert res.status_code == 200, res.text
    res = world.client.post(
        "/api/v1/session", json={"principal": "alice", "password": PASSWORD, "otp": alice.otp()}
    )
    assert res.status_code == 200 and res.json()["token"], res.text
    _no_store(res)
    # reads of the log and of people's grants are not cached either
    alice.token = res.json()["token"]
    _no_store(alice.get("/api/v1/whoami"))
    _no_store(alice.get("/api/v1/access/grants"))
    # errors too (a refusal can name a principal or a grant)
    _no_store(world.client.get("/api/v1/whoami"))
    # an admin's new invitation (its token makes an account)
    carol = world.onboard("carol")
    world.settle()
    carol.login()
    res = carol.post("/api/v1/invitations", {"principal": "bob", "otp": carol.otp()})
    assert res.status_code == 200 and res.json()["token"], res.text
    _no_store(res)


def test_production_credentials_are_never_cacheable(
    world: World, people: dict[str, Person]
) -> None:
    alice, bob = people["alice"], people["bob"]
    rid = _request(alice)
    res = bob.post(f"/api/v1/access/requests/{rid}/reviews", {"approve": True, "otp": bob.otp()})
    assert res.status_code == 200, res.text
    gid = res.json()["grant"]
    res = alice.post(f"/api/v1/access/grants/{gid}/credentials", {"otp": alice.otp()})
    assert res.status_code == 200 and res.json()[0]["password"], res.text
    _no_store(res)


def test_static_files_stay_cacheable(world: World) -> None:
    res = world.client.get("/static/app.css")
    assert res.status_code == 200
    assert "no-store" not in res.headers.get("cache-control", "")


def _public_url(world: World, url: str) -> None:
    text = world.config.read_text()
    text = text.replace("server:\n", f"server:\n  public_url: {url}\n", 1)
    world.config.write_text(text)
    world.state.refresh()
    assert world.state.settings.public_url == url


def test_an_https_server_pins_https(world: World) -> None:
    assert "strict-transport-security" not in world.client.get("/healthz").headers
    _public_url(world, "https://stagewall.example.com")
    for path in ("/healthz", "/login", "/api/v1/whoami"):
        res = world.client.get(path)
        hsts = res.headers.get("strict-transport-security", "")
        assert "max-age=31536000" in hsts, (path, dict(res.headers))
