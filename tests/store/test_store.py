"""The control-plane store: URLs, migrations on both backends, cross-process locking."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path

import pytest
from sqlalchemy import text

from stagewall.errors import BackendError, ConfigError
from stagewall.store import Store, open_store, redact_url
from stagewall.store._engine import normalise_url


def test_normalise_and_redact() -> None:
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert normalise_url("postgresql://u@h/db") == "postgresql+psycopg://u@h/db"
    shown = redact_url("postgresql://user:s3cret@host:5432/db")
    assert "s3cret" not in shown and "user" in shown and "***" in shown


def test_unsupported_backend_is_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        Store("mysql://root@127.0.0.1/x")
    assert "unsupported store backend 'mysql'" in info.value.message


def test_garbage_url_is_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        Store("::not a url::")
    assert "store URL is not valid" in info.value.message


def test_default_store_lives_in_home(_isolated_home: Path) -> None:
    store = open_store()
    assert store.backend == "sqlite"
    assert (_isolated_home / "stagewall.db").exists()


def test_migrate_is_idempotent(any_store_url: str) -> None:
    store = open_store(any_store_url)
    store.migrate()
    with store.read() as conn:
        heads = {r[0] for r in conn.execute(text("SELECT version_num FROM alembic_version"))}
    assert heads, "every domain branch records its head"


def _migrate(url: str) -> None:
    open_store(url).dispose()


def test_concurrent_migrations_from_processes(any_store_url: str) -> None:
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_migrate, args=(any_store_url,)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0]


def test_unreachable_postgres_is_backend_error() -> None:
    store = Store("postgresql://postgres@127.0.0.1:1/nope?connect_timeout=2")
    with pytest.raises(BackendError) as info:
        store.migrate()
    assert "127.0.0.1" in info.value.message


def test_password_not_in_backend_error() -> None:
    store = Store("postgresql://postgres:topsecret@127.0.0.1:1/nope?connect_timeout=2")
    with pytest.raises(BackendError) as info:
        store.migrate()
    assert "topsecret" not in info.value.render()


def test_lock_serialises_on_postgres(pg_store_url: str) -> None:
    store = open_store(pg_store_url)
    with store.transaction() as conn:
        store.lock(conn, "x")
        other = Store(pg_store_url)
        with other.engine.connect() as c2:
            got = c2.execute(
                text("SELECT pg_try_advisory_xact_lock(:k)"),
                {
                    "k": int.from_bytes(
                        __import__("hashlib").sha256(b"x").digest()[:8], "big", signed=True
                    )
                },
            ).scalar()
            assert got is False, "the advisory lock must be held by the first transaction"
        other.dispose()


def test_migration_fingerprint_recorded_and_fast_path(any_store_url: str) -> None:
    from stagewall.store import migrations_fingerprint

    store = open_store(any_store_url)
    with store.read() as conn:
        value = conn.execute(
            text("SELECT value FROM stagewall_meta WHERE key='migrations'")
        ).scalar()
    assert value == migrations_fingerprint()
    assert store._schema_is_current(value)
    assert not store._schema_is_current("0" * 64), "a new migration set must migrate again"
    store.dispose()


def test_single_statement_commits_by_itself(any_store_url: str) -> None:
    """``Store.single``: on PostgreSQL autocommit (no BEGIN/COMMIT round trips), the
    statement committed as soon as it ran; on SQLite an ordinary transaction."""
    store = open_store(any_store_url)
    other = open_store(any_store_url)
    try:
        with store.transaction() as conn:
            conn.execute(text("CREATE TABLE sw_single_t (v INTEGER)"))
        with store.single() as conn:
            level = conn.get_execution_options().get("isolation_level")
            assert (level == "AUTOCOMMIT") is (store.backend == "postgresql")
            conn.execute(text("INSERT INTO sw_single_t (v) VALUES (1)"))
            if store.backend == "postgresql":  # visible to others before the block ends
                with other.read() as seen:
                    assert seen.execute(text("SELECT count(*) FROM sw_single_t")).scalar() == 1
        with other.read() as seen:
            assert seen.execute(text("SELECT count(*) FROM sw_single_t")).scalar() == 1
        with pytest.raises(RuntimeError), store.single() as conn:
            conn.execute(text("INSERT INTO sw_single_t (v) VALUES (2)"))
            raise RuntimeError("after the statement")
        with other.read() as seen:
            # PostgreSQL: the statement had committed; SQLite: the transaction rolled back.
            want = 2 if store.backend == "postgresql" else 1
            assert seen.execute(text("SELECT count(*) FROM sw_single_t")).scalar() == want
    finally:
        with store.transaction() as conn:
            conn.execute(text("DROP TABLE sw_single_t"))
        store.dispose()
        other.dispose()
