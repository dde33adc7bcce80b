"""The tamper-evident audit log.

Every event is canonical JSON (OCSF-aligned fields, sorted keys, UTC time),
hashed into a chain and into an RFC 9162 Merkle tree, with signed C2SP
checkpoints. See docs/audit.md.

    from stagewall.audit import AuditLog, AuditEvent, Status, register_event_type, EventType
"""

from __future__ import annotations

from stagewall.audit._chain import GENESIS, LogBroken
from stagewall.audit._checkpoint import Checkpoint, CheckpointInvalid
from stagewall.audit._cosignature import (
    Cosignature,
    WitnessPublicKey,
    WitnessSigningKey,
    parse_witness_key,
)
from stagewall.audit._log import MAX_INDEX, AuditLog, EventRef, InclusionProof, StoredCheckpoint
from stagewall.audit._lookup import first_recorded
from stagewall.audit._quorum import WitnessPolicy
from stagewall.audit._witness import WitnessEndpoint, witness_checkpoints
from stagewall.audit.events import (
    AuditEvent,
    EventType,
    Status,
    StoredEvent,
    get_event_type,
    register_event_type,
    registered_event_types,
)

__all__ = [
    "GENESIS",
    "MAX_INDEX",
    "AuditEvent",
    "AuditLog",
    "Checkpoint",
    "CheckpointInvalid",
    "Cosignature",
    "EventRef",
    "EventType",
    "InclusionProof",
    "LogBroken",
    "Status",
    "StoredCheckpoint",
    "StoredEvent",
    "WitnessEndpoint",
    "WitnessPolicy",
    "WitnessPublicKey",
    "WitnessSigningKey",
    "first_recorded",
    "get_event_type",
    "parse_witness_key",
    "register_event_type",
    "registered_event_types",
    "witness_checkpoints",
]
