"""Columns of one length and layout: read as a matrix and rewritten in its columns.

``parse_joined`` reads a batch whose texts all have one length and one canonical
layout (a date, a timestamp with 0-6 fraction digits, with or without ``+00``) as
the rows of a matrix, and ``shift_joined`` writes the shifted dates into the
matrix's first ten columns. Both must give what the general reading gives (the
code before) and what ``datetime`` arithmetic gives.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.masking.transformers._instants import parse_texts, shift_joined

from .test_date_copy_fields import reference_parse_texts


@st.composite
def _column(draw: st.DrawFn) -> list[str]:
    """Texts of one layout: dates, or timestamps with ``frac`` fraction digits (the last
    one not 0, as PostgreSQL writes them), zoned or not, all of one length."""
    has_time = draw(st.booleans())
    frac = draw(st.integers(0, 6)) if has_time else 0
    zoned = has_time and draw(st.booleans())
    days = draw(st.lists(st.integers(-700_000, 2_900_000), min_size=1, max_size=50))
    texts = []
    for n in days:
        text = dt.date.fromordinal(dt.date(1970, 1, 1).toordinal() + n).isoformat()
        if has_time:
            hh, mi, ss = (
                draw(st.integers(0, 23)),
                draw(st.integers(0, 59)),
                draw(st.integers(0, 59)),
            )
            text += f" {hh:02d}:{mi:02d}:{ss:02d}"
            if frac:
                head = draw(st.integers(0, 10 ** (frac - 1) - 1))
                text += f".{head:0{frac - 1}d}{draw(st.integers(1, 9))}" if frac > 1 else ""
                text += "" if frac > 1 else f".{draw(st.integers(1, 9))}"
            text += "+00" if zoned else ""
        texts.append(text)
    return texts


@settings(max_examples=300, deadline=None)
@given(_column(), st.data())
def test_one_layout_reads_and_shifts_as_the_general_code_and_datetime(
    texts: list[str], data: st.DataObject
) -> None:
    got, want = parse_texts(texts), reference_parse_texts(texts)
    assert got is not None and want is not None
    assert got.width == len(texts[0])  # the matrix reading took the batch
    for name in ("buf", "starts", "kind", "days", "micros"):
        assert np.array_equal(getattr(got, name), getattr(want, name)), name
    lo = max(
        -400, int(dt.date(1, 1, 1).toordinal() - dt.date(1970, 1, 1).toordinal() - got.days.min())
    )
    hi = min(
        400,
        int(dt.date(9999, 12, 31).toordinal() - dt.date(1970, 1, 1).toordinal() - got.days.max()),
    )
    offsets = np.array(
        data.draw(st.lists(st.integers(lo, hi), min_size=len(texts), max_size=len(texts))),
        dtype=np.int64,
    )
    shifted = shift_joined(got, offsets)
    assert shifted is not None
    assert shifted == shift_joined(dataclasses.replace(got, width=0), offsets)
    for text, days, out in zip(texts, offsets.tolist(), shifted.split(b"\n"), strict=True):
        date = dt.date.fromisoformat(text[:10]) + dt.timedelta(days=days)
        assert out.decode() == date.isoformat() + text[10:]


def test_a_column_of_two_layouts_of_one_length_takes_the_general_reading() -> None:
    """A zoned text with one fraction digit and an unzoned one with four have one
    length: each is read by its own layout."""
    texts = ["2024-01-01 10:00:00.1+00", "2024-01-01 10:00:00.1234"]
    for batch in (texts, texts[::-1]):
        got, want = parse_texts(batch), reference_parse_texts(batch)
        assert got is not None and want is not None and got.width == 0
        for name in ("kind", "days", "micros"):
            assert np.array_equal(getattr(got, name), getattr(want, name)), name
