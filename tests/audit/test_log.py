"""AuditLog: appends, transactions, concurrency across processes, automatic checkpoints."""

from __future__ import annotations

import hashlib
import multiprocessing
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from stagewall.audit import AuditEvent, AuditLog, CheckpointInvalid, Status
from stagewall.audit._verify import verify_store
from stagewall.errors import BackendError, ConfigError
from stagewall.keys import init_keys, load_public_key
from stagewall.store import Store, open_store
from tests.audit.conftest import TEST_CODE, allow_tampering, make_event


def test_append_returns_indexes_and_events_read_back(store: Store) -> None:
    log = AuditLog(store)
    assert log.size() == 0
    assert log.append(make_event(0)) == 0
    assert log.append_many([make_event(i) for i in range(1, 5)]) == [1, 2, 3, 4]
    assert log.append_many([]) == []
    assert log.size() == 5
    events = log.events()
    assert [e.index for e in events] == [0, 1, 2, 3, 4]
    assert [e.details["n"] for e in events] == [0, 1, 2, 3, 4]
    assert [e.index for e in log.events(start=2, limit=2)] == [2, 3]
    assert [e.index for e in log.events(start=-2)] == [3, 4]
    times = [e.time for e in events]
    assert times == sorted(times)
    report = verify_store(log, None)
    assert report.size == 5


def _action_table(store: Store) -> None:
    with store.transaction() as conn:
        conn.execute(text("CREATE TABLE test_action (id INTEGER PRIMARY KEY, what TEXT)"))


def _actions(store: Store) -> int:
    with store.transaction() as conn:
        return int(conn.execute(text("SELECT count(*) FROM test_action")).scalar_one())


def test_action_and_event_commit_together(store: Store) -> None:
    _action_table(store)
    log = AuditLog(store)
    with store.transaction() as conn:
        conn.execute(text("INSERT INTO test_action (id, what) VALUES (1, 'grant')"))
        assert log.append(make_event(1), conn=conn) == 0
    assert _actions(store) == 1 and log.size() == 1


def test_invalid_event_rolls_back_the_action(store: Store) -> None:
    _action_table(store)
    log = AuditLog(store)
    with pytest.raises(ConfigError, match="looks like a secret"), store.transaction() as conn:
        conn.execute(text("INSERT INTO test_action (id, what) VALUES (1, 'grant')"))
        log.append(make_event(1, password="x"), conn=conn)
    assert _actions(store) == 0 and log.size() == 0


def test_failing_audit_write_rolls_back_the_action(store: Store) -> None:
    _action_table(store)
    log = AuditLog(store)
    log.append(make_event(0))
    with store.transaction() as conn:  # make the audit INSERT itself fail in the database
        conn.execute(text("CREATE UNIQUE INDEX test_one_code ON audit_events (code)"))
    with (
        pytest.raises(BackendError, match=r"the audit log in .* failed"),
        store.transaction() as conn,
    ):
        conn.execute(text("INSERT INTO test_action (id, what) VALUES (1, 'grant')"))
        log.append(make_event(1), conn=conn)
    assert _actions(store) == 0 and log.size() == 1


def _worker(url: str, home: str, worker: int, count: int) -> None:
    import os

    os.environ["STAGEWALL_HOME"] = home
    s = open_store(url, migrate=False)
    log = AuditLog(s, checkpoint_every=7)
    for i in range(count):
        if i % 2:
            log.append(
                AuditEvent(
                    code=TEST_CODE,
                    status=Status.SUCCESS,
                    actor=f"w{worker}",
                    message=f"w{worker} e{i}",
                    details={"w": worker, "i": i},
                )
            )
        else:
            log.append_many(
                [
                    AuditEvent(
                        code=TEST_CODE,
                        status=Status.SUCCESS,
                        actor=f"w{worker}",
                        message=f"w{worker} e{i} b{j}",
                        details={"w": worker, "i": i, "j": j},
                    )
                    for j in range(2)
                ]
            )
    s.dispose()


def test_concurrent_processes_build_one_valid_chain(any_store_url: str, tmp_path: Path) -> None:
    home = tmp_path / "swhome"
    init_keys(home)
    s = open_store(any_store_url)
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_worker, args=(any_store_url, str(home), w, 10)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    log = AuditLog(s, home=home)
    assert log.size() == 4 * (5 + 5 * 2)
    report = verify_store(log, load_public_key(home))
    assert report.size == 60
    assert len(report.checkpoints) >= 60 // 7  # automatic checkpoints from several writers
    per_worker = {
        w: [e.details["i"] for e in log.events() if e.details["w"] == w] for w in range(4)
    }
    for seen in per_worker.values():
        assert seen == sorted(seen)  # each writer's events stay in its own order
    s.dispose()


