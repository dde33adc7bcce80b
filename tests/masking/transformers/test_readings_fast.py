"""The fast pre-tests of text_scrub's split reading (``_readings``) decide exactly
what the plain formulation decides, and the texts they let through still scrub."""

from __future__ import annotations

import re
from operator import gt

from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.keys import MaskingKey
from stagewall.masking.transformers import build_transformer
from stagewall.masking.transformers._readings import (
    _DIGIT_AFTER_LETTER,
    _JOINT_OR_NUL,
    _JOINT_WORD,
    _JUNCTION,
    _TOKEN,
    STEM_RUN,
    _has_token,
    junctions_apart,
    may_find_more,
    may_find_more_many,
    stem_rows,
    token_spans,
)

KEY = MaskingKey("readings-key", b"r" * 32)
_WORD = re.compile(r"[a-z0-9]+")


def _plain_may_find_more(text: str, words: set[str]) -> bool:
    """may_find_more as first written: every word of the text and of its split
    reading counted."""
    if not text.isascii() or "%" in text or "&" in text or "\\" in text:
        return True
    folded = text.lower()
    split = _JUNCTION.sub(" ", folded)
    if split != folded:
        before, after = _WORD.findall(folded), _WORD.findall(split)
        if any(map(gt, map(after.count, words), map(before.count, words))):
            return True
    return _has_token(text)


_pieces = st.sampled_from(["ana", "Ana", "b", "7", "87", "0", "carrasco", "x1", "_", "-", " ", "."])
_texts = st.lists(_pieces, max_size=14).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=_texts, extra=st.lists(_pieces, max_size=3))
def test_may_find_more_equals_the_plain_count(text: str, extra: list[str]) -> None:
    folded = text.lower()
    # the words the caller asks about: words of the text, of its split reading, others
    words = set(_WORD.findall(folded)) | set(_WORD.findall(_JUNCTION.sub(" ", folded)))
    words |= {w.lower() for w in extra if _WORD.fullmatch(w.lower())}
    for some in (words, set(sorted(words)[::2]), set()):
        assert may_find_more(text, some) == _plain_may_find_more(text, some), (text, some)


# texts of a batch: joint words, pieces, tokens (one decoding: "eWVzaWNhQGV4YW1wbGUuY29t"
# is yesica@example.com), escapes, references, non-ASCII letters, NUL
_batch_pieces = _pieces | st.sampled_from(
    ["eWVzaWNhQGV4YW1wbGUuY29t", "Schmidt10084", "%40", "&amp;", "\\n", "é", "\x00", "12ab3"]
)
_batch_texts = st.lists(st.lists(_batch_pieces, max_size=10).map("".join), max_size=8)


@settings(max_examples=500, deadline=None)
@given(texts=_batch_texts, data=st.data())
def test_may_find_more_many_equals_may_find_more(texts: list[str], data: st.DataObject) -> None:
    """The batch pass (one regex over the joined texts, one token_spans) tells each
    text what may_find_more tells it, for words of its own, of its split reading and
    others (the old search, one text at a time, is the reference)."""
    words = []
    for text in texts:
        folded = text.lower()
        mine = set(_WORD.findall(folded)) | set(_WORD.findall(_JUNCTION.sub(" ", folded)))
        mine |= {"ana", "7", "87", "carrasco", "ab", "3", "12ab"}
        words.append(set(data.draw(st.lists(st.sampled_from(sorted(mine)), max_size=4))))
    assert may_find_more_many(texts, words) == [
        may_find_more(t, w) for t, w in zip(texts, words, strict=True)
    ], (texts, words)


@settings(max_examples=400, deadline=None)
@given(text=st.lists(_batch_pieces, max_size=14).map("".join))
def test_the_batch_joint_words_are_those_of_the_joint_word_regex(text: str) -> None:
    folded = text.lower()
    assert [w for w in _JOINT_OR_NUL.findall(folded) if w != "\x00"] == _JOINT_WORD.findall(
        folded
    ), text


# texts with junctions of letters and digits of other scripts too (Arabic-Indic,
# full-width digits, a superscript two), and any text
_junction_texts = st.lists(
    _batch_pieces | st.sampled_from(["\u0663", "x\uff11", "a\u00b2"]), max_size=14
).map("".join) | st.text(max_size=40)


