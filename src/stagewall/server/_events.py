"""Audit event codes of the server (OCSF API Activity 6003)."""

from __future__ import annotations

from stagewall.audit import EventType, register_event_type

REQUEST_REFUSED = register_event_type(
    EventType(
        "server.request.refused",
        6003,
        "API Activity",
        99,
        "Other",
        "an authenticated principal called an endpoint its class may not call",
    )
)

BUNDLE_EXPORTED = register_event_type(
    EventType(
        "audit.bundle.exported",
        6003,
        "API Activity",
        2,
        "Read",
        "a person downloaded a verifiable bundle of the audit log from the server",
    )
)
