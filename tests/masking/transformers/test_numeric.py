from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.keys import MaskingKey
from stagewall.masking.transformers import build_transformer

KEY = MaskingKey("k", b"\x01" * 32)


def t(name: str, **params: object):  # type: ignore[no-untyped-def]
    return build_transformer(name, params, key=KEY)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)),
            st.datetimes(
                dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1), timezones=st.timezones()
            ),
        ),
        min_size=1,
        max_size=20,
    ),
    st.integers(1, 400),
)
def test_date_shift_within_bounds_and_types(values: list[dt.date], days: int) -> None:
    out = t("date_shift", max_days=days).transform(values)
    for a, b in zip(values, out, strict=True):
        assert type(a) is type(b)
        if isinstance(a, dt.datetime) and a.tzinfo is not None:
            assert a.tzinfo is b.tzinfo  # type: ignore[attr-defined]
            delta = b.astimezone(dt.UTC) - a.astimezone(dt.UTC)  # type: ignore[attr-defined]
        elif isinstance(a, dt.datetime):
            delta = b - a  # type: ignore[operator]
            assert a.time() == b.time()  # type: ignore[attr-defined]
        else:
            delta = dt.timedelta(days=(b - a).days)  # type: ignore[operator]
        # the instant moves by whole days (across a DST change too)
        assert 1 <= abs(delta.days) <= days and delta.seconds == 0 and delta.microseconds == 0


def test_date_shift_per_salt_keeps_intervals() -> None:
    dates = [dt.date(2020, 1, 1), dt.date(2020, 3, 15), dt.date(2021, 7, 4)]
    a = build_transformer("date_shift", {"per": "salt"}, key=KEY, salt="customer-42").transform(
        dates
    )
    offsets = {(y - x).days for x, y in zip(dates, a, strict=True)}
    assert len(offsets) == 1 and 0 not in offsets


def test_birth_date_generalisation() -> None:
    d = dt.date(1987, 5, 23)
    assert t("birth_date").transform([d]) == [dt.date(1987, 1, 1)]
    assert t("birth_date", generalise="month").transform([d]) == [dt.date(1987, 5, 1)]
    assert t("birth_date", generalise="band", band_years=10).transform([d]) == [dt.date(1980, 1, 1)]
    ts = dt.datetime(1987, 5, 23, 13, 5, tzinfo=dt.UTC)
    assert t("birth_date").transform([ts]) == [dt.datetime(1987, 1, 1, tzinfo=dt.UTC)]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.integers(-(10**6), 10**6),
            st.floats(-1e6, 1e6, allow_nan=False),
            st.decimals(-(10**6), 10**6, places=2, allow_nan=False),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_numeric_noise_keeps_type_sign_and_bounds(values: list[object]) -> None:
    out = t("numeric_noise", amount=0.2).transform(values)
    for a, b in zip(values, out, strict=True):
        assert type(a) is type(b)
        fa, fb = float(a), float(b)  # type: ignore[arg-type]
        assert fb == 0 or fa == 0 or (fa < 0) == (fb < 0)
        assert abs(fb - fa) <= abs(fa) * 0.2 + 1  # +1: integer rounding, decimal places
        if isinstance(a, Decimal):
            assert b.as_tuple().exponent == a.as_tuple().exponent  # type: ignore[union-attr]


def test_numeric_noise_absolute_and_actually_changes_values() -> None:
    values = list(range(1000, 1100))
    out = t("numeric_noise", mode="absolute", amount=50).transform(values)
    assert all(abs(a - b) <= 50 for a, b in zip(values, out, strict=True))
    assert sum(a != b for a, b in zip(values, out, strict=True)) > 90


def test_date_shift_out_of_calendar_fails_closed() -> None:
    import pytest

    from stagewall.errors import MaskingError

    with pytest.raises(MaskingError, match="outside the supported calendar range"):
        t("date_shift", max_days=36500).transform([dt.date.max, dt.date.min] * 20)


def test_iso_text_dates_as_sqlite_returns_them() -> None:
    assert t("birth_date").transform(["1987-05-23", "1987-05-23 13:05:00"]) == [
        "1987-01-01",
        "1987-01-01 00:00:00",
    ]
    shifted = t("date_shift").transform(["2020-01-01", "2020-01-01T10:30:00"])
    assert len(shifted[0]) == 10 and dt.date.fromisoformat(shifted[0]) != dt.date(2020, 1, 1)
    assert shifted[1][10] == "T" and shifted[1].endswith("10:30:00")
    import pytest

    from stagewall.errors import MaskingError

    with pytest.raises(MaskingError, match="not an ISO 8601 date"):
        t("birth_date").transform(["23/05/1987"])


def canonical_instant(v: dt.date) -> str:
    """How PostgreSQL writes a value under DateStyle ISO and TimeZone UTC (COPY text)."""
    if not isinstance(v, dt.datetime):
        return v.isoformat()
    suffix = ""
    if v.tzinfo is not None and v.utcoffset() is not None:
        v = v.astimezone(dt.UTC).replace(tzinfo=None)
        suffix = "+00"
    s = v.isoformat(sep=" ")
    if v.microsecond:
        s = s.rstrip("0")
    return s + suffix


_INSTANTS = st.one_of(
    st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)),
    st.datetimes(dt.datetime(1900, 1, 2), dt.datetime(2100, 1, 1)),
    st.datetimes(dt.datetime(1900, 1, 2), dt.datetime(2100, 1, 1), timezones=st.timezones()),
)


