"""AuditLog: append events to the store, write checkpoints, read and prove."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import Connection, bindparam, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from stagewall import __version__
from stagewall.audit._canonical import canonical_bytes, check_json_safe
from stagewall.audit._chain import GENESIS, RowBatch
from stagewall.audit._checkpoint import (
    Checkpoint,
    CheckpointInvalid,
    parse_note,
    sign_checkpoint,
    verify_checkpoint,
)
from stagewall.audit._merkle import Frontier, consistency_proof, inclusion_path
from stagewall.audit._signed import Signed, SignerMemory, log_id
from stagewall.audit._tables import audit_checkpoints, audit_events
from stagewall.audit.events import (
    AuditEvent,
    EventType,
    Status,
    StoredEvent,
    build_document,
    get_event_type,
)
from stagewall.errors import BackendError, ConfigError, StagewallError, UsageError
from stagewall.identity.actor import current_actor
from stagewall.keys import SigningKey, load_signing_key
from stagewall.store import Store, lock_key

LOCK_NAME = "stagewall.audit"
MAX_INDEX = 2**63 - 1
"""The largest event index a client may name: the store's integer columns hold no more
(a larger one would reach the database driver and fail there, not as a clear 400)."""
_BATCH_QMARK = (
    "SELECT idx, canonical, leaf_hash, chain_hash FROM audit_events "
    "WHERE idx >= ? AND idx < ? ORDER BY idx LIMIT ?"
)
_BATCH_FORMAT = _BATCH_QMARK.replace("?", "%s")
# The same with the unhashed columns, which verify checks against the hashed bytes.
_BATCH_COLUMNS_QMARK = _BATCH_QMARK.replace(
    "chain_hash FROM", "chain_hash, time, code, status, actor, resource FROM"
)
_BATCH_COLUMNS_FORMAT = _BATCH_COLUMNS_QMARK.replace("?", "%s")
# Events read per statement by AuditLog.events_ref (well under SQLite's variable limit).
_REF_BATCH = 500
_EVENTS_AT = select(
    audit_events.c.idx,
    audit_events.c.canonical,
    audit_events.c.leaf_hash,
    audit_events.c.chain_hash,
).where(audit_events.c.idx.in_(bindparam("idx", expanding=True)))
_TAIL_FORMAT = "SELECT idx, canonical, chain_hash FROM audit_events ORDER BY idx DESC LIMIT 1"
# Plain SQL on the append path: the statements are fixed, and building and compiling
# SQLAlchemy constructs cost more than the statements (~60 vs ~15 us for the tail
# read on SQLite; paid by every ingest batch's anchor).
_INSERT_QMARK = (
    "INSERT INTO audit_events (idx, time, code, status, actor, resource, canonical, "
    "leaf_hash, chain_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_INSERT_FORMAT = _INSERT_QMARK.replace("?", "%s")
_log = logging.getLogger("stagewall.audit")
_KEPT_TAIL = "stagewall.audit.tail"


def _tail_holder(conn: Connection) -> Any:
    """The transaction of ``conn`` if it keeps the log's lock until it ends, else None.

    The tail an append wrote stays the log's tail while its transaction holds the log's
    lock (PostgreSQL: the advisory lock to the transaction's end; SQLite: ``BEGIN
    IMMEDIATE``'s write lock), so a later append in that transaction needs no lock and
    no read of the tail. Not in autocommit (each statement its own transaction, the
    lock gone after it) and not inside a savepoint (which may roll back alone).
    """
    txn = conn.get_transaction()
    if txn is None or not txn.is_active or conn.in_nested_transaction():
        return None
    if conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        return None
    return txn


_privileged: weakref.WeakKeyDictionary[Store, list[Callable[[], None]]] = (
    weakref.WeakKeyDictionary()
)
# The creation time of the newest checkpoint any AuditLog of a store has read from it, so
# that the short-lived logs code makes per act (an MFA check, a login) spare the query
# for it as the long-lived ones do (see AuditLog._maybe_checkpoint).
_newest_seen_by_store: weakref.WeakKeyDictionary[Store, datetime] = weakref.WeakKeyDictionary()


def on_privileged_append(store: Store, listener: Callable[[], None]) -> Callable[[], None]:
    """Call ``listener`` after each commit that appended a privileged act's event to
    ``store``'s log; returns a function that unregisters it.

    An event is a privileged act's when it was written under a second factor verified
    in the same request (:func:`stagewall.identity.stepup.verify_step_up`): approvals
    and denials, credentials, break-glass, revocations, gate approvals, MFA resets,
    offboarding. The listener runs in the appending thread right after the commit, so
    it must only queue work; its failure is logged and never reaches the act.
    """
    _privileged.setdefault(store, []).append(listener)

    def remove() -> None:
        listeners = _privileged.get(store, [])
        if listener in listeners:
            listeners.remove(listener)

    return remove


def _is_privileged(p: _Prepared) -> bool:
    return bool(p.authn and p.authn.get("step_up"))


def utc_now() -> str:
    """UTC ISO 8601 with microseconds and ``Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _as_bytes(value: Any) -> bytes:
    """Column value as bytes (a tampered SQLite row may come back as TEXT)."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    return bytes(value)


def _hashed_time(raw: bytes) -> str:
    """The ``time`` recorded inside an event's canonical (hashed) bytes."""
    try:
        value = json.loads(raw)["time"]
    except (ValueError, KeyError, TypeError) as exc:
        raise CheckpointInvalid(
            "the newest audit event is not well-formed; refusing to append after it",
            hint="run `stagewall audit verify`",
        ) from exc
    return str(value)


def _parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class StoredCheckpoint:
    """A signed checkpoint as kept in the store."""

    size: int
    root: bytes
    note: str
    key_name: str
    created: str


@dataclass(frozen=True)
class InclusionProof:
    index: int
    tree_size: int
    leaf_hash: bytes
    root: bytes
    path: tuple[bytes, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "leaf_index": self.index,
            "tree_size": self.tree_size,
            "leaf_hash": self.leaf_hash.hex(),
            "root_hash": self.root.hex(),
            "audit_path": [p.hex() for p in self.path],
        }


@dataclass(frozen=True)
class EventRef:
    """Where an event sits in the log and its leaf hash: what a bound row stores."""

    index: int
    leaf_hash: bytes


@dataclass(frozen=True)
class _Prepared:
    event: AuditEvent
    event_type: EventType
    details: dict[str, Any]
    authn: dict[str, Any] | None


class AuditLog:
    """The tamper-evident audit log in a :class:`~stagewall.store.Store`.

    ``checkpoint_every``/``checkpoint_interval`` control automatic checkpoints,
    written inside an append when a signing key exists in ``home`` (a missing or
    unusable key never blocks an append; it only means no automatic checkpoint).
    """

    def __init__(
        self,
        store: Store,
        *,
        checkpoint_every: int | None = 1000,
        checkpoint_interval: timedelta | None = timedelta(hours=1),
        home: str | os.PathLike[str] | None = None,
        signing_key: SigningKey | None = None,
    ) -> None:
        if checkpoint_every is not None and checkpoint_every < 1:
            raise ConfigError("checkpoint_every must be at least 1 (or None to disable)")
        self.store = store
        self.checkpoint_every = checkpoint_every
        self.checkpoint_interval = checkpoint_interval
        self._home = home
        self._signer: SigningKey | None = signing_key
        self._signer_checked = signing_key is not None
        self._newest_seen: datetime | None = None

    @property
    def home(self) -> str | os.PathLike[str] | None:
        """Where the log's signing key is looked up (None: ``STAGEWALL_HOME``)."""
        return self._home

    def signing_key(self) -> SigningKey:
        """The key checkpoints are signed with (raises KeyMissing when there is none)."""
        return self._signer or load_signing_key(self._home)

    # -- writing -----------------------------------------------------------

    def append(self, event: AuditEvent, *, conn: Connection | None = None) -> int:
        """Append one event; returns its index. With ``conn`` it joins that transaction."""
        return self.append_many([event], conn=conn)[0]

    def append_many(
        self, events: Sequence[AuditEvent], *, conn: Connection | None = None
    ) -> list[int]:
        """Append events in order, atomically; returns their indexes."""
        return [ref.index for ref in self.append_refs(events, conn=conn)]

    def append_refs(
        self, events: Sequence[AuditEvent], *, conn: Connection | None = None
    ) -> list[EventRef]:
        """Append events; returns index and leaf hash of each (to bind rows to events)."""
        prepared = [self._prepare(e) for e in events]
        if not prepared:
            return []
        with self._tx(conn) as c:
            return self._append_locked(c, prepared)

    def event_ref(self, index: int, *, conn: Connection) -> StoredEvent | None:
        """The stored event at ``index`` with its leaf hash recomputed from its bytes.

        ``None`` when there is no such event or its stored leaf hash does not match its
        canonical bytes (a row edited in place).
        """
        row = conn.execute(
            select(
                audit_events.c.canonical,
                audit_events.c.leaf_hash,
                audit_events.c.chain_hash,
            ).where(audit_events.c.idx == index)
        ).first()
        if row is None:
            return None
        raw, leaf = _as_bytes(row[0]), _as_bytes(row[1])
        if hashlib.sha256(b"\x00" + raw).digest() != leaf:
            return None
        return StoredEvent.from_raw(index, raw, leaf, _as_bytes(row[2]))

    def events_ref(self, indexes: Iterable[int], *, conn: Connection) -> dict[int, StoredEvent]:
        """:meth:`event_ref` of many indexes in few statements: index -> event, without
        the indexes that have no event or whose stored leaf hash does not match."""
        wanted = sorted(set(indexes))
        found: dict[int, StoredEvent] = {}
        for start in range(0, len(wanted), _REF_BATCH):
            rows = conn.execute(_EVENTS_AT, {"idx": wanted[start : start + _REF_BATCH]}).all()
            for row in rows:
                raw, leaf = _as_bytes(row[1]), _as_bytes(row[2])
                if hashlib.sha256(b"\x00" + raw).digest() == leaf:
                    found[int(row[0])] = StoredEvent.from_raw(
                        int(row[0]), raw, leaf, _as_bytes(row[3])
                    )
        return found

    def _prepare(self, event: AuditEvent) -> _Prepared:
        if not isinstance(event, AuditEvent):
            raise ConfigError(f"expected an AuditEvent, got {type(event).__name__}")
        event_type = get_event_type(event.code)
        for name in ("actor", "message"):
            value = getattr(event, name)
            if not isinstance(value, str) or not value:
                raise ConfigError(f"audit event {event.code}: {name} must be non-empty text")
        if event.resource is not None and not isinstance(event.resource, str):
            raise ConfigError(f"audit event {event.code}: resource must be text or None")
        if not isinstance(event.status, Status):
            raise ConfigError(f"audit event {event.code}: status must be a Status")
        details = check_json_safe(event.details, "details")
        check_json_safe(event.actor, "actor")
        check_json_safe(event.message, "message")
        actor = current_actor()
        authn = None
        if actor is not None:
            authn = check_json_safe(actor.audit_context(datetime.now(UTC)), "authn")
        return _Prepared(event, event_type, details, authn)

    def _locked_tail(self, conn: Connection) -> Any:
        """Take the log's lock, then read its newest row (idx, canonical, chain_hash).

        On PostgreSQL both statements go in one round trip (a pipeline): the server runs
        the read only after the lock statement returned, so under READ COMMITTED its
        snapshot is taken with the lock held, as with two round trips.
        """
        if self.store.backend != "postgresql":
            self.store.lock(conn, LOCK_NAME)
            return conn.exec_driver_sql(_TAIL_FORMAT).first()
        raw = conn.connection.driver_connection
        assert raw is not None  # a live connection inside the caller's transaction
        try:
            with raw.pipeline(), raw.cursor() as locking, raw.cursor() as cur:
                locking.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(LOCK_NAME),))
                cur.execute(_TAIL_FORMAT)
                return cur.fetchone()
        except psycopg.Error as exc:
            raise BackendError(
                f"the audit log in {self.store.display_url} failed: {exc.__class__.__name__}",
                hint="check the store is reachable and migrated (stagewall.store.Store.migrate())",
            ) from None

    def _append_locked(self, conn: Connection, prepared: Sequence[_Prepared]) -> list[EventRef]:
        txn = _tail_holder(conn)
        kept = conn.info.get(_KEPT_TAIL) if txn is not None else None
        if kept is not None and kept[0] is txn:
            # This transaction appended before and holds the log's lock since (until it
            # ends): nobody else appended, so the tail it wrote is still the tail.
            index, last_time, prev = kept[1], kept[2], kept[3]
        else:
            last = self._locked_tail(conn)
            # The previous time comes from the hashed bytes, never from the unhashed column.
            index, last_time, prev = (
                (last[0] + 1, _hashed_time(_as_bytes(last[1])), bytes(last[2]))
                if last
                else (0, "", GENESIS)
            )
        start = index
        now = utc_now()  # this process's clock: the server's, never the caller's
        time = now if now > last_time else last_time
        rows: list[tuple[Any, ...]] = []
        refs: list[EventRef] = []
        sha = hashlib.sha256
        for p in prepared:
            doc = build_document(
                p.event,
                p.event_type,
                details=p.details,
                time=time,
                index=index,
                prev_hash=prev,
                product_version=__version__,
                authn=p.authn,
            )
            raw = canonical_bytes(doc)
            leaf = sha(b"\x00" + raw).digest()
            prev = sha(prev + leaf).digest()
            refs.append(EventRef(index, leaf))
            rows.append(
                (
                    index,
                    time,
                    p.event.code,
                    p.event.status.value,
                    p.event.actor[:256],
                    p.event.resource[:512] if p.event.resource else None,
                    raw,
                    leaf,
                    prev,
                )
            )
            index += 1
        qmark = conn.dialect.paramstyle == "qmark"
        conn.info.pop(_KEPT_TAIL, None)  # should the insert fail, nothing is kept
        conn.exec_driver_sql(_INSERT_QMARK if qmark else _INSERT_FORMAT, rows)
        if txn is not None:
            conn.info[_KEPT_TAIL] = (txn, index, time, prev)
        self._maybe_checkpoint(conn, start, index)
        if any(_is_privileged(p) for p in prepared):
            for listener in list(_privileged.get(self.store, ())):
                Store.after_commit(conn, listener)
        return refs

    @contextmanager
    def _tx(self, conn: Connection | None) -> Iterator[Connection]:
        try:
            if conn is None:
                with self.store.transaction() as own:
                    yield own
            else:
                yield conn
        except SQLAlchemyError as exc:
            raise BackendError(
                f"the audit log in {self.store.display_url} failed: {exc.__class__.__name__}",
                hint="check the store is reachable and migrated (stagewall.store.Store.migrate())",
            ) from exc

    # -- checkpoints -------------------------------------------------------

    def _signing_key(self) -> SigningKey | None:
        if not self._signer_checked:
            self._signer_checked = True
            try:
                self._signer = load_signing_key(self._home)
            except StagewallError as exc:
                _log.info("no automatic audit checkpoints: %s", exc.message)
                self._signer = None
        return self._signer

    def _maybe_checkpoint(self, conn: Connection, old_size: int, new_size: int) -> None:
        if self.checkpoint_every is None and self.checkpoint_interval is None:
            return
        key = self._signing_key()
        if key is None:
            return
        every = self.checkpoint_every
        due = every is not None and new_size // every > old_size // every
        interval = self.checkpoint_interval
        if not due and interval is not None:
            now = datetime.now(UTC)
            # A newer checkpoint in the store only makes one less due, so a recent one
            # seen before (by this log or another of the same store) spares the query.
            seen = self._newest_seen
            shared = _newest_seen_by_store.get(self.store)
            if shared is not None and (seen is None or shared > seen):
                seen = shared
            if seen is None or now - seen >= interval:
                newest = conn.execute(
                    select(audit_checkpoints.c.created)
                    .order_by(audit_checkpoints.c.size.desc())
                    .limit(1)
                ).scalar()
                if newest is not None:
                    self._newest_seen = _parse_time(newest)
                    _newest_seen_by_store[self.store] = self._newest_seen
                due = newest is None or now - _parse_time(newest) >= interval
        if due:
            self._write_checkpoint(conn, key)

    def checkpoint(self, *, key: SigningKey | None = None) -> StoredCheckpoint:
        """Sign and store a checkpoint of the current log (or return the newest if current)."""
        signer = key or load_signing_key(self._home)
        with self._tx(None) as conn:
            self.store.lock(conn, LOCK_NAME)
            return self._write_checkpoint(conn, signer)

    def _write_checkpoint(self, conn: Connection, key: SigningKey) -> StoredCheckpoint:
        prev = conn.execute(
            select(audit_checkpoints).order_by(audit_checkpoints.c.size.desc()).limit(1)
        ).first()
        if prev is not None:
            try:
                frontier = Frontier.from_bytes(prev.size, bytes(prev.frontier))
            except ValueError as exc:
                raise CheckpointInvalid(f"stored checkpoint {prev.size} is corrupt") from exc
            source = f"stored checkpoint at tree size {prev.size}"
            cp, _sigs = parse_note(prev.note, source=source)
            if frontier.root() != bytes(prev.root_hash) or cp.root != frontier.root():
                raise CheckpointInvalid(
                    f"stored checkpoint at tree size {prev.size} does not match its own tree state",
                    hint="the store was altered; run `stagewall audit verify`",
                )
            # A row anyone with the store could have written is no base to sign on.
            if cp.size != prev.size:
                raise CheckpointInvalid(f"{source}: its note is for tree size {cp.size}")
            verify_checkpoint(prev.note, key.public, source=source)
        else:
            frontier = Frontier()
        memory = SignerMemory.of(self._home, key, *self._memory_ids(conn))
        # Each tree state remembered for this log (under its id or its store's URL)
        # must lie under the store's; the largest is extended.
        for signed in memory.read() if memory is not None else ():
            frontier = self._extend_signed(conn, signed, prev)
        self._extend(conn, frontier, None)
        if prev is not None and frontier.size == prev.size:
            return StoredCheckpoint(
                prev.size, bytes(prev.root_hash), prev.note, prev.key_name, prev.created
            )
        root = frontier.root()
        note = sign_checkpoint(Checkpoint(key.name, frontier.size, root), key)
        created = utc_now()
        conn.execute(
            insert(audit_checkpoints),
            {
                "size": frontier.size,
                "root_hash": root,
                "frontier": frontier.to_bytes(),
                "note": note,
                "key_name": key.name,
                "created": created,
            },
        )
        if memory is not None:
            done = Signed(frontier.size, root, Frontier(frontier.size, frontier.stack))
            # remembered once the checkpoint is committed (a rolled-back one was never made)
            Store.after_commit(conn, lambda: memory.write(done))
        return StoredCheckpoint(frontier.size, root, note, key.name, created)

    def _memory_ids(self, conn: Connection) -> list[str]:
        """The ids the signer remembers this log under: the log's own (the hash of its
        first event, recomputed from its bytes: the same whatever URL reaches the
        store) and the store's URL (which also catches a first event rewritten)."""
        first = conn.execute(
            select(audit_events.c.canonical).where(audit_events.c.idx == 0)
        ).scalar()
        ids = [] if first is None else [log_id(hashlib.sha256(b"\x00" + _as_bytes(first)).digest())]
        return [*ids, self.store.display_url]

    def _extend_signed(self, conn: Connection, signed: Signed, prev: Any) -> Frontier:
        """The tree state the signer remembers, checked against the store's newest row."""
        size = conn.execute(select(func.max(audit_events.c.idx))).scalar()
        held = 0 if size is None else int(size) + 1
        if held < signed.size:
            raise CheckpointInvalid(
                f"the store holds {held} audit events, but this server signed a checkpoint "
                f"of {signed.size}: the log was truncated or the store rolled back to an "
                "older copy; refusing to sign",
                hint="investigate who changed the store; restore it from a bundle consistent "
                f"with the checkpoint of size {signed.size} (docs/audit.md, 'What the signer "
                "remembers')",
            )
        if prev is None or prev.size < signed.size:
            newest = 0 if prev is None else prev.size
            raise CheckpointInvalid(
                f"the store's newest checkpoint is of tree size {newest}, "
                f"but this server signed one of {signed.size}: checkpoint rows were removed or the "
                "store was rolled back to an older copy; refusing to sign",
                hint="investigate who changed the store (docs/audit.md, 'What the signer "
                "remembers')",
            )
        frontier = Frontier(signed.size, signed.frontier.stack)
        if frontier.root() != signed.root:
            raise CheckpointInvalid("the signer's remembered tree state is damaged")
        self._extend(conn, frontier, prev.size)
        if frontier.root() != bytes(prev.root_hash):
            raise CheckpointInvalid(
                f"the store's checkpoint at tree size {prev.size} is not on the tree this "
                "server signed: events were rewritten; refusing to sign",
                hint="investigate who changed the store (docs/audit.md, 'What the signer "
                "remembers')",
            )
        return frontier

    @staticmethod
    def _extend(conn: Connection, frontier: Frontier, stop: int | None) -> None:
        """Append the store's events from ``frontier.size`` (below ``stop``), each leaf
        recomputed from its canonical bytes: the signer never signs a leaf column that
        does not hash its event."""
        query = (
            select(audit_events.c.idx, audit_events.c.canonical, audit_events.c.leaf_hash)
            .where(audit_events.c.idx >= frontier.size)
            .order_by(audit_events.c.idx)
        )
        if stop is not None:
            query = query.where(audit_events.c.idx < stop)
        sha = hashlib.sha256
        for expected, (idx, raw, leaf) in enumerate(conn.execute(query), start=frontier.size):
            if idx != expected:
                raise CheckpointInvalid(
                    f"audit event {expected} is missing; refusing to sign a checkpoint",
                    hint="run `stagewall audit verify`",
                )
            leaf = _as_bytes(leaf)
            if sha(b"\x00" + _as_bytes(raw)).digest() != leaf:
                raise CheckpointInvalid(
                    f"audit event {idx} does not hash to its stored leaf; refusing to sign",
                    hint="run `stagewall audit verify`",
                )
            frontier.append(leaf)
        if stop is not None and frontier.size != stop:
            raise CheckpointInvalid(
                f"audit event {frontier.size} is missing; refusing to sign a checkpoint",
                hint="run `stagewall audit verify`",
            )

    def checkpoints(self) -> list[StoredCheckpoint]:
        with self._tx(None) as conn:
            rows = conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.size)).all()
        return [
            StoredCheckpoint(r.size, bytes(r.root_hash), r.note, r.key_name, r.created)
            for r in rows
        ]

    # -- reading -----------------------------------------------------------

    def size(self) -> int:
        with self._tx(None) as conn:
            last = conn.execute(select(func.max(audit_events.c.idx))).scalar()
        return 0 if last is None else int(last) + 1

    def last_activity(self, actor: str, *, conn: Connection | None = None) -> str | None:
        """UTC time (ISO 8601) of the newest event whose actor is ``actor``, or None.

        The time and actor are read from the hashed bytes; the unhashed columns only
        narrow the search.
        """
        with self._tx(conn) as c:
            rows = c.execute(
                select(audit_events.c.canonical)
                .where(audit_events.c.actor == actor[:256])
                .order_by(audit_events.c.idx.desc())
            )
            for (raw,) in rows:
                doc = json.loads(_as_bytes(raw))
                if doc.get("actor", {}).get("user", {}).get("name") == actor:
                    return str(doc["time"])
        return None

    def events(self, start: int = 0, limit: int | None = None) -> list[StoredEvent]:
        """Events from index ``start`` (negative counts from the end), at most ``limit``."""
        if limit is not None and limit < 0:
            raise UsageError("limit must not be negative")
        if start < 0:
            start = max(0, self.size() + start)
        query = (
            select(
                audit_events.c.idx,
                audit_events.c.canonical,
                audit_events.c.leaf_hash,
                audit_events.c.chain_hash,
            )
            .where(audit_events.c.idx >= start)
            .order_by(audit_events.c.idx)
        )
        if limit is not None:
            query = query.limit(limit)
        with self._tx(None) as conn:
            rows = conn.execute(query).all()
        return [
            StoredEvent.from_raw(int(i), _as_bytes(raw), _as_bytes(leaf), _as_bytes(ch))
            for i, raw, leaf, ch in rows
        ]

    def iter_batches(
        self, batch: int = 20000, *, stop: int | None = None, columns: bool = False
    ) -> Iterator[RowBatch]:
        """All rows (below index ``stop``) in index order, in column batches; with
        ``columns`` each batch carries the rows' unhashed columns too.

        Reads through the driver cursor directly: verification is bound by this read,
        and the driver is several times faster than SQLAlchemy's row processing.
        """
        start = 0
        upper = stop if stop is not None else 2**63 - 1
        while True:
            with self._tx(None) as conn:
                qmark = conn.dialect.paramstyle == "qmark"
                if columns:
                    sql = _BATCH_COLUMNS_QMARK if qmark else _BATCH_COLUMNS_FORMAT
                else:
                    sql = _BATCH_QMARK if qmark else _BATCH_FORMAT
                cursor = conn.connection.cursor()
                try:
                    cursor.execute(sql, (start, upper, batch))
                    rows = cursor.fetchall()
                finally:
                    cursor.close()
            if rows:
                cols = list(zip(*rows, strict=True))
                idxs, raws, leaves, chains = (list(col) for col in cols[:4])
                for col in (raws, leaves, chains):
                    if not all(type(v) is bytes for v in col):
                        col[:] = [_as_bytes(v) for v in col]
                unhashed = [tuple(r[4:]) for r in rows] if columns else None
                yield RowBatch([int(i) for i in idxs], raws, leaves, chains, unhashed)
            if len(rows) < batch:
                return
            start = int(rows[-1][0]) + 1

    def leaf_hashes(self, size: int | None = None) -> list[bytes]:
        query = select(audit_events.c.leaf_hash).order_by(audit_events.c.idx)
        if size is not None:
            query = query.where(audit_events.c.idx < size)
        with self._tx(None) as conn:
            return [_as_bytes(r[0]) for r in conn.execute(query)]

    def inclusion_proof(self, index: int, tree_size: int | None = None) -> InclusionProof:
        leaves = self.leaf_hashes(tree_size)
        n = len(leaves) if tree_size is None else tree_size
        if tree_size is not None and len(leaves) < tree_size:
            raise UsageError(f"the log has {len(leaves)} events, fewer than tree size {tree_size}")
        if not 0 <= index < n:
            raise UsageError(f"event index {index} is outside the log (size {n})")
        from stagewall.audit._merkle import root

        return InclusionProof(
            index, n, leaves[index], root(leaves), tuple(inclusion_path(index, leaves))
        )

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        leaves = self.leaf_hashes(new_size)
        if not 0 <= old_size <= len(leaves):
            raise UsageError(f"old size {old_size} is outside the log (size {len(leaves)})")
        return consistency_proof(old_size, leaves)


__all__ = ["LOCK_NAME", "AuditLog", "InclusionProof", "StoredCheckpoint", "utc_now"]
