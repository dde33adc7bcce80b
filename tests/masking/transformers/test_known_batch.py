"""One set of probes per batch (scrubfast): a :class:`KnownBatch` builds its rows'
:class:`Pairs` once and every consumer takes its rows from them. ``Pairs.take``
gives exactly what ``Pairs`` builds for those rows, and ``text_scrub`` and
``json_mask`` give the same outputs with a KnownBatch as with a plain list and as
the code before the fastscrub changes (scrub_reference.py)."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.masking.transformers import build_transformer
from stagewall.masking.transformers._known import KnownBatch, Pairs, pairs_of, pick
from tests.masking.transformers.test_scrub_reference import KEY, _cold, _previous, _rows

_PARAMS = [{}, {"max_length": 24}, {"kinds": ["email", "phone"]}]


def _fields(p: Pairs) -> tuple[Any, ...]:
    # (a value's spaced form is read by its words: the ASCII pass of a batch keeps a
    # run of separators as spaces, the other pass as one)
    return (p.n, p.row.tolist(), p.flat, p.forms, [s.split() for s in p.spaced], p.multi.tolist())


@settings(max_examples=300, deadline=None)
@given(_rows(), st.data())
def test_take_is_what_pairs_builds_for_the_rows(rows: Any, data: st.DataObject) -> None:
    _, known = rows
    picked = data.draw(st.lists(st.integers(0, max(0, len(known) - 1)), max_size=20))
    if not known:
        picked = []
    whole = Pairs(known)
    assert _fields(whole.take(picked)) == _fields(Pairs([known[r] for r in picked]))
    assert _fields(whole.take(range(len(known)))) == _fields(whole)
    # and taken twice (a json_mask document's strings, picked from a picked batch)
    batch = KnownBatch(known)
    again = data.draw(st.lists(st.integers(0, max(0, len(picked) - 1)), max_size=20))
    if not picked:
        again = []
    twice = batch.pick(picked).pick(again)
    assert list(twice) == [known[picked[j]] for j in again]
    assert _fields(pairs_of(twice)) == _fields(Pairs(list(twice)))


def test_a_batch_builds_its_pairs_once() -> None:
    known = [(("first_name", "Anna"),), (("phone", "+49 30 1000005"),), ()]
    batch = KnownBatch(known)
    built: list[int] = []
    real = Pairs.__init__

    def counting(self: Pairs, known: Any) -> None:
        built.append(len(known))
        real(self, known)

    with mock.patch.object(Pairs, "__init__", counting):
        for rows in ([0, 2], [1], [0, 1, 2], [2, 2]):
            pairs_of(batch.pick(rows))
        pairs_of(batch)
        pairs_of(known)
    assert built == [3, 3]  # the batch's, once; the plain list's
    assert pick(known, [1, 0]) == [known[1], known[0]]
    assert type(pick(known, [1])) is list
    assert np.array_equal(pairs_of(batch.pick([1])).row, [0])


@settings(max_examples=200, deadline=None)
@given(_rows(), st.sampled_from(_PARAMS))
def test_text_scrub_with_a_known_batch_equals_the_previous_code(
    rows: tuple[list[object], list[Any]], params: dict[str, Any]
) -> None:
    texts, known = rows
    scrub = build_transformer("text_scrub", params, key=KEY).transform_known  # type: ignore[attr-defined]
    # the batch as the engine gives it, and the rows of a larger batch picked from it
    odd = KnownBatch([*known, *known]).pick(range(len(known), 2 * len(known)))
    _cold()
    got = [scrub(texts, KnownBatch(known)), scrub(texts, odd), scrub(texts, known)]
    with _previous():
        want = scrub(texts, known)
    assert got == [want] * 3


@settings(max_examples=120, deadline=None)
@given(_rows())
def test_note_and_document_sharing_a_batch_equal_the_previous_code(
    rows: tuple[list[object], list[Any]],
) -> None:
    """What the engine does for a table with a note and a JSON column: both take the
    same KnownBatch (documents repeated, for json_mask's repeated-text path)."""
    texts, known = rows
    docs: list[object] = [
        json.dumps({"note": t, "n": i % 3}) if isinstance(t, str) else None
        for i, t in enumerate(texts)
    ] * 6
    notes = texts * 6
    many = known * 6
    scrub = build_transformer("text_scrub", {}, key=KEY)
    mask = build_transformer("json_mask", {"unknown_keys": "scrub"}, key=KEY)
    _cold()
    batch = KnownBatch(many)
    got = (scrub.transform_known(notes, batch), mask.transform_known(docs, batch))  # type: ignore[attr-defined]
    with _previous():
        want = (scrub.transform_known(notes, many), mask.transform_known(docs, many))  # type: ignore[attr-defined]
    assert got == want
