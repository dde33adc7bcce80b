"""date_shift's COPY-field path and the parser under it give what the str path gives.

``DateShift.transform_copy_fields`` takes COPY text fields and returns COPY text
fields without a ``str`` per value; for every batch it accepts it must return the
bytes that decoding, ``transform`` and encoding return, and it must decline (None)
every batch it cannot read. ``parse_texts`` is compared with its code before the
speed round (kept below verbatim), which read each text's length and position by
gathers instead of the newline positions and one-length views.
"""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from stagewall.errors import MaskingError
from stagewall.keys import MaskingKey
from stagewall.masking.db._pgtext import decode_text_column, encode_column
from stagewall.masking.transformers import build_transformer
from stagewall.masking.transformers._aesprf import RowPrf, keyed_prf
from stagewall.masking.transformers._instants import (
    AWARE,
    DATE,
    NAIVE,
    Parsed,
    civil_from_days,
    days_from_civil,
    parse_texts,
)
from stagewall.masking.transformers._names import _streets
from stagewall.masking.transformers._prf import subkey
from stagewall.masking.types import ColumnKind

I64 = Any
_DIGIT_AT = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18])
_FIXED = {4: 45, 7: 45, 10: 32, 13: 58, 16: 58}
KEY = MaskingKey("copy-fields", b"\x5a" * 32)


def reference_parse_texts(texts: list[str]) -> Parsed | None:
    """parse_texts before the speed round (verbatim but for its name).

    Canonical: ``YYYY-MM-DD``, ``YYYY-MM-DD hh:mm:ss`` with an optional fraction
    of 1-6 digits not ending in 0, and an optional ``+00`` (UTC) — what
    PostgreSQL writes for date, timestamp and timestamptz under ``DateStyle=ISO``
    and ``TimeZone=UTC`` — and a date that exists.
    """
    m = len(texts)
    if m == 0:
        return None
    joined = "\n".join(texts)
    if joined.count("\n") != m - 1:
        return None
    raw = joined.encode("utf-8", "surrogatepass")
    if len(raw) != len(joined):
        return None  # not ASCII
    buf = np.frombuffer(raw, dtype=np.uint8)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=m)
    starts = np.cumsum(lengths + 1) - (lengths + 1)
    ends = starts + lengths
    has_time = lengths >= 19
    if ((lengths != 10) & ~has_time).any() or (lengths > 29).any():
        return None
    tz = has_time & (lengths >= 22)
    tz &= buf[np.maximum(ends - 3, 0)] == 43  # "+" of a trailing "+00"
    if tz.any():
        at = ends[tz]
        if ((buf[at - 2] != 48) | (buf[at - 1] != 48)).any():
            return None
    body = np.where(tz, lengths - 3, lengths)  # without the "+00"
    frac_len = np.where(has_time & (body > 19), body - 20, 0)
    if ((body > 19) & ((frac_len < 1) | (frac_len > 6))).any():
        return None
    if (frac_len > 0).any() and (buf[starts[frac_len > 0] + 19] != 46).any():  # "."
        return None
    # fixed positions: digits and separators of the first 10 or 19 characters
    width = np.where(has_time, 19, 10)
    cols = np.arange(19)
    inside = cols < width.reshape(-1, 1)
    head = np.where(inside, buf[np.minimum(starts.reshape(-1, 1) + cols, len(buf) - 1)], 48)
    for pos, byte in _FIXED.items():
        if (inside[:, pos] & (head[:, pos] != byte)).any():
            return None
    digits = head[:, _DIGIT_AT].astype(np.int64) - 48
    if ((digits < 0) | (digits > 9)).any():
        return None
    y = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    mo = digits[:, 4] * 10 + digits[:, 5]
    d = digits[:, 6] * 10 + digits[:, 7]
    hh = digits[:, 8] * 10 + digits[:, 9]
    mi = digits[:, 10] * 10 + digits[:, 11]
    ss = digits[:, 12] * 10 + digits[:, 13]
    if ((y < 1) | (mo < 1) | (mo > 12) | (d < 1) | (hh > 23) | (mi > 59) | (ss > 59)).any():
        return None
    days = days_from_civil(y, mo, d)
    if (civil_from_days(days)[2] != d).any():  # 2023-02-29 and the like
        return None
    micros = ((hh * 60 + mi) * 60 + ss) * 1_000_000
    if (frac_len > 0).any():
        fcols = np.arange(6)
        fmask = fcols < frac_len.reshape(-1, 1)
        fb = np.where(fmask, buf[np.minimum(starts.reshape(-1, 1) + 20 + fcols, len(buf) - 1)], 48)
        fd = fb.astype(np.int64) - 48
        if ((fd < 0) | (fd > 9)).any():
            return None
        last = fd[np.arange(m), np.maximum(frac_len - 1, 0)]
        if ((frac_len > 0) & (last == 0)).any():
            return None  # "10:00:00.50" is written "10:00:00.5"
        micros += fd @ np.array([100000, 10000, 1000, 100, 10, 1], dtype=np.int64)
    kind = np.where(tz, AWARE, np.where(has_time, NAIVE, DATE)).astype(np.int64)
    return Parsed(buf, starts, kind, days, micros)


