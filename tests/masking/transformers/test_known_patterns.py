"""The patterns of ``_known`` rewritten for speed find what their plain forms find.

``_spellable`` reads the values and their offsets in C-level passes instead of
comprehensions. ``_HOUSE_NUMBER`` starts with its first digit (every match of either
alternative starts with an ASCII digit), which lets the regex engine skip to the
digits, and asks what stood before it by lookbehinds; the plain form is kept here and
both must remove the same spans.
"""

from __future__ import annotations

import re
from itertools import compress

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.masking.transformers._known import (
    _HOUSE_NUMBER,
    _SPELLABLE,
    _SPELT,
    _first,
    _spellable,
)

PLAIN_HOUSE_NUMBER = re.compile(
    r"(?:(?<=\x00)|^)[0-9]+[^\W\d_]?\b|\b[0-9]+[^\W\d_]?(?=\s*(?:\x00|$))"
)

_ALPHABET = st.sampled_from(
    [
        *"0123456789",
        *"abzAZ",
        "ß",
        "é",
        "Ж",
        "\u0663",
        "\uff11",
        "_",
        " ",
        "\t",
        "\n",
        "\x00",
        "-",
        ".",
        "/",
    ]
)


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.text(_ALPHABET, max_size=14), max_size=8))
def test_house_number_pattern_equals_its_plain_form(values: list[str]) -> None:
    joined = "\x00".join(values)
    assert _HOUSE_NUMBER.sub("", joined) == PLAIN_HOUSE_NUMBER.sub("", joined)
    assert [m.span() for m in _HOUSE_NUMBER.finditer(joined)] == [
        m.span() for m in PLAIN_HOUSE_NUMBER.finditer(joined)
    ]


def test_house_number_examples() -> None:
    streets = ["Ganthrivweg 14", "222 Baker Street", "12a Rue Haute", "Oak 7b ", "x12 Road", "14"]
    joined = "\x00".join(streets)
    assert _HOUSE_NUMBER.sub("", joined).split("\x00") == [
        "Ganthrivweg ",
        " Baker Street",
        " Rue Haute",
        "Oak  ",
        "x12 Road",
        "",
    ]


def _plain_spellable(known: list[tuple[str, str]]) -> list[int]:
    """``_known._spellable`` before its C-level passes (verbatim but for names)."""
    at = list(compress(range(len(known)), map(_SPELT.__contains__, map(_first, known))))
    if not at:
        return []
    values = [known[i][1] for i in at]
    starts = np.cumsum([0] + [len(v) + 1 for v in values[:-1]])
    found = [m.start() for m in _SPELLABLE.finditer("\x00".join(values))]
    if not found:
        return []
    idx = np.searchsorted(starts, found, side="right") - 1
    return [at[j] for j in sorted(set(idx.tolist()))]


_KINDS = st.sampled_from(["first_name", "last_name", "street_address", "email", "city"])
_PARTS = st.sampled_from(
    ["Müller", "Mueller", "Søgaard", "Anna", "Straße", "Oe", "ß", "", "x", "ẞ", "Ä", "aE", "UE",
     "o", "e", "\x00", "\ud800", "é", "Ø", "\u1e9f", "\U0001f600", "ÖE"]
)  # fmt: skip


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(_KINDS, st.lists(_PARTS, max_size=4).map("".join)), max_size=12))
def test_spellable_equals_its_plain_form(known: list[tuple[str, str]]) -> None:
    assert _spellable(known) == _plain_spellable(known)
