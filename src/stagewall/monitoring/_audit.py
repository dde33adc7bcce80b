"""Audit event codes of the monitoring domain."""

from __future__ import annotations

from stagewall.audit import EventType, register_event_type

FINDING_CREATED = register_event_type(
    EventType(
        "monitoring.finding.created",
        2004,
        "Detection Finding",
        1,
        "Create",
        "a detection rule fired; details link the evidence in the monitoring log",
    )
)
INGEST_BATCH = register_event_type(
    EventType(
        "monitoring.ingest.batch",
        6003,
        "API Activity",
        1,
        "Create",
        "a batch of log events was appended to the monitoring log (details pin its head)",
    )
)

__all__ = ["FINDING_CREATED", "INGEST_BATCH"]
