"""The monitoring log: a companion to the audit log, hashed and chained the same way.

Ingested events go here, not into ``audit_events``: a production estate logs
millions of logins and queries a day, and mixing them into the audit log would
make every evidence query and every full verification scan them. The companion
log uses the same canonical JSON, the same leaf hash (``SHA-256(0x00 || bytes)``),
the same chain (``chain_i = SHA-256(chain_{i-1} || leaf_i)`` from the same
genesis) and records ``log_index``/``prev_hash`` in every event, so the audit
verifier's scanner checks it unchanged. Each ingest batch appends one
``monitoring.ingest.batch`` event to the audit log with the companion head, so
the audit log's signed checkpoints pin the monitoring log too; detection findings
go to the audit log itself and link their evidence here by index and leaf hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, select
from sqlalchemy.exc import SQLAlchemyError

from stagewall.audit._chain import GENESIS, RowBatch, Scanner
from stagewall.audit._log import _as_bytes
from stagewall.errors import BackendError
from stagewall.monitoring._canonical import canonical
from stagewall.monitoring._tables import monitoring_blocks, monitoring_state
from stagewall.monitoring.events import Event, iso
from stagewall.store import Store

LOCK_NAME = "stagewall.monitoring"
# Events per stored row: one row (and one B-tree entry) per block instead of per event;
# a block is also the unit read back, so it stays small enough to read for one event.
BLOCK = 1024
_LEAF = 32
_LEAF_PREFIX = hashlib.sha256(b"\x00")  # leaf = SHA-256(0x00 || bytes), as in the audit log
_INSERT = (
    "INSERT INTO monitoring_blocks (first_idx, count, events, leaves, head) VALUES (?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class Head:
    size: int
    chain: bytes


_LAST = "SELECT first_idx, count, head FROM monitoring_blocks ORDER BY first_idx DESC LIMIT 1"
# One statement per batch (SQLite >= 3.24 and PostgreSQL): was a DELETE and an INSERT.
_STATE_UPSERT = (
    "INSERT INTO monitoring_state (key, value) VALUES (?, ?) "
    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
)


def _sql(conn: Connection, sql: str) -> str:
    """Plain SQL in the driver's parameter style (the hot path skips statement compilation)."""
    return sql if conn.dialect.paramstyle == "qmark" else sql.replace("?", "%s")


def _last_block(conn: Connection) -> Head:
    last = conn.exec_driver_sql(_LAST).first()
    return Head(int(last[0]) + int(last[1]), _as_bytes(last[2])) if last else Head(0, GENESIS)


