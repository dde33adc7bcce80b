"""The normalised event every parser produces, and its OCSF document.

One flat record per log event. Its attribute names are also the field names that
Sigma rules match on (see docs/monitoring.md for the table and the OCSF path of
each field). Parsers fill the "as seen" fields; :mod:`stagewall.monitoring.enrich`
fills the estate fields (principal, resource, environment, tier) and the derived
flags (grant_active, off_hours, first_seen_network, volume_anomaly).
"""

from __future__ import annotations

import enum
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any


class OcsfClass(enum.IntEnum):
    """The OCSF classes events are normalised to."""

    DETECTION_FINDING = 2004
    AUTHENTICATION = 3002
    APPLICATION_LIFECYCLE = 6002
    API_ACTIVITY = 6003
    DATASTORE_ACTIVITY = 6005
    FILE_HOSTING = 6006


# The classes as module constants (the same members): on Python 3.11 reading a member
# through its enum class costs ~80 ns, a module constant ~20 ns, and ingest did it
# three or four times per event (parsers, estate mapping, baselines).
# In definition order; tests/monitoring/test_events.py checks each is its namesake.
(
    CLS_DETECTION_FINDING,
    CLS_AUTHENTICATION,
    CLS_APPLICATION_LIFECYCLE,
    CLS_API_ACTIVITY,
    CLS_DATASTORE_ACTIVITY,
    CLS_FILE_HOSTING,
) = OcsfClass

CLASS_NAMES = {
    OcsfClass.DETECTION_FINDING: "Detection Finding",
    OcsfClass.AUTHENTICATION: "Authentication",
    OcsfClass.APPLICATION_LIFECYCLE: "Application Lifecycle",
    OcsfClass.API_ACTIVITY: "API Activity",
    OcsfClass.DATASTORE_ACTIVITY: "Datastore Activity",
    OcsfClass.FILE_HOSTING: "File Hosting Activity",
}

# Sigma logsource categories -> OCSF class.
CATEGORIES = {
    "authentication": OcsfClass.AUTHENTICATION,
    "datastore": OcsfClass.DATASTORE_ACTIVITY,
    "api": OcsfClass.API_ACTIVITY,
    "file_hosting": OcsfClass.FILE_HOSTING,
    "application_lifecycle": OcsfClass.APPLICATION_LIFECYCLE,
}

# Activity ids per class (OCSF 1.3).
LOGON, LOGOFF = 1, 2
DS_READ, DS_UPDATE, DS_CONNECT, DS_QUERY, DS_WRITE, DS_CREATE, DS_DELETE, DS_LIST = range(1, 9)
API_CREATE, API_READ, API_UPDATE, API_DELETE = 1, 2, 3, 4
FILE_UPLOAD, FILE_DOWNLOAD, FILE_DELETE, FILE_OPEN = 1, 2, 4, 14
APP_STOP = 4

ACTIVITY_NAMES: dict[int, dict[int, str]] = {
    OcsfClass.AUTHENTICATION: {LOGON: "Logon", LOGOFF: "Logoff"},
    OcsfClass.DATASTORE_ACTIVITY: {
        DS_READ: "Read",
        DS_UPDATE: "Update",
        DS_CONNECT: "Connect",
        DS_QUERY: "Query",
        DS_WRITE: "Write",
        DS_CREATE: "Create",
        DS_DELETE: "Delete",
        DS_LIST: "List",
    },
    OcsfClass.API_ACTIVITY: {
        API_CREATE: "Create",
        API_READ: "Read",
        API_UPDATE: "Update",
        API_DELETE: "Delete",
    },
    OcsfClass.FILE_HOSTING: {
        FILE_UPLOAD: "Upload",
        FILE_DOWNLOAD: "Download",
        FILE_DELETE: "Delete",
        FILE_OPEN: "Open",
    },
    OcsfClass.APPLICATION_LIFECYCLE: {APP_STOP: "Stop"},
}

SUCCESS, FAILURE, UNKNOWN = "success", "failure", "unknown"
# The detail of an HTTP request answered 401: its user is the name the client sent.
HTTP_UNAUTHORIZED = "http 401"
# How every access-log request's detail starts (``http <status>``).
HTTP_DETAIL = "http "


