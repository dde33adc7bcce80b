"""Migration codebind_0001: one-time code rows are keyed and sealed with the token key.

An invitation link, device code, ``login --browser`` code, step-up request or OIDC login
made before the upgrade is stored under a plain SHA-256, which cannot be rekeyed
without the code: the upgrade ends every outstanding one (fail closed) and marks its
row, so using it says what to do (SW943: a new invitation, sign in again) rather than
"unknown". Codes made after the upgrade work; the downgrade drops the seal column.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from stagewall.errors import CodeFromBeforeUpgrade
from stagewall.identity import accounts, device, handoff, oidc_login
from stagewall.identity._codes import fmt
from stagewall.identity.actor import LoginMethod
from stagewall.store import Store, open_store
from tests.store.test_instances_migration import _alembic

_TABLES = (
    "identity_invitations",
    "identity_device_codes",
    "identity_cli_handoffs",
    "identity_oidc_logins",
)


def _sealed(store: Store) -> set[str]:
    cols = inspect(store.engine)
    return {t for t in _TABLES if "row_mac" in {c["name"] for c in cols.get_columns(t)}}


def _sha(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def test_codes_from_before_the_upgrade_are_ended_with_what_to_do(
    any_store_url: str, tmp_path: Path
) -> None:
    store = open_store(any_store_url)
    store.key_home = tmp_path / "home"
    now = datetime.now(UTC)
    later = fmt(now + timedelta(minutes=5))
    invitation = "swi_" + secrets.token_urlsafe(32)
    device_code = "swd_" + secrets.token_urlsafe(32)
    login_code = "swa_" + secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(48)
    redirect = "http://127.0.0.1:8123/callback"
    state, binding = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    try:
        _alembic(store, "downgrade", "codebind@base")
        assert not _sealed(store)
        with store.transaction() as conn:
            conn.execute(
                text(
                    "INSERT INTO identity_invitations (id, token_hash, principal, created_by, "
                    "created_at, expires_at) VALUES ('i-old', :h, 'bob', 'carol', :c, :e)"
                ),
                {"h": _sha(invitation), "c": fmt(now), "e": later},
            )
            conn.execute(
                text(
                    "INSERT INTO identity_device_codes (id, device_hash, user_code, created_at, "
                    "expires_at, redeemed) VALUES ('d-old', :h, 'BCDF-GHJK', :c, :e, :r)"
                ),
                {"h": _sha(device_code), "c": fmt(now), "e": later, "r": False},
            )
            conn.execute(
                text(
                    "INSERT INTO identity_cli_handoffs (id, kind, secret_hash, principal, "
                    "method, code_challenge, redirect_uri, created_at, expires_at, approved_at) "
                    "VALUES ('h-old', 'login', :h, 'alice', 'local', :ch, :r, :c, :e, :c)"
                ),
                {
                    "h": _sha(login_code),
                    "ch": handoff.s256(verifier),
                    "r": redirect,
                    "c": fmt(now),
                    "e": later,
                },
            )
            conn.execute(
                text(
                    "INSERT INTO identity_oidc_logins (id, state_hash, binding_hash, created_at, "
                    "expires_at) VALUES ('ol-old', :s, :b, :c, :e)"
                ),
                {"s": _sha(state), "b": _sha(binding), "c": fmt(now), "e": later},
            )
        _alembic(store, "upgrade", "heads")
        assert _sealed(store) == set(_TABLES)
        with store.read() as conn:
            for table in _TABLES:
                row = conn.execute(text(f"SELECT row_mac, expires_at FROM {table}")).one()
                assert row.row_mac == "legacy" and row.expires_at <= fmt(datetime.now(UTC))
        with pytest.raises(CodeFromBeforeUpgrade, match="ask an admin for a new invitation"):
            accounts.confirm_invitation(store, invitation, "000000", now=now)
        with pytest.raises(CodeFromBeforeUpgrade, match=r"run .stagewall login. again") as got:
            device.poll(store, device_code, now=now)
        assert got.value.code == "SW943" and "upgrade codebind_0001" in got.value.message
        with pytest.raises(CodeFromBeforeUpgrade, match=r"stagewall login. again"):
            device.pending(store, "BCDF-GHJK", now=now)
        with pytest.raises(CodeFromBeforeUpgrade, match=r"login --browser. again"):
            handoff.redeem_login(store, login_code, verifier, redirect, now=now)
        with pytest.raises(CodeFromBeforeUpgrade, match="start the sign-in again"):
            oidc_login._take(store, state, binding, now)
        # codes made from now on work
        code = device.start(store, now=now)
        assert device.approve(store, code.user_code, "alice", LoginMethod.LOCAL, now=now)
        assert device.poll(store, code.device_code, now=now).principal == "alice"
        assert (store.key_home / "token.key").stat().st_mode & 0o077 == 0
        _alembic(store, "downgrade", "codebind@base")
        assert not _sealed(store)
        _alembic(store, "upgrade", "heads")
        assert _sealed(store) == set(_TABLES)
    finally:
        store.dispose()
