"""Red team: the server must not sign a history an insider wrote into the store.

The insider can write the store (SQLite file or PostgreSQL rows, triggers dropped)
but holds no signing key. The server signs checkpoints automatically; each one must
extend what the server signed before, whatever the store now says.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, text, update

from stagewall.audit import AuditLog
from stagewall.audit._checkpoint import CheckpointInvalid
from stagewall.audit._tables import audit_checkpoints, audit_events
from stagewall.audit._verify import verify_store
from stagewall.keys import SigningKey, init_keys, load_public_key
from stagewall.store import Store, open_store
from tests.audit.conftest import allow_tampering, make_event


def _server_log(store: Store) -> AuditLog:
    """A log whose signing key is the one in STAGEWALL_HOME, as the server's is."""
    return AuditLog(store, checkpoint_every=4, checkpoint_interval=None)


def _forged_rows(tmp_path: Path, n: int, changed: int) -> list[dict[str, object]]:
    """The insider's history: the same kind of events, one of them rewritten, chained
    and hashed by the library in a scratch store of their own (no key there)."""
    scratch = open_store(f"sqlite:///{tmp_path / 'scratch.db'}")
    log = AuditLog(scratch, checkpoint_every=None, checkpoint_interval=None)
    for i in range(n):
        log.append(make_event(i if i != changed else 900 + i))
    with scratch.transaction() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(audit_events))]
    scratch.dispose()
    return rows


def _replace_history(store: Store, rows: list[dict[str, object]], *, keep_cps: bool) -> None:
    allow_tampering(store)
    with store.transaction() as conn:
        conn.execute(delete(audit_events))
        if not keep_cps:
            conn.execute(delete(audit_checkpoints))
        conn.execute(insert(audit_events), rows)


def test_checkpoint_rows_removed_and_history_rewritten_is_not_signed(
    sqlite_store: Store, tmp_path: Path
) -> None:
    init_keys(name="test.example/signer")
    log = _server_log(sqlite_store)
    for i in range(9):
        log.append(make_event(i))
    assert [c.size for c in log.checkpoints()] == [4, 8]
    _replace_history(sqlite_store, _forged_rows(tmp_path, 9, changed=1), keep_cps=False)
    with pytest.raises(CheckpointInvalid, match="checkpoint rows were removed"):
        log.checkpoint()
    with pytest.raises(CheckpointInvalid, match="checkpoint rows were removed"):
        # the next automatic checkpoint (due at 12) too, and the appends roll back with it
        _server_log(sqlite_store).append_many([make_event(i) for i in range(9, 12)])
    assert log.checkpoints() == []  # nothing signed


def test_a_store_rolled_back_to_an_older_copy_is_not_signed_again(
    sqlite_store: Store, sqlite_store_url: str, tmp_path: Path
) -> None:
    init_keys(name="test.example/signer")
    db = Path(sqlite_store_url.removeprefix("sqlite:///"))
    log = _server_log(sqlite_store)
    for i in range(5):
        log.append(make_event(i))
    sqlite_store.dispose()
    shutil.copy(db, tmp_path / "backup.db")  # the insider keeps a copy at 5 events
    store = open_store(sqlite_store_url)
    log = _server_log(store)
    for i in range(5, 10):
        log.append(make_event(i))  # checkpoint at 8 signed
    store.dispose()
    shutil.copy(tmp_path / "backup.db", db)  # ... and puts it back
    store = open_store(sqlite_store_url)
    log = _server_log(store)
    # Without the signer's memory the next events would be signed at size 8 over a
    # second history: a fork, each history verifying against its own checkpoints.
    with pytest.raises(CheckpointInvalid, match="rolled back"):
        for i in range(5, 10):
            log.append(make_event(100 + i))
    assert [c.size for c in log.checkpoints()] == [4]
    store.dispose()


def test_a_forged_checkpoint_row_is_no_base_to_sign_on(sqlite_store: Store) -> None:
    # No memory here (the key is not the home's): the stored row itself must be signed.
    key = SigningKey("test.example/signer", bytes(range(32)))
    log = AuditLog(sqlite_store, checkpoint_every=4, checkpoint_interval=None, signing_key=key)
    for i in range(5):
        log.append(make_event(i))
    allow_tampering(sqlite_store)
    with sqlite_store.transaction() as conn:
        row = conn.execute(select(audit_checkpoints)).one()
        forged_note = row.note.rsplit(" ", 1)[0] + " " + "A" * 92 + "\n"
        conn.execute(update(audit_checkpoints).values(note=forged_note))
    with pytest.raises(CheckpointInvalid, match="stored checkpoint at tree size 4"):
        log.checkpoint(key=key)


def test_a_leaf_column_that_does_not_hash_its_event_is_not_signed(sqlite_store: Store) -> None:
    init_keys(name="test.example/signer")
    log = _server_log(sqlite_store)
    for i in range(6):
        log.append(make_event(i))
    allow_tampering(sqlite_store)
    with sqlite_store.transaction() as conn:
        conn.execute(
            text("UPDATE audit_events SET leaf_hash = :h WHERE idx = 5"), {"h": b"\x01" * 32}
        )
    with pytest.raises(CheckpointInvalid, match="event 5 does not hash to its stored leaf"):
        log.checkpoint()


def test_the_server_keeps_signing_an_honest_log(sqlite_store: Store) -> None:
    init_keys(name="test.example/signer")
    for batch in range(3):  # several AuditLog objects, as the server makes them
        log = _server_log(sqlite_store)
        for i in range(5):
            log.append(make_event(batch * 5 + i))
        log.checkpoint()
    assert [c.size for c in log.checkpoints()] == [4, 5, 8, 10, 12, 15]
    assert verify_store(log, load_public_key()).size == 15
