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
        delta = (b - a) if isinstance(a, dt.datetime) else dt.timedelta(days=(b - a).days)
        assert 1 <= abs(delta.days) <= days and delta.seconds == 0 and delta != dt.timedelta(0)
        if isinstance(a, dt.datetime):
            assert a.tzinfo is b.tzinfo and a.time() == b.time()


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
