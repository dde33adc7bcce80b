"""Append a scan summary to the audit log when a store is configured.

The event carries counts and a hash of the scanned path list: no values, no secrets.
"""

from __future__ import annotations

from stagewall.audit import AuditEvent, AuditLog, EventType, Status, register_event_type
from stagewall.scan.engine import ScanResult
from stagewall.store import open_store

SCAN_COMPLETED = register_event_type(
    EventType(
        code="scan.run.completed",
        class_uid=2003,
        class_name="Compliance Finding",
        activity_id=1,
        activity_name="Create",
        description="stagewall scan finished: counts by rule, hash of scanned paths",
    )
)


def summary_event(result: ScanResult, actor: str, failed: bool) -> AuditEvent:
    return AuditEvent(
        code=SCAN_COMPLETED.code,
        status=Status.FAILURE if failed else Status.SUCCESS,
        actor=actor,
        message=f"scan of {result.stats.files_scanned} files: {len(result.active)} findings",
        resource=None,
        details={
            "counts_by_rule": result.counts_by_rule(),
            "counts_by_severity": result.counts_by_severity(),
            "suppressed": len(result.suppressed),
            "suppressed_by_rule": result.suppressed_by_rule(),
            "files_scanned": result.stats.files_scanned,
            "files_skipped": len(result.stats.skipped),
            "paths_sha256": result.paths_hash(),
            "estate_used": result.estate_used,
        },
    )


def record_scan(result: ScanResult, url: str, actor: str, failed: bool) -> int:
    """Append the summary event to the store at ``url``; returns its log index."""
    store = open_store(url)
    try:
        return AuditLog(store).append(summary_event(result, actor, failed))
    finally:
        store.engine.dispose()
