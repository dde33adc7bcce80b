"""Audit event types (a registry keyed by stable event code) and event values.

Each domain registers its event codes at import time::

    register_event_type(EventType(code="access.request.created", class_uid=3005,
                                  class_name="User Access Management", activity_id=1,
                                  activity_name="Assign Privileges", description="..."))

Codes are unique; registering a code twice is refused.
"""

from __future__ import annotations

import enum
import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from stagewall.errors import ConfigError

OCSF_VERSION = "1.3.0"
_CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


class Status(enum.Enum):
    """Outcome of the recorded action, mapped to OCSF ``status_id``."""

    SUCCESS = "Success"
    FAILURE = "Failure"

    @property
    def status_id(self) -> int:
        return 1 if self is Status.SUCCESS else 2


@dataclass(frozen=True)
class EventType:
    """One stagewall event code and the OCSF class/activity it maps to."""

    code: str
    class_uid: int
    class_name: str
    activity_id: int
    activity_name: str
    description: str = ""

    def __post_init__(self) -> None:
        if not _CODE.match(self.code):
            raise ConfigError(
                f"audit event code {self.code!r} is not valid",
                hint="use dotted lower-case words, e.g. 'access.request.created'",
            )
        if not 1000 <= self.class_uid <= 999999:
            raise ConfigError(
                f"event type {self.code}: class_uid {self.class_uid} is not an OCSF class"
            )
        if not 0 <= self.activity_id <= 99:
            raise ConfigError(f"event type {self.code}: activity_id must be 0..99")
        if not self.class_name or not self.activity_name:
            raise ConfigError(f"event type {self.code}: class_name and activity_name are required")

    @property
    def category_uid(self) -> int:
        return self.class_uid // 1000

    @property
    def type_uid(self) -> int:
        return self.class_uid * 100 + self.activity_id


_REGISTRY: dict[str, EventType] = {}
_REGISTRY_LOCK = threading.Lock()


def register_event_type(event_type: EventType) -> EventType:
    """Register an event code; a second registration of the same code is refused."""
    with _REGISTRY_LOCK:
        if event_type.code in _REGISTRY:
            raise ConfigError(
                f"audit event code {event_type.code!r} is registered twice",
                hint="each event code is registered once, by the module that owns it",
            )
        _REGISTRY[event_type.code] = event_type
    return event_type


def get_event_type(code: str) -> EventType:
    """The registered type for ``code``; ConfigError when it is not registered."""
    try:
        return _REGISTRY[code]
    except KeyError:
        raise ConfigError(
            f"audit event code {code!r} is not registered",
            hint="register it with stagewall.audit.register_event_type() at import time",
        ) from None


def registered_event_types() -> list[EventType]:
    """All registered event types, sorted by code."""
    with _REGISTRY_LOCK:
        return sorted(_REGISTRY.values(), key=lambda t: t.code)


def _frozen(value: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(value))


@dataclass(frozen=True)
class AuditEvent:
    """An event to append. ``details`` must be JSON-safe and free of secrets."""

    code: str
    status: Status
    actor: str
    message: str
    resource: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "details", _frozen(self.details))


@dataclass(frozen=True)
class StoredEvent:
    """An event as stored: its position, the hashed canonical bytes and the hashes."""

    index: int
    time: str
    code: str
    status: Status
    actor: str
    resource: str | None
    message: str
    details: Mapping[str, Any]
    raw: bytes = field(repr=False)
    leaf_hash: bytes = field(repr=False)
    chain_hash: bytes = field(repr=False)

    @classmethod
    def from_raw(cls, index: int, raw: bytes, leaf: bytes, chain: bytes) -> StoredEvent:
        doc = json.loads(raw)
        return cls(
            index=index,
            time=doc["time"],
            code=doc["metadata"]["event_code"],
            status=Status(doc["status"]),
            actor=doc["actor"]["user"]["name"],
            resource=doc.get("resource"),
            message=doc["message"],
            details=_frozen(doc.get("unmapped", {})),
            raw=raw,
            leaf_hash=leaf,
            chain_hash=chain,
        )

    def document(self) -> dict[str, Any]:
        """The full OCSF-aligned document (parsed from the raw bytes)."""
        doc: dict[str, Any] = json.loads(self.raw)
        return doc


def build_document(
    event: AuditEvent,
    event_type: EventType,
    *,
    details: Mapping[str, Any] | None = None,
    time: str,
    index: int,
    prev_hash: bytes,
    product_version: str,
    authn: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The OCSF-aligned document that is serialised canonically and hashed.

    ``authn``: how the acting principal authenticated to the server (login method,
    session, step-up factor and its age, source address, user agent), when the event
    was written while serving an authenticated request.
    """
    doc: dict[str, Any] = {
        "activity_id": event_type.activity_id,
        "activity_name": event_type.activity_name,
        "actor": {"user": {"name": event.actor}},
        "category_uid": event_type.category_uid,
        "class_name": event_type.class_name,
        "class_uid": event_type.class_uid,
        "message": event.message,
        "metadata": {
            "event_code": event_type.code,
            "log_index": index,
            "prev_hash": prev_hash.hex(),
            "product": {
                "name": "stagewall",
                "vendor_name": "stagewall",
                "version": product_version,
            },
            "version": OCSF_VERSION,
        },
        "severity": "Informational",
        "severity_id": 1,
        "status": event.status.value,
        "status_id": event.status.status_id,
        "time": time,
        "type_uid": event_type.type_uid,
        "unmapped": dict(event.details) if details is None else details,
    }
    if event.resource is not None:
        doc["resource"] = event.resource
    if authn is not None:
        doc["actor"]["authn"] = dict(authn)
        doc["actor"]["session"] = {"uid": authn.get("session")}
        if authn.get("source_address"):
            doc["src_endpoint"] = {"ip": authn["source_address"]}
        if authn.get("user_agent"):
            doc["http_request"] = {"user_agent": authn["user_agent"]}
    return doc


__all__ = [
    "OCSF_VERSION",
    "AuditEvent",
    "EventType",
    "Status",
    "StoredEvent",
    "build_document",
    "get_event_type",
    "register_event_type",
    "registered_event_types",
]
