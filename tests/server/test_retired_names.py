"""Red team: a name taken out of stagewall.yaml and declared again is a new person.

dana left devshop; her principal was removed from the estate. Months later another
"dana" joined and the name was declared again: the old password, TOTP secret and
logins were still in the store, so the old dana signed straight in as the new one.
Now the server retires the sign-in state of every principal the estate no longer
declares, at start and on every reload, with an ``identity.account.retired`` event.
"""

from __future__ import annotations

from stagewall import mfa
from stagewall.server import ServerState
from tests.server.conftest import PASSWORD, Person, World

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
