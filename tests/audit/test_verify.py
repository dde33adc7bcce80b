"""Verifying the log in the store catches edits, rewrites, truncation and bad signatures."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from stagewall.audit import AuditLog, LogBroken
from stagewall.audit._chain import GENESIS
from stagewall.audit._checkpoint import CheckpointInvalid
from stagewall.audit._verify import NO_WITNESS_WARNING, verify_store
from stagewall.errors import BackendError, KeyMissing
from stagewall.keys import SigningKey, init_keys, load_public_key
from stagewall.store import Store
from tests.audit.conftest import allow_tampering, make_event


def _log(store: Store, n: int = 12) -> AuditLog:
    init_keys()
    log = AuditLog(store, checkpoint_every=5, checkpoint_interval=None)
    log.append_many([make_event(i) for i in range(n)])
    for i in range(n, n + 3):
        log.append(make_event(i))
    return log


def test_untouched_log_verifies(store: Store) -> None:
    log = _log(store)
    report = verify_store(log, load_public_key())
    assert report.size == 15 and report.checkpoints == (12, 15)
    assert report.warnings == (NO_WITNESS_WARNING,)


def test_changed_event_bytes_name_the_index(store: Store) -> None:
    log = _log(store)
    raw = log.events(7, 1)[0].raw.replace(b"thing 7", b"thing X")
    allow_tampering(store)
    with store.transaction() as conn:
        conn.execute(text("UPDATE audit_events SET canonical = :r WHERE idx = 7"), {"r": raw})
    with pytest.raises(LogBroken, match="broken at index 7: the event bytes do not match") as exc:
        verify_store(log, load_public_key())
    assert exc.value.index == 7 and exc.value.code == "SW501"


def test_rewritten_history_is_caught_by_the_checkpoint(store: Store) -> None:
    log = _log(store, n=4)  # checkpoints at 5 (first single append crosses 5) and 7
    assert [c.size for c in log.checkpoints()] == [5]
    # rewrite every event's message from index 2 with consistent leaf and chain hashes
    # (the unhashed columns left agreeing: a rewritten code is caught by its column)
    events = log.events()
    prev = events[1].chain_hash
    allow_tampering(store)
    with store.transaction() as conn:
        for ev in events[2:]:
            raw = ev.raw.replace(b" done ", b" DONE ").replace(
                ev.document()["metadata"]["prev_hash"].encode(), prev.hex().encode()
            )
            leaf = hashlib.sha256(b"\x00" + raw).digest()
            prev = hashlib.sha256(prev + leaf).digest()
            conn.execute(
                text(
                    "UPDATE audit_events SET canonical=:r, leaf_hash=:l, chain_hash=:c WHERE idx=:i"
                ),
                {"r": raw, "l": leaf, "c": prev, "i": ev.index},
            )
    with pytest.raises(
        LogBroken, match=r"history was rewritten somewhere in indexes 0\.\.4"
    ) as exc:
        verify_store(log, load_public_key())
    assert exc.value.index == 0


def test_truncation_after_a_checkpoint_is_caught(store: Store) -> None:
    log = _log(store)
    log.checkpoint()
    allow_tampering(store)
    with store.transaction() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE idx >= 13"))
    with pytest.raises(LogBroken, match=r"covers 15 events but the log has only 13") as exc:
        verify_store(log, load_public_key())
    assert exc.value.index == 13


def test_deleted_middle_event_is_caught(store: Store) -> None:
    log = _log(store)
    allow_tampering(store)
    with store.transaction() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE idx = 3"))
    with pytest.raises(LogBroken, match="expected event 3 but found event 4"):
        verify_store(log, load_public_key())


def test_forged_checkpoint_signature_is_refused(store: Store) -> None:
    log = _log(store)
    allow_tampering(store)
    with store.transaction() as conn:
        conn.execute(text("UPDATE audit_checkpoints SET note = replace(note, '\n12\n', '\n11\n')"))
    with pytest.raises(
        CheckpointInvalid, match=r"tree size 12: the signature by .* does not verify"
    ):
        verify_store(log, load_public_key())


def test_checkpoint_by_another_key_is_refused(store: Store) -> None:
    log = _log(store)
    other = SigningKey("someone.else/log", b"\x05" * 32).public
    with pytest.raises(CheckpointInvalid, match=r"not signed by the expected key someone.else/log"):
        verify_store(log, other)


def test_checkpoints_without_a_key_cannot_be_verified(store: Store) -> None:
    log = _log(store)
    with pytest.raises(KeyMissing, match="no public key is available"):
        verify_store(log, None)


def test_empty_log_verifies_to_the_empty_root(store: Store) -> None:
    report = verify_store(AuditLog(store), None)
    assert report.size == 0 and report.head == GENESIS
    assert report.root.hex().startswith("e3b0c442")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'mallory' WHERE idx = 1",
        "DELETE FROM audit_events WHERE idx = 14",
        "UPDATE audit_checkpoints SET note = 'x'",
        "DELETE FROM audit_checkpoints",
    ],
)
def test_the_database_refuses_edits(store: Store, statement: str) -> None:
    log = _log(store)
    with (
        pytest.raises((BackendError, DBAPIError), match="append-only"),
        store.transaction() as conn,
    ):
        conn.execute(text(statement))
    assert verify_store(log, load_public_key()).size == 15
