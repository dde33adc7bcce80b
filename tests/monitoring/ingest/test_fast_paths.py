"""The parsers' fast paths give exactly what their general paths give."""

from __future__ import annotations

import csv
import dataclasses
import json
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.monitoring.events import Event
from stagewall.monitoring.ingest import parser_for
from stagewall.monitoring.ingest._base import LineError, _parse_iso, csv_fields, loads, parse_iso


def _outcome(fn: object, text: str) -> tuple[str, float | None]:
    try:
        return "ok", fn(text)  # type: ignore[operator]
    except LineError:
        return "error", None


@settings(max_examples=2000)
@given(
    year=st.sampled_from(["1970", "2026", "2038", "0001", "9999", "20x6"]),
    month=st.integers(0, 13),
    day=st.integers(0, 32),
    hms=st.tuples(st.integers(0, 25), st.integers(0, 60), st.integers(0, 61)),
    sep=st.sampled_from([" ", "T", "_"]),
    frac=st.sampled_from(["", ".", ".1a", ".\u0663", ". 5"])
    | st.text("0123456789", min_size=1, max_size=8).map(lambda d: "." + d),
    suffix=st.sampled_from(
        [" UTC", " GMT", "Z", "+00:00", "+01:00", "-05:30", "", " UTC ", "z", " CET"]
    ),
)
def test_cached_iso_times_equal_datetime(
    year: str, month: int, day: int, hms: tuple[int, int, int], sep: str, frac: str, suffix: str
) -> None:
    h, m, s = hms
    text = f"{year}-{month:02d}-{day:02d}{sep}{h:02d}:{m:02d}:{s:02d}{frac}{suffix}"
    assert _outcome(parse_iso, text) == _outcome(_parse_iso, text)
    assert _outcome(parse_iso, text) == _outcome(parse_iso, text)  # cached second


scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()


@given(st.recursive(scalars, lambda c: st.lists(c) | st.dictionaries(st.text(), c), max_leaves=8))
def test_loads_accepts_what_json_accepts(value: object) -> None:
    text = json.dumps(value)
    expected = json.loads(text)
    got = loads(text)
    assert json.dumps(got, sort_keys=True) == json.dumps(expected, sort_keys=True)


def test_loads_refuses_what_json_refuses() -> None:
    with pytest.raises(ValueError):
        loads("{not json")


@settings(max_examples=1000)
@given(
    st.text(alphabet=",ab 1.:'\"\\\r\n\x00\u00e9", max_size=30),
    st.sampled_from([('"', None), ("'", "\\")]),
)
def test_csv_fields_equal_the_csv_reader(line: str, dialect: tuple[str, str | None]) -> None:
    quotechar, escapechar = dialect

    def reference() -> tuple[str, list[str]]:
        try:
            return "ok", next(csv.reader([line], quotechar=quotechar, escapechar=escapechar), [])
        except csv.Error:
            return "error", []

    def fast() -> tuple[str, list[str]]:
        try:
            return "ok", csv_fields(line, quotechar, escapechar)
        except csv.Error:
            return "error", []

    assert fast() == reference()


def test_mariadb_times_are_cached_per_second_and_still_checked() -> None:
    p = parser_for("mariadb", year=2026)
    a = p.feed("20261116 00:22:20,mdb,u,10.0.0.1,1,0,CONNECT,db,,0")[0].time
    b = p.feed("20261116 00:22:20,mdb,u,10.0.0.1,1,0,DISCONNECT,db,,0")[0].time
    assert a == b == 1794788540.0
    with pytest.raises(LineError, match="not a server_audit timestamp"):
        p.feed("20261316 00:22:20,mdb,u,10.0.0.1,1,0,CONNECT,db,,0")


@settings(max_examples=1500)
@given(
    st.text(alphabet="0123456789 :+-_", min_size=8, max_size=8),
    st.text(alphabet="0123456789 :+-_", min_size=9, max_size=10),
)
def test_mariadb_times_equal_datetime(day: str, rest: str) -> None:
    from stagewall.monitoring.ingest.mariadb import _parse_time, _time

    for text in (day + rest, "20261116" + rest, day + " 12:30:45"):
        assert _outcome(_time, text) == _outcome(_parse_time, text)
        assert _outcome(_time, text) == _outcome(_parse_time, text)  # day and minute cached


def test_loads_keeps_integers_past_64_bits_exact() -> None:
    text = '{"a": 18446744073709551616, "b": -9223372036854775809, "c": 1e400}'
    assert loads(text) == json.loads(text)
    assert isinstance(loads(text)["a"], int)


@settings(max_examples=3000)
@given(st.text(alphabet="ab_.-0123456789 ,'$()\n\u0663\u00e9", max_size=20))
def test_number_redaction_matches_the_plain_pattern(statement: str) -> None:
    import re

    from stagewall.monitoring.ingest._base import _NUMBER

    plain = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
    assert _NUMBER.sub("?", statement) == plain.sub("?", statement)


def _events_or_error(fn: Callable[[str], list[Event]], line: str) -> object:
    try:
        return "ok", [dataclasses.astuple(e) for e in fn(line)]
    except LineError as exc:
        return "error", str(exc)


