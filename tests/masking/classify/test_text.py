from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.masking.classify import Category, detect_in_text, detect_many, detect_texts
from stagewall.masking.classify._text import other_forms
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
    # written with other characters (classify._forms): other digits, separators,
    # full-width forms, invisible characters inside
    "+\u0663\u0664 \u0666\u0661\u0662 \u0663\u0664\u0665 \u0666\u0667\u0668",
    "+34\u00a0612\u00a0345\u00a0678", "anna.k\u0663@example.com", "+34 612\u200b345 678",
    "\uff24\uff25\uff18\uff19 3704 0044 0532 0130 00", "4111\u20131111\u20131111\u20131111",
    "\u200b", "\u0336", "\u00ad", "\u0663", "anna%40example.com", "%2B34%20612%20345%20678",
    "%40", "%2", "%",
]  # fmt: skip
_JOINABLE = st.lists(st.sampled_from(_FRAGMENTS), max_size=6).map("".join)


_PAD = "Anna Miller lives at 12 High Street "


def _many_equals_alone(texts: list[str]) -> None:
    many = detect_many(texts)
    distinct = list(dict.fromkeys(texts))  # verify hands over distinct texts
    alone = {t: detect_in_text(t) for t in distinct}  # each distinct text searched alone once
    for text, found in zip(texts, many, strict=True):
        assert [(m.category, m.start, m.end, m.text, m.plain) for m in found] == [
            (m.category, m.start, m.end, m.text, m.plain) for m in alone[text]
        ]
        assert all(text[m.start : m.end] == m.text for m in found)
    assert list(detect_texts(distinct)) == [
        (k, f) for k, t in enumerate(distinct) for m in alone[t] for f in (m.text, *other_forms(m))
    ]


