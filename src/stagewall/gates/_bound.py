"""Check reports and deployments are bound to the audit events that recorded them.

A ``gate_checks`` row (a passing report lets a change through its stage's checks) and
a ``gate_deployments`` row (it lets the change into the next stage, starts its wait
and ends the commit range the next submission is judged by) carry the log index and
leaf hash of their event (migration gatebind_0001), like approvals and promotions.
A row inserted or edited straight in the store has no event, or one that says
something else: it counts for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Row

from stagewall.access.binding import bound_event
from stagewall.audit import AuditLog, Status
from stagewall.audit.events import StoredEvent
from stagewall.gates import _events as ev


def _events(log: AuditLog, conn: Connection, rows: Iterable[Row[Any]]) -> dict[int, StoredEvent]:
    return log.events_ref(
        (int(r.audit_index) for r in rows if r.audit_index is not None), conn=conn
    )


def check_row_problem(
    log: AuditLog,
    conn: Connection,
    row: Mapping[str, Any],
    events: Mapping[int, StoredEvent] | None = None,
) -> str | None:
    """Why the check report ``row`` is not backed by its ``gate.check.reported`` event."""
    event, problem = bound_event(log, conn, row, "check report", (ev.REPORTED.code,), events=events)
    if event is None:
        return problem
    d = event.details
    if event.status is not Status.SUCCESS or event.actor != row.get("reporter"):
        return f"audit event #{event.index} is not a report by {row.get('reporter')}"
    for name, field in (
        ("check", "name"),
        ("status", "status"),
        ("sha", "sha"),
        ("stage", "stage"),
    ):
        if str(d.get(name)) != str(row.get(field)):
            return f"the report's {name} differs from audit event #{event.index}"
    return None


def deployment_row_problem(
    log: AuditLog,
    conn: Connection,
    row: Mapping[str, Any],
    events: Mapping[int, StoredEvent] | None = None,
) -> str | None:
    """Why the deployment ``row`` is not backed by its allowed ``gate.deploy.checked`` event."""
    event, problem = bound_event(log, conn, row, "deployment", (ev.CHECKED.code,), events=events)
    if event is None:
        return problem
    d = event.details
    if event.status is not Status.SUCCESS:
        return f"audit event #{event.index} is a refused gate check, not a deployment"
    if event.actor != (row.get("deployer") or "pipeline"):
        return f"audit event #{event.index} was written by {event.actor}, not the deployer"
    pairs = (("promotion", "request_id"), ("stage", "stage"), ("sha", "sha"), ("digest", "digest"))
    for name, field in pairs:
        if str(d.get(name)) != str(row.get(field)):
            return f"the deployment's {name} differs from audit event #{event.index}"
    return None


def bound_deployments(log: AuditLog, conn: Connection, rows: list[Row[Any]]) -> list[Row[Any]]:
    """The rows of ``rows`` (``gate_deployments``) that are bound to their event, in order."""
    events = _events(log, conn, rows)
    return [r for r in rows if deployment_row_problem(log, conn, dict(r._mapping), events) is None]


def check_problems(log: AuditLog, conn: Connection, rows: list[Row[Any]]) -> dict[int, str]:
    """Row id -> why, for the rows of ``rows`` (``gate_checks``) not bound to their event."""
    events = _events(log, conn, rows)
    out: dict[int, str] = {}
    for r in rows:
        why = check_row_problem(log, conn, dict(r._mapping), events)
        if why is not None:
            out[int(r.id)] = why
    return out


__all__ = [
    "bound_deployments",
    "check_problems",
    "check_row_problem",
    "deployment_row_problem",
]