@settings(max_examples=80, deadline=None)
@given(st.lists(_INSTANTS, min_size=1, max_size=30), st.sampled_from(["value", "salt"]))
def test_date_shift_same_instant_same_shift_as_text_or_native(
    values: list[dt.date], per: str
) -> None:
    """PostgreSQL COPY text (ISO, UTC) and native driver values shift identically."""
    shift = t("date_shift", max_days=90, per=per)
    texts = [canonical_instant(v) for v in values]
    from_text = shift.transform(texts)
    from_native = shift.transform(values)
    assert from_text == [canonical_instant(v) for v in from_native]  # type: ignore[arg-type]
    # one value at a time gives the same as the batch (the text fast path is batch-wide)
    assert [shift.transform([x])[0] for x in texts] == from_text


def test_canonical_instant_helper_is_postgres_iso_utc_text() -> None:
    tz = dt.timezone(dt.timedelta(hours=5, minutes=30))
    assert canonical_instant(dt.date(2024, 5, 1)) == "2024-05-01"
    assert canonical_instant(dt.datetime(2024, 5, 1, 10, 30)) == "2024-05-01 10:30:00"
    assert canonical_instant(dt.datetime(2024, 5, 1, 10, 30, 0, 250000)) == (
        "2024-05-01 10:30:00.25"
    )
    assert canonical_instant(dt.datetime(2024, 5, 1, 3, 0, tzinfo=tz)) == ("2024-04-30 21:30:00+00")


def test_date_shift_text_keeps_infinity_and_rejects_non_iso() -> None:
    import pytest

    from stagewall.errors import MaskingError

    out = t("date_shift").transform(["infinity", "2020-01-01 10:00:00+00", "-infinity"])
    assert out[0] == "infinity" and out[2] == "-infinity"
    assert out[1].endswith(" 10:00:00+00") and out[1] != "2020-01-01 10:00:00+00"  # type: ignore[union-attr]
    with pytest.raises(MaskingError, match="not an ISO 8601 date"):
        t("date_shift").transform(["2020-01-01 10:00:00+00", "01.02.2020"])
    with pytest.raises(MaskingError, match="not an ISO 8601 date"):
        t("date_shift").transform(["2023-02-29 10:00:00"])  # canonical shape, no such day
    # non-canonical text of the same instant (trailing zeros, "T", an offset) shifts alike
    same = ["2020-01-01 10:00:00.5", "2020-01-01 10:00:00.500", "2020-01-01T10:00:00.5"]
    outs = t("date_shift").transform(same) + t("date_shift").transform(same[:1])
    assert len({dt.datetime.fromisoformat(o) for o in outs}) == 1  # type: ignore[arg-type]
    assert outs[0] != same[0] and outs[2][10] == "T"  # type: ignore[index]
    aware = t("date_shift").transform(["2020-01-01 10:00:00+00", "2020-01-01T11:00:00+01:00"])
    assert dt.datetime.fromisoformat(aware[0]) == dt.datetime.fromisoformat(aware[1])  # type: ignore[arg-type]
    with pytest.raises(MaskingError, match="outside the supported calendar range"):
        t("date_shift", max_days=400).transform(["9999-12-31", "0001-01-01"] * 20)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["infinity", "-infinity", "0000-00-00", "0000-00-00 00:00:00"]),
            st.sampled_from(["2020-01-01", "x\n0000-00-00", "Infinity", ""]),
            st.text(max_size=12),
            st.none(),
        ),
        max_size=8,
    )
)
def test_batch_sentinel_precheck_never_misses_one(values: list[object]) -> None:
    from stagewall.masking.transformers._numeric import _is_sentinel, _may_hold_sentinel

    if any(map(_is_sentinel, values)):
        assert _may_hold_sentinel(values)  # type: ignore[arg-type]
    if values and all(type(v) is str for v in values) and not _may_hold_sentinel(values):  # type: ignore[arg-type]
        assert not any(map(_is_sentinel, values))


def test_date_shift_text_batch_with_a_zero_date_among_dates_keeps_it() -> None:
    out = t("date_shift").transform(["2020-01-01", "0000-00-00 00:00:00", "2021-05-06"])
    assert out[1] == "0000-00-00 00:00:00"
    assert out[0] != "2020-01-01" and out[2] != "2021-05-06"


def test_numeric_noise_keeps_infinity_and_nan_and_reaches_past_a_floats_range() -> None:
    # PostgreSQL's numeric holds Infinity, NaN and values far beyond 1e308: the
    # transformer raised InvalidOperation on them and the whole run failed
    huge = Decimal("9" * 400 + ".25")
    values = [Decimal("Infinity"), Decimal("-Infinity"), Decimal("NaN"), huge, huge.copy_negate()]
    out = t("numeric_noise").transform(values)
    assert out[0] == Decimal("Infinity") and out[1] == Decimal("-Infinity")
    assert isinstance(out[2], Decimal) and out[2].is_nan()
    for v, y in zip(values[3:], out[3:], strict=True):
        assert isinstance(y, Decimal) and y != v
        assert y.as_tuple().exponent == -2  # the scale is kept
        assert (y < 0) == (v < 0)
        assert abs(y - v) <= abs(v) * Decimal("0.1") + 1  # the relative bound
