"""Migration tokenbind_0001: bearer token rows are keyed and sealed with the token key.

A token issued before the upgrade is stored as a plain SHA-256, which cannot be rekeyed
without the token: the upgrade ends every such token (fail closed) and marks its row,
so presenting it says to sign in again (SW975) rather than "unknown". Tokens issued
after the upgrade work; the downgrade drops the seal column.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from stagewall.errors import TokenFromBeforeUpgrade
from stagewall.identity._codes import fmt
from stagewall.identity.actor import LoginMethod
from stagewall.identity.tokens import TokenKind, issue_token, resolve_token
from stagewall.monitoring.tokens import resolve_ingest_token
from stagewall.store import Store, open_store
from tests.store.test_instances_migration import _alembic


def _columns(store: Store) -> set[str]:
    return {c["name"] for c in inspect(store.engine).get_columns("identity_tokens")}


def test_tokens_from_before_the_upgrade_are_ended_with_a_sign_in_again(
    any_store_url: str, tmp_path: Path
) -> None:
    store = open_store(any_store_url)
    store.key_home = tmp_path / "home"
    now = datetime.now(UTC)
    old = "swt_" + "o" * 43
    shipper = "swi_" + "s" * 43
    try:
        _alembic(store, "downgrade", "tokenbind@base")
        assert "row_mac" not in _columns(store)
        with store.transaction() as conn:
            conn.execute(
                text(
                    "INSERT INTO identity_tokens (id, token_hash, principal, kind, method, "
                    "csrf, created_at, expires_at) VALUES (:i, :h, 'alice', 'api', 'local', "
                    "'c', :c, :e)"
                ),
                {
                    "i": "t-old",
                    "h": hashlib.sha256(old.encode()).hexdigest(),
                    "c": fmt(now),
                    "e": fmt(now + timedelta(hours=12)),
                },
            )
            conn.execute(
                text(
                    "INSERT INTO monitoring_ingest_tokens (id, source, token_hash, created_at, "
                    "created_by) VALUES ('it-old', 'pg-prod', :h, :c, 'server-operator')"
                ),
                {"h": hashlib.sha256(shipper.encode()).hexdigest(), "c": fmt(now)},
            )
        _alembic(store, "upgrade", "heads")
        assert "row_mac" in _columns(store)
        with store.read() as conn:
            row = conn.execute(
                text("SELECT revoked_at, row_mac FROM identity_tokens WHERE id = 't-old'")
            ).one()
        assert row.revoked_at is not None and row.row_mac == "legacy"
        with pytest.raises(TokenFromBeforeUpgrade) as refused:
            resolve_token(store, old, now=now)
        assert refused.value.code == "SW975" and "sign in again" in str(refused.value)
        with pytest.raises(TokenFromBeforeUpgrade):
            resolve_ingest_token(store, shipper)
        with store.read() as conn:
            row = conn.execute(
                text("SELECT revoked_at, row_mac FROM monitoring_ingest_tokens")
            ).one()
        assert row.revoked_at is not None and row.row_mac == "legacy"
        new = issue_token(store, "alice", kind=TokenKind.API, method=LoginMethod.LOCAL, now=now)
        info = resolve_token(store, new.secret, now=now)
        assert info is not None and info.principal == "alice"
        assert (store.key_home / "token.key").stat().st_mode & 0o077 == 0
        _alembic(store, "downgrade", "tokenbind@base")
        assert "row_mac" not in _columns(store)
        _alembic(store, "upgrade", "heads")
        assert "row_mac" in _columns(store)
    finally:
        store.dispose()
