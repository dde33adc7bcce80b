from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.masking.classify import Category, detect_in_text, detect_many, detect_texts
from stagewall.masking.classify._validators import is_bsn, is_national_id


def kinds(text: str) -> list[tuple[str, str]]:
    return [(m.category.value, m.text) for m in detect_in_text(text)]


def test_detects_each_kind_in_running_text() -> None:
    text = (
        "Call Mr Jones on +44 20 7946 0958 or mail jane.doe@corp.co.uk; IBAN GB82 WEST 1234 5698 "
        "7654 32, card 4111 1111 1111 1111, from 10.0.0.5. SSN 123-45-6789, NI AB 12 34 56 C. "
        "Sarah Connor said hi. (555) 123-4567."
    )
    found = kinds(text)
    assert ("person_name", "Jones") in found
    assert ("phone", "+44 20 7946 0958") in found
    assert ("email", "jane.doe@corp.co.uk") in found
    assert ("iban", "GB82 WEST 1234 5698 7654 32") in found
    assert ("card_number", "4111 1111 1111 1111") in found
    assert ("ip_address", "10.0.0.5") in found
    assert ("national_id", "123-45-6789") in found
    assert ("national_id", "AB 12 34 56 C") in found
    assert ("person_name", "Sarah Connor") in found
    assert ("phone", "(555) 123-4567") in found


def test_checksums_reject_lookalikes() -> None:
    assert not kinds("ref GB82WEST12345698765433 and 4111 1111 1111 1112")
    assert kinds("version 1.2.3.4.5 and 999.1.1.1") == []


def test_ordinary_words_are_not_names() -> None:
    assert kinds("May we go in June? Will it rain?") == []
    assert kinds("Bill Smith paid") == [("person_name", "Bill Smith")]


def test_matches_do_not_overlap_and_hide_the_value_in_repr() -> None:
    ms = detect_in_text("x jane@corp.com y")
    assert len(ms) == 1 and ms[0].category is Category.EMAIL
    assert "jane" not in repr(ms[0])
    assert ms[0].start == 2 and ms[0].end == 15


@pytest.mark.parametrize(
    ("value", "ok"),
    [("123-45-6789", True), ("000-12-3456", False), ("666-12-3456", False), ("AB123456C", True),
     ("BG123456C", False), ("12345678Z", True), ("12345678A", False), ("111222333", True),
     ("1 85 05 78 006 084 36", False)],
)  # fmt: skip
def test_national_id_validators(value: str, ok: bool) -> None:
    assert is_national_id(value) is ok


def test_bsn_eleven_test() -> None:
    assert is_bsn("111222333") and not is_bsn("111222334")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 60), st.integers(1, 12)), max_size=40))
def test_overlap_resolution_equals_the_quadratic_rule(spans: list[tuple[int, int]]) -> None:
    """Priority order wins, then position order: same as checking every kept finding."""
    from stagewall.masking.classify._categories import Category
    from stagewall.masking.classify._text import Match, _non_overlapping

    found = [Match(Category.PHONE, a, a + n, "x" * n) for a, n in spans]
    expected: list[Match] = []
    for cand in found:
        if all(cand.end <= t.start or cand.start >= t.end for t in expected):
            expected.append(cand)
    assert _non_overlapping(found) == sorted(expected, key=lambda m: m.start)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(["0", "1", "01", "255", "256", "999", "10", "099", "7"]),
        min_size=3,
        max_size=5,
    )
)
def test_dotted_quad_fast_path_agrees_with_ipaddress(octets: list[str]) -> None:
    import ipaddress

    from stagewall.masking.classify._validators import is_ip

    text = ".".join(octets)
    try:
        ipaddress.ip_interface(text)
        valid = True
    except ValueError:
        valid = False
    assert is_ip(text) == valid


# fragments that make every detector fire, and pieces of the separator and of
# reference values, so texts next to each other in one joined search could interact
_FRAGMENTS = [
    "Anna Miller", "Frank", "Dr. Love", "Chad", "Bossa Nova", "German", "Mr", " ", ", ",
    "\n", "\x00", "12 High Street", "Calle Mayor 7", "Hauptstraße 5", "jane@corp.com",
    "+49 30 1234567", "GB82 WEST 1234 5698 7654 32", "4111 1111 1111 1111", "10.0.0.5",
    "fe80::1", "123-45-6789", "AB 12 34 56 C", "(555) 123-4567", "12", "Street", "x" * 70,
]  # fmt: skip
_JOINABLE = st.lists(st.sampled_from(_FRAGMENTS), max_size=6).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(_JOINABLE, max_size=25), st.integers(0, 3))
def test_detect_many_equals_detect_in_text_per_text(texts: list[str], big: int) -> None:
    """The joined search finds in each text exactly what a search of that text alone
    finds (text_scrub and verify both rely on it); ``big`` pads some texts past the
    chunk size so chunk borders fall between texts."""
    texts = texts + ["Anna Miller lives at 12 High Street " * 2000] * big + texts[:3]
    many = detect_many(texts)
    for text, found in zip(texts, many, strict=True):
        assert [(m.category, m.start, m.end, m.text) for m in found] == [
            (m.category, m.start, m.end, m.text) for m in detect_in_text(text)
        ]
    distinct = list(dict.fromkeys(texts))  # verify hands over distinct texts
    assert list(detect_texts(distinct)) == [
        (k, m.text) for k, t in enumerate(distinct) for m in detect_in_text(t)
    ]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_JOINABLE, max_size=12), min_size=1, max_size=4), st.integers(1, 40))