def _pg_text(v: dt.date, zoned: bool) -> str:
    """A value as PostgreSQL writes it in COPY text (DateStyle ISO, TimeZone UTC)."""
    if not isinstance(v, dt.datetime):
        return v.isoformat()
    text = v.replace(tzinfo=None).isoformat(sep=" ")
    if v.microsecond:
        text = text.rstrip("0")
    return text + ("+00" if zoned else "")


_instants = st.one_of(
    st.dates(min_value=dt.date(1, 3, 1), max_value=dt.date(9999, 10, 1)).map(lambda d: (d, False)),
    st.tuples(
        st.datetimes(min_value=dt.datetime(1, 3, 1), max_value=dt.datetime(9999, 10, 1)),
        st.booleans(),
    ),
)
_odd = st.sampled_from(
    [b"infinity", b"-infinity", b"", b" ", b"0044-03-15 BC", b"12024-01-01", b"a\\tb"]
)


def _fields(draws: list[tuple[dt.date, bool]]) -> list[bytes]:
    return [_pg_text(v, z).encode() for v, z in draws]


def _str_path(tr: Any, raw: list[bytes], kind: ColumnKind, suffix: bytes) -> list[bytes]:
    return encode_column(tr.transform(decode_text_column(raw)), kind, suffix)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(_instants, min_size=1, max_size=60),
    st.sampled_from([b"", b"\t"]),
    st.integers(min_value=1, max_value=400),
    st.sampled_from(["value", "salt"]),
)
def test_copy_fields_are_the_str_path_bytes(
    draws: list[tuple[dt.date, bool]], suffix: bytes, max_days: int, per: str
) -> None:
    tr: Any = build_transformer("date_shift", {"max_days": max_days, "per": per}, key=KEY)
    raw = _fields(draws)
    try:
        want = _str_path(tr, raw, ColumnKind.TIMESTAMP, suffix)
    except MaskingError:
        # a date near year 1 or 9999 shifted past it: both paths refuse the batch alike
        # (Hypothesis reaches the range's ends; the test used to expect no refusal)
        with pytest.raises(MaskingError, match="outside the supported calendar range"):
            tr.transform_copy_fields(raw, suffix)
        return
    got = tr.transform_copy_fields(raw, suffix)
    assert got is not None  # canonical texts: the COPY-field path takes the batch
    assert got == want


def test_both_paths_refuse_a_shift_past_year_9999_alike() -> None:
    """The example Hypothesis found: dates at the end of the calendar shifted by up to
    400 days. The COPY-field path and the str path refuse with the same message."""
    tr: Any = build_transformer("date_shift", {"max_days": 400, "per": "value"}, key=KEY)
    raw = _fields([(dt.date(9999, 10, 1) - dt.timedelta(days=i), False) for i in range(60)])
    with pytest.raises(MaskingError, match="outside the supported calendar range"):
        _str_path(tr, raw, ColumnKind.TIMESTAMP, b"")
    with pytest.raises(MaskingError, match="outside the supported calendar range"):
        tr.transform_copy_fields(raw, b"")


@settings(max_examples=100, deadline=None)
@given(st.lists(_instants, min_size=1, max_size=30), _odd, st.integers(min_value=0, max_value=30))
def test_copy_fields_decline_what_they_cannot_read(
    draws: list[tuple[dt.date, bool]], odd: bytes, at: int
) -> None:
    tr: Any = build_transformer("date_shift", {"max_days": 30}, key=KEY)
    raw = _fields(draws)
    raw.insert(min(at, len(raw)), odd)
    assert tr.transform_copy_fields(raw, b"\t") is None


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.one_of(_instants, st.none()), min_size=1, max_size=40),
    st.sampled_from([b"", b"\t"]),
)
def test_copy_fields_keep_nulls_as_the_str_path_does(
    draws: list[tuple[dt.date, bool] | None], suffix: bytes
) -> None:
    tr: Any = build_transformer("date_shift", {"max_days": 30}, key=KEY)
    raw = [b"\\N" if d is None else _pg_text(*d).encode() for d in draws]
    got = tr.transform_copy_fields(raw, suffix)
    if all(d is None for d in draws):
        assert got is None  # nothing to shift: the str path
        return
    assert got is not None
    assert got == _str_path(tr, raw, ColumnKind.TIMESTAMP, suffix)


