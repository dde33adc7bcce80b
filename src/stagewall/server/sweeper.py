"""The built-in sweeper: one leader per store ends expired grants every second.

Leadership is a lock that dies with its holder: a PostgreSQL session advisory lock
held on a dedicated connection, or on SQLite an exclusive ``flock`` on a file beside
the database. Every instance tries to become leader on each tick, so a killed
leader is replaced within a tick. The leader records each sweep's time in the store
(``access_meta``), which every instance's ``/healthz`` reports; any instance that
sees the last sweep older than :data:`LATE_AFTER` raises an alert.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, insert, select, text

from stagewall.access import sweep
from stagewall.access._core import fmt_time, parse_time
from stagewall.access._tables import access_meta
from stagewall.alerts import Alert, Severity
from stagewall.errors import StagewallError
from stagewall.identity import attempts, ci_uses, handoff
from stagewall.server._state import ServerState

LATE_AFTER = timedelta(seconds=10)
_LOCK_NAME = "stagewall.server.sweeper"
_LOCK_KEY = int.from_bytes(hashlib.sha256(_LOCK_NAME.encode()).digest()[:8], "big", signed=True)
_META_KEY = "last_sweep"
_log = logging.getLogger("stagewall.server.sweeper")


class Leadership:
    """Try to hold the sweeper lock of the store; ``held`` says whether we do."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self._conn: Connection | None = None
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None or self._fd is not None

    def try_acquire(self) -> bool:
        if self.held:
            return self._still_alive()
        store = self.state.ctx.store
        if store.backend == "postgresql":
            key = _LOCK_KEY
            conn = store.engine.connect()
            try:
                got = bool(
                    conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
                )
                conn.commit()
            except Exception:
                conn.close()
                raise
            if got:
                self._conn = conn
            else:
                conn.close()
            return got
        path = self._lock_path()
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def _lock_path(self) -> Path:
        db = self.state.ctx.store.engine.url.database or "stagewall.db"
        return Path(db).with_name(Path(db).name + ".sweeper.lock")

    def _still_alive(self) -> bool:
        if self._conn is None:
            return True
        try:
            self._conn.execute(text("SELECT 1"))
            self._conn.commit()
            return True
        except Exception:
            self.release()
            return False

    def release(self) -> None:
        if self._conn is not None:
            try:
                # Unlock first, synchronously: a closed socket frees the lock only when
                # the server's backend process has exited, which another instance
                # could race. Then invalidate, never return to a pool.
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
                self._conn.commit()
            except Exception as exc:  # the connection is already gone: so is the lock
                _log.info("sweeper lock not released explicitly: %s", type(exc).__name__)
            try:
                self._conn.invalidate()
                self._conn.close()
            except Exception as exc:  # the connection is already gone
                _log.info("sweeper lock connection closed with %s", type(exc).__name__)
            self._conn = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def last_sweep(state: ServerState) -> datetime | None:
    with state.ctx.store.read() as conn:
        value = conn.execute(
            select(access_meta.c.value).where(access_meta.c.key == _META_KEY)
        ).scalar()
    return parse_time(str(value)) if value else None


def _record_sweep(state: ServerState, when: datetime) -> None:
    with state.ctx.store.transaction() as conn:
        conn.execute(delete(access_meta).where(access_meta.c.key == _META_KEY))
        conn.execute(insert(access_meta).values(key=_META_KEY, value=fmt_time(when)))


WITNESS_EVERY = timedelta(minutes=1)
CI_PURGE_EVERY = timedelta(minutes=1)


def witness(state: ServerState) -> int:
    """Queue a witness round (:mod:`stagewall.server.witnessing`); the sweep never waits."""
    from stagewall.server.witnessing import rounds_of

    rounds_of(state).request()
    return 0


_APPROVAL_BATCH = 1000


def check_new_approvals(state: ServerState) -> list[int]:
    """Verify the binding of approval rows added since the last check; refuse + alert.

    Every access, promotion or masking plan approval row must carry the event that recorded it
    (written in the same transaction). A row inserted straight into the store has
    none: it is recorded as ``gate.row.unbound`` and alerted here, within a sweep,
    and counts for nothing at credential issuance and ``gate check``.
    """
    from stagewall.access import _events as aev
    from stagewall.access._tables import access_reviews
    from stagewall.access.binding import review_binding_problem
    from stagewall.gates import _events as gev
    from stagewall.gates._bound import REVIEW_CODES as gate_review_codes
    from stagewall.gates._bound import review_event_problem
    from stagewall.server.plans import PLAN_REVIEWED

    codes = (
        aev.REVIEW_RECORDED.code,
        gev.APPROVED.code,
        gev.FOLLOWED_UP.code,
        PLAN_REVIEWED.code,  # masking plan approvals (server.plans) are bound likewise
    )
    status = state.sweep
    found: list[tuple[Any, str]] = []
    with state.ctx.store.read() as conn:
        rows = conn.execute(
            select(access_reviews)
            .where(access_reviews.c.id > status.approvals_seen)
            .order_by(access_reviews.c.id)
            .limit(_APPROVAL_BATCH)
        ).all()
        # The events of all these rows in a few statements (not one per row), each
        # binding then checked exactly as with the event read alone.
        events = state.ctx.audit.events_ref(
            (int(r.audit_index) for r in rows if r.audit_index is not None), conn=conn
        )
        for row in rows:
            values = dict(row._mapping)
            why = review_binding_problem(state.ctx.audit, conn, values, codes, events=events)
            bound = events.get(int(row.audit_index)) if row.audit_index is not None else None
            if why is None and bound is not None and bound.code in gate_review_codes:
                # A promotion approval is judged as `gate check` judges it: its event
                # carries the server's seal and pins its time and MFA evidence.
                why = review_event_problem(state.ctx.audit, conn, values, events)
            if why is not None:
                found.append((row, why))
    for row, why in found:
        state.ctx.refuse(
            gev.ROW_UNBOUND.code,
            "stagewall.sweep",
            f"approval row {row.id} ({row.reviewer} on {row.request_id}) is not bound to its "
            f"audit event: {why}; it counts for nothing",
            resource=f"request:{row.request_id}",
            details={"request": row.request_id, "reviewer": row.reviewer, "row": row.id},
            loud=True,
        )
    if rows:
        status.approvals_seen = int(rows[-1].id)
    return [int(r.id) for r, _why in found]


