"""Least privilege on a PostgreSQL store (issue 12): owner migrates, runtime role runs.

Real PostgreSQL, two login roles with unique names, a database owned by the owner.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from stagewall.audit import AuditLog
from stagewall.errors import StoreRoleUnsafe
from stagewall.store import Store, open_store
from stagewall.store.roles import RoleCheck, assert_runtime_role_safe, grant_runtime_role
from tests.audit.conftest import make_event
from tests.conftest import PG_ADMIN_DSN, _unavailable


@dataclass(frozen=True)
class Roles:
    owner_url: str
    runtime_url: str
    runtime: str


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_DSN, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


@pytest.fixture
def roles() -> Iterator[Roles]:
    import psycopg

    tag = uuid.uuid4().hex[:12]
    owner, runtime, db = f"sw_owner_{tag}", f"sw_runtime_{tag}", f"sw_test_{tag}"
    try:
        _admin(f'CREATE ROLE "{owner}" LOGIN')
    except psycopg.OperationalError as exc:
        _unavailable("PostgreSQL", exc)
    try:
        _admin(f'CREATE ROLE "{runtime}" LOGIN')
        _admin(f'CREATE DATABASE "{db}" OWNER "{owner}"')
        _admin(f'REVOKE ALL ON DATABASE "{db}" FROM PUBLIC')
        _admin(f'GRANT CONNECT ON DATABASE "{db}" TO "{runtime}"')
        base = PG_ADMIN_DSN.rsplit("/", 1)[0].split("://", 1)[1].split("@", 1)[1]
        yield Roles(
            f"postgresql+psycopg://{owner}@{base}/{db}",
            f"postgresql+psycopg://{runtime}@{base}/{db}",
            runtime,
        )
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        _admin(f'DROP ROLE IF EXISTS "{runtime}"')
        _admin(f'DROP ROLE IF EXISTS "{owner}"')


def _all_refused(store: Store, statements: Iterable[str], match: str) -> None:
    """Each statement fails on its own transaction with an error matching ``match``."""
    for sql in statements:
        with pytest.raises(DBAPIError, match=match), store.transaction() as conn:
            conn.execute(text(sql))


@pytest.mark.postgres
def test_runtime_role_appends_but_cannot_touch_the_audit_tables(roles: Roles) -> None:
    owner = open_store(roles.owner_url)  # migrations run as the owner
    grant_runtime_role(owner, roles.runtime)
    runtime = open_store(roles.runtime_url)  # schema current: no DDL attempted
    try:
        assert assert_runtime_role_safe(runtime) is RoleCheck.SAFE
        log = AuditLog(runtime, checkpoint_every=None, checkpoint_interval=None)
        log.append_many([make_event(i) for i in range(3)])
        assert log.size() == 3
        _all_refused(
            runtime,
            (
                "DELETE FROM audit_events",
                "UPDATE audit_events SET actor = 'x'",
                "TRUNCATE audit_events",
                "ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only",
                "DROP TRIGGER audit_events_append_only ON audit_events",
                "DELETE FROM audit_cosignatures",
            ),
            r"permission denied|must be owner",
        )
        assert log.size() == 3
    finally:
        runtime.dispose()
        owner.dispose()


@pytest.mark.postgres
def test_serve_refuses_the_owner_and_a_superuser(roles: Roles) -> None:
    owner = open_store(roles.owner_url)
    try:
        with pytest.raises(StoreRoleUnsafe, match=r"role sw_owner_\w+ owns public.audit_events"):
            assert_runtime_role_safe(owner)
    finally:
        owner.dispose()
    superuser = Store(PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + roles.owner_url.rsplit("/", 1)[1])
    try:
        with pytest.raises(StoreRoleUnsafe, match="is a superuser") as exc:
            assert_runtime_role_safe(superuser)
        assert exc.value.code == "SW514" and "runtime role" in exc.value.hint
    finally:
        superuser.dispose()


@pytest.mark.postgres
def test_a_member_of_the_owner_role_is_refused(roles: Roles) -> None:
    owner = open_store(roles.owner_url)
    grant_runtime_role(owner, roles.runtime)
    owner_name = roles.owner_url.split("://", 1)[1].split("@", 1)[0]
    _admin(f'GRANT "{owner_name}" TO "{roles.runtime}"')
    runtime = Store(roles.runtime_url)
    try:
        with pytest.raises(StoreRoleUnsafe, match=f"is a member of {owner_name}"):
            assert_runtime_role_safe(runtime)
    finally:
        _admin(f'REVOKE "{owner_name}" FROM "{roles.runtime}"')
        runtime.dispose()
        owner.dispose()


def test_sqlite_has_no_roles(sqlite_store_url: str) -> None:
    store = open_store(sqlite_store_url)
    try:
        assert assert_runtime_role_safe(store) is RoleCheck.NOT_APPLICABLE
    finally:
        store.dispose()


@pytest.mark.postgres
def test_runtime_role_cannot_rewrite_the_estate_and_gate_rule_history(roles: Roles) -> None:
    """Issue 12: estate_versions (and gate_rules) are append-only like the audit tables."""
    owner = open_store(roles.owner_url)
    grant_runtime_role(owner, roles.runtime)
    runtime = open_store(roles.runtime_url)
    try:
        assert assert_runtime_role_safe(runtime) is RoleCheck.SAFE
        row = {"h": "sha256:1", "d": "{}", "t": "2026-01-01T00:00:00.000000Z"}
        with runtime.transaction() as conn:  # recording history still works
            conn.execute(
                text(
                    "INSERT INTO estate_versions (hash, file_sha256, document, recorded_at) "
                    "VALUES (:h, :h, :d, :t)"
                ),
                row,
            )
            conn.execute(
                text("INSERT INTO gate_rules (hash, document, recorded_at) VALUES (:h, :d, :t)"),
                row,
            )
        for table in ("estate_versions", "gate_rules"):
            _all_refused(
                runtime,
                (
                    f"UPDATE {table} SET document = 'x'",
                    f"DELETE FROM {table}",
                    f"TRUNCATE {table}",
                    f"ALTER TABLE {table} DISABLE TRIGGER {table}_append_only",
                    f"DROP TRIGGER {table}_append_only ON {table}",
                ),
                r"permission denied|must be owner",
            )
        # and even the owner (who could drop them) is stopped by the triggers first
        _all_refused(
            owner,
            ("UPDATE estate_versions SET document = 'x'", "TRUNCATE gate_rules"),
            "history tables are append-only",
        )
        with runtime.read() as conn:
            assert conn.execute(text("SELECT count(*) FROM estate_versions")).scalar() == 1
            assert conn.execute(text("SELECT count(*) FROM gate_rules")).scalar() == 1
    finally:
        runtime.dispose()
        owner.dispose()


@pytest.mark.postgres
def test_a_runtime_role_that_may_update_the_estate_history_is_refused(roles: Roles) -> None:
    owner = open_store(roles.owner_url)
    grant_runtime_role(owner, roles.runtime)
    with owner.transaction() as conn:
        conn.execute(text(f'GRANT UPDATE ON estate_versions TO "{roles.runtime}"'))
    runtime = Store(roles.runtime_url)
    try:
        with pytest.raises(StoreRoleUnsafe, match="has UPDATE on estate_versions"):
            assert_runtime_role_safe(runtime)
    finally:
        runtime.dispose()
        owner.dispose()


def test_sqlite_history_tables_refuse_update_and_delete(sqlite_store_url: str) -> None:
    store = open_store(sqlite_store_url)
    try:
        with store.transaction() as conn:
            conn.execute(
                text("INSERT INTO gate_rules (hash, document, recorded_at) VALUES ('h', '{}', 't')")
            )
            conn.execute(
                text(
                    "INSERT INTO estate_versions (hash, file_sha256, document, recorded_at) "
                    "VALUES ('h', 'h', '{}', 't')"
                )
            )
        _all_refused(
            store,
            ("UPDATE gate_rules SET document = 'x'", "DELETE FROM estate_versions"),
            "append-only",
        )
    finally:
        store.dispose()


@pytest.mark.postgres
def test_runtime_role_counts_attempts_and_tracks_sources_in_the_shared_tables(
    roles: Roles,
) -> None:
    """instances_0001's tables work for the role `serve` runs as (granted like the others)."""
    from datetime import UTC, datetime

    from stagewall.errors import RateLimited
    from stagewall.identity import attempts
    from stagewall.monitoring import _seen

    owner = open_store(roles.owner_url)
    grant_runtime_role(owner, roles.runtime)
    runtime = open_store(roles.runtime_url)
    now = datetime(2026, 12, 5, tzinfo=UTC)
    try:
        assert assert_runtime_role_safe(runtime) is RoleCheck.SAFE
        for _ in range(attempts.MAX_FAILURES):
            attempts.take(runtime, ("alice:principal",), now=now).failed()
        with pytest.raises(RateLimited):
            attempts.take(runtime, ("alice:principal",), now=now)
        with attempts.attempt(runtime, "bob:principal", now=now):
            pass  # a success: its slot is given back
        assert attempts.purge(runtime, now=now.replace(hour=1)) == 2
        with runtime.transaction() as conn:
            assert _seen.hold(conn, "pg-prod") == (None, None)
            _seen.advance(conn, "pg-prod", 1000.0)
            assert _seen.claim_silence(conn, "pg-prod", 5000.0, 3600.0) == 1000.0
            assert _seen.claim_silence(conn, "pg-prod", 9000.0, 3600.0) is None
    finally:
        runtime.dispose()
        owner.dispose()
