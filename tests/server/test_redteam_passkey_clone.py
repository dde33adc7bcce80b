"""Red team: a passkey caught with a signature counter going backwards stays unusable.

The counter regression (a cloned authenticator, W3C WebAuthn §6.1.1) used to refuse
one assertion and raise one alert — and the very next assertion with a counter above
the stored one passed, so a clone that jumps its counter ahead kept approving (and the
genuine key, now behind, was the one refused). Now the passkey is suspended at the
first regression: every later assertion by it is refused, whatever its counter, until
someone else resets the person's factors. The suspended key still counts as a factor,
so its holder cannot enrol a new one with the password alone.
"""

from __future__ import annotations

from stagewall.identity import passkeys
from tests.identity.softauthn import SoftAuthenticator
from tests.server.conftest import Person, World
from tests.server.test_passkeys import _assertion, _register, _request, _review
from tests.server.test_passkeys import trio as trio


def test_a_clone_that_jumps_its_counter_ahead_is_refused_after_the_regression(
    world: World, trio: dict[str, Person]
) -> None:
    alice, bob = trio["alice"], trio["bob"]
    key = SoftAuthenticator()
    _register(bob, key)
    assert _review(bob, _request(alice), webauthn=_assertion(bob, key, bump=5)).status_code == 200
    key.counter = 2  # a clone, made before the last use
    res = _review(bob, _request(alice), webauthn=_assertion(bob, key))
    assert res.status_code == 403 and res.json()["code"] == "SW842"
    # The clone jumps ahead of the stored counter: still refused.
    key.counter = 1000
    rid = _request(alice)
    res = _review(bob, rid, webauthn=_assertion(bob, key))
    assert res.status_code == 403, res.text
    assert "suspended" in res.json()["detail"]
    assert not [
        e for e in world.events() if e.code == "access.review.recorded" and rid in e.resource
    ]
    listed = bob.get("/api/v1/mfa/webauthn/credentials").json()
    assert listed[0]["suspended_at"]
    # It stays on record as bob's factor (no first-factor-only enrolment next to it), and
    # it opens no step-up window either.
    assert passkeys.has_passkey(world.state.ctx.store, "bob")
    res = bob.post("/api/v1/step-up", {"webauthn": _assertion(bob, key)})
    assert res.status_code == 403 and "suspended" in res.json()["detail"]
    # Another person resets bob's factors: the suspended key goes (and bob's logins).
    carol = trio["carol"]
    res = carol.post("/api/v1/principals/bob/mfa/reset", {"otp": carol.otp()})
    assert res.status_code in (200, 204), res.text
    assert not passkeys.has_passkey(world.state.ctx.store, "bob")
