"""Red team (store insider): a registration event without the key's digest vouched for any key.

A passkey counts only when the newest event about it is its ``identity.webauthn.registered``
for that principal, and that event's ``public_key_sha256`` matches the row; but an event
without the digest (every passkey registered before the digest was recorded) let any
credential and key pass. Whoever can write the store (the audit table takes inserts)
appended such an event for bob's passkey, put their own authenticator's credential and
key in bob's row, and approved as bob. A passkey whose registration records no digest is
now refused until it is registered again (SW949), with what to do; a failed check is
recorded.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update

from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.identity._tables import identity_webauthn_credentials as creds
from tests.identity.softauthn import SoftAuthenticator
from tests.server.conftest import Person, World
from tests.server.test_passkeys import _assertion, _register, _request, _review
from tests.server.test_passkeys import trio as trio


def _registered_without_digest(world: World, principal: str, passkey: str) -> None:
    AuditLog(world.state.ctx.store).append(
        AuditEvent(
            "identity.webauthn.registered",
            Status.SUCCESS,
            principal,
            f"{principal} registered a passkey",
            resource=f"principal:{principal}",
            details={"passkey": passkey, "name": "key"},
        )
    )


def test_a_key_swapped_under_a_digestless_registration_approves_nothing(
    world: World, trio: dict[str, Person]
) -> None:
    alice, bob, carol = trio["alice"], trio["bob"], trio["carol"]
    bobs = _register(bob, SoftAuthenticator(), "bob's key")
    insider_key = SoftAuthenticator()
    mine = _register(carol, insider_key, "carol's key")
    store = world.state.ctx.store
    with store.transaction() as conn:
        row = conn.execute(select(creds).where(creds.c.id == mine["id"])).one()
        conn.execute(delete(creds).where(creds.c.id == mine["id"]))
        conn.execute(
            update(creds)
            .where(creds.c.id == bobs["id"])
            .values(credential_id=row.credential_id, public_key=row.public_key, sign_count=0)
        )
    _registered_without_digest(world, "bob", bobs["id"])
    rid = _request(alice)
    res = _review(bob, rid, webauthn=_assertion(bob, insider_key))
    assert res.status_code == 403, res.text
    assert res.json()["code"] == "SW949", res.json()
    assert "register it again" in res.json()["detail"]
    assert not [
        e for e in world.events() if e.code == "access.review.recorded" and rid in e.resource
    ]
    failed = [e for e in world.events() if e.code == "identity.webauthn.assertion"][-1]
    assert failed.status is Status.FAILURE


def test_a_passkey_registered_again_counts(world: World, trio: dict[str, Person]) -> None:
    # what the refusal tells the person to do: register it again (with the one-time code)
    alice, bob = trio["alice"], trio["bob"]
    key = SoftAuthenticator()
    got = _register(bob, key, "old")
    _registered_without_digest(world, "bob", got["id"])  # as if from before the digest
    assert _review(bob, _request(alice), webauthn=_assertion(bob, key)).json()["code"] == "SW949"
    again = SoftAuthenticator()
    _register(bob, again, "new")
    assert _review(bob, _request(alice), webauthn=_assertion(bob, again)).status_code == 200
