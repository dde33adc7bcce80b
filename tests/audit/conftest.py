"""Audit test helpers: a registered test event type and small factories."""

from __future__ import annotations

from typing import Any

import pytest

from stagewall.audit import AuditEvent, EventType, Status, register_event_type
from stagewall.audit.events import registered_event_types
from stagewall.store import Store, open_store

TEST_CODE = "test.audit.thing_done"

if TEST_CODE not in {t.code for t in registered_event_types()}:
    register_event_type(
        EventType(
            code=TEST_CODE,
            class_uid=6003,
            class_name="API Activity",
            activity_id=1,
            activity_name="Create",
            description="used by the audit tests",
        )
    )


def make_event(i: int = 0, **details: Any) -> AuditEvent:
    return AuditEvent(
        code=TEST_CODE,
        status=Status.SUCCESS if i % 3 else Status.FAILURE,
        actor=f"user{i % 4}",
        resource=f"db-{i % 2}" if i % 5 else None,
        message=f"thing {i} done \u00e9\u2713",
        details={"n": i, "tags": ["a", "b"], **details},
    )


@pytest.fixture
def store(any_migrated_store_url: str) -> Store:
    s = open_store(any_migrated_store_url)
    yield s
    s.dispose()


@pytest.fixture
def sqlite_store(sqlite_store_url: str) -> Store:
    s = open_store(sqlite_store_url)
    yield s
    s.dispose()


def allow_tampering(store: Store) -> None:
    """Drop the append-only triggers, as an attacker with DDL rights could."""
    from sqlalchemy import text

    with store.transaction() as conn:
        for table in ("audit_events", "audit_checkpoints"):
            if store.backend == "postgresql":
                conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}"))
            else:
                for op_name in ("update", "delete"):
                    conn.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{op_name}"))


def forget_signed() -> None:
    """Lose what the signer remembers (a second server instance with its own key
    directory, or one whose directory was restored from an old backup): only the
    witnesses still know what was signed."""
    from stagewall.audit._signed import FILE
    from stagewall.paths import home

    (home() / FILE).unlink()
