"""Record key creation and rotation in the audit log (key ids only, never secrets)."""

from __future__ import annotations

from stagewall.audit import AuditEvent, AuditLog, EventType, Status, register_event_type
from stagewall.keys._files import InitResult
from stagewall.store import Store

KEYS_CREATED = register_event_type(
    EventType(
        code="keys.created",
        class_uid=6003,
        class_name="API Activity",
        activity_id=1,
        activity_name="Create",
        description="`stagewall keys init` created the audit signing key, the masking "
        "keyring or a new masking key (ids and public key name only).",
    )
)


def record_init(result: InitResult, store: Store) -> int | None:
    """Append a ``keys.created`` event when ``init_keys`` created anything.

    The caller opens ``store`` before it creates any key, so that a store that cannot be
    reached stops ``keys init`` before a key exists whose creation the log would miss."""
    if not (result.signing_created or result.masking_created or result.rotated_to):
        return None
    return AuditLog(store).append(
        AuditEvent(
            code=KEYS_CREATED.code,
            status=Status.SUCCESS,
            actor="stagewall",
            resource=str(result.home),
            message=(
                f"keys initialised: signing key {result.key_name}, "
                f"current masking key {result.current_masking_key}"
            ),
            details={
                "signer_created": result.signing_created,
                "signer_name": result.key_name,
                "keyring_created": result.masking_created,
                "masking_rotated_to": result.rotated_to,
                "masking_current_id": result.current_masking_key,
            },
        )
    )
