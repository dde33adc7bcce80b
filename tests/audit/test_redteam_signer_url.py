"""Red team: the signer's memory belongs to the log, not to the URL that reached it.

The memory (what the server signed last) was keyed by the store URL: the same database
reached by another hostname or path spelling, or a store moved to a new URL, started
with none, and a store rolled back to an older copy was signed again (a fork).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import delete

from stagewall.audit import AuditLog
from stagewall.audit._checkpoint import CheckpointInvalid
from stagewall.audit._signed import FILE
from stagewall.audit._tables import audit_checkpoints, audit_events
from stagewall.audit._verify import verify_store
from stagewall.keys import init_keys, load_public_key
from stagewall.paths import home
from stagewall.store import Store, open_store
from tests.audit.conftest import allow_tampering, make_event
from tests.audit.test_redteam_signer import _forged_rows, _replace_history


def _server_log(store: Store) -> AuditLog:
    return AuditLog(store, checkpoint_every=4, checkpoint_interval=None)


def _signed(store: Store, events: range) -> AuditLog:
    """The server's log of ``store`` after appending ``events`` (a checkpoint every 4)."""
    log = _server_log(store)
    for i in events:
        log.append(make_event(i))
    return log


def test_a_rollback_reached_by_another_sqlite_path_spelling_is_not_signed(
    tmp_path: Path,
) -> None:
    init_keys(name="test.example/signer")
    db = tmp_path / "store.db"
    store = open_store(f"sqlite:///{db}")
    _signed(store, range(5))
    store.dispose()
    shutil.copy(db, tmp_path / "backup.db")  # the insider keeps a copy at 5 events
    store = open_store(f"sqlite:///{db}")
    _signed(store, range(5, 10))  # checkpoint at 8 signed and remembered
    store.dispose()
    shutil.copy(tmp_path / "backup.db", db)  # ... puts it back
    (tmp_path / "alias").symlink_to(tmp_path)
    # ... and the server is restarted with the same file under another spelling
    other = open_store(f"sqlite:///{tmp_path / 'alias' / '.' / 'store.db'}")
    assert other.display_url != store.display_url
    log = _server_log(other)
    with pytest.raises(CheckpointInvalid, match="rolled back"):
        for i in range(5, 10):
            log.append(make_event(100 + i))
    assert [c.size for c in log.checkpoints()] == [4]
    other.dispose()


def test_a_rollback_reached_by_another_postgres_hostname_is_not_signed(
    pg_store_url: str,
) -> None:
    init_keys(name="test.example/signer")
    assert "@127.0.0.1:" in pg_store_url
    store = open_store(pg_store_url)
    _signed(store, range(9))  # checkpoints at 4 and 8 signed
    # the insider cuts the database back to 5 events and the checkpoint at 4 ...
    allow_tampering(store)
    with store.transaction() as conn:
        conn.execute(delete(audit_events).where(audit_events.c.idx >= 5))
        conn.execute(delete(audit_checkpoints).where(audit_checkpoints.c.size > 4))
    store.dispose()
    # ... and points the server at the same database by another hostname
    other = open_store(pg_store_url.replace("@127.0.0.1:", "@localhost:"))
    assert other.display_url != store.display_url
    log = _server_log(other)
    with pytest.raises(CheckpointInvalid, match="rolled back"):
        log.append_many([make_event(100 + i) for i in range(5, 10)])
    with pytest.raises(CheckpointInvalid, match="rolled back"):
        log.checkpoint()
    assert [c.size for c in log.checkpoints()] == [4]
    other.dispose()


def test_a_store_moved_to_a_new_url_keeps_signing_and_keeps_its_memory(
    tmp_path: Path,
) -> None:
    init_keys(name="test.example/signer")
    old = open_store(f"sqlite:///{tmp_path / 'old.db'}")
    _signed(old, range(9))
    old.dispose()
    shutil.move(tmp_path / "old.db", tmp_path / "new.db")  # the store is moved
    new = open_store(f"sqlite:///{tmp_path / 'new.db'}")
    log = _signed(new, range(9, 17))  # honest: signed on at the new URL
    assert [c.size for c in log.checkpoints()] == [4, 8, 12, 16]
    assert verify_store(log, load_public_key()).size == 17
    remembered = json.loads((home() / FILE).read_text())
    first = [k for k in remembered if k.startswith("log:")]
    assert len(first) == 1 and remembered[first[0]]["size"] == 16
    new.dispose()


def test_a_first_event_rewritten_at_the_same_url_is_still_caught(
    sqlite_store: Store, tmp_path: Path
) -> None:
    """The log's id is the hash of its first event; the URL entry still guards it."""
    init_keys(name="test.example/signer")
    _signed(sqlite_store, range(9))
    _replace_history(sqlite_store, _forged_rows(tmp_path, 5, changed=0), keep_cps=True)
    with pytest.raises(CheckpointInvalid, match="rolled back"):
        _server_log(sqlite_store).checkpoint()
