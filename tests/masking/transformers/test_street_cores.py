"""A street's probe core (``_street_cores``) from dict lookups per word gives what the
regex passes gave (streetcpu).

``_street_cores`` marked each street word with ``_STREET_WORD`` (some eighty
alternatives and a lookbehind tried at every character of the joined batch), then
cut the leading marks and house numbers and everything from the first mark or house
number on with two more regexes; py-spy put ~0.7 s of a 300 k-row free-text copy on
the first. It now looks each word up in a dict (the street words, and the batch's
few words that are a house number or end in a street word) and cuts each street
with ``lstrip`` and ``partition``. The code before is kept below and both must give
the same cores, byte for byte (trailing spaces too), for generated batches: street
words whole, as endings (after one, two or more characters, a house number's shape
before them), house numbers with a letter or another script's digit, superscripts,
punctuation, NUL, several spaces and empty streets.
"""

from __future__ import annotations

import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from stagewall.masking.transformers._known import (
    _HOUSE_NUMBER,
    _STREET_WORD,
    _spaced_and_compact,
    _street_cores,
)
from stagewall.masking.transformers._streetwords import (
    DE_NL_STREET_SUFFIXES,
    EN_STREET_WORDS,
    ROMANCE_STREET_WORDS,
)

_LEADING_CUTS = re.compile("(?:^|(?<=\x00))(?:[^\\w\x00]|\\b[0-9]+[^\\W\\d_]?\\b)+")
_AFTER_CUT = re.compile("(?:\x01|\\b[0-9]+[^\\W\\d_]?\\b)[^\x00]*")


def street_cores_before(bare: list[str]) -> list[str]:
    spaced, _ = _spaced_and_compact(bare)
    marked = _STREET_WORD.sub("\x01", "\x00".join(spaced))
    return _AFTER_CUT.sub("", _LEADING_CUTS.sub("", marked)).split("\x00")


_STREET_WORDS = sorted(
    {
        w
        for table in (EN_STREET_WORDS, ROMANCE_STREET_WORDS, DE_NL_STREET_SUFFIXES)
        for full, short in table.items()
        for w in (full, *short)
    }
)
_PIECE = st.one_of(
    st.sampled_from(_STREET_WORDS),
    st.builds(
        lambda stem, end: stem + end,
        st.sampled_from(["", "a", "ab", "Haupt", "12", "1a", "3", "x1", "Str", "ß", "٣"]),
        st.sampled_from(["straße", "strasse", "str", "Str.", "STRASSE", "str"]),
    ),
    st.sampled_from(["7", "8a", "8 a", "2ºB", "3rd", "12٣", "2²", "٣", "Nº", "No.", "14b"]),
    st.sampled_from(["Mayor", "Ganthriv", "Elm12345", "ÄÖ", "İ", "Ørsted", "x_y", "O'Brien"]),
    st.text(alphabet="ab1 ,./-_\x00\t²ßº", max_size=6),
)
_STREET = st.lists(_PIECE, max_size=7).map(" ".join) | st.lists(_PIECE, max_size=5).map("".join)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_STREET, min_size=1, max_size=8))
@example(["Calle Mayor 7, 2ºB", "Ganthriv Lane", "Hauptstraße", " Elm12345 Street"])
@example(["12strasse Mayor", "abstr", "astr", "Lane Mayor 3 Weg", "", "  Mayor  Lane "])
@example(["14 Ganthriv Lane, Apt 3", "c/ Mayor nº 7", "2² Mayor", "Mayor 12٣ Lane"])
def test_cores_are_those_of_the_regex_passes(streets: list[str]) -> None:
    # (as Pairs gives them: without their house number, first or last)
    joined = "\x00".join(streets)
    if joined.count("\x00") == len(streets) - 1:
        bare = _HOUSE_NUMBER.sub("", joined).split("\x00")
    else:
        bare = [_HOUSE_NUMBER.sub("", s) for s in streets]
    assert _street_cores(bare) == street_cores_before(bare)
    assert _street_cores(streets) == street_cores_before(streets)
    for b in bare:  # one at a time, as the batch gives them
        assert _street_cores([b]) == street_cores_before([b])


def test_cores_keep_the_first_run_of_words() -> None:
    got = _street_cores(["Calle Mayor 7, 2ºB", "Ganthriv Lane", "Hauptstraße", "12strasse Elm"])
    assert got == ["mayor ", "ganthriv ", "haupt", "elm"]