def purge_ci_tokens(state: ServerState) -> int:
    """Forget used CI OIDC tokens that have expired (they cannot be replayed any more),
    and ended CLI/browser hand-offs; the number of CI token records removed."""
    handoff.expire(state.ctx.store, now=state.now())
    return ci_uses.purge(state.ctx.store, now=state.now())


def purge_attempts(state: ServerState) -> int:
    """Forget failed-attempt counters whose every slot has expired (rows of keys that
    stopped failing); the number of keys forgotten."""
    return attempts.purge(state.ctx.store, now=state.now())


def _periodic(
    state: ServerState,
    stamp: str,
    every: timedelta,
    job: Callable[[ServerState], int],
    what: str,
) -> None:
    """Run ``job`` when ``every`` has passed since ``state.sweep.<stamp>``; log its failure."""
    last: datetime | None = getattr(state.sweep, stamp)
    if last is not None and state.now() - last < every:
        return
    setattr(state.sweep, stamp, state.now())
    try:
        job(state)
    except StagewallError as exc:
        _log.error("%s failed: %s", what, exc.message)


def tick(state: ServerState, leadership: Leadership) -> None:
    """One iteration: sweep if leader (and witness every minute); check sweeps are on time."""
    status = state.sweep
    leader = leadership.try_acquire()
    status.leader = leader
    if leader:
        _periodic(state, "last_witness", WITNESS_EVERY, witness, "witnessing")
        _periodic(state, "last_ci_purge", CI_PURGE_EVERY, purge_ci_tokens, "purging CI tokens")
        _periodic(state, "last_attempts_purge", CI_PURGE_EVERY, purge_attempts, "purging attempts")
    if leader:
        try:
            report = sweep(state.ctx)
            check_new_approvals(state)
            now = state.now()
            _record_sweep(state, now)
            status.last_sweep = now
            status.sweeps += 1
            status.last_error = "; ".join(report.errors) or None
        except StagewallError as exc:
            status.last_error = exc.message
            _log.error("sweep failed: %s", exc.message)
        # After the sweep, never before it: scheduled work only queues into worker threads.
        from stagewall.server.scheduler import leader_duties

        leader_duties(state)
    last = last_sweep(state)
    now = state.now()
    late = last is not None and now - last > LATE_AFTER
    if late and not status.late_alerted:
        status.late_alerted = True
        state.ctx.alert(
            Alert(
                kind="server.sweep.late",
                title="the stagewall sweeper is late",
                text=f"the last sweep ran at {fmt_time(last) if last else 'never'}; "
                "expired grants may still be usable. Check the stagewall servers.",
                severity=Severity.CRITICAL,
                details={"last_sweep": fmt_time(last) if last else None},
            )
        )
    elif not late:
        status.late_alerted = False


class Sweeper:
    """The background thread of one server process."""

    def __init__(self, state: ServerState) -> None:
        self.state = state
        self.leadership = Leadership(state)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="stagewall-sweeper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)
        self.leadership.release()

    def _run(self) -> None:
        interval = self.state.settings.sweep_interval_seconds
        while not self._stop.is_set():
            try:
                tick(self.state, self.leadership)
            except Exception as exc:  # keep sweeping whatever one tick hit
                self.state.sweep.last_error = f"{type(exc).__name__}: {exc}"[:500]
                _log.exception("sweeper tick failed")
            self._stop.wait(interval)


HIDDEN_ERROR = "the last sweep reported errors: GET /api/v1/server/tasks or the server log"


def health(state: ServerState, *, detail: bool = False) -> dict[str, Any]:
    """The sweeper's health. ``/healthz`` is public: without ``detail`` an error is only
    said to exist — its text names production hosts, ports, admin roles and logins."""
    last = last_sweep(state)
    now = state.now()
    late = last is None or now - last > LATE_AFTER
    error = state.sweep.last_error
    return {
        "status": "late" if late else "ok",
        "leader": state.sweep.leader,
        "last_sweep": fmt_time(last) if last else None,
        "sweeps_here": state.sweep.sweeps,
        "last_error": error if detail or error is None else HIDDEN_ERROR,
    }


__all__ = [
    "LATE_AFTER",
    "Leadership",
    "Sweeper",
    "check_new_approvals",
    "health",
    "purge_attempts",
    "tick",
]
