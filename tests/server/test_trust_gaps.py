"""Gaps in the trust boundary found by a red-team review, each closed and kept closed.

Every test plays an attacker with a real account on a real server (the ``world``
fixture) and talks to it over HTTP only.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

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

    carol = world.onboard("carol")  # the admin, invited more than a day ago
    world.settle()
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

    from stagewall.identity._codes import fmt, new_id, new_secret
    from stagewall.identity._codeseal import INVITATION, Sealer
    from stagewall.identity._tables import identity_invitations

    token = new_secret("swi_")
    store = world.state.ctx.store
    sealer = Sealer(store)  # made by the server (it holds the key), only earlier
    values = {
        "id": new_id("i"),
        "token_hash": sealer.lookup(INVITATION, token),
        "principal": principal,
        "created_by": "carol",
        "created_at": fmt(world.clock()),
        "expires_at": fmt(world.clock() + timedelta(hours=1)),
    }
    with store.transaction() as conn:
        conn.execute(
            insert(identity_invitations).values(
                **values, row_mac=sealer.seal(INVITATION, values.values())
            )
        )
    return token


def _reset_and_reenrol(world: World, people: dict[str, Person], victim: str, by: str) -> Person:
    """``by`` resets ``victim``'s factor; ``victim`` (or whoever has the password) re-enrols."""
    res = people[by].post(f"/api/v1/principals/{victim}/mfa/reset", {"otp": people[by].otp()})
    assert res.status_code == 204, res.text
    res = world.client.post("/api/v1/session", json={"principal": victim, "password": PASSWORD})
    assert res.status_code == 200 and res.json()["enrol_only"] is True
    res = world.client.post(
        "/api/v1/mfa/totp", headers={"Authorization": f"Bearer {res.json()['token']}"}
    )
    assert res.status_code == 200, res.text
    p = people[victim]
    p.secret, p.token, p._last_step = res.json()["totp_secret"], None, -1
    p.login()
    return p


def test_a_reset_principal_cannot_break_glass_or_sign_off_for_24_hours(
    world: World, people: dict[str, Person]
) -> None:
    """The quarantine after a factor reset covers every act that approves access."""
    alice = people["alice"]
    # alice breaks glass before anything happens: her follow-up waits for a reviewer.
    res = alice.post(
        "/api/v1/access/break-glass", {"role": "prod-read", "reason": "INC-9", "otp": alice.otp()}
    )
    assert res.status_code == 201, res.text
    follow_up = res.json()["follow_up"]
    bob = _reset_and_reenrol(world, people, "bob", by="carol")
    # Whoever took over bob's factor cannot take production at once ...
    res = bob.post(
        "/api/v1/access/break-glass", {"role": "prod-read", "reason": "INC-9", "otp": bob.otp()}
    )
    assert res.status_code == 403, res.text
    assert "may approve nothing until" in res.json()["detail"]
    # ... nor sign off someone's break-glass ...
    res = bob.post(f"/api/v1/access/follow-ups/{follow_up}", {"note": "ok", "otp": bob.otp()})
    assert res.status_code == 403, res.text
    assert "may approve nothing until" in res.json()["detail"]
    # ... nor keep someone's access in a review campaign.
    res = people["carol"].post("/api/v1/reviews", {"name": "Q4", "due": "2099-12-31"})
    assert res.status_code == 201, res.text
    report = people["carol"].get(f"/api/v1/reviews/{res.json()['id']}").json()
    items: list[dict[str, Any]] = [i for i in report["items"] if i["principal"] == "alice"]
    assert items, report
    res = bob.post(
        f"/api/v1/review-items/{items[0]['id']}/decision", {"keep": True, "otp": bob.otp()}
    )
    assert res.status_code == 403, res.text
    assert "may approve nothing until" in res.json()["detail"]
    # A day later bob is trusted again.
    world.clock.advance(timedelta(hours=24, minutes=1))
    bob.token = None  # his login of yesterday has expired
    bob.login()
    res = bob.post(f"/api/v1/access/follow-ups/{follow_up}", {"note": "ok", "otp": bob.otp()})
    assert res.status_code == 200, res.text


def _cli_as(world: World, person: Person, tmp_path: Any, *args: str) -> Any:
    """``stagewall ARGS`` on ``person``'s machine: their token, a live server, no store."""
    from tests.cli_helpers import run_cli
    from tests.live_server import serve

    with serve(world.state, run_sweeper=False) as url:
        env = {
            "STAGEWALL_SERVER": url,
            "STAGEWALL_TOKEN": person.token or "",
            "STAGEWALL_HOME": str(tmp_path / "empty-home"),
            "STAGEWALL_DB": "",
        }
        return run_cli(*args, env=env)


