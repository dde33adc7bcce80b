"""Event times: the server's clock, monotonic per log, bound in the hashed bytes."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import text

from stagewall.audit import GENESIS, AuditLog, LogBroken
from stagewall.audit._verify import verify_store
from stagewall.store import Store
from tests.audit.conftest import allow_tampering, make_event


def _plain(store: Store) -> AuditLog:
    return AuditLog(store, checkpoint_every=None, checkpoint_interval=None)


def test_a_forged_time_column_does_not_drag_later_events_along(sqlite_store: Store) -> None:
    log = _plain(sqlite_store)
    log.append(make_event(1))
    allow_tampering(sqlite_store)
    with sqlite_store.transaction() as conn:
        conn.execute(text("UPDATE audit_events SET time = '2099-01-01T00:00:00.000000Z'"))
    log.append(make_event(2))
    second = log.events(1, 1)[0]
    assert second.time < "2099"  # read from the hashed bytes of event 0, not the column
    assert second.time >= log.events(0, 1)[0].time


def test_last_activity_comes_from_the_hashed_bytes(sqlite_store: Store) -> None:
    log = _plain(sqlite_store)
    log.append(make_event(1))  # actor user1
    real = log.events(0, 1)[0].time
    allow_tampering(sqlite_store)
    with sqlite_store.transaction() as conn:
        conn.execute(text("UPDATE audit_events SET time = '2000-01-01T00:00:00.000000Z'"))
    assert log.last_activity("user1") == real
    assert log.last_activity("nobody") is None


def test_times_going_backwards_fail_verification(sqlite_store: Store) -> None:
    log = _plain(sqlite_store)
    log.append_many([make_event(i) for i in range(4)])
    log.append(make_event(4))
    # Rewrite event 2 one hour into the past, with consistent hashes after it.
    events = log.events()
    prev = GENESIS
    allow_tampering(sqlite_store)
    with sqlite_store.transaction() as conn:
        for ev in events:
            doc = ev.document()
            if ev.index == 2:
                doc["time"] = "2000-01-01T00:00:00.000000Z"
            doc["metadata"]["prev_hash"] = prev.hex()
            raw = json.dumps(
                doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode()
            leaf = hashlib.sha256(b"\x00" + raw).digest()
            prev = hashlib.sha256(prev + leaf).digest()
            conn.execute(
                text(
                    "UPDATE audit_events SET canonical = :r, leaf_hash = :l, chain_hash = :c "
                    "WHERE idx = :i"
                ),
                {"r": raw, "l": leaf, "c": prev, "i": ev.index},
            )
    with pytest.raises(
        LogBroken, match=r"broken at index 2: the event time 2000-01-01.* monotonic"
    ):
        verify_store(log, None)
