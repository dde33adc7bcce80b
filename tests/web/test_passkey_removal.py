"""Removing a passkey from /security: step-up, CSRF, only one's own, never the last factor."""

from __future__ import annotations

import base64
import html
import json
from typing import Any

from stagewall.mfa._tables import mfa_enrolments
from tests.identity.softauthn import SoftAuthenticator
from tests.server.conftest import Person, World
from tests.web.conftest import Browser

RP_ID = "stagewall.example.com"
ORIGIN = "https://stagewall.example.com"


def _challenge(options: dict[str, Any]) -> bytes:
    text = str(options["challenge"])
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _register(person: Person, auth: SoftAuthenticator, name: str) -> str:
    res = person.post("/api/v1/mfa/webauthn/registration/options", {"otp": person.otp()})
    assert res.status_code == 200, res.text
    response = auth.register(challenge=_challenge(res.json()), rp_id=RP_ID, origin=ORIGIN)
    res = person.post(
        "/api/v1/mfa/webauthn/registration", {"credential": json.loads(response), "name": name}
    )
    assert res.status_code == 201, res.text
    return str(res.json()["id"])


def _assertion(b: Browser, auth: SoftAuthenticator) -> str:
    """What the page's script sends: an assertion over a challenge bound to this session."""
    res = b.client.post(
        "/api/v1/mfa/webauthn/assertion/options", json={}, headers={"X-CSRF-Token": b.csrf}
    )
    assert res.status_code == 200, res.text
    return str(auth.assert_(challenge=_challenge(res.json()), rp_id=RP_ID, origin=ORIGIN))


def _browser(world: World, person: Person) -> Browser:
    b = Browser(world, person)
    b.sign_in()
    return b


def _removals(world: World, status: str) -> list[Any]:
    return [
        e
        for e in world.events()
        if e.code == "identity.webauthn.removed" and e.status.value == status
    ]


def test_remove_a_passkey_with_step_up_but_never_the_last_factor(
    world: World, people: dict[str, Person]
) -> None:
    first, second = SoftAuthenticator(), SoftAuthenticator()
    one = _register(people["bob"], first, "laptop")
    two = _register(people["bob"], second, "yubikey")
    bob = _browser(world, people["bob"])
    page = bob.get("/security").text
    assert f'action="/security/passkeys/{one}/remove"' in page and "yubikey" in page
    # without the form's CSRF token, or without a step-up: nothing is removed
    assert bob.post(f"/security/passkeys/{one}/remove", {}, csrf=False).status_code == 403
    res = bob.post(f"/security/passkeys/{one}/remove", {})
    assert res.status_code == 403 and "step-up" in html.unescape(res.text)
    # another person cannot remove bob's passkey (refused and recorded)
    carol = _browser(world, people["carol"])
    res = carol.post(f"/security/passkeys/{one}/remove", {"otp": people["carol"].otp()})
    assert res.status_code == 400 and f"you have no passkey '{one}'" in html.unescape(res.text)
    assert [e.actor for e in _removals(world, "Failure")] == ["carol"]
    assert "Remove laptop" in bob.get("/security").text
    # with a passkey as the step-up: removed, and recorded
    res = bob.post(f"/security/passkeys/{one}/remove", {"webauthn": _assertion(bob, second)})
    assert res.status_code == 200, res.text
    assert "Passkey removed." in res.text and "Remove laptop" not in res.text
    (done,) = _removals(world, "Success")
    assert done.actor == "bob" and done.details["passkey"] == one
    # with TOTP gone, the last passkey is bob's only factor: refused, and the page says why
    with world.state.ctx.store.transaction() as conn:
        conn.execute(mfa_enrolments.delete().where(mfa_enrolments.c.principal == "bob"))
    res = bob.post(f"/security/passkeys/{two}/remove", {"webauthn": _assertion(bob, second)})
    assert res.status_code == 403
    assert "this is your only second factor" in html.unescape(res.text)
    assert "Remove yubikey" in bob.get("/security").text
    assert len(_removals(world, "Failure")) == 2
