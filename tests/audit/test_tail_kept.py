"""Appends later in one transaction reuse the tail its earlier append wrote.

The tail (index, time, chain hash) an append wrote stays the log's tail while its
transaction holds the log's lock, so the next append in it skips the lock and the read
of the newest row. These tests hold it to that: the chain verifies and is contiguous
whatever mix of transactions, rollbacks, autocommit reads and concurrent writers ran,
and the read is skipped only where the lock is still held.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import event, text

from stagewall.audit import AuditLog
from stagewall.audit._verify import verify_store
from stagewall.store import Store
from tests.audit.conftest import make_event


def _tail_reads(store: Store) -> Any:
    """Counts the tail reads an append sends through SQLAlchemy (SQLite's path)."""
    box = [0]

    def seen(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        if "ORDER BY idx DESC LIMIT 1" in statement:
            box[0] += 1

    event.listen(store.engine, "before_cursor_execute", seen)
    return box


def test_later_appends_in_a_transaction_skip_the_tail(sqlite_store: Store) -> None:
    log = AuditLog(sqlite_store)
    log.append(make_event(0))
    reads = _tail_reads(sqlite_store)
    with sqlite_store.transaction() as conn:
        assert log.append(make_event(1), conn=conn) == 1
        assert log.append(make_event(2), conn=conn) == 2
        # Another AuditLog on the same store and transaction continues the same chain.
        assert AuditLog(sqlite_store).append_many([make_event(3), make_event(4)], conn=conn) == [
            3,
            4,
        ]
    assert reads[0] == 1
    # A new transaction reads the tail again (another writer may have appended).
    with sqlite_store.transaction() as conn:
        assert log.append(make_event(5), conn=conn) == 5
    assert reads[0] == 2
    assert verify_store(log, None).size == 6


def test_a_rolled_back_append_leaves_no_tail_behind(store: Store) -> None:
    log = AuditLog(store)
    log.append(make_event(0))
    with pytest.raises(RuntimeError), store.transaction() as conn:
        log.append(make_event(1), conn=conn)
        log.append(make_event(2), conn=conn)
        raise RuntimeError("the act failed after its events")
    for i in range(3):
        with store.transaction() as conn:
            assert log.append(make_event(10 + i), conn=conn) == 1 + i
    assert [e.index for e in log.events()] == [0, 1, 2, 3]
    assert verify_store(log, None).size == 4


def test_writers_between_transactions_and_at_once(store: Store) -> None:
    """Transactions of two appends each, from several threads (PostgreSQL: at once)."""
    log = AuditLog(store)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(5):
                with store.transaction() as conn:
                    log.append(make_event(n * 100 + i), conn=conn)
                    conn.execute(text("SELECT 1"))
                    log.append(make_event(n * 100 + i + 50), conn=conn)
                log.append(make_event(n * 1000 + i))  # its own transaction
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [e.index for e in log.events()] == list(range(60))
    assert verify_store(log, None).size == 60


def test_autocommit_and_savepoints_read_the_tail(pg_store_url: str) -> None:
    from stagewall.store import open_store

    store = open_store(pg_store_url)
    try:
        log = AuditLog(store)
        log.append(make_event(0))
        with store.transaction() as conn:
            log.append(make_event(1), conn=conn)
            with conn.begin_nested():
                log.append(make_event(2), conn=conn)
            nested = conn.begin_nested()
            log.append(make_event(3), conn=conn)
            nested.rollback()
            # The savepoint's event is gone: the next append must not chain after it.
            assert log.append(make_event(4), conn=conn) == 3
        with store.read() as conn:
            assert conn.get_execution_options()["isolation_level"] == "AUTOCOMMIT"
            from stagewall.audit._log import _tail_holder

            assert _tail_holder(conn) is None
        assert [e.details["n"] for e in log.events()] == [0, 1, 2, 4]
        assert verify_store(log, None).size == 4
    finally:
        store.dispose()