def test_remembered_findings_equal_a_new_search(batches: list[list[str]], room: int) -> None:
    """Within ``remembering()`` (verify), detect_many and detect_texts give what a
    new search gives, batch after batch, when the memo fills up and is forgotten,
    and for texts too long to be kept; outside it nothing is kept."""
    from stagewall.masking.classify import _text

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_text, "REMEMBERED", room)
        mp.setattr(_text, "REMEMBERED_CHARS", 30)
        _remembered_equals_plain(batches, room)


def _remembered_equals_plain(batches: list[list[str]], room: int) -> None:
    from stagewall.masking.classify import _text, remembering

    plain = [
        ([[(m.category, m.start, m.end, m.text) for m in f] for f in detect_many(b)],
         list(detect_texts(b)))
        for b in batches
    ]  # fmt: skip
    with remembering():
        for _ in range(2):  # the second time, from the memo
            for texts, (many, tokens) in zip(batches, plain, strict=True):
                got = detect_many(texts)
                assert [[(m.category, m.start, m.end, m.text) for m in f] for f in got] == many
                got[0:0] = [[]]  # the caller's lists are its own
                if texts:
                    got[-1].clear()
                assert list(detect_texts(texts)) == tokens
            assert _text._remembered is not None
            assert len(_text._remembered) <= room
    assert _text._remembered is None


_STREET_BITS = [
    "12 High Street", "Calle Mayor 7", "calle mayor", "Hauptstraße 5", "Lindenweg 12a", "ring ",
    "3 rue de la Paix", "Via Roma 12", "via", "Avenida de América, 10", "Keizersgracht 123",
    "Lange Laan 4", "\x00", "\x00\n\x00", " ", ", ", "-", "x", "7", "\u017ftra\u017f\u017fe 3", "RUE ", "Anna",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_STREET_BITS), max_size=12).map("".join))
def test_gated_street_search_equals_the_plain_search(text: str) -> None:
    """find_streets searches only the NUL-bounded pieces its gates pick; the answer is
    that of each pattern run over the whole text."""
    from stagewall.masking.classify import _addresses as a

    plain = [m.span() for m in a._EN.finditer(text)]
    plain += [m.span() for m in a._DE_NL.finditer(text)]
    plain += [m.span() for m in a._ROMANCE.finditer(text) if m.group("pre") or m.group("post")]
    assert a.find_streets(text) == plain


def _names_one_by_one(text: str) -> list[tuple[int, int, str]]:
    """The name detector as it was: every capitalised word looked at in a Python loop."""
    from stagewall.masking.classify import _text as t
    from stagewall.masking.transformers import _dicts
    from stagewall.masking.transformers._known import fold

    firsts, lasts = _dicts.detection_first_names(), _dicts.detection_last_names()
    words = list(t._WORD.finditer(text))
    out = []
    i = 0
    while i < len(words):
        w = words[i]
        nxt = words[i + 1] if i + 1 < len(words) else None
        adjacent = nxt is not None and text[w.end() : nxt.start()] in (" ", ". ")
        if w.group(0) in t._TITLES and adjacent and nxt is not None:
            out.append((nxt.start(), nxt.end(), nxt.group(0)))
            i += 2
            continue
        if fold(w.group(0)) in firsts:
            if (
                nxt is not None
                and text[w.end() : nxt.start()] == " "
                and fold(nxt.group(0)) in lasts
            ):
                out.append((w.start(), nxt.end(), text[w.start() : nxt.end()]))
                i += 2
                continue
            if w.group(0) not in t._AMBIGUOUS:
                out.append((w.start(), w.end(), w.group(0)))
        i += 1
    return out


_NAME_BITS = ["Anna", "Miller", "Mr", "Dr", ". ", " ", "  ", "Frank", "Dr. Love", "Jésica",
              "Carrasco", "Mr Mr", "Anna Anna Miller", "x", ",", "\x00", "Élodie", "Müller"]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_NAME_BITS), max_size=14).map("".join))
def test_name_detector_equals_the_word_by_word_loop(text: str) -> None:
    from stagewall.masking.classify._text import _names

    assert [(m.start, m.end, m.text) for m in _names(text)] == _names_one_by_one(text)


def test_street_gate_folding_covers_every_case_insensitive_letter() -> None:
    """Every character that IGNORECASE lets stand for a letter of the street words
    folds (as the gates fold text) to that letter's folded form."""
    import re

    from stagewall.masking.classify._addresses import _GATE_FOLD
    from stagewall.masking.transformers._known import fold

    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    for p in "abcdefghijklmnopqrstuvwxyzßéç./":
        for m in re.finditer("(?i)" + re.escape(p), every):
            assert fold(m.group()).translate(_GATE_FOLD) == fold(p), (hex(ord(m.group())), p)
