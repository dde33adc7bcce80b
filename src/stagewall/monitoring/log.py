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
from binascii import hexlify
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import SQLAlchemyError

from stagewall.audit._chain import GENESIS, RowBatch, Scanner
from stagewall.audit._log import _as_bytes
from stagewall.errors import BackendError
from stagewall.monitoring._canonical import canonical
from stagewall.monitoring._tables import monitoring_events, monitoring_state
from stagewall.monitoring.events import Event, iso
from stagewall.store import Store

LOCK_NAME = "stagewall.monitoring"
_INSERT = (
    "INSERT INTO monitoring_events (idx, time, source, code, actor, canonical, leaf_hash, "
    "chain_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


@dataclass(frozen=True)
class Head:
    size: int
    chain: bytes


class MonitorLog:
    def __init__(self, store: Store) -> None:
        self.store = store

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
        last = conn.execute(
            select(monitoring_events.c.idx, monitoring_events.c.chain_hash)
            .order_by(monitoring_events.c.idx.desc())
            .limit(1)
        ).first()
        index, prev = (last[0] + 1, bytes(last[1])) if last else (0, GENESIS)
        if not events:
            return Head(index, prev)
        sha = hashlib.sha256
        rows = []
        for ev in events:
            when = iso(ev.time)
            raw = canonical(ev, index, hexlify(prev).decode(), when)
            leaf = sha(b"\x00" + raw).digest()
            prev = sha(prev + leaf).digest()
            ev.index = index
            ev.leaf = leaf.hex()
            rows.append((index, when, ev.source[:128], ev.code, ev.actor[:256], raw, leaf, prev))
            index += 1
        sql = _INSERT if conn.dialect.paramstyle == "qmark" else _INSERT.replace("?", "%s")
        conn.exec_driver_sql(sql, rows)
        return Head(index, prev)

    def head(self) -> Head:
        with self.store.read() as conn:
            last = conn.execute(
                select(monitoring_events.c.idx, monitoring_events.c.chain_hash)
                .order_by(monitoring_events.c.idx.desc())
                .limit(1)
            ).first()
        return Head(last[0] + 1, bytes(last[1])) if last else Head(0, GENESIS)

    def documents(self, start: int = 0, limit: int = 1000) -> list[dict[str, object]]:
        with self.store.read() as conn:
            rows = conn.execute(
                select(monitoring_events.c.canonical)
                .where(monitoring_events.c.idx >= start)
                .order_by(monitoring_events.c.idx)
                .limit(limit)
            ).all()
        return [json.loads(_as_bytes(r[0])) for r in rows]

    def verify(self, batch: int = 20000) -> Head:
        """Recompute the chain from genesis (raises LogBroken naming the first bad index)."""
        # Source times, not a single clock: ingested events arrive out of order.
        scanner = Scanner(monotonic_time=False)
        start = 0
        c = monitoring_events.c
        while True:
            with self.store.read() as conn:
                rows = conn.execute(
                    select(c.idx, c.canonical, c.leaf_hash, c.chain_hash)
                    .where(c.idx >= start)
                    .order_by(c.idx)
                    .limit(batch)
                ).all()
            if not rows:
                break
            scanner.feed_batch(
                RowBatch(
                    [int(r[0]) for r in rows],
                    [_as_bytes(r[1]) for r in rows],
                    [_as_bytes(r[2]) for r in rows],
                    [_as_bytes(r[3]) for r in rows],
                )
            )
            start = int(rows[-1][0]) + 1
        res = scanner.finish()
        return Head(res.size, res.head)

    def verify_anchored(self, audit_size_hint: int | None = None) -> Head:
        """Verify the chain, then check every anchor the audit log holds for it.

        Raises :class:`~stagewall.audit.LogBroken` when the chain does not recompute
        or an anchored head differs from the stored chain hash at that index (the
        monitoring log was cut or rewritten after the anchor was written).
        """
        from stagewall.audit import AuditLog, LogBroken
        from stagewall.audit._tables import audit_events
        from stagewall.monitoring._audit import INGEST_BATCH

        head = self.verify()
        audit = AuditLog(self.store)
        with self.store.read() as conn:
            indexes = [
                int(i)
                for (i,) in conn.execute(
                    select(audit_events.c.idx).where(audit_events.c.code == INGEST_BATCH.code)
                )
            ]
        c = monitoring_events.c
        for idx in indexes:
            details = audit.events(idx, 1)[0].details
            last, anchored = details.get("last_index"), details.get("monitoring_head")
            if not isinstance(last, int) or not isinstance(anchored, str):
                continue
            with self.store.read() as conn:
                stored = conn.execute(select(c.chain_hash).where(c.idx == last)).scalar()
            if stored is None or _as_bytes(stored).hex() != anchored:
                raise LogBroken(
                    last,
                    f"the monitoring log does not match its anchor in audit event {idx}",
                    hint="events were removed or rewritten after they were anchored",
                )
        return head

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
        text = json.dumps(value, sort_keys=True, separators=(",", ":"))
        if conn is None:
            with self.store.transaction() as own:
                self.save_state(key, value, conn=own)
            return
        conn.execute(monitoring_state.delete().where(monitoring_state.c.key == key))
        conn.execute(insert(monitoring_state), {"key": key, "value": text})


__all__ = ["LOCK_NAME", "Head", "MonitorLog"]
