"""Passkeys (WebAuthn) and the step-up window through the server, with a software authenticator.

Each person talks to the server over HTTP with their own token and their own
authenticator (tests/identity/softauthn.py builds exactly what a browser posts).
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest

from tests.identity.softauthn import SoftAuthenticator
from tests.server.conftest import Person, World

RP_ID = "stagewall.example.com"
ORIGIN = "https://stagewall.example.com"


def _challenge(options: dict[str, Any]) -> bytes:
    text = str(options["challenge"])
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _register(person: Person, auth: SoftAuthenticator, name: str = "key") -> dict[str, Any]:
    res = person.post("/api/v1/mfa/webauthn/registration/options", {"otp": person.otp()})
    assert res.status_code == 200, res.text
    options = res.json()
    assert options["rp"]["id"] == RP_ID
    assert options["authenticatorSelection"]["userVerification"] == "required"
    response = auth.register(challenge=_challenge(options), rp_id=RP_ID, origin=ORIGIN)
    res = person.post(
        "/api/v1/mfa/webauthn/registration", {"credential": json.loads(response), "name": name}
    )
    assert res.status_code == 201, res.text
    return dict(res.json())


def _assertion(person: Person, auth: SoftAuthenticator, **kw: Any) -> dict[str, Any]:
    res = person.post("/api/v1/mfa/webauthn/assertion/options")
    assert res.status_code == 200, res.text
    options = res.json()
    return dict(
        json.loads(auth.assert_(challenge=_challenge(options), rp_id=RP_ID, origin=ORIGIN, **kw))
    )


def _request(p: Person, role: str = "prod-read") -> str:
    res = p.post("/api/v1/access/requests", {"role": role, "duration": "1h", "reason": "INC-7"})
    assert res.status_code == 201, res.text
    return str(res.json()["request"])


def _review(p: Person, rid: str, **factor: Any) -> Any:
    return p.post(f"/api/v1/access/requests/{rid}/reviews", {"approve": True, **factor})


def _authn(world: World, code: str) -> dict[str, Any]:
    event = [e for e in world.events() if e.code == code][-1]
    return dict(json.loads(event.raw)["actor"]["authn"])


@pytest.fixture
def trio(world: World) -> dict[str, Person]:
    for name in ("alice", "bob", "carol"):
        world.onboard(name)
    world.settle()  # invited a day ago: out of the invitation quarantine
    for person in world.people.values():
        person.login()
    return world.people


def test_register_then_approve_with_a_passkey(world: World, trio: dict[str, Person]) -> None:
    alice, bob = trio["alice"], trio["bob"]
    bob_key = SoftAuthenticator()
    got = _register(bob, bob_key, "bob's key")
    assert got["name"] == "bob's key" and got["sign_count"] == 0
    listed = bob.get("/api/v1/mfa/webauthn/credentials").json()
    assert [k["id"] for k in listed] == [got["id"]]
    assert "public_key" not in listed[0]
    # The options list bob's passkey and no other.
    opts = bob.post("/api/v1/mfa/webauthn/assertion/options").json()
    assert opts["userVerification"] == "required"
    assert [c["id"] for c in opts["allowCredentials"]] == [
        base64.urlsafe_b64encode(bob_key.credential_id).rstrip(b"=").decode()
    ]
    rid = _request(alice)
    res = _review(bob, rid, webauthn=_assertion(bob, bob_key))
    assert res.status_code == 200, res.text
    assert res.json()["outcome"] == "approved"
    step = _authn(world, "access.review.recorded")["step_up"]
    assert step["method"] == "webauthn" and step["factor"] == "webauthn"
    assert step["window"] is False and step["age_s"] == 0


def test_a_replayed_assertion_is_refused(world: World, trio: dict[str, Person]) -> None:
    alice, bob = trio["alice"], trio["bob"]
    key = SoftAuthenticator()
    _register(bob, key)
    assertion = _assertion(bob, key)
    res = _review(bob, _request(alice), webauthn=assertion)
    assert res.status_code == 200, res.text
    res = _review(bob, _request(alice), webauthn=assertion)
    assert res.status_code == 403
    assert res.json()["code"] == "SW841"
    assert "no open challenge" in res.json()["detail"]


def test_an_assertion_for_one_login_is_worthless_to_another(
    world: World, trio: dict[str, Person]
) -> None:
    alice, bob = trio["alice"], trio["bob"]
    key = SoftAuthenticator()
    _register(bob, key)
    assertion = _assertion(bob, key)  # challenge bound to bob's current token
    bob.token = None
    bob.login()  # a second token of the same person
    res = _review(bob, _request(alice), webauthn=assertion)
    assert res.status_code == 403 and res.json()["code"] == "SW841"


def test_another_principals_passkey_is_refused(world: World, trio: dict[str, Person]) -> None:
    alice, bob, carol = trio["alice"], trio["bob"], trio["carol"]
    bob_key, carol_key = SoftAuthenticator(), SoftAuthenticator()
    _register(bob, bob_key)
    _register(carol, carol_key)
    rid = _request(alice)
    # Carol's authenticator signs bob's challenge: the credential is not bob's.
    res = _review(bob, rid, webauthn=_assertion(bob, carol_key))
    assert res.status_code == 403 and "not registered to you" in res.json()["detail"]
    # Carol's own assertion (her challenge, her key) handed to bob: not bob's challenge.
    res = _review(bob, rid, webauthn=_assertion(carol, carol_key))
    assert res.status_code == 403 and res.json()["code"] == "SW841"
    # Nothing was approved, and the failures are in the log under bob.
    assert not [e for e in world.events() if e.code == "access.review.recorded"]
    fails = [e for e in world.events() if e.code == "identity.webauthn.assertion"]
    assert [e.actor for e in fails if e.status.value == "Failure"] == ["bob", "bob"]


def test_a_sign_count_that_goes_backwards_is_refused(world: World, trio: dict[str, Person]) -> None:
    alice, bob = trio["alice"], trio["bob"]
    key = SoftAuthenticator()
    _register(bob, key)
    assert _review(bob, _request(alice), webauthn=_assertion(bob, key, bump=5)).status_code == 200
    key.counter = 2  # a clone of the authenticator, made before the last use
    res = _review(bob, _request(alice), webauthn=_assertion(bob, key))
    assert res.status_code == 403
    assert res.json()["code"] == "SW842"
    assert "cloned" in res.json()["detail"]
    alerts = [a for a in world.alerts() if a["kind"] == "identity.passkey.cloned"]
    assert len(alerts) == 1 and "'bob'" in alerts[0]["text"]


def test_the_step_up_window_serves_a_batch_then_expires(
    world: World, trio: dict[str, Person]
) -> None:
    alice, bob = trio["alice"], trio["bob"]
    first, second, third = _request(alice), _request(alice), _request(alice)
    # No factor and no window: refused, saying how to step up.
    res = _review(bob, first)
    assert res.status_code == 403
    body = res.json()
    assert body["code"] == "SW721" and "/api/v1/step-up" in body["hint"]
    res = bob.post("/api/v1/step-up", {"otp": bob.otp()})
    assert res.status_code == 200, res.text
    assert res.json()["factor"] == "totp" and res.json()["window_seconds"] == 120
    world.clock.advance(timedelta(seconds=30))
    assert _review(bob, first).status_code == 200
    step = _authn(world, "access.review.recorded")["step_up"]
    assert step == {
        "method": "window",
        "factor": "totp",
        "window": True,
        "verified_at": step["verified_at"],
        "time": step["verified_at"],
        "age_s": 30.0,
    }
    world.clock.advance(timedelta(seconds=80))
    assert _review(bob, second).status_code == 200
    world.clock.advance(timedelta(seconds=11))  # 121 s after the step-up
    res = _review(bob, third)
    assert res.status_code == 403 and res.json()["code"] == "SW721"


def test_the_window_belongs_to_one_token(world: World, trio: dict[str, Person]) -> None:
    alice, bob = trio["alice"], trio["bob"]
    assert bob.post("/api/v1/step-up", {"otp": bob.otp()}).status_code == 200
    bob.token = None
    bob.login()
    world.clock.advance(timedelta(seconds=-40))  # still inside the first token's window
    res = _review(bob, _request(alice))
    assert res.status_code == 403 and res.json()["code"] == "SW721"


def test_a_window_opened_with_a_passkey(world: World, trio: dict[str, Person]) -> None:
    alice, bob = trio["alice"], trio["bob"]
    key = SoftAuthenticator()
    _register(bob, key)
    res = bob.post("/api/v1/step-up", {"webauthn": _assertion(bob, key)})
    assert res.status_code == 200 and res.json()["factor"] == "webauthn"
    assert _review(bob, _request(alice)).status_code == 200
    step = _authn(world, "access.review.recorded")["step_up"]
    assert step["method"] == "window" and step["factor"] == "webauthn"
    opened = [e for e in world.events() if e.code == "identity.step_up"]
    assert opened and opened[-1].actor == "bob"


def test_nobody_registers_a_passkey_for_someone_else(world: World, trio: dict[str, Person]) -> None:
    bob, carol = trio["bob"], trio["carol"]
    # No route takes a principal; a body naming one is refused.
    res = carol.post(
        "/api/v1/mfa/webauthn/registration/options", {"otp": carol.otp(), "principal": "bob"}
    )
    assert res.status_code == 422
    # Bob already has TOTP: a new factor needs step-up with it (a stolen token is not enough).
    res = bob.post("/api/v1/mfa/webauthn/registration/options")
    assert res.status_code == 403 and res.json()["code"] == "SW721"
    # A registration answering carol's challenge cannot be posted on bob's login.
    res = carol.post("/api/v1/mfa/webauthn/registration/options", {"otp": carol.otp()})
    response = SoftAuthenticator().register(
        challenge=_challenge(res.json()), rp_id=RP_ID, origin=ORIGIN
    )
    res = bob.post(
        "/api/v1/mfa/webauthn/registration",
        {"credential": json.loads(response), "name": "mine now"},
    )
    assert res.status_code == 403 and res.json()["code"] == "SW843"
    assert bob.get("/api/v1/mfa/webauthn/credentials").json() == []
    assert carol.get("/api/v1/mfa/webauthn/credentials").json() == []


def test_a_registration_challenge_is_single_use_and_short_lived(
    world: World, trio: dict[str, Person]
) -> None:
    bob = trio["bob"]
    key = SoftAuthenticator()
    res = bob.post("/api/v1/mfa/webauthn/registration/options", {"otp": bob.otp()})
    challenge = _challenge(res.json())
    world.clock.advance(timedelta(minutes=6))
    response = key.register(challenge=challenge, rp_id=RP_ID, origin=ORIGIN)
    res = bob.post(
        "/api/v1/mfa/webauthn/registration", {"credential": json.loads(response), "name": "k"}
    )
    assert res.status_code == 403 and res.json()["code"] == "SW843"
    # A wrong origin is refused too (a phishing page relaying the ceremony).
    res = bob.post("/api/v1/mfa/webauthn/registration/options", {"otp": bob.otp()})
    response = key.register(
        challenge=_challenge(res.json()), rp_id=RP_ID, origin="https://stagewall.example.com.evil"
    )
    res = bob.post(
        "/api/v1/mfa/webauthn/registration", {"credential": json.loads(response), "name": "k"}
    )
    assert res.status_code == 403 and res.json()["code"] == "SW843"


def test_webauthn_fails_closed_without_a_relying_party(
    world: World, trio: dict[str, Person]
) -> None:
    bob = trio["bob"]
    text = world.config.read_text().replace(
        "  webauthn:\n    rp_id: stagewall.example.com\n"
        "    origins: [https://stagewall.example.com]\n",
        "",
    )
    world.config.write_text(text)
    res = bob.post("/api/v1/mfa/webauthn/assertion/options")
    assert res.status_code == 400 and res.json()["code"] == "SW840"
    res = bob.post("/api/v1/mfa/webauthn/registration/options", {"otp": bob.otp()})
    assert res.status_code == 400 and res.json()["code"] == "SW840"


def test_privileged_acts_accept_a_passkey_everywhere(world: World, trio: dict[str, Person]) -> None:
    """Revoke, break-glass and invitations take ``webauthn`` like reviews do."""
    alice, bob, carol = trio["alice"], trio["bob"], trio["carol"]
    bob_key, carol_key = SoftAuthenticator(), SoftAuthenticator()
    _register(bob, bob_key)
    _register(carol, carol_key)
    grant = _review(bob, _request(alice), webauthn=_assertion(bob, bob_key)).json()["grant"]
    res = bob.post(
        f"/api/v1/access/grants/{grant}/revoke",
        {"reason": "done", "webauthn": _assertion(bob, bob_key)},
    )
    assert res.status_code == 200, res.text
    assert _authn(world, "access.grant.revoked")["step_up"]["method"] == "webauthn"
    res = carol.post(
        "/api/v1/invitations", {"principal": "dana", "webauthn": _assertion(carol, carol_key)}
    )
    assert res.status_code == 200, res.text
    res = bob.post(
        "/api/v1/access/break-glass",
        {"role": "prod-read", "reason": "INC-9", "webauthn": _assertion(bob, bob_key)},
    )
    assert res.status_code == 201, res.text
    # Both factors at once is refused rather than one silently ignored.
    res = carol.post(
        "/api/v1/invitations",
        {"principal": "dana", "otp": carol.otp(), "webauthn": _assertion(carol, carol_key)},
    )
    assert res.status_code == 400 and "not both" in res.json()["detail"]


def test_a_factor_reset_removes_passkeys_and_windows(world: World, trio: dict[str, Person]) -> None:
    bob, carol = trio["bob"], trio["carol"]
    key = SoftAuthenticator()
    _register(bob, key)
    res = carol.post("/api/v1/principals/bob/mfa/reset", {"otp": carol.otp()})
    assert res.status_code == 204, res.text
    from stagewall.identity import passkeys

    assert passkeys.list_passkeys(world.state.ctx.store, "bob") == []


def test_an_enrolment_only_login_cannot_register_a_passkey(world: World) -> None:
    """A password-only login (after a factor reset) may enrol TOTP, nothing else."""
    from stagewall.identity.actor import LoginMethod
    from stagewall.identity.tokens import TokenKind, issue_token

    world.onboard("bob")
    enrol = issue_token(
        world.state.ctx.store,
        "bob",
        kind=TokenKind.ENROL,
        method=LoginMethod.LOCAL,
        now=world.clock(),
    )
    headers = {"Authorization": f"Bearer {enrol.secret}"}
    for path in (
        "/api/v1/mfa/webauthn/registration/options",
        "/api/v1/mfa/webauthn/assertion/options",
        "/api/v1/step-up",
    ):
        res = world.client.post(path, json={}, headers=headers)
        assert res.status_code == 403 and "no second factor yet" in res.json()["detail"], path


def test_totp_cannot_be_added_next_to_a_passkey_without_it(
    world: World, trio: dict[str, Person]
) -> None:
    """A passkey-only person (TOTP reset): a stolen session cannot enrol the thief's TOTP."""
    bob = trio["bob"]
    key = SoftAuthenticator()
    _register(bob, key)
    with world.state.ctx.store.transaction() as conn:
        from stagewall.mfa._tables import mfa_enrolments

        conn.execute(mfa_enrolments.delete().where(mfa_enrolments.c.principal == "bob"))
    res = bob.post("/api/v1/mfa/totp")
    assert res.status_code == 403 and res.json()["code"] == "SW721"
    res = bob.post("/api/v1/mfa/totp", {"webauthn": _assertion(bob, key)})
    assert res.status_code == 200, res.text
    assert res.json()["totp_secret"]