@settings(max_examples=400, deadline=None)
@given(text=_junction_texts)
def test_junctions_apart_equals_the_regex(text: str) -> None:
    assert junctions_apart(text) == _DIGIT_AFTER_LETTER.sub(r" \g<0>", text), text


def test_junctions_apart_cases() -> None:
    for text in ["", "a1", "1a", "carrasco87 x9y8", "Schmidt10084\x00b2", "é7 a\u0663", "A_1", "z"]:
        assert junctions_apart(text) == _DIGIT_AFTER_LETTER.sub(r" \g<0>", text), text
    assert junctions_apart("login carrasco87") == "login carrasco 87"


def test_may_find_more_cases() -> None:
    # a word set apart that is one of the words: the split reading can find more
    assert may_find_more("login carrasco87 today", {"carrasco"})
    # the same word also whole elsewhere, once more as a piece: still more often
    assert may_find_more("carrasco carrasco87", {"carrasco"})
    # the word is the joined word itself and one piece elsewhere: as often (plain: False)
    assert not may_find_more("ana7 ana7x9", {"ana7"})
    assert not _plain_may_find_more("ana7 ana7x9", {"ana7"})
    # no letter before a digit and no token: nothing more
    assert not may_find_more("call 612 345 678 for carrasco", {"carrasco"})


def test_a_login_of_the_rows_surname_is_scrubbed() -> None:
    """The case the pre-test lets through: the row's surname glued to digits."""
    tr = build_transformer("text_scrub", {}, key=KEY, salt="s")
    notes = ["She logs in as Carrasco87 and ycarrasco2019.", "Nothing here, Carrasco."]
    known = [(("full_name", "Yésica Carrasco"),)] * 2
    out = tr.transform_known(notes, known)
    for o in out:
        assert "carrasco" not in o.lower(), o


_token_texts = st.lists(
    st.sampled_from(["aB3+/", "xY_-z9", "Q", "=", "==", " ", "\x00", "é", "ß", "7", "\ud800", "a"]),
    max_size=30,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(text=_token_texts | st.text(max_size=60))
def test_token_spans_equal_the_token_regex(text: str) -> None:
    assert token_spans(text) == [m.span() for m in _TOKEN.finditer(text)], text


def test_token_spans_cases() -> None:
    for text in [
        "",
        "eWVzaWNhQGV4YW1wbGUuY29t",
        "x eWVzaWNhQGV4YW1wbGUuY29t=== y",
        "abcdefghijk abcdefghijkl=",
        "é" + "A" * 12 + "é" + "b" * 11,
        "\x00" + "ab+/" * 4 + "==\x00=" + "c" * 12,
    ]:
        assert token_spans(text) == [m.span() for m in _TOKEN.finditer(text)], text


def test_a_base64_token_in_a_batch_is_still_decoded_and_scrubbed() -> None:
    """The batch pass that now finds the tokens (split_readings) still reads them:
    the row's own e-mail written as base64 is scrubbed, the other rows kept."""
    import base64

    token = base64.b64encode(b"yesica.carrasco@example.com").decode()
    tr = build_transformer("text_scrub", {}, key=KEY, salt="s")
    notes = [f"ref {token} ok", "Schmidt19999 paid", "nothing"]
    known = [(("email", "yesica.carrasco@example.com"),), (), ()]
    out = tr.transform_known(notes, known)
    assert token not in out[0]
    assert out[1:] == notes[1:]


_STEM_TEXTS = st.lists(
    st.lists(
        st.sampled_from(
            ["ganthr", "Ganth", "gant", "7", "\u0663", "\uff11", "é", " ", "\x00", "x", "-"]
        ),
        max_size=6,
    ).map("".join),
    max_size=8,
)


@settings(max_examples=400, deadline=None)
@given(texts=_STEM_TEXTS)
def test_stem_rows_are_the_texts_with_a_stem_run(texts: list[str]) -> None:
    """stem_rows (C-level passes over the joined batch, none for ASCII text without
    digits) picks exactly the texts STEM_RUN finds a run in, one by one."""
    assert stem_rows(texts) == [i for i, t in enumerate(texts) if STEM_RUN.search(t)]
