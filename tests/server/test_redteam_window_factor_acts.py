"""Red team: an open step-up window neither removes a factor nor creates an invitation.

Follows test_redteam_window_new_factor.py. Whoever held a session or token while its
120 s step-up window was open could still, with no factor, remove the person's other
passkeys (weakening their account to what the holder can use) and, on an admin's
login, invite a declared person who has no account yet (a new identity whose first
factor the holder sets). Both now need a factor sent with the request.
"""

from __future__ import annotations

from tests.identity.softauthn import SoftAuthenticator
from tests.server.conftest import Person, World
from tests.server.test_passkeys import _assertion, _register
from tests.server.test_passkeys import trio as trio


def test_a_window_does_not_remove_a_passkey(world: World, trio: dict[str, Person]) -> None:
    bob = trio["bob"]
    first, second = SoftAuthenticator(), SoftAuthenticator()
    one = _register(bob, first, "one")["id"]
    _register(bob, second, "two")
    assert bob.post("/api/v1/step-up", {"otp": bob.otp()}).status_code == 200  # the window
    path = f"/api/v1/mfa/webauthn/credentials/{one}"
    res = world.client.request("DELETE", path, headers=bob.headers())
    assert res.status_code == 403, res.text
    assert res.json()["code"] == "SW721" and "step-up window is not enough" in res.json()["detail"]
    assert len(bob.get("/api/v1/mfa/webauthn/credentials").json()) == 2  # nothing removed
    res = world.client.request(
        "DELETE", path, json={"webauthn": _assertion(bob, second)}, headers=bob.headers()
    )
    assert res.status_code == 204, res.text


def test_a_window_does_not_remove_a_passkey_on_the_security_page(
    world: World, trio: dict[str, Person]
) -> None:
    bob = trio["bob"]
    one = _register(bob, SoftAuthenticator(), "one")["id"]
    _register(bob, SoftAuthenticator(), "two")
    assert bob.post("/api/v1/step-up", {"otp": bob.otp()}).status_code == 200
    res = world.client.post(
        f"/security/passkeys/{one}/remove",
        data={"action": "remove"},
        headers={**bob.headers(), "Origin": world.state.settings.public_url.rstrip("/")},
    )
    assert "step-up window is not enough" in res.text, res.text
    assert len(bob.get("/api/v1/mfa/webauthn/credentials").json()) == 2


def test_a_window_does_not_create_an_invitation(world: World, trio: dict[str, Person]) -> None:
    carol = trio["carol"]  # the admin; dana is declared and has no account yet
    assert carol.post("/api/v1/step-up", {"otp": carol.otp()}).status_code == 200
    res = carol.post("/api/v1/invitations", {"principal": "dana"})
    assert res.status_code == 403, res.text
    assert res.json()["code"] == "SW721" and "step-up window is not enough" in res.json()["detail"]
    res = carol.post("/api/v1/invitations", {"principal": "dana", "otp": carol.otp()})
    assert res.status_code == 200, res.text
