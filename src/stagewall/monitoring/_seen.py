"""The newest event per log source, kept in the store for every server instance.

Several ``stagewall serve`` instances may ingest the same source (a balancer in front
of them); the silent-source check runs on the sweeper's leader only. Both judge from
``monitoring_source_seen``: each ingest call locks its source's row for its
transaction, starts its gap judgement from the stored newest event time and writes
the new one back; the check claims a silence with one conditional update, so a silence
is alerted once whichever instance leads (also when leadership changes mid-check).

The row is not evidence (the monitoring log is), and ingestion never stores a time
later than the receiving clock allows (``MAX_AHEAD``): a newer one was written into
the store some other way, and counts as a silence, not as a source alive until then.
A watched source with no event time stored (it never posted, or its row was deleted)
is watched from the first check on, so that deleting the row does not end the watch:
until its first event, ``alerted_last`` holds the time the watch started, negated once
that silence was alerted (event times are positive; ``alerted_last`` is compared with
``last_event`` only, so neither is taken for an event's time).
"""

from __future__ import annotations

import time

from sqlalchemy import Connection, text

from stagewall.monitoring.baselines import MAX_AHEAD
from stagewall.monitoring.log import _sql

# Plain SQL for the two statements of every ingest call (no statement compilation);
# positional parameters, "?" (SQLite) or "%s" (psycopg) by the driver.
_CLAIM_ROW = (
    "INSERT INTO monitoring_source_seen (source, last_event, alerted_last) "
    "VALUES (?, NULL, NULL) ON CONFLICT (source) DO UPDATE "
    "SET last_event = monitoring_source_seen.last_event "
    "RETURNING last_event, alerted_last"
)
_ADVANCE = (
    "UPDATE monitoring_source_seen SET last_event = ? "
    "WHERE source = ? AND (last_event IS NULL OR last_event < ? OR last_event > ?)"
)
_CLAIM_SILENCE = text(
    "UPDATE monitoring_source_seen SET alerted_last = last_event "
    "WHERE source = :s AND last_event IS NOT NULL "
    "AND (last_event < :cut OR last_event > :latest) "
    "AND (alerted_last IS NULL OR alerted_last <> last_event) "
    "RETURNING last_event"
)
_WATCH = text(
    "INSERT INTO monitoring_source_seen (source, last_event, alerted_last) "
    "VALUES (:s, NULL, :now) ON CONFLICT (source) DO UPDATE SET alerted_last = :now "
    "WHERE monitoring_source_seen.last_event IS NULL "
    "AND monitoring_source_seen.alerted_last IS NULL"
)
_CLAIM_UNSEEN = text(
    "UPDATE monitoring_source_seen SET alerted_last = -alerted_last "
    "WHERE source = :s AND last_event IS NULL AND alerted_last > 0 AND alerted_last < :cut "
    "RETURNING alerted_last"
)


def hold(
    conn: Connection, source: str, now: float | None = None
) -> tuple[float | None, float | None]:
    """Lock ``source``'s row for ``conn``'s transaction (made if missing).

    Returns the newest event time any instance stored and the one whose silence was
    already alerted. On PostgreSQL a concurrent ingest of the same source waits here
    until this transaction ends, then reads what it wrote. Given ``now``, a stored
    time later than ingestion allows (an edited row) is returned as None: no gap is
    judged from it, and :func:`advance` overwrites it.
    """
    row = conn.exec_driver_sql(_sql(conn, _CLAIM_ROW), (source,)).one()
    last = float(row[0]) if row[0] is not None else None
    if last is not None and now is not None and last > now + MAX_AHEAD:
        last = None
    return last, float(row[1]) if row[1] is not None else None


def advance(conn: Connection, source: str, last: float, now: float | None = None) -> None:
    """Store ``last`` as ``source``'s newest event time unless a newer one is stored (one
    later than ingestion allows at ``now``, default the wall clock, is overwritten)."""
    latest = (time.time() if now is None else now) + MAX_AHEAD
    conn.exec_driver_sql(_sql(conn, _ADVANCE), (last, source, last, latest))


def watch(conn: Connection, source: str, now: float) -> None:
    """Start judging ``source``'s silence from ``now`` when no event time is stored."""
    conn.execute(_WATCH, {"s": source, "now": now})


def claim_unseen(conn: Connection, source: str, now: float, max_gap: float) -> float | None:
    """The time the watch of ``source`` started if no event came within ``max_gap`` of it
    and that was not alerted yet (then marked alerted); otherwise None."""
    value = conn.execute(_CLAIM_UNSEEN, {"s": source, "cut": now - max_gap}).scalar()
    return -float(value) if value is not None else None


def claim_silence(conn: Connection, source: str, now: float, max_gap: float) -> float | None:
    """The newest event time of ``source`` if it is older than ``max_gap`` at ``now``, or
    later than ingestion allows (an edited row), and its silence was not alerted yet
    (then marked alerted, in ``conn``'s transaction); otherwise None."""
    value = conn.execute(
        _CLAIM_SILENCE, {"s": source, "cut": now - max_gap, "latest": now + MAX_AHEAD}
    ).scalar()
    return float(value) if value is not None else None


__all__ = ["advance", "claim_silence", "claim_unseen", "hold", "watch"]