class MonitorLog:
    def __init__(self, store: Store, *, block: int = BLOCK) -> None:
        self.store = store
        self.block = block  # events per stored row when appending

    def append(self, events: Sequence[Event], *, conn: Connection | None = None) -> Head:
        """Append events in order (sets ``index`` and ``leaf`` on each); returns the new head.

        With ``conn`` it joins that transaction (ingest appends, anchors and saves
        state in one).
        """
        try:
            if conn is not None:
                return self._append(conn, events)
            with self.store.transaction() as own:
                return self._append(own, events)
        except SQLAlchemyError as exc:
            raise BackendError(
                f"the monitoring log in {self.store.display_url} failed: {exc.__class__.__name__}",
                hint="check the store is reachable and migrated",
            ) from exc

    def _append(self, conn: Connection, events: Sequence[Event]) -> Head:
        self.store.lock(conn, LOCK_NAME)
        head = _last_block(conn)
        if not events:
            return head
        index, prev = head.size, head.chain
        sha = hashlib.sha256
        leaf_of = _LEAF_PREFIX.copy  # SHA-256 already fed 0x00: no copy of the bytes behind it
        blocks = []
        size = self.block
        for start in range(0, len(events), size):
            first = index
            raws: list[bytes] = []
            leaves: list[bytes] = []
            add_raw, add_leaf = raws.append, leaves.append
            for ev in events[start : start + size]:
                raw = canonical(ev, index, prev.hex(), iso(ev.time))
                h = leaf_of()
                h.update(raw)
                leaf = h.digest()
                prev = sha(prev + leaf).digest()
                ev.index = index
                ev.leaf = leaf.hex()
                add_raw(raw)
                add_leaf(leaf)
                index += 1
            blocks.append((first, len(raws), b"\n".join(raws), b"".join(leaves), prev))
        conn.exec_driver_sql(_sql(conn, _INSERT), blocks)
        return Head(index, prev)

    def head(self) -> Head:
        with self.store.read() as conn:
            return _last_block(conn)

    def _blocks(self, start: int, limit: int) -> list[tuple[int, list[bytes], bytes, bytes]]:
        """Up to ``limit`` blocks from the one holding event ``start`` on, split into events."""
        c = monitoring_blocks.c
        with self.store.read() as conn:
            # the block holding ``start``: the last one starting at or before it, unless
            # it ends before ``start`` (then the log has no event ``start`` in a block)
            first = conn.execute(
                select(c.first_idx, c.count)
                .where(c.first_idx <= start)
                .order_by(c.first_idx.desc())
                .limit(1)
            ).first()
            from_idx = start if first is None or first[0] + first[1] <= start else first[0]
            rows = conn.execute(
                select(c.first_idx, c.count, c.events, c.leaves, c.head)
                .where(c.first_idx >= from_idx)
                .order_by(c.first_idx)
                .limit(limit)
            ).all()
        out = []
        for first_idx, count, events, leaves, head in rows:
            raws = _as_bytes(events).split(b"\n")
            leaf_bytes = _as_bytes(leaves)
            if len(raws) != count or len(leaf_bytes) != _LEAF * count:
                from stagewall.audit import LogBroken

                raise LogBroken(
                    int(first_idx),
                    f"the block at index {first_idx} records {count} event(s) but holds "
                    f"{len(raws)} event(s) and {len(leaf_bytes) // _LEAF} leaf hash(es)",
                )
            out.append((int(first_idx), raws, leaf_bytes, _as_bytes(head)))
        return out

    def documents(self, start: int = 0, limit: int = 1000) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        index = start
        while len(out) < limit:
            blocks = self._blocks(index, 16)
            for first, raws, _leaves, _head in blocks:
                for raw in raws[max(index - first, 0) :]:
                    if len(out) < limit:
                        out.append(json.loads(raw))
                index = first + len(raws)
            if len(blocks) < 16:
                break
        return out

    def verify(self, batch: int = 20) -> Head:
        """Recompute the chain from genesis (raises LogBroken naming the first bad index)."""
        return self._scan({}, batch)

    def _scan(self, anchors: dict[int, list[tuple[int, str]]], batch: int = 20) -> Head:
        """Recompute the chain; check it at each anchored index (-> [(audit idx, head hex)]).

        Every event's leaf hash is stored, so a changed event is named exactly; the
        chain hash stored after each block and every anchor are compared with the
        recomputed chain at that point.
        """
        from stagewall.audit import LogBroken

        # Source times, not a single clock: ingested events arrive out of order.
        scanner = Scanner(monotonic_time=False)
        start = 0
        cuts = sorted(anchors)
        while True:
            blocks = self._blocks(start, batch)
            for first, raws, leaf_bytes, head in blocks:
                n = len(raws)
                leaves: list[bytes | None] = [
                    leaf_bytes[i : i + _LEAF] for i in range(0, _LEAF * n, _LEAF)
                ]
                chains: list[bytes | None] = [None] * n
                chains[-1] = head
                pos = 0
                for cut in [i - first + 1 for i in cuts if first <= i < first + n] + [n]:
                    if cut > pos:
                        scanner.feed_batch(
                            RowBatch(
                                list(range(first + pos, first + cut)),
                                raws[pos:cut],
                                leaves[pos:cut],
                                chains[pos:cut],
                            )
                        )
                        pos = cut
                    for audit_idx, anchored in anchors.get(first + cut - 1, ()):
                        if scanner.head.hex() != anchored:
                            raise LogBroken(
                                first + cut - 1,
                                f"the monitoring log does not match its anchor in audit event "
                                f"{audit_idx}",
                                hint="events were removed or rewritten after they were anchored",
                            )
                start = first + n
            if len(blocks) < batch:
                break
        res = scanner.finish()
        beyond = [i for i in cuts if i >= res.size]
        if beyond:
            raise LogBroken(
                beyond[0],
                f"the monitoring log does not match its anchor in audit event "
                f"{anchors[beyond[0]][0][0]} (it ends at index {res.size - 1})",
                hint="events were removed or rewritten after they were anchored",
            )
        return Head(res.size, res.head)

    def verify_anchored(self, audit_size_hint: int | None = None) -> Head:
        """Verify the chain and check every anchor the audit log holds for it.

        Raises :class:`~stagewall.audit.LogBroken` when the chain does not recompute
        or the recomputed chain at an anchored index differs from the anchored head
        (the monitoring log was cut or rewritten after the anchor was written).
        """
        from stagewall.audit import AuditLog
        from stagewall.audit._tables import audit_events
        from stagewall.monitoring._audit import INGEST_BATCH

        audit = AuditLog(self.store)
        with self.store.read() as conn:
            indexes = [
                int(i)
                for (i,) in conn.execute(
                    select(audit_events.c.idx).where(audit_events.c.code == INGEST_BATCH.code)
                )
            ]
        anchors: dict[int, list[tuple[int, str]]] = {}
        for idx in indexes:
            details = audit.events(idx, 1)[0].details
            last, anchored = details.get("last_index"), details.get("monitoring_head")
            if isinstance(last, int) and isinstance(anchored, str):
                anchors.setdefault(last, []).append((idx, anchored))
        return self._scan(anchors)

    # -- state ------------------------------------------------------------------

    def load_state(self, key: str) -> dict[str, Any] | None:
        with self.store.read() as conn:
            value = conn.execute(
                select(monitoring_state.c.value).where(monitoring_state.c.key == key)
            ).scalar()
        return None if value is None else dict(json.loads(value))

    def save_state(
        self, key: str, value: dict[str, object], *, conn: Connection | None = None
    ) -> None:
        # orjson: the baselines are saved with every batch, and json spent ~0.5 ms a batch
        try:
            text = orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
        except orjson.JSONEncodeError:  # e.g. a byte count past 64 bits from a forged line
            text = json.dumps(value, sort_keys=True, separators=(",", ":"))
        if conn is None:
            with self.store.transaction() as own:
                self._save_state(own, key, text)
        else:
            self._save_state(conn, key, text)

    @staticmethod
    def _save_state(conn: Connection, key: str, text: str) -> None:
        conn.exec_driver_sql(_sql(conn, _STATE_UPSERT), (key, text))


__all__ = ["BLOCK", "LOCK_NAME", "Head", "MonitorLog"]
