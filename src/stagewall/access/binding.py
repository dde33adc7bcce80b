"""Rows that confer access are bound to the audit event that created them.

``create_grant`` writes the grant's ``access.grant.created`` event first and stores
its log index and leaf hash in the row. :func:`grant_binding_problem` checks that
binding wherever a grant is about to confer anything (credential issuance) and on
every sweep: a row inserted or edited straight in the store has no event, or an
event that says something else, and is refused, alerted and ended.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, bindparam, select, update

from stagewall.access import _events as ev
from stagewall.audit import AuditLog, EventRef, Status
from stagewall.audit._tables import audit_events
from stagewall.audit.events import StoredEvent

# The fields of a grant row that its creating event must state exactly.
_BOUND_FIELDS = ("id", "principal", "role", "environment", "source", "starts_at", "ends_at")


def bind_row(conn: Connection, table: Table, where: ColumnElement[bool], ref: EventRef) -> None:
    """Store ``ref`` (index and leaf hash of the creating event) in the row(s) ``where``."""
    done = conn.execute(
        update(table).where(where).values(audit_index=ref.index, audit_leaf=ref.leaf_hash.hex())
    ).rowcount
    if done != 1:
        raise RuntimeError(f"binding {table.name} to event #{ref.index} touched {done} rows")


def bound_event(
    audit: AuditLog,
    conn: Connection,
    row: Mapping[str, Any],
    what: str,
    codes: Collection[str],
    *,
    events: Mapping[int, StoredEvent] | None = None,
) -> tuple[StoredEvent | None, str | None]:
    """The event ``row`` is bound to, or why it has none of the expected ``codes``.

    ``events``: the verified events of :meth:`AuditLog.events_ref`, read for many rows at
    once, which must include this row's index; else the event is read here.
    """
    index, leaf = row.get("audit_index"), row.get("audit_leaf")
    if index is None or not leaf:
        return None, f"the {what} row names no audit event (written outside stagewall)"
    at = int(index)
    event = events.get(at) if events is not None else audit.event_ref(at, conn=conn)
    if event is None:
        return None, f"audit event #{index} of the {what} is missing or was altered"
    if event.leaf_hash.hex() != leaf:
        return None, f"audit event #{index} is not the event that created the {what}"
    if event.code not in codes:
        return None, f"audit event #{index} is a {event.code} event, not the {what}'s"
    return event, None


def review_binding_problem(
    audit: AuditLog,
    conn: Connection,
    row: Mapping[str, Any],
    codes: Collection[str],
    *,
    events: Mapping[int, StoredEvent] | None = None,
) -> str | None:
    """Why the review (approval) ``row`` is not backed by the event that recorded it."""
    event, problem = bound_event(audit, conn, row, "approval", codes, events=events)
    if event is None:
        return problem
    request = str(row.get("request_id"))
    details = event.details
    if event.status is not Status.SUCCESS:
        # A refused attempt (a mistyped code, an ineligible reviewer) is logged under the
        # same code, by the same reviewer, about the same request: it approved nothing.
        return f"audit event #{event.index} records a refused attempt, not a review"
    if event.actor != row.get("reviewer"):
        return f"audit event #{event.index} was written by {event.actor}, not {row.get('reviewer')}"
    if details.get("promotion") != request and event.resource != f"request:{request}":
        return f"audit event #{event.index} is about another request than {request}"
    decision = details.get("decision", "approve")
    if decision != row.get("decision"):
        return f"the approval's decision differs from what audit event #{event.index} recorded"
    return None


_WITHDRAWALS = select(audit_events.c.idx).where(
    (audit_events.c.code == bindparam("code"))
    & (audit_events.c.status == Status.SUCCESS.value)
    & audit_events.c.resource.in_(bindparam("resources", expanding=True))
)
_WITHDRAWALS_BATCH = 500


def logged_withdrawals(
    audit: AuditLog, conn: Connection, code: str, resources: Collection[str]
) -> dict[tuple[str, str], int]:
    """(resource, approver) -> index of the successful withdrawal event ``code`` the log
    holds for that approver's approval of ``resource`` (e.g. ``request:ID``).

    A withdrawal is final, so its event outranks the row: an approval whose row says
    it stands (``withdrawn_at`` cleared in the store) while the log recorded its
    withdrawal counts for nothing. Read by the indexed code and resource columns, then
    each event is checked against its leaf hash (an edited event is not trusted)."""
    found: dict[tuple[str, str], int] = {}
    for index, event in _logged(audit, conn, code, resources):
        found.setdefault((str(event.resource), event.actor), index)
    return found


def logged_events(
    audit: AuditLog, conn: Connection, code: str, resources: Collection[str]
) -> list[tuple[int, StoredEvent]]:
    """(index, event) of every successful event ``code`` about ``resources``, oldest
    first, each checked against its leaf hash (an edited event is left out)."""
    return _logged(audit, conn, code, resources)


def _logged(
    audit: AuditLog, conn: Connection, code: str, resources: Collection[str]
) -> list[tuple[int, StoredEvent]]:
    """The successful events ``code`` about ``resources`` the log holds, oldest first;
    read by the indexed code and resource columns, each checked against its leaf hash."""
    wanted = sorted(set(resources))
    indexes: list[int] = []
    for start in range(0, len(wanted), _WITHDRAWALS_BATCH):
        chunk = wanted[start : start + _WITHDRAWALS_BATCH]
        indexes.extend(
            int(i) for i in conn.execute(_WITHDRAWALS, {"code": code, "resources": chunk}).scalars()
        )
    return [
        (index, event)
        for index, event in sorted(audit.events_ref(indexes, conn=conn).items())
        if event.code == code and event.status is Status.SUCCESS and event.resource in wanted
    ]


def logged_grant_ends(
    audit: AuditLog, conn: Connection, grant_ids: Collection[str]
) -> dict[str, int]:
    """Grant id -> index of the first ``access.grant.revoked`` event (a grant ended:
    revoked, expired, invalidated) the log holds for it.

    A grant never becomes active again once it ended, so that event outranks the row:
    a row that says ``active`` (its status edited back in the store, or the grants table
    restored from an older backup) while the log recorded its end confers nothing."""
    found: dict[str, int] = {}
    resources = [f"grant:{g}" for g in grant_ids]
    for index, event in _logged(audit, conn, ev.GRANT_REVOKED.code, resources):
        found.setdefault(str(event.resource).removeprefix("grant:"), index)
    return found


_OFFBOARDINGS = select(audit_events.c.resource).where(
    (audit_events.c.code == ev.VENDOR_OFFBOARDED.code)
    & (audit_events.c.status == Status.SUCCESS.value)
)


def logged_offboarded(conn: Connection) -> set[str]:
    """The vendors whose offboarding (a successful ``access.vendor.offboarded`` event) the
    log holds. Offboarding is final, so the event outranks the ``access_offboarded`` row:
    a row deleted in the store (or a table restored from an older backup) does not bring
    the vendor's people back. Read by the indexed columns (trusting them only widens what
    is refused; ``audit verify`` checks the columns against the signed events)."""
    return {
        str(r).removeprefix("vendor:")
        for r in conn.execute(_OFFBOARDINGS).scalars()
        if str(r).startswith("vendor:")
    }


def ended_mismatch(row: Mapping[str, Any], index: int | None) -> str | None:
    """Why grant ``row`` disagrees with the log: ``index`` is its logged end."""
    if index is None or row.get("status") != "active":
        return None
    return (
        f"audit event #{index} records that this grant ended, but its row says it is "
        "active (edited in the store or restored from an older backup); it confers nothing"
    )


def logged_withdrawers(audit: AuditLog, conn: Connection, code: str, resource: str) -> set[str]:
    """The approvers whose withdrawal (event ``code``) of their approval of ``resource``
    the log holds: :func:`logged_withdrawals` of one request."""
    return {
        who for (res, who) in logged_withdrawals(audit, conn, code, [resource]) if res == resource
    }


def withdrawal_mismatch(row: Mapping[str, Any], index: int | None) -> str | None:
    """Why review ``row`` disagrees with the log: ``index`` is its logged withdrawal."""
    if index is None or row.get("withdrawn_at") is not None:
        return None
    return (
        f"audit event #{index} records that {row.get('reviewer')} withdrew this approval, "
        "but its row says it stands (edited in the store); it counts for nothing"
    )


def grant_binding_problem(
    audit: AuditLog,
    conn: Connection,
    row: Mapping[str, Any],
    *,
    events: Mapping[int, StoredEvent] | None = None,
) -> str | None:
    """Why the grant ``row`` is not backed by its creating audit event (None: it is)."""
    event, problem = bound_event(audit, conn, row, "grant", (ev.GRANT_CREATED.code,), events=events)
    if event is None:
        return problem
    index = event.index
    details = event.details
    for name in _BOUND_FIELDS:
        if str(details.get(name)) != str(row.get(name)):
            return f"the grant's {name} differs from what audit event #{index} recorded"
    if bool(details.get("production")) != bool(row.get("production")):
        return f"the grant's production flag differs from audit event #{index}"
    return None


__all__ = [
    "bind_row",
    "bound_event",
    "ended_mismatch",
    "grant_binding_problem",
    "logged_events",
    "logged_grant_ends",
    "logged_offboarded",
    "logged_withdrawals",
    "logged_withdrawers",
    "review_binding_problem",
    "withdrawal_mismatch",
]
