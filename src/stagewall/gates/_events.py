"""Audit event types of the gates domain and the helpers that write them.

OCSF classes: promotions, reviews, check reports and deploy checks are API
Activity (6003) on the gate; a weakening of the gate rules is a Detection Finding
(2004) with ``severity: warning`` in its details. Refusals use the same code as
the action they refuse, with status Failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection

from stagewall.audit import AuditEvent, AuditLog, EventType, Status, register_event_type
from stagewall.errors import StagewallError
from stagewall.redact import redact, redact_tree


def _api(code: str, activity_id: int, activity: str, description: str) -> EventType:
    return register_event_type(
        EventType(code, 6003, "API Activity", activity_id, activity, description)
    )


SUBMITTED = _api("gate.promotion.submitted", 1, "Create", "a promotion was submitted (or refused)")
BREAK_GLASS = _api("gate.promotion.break_glass", 1, "Create", "an emergency promotion was opened")
REPORTED = _api("gate.check.reported", 3, "Update", "a CI check result was reported")
APPROVED = _api("gate.promotion.approved", 3, "Update", "a promotion approval (or its refusal)")
WITHDRAWN = _api(
    "gate.approval.withdrawn",
    3,
    "Update",
    "an approver withdrew their promotion approval (or the withdrawal was refused)",
)
FOLLOWED_UP = _api("gate.followup.reviewed", 3, "Update", "a break-glass follow-up review")
CHECKED = _api("gate.deploy.checked", 99, "Gate Check", "a deployment asked whether it may proceed")
RULES_CHANGED = _api("gate.rules.changed", 3, "Update", "the effective gate rules changed")
ROW_UNBOUND = register_event_type(
    EventType(
        "gate.row.unbound",
        2004,
        "Detection Finding",
        1,
        "Create",
        "a promotion or approval row without its creating audit event was refused",
    )
)
RULES_WEAKENED = register_event_type(
    EventType(
        "gate.rules.weakened",
        2004,
        "Detection Finding",
        1,
        "Create",
        "the gate rules were weakened (details list what)",
    )
)


def event(
    code: str,
    status: Status,
    actor: str,
    message: str,
    resource: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Every gates event is built here, so every one goes through the one redaction path."""
    return AuditEvent(
        code,
        status,
        actor or "unknown",
        redact(message),
        redact(resource) if resource is not None else None,
        redact_tree(dict(details or {})),
    )


def append(log: AuditLog, ev: AuditEvent, conn: Connection | None = None) -> None:
    log.append(ev, conn=conn)


def refuse(
    log: AuditLog,
    code: str,
    actor: str,
    exc: StagewallError,
    resource: str | None,
    details: Mapping[str, Any] | None = None,
) -> StagewallError:
    """Record a refusal (own transaction) and hand back the error for the caller to raise."""
    log.append(
        event(
            code,
            Status.FAILURE,
            actor,
            exc.message,
            resource,
            {**dict(details or {}), "error_code": exc.code},
        )
    )
    return exc
