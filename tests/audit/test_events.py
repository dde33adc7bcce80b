"""Event type registry, canonical form and refusal of unsafe details."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest

from stagewall.audit import AuditEvent, AuditLog, EventType, Status, register_event_type
from stagewall.audit._canonical import canonical_bytes, looks_secret
from stagewall.audit.events import get_event_type
from stagewall.errors import ConfigError
from stagewall.store import Store
from tests.audit.conftest import TEST_CODE, make_event


def test_duplicate_registration_is_refused() -> None:
    with pytest.raises(ConfigError, match="registered twice"):
        register_event_type(get_event_type(TEST_CODE))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"code": "NoDots"}, "is not valid"),
        ({"class_uid": 7}, "not an OCSF class"),
        ({"activity_id": 100}, "activity_id must be 0..99"),
        ({"class_name": ""}, "class_name and activity_name are required"),
    ],
)
def test_bad_event_types_are_refused(kwargs: dict[str, object], message: str) -> None:
    base: dict[str, object] = dict(
        code="test.bad.type",
        class_uid=3005,
        class_name="User Access Management",
        activity_id=1,
        activity_name="Assign Privileges",
    )
    base.update(kwargs)
    with pytest.raises(ConfigError, match=message):
        EventType(**base)  # type: ignore[arg-type]


def test_unregistered_code_is_refused(sqlite_store: Store) -> None:
    log = AuditLog(sqlite_store)
    ev = AuditEvent(code="nobody.registered.this", status=Status.SUCCESS, actor="a", message="m")
    with pytest.raises(ConfigError, match=r"'nobody.registered.this' is not registered"):
        log.append(ev)
    assert log.size() == 0


@pytest.mark.parametrize(
    ("details", "message"),
    [
        ({"password": "hunter2"}, "details.password looks like a secret"),
        ({"nested": {"apiKey": "x"}}, r"details.nested.apiKey looks like a secret"),
        ({"db_token": "x"}, "looks like a secret"),
        ({"otp": "123456"}, "looks like a secret"),
        ({"private_key": "x"}, "looks like a secret"),
        ({"client-secret": "x"}, "looks like a secret"),
        ({"pem": "-----BEGIN PRIVATE KEY-----\nabc"}, "contains a PEM private key"),
        ({"when": datetime.now(UTC)}, "type datetime, which is not JSON-safe"),
        ({"ratio": math.nan}, "which JSON cannot represent"),
        ({"raw": b"bytes"}, "type bytes"),
        ({1: "x"}, "non-string key"),
    ],
)
def test_unsafe_details_are_refused(
    sqlite_store: Store, details: dict[object, object], message: str
) -> None:
    log = AuditLog(sqlite_store)
    ev = AuditEvent(code=TEST_CODE, status=Status.SUCCESS, actor="a", message="m", details=details)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=message):
        log.append(ev)
    assert log.size() == 0


@pytest.mark.parametrize("key", ["key_id", "footprint", "masking_key_id", "keys", "token_count"])
def test_harmless_keys_are_allowed_or_refused_as_documented(key: str) -> None:
    # key ids and words merely containing 'otp' are fine; any 'token' word is not.
    assert looks_secret(key) is (key == "token_count")


def test_stored_event_is_canonical_ocsf(sqlite_store: Store) -> None:
    log = AuditLog(sqlite_store)
    log.append(make_event(4, extra={"z": 1, "a": [1.5, None, True]}))
    (ev,) = log.events()
    doc = json.loads(ev.raw)
    assert canonical_bytes(doc) == ev.raw
    assert b", " not in ev.raw and b'": ' not in ev.raw and b"\n" not in ev.raw
    assert "\u00e9\u2713".encode() in ev.raw  # UTF-8, not \\u escapes
    assert doc["class_uid"] == 6003 and doc["activity_id"] == 1
    assert doc["type_uid"] == 600301 and doc["category_uid"] == 6
    assert (doc["status"], doc["status_id"]) == ("Success", 1)
    assert doc["actor"] == {"user": {"name": "user0"}}
    assert doc["metadata"]["event_code"] == TEST_CODE
    assert doc["metadata"]["log_index"] == 0
    assert doc["metadata"]["product"]["name"] == "stagewall"
    assert doc["unmapped"]["extra"] == {"z": 1, "a": [1.5, None, True]}
    assert ev.time.endswith("Z") and len(ev.time) == 27
    datetime.strptime(ev.time, "%Y-%m-%dT%H:%M:%S.%fZ")
    assert (ev.code, ev.status, ev.actor, ev.resource) == (
        TEST_CODE,
        Status.SUCCESS,
        "user0",
        "db-0",
    )


def test_failure_status_maps_to_status_id_2(sqlite_store: Store) -> None:
    log = AuditLog(sqlite_store)
    log.append(make_event(0))
    doc = json.loads(log.events()[0].raw)
    assert (doc["status"], doc["status_id"]) == ("Failure", 2)