def test_audit_tail_shows_control_characters_escaped(
    world: World, people: dict[str, Person], tmp_path: Any
) -> None:
    """A reason with a newline or a terminal escape cannot forge or hide a line of the log."""
    alice = people["alice"]
    forged = "99 2026-01-01T00:00:00Z Success access.followup.completed carol: reviewed"
    reason = f"INC-9\n{forged}\x1b[1A\x1b[2K\r\x9b2K"
    res = alice.post(
        "/api/v1/access/break-glass", {"role": "prod-read", "reason": reason, "otp": alice.otp()}
    )
    assert res.status_code == 201, res.text
    tail = _cli_as(world, people["audrey"], tmp_path, "audit", "tail", "-n", "4")
    assert tail.exit_code == 0, tail.stderr
    lines = tail.stdout.strip("\n").split("\n")
    assert len(lines) == 4, tail.stdout
    assert not any(line.startswith(forged) for line in lines), tail.stdout
    assert not any(ch in tail.stdout for ch in "\x1b\r\x9b"), repr(tail.stdout)
    # The break-glass line shows what was written, escaped, not dropped.
    [line] = [x for x in lines if "BREAK-GLASS" in x]
    assert "INC-9\\n99 2026-01-01" in line and "\\x1b[1A" in line, line


def test_a_reset_admin_neither_invites_nor_resets_for_24_hours(world: World) -> None:
    """Taking over an admin through a reset must not yield fresh, unquarantined identities."""
    people = {name: world.onboard(name) for name in ("alice", "bob", "carol")}
    world.settle()  # invited a day ago: bob, who resets carol, is out of his own quarantine
    for p in people.values():
        p.login()
    carol = _reset_and_reenrol(world, people, "carol", by="bob")
    # dana has no account and no factor yet: an invitation would be a new identity.
    res = carol.post("/api/v1/invitations", {"principal": "dana", "otp": carol.otp()})
    assert res.status_code == 403, res.text
    assert "may approve nothing until" in res.json()["detail"]
    res = carol.post("/api/v1/principals/alice/mfa/reset", {"otp": carol.otp()})
    assert res.status_code == 403, res.text
    assert "may approve nothing until" in res.json()["detail"]
    assert people["alice"].get("/api/v1/whoami").status_code == 200


def test_access_pending_shows_a_requesters_reason_on_one_line(
    world: World, people: dict[str, Person], tmp_path: Any
) -> None:
    """A requester cannot dress a production request up as another on the approver's screen."""
    alice = people["alice"]
    disguise = "db\rrXXXX alice asks for staging-write (non-production) for 1h: flaky tests"
    res = alice.post(
        "/api/v1/access/requests", {"role": "prod-read", "duration": "1h", "reason": disguise}
    )
    assert res.status_code == 201, res.text
    got = _cli_as(world, people["bob"], tmp_path, "access", "pending")
    assert got.exit_code == 0, got.stderr
    [line] = got.stdout.strip("\n").split("\n")
    assert "\r" not in got.stdout, repr(got.stdout)
    assert "prod-read (PRODUCTION)" in line and ": db\\rrXXXX alice asks" in line, line


def test_an_offboarded_vendors_person_cannot_sign_in_to_the_web_ui(
    world: World, people: dict[str, Person]
) -> None:
    from tests.web.conftest import field

    carol, dana = people["carol"], people["dana"]
    res = carol.post("/api/v1/vendors/devshop/offboard", {"otp": carol.otp()})
    assert res.status_code == 200, res.text
    page = world.client.get("/login")
    res = world.client.post(
        "/login",
        data={
            "principal": "dana",
            "password": PASSWORD,
            "otp": dana.otp(),
            "csrf": field(page.text, "csrf"),
            "next": "/",
        },
        follow_redirects=False,
    )
    assert res.status_code == 401, res.text
    assert "offboarded" in res.text
    assert "stagewall_session" not in res.headers.get("set-cookie", "")


