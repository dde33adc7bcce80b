"""Red team (store insider): a one-time code row written or edited in the store is no
invitation, no device login, no browser hand-off and no OIDC login.

Login tokens were keyed and sealed (tokenbind), but invitation links, device codes
(RFC 8628), ``login --browser`` codes, step-up requests and started OIDC logins were
still found by a plain SHA-256 of the code, and their rows believed. Someone who can
write the control-plane store inserted a row for a code they chose and opened an
invitation as a person who had no account yet, had a device code "approved" for alice
and polled a token for her, or redeemed a ``login --browser`` code as alice; edited an
invitation to be another person's or to last a year, or a device code's approval to
name another principal. Each row is now keyed with the server's ``token.key`` (a plain
SHA-256 row is refused, SW941) and sealed (an edited row is refused, SW942).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Table, insert, inspect, select, update

from stagewall import mfa
from stagewall.identity import device, handoff, oidc_login
from stagewall.identity._codes import fmt
from stagewall.identity._tables import (
    identity_accounts,
    identity_cli_handoffs,
    identity_device_codes,
    identity_invitations,
    identity_oidc_logins,
)
from stagewall.identity.actor import LoginMethod
from stagewall.store import Store
from tests.server.conftest import PASSWORD, World

_GUESS = "0" * 64  # the insider's best row_mac: no key, no MAC


def _sha(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def _insert(store: Store, table: Table, row: dict[str, Any]) -> None:
    """The insider's INSERT (with a guessed row_mac where the table has the column)."""
    if "row_mac" in {c["name"] for c in inspect(store.engine).get_columns(table.name)}:
        row = {**row, "row_mac": _GUESS}
    with store.transaction() as conn:
        conn.execute(insert(table).values(**row))


def _edit(store: Store, table: Table, row_id: str, **values: Any) -> None:
    with store.transaction() as conn:
        assert conn.execute(update(table).where(table.c.id == row_id).values(**values)).rowcount


def _has_account(world: World, principal: str) -> bool:
    store = world.state.ctx.store
    with store.read() as conn:
        row = conn.execute(
            select(identity_accounts).where(identity_accounts.c.principal == principal)
        ).first()
    return row is not None or mfa.is_enrolled(store, principal)


def _accept(world: World, token: str) -> Any:
    return world.client.post(
        "/api/v1/invitations/accept", json={"token": token, "password": PASSWORD}
    )


def _refused(res: Any, status: int, code: str) -> dict[str, Any]:
    body: dict[str, Any] = res.json()
    assert (res.status_code, body.get("code")) == (status, code), body
    assert "totp_secret" not in body and "access_token" not in body and "token" not in body
    return body


# -- invitations ------------------------------------------------------------------


def test_an_invitation_row_with_the_plain_sha256_of_a_chosen_link_is_refused(
    world: World,
) -> None:
    chosen = "swi_" + secrets.token_urlsafe(32)
    now = world.clock()
    _insert(
        world.state.ctx.store,
        identity_invitations,
        {
            "id": "i" + secrets.token_hex(6),
            "token_hash": _sha(chosen),
            "principal": "bob",
            "created_by": "carol",
            "created_at": fmt(now),
            "expires_at": fmt(now + timedelta(hours=24)),
        },
    )
    body = _refused(_accept(world, chosen), 401, "SW941")
    assert "not made by this server" in body["detail"]
    assert not _has_account(world, "bob")  # nothing enrolled, no account


def _invitation_id(world: World, token: str) -> str:
    del token  # the insider finds the row by its principal: the only pending one
    with world.state.ctx.store.read() as conn:
        return str(conn.execute(select(identity_invitations.c.id)).scalar_one())


def test_an_invitation_moved_to_another_person_is_refused(world: World) -> None:
    token = world.invite("bob")
    _edit(
        world.state.ctx.store, identity_invitations, _invitation_id(world, token), principal="carol"
    )
    body = _refused(_accept(world, token), 401, "SW942")
    assert "ask an admin for a new invitation" in body["detail"]
    assert not _has_account(world, "carol") and not _has_account(world, "bob")


def test_an_invitation_whose_maker_or_expiry_was_edited_is_refused(world: World) -> None:
    store = world.state.ctx.store
    token = world.invite("bob")
    row_id = _invitation_id(world, token)
    world.clock.advance(timedelta(hours=25))  # expired: the insider gives it another year
    _edit(store, identity_invitations, row_id, expires_at=fmt(world.clock() + timedelta(days=365)))
    _refused(_accept(world, token), 401, "SW942")
    assert not _has_account(world, "bob")
    token = world.invite("carol")
    with store.read() as conn:
        row_id = conn.execute(
            select(identity_invitations.c.id).where(identity_invitations.c.principal == "carol")
        ).scalar_one()
    _edit(store, identity_invitations, row_id, created_by="someone-else")
    _refused(_accept(world, token), 401, "SW942")
    assert not _has_account(world, "carol")


def test_a_genuine_invitation_still_works_and_its_row_holds_no_code(world: World) -> None:
    token = world.invite("bob")
    with world.state.ctx.store.read() as conn:
        row = conn.execute(select(identity_invitations)).one()
    assert token not in " ".join(str(v) for v in row) and _sha(token) not in tuple(row)
    assert _accept(world, token).status_code == 200


# -- device codes (RFC 8628) ------------------------------------------------------


def _poll(world: World, device_code: str) -> Any:
    return world.client.post(
        "/api/v1/device/token",
        data={"grant_type": device.GRANT_TYPE, "device_code": device_code},
    )


