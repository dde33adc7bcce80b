"""text_scrub with the row's own known values: the issue's misses, length bounds, and a
property test (output within max_length, never holding the row's own values)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.keys import MaskingKey
from stagewall.masking.transformers import build_transformer
from tests.masking.survivors import holds, needles

KEY = MaskingKey("scrub-key", b"s" * 32)


def _scrub(**params: object) -> object:
    return build_transformer("text_scrub", params, key=KEY)


def _leaks(text: str, known: tuple[tuple[str, str], ...]) -> list[str]:
    """The independent checker's test of one text against one row's values."""
    kinds = {"first_name": "name", "last_name": "name", "full_name": "name"}
    return [v for t, v in known if holds(text, needles(kinds.get(t, t), v))]


def test_row_values_in_several_languages_are_replaced() -> None:
    t = _scrub()
    cases = [
        (
            "Spoke with Yésica Carrasco; she moved to Calle Mayor 7",
            (("full_name", "Yésica Carrasco"), ("street_address", "Calle Mayor 7")),
        ),
        ("Lives at 222 Ganthriv Lane.", (("last_name", "Ganthriv"),)),
        (
            "THORVALDSEN rang from 0034 612-345-678",
            (("last_name", "Thorvaldsen"), ("phone", "+34 612 345 678")),
        ),
        ("Para yesica, con cariño", (("first_name", "Yésica"),)),
        ("Kundin wohnt jetzt in der Hauptstraße 5, PLZ 28013", (("postcode", "28013"),)),
    ]
    out = t.transform_known([c[0] for c in cases], [c[1] for c in cases])  # type: ignore[attr-defined]
    for (text, known), o in zip(cases, out, strict=True):
        assert o != text
        assert _leaks(o, known) == [], (text, o)
    assert "Ganthriv" not in out[1] and out[1].startswith("Lives at ")


def test_the_rows_own_email_stays_an_email() -> None:
    """The row's own e-mail in its text, its mailbox holding the row's own names
    (``harriet.morris53@…``): replaced by an e-mail pseudonym, as a detected e-mail
    is, and the names beside it by names. Before: the e-mail's span took the kind of
    the name read at its start, and the ticket said ``write to West.``."""
    import re

    known = (
        ("first_name", "Harriet"),
        ("last_name", "Morris"),
        ("email", "harriet.morris53@googlemail.com"),
    )
    text = "This is Harriet Morris, write to harriet.morris53@googlemail.com. Thanks!"
    (out,) = _scrub().transform_known([text], [known])
    assert _leaks(out, known) == []
    m = re.fullmatch(r"This is (\S+ \S+), write to (\S+@\S+)\. Thanks!", out)
    assert m is not None, out
    assert m[2].endswith("@example.com"), out


def test_patterns_are_found_without_row_values() -> None:
    """The clinic note of the issue passed untouched: a street with its number is
    now detected by pattern even when the engine hands no values."""
    out = _scrub().transform(["Lives at 222 Ganthriv Lane.", "Wohnt in der Hauptstraße 5"])  # type: ignore[attr-defined]
    assert "222 Ganthriv Lane" not in out[0]
    assert "Hauptstraße 5" not in out[1]


def test_ordinary_words_and_empty_values_stay() -> None:
    text = "Will call back in May. Mark the account as reviewed."
    assert _scrub().transform([text, "", None]) == [text, "", None]  # type: ignore[attr-defined]


def test_max_length_bounds_the_output() -> None:
    long = "Spoke with Yésica Carrasco at Calle Mayor 7 " * 3
    known = (("full_name", "Yésica Carrasco"),)
    out = _scrub(max_length=20).transform_known([long], [known])  # type: ignore[attr-defined]
    assert len(out[0]) <= 20
    assert _leaks(out[0], known) == []


_NAMES = st.sampled_from(
    ["Yésica", "Carrasco", "Ganthriv", "Zoë", "Müller", "Mayor", "Ann", "Thorvaldsen", "May"]
)
_FILL = st.sampled_from(["met", "at", "and", "the", "7", "Lane", ",", ";", "Calle", "12"])


@settings(max_examples=150, deadline=None)
@given(
    first=_NAMES,
    last=_NAMES,
    words=st.lists(st.one_of(_NAMES, _FILL), min_size=0, max_size=14),
    upper=st.booleans(),
    max_length=st.integers(min_value=1, max_value=80) | st.none(),
)
def test_output_is_bounded_and_holds_no_own_value(
    first: str, last: str, words: list[str], upper: bool, max_length: int | None
) -> None:
    text = " ".join(words)
    text = text.upper() if upper else text
    known = (("first_name", first), ("last_name", last), ("street_address", f"Calle {last} 7"))
    params = {} if max_length is None else {"max_length": max_length}
    (out,) = _scrub(**params).transform_known([text], [known])  # type: ignore[attr-defined]
    assert isinstance(out, str)
    if max_length is not None:
        assert len(out) <= max_length
    assert _leaks(out, known) == [], (text, out)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_fold_keeps_every_position(text: str) -> None:
    """Spans found in the folded text are cut from the original: one char for one."""
    from stagewall.masking.transformers._known import fold

    assert len(fold(text)) == len(text)


def test_json_mask_hands_known_values_to_the_text_it_scrubs() -> None:
    t = build_transformer("json_mask", {"unknown_keys": "scrub"}, key=KEY)
    doc = '{"gift": "Para Ganthriv, con cariño", "n": 3}'
    known = (("last_name", "Ganthriv"),)
    (out, none) = t.transform_known([doc, None], [known, ()])  # type: ignore[attr-defined]
    assert none is None
    assert "Ganthriv" not in out and '"n": 3' in out


def _find_known_by_tokens(
    text: str, pats: list[tuple[str, bool, str]]
) -> list[tuple[int, int, str]]:
    """The token-list form of find_known (what it replaced): word patterns are runs
    of consecutive tokens of the folded text; and, as a second reading whose spans
    are merged with the first's (scrubgaps), of the tokens cut where the text has a
    letter followed by a digit (``anna7`` holds the word anna)."""
    import re

    from stagewall.masking.transformers._known import fold

    tokens = [(m.start(), m.end(), m.group(0)) for m in re.finditer(r"[^\W_]+", fold(text))]
    split = []
    for s, _e, w in tokens:
        cuts = [0] + [
            k for k in range(1, len(w)) if re.match(r"[^\W\d_]\d", text[s + k - 1 : s + k + 1])
        ]
        split += [(s + a, s + b, w[a:b]) for a, b in zip(cuts, [*cuts[1:], len(w)], strict=True)]
    spans: list[tuple[int, int, str]] = []
    for toks in (tokens, split):
        taken: list[tuple[int, int, str]] = []
        for p, is_compact, kind in pats:
            assert not is_compact
            ws = p.split()
            for i in range(len(toks) - len(ws) + 1):
                if [t[2] for t in toks[i : i + len(ws)]] == ws:
                    s, e = toks[i][0], toks[i + len(ws) - 1][1]
                    if all(e <= a or s >= b for a, b, _ in taken):
                        taken.append((s, e, kind))
        spans += taken
    merged: list[tuple[int, int, str]] = []
    for s, e, k in sorted(spans):
        if merged and s < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]), merged[-1][2])
        else:
            merged.append((s, e, k))
    return merged


_PIECES = ["anna", "Anna", "ANNA", "Ánna", "miller", "Miller", "annamiller", "_", " ", "-",
           ", ", "7", "calle", "Mayor", "mayor", "İ", "ß", "x", "\u00a0", "\u0661", "\u00b2", "."]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(_PIECES), max_size=14).map("".join),
    st.lists(
        st.lists(st.sampled_from(["anna", "miller", "calle", "mayor", "7", "x"]), min_size=1,
                 max_size=3).map(" ".join),
        min_size=1, max_size=4,
    ),
)  # fmt: skip
def test_find_known_equals_the_token_search(text: str, words: list[str]) -> None:
    from stagewall.masking.transformers._known import find_known

    pats = sorted(
        [(f" {w} ", False, "name") for w in dict.fromkeys(words)], key=lambda x: -len(x[0])
    )
    assert find_known(text, pats) == _find_known_by_tokens(text, pats)


def test_isalnum_is_the_word_class_of_the_patterns() -> None:
    import re

    word = re.compile(r"[^\W_]")
    assert all(bool(word.match(chr(c))) == chr(c).isalnum() for c in range(0x30000))


_KNOWN_T = ["first_name", "last_name", "full_name", "street_address", "phone", "iban", "email",
            "city", "fpe_alnum", "postcode"]  # fmt: skip
_VALUE = st.lists(st.sampled_from([*_PIECES, "+34 612 345 678", "612345678", "Dr", "de"]),
                  max_size=6).map("".join)  # fmt: skip
_ROW = st.lists(st.tuples(st.sampled_from(_KNOWN_T), _VALUE), max_size=5).map(tuple)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_VALUE, _ROW), max_size=12))
def test_batched_row_hits_equal_the_per_row_search(rows: list[tuple[str, tuple]]) -> None:
    """row_hits (one C-level pass over the batch's pairs, patterns_many) finds exactly
    what the per-row reference (_Patterns.hits over patterns()) finds, in its order."""
    from stagewall.masking.transformers._known import (
        compact_many,
        norm_many,
        patterns,
        patterns_many,
        row_hits,
    )
    from stagewall.masking.transformers._structured import _Patterns

    texts = [t for t, _ in rows]
    known = [k for _, k in rows]
    flat = [tv for k in known for tv in k]
    assert patterns_many(flat) == [patterns(t, v) for t, v in flat]
    normed = norm_many(texts)
    compact = compact_many(normed)
    ref = _Patterns(known)
    expected = [ref.hits(i, n, c) for i, (n, c) in enumerate(zip(normed, compact, strict=True))]
    assert row_hits(known, normed, compact) == expected


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from([*_PIECES, "-_", "_-", "\x1f", "\t", "é", "€", "  ",
                                          "\xa0", "\u2028", "\x85", "\u3000", "\x1c", ""]),
                         max_size=8).map("".join), max_size=8))  # fmt: skip
def test_norm_many_equals_norm(texts: list[str]) -> None:
    """The batch normaliser (ASCII translate path and regex path) equals norm per text;
    "a-_b" is the words a, b in both (the batch path once kept two spaces there,
    so the phrase " a b " was not found in the batch text)."""
    from stagewall.masking.transformers._known import norm, norm_many

    assert norm_many(texts) == [norm(t) for t in texts]
    assert norm_many(["Mayor-_7", "x"])[0] == " mayor 7 "


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_VALUE, _ROW), max_size=12), st.sampled_from(["", "\x00", "İß"]))
def test_texts_hits_equal_the_per_row_search(rows: list[tuple[str, tuple]], extra: str) -> None:
    """texts_hits (what text_scrub calls: compact forms from the raw texts in one pass,
    norm forms only for rows with a candidate) finds what the per-row reference
    finds, also for texts holding NUL (the batch join's separator) or characters
    whose lower case is longer."""
    from stagewall.masking.transformers._known import compact_many, norm_texts, texts_hits
    from stagewall.masking.transformers._structured import _Patterns

    texts = [t + extra if i % 2 else t for i, (t, _) in enumerate(rows)]
    known = [k for _, k in rows]
    normed = norm_texts(texts)
    compact = compact_many(normed)
    ref = _Patterns(known)
    expected = [ref.hits(i, n, c) for i, (n, c) in enumerate(zip(normed, compact, strict=True))]
    assert texts_hits(known, texts) == expected


def test_a_street_holding_nul_is_searched_like_any_other() -> None:
    # SQLite text may hold NUL: the batch search joined the streets with NUL and split
    # them again, so one more part than streets raised ValueError
    t = _scrub()
    known = (("street_address", "12 Ganthriv\x00 Lane"), ("last_name", "Okafor"))
    rows = [known, (("street_address", "Calle Mayor 7"),)]
    out = t.transform_known(  # type: ignore[attr-defined]
        ["Okafor lives at 12 Ganthriv\x00 Lane", "Calle Mayor 7, tercero"], rows
    )
    assert "Okafor" not in out[0] and "Calle Mayor" not in out[1]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(_VALUE, _ROW), max_size=12),
    st.sampled_from(["\\n", "-\n", "- ", "\\r\\n", "-\\n"]),
)
def test_texts_hits_with_joined_names_and_other_readings(
    rows: list[tuple[str, tuple]], brk: str
) -> None:
    """With a row's names of two columns joined (joined_names: probed through the
    row's names, not on their own) and texts that have another reading (a JSON
    ``\\n`` before a word, a word hyphenated across a line), texts_hits finds what
    the per-row reference finds in the texts' search forms (norm_texts)."""
    from stagewall.masking.transformers._known import (
        compact_many,
        joined_names,
        norm_texts,
        texts_hits,
    )
    from stagewall.masking.transformers._structured import _Patterns

    texts = [t[: len(t) // 2] + brk + t[len(t) // 2 :] for t, _ in rows]
    # and the row's names written joined, the other way round, inside a word
    for i, (_, k) in enumerate(rows):
        names = [v for tr, v in k if tr in ("first_name", "last_name")]
        texts[i] += " x" + "".join(reversed(names)) + "88" if i % 2 else ""
    known = joined_names(["first_name", "last_name"], [k for _, k in rows])
    normed = norm_texts(texts)
    compact = compact_many(normed)
    ref = _Patterns(known)
    expected = [ref.hits(i, n, c) for i, (n, c) in enumerate(zip(normed, compact, strict=True))]
    assert texts_hits(known, texts) == expected
