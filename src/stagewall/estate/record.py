"""Record estate checks in the audit log (when a store is configured)."""

from __future__ import annotations

import hashlib

from stagewall.audit import AuditEvent, AuditLog, EventType, Status, register_event_type
from stagewall.estate.invariants import Violation
from stagewall.estate.loader import LoadedEstate
from stagewall.paths import configured_store_url
from stagewall.store import open_store

ESTATE_CHECKED = register_event_type(
    EventType(
        code="estate.check.completed",
        class_uid=2003,
        class_name="Compliance Finding",
        activity_id=1,
        activity_name="Create",
        description="`stagewall check` validated the estate file and its invariants.",
    )
)


def record_check(
    loaded: LoadedEstate, violations: list[Violation], store_url: str | None
) -> int | None:
    """Append the check result; returns the event index, or None when no store is set up."""
    url = configured_store_url(store_url)
    if url is None:
        return None
    digest = hashlib.sha256(loaded.path.read_bytes()).hexdigest()
    by_rule: dict[str, int] = {}
    for v in violations:
        by_rule[v.rule] = by_rule.get(v.rule, 0) + 1
    store = open_store(url)
    try:
        return AuditLog(store).append(
            AuditEvent(
                code=ESTATE_CHECKED.code,
                status=Status.FAILURE if violations else Status.SUCCESS,
                actor="stagewall",
                resource=str(loaded.path),
                message=(
                    f"estate check: {len(violations)} violation(s)"
                    if violations
                    else "estate check: all invariants hold"
                ),
                details={"config_sha256": digest, "violations_by_rule": by_rule},
            )
        )
    finally:
        store.dispose()
