"""The hash chain and the fast verifier over raw canonical event lines.

``chain_i = SHA-256(chain_{i-1} || leaf_i)`` with ``chain_{-1} = GENESIS``. Every
event also records its own ``log_index`` and ``prev_hash`` (= ``chain_{i-1}``)
inside its canonical bytes, so an event cannot be moved or replayed elsewhere.

Verification hashes the raw bytes only; the two embedded fields are read with
one anchored regular expression (keys are sorted, and every key that sorts
before ``metadata`` holds a scalar or string, whose quotes would be escaped), so
no JSON is re-parsed or re-serialised on the hot path.
"""

from __future__ import annotations

import hashlib
import re
from binascii import hexlify
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from stagewall.audit._merkle import EMPTY_ROOT, Frontier, compact_range, levels
from stagewall.errors import ChainBroken

GENESIS = hashlib.sha256(b"stagewall audit log v1 genesis").digest()
_META = re.compile(
    rb'"metadata":\{"event_code":"[^"\\]*","log_index":(0|[1-9][0-9]*),"prev_hash":"([0-9a-f]{64})"'
)


class LogBroken(ChainBroken):
    """The log does not verify; ``index`` is the first event found bad."""

    def __init__(self, index: int, detail: str, *, hint: str | None = None) -> None:
        super().__init__(
            f"audit log broken at index {index}: {detail}",
            hint=hint
            or "the log was altered after it was written; compare with an exported bundle "
            "and the last checkpoint you trust",
        )
        self.index = index
        self.detail = detail


def chain_next(prev: bytes, leaf: bytes) -> bytes:
    return hashlib.sha256(prev + leaf).digest()


# The top-level time: "status_id" is the key just before it, and only at the top level.
# The top-level time of a canonical document: sorted keys put "type_uid" right after it
# (in audit events and in the monitoring companion log alike).
_TIME = re.compile(rb',"time":"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{15}Z)","type_uid":')

CHUNK = 1 << 16


@dataclass(frozen=True)
class RowBatch:
    """Consecutive rows of the audit_events table, column by column."""

    indexes: list[int]
    raws: list[bytes]
    leaves: list[bytes | None]
    chains: list[bytes | None]
    # (time, code, status, actor, resource) of each row, when they were read
    columns: list[tuple[Any, ...]] | None = None


@dataclass
class ScanResult:
    """What a scan of the whole log computed (``roots`` always holds the full size)."""

    size: int = 0
    head: bytes = GENESIS
    roots: dict[int, bytes] = field(default_factory=dict)
    leaves: list[bytes] = field(default_factory=list)
    frontier: Frontier = field(default_factory=Frontier)


def _fold_chunk(res: ScanResult, chunk: list[bytes], wanted: list[int]) -> None:
    """Add one chunk of leaf hashes (starting at an aligned size) to the tree state."""
    frontier = res.frontier
    start = frontier.size
    lv = levels(chunk)
    for size in wanted:
        if start < size <= start + len(chunk):
            extra = [node for _h, node in compact_range(lv, size - start)]
            res.roots[size] = frontier.root_with(extra)
    for height, node in compact_range(lv, len(chunk)):
        frontier.push_subtree(height, node)


class Scanner:
    """Streaming verifier: feed batches of events in order, then :meth:`finish`.

    Stored hashes (from the database, or hex lines of the bundle's chain file when
    ``chain_hex``) are optional; when given they locate a change exactly. Raises
    :class:`LogBroken` naming the first bad index. ``root_at`` lists tree sizes
    whose roots to return in ``roots`` (the full size is always included).
    """

    def __init__(
        self,
        *,
        root_at: Sequence[int] = (),
        keep_leaves: bool = False,
        chain_hex: bool = False,
        monotonic_time: bool = True,
    ) -> None:
        """``monotonic_time``: the log's times come from one clock (the audit log's do;
        the monitoring companion log records when each ingested event happened)."""
        self.result = ScanResult()
        self._monotonic = monotonic_time
        self._wanted = sorted(set(root_at))
        self._keep = keep_leaves
        self._chain_hex = chain_hex
        self._chunk: list[bytes] = []
        self._prev = GENESIS
        self._time = b""

    def feed_batch(self, batch: RowBatch) -> None:
        """Feed a batch read from the store (checks the indexes are contiguous)."""
        start = self.result.size
        for offset, idx in enumerate(batch.indexes):
            if idx != start + offset:
                self.feed(batch.raws[:offset], batch.leaves[:offset], batch.chains[:offset])
                raise LogBroken(
                    start + offset, f"expected event {start + offset} but found event {idx}"
                )
        self.feed(batch.raws, batch.leaves, batch.chains)

    def feed(
        self,
        raws: Sequence[bytes],
        stored_leaves: Sequence[bytes | None] | None = None,
        stored_chains: Sequence[bytes | None] | None = None,
    ) -> None:
        sha = hashlib.sha256
        meta = _META.search
        when = _TIME.search
        last_time = self._time
        chunk = self._chunk
        prev = self._prev
        prev_hex = hexlify(prev)
        index = self.result.size
        chain_hex = self._chain_hex
        leaves = stored_leaves if stored_leaves is not None else repeat(None)
        chains = stored_chains if stored_chains is not None else repeat(None)
        # strict=False: the stored columns may be an endless repeat(None)
        for raw, stored_leaf, stored_chain in zip(raws, leaves, chains, strict=False):
            m = meta(raw)
            if m is None:
                raise LogBroken(index, "the event is not a well-formed stagewall event")
            recorded_index, recorded_prev = m.groups()
            if recorded_prev != prev_hex:
                raise LogBroken(index, "the event's prev_hash does not match the chain")
            if int(recorded_index) != index:
                raise LogBroken(index, f"the event records log_index {recorded_index.decode()}")
            t = when(raw)
            if t is None:
                raise LogBroken(index, "the event has no UTC time in its hashed bytes")
            if self._monotonic and t.group(1) < last_time:
                raise LogBroken(
                    index,
                    f"the event time {t.group(1).decode()} is before the previous event's "
                    f"{last_time.decode()}: times are monotonic per log",
                )
            last_time = t.group(1)
            leaf = sha(b"\x00" + raw).digest()
            if stored_leaf is not None and stored_leaf != leaf:
                raise LogBroken(index, "the event bytes do not match the stored leaf hash")
            prev = sha(prev + leaf).digest()
            prev_hex = hexlify(prev)
            if stored_chain is not None and stored_chain != (prev_hex if chain_hex else prev):
                raise LogBroken(index, "the event bytes do not match the stored chain hash")
            chunk.append(leaf)
            index += 1
            if len(chunk) == CHUNK:
                self.result.size = index
                self._prev = prev
                self._time = last_time
                self._flush()
                chunk = self._chunk
        self.result.size = index
        self._prev = prev
        self._time = last_time

    @property
    def head(self) -> bytes:
        """The chain hash after the last event fed so far."""
        return self._prev

    def _flush(self) -> None:
        res = self.result
        _fold_chunk(res, self._chunk, self._wanted)
        if self._keep:
            res.leaves.extend(self._chunk)
        self._chunk = []

    def finish(self) -> ScanResult:
        self._flush()
        res = self.result
        res.head = self._prev
        if 0 in self._wanted:
            res.roots[0] = EMPTY_ROOT
        res.roots[res.size] = res.frontier.root()
        return res


__all__ = ["GENESIS", "LogBroken", "RowBatch", "ScanResult", "Scanner", "chain_next"]
