"""The server's seal on the audit events that gate state rests on.

Rows are bound to the events that created them, but an event is only as good as its
author: leaf and chain hashes need no key, so anyone who can write the store can
append a well-formed, successful ``gate.promotion.approved`` event by any approver,
and the next checkpoint signs it like any other. So the events ``gate check`` counts
(a submission, an approval or follow-up review, a check report, an allowed gate check)
carry a seal: an Ed25519 signature by the server's audit signing key over the event's
code, status, actor, resource and details (domain-separated from checkpoints and
attestations). An event without a valid seal confers nothing.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from stagewall.audit import AuditEvent, Status
from stagewall.audit.events import StoredEvent
from stagewall.keys import PublicKey, SigningKey

SEAL = "server_seal"
_DOMAIN = b"stagewall gate event seal v1\n"


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _message(
    code: str, status: Status, actor: str, resource: str | None, details: Mapping[str, Any]
) -> bytes:
    body = {k: v for k, v in _plain(details).items() if k != SEAL}
    doc = {
        "actor": actor,
        "code": code,
        "details": body,
        "resource": resource,
        "status": status.value,
    }
    return _DOMAIN + json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode("utf-8")


def _key_id(public: PublicKey) -> str:
    return hashlib.sha256(public.raw).hexdigest()


def sealed(event: AuditEvent, key: SigningKey) -> AuditEvent:
    """``event`` with the server's seal added to its details."""
    msg = _message(event.code, event.status, event.actor, event.resource, event.details)
    seal = {
        "key": _key_id(key.public),
        "sig": base64.b64encode(key.sign(msg)).decode("ascii"),
    }
    return dataclasses.replace(event, details={**_plain(event.details), SEAL: seal})


def seal_problem(event: StoredEvent, public: PublicKey) -> str | None:
    """Why ``event`` does not carry this server's valid seal (None: it does)."""
    seal = event.details.get(SEAL)
    if not isinstance(seal, Mapping):
        return (
            f"audit event #{event.index} is not sealed by this server (written into the "
            "store, or before events were sealed: submit and approve again)"
        )
    try:
        sig = base64.b64decode(str(seal.get("sig", "")), validate=True)
    except (binascii.Error, ValueError):
        sig = b""
    msg = _message(event.code, event.status, event.actor, event.resource, event.details)
    if seal.get("key") != _key_id(public) or not public.verify(sig, msg):
        return f"audit event #{event.index} is not sealed by this server (its seal is not valid)"
    return None


__all__ = ["SEAL", "seal_problem", "sealed"]
