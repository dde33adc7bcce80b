"""Red team: signing out is an act on the record, like signing in.

``identity.logout`` (OCSF Authentication 3002, Logoff) was declared but never written:
``DELETE /api/v1/session`` and the web's ``POST /logout`` revoked the token with no
event, so the log could not say when a session ended (an investigation asks "was
bob's terminal still signed in at 02:14?"), and ending a session was the one state
change of the identity API that left no trace.
"""

from __future__ import annotations

import re
from typing import Any

from tests.server.conftest import PASSWORD, Person, World


def web_sign_in(world: World, person: Person) -> Any:
    """``person`` fills in the web's sign-in form (with its CSRF token); the answer."""
    page = world.client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert csrf, page.text
    form = {"principal": person.name, "password": PASSWORD, "otp": person.otp()}
    return world.client.post("/login", data={**form, "csrf": csrf.group(1)}, follow_redirects=False)


def _logouts(world: World) -> list[Any]:
    return [e for e in world.events() if e.code == "identity.logout"]


def test_an_api_logout_is_recorded_with_its_session(
    world: World, people: dict[str, Person]
) -> None:
    alice = people["alice"]
    session = alice.get("/api/v1/whoami").json()["session"]
    assert _logouts(world) == []
    res = world.client.delete(
        "/api/v1/session", headers={**alice.headers(), "user-agent": "stagewall-cli/1"}
    )
    assert res.status_code == 204, res.text
    assert alice.get("/api/v1/whoami").status_code == 401
    (ev,) = _logouts(world)
    assert ev.actor == "alice" and ev.status.value == "Success"
    assert ev.details["session"] == session and ev.details["method"] == "local"
    # a token that is already dead signs out nothing and records nothing more
    res = world.client.delete("/api/v1/session", headers=alice.headers())
    assert res.status_code == 401
    assert len(_logouts(world)) == 1


def test_a_web_logout_is_recorded(world: World, people: dict[str, Person]) -> None:
    res = web_sign_in(world, people["bob"])
    assert res.status_code == 303, res.text
    inbox = world.client.get("/")
    token = re.search(r'name="csrf" value="([^"]+)"', inbox.text)
    assert token, inbox.text
    res = world.client.post("/logout", data={"csrf": token.group(1)}, follow_redirects=False)
    assert res.status_code == 303
    (ev,) = _logouts(world)
    assert ev.actor == "bob" and ev.details["method"] == "local"
    assert world.client.get("/", follow_redirects=False).status_code == 303  # to /login