@dataclass(slots=True)
class Event:
    """One normalised event. Empty string / 0 / None mean "not in the log"."""

    time: float  # seconds since the epoch, UTC
    class_uid: int
    activity_id: int
    status: str = SUCCESS
    user: str = ""
    src_ip: str = ""
    host: str = ""
    target: str = ""  # database, bucket or repository
    object: str = ""  # table, object key, file path
    operation: str = ""  # command, API action, git operation
    bytes: int = 0
    rows: int = 0
    detail: str = ""  # auth method and key fingerprint, redacted statement, ...
    session: str = ""
    # set by ingest
    source: str = ""
    product: str = ""
    raw_hash: str = ""
    # set by enrichment
    principal: str = ""
    actor: str = ""
    affiliation: str = UNKNOWN
    principal_kind: str = UNKNOWN
    vendor: str = ""
    resource: str = ""
    environment: str = ""
    tier: str = UNKNOWN
    src_network: str = ""
    grant_active: bool | None = None
    off_hours: bool | None = None
    first_seen_network: bool | None = None
    volume_anomaly: str = ""
    # An attribution the log claims but stagewall does not trust (``host:<name>``: a
    # host the source is not declared for; ``repository:<path>``: a repository a git
    # source (git server, GitHub, GitLab) is not declared for; ``program:<name>``: a
    # daemon's program name a syslog line gives and nothing proves;
    # ``session:<principal>``: a CloudTrail session name naming a principal its role
    # does not map to; ``user:<principal>``: the name a failed authentication sent, or
    # an access log's user where the source does not authenticate it). Recorded;
    # never attributed.
    claim: str = ""
    # set by storage
    index: int = -1
    leaf: str = ""

    @property
    def src_client(self) -> str:
        """The client, for counting per client: an IPv4 address (also written IPv4-mapped,
        ``::ffff:a.b.c.d``), or an IPv6 address's /64 — a host holds a whole /64 and can
        send every attempt from a new address in it. Derived, not stored."""
        ip = self.src_ip
        if ":" not in ip:
            return ip
        net = self.src_network
        if ":" in net:
            return net
        try:
            mapped = ipaddress.ip_address(ip.split("%", 1)[0])
        except ValueError:
            return ip
        v4 = mapped.ipv4_mapped if isinstance(mapped, ipaddress.IPv6Address) else None
        return str(v4) if v4 is not None else ip

    @property
    def dst(self) -> str:
        """Where the event happened, for counting places: the resource it is attributed
        to, else the host its line names, else its log source. Derived, not stored."""
        return self.resource or (f"host:{self.host}" if self.host else f"source:{self.source}")

    def get(self, name: str) -> Any:
        """A field by its Sigma name (None for unknown names)."""
        return getattr(self, name, None) if name in FIELD_NAMES else None

    @property
    def code(self) -> str:
        return event_code(self.product or "stagewall", self.class_uid, self.activity_id)

    def document(self, *, index: int, prev_hash: str, time_text: str = "") -> dict[str, Any]:
        """The OCSF document stored in the monitoring log (keys sorted on write)."""
        cls, activity_name, class_name, code = _shape(
            self.product, self.class_uid, self.activity_id
        )
        status = self.status
        doc: dict[str, Any] = {
            "activity_id": self.activity_id,
            "activity_name": activity_name,
            "category_uid": cls // 1000,
            "class_name": class_name,
            "class_uid": cls,
            "metadata": {
                "event_code": code,
                "log_index": index,
                "prev_hash": prev_hash,
                "product": {"name": self.product, "vendor_name": "stagewall ingest"},
                "version": "1.3.0",
            },
            "severity_id": 1,
            "status_id": 1 if status == SUCCESS else 2 if status == FAILURE else 0,
            "time": time_text or iso(self.time),
            "type_uid": cls * 100 + self.activity_id,
        }
        user = {"name": self.user}
        if self.principal:
            user["uid"] = self.principal
        if cls == 3002:
            doc["user"] = user
            if self.detail:
                doc["auth_protocol"] = self.detail
        else:
            doc["actor"] = {"user": user}
        if self.src_ip:
            doc["src_endpoint"] = {"ip": self.src_ip}
        if self.host:
            doc["dst_endpoint"] = {"hostname": self.host}
        if self.session:
            doc["session"] = {"uid": self.session}
        if cls == 6005:
            if self.product == "cloudtrail":
                doc["databucket"] = {"name": self.target}
            elif self.target:
                doc["database"] = {"name": self.target}
            if self.object:
                doc["table"] = {"name": self.object}
            if self.detail:
                doc["query_info"] = {"query_string": self.detail}
        elif cls == 6003:
            doc["api"] = {"operation": self.operation}
            if self.target:
                doc["resources"] = [{"name": self.target}]
        elif cls == 6006:
            doc["file"] = {"name": self.object, "size": self.bytes}
        extra: dict[str, Any] = {
            "actor": self.actor,
            "affiliation": self.affiliation,
            "log_name": self.source,
            "principal_kind": self.principal_kind,
            "tier": self.tier,
        }
        if self.raw_hash:
            extra["raw_sha256"] = self.raw_hash
        if self.operation:
            extra["operation"] = self.operation
        if self.target:
            extra["target"] = self.target
        if self.resource:
            extra["resource"] = self.resource
            extra["environment"] = self.environment
        if self.vendor:
            extra["vendor"] = self.vendor
        if self.bytes:
            extra["bytes"] = self.bytes
        if self.claim:
            extra["claim"] = self.claim
        if self.rows:
            extra["rows"] = self.rows
        if self.grant_active is not None:
            extra["grant_active"] = self.grant_active
        if self.off_hours is not None:
            extra["off_hours"] = self.off_hours
        if self.first_seen_network is not None:
            extra["first_seen_network"] = self.first_seen_network
        if self.volume_anomaly:
            extra["volume_anomaly"] = self.volume_anomaly
        doc["unmapped"] = extra
        return doc


