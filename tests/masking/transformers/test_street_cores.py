"""A street's probe core (``_street_cores``) from dict lookups per word gives what the
regex passes gave, and its forms (``_street_forms``) what they gave (streetcpu).

``_street_cores`` marked each street word with ``_STREET_WORD`` (some eighty
alternatives and a lookbehind tried at every character of the joined batch), then
cut the leading marks and house numbers and everything from the first mark or house
number on with two more regexes; py-spy put ~0.7 s of a 300 k-row free-text copy on
the first. It now looks each word up in a dict (the street words, and the batch's
few words that are a house number or end in a street word) and cuts each street
with ``lstrip`` and ``partition``. The regex passes over the whole batch (the module's
``_STREET_WORD``, ``_LEADING_CUTS`` and ``_AFTER_CUT``) are the reference; both must give
the same cores, byte for byte (trailing spaces too), for generated batches: street
words whole, as endings (after one, two or more characters, a house number's shape
before them), house numbers with a letter or another script's digit, superscripts,
punctuation, NUL, several spaces and empty streets. A street holding a flat word or
a particle (leakshapes: ``Flat 3B, 14 Ganthriv Lane``, ``Calle de Alcalá``) takes
the regex passes in ``_street_cores`` itself; the generated batches hold such words
too, beside streets that do not, so the two paths are compared within one batch.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from stagewall.masking.transformers._known import (
    _AFTER_CUT,
    _HOUSE_NUMBER,
    _LEADING_CUTS,
    _NUMBER,
    _NUMBER_LETTER,
    _PLAIN_ALTS,
    _STREET_END_ALTS,
    _STREET_ENDS,
    _STREET_PARTICLES,
    _STREET_WORD,
    _STREET_WORD_ALTS,
    FLAT_WORDS,
    NUMBER_MARKS,
    _house_number_moved,
    _regrouped,
    _spaced_and_compact,
    _street_cores,
    _street_forms,
    street_variants,
)
from stagewall.masking.transformers._streetwords import (
    DE_NL_STREET_SUFFIXES,
    EN_STREET_WORDS,
    ROMANCE_STREET_WORDS,
)


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
    st.sampled_from(sorted(FLAT_WORDS | _STREET_PARTICLES)),
    st.sampled_from(["Flat 3B,", "Apt 3", "Piso 2B,", "de la", "del", "Unit 3/", "van der"]),
    st.text(alphabet="ab1 ,./-_\x00\t²ßº", max_size=6),
)
_STREET = st.lists(_PIECE, max_size=7).map(" ".join) | st.lists(_PIECE, max_size=5).map("".join)


@settings(max_examples=1500, deadline=None)
@given(st.lists(_STREET, min_size=1, max_size=8))
@example(["Calle Mayor 7, 2ºB", "Ganthriv Lane", "Hauptstraße", " Elm12345 Street"])
@example(["12strasse Mayor", "abstr", "astr", "Lane Mayor 3 Weg", "", "  Mayor  Lane "])
@example(["14 Ganthriv Lane, Apt 3", "c/ Mayor nº 7", "2² Mayor", "Mayor 12٣ Lane"])
@example(["Flat 3B, 14 Ganthriv Lane", "Calle de Alcalá 5", "Ganthriv Lane", "de Lane"])
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
    got = _street_cores(["Flat 3B, 14 Ganthriv Lane", "Calle de Alcalá 5", "Mayor Lane"])
    assert got == ["ganthriv ", "alcala ", "mayor "]


# street_variants, _house_number_moved and _street_forms before (streetcpu): a
# variant's house number is now moved only when the street's own is (the street
# words and endings hold no digit: _PLAIN_ALTS), words not starting with a digit skip
# the house-number-letter test, and digits are looked for by one map over the joined
# words. Same forms, in the same order.


def street_variants_before(ws: list[str]) -> list[list[str]]:
    if len(ws) < 2:
        return []
    out: list[list[str]] = []
    for i, w in enumerate(ws):
        alts = list(_STREET_WORD_ALTS.get(w, ()))
        if w.endswith(_STREET_ENDS):
            for end, others in _STREET_END_ALTS.items():
                if len(w) > len(end) + 1 and w.endswith(end):
                    alts += [w[: -len(end)] + o for o in others]
        for a in alts:
            out.append([*ws[:i], a, *ws[i + 1 :]])
        num = _NUMBER_LETTER.fullmatch(w) if w[:1].isdigit() else None
        if num:
            out.append([*ws[:i], num[1], num[2], *ws[i + 1 :]])
        elif w.isdigit() and i + 1 < len(ws) and len(ws[i + 1]) == 1 and ws[i + 1].isalpha():
            out.append([*ws[:i], w + ws[i + 1], *ws[i + 2 :]])
    return out


def house_number_moved_before(ws: list[str]) -> list[tuple[str, bool]]:
    if _NUMBER.fullmatch(ws[-1]) and not any(c.isdigit() for w in ws[:-1] for c in w):
        street, number = " ".join(ws[:-1]), ws[-1]
        first = f" {number} {street} "
    elif _NUMBER.fullmatch(ws[0]) and not any(c.isdigit() for w in ws[1:] for c in w):
        street, number = " ".join(ws[1:]), ws[0]
        first = f" {street} {number} "
    else:
        return []
    return [(first, False), *((f" {street} {m} {number} ", False) for m in NUMBER_MARKS)]


def street_forms_before(ws: list[str]) -> list[tuple[str, bool]]:
    out = house_number_moved_before(ws)
    for v in street_variants_before(ws):
        out.append((f" {' '.join(v)} ", False))
        if len(v) == len(ws):
            out += house_number_moved_before(v)
    for v in _regrouped(ws):  # (leakshapes: two changes at once, not rewritten here)
        out.append((f" {' '.join(v)} ", False))
        out += house_number_moved_before(v)
    return list(dict.fromkeys(out))


_WORD = st.one_of(
    st.sampled_from(sorted(_STREET_WORD_ALTS)),
    st.builds(
        lambda stem, end: stem + end,
        st.sampled_from(["", "a", "ab", "haupt", "12", "1a", "3", "x1", "²", "٣"]),
        st.sampled_from(sorted(_STREET_END_ALTS)),
    ),
    st.sampled_from(["7", "8a", "8", "a", "b", "3rd", "12٣", "2²", "٣", "²", "no", "14b", "1ab"]),
    st.sampled_from(["mayor", "ganthriv", "elm12345", "ørsted", "x"]),
    st.text(alphabet="ab1²٣ß", min_size=1, max_size=5),
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(_WORD, min_size=1, max_size=6))
@example(["14", "ganthriv", "lane"])
@example(["calle", "mayor", "7"])
@example(["hauptstraße", "5"])
@example(["lindenweg", "8", "a"])
@example(["1", "mill31", "street"])
def test_street_forms_are_those_before(ws: list[str]) -> None:
    assert street_variants(ws) == street_variants_before(ws)
    assert _house_number_moved(ws) == house_number_moved_before(ws)
    assert _street_forms(ws) == street_forms_before(ws)


def test_street_words_and_endings_hold_no_digit() -> None:
    # (what lets _street_forms skip a variant's house number: if a table gained a
    # word with a digit, _PLAIN_ALTS turns false and every variant is tried again)
    assert _PLAIN_ALTS