def test_a_device_code_row_approved_for_alice_by_the_insider_mints_no_token(
    world: World,
) -> None:
    world.onboard("alice")
    chosen = "swd_" + secrets.token_urlsafe(32)
    now = world.clock()
    _insert(
        world.state.ctx.store,
        identity_device_codes,
        {
            "id": "d" + secrets.token_hex(6),
            "device_hash": _sha(chosen),
            "user_code": "BCDF-GHJK",
            "created_at": fmt(now),
            "expires_at": fmt(now + timedelta(minutes=5)),
            "principal": "alice",
            "method": "local",
            "approved_at": fmt(now),
            "redeemed": False,
        },
    )
    res = _poll(world, chosen)
    body = _refused(res, 400, "SW941")
    assert body["error"] == "expired_token"  # RFC 8628: the terminal stops polling
    # the same row's user code finds nothing to decide either
    with pytest.raises(Exception, match="not made by this server"):
        device.pending(world.state.ctx.store, "BCDF-GHJK", now=now)


def test_a_device_code_approval_moved_to_another_principal_is_refused(world: World) -> None:
    store = world.state.ctx.store
    res = world.client.post("/api/v1/device/code", data={"client_hostname": "laptop"})
    assert res.status_code == 200, res.text
    code = res.json()
    with store.read() as conn:
        row = conn.execute(select(identity_device_codes)).one()
    stored = " ".join(str(v) for v in row)
    assert code["device_code"] not in stored and code["user_code"] not in stored
    now = world.clock()
    assert device.approve(store, code["user_code"], "bob", LoginMethod.LOCAL, now=now)
    _edit(store, identity_device_codes, row.id, principal="alice")
    _refused(_poll(world, code["device_code"]), 400, "SW942")


def test_a_denied_device_code_whose_denial_is_undone_is_refused(world: World) -> None:
    store = world.state.ctx.store
    code = device.start(store, now=world.clock())
    assert device.deny(store, code.user_code, now=world.clock()) is not None
    with store.read() as conn:
        row_id = conn.execute(select(identity_device_codes.c.id)).scalar_one()
    _edit(store, identity_device_codes, row_id, denied_at=None)
    with pytest.raises(Exception, match="changed after the server made it") as refused:
        device.approve(store, code.user_code, "alice", LoginMethod.LOCAL, now=world.clock())
    assert getattr(refused.value, "code", "") == "SW942"


# -- CLI hand-offs ----------------------------------------------------------------


def test_a_login_handoff_row_for_alice_written_by_the_insider_is_refused(world: World) -> None:
    world.onboard("alice")
    chosen = "swa_" + secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(48)
    redirect = "http://127.0.0.1:8123/callback"
    now = world.clock()
    _insert(
        world.state.ctx.store,
        identity_cli_handoffs,
        {
            "id": "h" + secrets.token_hex(6),
            "kind": "login",
            "secret_hash": _sha(chosen),
            "principal": "alice",
            "method": "local",
            "code_challenge": handoff.s256(verifier),
            "redirect_uri": redirect,
            "created_at": fmt(now),
            "expires_at": fmt(now + timedelta(minutes=2)),
            "approved_at": fmt(now),
        },
    )
    res = world.client.post(
        "/api/v1/cli/token",
        json={"code": chosen, "code_verifier": verifier, "redirect_uri": redirect},
    )
    _refused(res, 401, "SW941")


def test_a_login_handoff_moved_to_another_principal_is_refused(world: World) -> None:
    store = world.state.ctx.store
    verifier = secrets.token_urlsafe(48)
    redirect = "http://127.0.0.1:8123/callback"
    code = handoff.approve_login(
        store,
        "bob",
        LoginMethod.LOCAL,
        challenge=handoff.s256(verifier),
        redirect_uri=redirect,
        now=world.clock(),
    )
    with store.read() as conn:
        row_id = conn.execute(select(identity_cli_handoffs.c.id)).scalar_one()
    _edit(store, identity_cli_handoffs, row_id, principal="alice")
    res = world.client.post(
        "/api/v1/cli/token",
        json={"code": code, "code_verifier": verifier, "redirect_uri": redirect},
    )
    _refused(res, 401, "SW942")


def test_a_step_up_request_moved_to_another_session_is_refused(world: World) -> None:
    store = world.state.ctx.store
    req = handoff.request_step_up(store, "alice", "t-alices-cli", now=world.clock())
    assert handoff.pending_step_up(store, req.secret, "alice", now=world.clock())
    _edit(store, identity_cli_handoffs, req.id, session_id="t-insiders-cli")
    with pytest.raises(Exception, match="changed after the server made it"):
        handoff.pending_step_up(store, req.secret, "alice", now=world.clock())
    chosen = "swu_" + secrets.token_urlsafe(32)
    now = world.clock()
    _insert(
        store,
        identity_cli_handoffs,
        {
            "id": "h" + secrets.token_hex(6),
            "kind": "step-up",
            "secret_hash": _sha(chosen),
            "principal": "alice",
            "session_id": "t-insiders-cli",
            "created_at": fmt(now),
            "expires_at": fmt(now + timedelta(minutes=5)),
        },
    )
    with pytest.raises(Exception, match="not made by this server"):
        handoff.pending_step_up(store, chosen, "alice", now=now)


# -- OIDC logins ------------------------------------------------------------------


def test_an_oidc_login_row_written_by_the_insider_is_refused(world: World) -> None:
    store = world.state.ctx.store
    state, binding = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    now = world.clock()
    _insert(
        store,
        identity_oidc_logins,
        {
            "id": "ol" + secrets.token_hex(6),
            "state_hash": _sha(state),
            "binding_hash": _sha(binding),
            "created_at": fmt(now),
            "expires_at": fmt(now + timedelta(minutes=10)),
        },
    )
    with pytest.raises(Exception, match="not made by this server") as refused:
        oidc_login._take(store, state, binding, now)
    assert getattr(refused.value, "code", "") == "SW941"
