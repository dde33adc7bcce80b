"""``_namewords.spans`` finds the texts holding a rare word from the joined batch's own
word matches; before, it tested every rare word found in the batch against every text
(a batch naming many people cost texts x words: +27 % CPU for the masked copy of 300 k
rows whose 20,000 surnames are all rare). Same spans as that way (Hypothesis, against
the previous code kept here, which also finds a word glued to digits now, and a word
glued to other letters read from each text alone), NUL inside a text included."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.masking import _namewords
from stagewall.masking._namewords import GIVEN, SURNAME, spans
from stagewall.masking.transformers._known import fold_known


def _previous(texts: Sequence[str], words: Mapping[str, str]) -> list[list[tuple[int, int]]]:
    out: list[list[tuple[int, int]]] = [[] for _ in texts]
    if not words or not texts:
        return out
    joined = fold_known("\x00".join(texts))
    named = _namewords._named(set(_namewords._WORD.findall(joined)), words)
    stuck = _namewords._glued(_namewords._glued_found(joined), words)
    probes = [*named, *stuck]
    for i, t in enumerate(texts):
        folded = fold_known(t)
        if len(folded) == len(t) and any(p in folded for p in probes):
            got = [m.span() for m in _namewords._WORD.finditer(folded) if m[0] in named]
            got += [
                m.span(1 if m[1] else 2)
                for m in _namewords._GLUED.finditer(folded)
                if (m[1] or m[2]) in stuck
            ]
            out[i] = sorted(got)
        if len(folded) == len(t):
            # a rare word glued to other letters (``_inside``, added after this search):
            # read from this text alone, not from the batch
            inside, cased = _namewords._inside_found(t, folded, words)
            got = out[i] + [
                (m.start() + a, m.start() + b)
                for m in _namewords._RUN.finditer(folded)
                if m[0] in inside
                for a, b, _ in inside[m[0]]
            ]
            got += [
                (m.start() + a, m.start() + b)
                for m in _namewords._RUN.finditer(t)
                if m[0] in cased
                for a, b, _ in cased[m[0]]
            ]
            out[i] = sorted(set(got))
    return out


WORDS = {"ganthriv": SURNAME, "quispeq": SURNAME, "yesicka": GIVEN, "zorvath": SURNAME}
WORDS |= {"thorn": SURNAME}  # (glued: the username pseudonym's shape, t + horn: not found)
_FRAGMENTS = [
    "Ganthriv", "ganthrivs", "GANTHRIVES", "Gánthriv", "quispeq", "Yesicka", "zorvath",
    "ganthriv87", "xganthriv", "87", "4qdkqy4", "thorn", "met the", " ", ", ", ".", "family",
    "house", "\x00", "\uff27anthriv", "ß", "ﬁ", "\u200b", "ganth\u200briv", "Ana", "and", "-", "'s", "4qdk",
]  # fmt: skip
_TEXT = st.lists(st.sampled_from(_FRAGMENTS), max_size=8).map("".join)


@settings(max_examples=1_500, deadline=None)
@given(st.lists(_TEXT, max_size=30), st.sampled_from([WORDS, {}, {"ganthriv": SURNAME}]))
def test_spans_are_those_of_the_previous_search(texts: list[str], words: dict[str, str]) -> None:
    assert spans(texts, words) == _previous(texts, words)


def test_a_batch_naming_many_people_finds_each_in_its_own_text() -> None:
    words = {f"ganth{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}qz": SURNAME for i in range(600)}
    texts = [f"Spoke with Ana {w.title()} about the invoice." for w in words] + ["no name"] * 50
    got = spans(texts, words)
    assert got == _previous(texts, words)
    assert all(got[i] == [(15, 15 + len(w))] for i, w in enumerate(words))
    assert got[-50:] == [[]] * 50


def test_a_runs_case_changes_are_its_own_not_the_batchs() -> None:
    """A rare word glued to an unknown rest is found by a change of case at its edge
    (``GanthrivXyzq``), in that run only: the same letters written without it in
    another text of the batch (``ganthrivxyzq``), or a longer run holding them
    (``GanthrivXyzqa``'s case lent to ``ganthrivxyzq``), are not. Before, the case
    changes were looked up by the folded letters across the whole batch, so a text's
    spans, and verify's cell counts, depended on the texts batched with it."""
    from stagewall.masking._namewords import cells_holding, kinded_spans

    words = {"ganthriv": SURNAME}
    alone = kinded_spans(["ganthrivxyzq"], words)
    assert alone == [[]]
    batch = ["GanthrivXyzq", "ganthrivxyzq", "met GanthrivXyzqa"]
    assert kinded_spans(batch, words) == [
        [(0, 8, SURNAME)],
        [],
        [(4, 12, SURNAME)],
    ]
    assert cells_holding(batch, words) == {SURNAME: 2}
    assert cells_holding(["ganthrivxyzq", "met GanthrivXyzqa"], words) == {SURNAME: 1}
    assert cells_holding(["ganthrivxyzq"], words) == {}
