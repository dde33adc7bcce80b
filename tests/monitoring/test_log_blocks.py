"""The monitoring log stored in blocks: any change, deletion or reordering of events is caught.

The attacker here can write the database (the append-only triggers dropped): they
may change stored bytes alone, or also fix the leaf hashes, or re-chain every later
event (embedded ``log_index``/``prev_hash``, leaves, block heads) so the log is
self-consistent. The first two fail the chain; the last fails the anchors that the
audit log holds for every ingest batch.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from stagewall.audit import LogBroken
from stagewall.audit._canonical import canonical_bytes
from stagewall.audit._chain import GENESIS, Scanner
from stagewall.monitoring import GrantIndex, IngestContext, ingest_lines
from stagewall.monitoring.log import MonitorLog
from stagewall.store import Store
from tests.monitoring.conftest import make_estate

ESTATE = make_estate()


def _lines(n: int, first_pid: int) -> list[str]:
    out = []
    for k in range(n):
        pid = first_pid + k
        ts = f"2026-12-01 09:{pid % 60:02d}:{k % 60:02d}.000 UTC"
        out += [
            f"{ts} [{pid}] LOG:  connection received: host=10.0.{pid % 250}.5 port=5000",
            f"{ts} [{pid}] LOG:  connection authorized: user=user{pid} database=app",
        ]
    return out


def _build(tmp: str, batches: list[int], block: int, migrated: Path | None = None) -> Store:
    """A store holding ``batches`` of ingested events in blocks of ``block``; from a
    copy of the ``migrated`` store file when given (the schema, no rows: migrating
    anew took most of each example's time)."""
    path = Path(tmp) / "stagewall.db"
    if migrated is not None:
        shutil.copyfile(migrated, path)
    store = Store(f"sqlite:///{path}")
    store.migrate()
    with IngestContext(ESTATE, store, grants=GrantIndex(())) as ctx:
        ctx.log.block = block
        pid = 100
        for n in batches:
            ingest_lines("pg", _lines(n, pid), ctx)
            pid += n
    return store


def _read(store: Store) -> list[tuple[int, list[bytes], bytes, bytes]]:
    with store.read() as conn:
        rows = conn.execute(
            text("SELECT first_idx, events, leaves, head FROM monitoring_blocks ORDER BY first_idx")
        ).all()
    return [(int(f), bytes(e).split(b"\n"), bytes(lv), bytes(h)) for f, e, lv, h in rows]


def _write(store: Store, blocks: list[tuple[int, list[bytes], bytes, bytes]]) -> None:
    with store.transaction() as conn:
        conn.execute(text("DROP TRIGGER IF EXISTS monitoring_blocks_no_delete"))
        conn.execute(text("DELETE FROM monitoring_blocks"))
        for first, raws, leaves, head in blocks:
            conn.execute(
                text(
                    "INSERT INTO monitoring_blocks (first_idx, count, events, leaves, head) "
                    "VALUES (:f, :c, :e, :l, :h)"
                ),
                {"f": first, "c": len(raws), "e": b"\n".join(raws), "l": leaves, "h": head},
            )


def _leaf(raw: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + raw).digest()


def _rechain(
    docs: list[dict[str, Any]], sizes: list[int]
) -> list[tuple[int, list[bytes], bytes, bytes]]:
    """A self-consistent log of ``docs`` (indexes, prev hashes, leaves, heads all redone)."""
    prev = GENESIS
    blocks = []
    index = 0
    for size in sizes:
        raws, leaves = [], []
        for doc in docs[index : index + size]:
            doc["metadata"]["log_index"] = index
            doc["metadata"]["prev_hash"] = prev.hex()
            raw = canonical_bytes(doc)
            leaf = _leaf(raw)
            prev = hashlib.sha256(prev + leaf).digest()
            raws.append(raw)
            leaves.append(leaf)
            index += 1
        if raws:
            blocks.append((index - len(raws), raws, b"".join(leaves), prev))
    return blocks


def _flat(blocks: list[tuple[int, list[bytes], bytes, bytes]]) -> list[bytes]:
    return [raw for _f, raws, _l, _h in blocks for raw in raws]


def test_blocks_hold_the_same_chain_the_audit_scanner_checks() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = _build(tmp, [3, 5, 1], block=2)
        blocks = _read(store)
        assert [len(raws) for _f, raws, _l, _h in blocks] == [2, 1, 2, 2, 1, 1]
        scanner = Scanner(monotonic_time=False)
        scanner.feed(_flat(blocks))
        result = scanner.finish()
        head = MonitorLog(store).verify_anchored()
        assert (head.size, head.chain) == (9, result.head) == (9, blocks[-1][3])
        docs = MonitorLog(store).documents(3, 4)
        assert [d["metadata"]["log_index"] for d in docs] == [3, 4, 5, 6]  # type: ignore[index]
        store.dispose()


tampers = st.sampled_from(["change", "delete", "swap"])
repairs = st.sampled_from(["bytes", "leaves", "rechain"])


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.reuse, Phase.generate],
)
@given(
    batches=st.lists(st.integers(1, 6), min_size=1, max_size=4),
    block=st.integers(1, 4),
    tamper=tampers,
    repair=repairs,
    data=st.data(),
)
def test_any_change_deletion_or_reordering_is_caught(
    _migrated_sqlite_store: Path,
    batches: list[int],
    block: int,
    tamper: str,
    repair: str,
    data: st.DataObject,
) -> None:
    total = sum(batches)
    if tamper == "swap" and total < 2:
        return
    with tempfile.TemporaryDirectory() as tmp:
        store = _build(tmp, batches, block, _migrated_sqlite_store)
        MonitorLog(store).verify_anchored()  # intact
        blocks = _read(store)
        sizes = [len(raws) for _f, raws, _l, _h in blocks]
        docs = [json.loads(raw) for raw in _flat(blocks)]
        i = data.draw(st.integers(0, total - 1), label="event")
        if tamper == "change":
            docs[i]["user"]["name"] += "x"
        elif tamper == "delete":
            del docs[i]
            sizes = [s for s in sizes]
            k = 0
            while sum(sizes[: k + 1]) <= i:
                k += 1
            sizes[k] -= 1
        else:
            j = data.draw(st.integers(0, total - 1).filter(lambda j: j != i), label="other")
            docs[i], docs[j] = docs[j], docs[i]
        if repair == "rechain":
            tampered = _rechain(docs, sizes)
        else:
            # the stored bytes edited in place; leaves fixed too or not; heads untouched
            raws = [canonical_bytes(d) for d in docs]
            tampered = []
            pos = 0
            for (first, _old, leaves, head), size in zip(blocks, sizes, strict=True):
                part = raws[pos : pos + size]
                if repair == "leaves":
                    leaves = b"".join(_leaf(r) for r in part)
                elif tamper != "change":
                    old = [_leaf(canonical_bytes(d)) for d in docs[pos : pos + size]]
                    leaves = b"".join(old) if tamper == "swap" else leaves[: 32 * size]
                if part:
                    tampered.append((first, part, leaves, head))
                pos += size
        _write(store, tampered)
        with pytest.raises(LogBroken):
            MonitorLog(store).verify_anchored()
        store.dispose()