def test_automatic_checkpoints_every_n(sqlite_store: Store) -> None:
    init_keys()
    log = AuditLog(sqlite_store, checkpoint_every=4, checkpoint_interval=None)
    for i in range(10):
        log.append(make_event(i))
    assert [c.size for c in log.checkpoints()] == [4, 8]
    log.append_many([make_event(i) for i in range(10, 19)])  # crosses 12 and 16 at once
    assert [c.size for c in log.checkpoints()] == [4, 8, 19]
    assert verify_store(log, load_public_key()).checkpoints == (4, 8, 19)


def test_interval_checkpoint_when_none_exists(sqlite_store: Store) -> None:
    init_keys()
    log = AuditLog(sqlite_store, checkpoint_every=None, checkpoint_interval=timedelta(days=1))
    log.append(make_event(0))
    log.append(make_event(1))
    assert [c.size for c in log.checkpoints()] == [1]  # newest is not older than a day


def test_missing_key_never_blocks_an_append(sqlite_store: Store) -> None:
    log = AuditLog(sqlite_store, checkpoint_every=1)
    assert log.append(make_event(0)) == 0
    assert log.checkpoints() == []


def test_open_key_file_does_not_block_an_append(sqlite_store: Store, tmp_path: Path) -> None:
    res = init_keys()
    (res.home / "audit_signing.key").chmod(0o644)
    log = AuditLog(sqlite_store, checkpoint_every=1)
    assert log.append(make_event(0)) == 0
    assert log.checkpoints() == []


def test_checkpoint_refuses_to_sign_over_a_gap(sqlite_store: Store) -> None:
    init_keys()
    log = AuditLog(sqlite_store, checkpoint_every=None, checkpoint_interval=None)
    log.append_many([make_event(i) for i in range(4)])
    allow_tampering(sqlite_store)
    with sqlite_store.transaction() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE idx = 1"))
    with pytest.raises(CheckpointInvalid, match="audit event 1 is missing"):
        log.checkpoint()


def test_interval_elapsed_writes_a_new_checkpoint(sqlite_store: Store) -> None:
    init_keys()
    log = AuditLog(sqlite_store, checkpoint_every=None, checkpoint_interval=timedelta(0))
    for i in range(3):
        log.append(make_event(i))
    assert [c.size for c in log.checkpoints()] == [1, 2, 3]


def test_last_activity_per_actor(sqlite_store_url: str) -> None:
    from stagewall.store import open_store

    log = AuditLog(open_store(sqlite_store_url))
    assert log.last_activity("user0") is None
    log.append(make_event(0))  # actor user0
    log.append(make_event(1))  # actor user1
    second = log.append(make_event(4))  # actor user0 again
    assert log.last_activity("user0") == log.events(second, 1)[0].time
    assert log.last_activity("user3") is None


def test_stored_columns_are_the_events_own(store: Store) -> None:
    """The append's plain-SQL insert stores what the event says, on both backends:
    truncated actor and resource columns, NULL for no resource, the hashed time."""
    log = AuditLog(store)
    long_actor, long_resource = "a" * 300, "r" * 600
    events = [
        AuditEvent(
            code=TEST_CODE,
            status=Status.FAILURE,
            actor=long_actor,
            resource=long_resource,
            message="long names",
            details={"n": 1},
        ),
        make_event(5),  # resource None
        make_event(7),
    ]
    assert log.append_many(events) == [0, 1, 2]
    with store.read() as conn:
        rows = conn.execute(
            text(
                "SELECT idx, time, code, status, actor, resource, canonical, leaf_hash, "
                "chain_hash FROM audit_events ORDER BY idx"
            )
        ).all()
    stored = log.events()
    assert [r[0] for r in rows] == [0, 1, 2]
    assert [r[2] for r in rows] == [TEST_CODE] * 3
    assert [r[3] for r in rows] == [
        Status.FAILURE.value,
        Status.SUCCESS.value,
        Status.SUCCESS.value,
    ]
    assert rows[0][4] == long_actor[:256] and rows[0][5] == long_resource[:512]
    assert rows[1][4] == "user1" and rows[1][5] is None
    assert rows[2][4] == "user3" and rows[2][5] == "db-1"
    for row, ev in zip(rows, stored, strict=True):
        assert row[1] == ev.time  # the unhashed column repeats the hashed time
        assert bytes(row[7]) == hashlib.sha256(b"\x00" + bytes(row[6])).digest()
    assert stored[0].actor == long_actor  # the event itself is not truncated
    assert verify_store(log, None).size == 3
