"""Gaps in the trust boundary found by a red-team review, each closed and kept closed.

Every test plays an attacker with a real account on a real server (the ``world``
fixture) and talks to it over HTTP only.
"""

from __future__ import annotations

from datetime import timedelta

from stagewall.identity import passkeys
from tests.identity.softauthn import SoftAuthenticator
from tests.server.conftest import PASSWORD, Person, World
from tests.server.test_passkeys import ORIGIN, RP_ID, _challenge


def test_an_offboarded_vendors_people_lose_their_logins(
    world: World, people: dict[str, Person]
) -> None:
    carol, dana = people["carol"], people["dana"]
    assert dana.get("/api/v1/whoami").status_code == 200
    res = carol.post("/api/v1/vendors/devshop/offboard", {"otp": carol.otp()})
    assert res.status_code == 200, res.text
    # The token dana held before is dead, on this and every other instance (the store
    # says so), and she cannot sign in again to get a new one.
    res = dana.get("/api/v1/whoami")
    assert res.status_code == 401, res.text
    res = world.client.post(
        "/api/v1/session", json={"principal": "dana", "password": PASSWORD, "otp": dana.otp()}
    )
    assert res.status_code == 401, res.text
    assert "offboarded" in res.json()["detail"]
    # A token minted behind the offboarding's back (a race, a row written by hand) is
    # refused as well: the check is made on every request, not only at offboarding.
    from stagewall.identity.actor import LoginMethod
    from stagewall.identity.tokens import TokenKind, issue_token

    late = issue_token(
        world.state.ctx.store,
        "dana",
        kind=TokenKind.API,
        method=LoginMethod.LOCAL,
        now=world.clock(),
    )
    res = world.client.get("/api/v1/promotions", headers={"Authorization": f"Bearer {late.secret}"})
    assert res.status_code == 401, res.text
    assert "offboarded" in res.json()["detail"]
    # Someone of another vendor is not affected.
    assert people["audrey"].get("/api/v1/whoami").status_code == 200


def _passkey_only(world: World, principal: str) -> None:
    """``principal`` signed in through OIDC once and registered a passkey, nothing else."""
    state = world.state
    options = passkeys.registration_options(
        state.ctx.store, state.settings, principal, session_id="t_oidc", now=world.clock()
    )
    import json

    challenge = _challenge(json.loads(options))
    response = SoftAuthenticator().register(challenge=challenge, rp_id=RP_ID, origin=ORIGIN)
    passkeys.register(
        state.ctx.store,
        state.settings,
        principal,
        json.loads(response),
        name="laptop",
        session_id="t_oidc",
        now=world.clock(),
    )


def test_an_invitation_never_adds_a_factor_next_to_an_existing_one(world: World) -> None:
    """An admin who invites a passkey-only approver must not become that approver."""
    import pytest

    from stagewall.errors import StagewallError
    from stagewall.identity import accounts

    carol = world.onboard("carol")  # the admin
    carol.login()
    # bob has never had a local account: he signs in with OIDC and a passkey.
    _passkey_only(world, "bob")
    res = carol.post("/api/v1/invitations", {"principal": "bob", "otp": carol.otp()})
    assert res.status_code in (403, 409), res.text
    assert "already has a second factor" in res.json()["detail"]
    # An invitation created before the passkey cannot be accepted after it either.
    store, estate = world.state.ctx.store, world.state.estate
    token = _invitation_before_factor(world, "bob")
    with pytest.raises(StagewallError, match="already has a second factor"):
        accounts.accept_invitation(
            store, estate, token, PASSWORD, now=world.clock(), home=str(world.home)
        )
    # bob's factors are bob's alone: nothing was enrolled for him.
    from stagewall import mfa

    assert not mfa.is_enrolled(store, "bob")
    res = world.client.post(
        "/api/v1/session", json={"principal": "bob", "password": PASSWORD, "otp": "000000"}
    )
    assert res.status_code == 401


def _invitation_before_factor(world: World, principal: str) -> str:
    """An invitation row for ``principal`` as if created before its factor existed."""
    from sqlalchemy import insert

    from stagewall.identity._codes import digest, fmt, new_id, new_secret
    from stagewall.identity._tables import identity_invitations

    token = new_secret("swi_")
    with world.state.ctx.store.transaction() as conn:
        conn.execute(
            insert(identity_invitations).values(
                id=new_id("i"),
                token_hash=digest(token),
                principal=principal,
                created_by="carol",
                created_at=fmt(world.clock()),
                expires_at=fmt(world.clock() + timedelta(hours=1)),
            )
        )
    return token