FIELD_NAMES = (frozenset(Event.__slots__) - {"index", "leaf"}) | {"src_client", "dst"}


_ISO_DAYS: dict[int, str] = {}
_ISO_MINUTES = [f"T{h:02d}:{m:02d}:" for h in range(24) for m in range(60)]
_ISO_SECONDS = [f"{s:02d}." for s in range(60)]


def iso(ts: float) -> str:
    """UTC ISO 8601 with microseconds and ``Z`` (date cached per day, clock from tables)."""
    micros = round(ts * 1_000_000)
    sec, us = divmod(micros, 1_000_000)
    day, rest = divmod(sec, 86400)
    head = _ISO_DAYS.get(day)
    if head is None:
        if len(_ISO_DAYS) > 4096:
            _ISO_DAYS.clear()
        head = _ISO_DAYS[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d")
    minute, second = divmod(rest, 60)
    return f"{head}{_ISO_MINUTES[minute]}{_ISO_SECONDS[second]}{us:06d}Z"


@lru_cache(maxsize=1024)
def _shape(product: str, class_uid: int, activity_id: int) -> tuple[int, str, str, str]:
    cls = OcsfClass(class_uid)
    activity = ACTIVITY_NAMES[cls].get(activity_id, "Other")
    code = (
        f"monitor.{product or 'stagewall'}.{CLASS_NAMES[cls].split()[0].lower()}.{activity.lower()}"
    )
    return int(cls), activity, CLASS_NAMES[cls], code


def event_code(product: str, class_uid: int, activity_id: int) -> str:
    return _shape(product, class_uid, activity_id)[3]


__all__ = [
    "ACTIVITY_NAMES",
    "CATEGORIES",
    "CLASS_NAMES",
    "CLS_API_ACTIVITY",
    "CLS_APPLICATION_LIFECYCLE",
    "CLS_AUTHENTICATION",
    "CLS_DATASTORE_ACTIVITY",
    "CLS_DETECTION_FINDING",
    "CLS_FILE_HOSTING",
    "FAILURE",
    "FIELD_NAMES",
    "HTTP_DETAIL",
    "HTTP_UNAUTHORIZED",
    "SUCCESS",
    "UNKNOWN",
    "Event",
    "OcsfClass",
    "event_code",
    "iso",
]