_JSON_VALUES = (
    st.text(alphabet="ab 1:.-", max_size=6)
    | st.sampled_from(["", "LOG", "FATAL", "2026-11-02 01:22:18.956 UTC", "[local]"])
    | st.sampled_from(
        [
            "AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.t,select * from t where id = 5,<none>",
            "connection received: host=10.0.0.9 port=5000",
            "connection authorized: user=u database=d",
            "disconnection: session time: 0:00:01.000 user=u database=d host=10.0.0.9 port=1",
            'password authentication failed for user "u"',
        ]
    )
    | st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.sampled_from([2**64, -(2**63) - 1, 10**30])
    | st.floats(allow_nan=False)
    | st.lists(st.integers(0, 3) | st.floats(0, 1), max_size=2)
    | st.dictionaries(st.sampled_from("ab"), st.integers(0, 3) | st.floats(0, 1), max_size=2)
)
_JSON_KEYS = (
    "timestamp",
    "error_severity",
    "message",
    "pid",
    "user",
    "dbname",
    "remote_host",
    "session_id",
    "backend_type",
)


_JSONLOG = [
    {
        "timestamp": "2026-11-02 01:22:17.956 UTC",
        "pid": 28278,
        "error_severity": "LOG",
        "message": "connection received: host=100.81.2.10 port=5000",
        "remote_host": "100.81.2.10",
    },
    {
        "timestamp": "2026-11-02 01:22:17.966 UTC",
        "pid": 28278,
        "error_severity": "LOG",
        "message": "connection authorized: user=wei database=app application_name=psql",
        "user": "wei",
        "dbname": "app",
        "remote_host": "100.81.2.10",
        "session_id": "6ae7d2bc.4e21",
    },
    {
        "timestamp": "2026-11-02 01:22:18.956 UTC",
        "pid": 28278,
        "error_severity": "LOG",
        "message": "AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.customers,"
        "select * from public.customers where id = 14864,<not logged>",
        "user": "wei",
        "dbname": "app",
        "remote_host": "100.81.2.10",
    },
    {
        "timestamp": "2026-11-02 01:30:00.000 UTC",
        "pid": 28278,
        "error_severity": "LOG",
        "message": "disconnection: session time: 0:07:42.044 user=wei database=app "
        "host=100.81.2.10 port=48278",
        "user": "wei",
        "dbname": "app",
    },
    {
        "timestamp": "2026-11-02 01:31:00.000 UTC",
        "pid": 28300,
        "error_severity": "FATAL",
        "message": 'password authentication failed for user "mallory"',
        "user": "mallory",
        "dbname": "app",
    },
]


@settings(max_examples=500)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(range(len(_JSONLOG))),
            st.dictionaries(st.sampled_from(_JSON_KEYS), st.none() | st.just(...) | _JSON_VALUES),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_jsonlog_fast_path_gives_what_the_general_path_gives(
    changes: list[tuple[int, dict[str, object]]],
) -> None:
    """PostgresParser._json reads orjson's record directly when the fields it uses are
    strings (pid an int): the same events, hosts joined on pid and errors as the general
    path (loads, which re-parses with json when a float is anywhere in the record)."""
    from stagewall.monitoring.ingest.postgres import PostgresParser

    fast, general = PostgresParser(year=2026), PostgresParser(year=2026)
    for which, changed in changes:
        rec = {**_JSONLOG[which], **changed}
        line = json.dumps({k: v for k, v in rec.items() if v is not ...})
        assert _events_or_error(fast._json, line) == _events_or_error(general._json_general, line)
        assert fast._hosts == general._hosts


@settings(max_examples=5000)
@given(st.text(alphabet="ab_.-0123456789 ,'$()\n\t\x00\u0663\u00e9\u2003", max_size=30))
def test_redaction_fast_paths_give_the_two_pass_result(statement: str) -> None:
    """No literal pass without a quote or dollar; the number pass starts one character
    before the first '-' or digit of an ASCII statement."""
    from stagewall.monitoring.ingest._base import _LITERAL, _NUMBER, redact_statement

    def reference(s: str, limit: int) -> str:
        out = " ".join(_NUMBER.sub("?", _LITERAL.sub("'?'", s)).split())
        return out if len(out) <= limit else out[:limit] + "..."

    for limit in (400, 8):
        assert redact_statement(statement, limit) == reference(statement, limit)


@settings(max_examples=3000)
@given(
    day=st.integers(0, 39),
    month=st.sampled_from(["Jan", "Feb", "Nov", "Dec", "nov", "NOV", "Xyz", "Sept"]),
    year=st.sampled_from(["2026", "2024", "0000", "0001", "9999", "1969"]),
    hms=st.tuples(st.integers(0, 29), st.integers(0, 69), st.integers(0, 69)),
    sep=st.sampled_from([" ", "  ", "", "\t"]),
    offset=st.tuples(st.sampled_from("+-"), st.integers(0, 29), st.integers(0, 69)),
    tail=st.sampled_from(["", " ", "0", ":00"]),
)
def test_access_log_times_equal_strptime(
    day: int,
    month: str,
    year: str,
    hms: tuple[int, int, int],
    sep: str,
    offset: tuple[str, int, int],
    tail: str,
) -> None:
    from datetime import datetime

    from stagewall.monitoring.ingest.git import _access_time

    h, m, s = hms
    sign, oh, om = offset
    text = f"{day:02d}/{month}/{year}:{h:02d}:{m:02d}:{s:02d}{sep}{sign}{oh:02d}{om:02d}{tail}"

    def reference() -> tuple[str, float | None]:
        try:
            return "ok", datetime.strptime(text, "%d/%b/%Y:%H:%M:%S %z").timestamp()
        except ValueError:
            return "error", None

    def fast() -> tuple[str, float | None]:
        try:
            return "ok", _access_time(text)
        except ValueError:
            return "error", None

    assert fast() == reference()