def test_copy_fields_of_one_length_and_of_many() -> None:
    tr: Any = build_transformer("date_shift", {"max_days": 30}, key=KEY)
    base = dt.datetime(2024, 2, 28, 23, 59, 59, tzinfo=dt.UTC)
    same = [base + dt.timedelta(seconds=i, microseconds=123456) for i in range(500)]
    mixed = [base + dt.timedelta(seconds=i, microseconds=i * 10) for i in range(500)]
    for values in (same, mixed, [v.date() for v in same]):
        raw = [_pg_text(v, True).encode() for v in values]
        for suffix in (b"", b"\t"):
            got = tr.transform_copy_fields(raw, suffix)
            assert got is not None
            assert got == _str_path(tr, raw, ColumnKind.TIMESTAMP, suffix)


def test_copy_fields_out_of_range_fails_as_the_str_path_does() -> None:
    tr: Any = build_transformer("date_shift", {"max_days": 400}, key=KEY)
    raw = [f"9999-12-{d:02d} 10:00:00+00".encode() for d in range(1, 32)]
    with pytest.raises(MaskingError, match="outside the supported calendar range"):
        _str_path(tr, raw, ColumnKind.TIMESTAMP, b"\t")
    with pytest.raises(MaskingError, match="outside the supported calendar range"):
        tr.transform_copy_fields(raw, b"\t")


def _assert_parse_as_before(texts: list[str]) -> None:
    """parse_texts gives what the code before gave (None where it refused)."""
    got, want = parse_texts(texts), reference_parse_texts(texts)
    if want is None:
        assert got is None
        return
    assert got is not None
    for name in ("buf", "starts", "kind", "days", "micros"):
        assert np.array_equal(getattr(got, name), getattr(want, name)), name


_chars = st.sampled_from([*"0123456789-: .+T", "0", "1", "2"])


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(
            _instants.map(lambda d: _pg_text(*d)),
            st.text(_chars, min_size=8, max_size=31),
        ),
        min_size=1,
        max_size=40,
    ),
    st.booleans(),
)
def test_parse_equals_the_code_before(texts: list[str], one_length: bool) -> None:
    if one_length:  # a column of one length: the matrix view
        n = len(texts[0])
        texts = [t for t in texts if len(t) == n] or texts[:1]
    _assert_parse_as_before(texts)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(min_value=1, max_value=9999),
            st.text(min_size=0, max_size=12),
            st.text(min_size=0, max_size=8),
        ),
        max_size=30,
    )
)
def test_street_rows_equal_the_formatted_rows(rows: list[tuple[int, str, str]]) -> None:
    nums, lasts, sufs = ([r[i] for r in rows] for i in range(3))
    assert _streets(nums, lasts, sufs) == [f"{n} {a} {s}" for n, a, s in rows]


def test_a_reused_prf_gives_a_fresh_prfs_bytes_and_stays_in_its_thread() -> None:
    key = b"\x07" * 32
    rows = np.arange(48 * 3, dtype=np.uint8).reshape(-1, 48) ^ 0x5C
    fresh = RowPrf(subkey(key, "a/1"), subkey(key, "a/x"))
    cached = keyed_prf(key, "a/1", "a/x")
    for _ in range(3):  # reused: no state carried between calls
        assert np.array_equal(cached.tag(rows), fresh.tag(rows))
        assert np.array_equal(cached(rows, 40), fresh(rows, 40))
    assert keyed_prf(key, "a/1", "a/x") is cached
    assert keyed_prf(b"\x08" * 32, "a/1", "a/x") is not cached  # another key: another PRF
    other: list[RowPrf] = []
    t = threading.Thread(target=lambda: other.append(keyed_prf(key, "a/1", "a/x")))
    t.start()
    t.join()
    assert other[0] is not cached
    assert np.array_equal(other[0].tag(rows), fresh.tag(rows))


_digit = st.integers(0, 9).map(str)