def test_a_block_whose_count_disagrees_with_its_contents_is_caught() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = _build(tmp, [3], block=8)
        first, raws, leaves, head = _read(store)[0]
        _write(store, [(first, raws[:2], leaves, head)])  # one event cut, its leaf kept
        with pytest.raises(LogBroken, match="records 2 event"):
            MonitorLog(store).verify()
        store.dispose()


def test_state_with_a_byte_count_past_64_bits_is_saved(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'stagewall.db'}")
    store.migrate()
    log = MonitorLog(store)
    log.save_state("baselines", {"volume": {"state": {"alice": [1, 2**70, 3, 0, []]}}})
    log.save_state("other", {"b": 1.5, "a": [1, "x"]})
    assert log.load_state("baselines") == {"volume": {"state": {"alice": [1, 2**70, 3, 0, []]}}}
    assert log.load_state("other") == {"a": [1, "x"], "b": 1.5}
    store.dispose()


def test_state_is_replaced_in_one_row(any_store_url: str) -> None:
    """save_state is one upsert: the newest value wins and a key keeps one row."""
    store = Store(any_store_url)
    store.migrate()
    log = MonitorLog(store)
    log.save_state("baselines", {"gaps": {"last": {"pg": 1.0}}})
    with store.transaction() as conn:  # in the caller's transaction, as ingest saves it
        log.save_state("baselines", {"gaps": {"last": {"pg": 2.0}}}, conn=conn)
        log.save_state("other", {"x": 1}, conn=conn)
    assert log.load_state("baselines") == {"gaps": {"last": {"pg": 2.0}}}
    assert log.load_state("other") == {"x": 1}
    assert log.load_state("missing") is None
    with store.read() as conn:
        rows = conn.execute(text("SELECT key FROM monitoring_state ORDER BY key")).all()
    assert [r[0] for r in rows] == ["baselines", "other"]
    store.dispose()
