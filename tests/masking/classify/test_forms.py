"""The detector's view of a text (classify._forms): what it reads, and that its
positions map back to the text."""

from __future__ import annotations

import re
import unicodedata

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.masking.classify._forms import _tables, detect_view, original_spans

_EVERY_BMP = "".join(chr(c) for c in range(0x80, 0x10000) if not 0xD800 <= c < 0xE000)


def test_the_quick_test_takes_every_character_that_is_not_its_own_view() -> None:
    """The RE2 class that decides whether a text needs its view holds exactly the
    characters the view maps or drops (BMP), and every astral character."""
    table, kinds, _, special = _tables()
    changed = {
        chr(c)
        for c in range(0x80, 0x10000)
        if not 0xD800 <= c < 0xE000 and (table[c] != c or kinds[c] != 0)
    }
    assert set(special.findall(_EVERY_BMP)) == changed
    assert len(changed) > 1500
    for c in ("\U0001d7ce", "\U0001f600", "\U000e0041", "\U00020000"):
        assert special.search(c) is not None


def test_every_digit_reads_as_its_ascii_digit() -> None:
    """Every character Python takes for a digit (Nd, superscripts, circled) is its
    digit's ASCII digit in the view, one for one."""
    every = "".join(chr(c) for c in range(0x80, 0x110000) if not 0xD800 <= c < 0xE000)
    digits = "".join(c for c in every if c.isdigit())
    view, where = detect_view(digits)
    assert where is None
    assert view == "".join(str(unicodedata.digit(c)) for c in digits)


_PIECES = [
    "a", "Z", "7", " ", "-", "@", "%", "%40", "%2b", "%2", "\x00", "\n", "\x00\n\x00",
    "\u0663", "\uff13", "\uff21", "\U0001d7d1", "\u00a0", "\u2009", "\u2013", "\u2212",
    "\u200b", "\u00ad", "\ufeff", "\u0301", "\u0336", "\u20e3", "\ufe0f", "\U000e0041",
    "é", "e\u0301", "ß", "İ", "\u017f", "\u066b", "\u2800", "田", "\U0001f600", "\ud800",
]  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=20).map("".join))
def test_the_view_maps_back_to_the_text(text: str) -> None:
    """Each character of the view is the one at its position in the text (or what
    that one reads as); the characters left out are invisible ones, the two
    digits of a URL escape, or a mark on a non-letter; NUL and line breaks stay
    where they are; a span of the view is a span of the text."""
    view, where = detect_view(text)
    at = np.arange(len(text)) if where is None else where
    assert len(at) == len(view)
    assert np.all(np.diff(at) > 0)
    for i, c in zip(at.tolist(), view, strict=True):
        src = text[i]
        if src in "\x00\n":
            assert c == src
        elif src == "%" and c != "%":
            assert text[i + 1 : i + 3].upper() in ("40", "2B", "20", "2D", "2E", "28", "29")
        elif src.isascii():
            assert c == src
        else:
            assert c == src or c.isascii(), (src, c)
    kept = set(at.tolist())
    escaped = {m.start() + k for m in re.finditer("%(?:40|2[bBdDeE089])", text) for k in (1, 2)}
    for i, src in enumerate(text):
        if i not in kept:
            assert i in escaped or unicodedata.category(src) in ("Cf", "Mn", "Me"), (text, i)
    if "\x00" not in text and "\n" not in text:
        return
    assert view.count("\x00") == text.count("\x00") and view.count("\n") == text.count("\n")
    spans = original_spans([(0, len(view))], where, len(text)) if view else []
    assert all(0 <= s <= e <= len(text) for s, e in spans)


def test_accents_stored_apart_stay_on_their_letters() -> None:
    """A combining mark on a letter is kept (the findings of NFD text are what
    they were); on a digit, a space or a sign it is dropped."""
    assert detect_view("Ga\u0301nthriv") == ("Ga\u0301nthriv", None)
    view, where = detect_view("6\u03361\u0336 \u0336+\u0336")
    assert view == "61 +" and where is not None and where.tolist() == [0, 2, 4, 6]
