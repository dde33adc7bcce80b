"""The vectorised date arithmetic and COPY-text parser behind date_shift."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.masking.transformers._instants import (
    AWARE,
    DATE,
    NAIVE,
    civil_from_days,
    days_from_civil,
    numbers,
    parse_texts,
    shift_texts,
)

EPOCH = dt.date(1970, 1, 1).toordinal()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dates(), min_size=1, max_size=50))
def test_civil_day_numbers_agree_with_python(dates: list[dt.date]) -> None:
    y = np.array([d.year for d in dates], dtype=np.int64)
    m = np.array([d.month for d in dates], dtype=np.int64)
    d_ = np.array([d.day for d in dates], dtype=np.int64)
    days = days_from_civil(y, m, d_)
    assert days.tolist() == [d.toordinal() - EPOCH for d in dates]
    back = civil_from_days(days)
    assert [tuple(map(int, t)) for t in zip(*back, strict=True)] == [
        (d.year, d.month, d.day) for d in dates
    ]


def test_parse_reads_what_postgres_writes() -> None:
    texts = [
        "2024-02-29",
        "2024-02-29 23:59:58",
        "1999-12-31 00:00:01.5+00",
        "0001-01-01 00:00:00.000001",
    ]
    p = parse_texts(texts)
    assert p is not None
    assert p.kind.tolist() == [DATE, NAIVE, AWARE, NAIVE]
    native = [
        dt.date(2024, 2, 29),
        dt.datetime(2024, 2, 29, 23, 59, 58),
        dt.datetime(1999, 12, 31, 0, 0, 1, 500000, tzinfo=dt.UTC),
        dt.datetime(1, 1, 1, 0, 0, 0, 1),
    ]
    kind, days, micros = numbers(native)
    assert (kind.tolist(), days.tolist(), micros.tolist()) == (
        p.kind.tolist(),
        p.days.tolist(),
        p.micros.tolist(),
    )
    assert shift_texts(p, np.array([1, -1, 1, 0])) == [
        "2024-03-01",
        "2024-02-28 23:59:58",
        "2000-01-01 00:00:01.5+00",
        "0001-01-01 00:00:00.000001",
    ]
    assert shift_texts(p, np.array([0, 0, 0, -1])) is None  # before year 1


@pytest.mark.parametrize(
    "text",
    [
        "2024-1-01",
        "2024-13-01",
        "2023-02-29",
        "2024-01-01T10:00:00",
        "2024-01-01 10:00",
        "2024-01-01 24:00:00",
        "2024-01-01 10:00:00.",
        "2024-01-01 10:00:00.50",
        "2024-01-01 10:00:00.1234567",
        "2024-01-01 10:00:00+01",
        "2024-01-01 10:00:00+00:00",
        "2024-01-01 BC",
        "0000-01-01",
        "infinity",
        "\uff12\uff10\uff12\uff14-01-01",  # full-width digits
        "2024-01-01\n",
        "",
    ],
)
def test_parse_refuses_anything_not_canonical(text: str) -> None:
    assert parse_texts(["2024-01-01", text]) is None