def test_an_owner_removes_a_passkey_with_step_up_but_not_the_last_factor(
    world: World, trio: dict[str, Person]
) -> None:
    bob, carol = trio["bob"], trio["carol"]
    first, second = SoftAuthenticator(), SoftAuthenticator()
    one = _register(bob, first, "one")["id"]
    two = _register(bob, second, "two")["id"]
    # Without step-up: refused. Someone else's passkey id: not found for them.
    res = world.client.request(
        "DELETE", f"/api/v1/mfa/webauthn/credentials/{one}", headers=bob.headers()
    )
    assert res.status_code == 403 and res.json()["code"] == "SW721"
    res = world.client.request(
        "DELETE",
        f"/api/v1/mfa/webauthn/credentials/{one}",
        json={"otp": carol.otp()},
        headers=carol.headers(),
    )
    assert res.status_code == 400 and "no passkey" in res.json()["detail"]
    res = world.client.request(
        "DELETE",
        f"/api/v1/mfa/webauthn/credentials/{one}",
        json={"webauthn": _assertion(bob, second)},
        headers=bob.headers(),
    )
    assert res.status_code == 204, res.text
    assert [k["id"] for k in bob.get("/api/v1/mfa/webauthn/credentials").json()] == [two]
    # With TOTP gone, the last passkey is bob's only factor and stays.
    with world.state.ctx.store.transaction() as conn:
        from stagewall.mfa._tables import mfa_enrolments

        conn.execute(mfa_enrolments.delete().where(mfa_enrolments.c.principal == "bob"))
    res = world.client.request(
        "DELETE",
        f"/api/v1/mfa/webauthn/credentials/{two}",
        json={"webauthn": _assertion(bob, second)},
        headers=bob.headers(),
    )
    assert res.status_code == 403 and res.json()["code"] == "SW843"