def test_the_cli_sends_no_token_in_clear_text_to_another_host(tmp_path: Any) -> None:
    """`http://` is for a server on this machine; elsewhere a token, a password or a
    one-time code would cross the network readable by anyone on the path."""
    from tests.cli_helpers import run_cli

    env = {
        "STAGEWALL_TOKEN": "swt_" + "x" * 43,
        "STAGEWALL_HOME": str(tmp_path / "home"),
        "STAGEWALL_DB": "",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    for url in ("http://stagewall.example.com", "http://10.1.2.3:8443", "http://[2001:db8::1]"):
        got = run_cli("access", "grants", "--server", url, env=env)
        assert got.exit_code == 2, (url, got.stdout, got.stderr)
        assert "https://" in got.stderr and "loopback" in got.stderr, got.stderr


def test_a_factor_reset_that_fails_half_way_changes_nothing(
    world: World, people: dict[str, Person]
) -> None:
    """Factor removal, quarantine, revocation and audit are one transaction."""
    import pytest
    from sqlalchemy import event

    from stagewall import mfa
    from stagewall.identity import accounts

    bob, carol = people["bob"], people["carol"]
    store = world.state.ctx.store
    resets_before = [e for e in world.events() if e.code == "mfa.reset"]

    class Crash(Exception):
        pass

    def crash_on_revocation(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # The store dies as the reset's last write (revoking bob's logins) is sent.
        if statement.lstrip().upper().startswith("UPDATE IDENTITY_TOKENS"):
            raise Crash("the store went away")

    event.listen(store.engine, "before_cursor_execute", crash_on_revocation)
    try:
        with pytest.raises(Crash):
            carol.post("/api/v1/principals/bob/mfa/reset", {"otp": carol.otp()})
    finally:
        event.remove(store.engine, "before_cursor_execute", crash_on_revocation)
    # Nothing happened: bob keeps his factor and his login, is not quarantined, and the
    # audit log records no reset that did not take place.
    assert mfa.is_enrolled(store, "bob")
    assert accounts.factor_reset_problem(store, "bob", world.clock()) is None
    assert bob.get("/api/v1/whoami").status_code == 200
    assert [e for e in world.events() if e.code == "mfa.reset"] == resets_before
    # Done again without the crash, all of it happens at once.
    res = carol.post("/api/v1/principals/bob/mfa/reset", {"otp": carol.otp()})
    assert res.status_code == 204, res.text
    assert not mfa.is_enrolled(store, "bob")
    assert accounts.factor_reset_problem(store, "bob", world.clock()) is not None
    assert bob.get("/api/v1/whoami").status_code == 401


def test_an_admin_who_accepts_an_invitation_for_someone_else_approves_nothing(
    world: World,
) -> None:
    """An invitation is a first factor whoever holds the link can enrol: a day's quarantine."""
    alice, carol = world.onboard("alice"), world.onboard("carol")  # carol is the admin
    # The host's links (made by the operator, who holds the store and every key) start
    # no quarantine: a new installation's first people act at once.
    carol.login()
    alice.login()
    res = alice.post(
        "/api/v1/access/requests", {"role": "prod-read", "duration": "1h", "reason": "INC-7"}
    )
    assert res.status_code == 201, res.text
    rid = res.json()["request"]
    # bob has no factor yet. carol invites him and opens the link herself.
    res = carol.post("/api/v1/invitations", {"principal": "bob", "otp": carol.otp()})
    assert res.status_code == 200, res.text
    token = res.json()["token"]
    res = world.client.post(
        "/api/v1/invitations/accept", json={"token": token, "password": PASSWORD}
    )
    assert res.status_code == 200, res.text
    # The other admins and the alert channel learn of it at once, with who made the link.
    alerts = [
        a
        for a in world.alerts()
        if a["kind"] == "identity.invitation.accepted" and a["details"]["principal"] == "bob"
    ]
    assert len(alerts) == 1, world.alerts()
    assert alerts[0]["severity"] == "critical"
    assert alerts[0]["details"]["invited_by"] == "carol"
    fake_bob = Person(world, "bob", res.json()["totp_secret"])
    res = world.client.post(
        "/api/v1/invitations/confirm", json={"token": token, "otp": fake_bob.otp()}
    )
    assert res.status_code == 200, res.text
    fake_bob.login()
    # As bob, carol can approve nothing: not alice's request, not break-glass, no reset.
    refusals = [
        fake_bob.post(
            f"/api/v1/access/requests/{rid}/reviews", {"approve": True, "otp": fake_bob.otp()}
        ),
        fake_bob.post(
            "/api/v1/access/break-glass",
            {"role": "prod-read", "reason": "INC-7", "otp": fake_bob.otp()},
        ),
        fake_bob.post("/api/v1/principals/alice/mfa/reset", {"otp": fake_bob.otp()}),
    ]
    for res in refusals:
        assert res.status_code == 403, res.text
        assert "through an invitation and may approve nothing until" in res.json()["detail"]
    assert any(e.code == "identity.invitation.accepted" for e in world.events())
    # The quarantine ends after a day (the time the real bob and the other admins had).
    world.clock.advance(timedelta(hours=24, minutes=1))
    fake_bob.token = alice.token = None
    fake_bob.login()
    res = alice.post(
        "/api/v1/access/requests", {"role": "prod-read", "duration": "1h", "reason": "INC-8"}
    )
    assert res.status_code == 201, res.text
    res = fake_bob.post(
        f"/api/v1/access/requests/{res.json()['request']}/reviews",
        {"approve": True, "otp": fake_bob.otp()},
    )
    assert res.status_code == 200, res.text


def test_the_host_operators_name_cannot_be_a_principal() -> None:
    # the host's invitations (created_by server-operator) start no quarantine: a
    # principal of that name would have its API invitations pass for the host's
    import pydantic

    from stagewall.estate.models import Estate

    with pytest.raises(pydantic.ValidationError, match="reserved"):
        Estate.model_validate(
            {
                "environments": {"prod": {"tier": "production"}},
                "principals": {"server-operator": {"affiliation": "internal"}},
            }
        )
