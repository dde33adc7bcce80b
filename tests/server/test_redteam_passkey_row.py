"""Red team (store insider): a passkey row the log did not register is no factor.

A passkey row holds only a public key. An insider with the store's credentials moved
their own registered authenticator onto bob (or inserted a row for one), then approved
a production request as bob with it: the assertion verified against the row's key and
the approval counted. Every passkey must now be the one the log's
``identity.webauthn.registered`` event for that principal names, not removed or reset
since (SW971, HTTP 403).
"""

from __future__ import annotations

from sqlalchemy import update

from stagewall.identity._tables import identity_webauthn_credentials
from tests.identity.softauthn import SoftAuthenticator
from tests.server.conftest import Person, World
from tests.server.test_passkeys import _assertion, _register, _request, _review
from tests.server.test_passkeys import trio as trio


def test_a_passkey_moved_to_another_principal_in_the_store_approves_nothing(
    world: World, trio: dict[str, Person]
) -> None:
    alice, bob, carol = trio["alice"], trio["bob"], trio["carol"]
    insider_key = SoftAuthenticator()
    mine = _register(carol, insider_key, "carol's key")
    with world.state.ctx.store.transaction() as conn:
        conn.execute(
            update(identity_webauthn_credentials)
            .where(identity_webauthn_credentials.c.id == mine["id"])
            .values(principal="bob")
        )
    rid = _request(alice)
    res = _review(bob, rid, webauthn=_assertion(bob, insider_key))
    assert res.status_code == 403, res.text
    assert res.json()["code"] == "SW971"
    assert "no registration of it for bob" in res.json()["detail"]
    assert not [
        e for e in world.events() if e.code == "access.review.recorded" and rid in e.resource
    ]


def test_a_removed_passkey_put_back_is_refused(world: World, trio: dict[str, Person]) -> None:
    alice, bob = trio["alice"], trio["bob"]
    key, other = SoftAuthenticator(), SoftAuthenticator()
    got = _register(bob, key, "old")
    _register(bob, other, "new")
    with world.state.ctx.store.read() as conn:
        kept = dict(
            conn.execute(
                identity_webauthn_credentials.select().where(
                    identity_webauthn_credentials.c.id == got["id"]
                )
            )
            .one()
            ._mapping
        )
    # bob removes the old key (with the new one), as the API lets him
    removal = {"json": {"webauthn": _assertion(bob, other)}, "headers": bob.headers()}
    url = f"/api/v1/mfa/webauthn/credentials/{got['id']}"
    assert world.client.request("DELETE", url, **removal).status_code == 204
    with world.state.ctx.store.transaction() as conn:
        conn.execute(identity_webauthn_credentials.insert().values(**kept))
    res = _review(bob, _request(alice), webauthn=_assertion(bob, key, bump=5))
    assert res.status_code == 403 and res.json()["code"] == "SW971", res.text
    assert "was removed" in res.json()["detail"]
    # bob's genuine passkey still approves
    res = _review(bob, _request(alice), webauthn=_assertion(bob, other, bump=5))
    assert res.status_code == 200, res.text
