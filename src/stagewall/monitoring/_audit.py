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

INGEST_TOKEN_CREATED = register_event_type(
    EventType(
        "monitoring.ingest_token.created",
        3001,
        "Account Change",
        1,
        "Create",
        "a token for one log source's posts to the server's ingest endpoint was created",
    )
)
INGEST_TOKEN_REVOKED = register_event_type(
    EventType(
        "monitoring.ingest_token.revoked",
        3001,
        "Account Change",
        4,
        "Delete",
        "an ingest token was revoked",
    )
)

__all__ = ["FINDING_CREATED", "INGEST_BATCH", "INGEST_TOKEN_CREATED", "INGEST_TOKEN_REVOKED"]
