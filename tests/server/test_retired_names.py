"""Red team: a name taken out of stagewall.yaml and declared again is a new person.

dana left devshop; her principal was removed from the estate. Months later another
"dana" joined and the name was declared again: the old password, TOTP secret and
logins were still in the store, so the old dana signed straight in as the new one.
Now the server retires the sign-in state of every principal the estate no longer
declares, at start and on every reload, with an ``identity.account.retired`` event.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from stagewall import mfa
from stagewall.server import ServerState
from tests.identity.conftest import OidcProvider
from tests.identity.conftest import browser as browser
from tests.identity.conftest import oidc_provider as oidc_provider
from tests.server.conftest import PASSWORD, Person, World
from tests.server.test_oidc_login import oidc_world as oidc_world

DANA = "  dana: {affiliation: external, vendor: devshop}\n"


def _declare_dana(world: World, declared: bool) -> None:
    text = world.config.read_text()
    if declared:
        assert DANA not in text
        text = text.replace("principals:\n", "principals:\n" + DANA, 1)
    else:
        assert DANA in text
        text = text.replace(DANA, "", 1)
        text = text.replace(", dana]", "]").replace("[dana, ", "[").replace(", dana,", ",")
    world.config.write_text(text)
    world.state.refresh()


def _login(world: World, person: Person) -> int:
    res = world.client.post(
        "/api/v1/session",
        json={"principal": person.name, "password": PASSWORD, "otp": person.otp()},
    )
    return res.status_code


def test_a_removed_name_declared_again_finds_nothing_of_the_old_person(
    world: World, people: dict[str, Person]
) -> None:
    dana = people["dana"]
    assert dana.get("/api/v1/access/grants").status_code == 200
    _declare_dana(world, False)
    [event] = [e for e in world.events() if e.code == "identity.account.retired"]
    assert event.resource == "principal:dana" and event.actor == "stagewall.yaml"
    assert event.details["account_removed"] and event.details["code_factor_removed"]
    assert event.details["logins_revoked"] >= 1
    _declare_dana(world, True)
    # the old token, password and code are worth nothing for the new dana
    assert dana.get("/api/v1/access/grants").status_code == 401
    assert _login(world, dana) == 401
    assert not mfa.is_enrolled(world.state.ctx.store, "dana")
    # others are untouched
    assert people["alice"].get("/api/v1/access/grants").status_code == 200
    assert _login(world, people["bob"]) == 200


def test_a_server_started_after_the_removal_retires_the_name(
    world: World, people: dict[str, Person]
) -> None:
    dana = people["dana"]
    text = world.config.read_text()
    world.config.write_text(
        text.replace(DANA, "", 1).replace(", dana]", "]").replace("[dana, ", "[")
    )
    # a new server process on the same store and the edited file
    again = ServerState.open(world.config, world.store_url, world.state.home)
    try:
        assert [e.resource for e in world.events() if e.code == "identity.account.retired"] == [
            "principal:dana"
        ]
        assert not mfa.is_enrolled(again.ctx.store, "dana")
        assert again.retire_undeclared() == []  # nothing left to retire
    finally:
        again.ctx.store.dispose()
    assert dana.otp()  # the person still has an authenticator, the server no secret


# --- a name declared again between two reloads the server never saw ------------------

ANOTHER_DANA = {
    # the same name, declared for someone else in one edit: the server never sees the
    # file without her, so "no longer declared" alone cannot tell
    "emails": "  dana: {affiliation: external, vendor: devshop, emails: [dana.k@devshop.test]}\n",
    "vendor": "  dana: {affiliation: external, vendor: auditfirm}\n",
    "name": "  dana: {affiliation: external, vendor: devshop, name: Dana Kowalski}\n",
}


def _redeclare_dana(world: World, line: str) -> None:
    text = world.config.read_text()
    assert DANA in text
    world.config.write_text(text.replace(DANA, line, 1))


def _retired(world: World) -> list[Any]:
    return [e for e in world.events() if e.code == "identity.account.retired"]


@pytest.mark.parametrize("attribute", sorted(ANOTHER_DANA))
def test_a_name_declared_for_another_person_in_one_edit_is_retired(
    world: World, people: dict[str, Person], attribute: str
) -> None:
    dana = people["dana"]
    assert dana.get("/api/v1/access/grants").status_code == 200
    _redeclare_dana(world, ANOTHER_DANA[attribute])
    world.state.refresh()
    [event] = _retired(world)
    assert event.resource == "principal:dana" and event.actor == "stagewall.yaml"
    assert event.details["reason"] == "identity-changed"
    assert event.details["changed"] == [attribute]
    assert event.details["account_removed"] and event.details["code_factor_removed"]
    assert dana.get("/api/v1/access/grants").status_code == 401
    assert _login(world, dana) == 401
    assert not mfa.is_enrolled(world.state.ctx.store, "dana")
    # the new dana starts from an invitation, bound to her declaration
    world.onboard("dana")
    world.state.refresh()
    assert len(_retired(world)) == 1
    assert _login(world, people["bob"]) == 200


def test_a_server_started_on_a_redeclared_name_retires_it(
    world: World, people: dict[str, Person]
) -> None:
    dana = people["dana"]
    _redeclare_dana(world, ANOTHER_DANA["emails"])
    again = ServerState.open(world.config, world.store_url, world.state.home)
    try:
        [event] = _retired(world)
        assert event.details["reason"] == "identity-changed"
        assert not mfa.is_enrolled(again.ctx.store, "dana")
    finally:
        again.ctx.store.dispose()
    assert dana.get("/api/v1/access/grants").status_code == 401


def test_changes_that_keep_the_person_retire_nothing(
    world: World, people: dict[str, Person]
) -> None:
    """Groups, roles, other identities or ``disabled`` do not make someone else; and a
    declaration written the same way with its e-mail addresses reordered or recased
    is the same person."""
    text = world.config.read_text()
    text = text.replace(
        "alice: {affiliation: internal, emails: [alice@example.com]}",
        "alice: {affiliation: internal, emails: [Alice@Example.com], "
        "identities: {github: [alice-gh]}}",
    ).replace(DANA, "  dana: {affiliation: external, vendor: devshop, disabled: true}\n")
    world.config.write_text(text.replace("members: [alice, bob, carol]", "members: [alice, bob]"))
    world.state.refresh()
    assert _retired(world) == []
    assert people["alice"].get("/api/v1/access/grants").status_code == 200
    assert _login(world, people["bob"]) == 200


def test_state_made_before_bindings_is_bound_at_the_next_start(
    world: World, people: dict[str, Person]
) -> None:
    from sqlalchemy import delete, select

    from stagewall.identity._tables import identity_bindings

    store = world.state.ctx.store
    with store.transaction() as conn:
        conn.execute(delete(identity_bindings))  # as a store migrated from before
    assert world.state.retire_undeclared() == []
    with store.read() as conn:
        rows = conn.execute(select(identity_bindings.c.principal, identity_bindings.c.how))
        bound = {str(p): str(h) for p, h in rows}
    assert bound["dana"] == "first-seen" and bound["alice"] == "first-seen"
    _redeclare_dana(world, ANOTHER_DANA["vendor"])
    world.state.refresh()
    assert [e.details["changed"] for e in _retired(world)] == [["vendor"]]


def test_an_identity_provider_login_binds_the_name_to_its_declaration(
    oidc_world: World, oidc_provider: OidcProvider, browser: httpx.Client
) -> None:
    """alice signs in only through the identity provider and registers a passkey; her
    name is then declared for someone else (another address): her session and passkey
    are retired at the reload, before anyone can use them."""
    from tests.identity.softauthn import SoftAuthenticator
    from tests.server.test_device_signed_in import ORIGIN, RP, _challenge
    from tests.server.test_oidc_login import _callback, _start

    world = oidc_world
    assert _callback(world, oidc_provider.login(browser, _start(world), "alice")).status_code == 200
    hdr = {"X-CSRF-Token": world.client.cookies.get("stagewall_csrf") or ""}
    opts = world.client.post("/api/v1/mfa/webauthn/registration/options", json={}, headers=hdr)
    reg = SoftAuthenticator().register(challenge=_challenge(opts.json()), rp_id=RP, origin=ORIGIN)
    res = world.client.post(
        "/api/v1/mfa/webauthn/registration",
        json={"credential": json.loads(reg), "name": "laptop"},
        headers=hdr,
    )
    assert res.status_code == 201, res.text
    text = world.config.read_text()
    old = "alice: {affiliation: internal, emails: [alice@example.com, alice@example.test]}"
    assert old in text
    world.config.write_text(
        text.replace(old, "alice: {affiliation: internal, emails: [a2@x.test]}")
    )
    assert world.client.get("/api/v1/whoami").status_code == 401
    [event] = _retired(world)
    assert event.resource == "principal:alice" and event.details["changed"] == ["emails"]
    assert event.details["passkeys_removed"] == 1 and event.details["logins_revoked"] == 1
