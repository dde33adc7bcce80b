"""Red team: an open step-up window does not add a second factor.

A step-up window (``POST /api/v1/step-up``, 120 s) lets a person decide a batch of
requests with one factor. Adding a factor used to accept it too: whoever held the
session or token while a window was open (a stolen CLI token right after the person
ran ``stagewall mfa step-up``, a session ridden in a browser) registered their own
passkey or authenticator app without any factor — and with it stepped up, approved
terminal logins and renewed their access for good. Adding a factor now needs a factor
sent with the request, as approving a terminal login does.
"""

from __future__ import annotations

import json

from tests.identity.softauthn import SoftAuthenticator
from tests.server.conftest import Person, World
from tests.server.test_passkeys import ORIGIN, RP_ID, _assertion, _challenge, _register
from tests.server.test_passkeys import trio as trio


def test_a_window_does_not_register_a_passkey(world: World, trio: dict[str, Person]) -> None:
    bob = trio["bob"]
    assert bob.post("/api/v1/step-up", {"otp": bob.otp()}).status_code == 200  # the window
    # Someone holding bob's token now: options with no factor in the request.
    res = bob.post("/api/v1/mfa/webauthn/registration/options", {})
    assert res.status_code == 403, res.text
    assert res.json()["code"] == "SW721" and "step-up window is not enough" in res.json()["detail"]
    # With a factor sent along, bob registers one.
    res = bob.post("/api/v1/mfa/webauthn/registration/options", {"otp": bob.otp()})
    assert res.status_code == 200, res.text
    attacker = SoftAuthenticator()
    response = attacker.register(challenge=_challenge(res.json()), rp_id=RP_ID, origin=ORIGIN)
    res = bob.post(
        "/api/v1/mfa/webauthn/registration", {"credential": json.loads(response), "name": "k"}
    )
    assert res.status_code == 201, res.text


def test_a_window_does_not_enrol_an_authenticator_app(
    world: World, trio: dict[str, Person]
) -> None:
    from sqlalchemy import delete

    from stagewall.mfa._tables import mfa_enrolments

    carol = trio["carol"]
    key = SoftAuthenticator()
    _register(carol, key)
    with world.state.ctx.store.transaction() as conn:  # carol keeps only her passkey
        conn.execute(delete(mfa_enrolments).where(mfa_enrolments.c.principal == "carol"))
    res = carol.post("/api/v1/step-up", {"webauthn": _assertion(carol, key)})
    assert res.status_code == 200, res.text
    res = carol.post("/api/v1/mfa/totp", {})
    assert res.status_code == 403, res.text
    assert res.json()["code"] == "SW721" and "step-up window is not enough" in res.json()["detail"]
    res = carol.post("/api/v1/mfa/totp", {"webauthn": _assertion(carol, key)})
    assert res.status_code == 200, res.text