def _mostly(valid: list[str], invalid: list[str]) -> st.SearchStrategy[str]:
    """A field: valid nine times in ten, so that whole batches are often canonical."""
    return st.sampled_from(valid * (9 * len(invalid)) + invalid * len(valid))


@st.composite
def _shaped(draw: st.DrawFn, has_time: bool, frac: int, zone: str) -> str:
    """A text of PostgreSQL's shape whose fields may be out of range (month 13, day
    31 of a 30-day month, 29 February of common and leap years, hour 24, a zero at
    the end of the fraction, another mark before it, another zone)."""
    y = draw(st.sampled_from(["0000", "0001", "1900", "2000", "2023", "2024", "2100", "9999"]))
    mo = draw(_mostly(["01", "02", "04", "09", "12"], ["00", "13", "1a"]))
    d = draw(_mostly(["01", "09", "17", "28"], ["00", "29", "30", "31", "32", "99"]))
    text = f"{y}-{mo}-{d}"
    if has_time:
        hh = draw(_mostly(["00", "09", "23"], ["24", "3x"]))
        mi = draw(_mostly(["00", "59"], ["60"]))
        ss = draw(_mostly(["00", "59"], ["61"]))
        text += f"{draw(_mostly([' '], ['T']))}{hh}:{mi}:{ss}"
        if frac:
            dot = draw(_mostly(["."], [",", "0"]))
            text += dot + "".join(draw(st.lists(_digit, min_size=frac, max_size=frac)))
        text += draw(_mostly([zone], ["+01", "+10", "-00"])) if zone else ""
    return text


@st.composite
def _one_length(draw: st.DrawFn) -> list[str]:
    """Texts of one shape (a column); sometimes with texts of the same length but
    another shape among them (a zoned fraction of n digits and an unzoned one of
    n + 3)."""
    has_time, frac = draw(st.booleans()), draw(st.integers(0, 7))
    zone = draw(st.sampled_from(["", "+00"]))
    texts = draw(st.lists(_shaped(has_time, frac, zone), min_size=1, max_size=8))
    if has_time and zone and frac <= 3 and draw(st.booleans()):
        at = draw(st.integers(0, len(texts)))
        texts.insert(at, draw(_shaped(True, frac + 3, "")))
    return texts


@settings(max_examples=600, deadline=None)
@given(_one_length())
@example(["2024-01-01 10:00:00.1234567"])
@example(["2024-01-01 10:00:00+10", "2024-01-01 10:00:00+00"])
@example(["2024-01-01 10:00:00.1+00", "2024-01-01 10:00:00.1234"])
@example(["2024-01-01 10:00:00.1234", "2024-01-01 10:00:00.1+00"])
@example(["2024-01-01 24:00:00", "2024-01-01 23:00:00"])
@example(["2024-01-01 10:00:00,5"])
@example(["2024-01-01 10:00:00.50"])
@example(["2024-02-29", "2023-02-28"])
@example(["2023-02-28", "2023-02-29"])
def test_parse_of_one_length_equals_the_code_before(texts: list[str]) -> None:
    """Columns of one length (read through the one-length matrix view), most of them
    canonical, some with one field out of range or texts of another shape but the
    same length among them: the same answer as the code before."""
    _assert_parse_as_before(texts)


def test_parse_of_one_length_every_day_of_four_years() -> None:
    """Every date of 1900 (common, a century), 2000 (leap, a fourth century), 2023 and
    2024, and the days 29-32 of every month, in columns of one length: the same
    answer as the code before."""
    first = dt.date(1900, 1, 1).toordinal()
    dates = [dt.date.fromordinal(first + i) for i in range(366)]
    for year in (2000, 2023, 2024):
        start = dt.date(year, 1, 1).toordinal()
        dates += [dt.date.fromordinal(start + i) for i in range(366)]
    texts = [d.isoformat() for d in dates]
    bad = [
        f"{y}-{m:02d}-{d}"
        for y in (1900, 2000, 2023, 2024)
        for m in range(1, 13)
        for d in (29, 30, 31, 32)
    ]
    for batch in (texts, [t + " 10:00:00.5+00" for t in texts], *([b] for b in bad)):
        got, want = parse_texts(batch), reference_parse_texts(batch)
        assert (got is None) == (want is None), batch[:2]
        if got is not None and want is not None:
            assert np.array_equal(got.days, want.days)
            assert np.array_equal(got.micros, want.micros)
            assert np.array_equal(got.kind, want.kind)
