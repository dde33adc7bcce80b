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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from stagewall.audit._merkle import Frontier
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


@dataclass
class ScanResult:
    """What a scan of the whole log computed."""

    size: int = 0
    head: bytes = GENESIS
    roots: dict[int, bytes] = field(default_factory=dict)
    leaves: list[bytes] = field(default_factory=list)
    frontier: Frontier = field(default_factory=Frontier)


def scan(
    rows: Iterable[tuple[int, bytes, bytes | None, bytes | None]],
    *,
    root_at: Sequence[int] = (),
    keep_leaves: bool = False,
) -> ScanResult:
    """Verify rows ``(index, raw, stored_leaf, stored_chain)`` in order.

    Stored hashes (from the database or the bundle's chain file) are optional; when
    given they localise a change to the exact event. Raises :class:`LogBroken`
    naming the first bad index. ``root_at`` lists tree sizes whose roots to return.
    """
    sha = hashlib.sha256
    meta = _META.search
    wanted = set(root_at)
    res = ScanResult()
    frontier = res.frontier
    leaves = res.leaves
    prev = GENESIS
    expected = 0
    for index, raw, stored_leaf, stored_chain in rows:
        if index != expected:
            raise LogBroken(expected, f"expected event {expected} but found event {index}")
        m = meta(raw)
        if m is None:
            raise LogBroken(index, "the event is not a well-formed stagewall event")
        if int(m.group(1)) != index:
            raise LogBroken(index, f"the event records log_index {m.group(1).decode()}")
        if m.group(2) != prev.hex().encode():
            raise LogBroken(index, "the event's prev_hash does not match the chain")
        leaf = sha(b"\x00" + raw).digest()
        if stored_leaf is not None and stored_leaf != leaf:
            raise LogBroken(index, "the event bytes do not match the stored leaf hash")
        prev = sha(prev + leaf).digest()
        if stored_chain is not None and stored_chain != prev:
            raise LogBroken(index, "the event bytes do not match the stored chain hash")
        if keep_leaves:
            leaves.append(leaf)
        frontier.append(leaf)
        expected += 1
        if expected in wanted:
            res.roots[expected] = frontier.root()
    res.size = expected
    res.head = prev
    if 0 in wanted:
        res.roots[0] = Frontier().root()
    return res


__all__ = ["GENESIS", "LogBroken", "ScanResult", "chain_next", "scan"]
