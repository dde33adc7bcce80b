"""Append a scan summary to the audit log when a store is configured."""

from __future__ import annotations

from stagewall.scan.engine import ScanResult

EVENT_CODE = "scan.run.completed"
_registered = False


def _register() -> None:
    global _registered
    if _registered:
        return
    from stagewall.audit import EventType, get_event_type, register_event_type
    from stagewall.errors import ConfigError

    try:
        get_event_type(EVENT_CODE)
    except ConfigError:
        register_event_type(
            EventType(
                code=EVENT_CODE,
                class_uid=2003,
                class_name="Compliance Finding",
                activity_id=1,
                activity_name="Create",
                description="stagewall scan finished: counts by rule, hash of scanned paths",
            )
        )
    _registered = True


def record_scan(result: ScanResult, url: str, actor: str, failed: bool) -> int:
    """Append the summary event; returns its log index. No secrets: counts and hashes only."""
    from stagewall.audit import AuditEvent, AuditLog, Status
    from stagewall.store import open_store

    _register()
    store = open_store(url)
    event = AuditEvent(
        code=EVENT_CODE,
        status=Status.FAILURE if failed else Status.SUCCESS,
        actor=actor,
        message=f"scan of {result.stats.files_scanned} files: {len(result.active)} findings",
        resource=None,
        details={
            "counts_by_rule": result.counts_by_rule(),
            "counts_by_severity": result.counts_by_severity(),
            "suppressed": len(result.suppressed),
            "files_scanned": result.stats.files_scanned,
            "files_skipped": len(result.stats.skipped),
            "paths_sha256": result.paths_hash(),
            "estate_used": result.estate_used,
        },
    )
    try:
        return AuditLog(store).append(event)
    finally:
        store.engine.dispose()
