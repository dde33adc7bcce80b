"""The newest event per log source, kept in the store for every server instance.

Several ``stagewall serve`` instances may ingest the same source (a balancer in front
of them); the silent-source check runs on the sweeper's leader only. Both judge from
``monitoring_source_seen``: each ingest call locks its source's row for its
transaction, starts its gap judgement from the stored newest event time and writes
the new one back; the check claims a silence with one conditional update, so a silence
is alerted once whichever instance leads (also when leadership changes mid-check).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

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
    "WHERE source = ? AND (last_event IS NULL OR last_event < ?)"
)
_CLAIM_SILENCE = text(
    "UPDATE monitoring_source_seen SET alerted_last = last_event "
    "WHERE source = :s AND last_event IS NOT NULL AND last_event < :cut "
    "AND (alerted_last IS NULL OR alerted_last <> last_event) "
    "RETURNING last_event"
)


def hold(conn: Connection, source: str) -> tuple[float | None, float | None]:
    """Lock ``source``'s row for ``conn``'s transaction (made if missing).

    Returns the newest event time any instance stored and the one whose silence was
    already alerted. On PostgreSQL a concurrent ingest of the same source waits here
    until this transaction ends, then reads what it wrote.
    """
    row = conn.exec_driver_sql(_sql(conn, _CLAIM_ROW), (source,)).one()
    return (
        float(row[0]) if row[0] is not None else None,
        float(row[1]) if row[1] is not None else None,
    )


def advance(conn: Connection, source: str, last: float) -> None:
    """Store ``last`` as ``source``'s newest event time unless a newer one is stored."""
    conn.exec_driver_sql(_sql(conn, _ADVANCE), (last, source, last))


def claim_silence(conn: Connection, source: str, now: float, max_gap: float) -> float | None:
    """The newest event time of ``source`` if it is older than ``max_gap`` at ``now`` and
    its silence was not alerted yet (then marked alerted, in ``conn``'s transaction);
    otherwise None."""
    value = conn.execute(_CLAIM_SILENCE, {"s": source, "cut": now - max_gap}).scalar()
    return float(value) if value is not None else None


__all__ = ["advance", "claim_silence", "hold"]
