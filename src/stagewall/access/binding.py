"""Rows that confer access are bound to the audit event that created them.

``create_grant`` writes the grant's ``access.grant.created`` event first and stores
its log index and leaf hash in the row. :func:`grant_binding_problem` checks that
binding wherever a grant is about to confer anything (credential issuance) and on
every sweep: a row inserted or edited straight in the store has no event, or an
event that says something else, and is refused, alerted and ended.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from stagewall.access import _events as ev
from stagewall.audit import AuditLog

# The fields of a grant row that its creating event must state exactly.
_BOUND_FIELDS = ("id", "principal", "role", "environment", "source", "starts_at", "ends_at")


def grant_binding_problem(audit: AuditLog, conn: Connection, row: Mapping[str, Any]) -> str | None:
    """Why the grant ``row`` is not backed by its creating audit event (None: it is)."""
    index, leaf = row.get("audit_index"), row.get("audit_leaf")
    if index is None or not leaf:
        return "the grant row names no audit event (written outside stagewall)"
    event = audit.event_ref(int(index), conn=conn)
    if event is None:
        return f"audit event #{index} of the grant is missing or was altered"
    if event.leaf_hash.hex() != leaf:
        return f"audit event #{index} is not the event that created the grant"
    if event.code != ev.GRANT_CREATED.code:
        return f"audit event #{index} is a {event.code} event, not a grant creation"
    details = event.details
    for name in _BOUND_FIELDS:
        if str(details.get(name)) != str(row.get(name)):
            return f"the grant's {name} differs from what audit event #{index} recorded"
    if bool(details.get("production")) != bool(row.get("production")):
        return f"the grant's production flag differs from audit event #{index}"
    return None


__all__ = ["grant_binding_problem"]