@settings(max_examples=300, deadline=None)
@given(st.lists(_JOINABLE, max_size=25), st.integers(0, 3), st.sampled_from([48, 200, 1_000]))
def test_detect_many_equals_detect_in_text_per_text(texts: list[str], big: int, chunk: int) -> None:
    """The joined search finds in each text exactly what a search of that text alone
    finds (text_scrub and verify both rely on it). The joined search's chunk size is
    made small here, so that chunk borders fall between texts often and ``big`` pads
    some texts past it (searched alone); the shipped size is the next test's."""
    from stagewall.masking.classify import _text

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_text, "_CHUNK", chunk)
        pad = _PAD * (chunk // len(_PAD) + 2)
        _many_equals_alone(texts + [pad] * big + texts[:3])


def test_detect_many_equals_detect_in_text_at_the_shipped_chunk_size() -> None:
    """The same at the shipped chunk size: texts around two padded past it."""
    texts = [
        "Call Anna on +34 612 345 678.",
        "anna.k@example.com",
        "",
        "DE89 3704 0044 0532 0130 00",
    ]
    many = texts * 700  # over one chunk of short texts
    _many_equals_alone(many + [_PAD * 2_000] * 2 + texts)


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


# Pieces for the RE2-gated search of a joined batch: every kind in several forms and
# scripts, the characters IGNORECASE lets stand for a street word's letters, digits
# of other scripts, invisible characters, NUL, the separator itself, a lone surrogate.
_GATED_BITS = [
    *_FRAGMENTS, *_STREET_BITS, "12 Oak Wal\u212a", "3 Elm \u017ftreet", "7 Rose H\u0131ll",
    "9 Ash H\u0130LL", "12 HIGH STREET", "5B Elm Rd.", "Hauptstraße \u0665", "Rua das Flores 45",
    "Piazza Navona, n. 3", "Lange Laan \u0663\u0664", "(555) 123-4567", "+44 20 7946 0958",
    "0044 20 7946 0958", "555.123.4567", "030/1234567", "0612 345 678", "+1 (0)30 12 34",
    "+1 23 4567", "+7 12-34-56", "DE89 3704 0044 0532 0130 00", "NL91ABNA0417164300",
    "NO9386011117947", "4111-1111-1111-1111", "378282246310005",
    "AB123456C", "QQ 12 34 56 A", "078-05-1120", "48213957T", "x-5829173-f", "48.213.957-T",
    "12345678 Z", "12345678A", "RSSMRA85T10A562S", "rssmra85t10a562s", "RSSMRA85T10A562T", "192.168.0.1", "1.2.3", "2001:db8::1", "::",
    "a:b:c", "Jésica Carrasco", "田中様", "Müller", "Dr Ünal", "\u00ad", "\u200b", "\u0301",
    "\x00\n\x00", "\ud800", "é", "İ", "9", "-", ".", "@", "jg1987@mail.example.org", "x@y.z",
    "\u0663", "\uff13", "\U0001d7d1", "\u00a0", "\u2013", "\u200d", "\u20e3", "\uff20",
    "+\u0663\u0664 \u0666\u0661\u0662 \u0663\u0664\u0665 \u0666\u0667\u0668",
    "anna\u200b@example.com", "4111\u20131111\u20131111\u20131111",
]  # fmt: skip
_GATED_TEXT = st.lists(st.sampled_from(_GATED_BITS), max_size=8).map("".join)


def _plain_candidates(parts: list[str]) -> list[tuple[object, int, int, str, str | None]]:
    from stagewall.masking.classify._text import SEP, _candidates

    found = _candidates(SEP.join(parts))
    return [(m.category, m.start, m.end, m.text, m.plain) for m in found]


def _gated_candidates(parts: list[str]) -> list[tuple[object, int, int, str, str | None]] | None:
    from stagewall.masking.classify._text import SEP, _candidates_joined

    offsets = [sum(len(p) + len(SEP) for p in parts[:k]) for k in range(len(parts))]
    got = _candidates_joined(SEP.join(parts), offsets, parts)
    return None if got is None else [(m.category, m.start, m.end, m.text, m.plain) for m in got]


@settings(max_examples=600, deadline=None)
@given(st.lists(_GATED_TEXT, min_size=2, max_size=20))
def test_gated_joined_search_equals_the_plain_joined_search(parts: list[str]) -> None:
    """A joined batch searched with the RE2 gates finds exactly what every pattern run
    over the whole joined text finds (the code before the gates), in the same order;
    a batch whose texts cannot be told apart in its bytes is searched the plain way."""
    from stagewall.masking.classify._text import SEP

    got = _gated_candidates(parts)
    if got is None:
        joined = SEP.join(parts)
        assert any(SEP in p for p in parts) or any("\ud800" <= c <= "\udfff" for c in joined)
        return
    assert got == _plain_candidates(parts)


@settings(max_examples=100, deadline=None)
@given(st.lists(_GATED_TEXT, min_size=33, max_size=150), st.integers(0, 149))
def test_gated_search_of_many_texts_equals_the_plain_search(parts: list[str], at: int) -> None:
    """The same over batches of several blocks of texts (see gate_texts), with one
    finding placed anywhere among texts without any, so some blocks hold none."""
    parts = [p for p in parts if _sep_free(p)] or ["x"]
    plain = ["nothing to see here"] * len(parts)
    plain[at % len(plain)] = parts[0]
    for batch in (parts, plain):
        assert _gated_candidates(batch) == _plain_candidates(batch)


def test_a_finding_is_picked_wherever_it_stands_in_the_batch() -> None:
    """One text with findings among many short texts without: found at every place
    (first, last and inside each block of texts the gates test together)."""
    for finding in ("call +44 20 7946 0958", "Lindenweg 12a", "12 High Street, x@y.org"):
        for at in range(100):
            batch = ["x"] * 100
            batch[at] = finding
            got = _gated_candidates(batch)
            assert got == _plain_candidates(batch)
            assert got, (finding, at)


def _sep_free(text: str) -> bool:
    return "\x00\n\x00" not in text and not any("\ud800" <= c <= "\udfff" for c in text)


def test_gated_joined_search_finds_every_kind() -> None:
    """Each gate lets its kind through (a gate that picked nothing would pass the
    equality test above on texts without findings only)."""
    parts = [
        "mail jane.doe@corp.example.com now", "IBAN DE89 3704 0044 0532 0130 00 ok",
        "card 4111 1111 1111 1111.", "ssn 078-05-1120", "NI AB 12 34 56 C", "DNI 48.213.957-T", "CF RSSMRA85T10A562S",
        "ip 192.168.10.7",
        "ip6 2001:db8::7", "call +44 20 7946 0958", "at 12 High Street", "in Lindenweg 12a",
        "en Calle Mayor 7", "12 Oak Wal\u212a", "Anna Miller said",
    ]  # fmt: skip
    got = _gated_candidates(parts)
    assert got == _plain_candidates(parts)
    kinds = {c for c, *_ in got or []}
    assert {c.value for c in kinds} >= {
        "email", "iban", "card_number", "national_id", "ip_address", "phone",
        "street_address", "person_name",
    }  # fmt: skip
    assert sum(c.value == "street_address" for c, *_ in got or []) == 4
    assert sum(c.value == "national_id" for c, *_ in got or []) == 4  # SSN, NINO, DNI, CF


def test_long_texts_are_gated_like_short_ones() -> None:
    """Gates over long texts of digits and separators (many states of the RE2 DFA)
    still pick every text holding a match."""
    import random

    rng = random.Random(7)
    noise = "".join(rng.choice("0123456789 .-+()/:ABab\u212a") for _ in range(200_000))
    parts = [noise, "x" * 10, noise[::-1] + " call +44 20 7946 0958", "10.0.0.1 " + noise[:5000]]
    assert _gated_candidates(parts) == _plain_candidates(parts)


def test_re2_gate_classes_cover_what_python_matches() -> None:
    """The RE2 gates' digit class takes every character Python's \\d takes, and each
    street-word letter class every character IGNORECASE lets stand for the letter."""
    import re

    import re2

    from stagewall.masking.classify._addresses import _EN_WORDS, _any_case

    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    nd = re2.compile(rb"\p{Nd}")
    for m in re.finditer(r"\d", every):
        assert nd.fullmatch(m.group().encode()) is not None, hex(ord(m.group()))
    for letter in sorted({c.lower() for w in _EN_WORDS for c in w}):
        cls = re2.compile(_any_case(letter).encode())
        for m in re.finditer("(?i)" + letter, every):
            assert cls.fullmatch(m.group().encode()) is not None, (hex(ord(m.group())), letter)


def test_a_texts_findings_do_not_depend_on_its_neighbours() -> None:
    """A street whose house number is written in another script's digits is found
    alone, in a batch, and next to a text with an ASCII digit alike (it was found
    only when some other text of the batch held an ASCII digit)."""
    arabic, persian = "\u0665\u0667\u0661\u0662", "\u06f1\u06f2"
    for street in (
        f"Hauptstraße {arabic[0]}",
        f"Calle Mayor {arabic[1]}",
        f"Lindenweg {arabic[2:]}a",
        f"Via Roma {persian}",
    ):
        alone = detect_in_text(street)
        assert [m.category for m in alone] == [Category.STREET_ADDRESS], street
        assert detect_many([street]) == [alone]
        assert detect_many([street, "x 1"])[0] == alone
        assert detect_many(["x 1"] * 40 + [street] + ["y"] * 40)[40] == alone


def test_a_gate_most_texts_hold_picks_every_text_and_finds_the_same() -> None:
    """A gate found in most blocks and most texts of the first (e-mails here) picks
    every text, a superset of those holding a match (its pattern then runs over the
    whole batch); a rare kind among them (phones) is still picked text by text; the
    findings are those of the plain search either way."""
    from stagewall.masking.classify._addresses import gate_texts
    from stagewall.masking.classify._text import _EMAIL_G, _GATES, _PHONE_G, _RAW_GATES, SEP

    batch = [f"mail user{i}@mail{i % 7}.example.org" for i in range(200)]
    for at in (0, 31, 32, 150):
        batch[at] = f"call +44 20 7946 {at:04d}"
    batch[77] = "nothing to see here"
    raw = SEP.join(batch).encode()
    picked = gate_texts(_RAW_GATES, raw, raw.split(SEP.encode()), len(_GATES))
    assert picked[_EMAIL_G] == list(range(200))
    assert picked[_PHONE_G] == [0, 31, 32, 150]
    assert _gated_candidates(batch) == _plain_candidates(batch)
