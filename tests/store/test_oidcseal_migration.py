"""Migration oidcseal_0001: the OIDC login's nonce and PKCE verifier leave the store.

A login in progress at the upgrade kept its nonce and verifier in the row; the upgrade
deletes such rows with the two columns (the browser starts the login again), so no
store ever holds a usable nonce or verifier after it. The downgrade adds the columns
back, empty.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect, text

from stagewall.identity._codes import fmt
from stagewall.store import Store, open_store
from tests.store.test_instances_migration import _alembic

GONE = {"nonce", "code_verifier"}


def _columns(store: Store) -> set[str]:
    return {c["name"] for c in inspect(store.engine).get_columns("identity_oidc_logins")}


def test_logins_in_progress_lose_their_nonce_and_verifier(any_store_url: str) -> None:
    store = open_store(any_store_url)
    try:
        _alembic(store, "downgrade", "oidcseal@base")
        assert _columns(store) >= GONE
        now = datetime.now(UTC)
        with store.transaction() as conn:
            conn.execute(
                text(
                    "INSERT INTO identity_oidc_logins (id, state_hash, nonce, code_verifier, "
                    "binding_hash, created_at, expires_at) VALUES (:i, :s, :n, :v, :b, :c, :e)"
                ),
                {
                    "i": "ol-old",
                    "s": "a" * 64,
                    "n": "the-nonce-in-clear",
                    "v": "the-verifier-in-clear-" + "x" * 30,
                    "b": "b" * 64,
                    "c": fmt(now),
                    "e": fmt(now + timedelta(minutes=10)),
                },
            )
        _alembic(store, "upgrade", "heads")
        assert not GONE & _columns(store)
        with store.read() as conn:
            assert conn.execute(text("SELECT count(*) FROM identity_oidc_logins")).scalar() == 0
        _alembic(store, "downgrade", "oidcseal@base")
        assert _columns(store) >= GONE
        _alembic(store, "upgrade", "heads")
        assert not GONE & _columns(store)
    finally:
        store.dispose()
