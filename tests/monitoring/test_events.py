"""Event helpers: the cached ISO formatter and event codes."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from stagewall.monitoring.events import Event, OcsfClass, event_code, iso


@given(st.integers(min_value=-(10**15), max_value=4 * 10**15))
def test_iso_matches_datetime(micros: int) -> None:
    sec, us = divmod(micros, 1_000_000)
    ref = datetime.fromtimestamp(sec, UTC).strftime("%Y-%m-%dT%H:%M:%S") + f".{us:06d}Z"
    assert iso(micros / 1_000_000) == ref or abs(micros) > 2**52


def test_event_codes_are_valid_audit_codes() -> None:
    assert event_code("postgresql", 3002, 1) == "monitor.postgresql.authentication.logon"
    assert event_code("cloudtrail", 6005, 1) == "monitor.cloudtrail.datastore.read"
    assert event_code("sftp", 6006, 2) == "monitor.sftp.file.download"
    assert Event(0.0, OcsfClass.API_ACTIVITY, 2, product="github").code == (
        "monitor.github.api.read"
    )


def test_class_constants_are_the_enum_members() -> None:
    """The CLS_* module constants (read per event instead of the enum's attributes)
    are the members themselves, so events, rules and the stored bytes are unchanged."""
    from stagewall.monitoring import events

    names = {m.name for m in events.OcsfClass}
    consts = {n[4:]: getattr(events, n) for n in dir(events) if n.startswith("CLS_")}
    assert consts.keys() == names
    for name, value in consts.items():
        assert value is events.OcsfClass[name]


def test_field_order_that_parsers_pass_positionally() -> None:
    """The busiest parsers (PostgreSQL, MariaDB) construct events positionally, a third
    cheaper than by keyword: moving one of these fields would silently swap values."""
    from dataclasses import fields

    assert [f.name for f in fields(Event)][:14] == [
        "time",
        "class_uid",
        "activity_id",
        "status",
        "user",
        "src_ip",
        "host",
        "target",
        "object",
        "operation",
        "bytes",
        "rows",
        "detail",
        "session",
    ]
