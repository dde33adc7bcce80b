"""Check reports and deployments are bound to the audit events that recorded them.

A ``gate_checks`` row (a passing report lets a change through its stage's checks) and
a ``gate_deployments`` row (it lets the change into the next stage, starts its wait
and ends the commit range the next submission is judged by) carry the log index and
leaf hash of their event (migration gatebind_0001), like approvals and promotions.
A row inserted or edited straight in the store has no event, or one that says
something else: it counts for nothing.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from stagewall.access._core import parse_time
from stagewall.access.binding import bound_event
from stagewall.audit import AuditLog, Status
from stagewall.audit.events import StoredEvent
from stagewall.errors import KeyMissing
from stagewall.gates import _events as ev
from stagewall.gates._model import request_digest
from stagewall.gates._seal import seal_problem
from stagewall.gates._tables import gate_promotions
from stagewall.keys import load_public_key

PROMOTION_CODES = (ev.SUBMITTED.code, ev.BREAK_GLASS.code)


def sealed_by_server(log: AuditLog, event: StoredEvent) -> str | None:
    """Why ``event`` does not carry the server's seal (gates/_seal.py); None: it does.

    The seal is checked with the log's public key: the server's signing key, or where
    only the verifier key is at hand (an evidence run without the server), the public
    key in the log's home. KeyMissing when there is neither: the caller fails closed."""
    try:
        public = log.signing_key().public
    except KeyMissing:
        public = load_public_key(log.home)
    # Listings check every promotion's events on every read: a seal verified once is
    # remembered by the digest of the event's stored bytes (what the seal covers) and key.
    key = (hashlib.sha256(event.raw).digest(), event.index, public.raw)
    with _SEALS_LOCK:
        if key in _SEALS:
            return _SEALS[key]
    problem = seal_problem(event, public)
    with _SEALS_LOCK:
        if len(_SEALS) >= _SEALS_MAX:
            _SEALS.clear()
        _SEALS[key] = problem
    return problem


_SEALS: dict[tuple[bytes, int, bytes], str | None] = {}
_SEALS_MAX = 100_000
_SEALS_LOCK = threading.Lock()


REVIEW_CODES = (ev.APPROVED.code, ev.FOLLOWED_UP.code)


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
    if (unsealed := sealed_by_server(log, event)) is not None:
        return unsealed
    if d.get("row") != row.get("id"):
        # One report event binds one row: a row inserted later and pointed at an old
        # passing report would outrank a failure reported since.
        return f"audit event #{event.index} recorded another check report row"
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
    if (unsealed := sealed_by_server(log, event)) is not None:
        return unsealed
    pairs = (("promotion", "request_id"), ("stage", "stage"), ("sha", "sha"), ("digest", "digest"))
    for name, field in pairs:
        if str(d.get(name)) != str(row.get(field)):
            return f"the deployment's {name} differs from audit event #{event.index}"
    return None


def promotion_row_problem(log: AuditLog, conn: Connection, promotion: str) -> str | None:
    """Why the promotion's row, or the request row it is judged by, is not what its
    submission event recorded (None: both are).

    The request row holds the promotion's submitter and every commit it counted; a
    deployed promotion's commits may be left out of the next submission to its stage,
    so a request edited in the store would hide commits (and their authors) too."""
    row = conn.execute(
        select(gate_promotions).where(gate_promotions.c.request_id == promotion)
    ).first()
    if row is None:
        return f"there is no promotion row {promotion}"
    values = dict(row._mapping)
    event, problem = bound_event(log, conn, values, "promotion", PROMOTION_CODES)
    if event is None:
        return problem
    d = event.details
    for name in ("stage", "sha", "digest"):
        if str(d.get(name)) != str(values.get(name)):
            problem = f"the promotion's {name} differs from audit event #{event.index}"
    if d.get("promotion") != promotion or event.actor != values.get("submitter"):
        problem = f"audit event #{event.index} records another promotion or submitter"
    if event.status is not Status.SUCCESS:
        problem = f"audit event #{event.index} records a refused submission"
    if (unsealed := sealed_by_server(log, event)) is not None:
        problem = unsealed
    if (event.code == ev.BREAK_GLASS.code) != bool(values.get("break_glass")):
        problem = f"the promotion's break-glass flag differs from audit event #{event.index}"
    recorded = d.get("request_sha256")
    if recorded is None:
        problem = (
            f"audit event #{event.index} predates request binding (it pins no digest of "
            "the promotion's request): submit the change again"
        )
    elif recorded != request_digest(conn, promotion):
        problem = (
            "the promotion's stored request (its submitter, authors or details) differs "
            f"from audit event #{event.index}"
        )
    return problem


def review_event_problem(
    log: AuditLog,
    conn: Connection,
    row: Mapping[str, Any],
    events: Mapping[int, StoredEvent] | None = None,
) -> str | None:
    """Why an approval row's event is not sealed by the server, or its time or MFA
    evidence is not what that (bound) event recorded.

    ``gate check`` counts an approval from its row's ``created_at`` (no earlier than the
    submission, no older than ``approval_valid_for``) and puts the row's MFA method and
    time into the attestation: a row moved forward in the store would revive an expired
    approval. Events written since carry ``approved_at``; for older ones the row may not
    be later than the event itself."""
    event, problem = bound_event(log, conn, row, "approval", REVIEW_CODES, events=events)
    if event is None:
        return problem
    if (unsealed := sealed_by_server(log, event)) is not None:
        return unsealed
    d = event.details
    when = f"the approval's time differs from audit event #{event.index}"
    mfa = d.get("mfa")
    if isinstance(mfa, Mapping) and (
        mfa.get("method") != row.get("mfa_method") or mfa.get("time") != row.get("mfa_time")
    ):
        return f"the approval's MFA evidence differs from audit event #{event.index}"
    if "approved_at" in d:
        return None if d["approved_at"] == row.get("created_at") else when
    try:
        created = parse_time(str(row.get("created_at")))
        logged = datetime.fromisoformat(event.time.replace("Z", "+00:00"))
    except ValueError:
        return when
    if logged.tzinfo is None:
        logged = logged.replace(tzinfo=UTC)
    return when if created > logged else None


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
    "promotion_row_problem",
    "review_event_problem",
]
