"""The dictionary pseudonyms' batch steps give what their code before the copy-speed
round gave (kept below verbatim but for the names, as references): the probe
prefilter that skips the padding probes (``_candidates``), and street addresses
assembled from three items a row with the house numbers taken from an object array
(``StreetAddress._draw``)."""

from __future__ import annotations

import operator
from functools import cache
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.keys import MaskingKey
from stagewall.masking.transformers import _dicts, build_transformer
from stagewall.masking.transformers._names import (
    _NEVER,
    _WORD,
    _candidates,
    _fold_batch,
    _index,
    _name_words,
    _probes,
)

KEY = MaskingKey("draw-ref", b"\x2c" * 32)


@cache
def reference_probe_table(words: tuple[str, ...], words_only: bool) -> tuple[Any, list[Any]]:
    """_probe_table before the round: ``(counts, columns)``."""
    names = _name_words()
    probes = []
    for w in words:
        folded = w.strip().casefold()
        found = [x for x in dict.fromkeys(_WORD.findall(folded)) if x in names]
        probes.append(found or [_NEVER if words_only else folded or _NEVER])
    width = max(map(len, probes), default=1)
    cols = []
    for j in range(width):
        col = np.empty(len(probes), dtype=object)
        col[:] = [p[j] if j < len(p) else _NEVER for p in probes]
        cols.append(col)
    return np.array([len(p) for p in probes], dtype=np.intp), cols


def reference_candidates(values: list[str], parts: list[tuple[Any, Any, bool]]) -> list[int] | None:
    """_candidates before the round (every value tested against every probe column)."""
    folded = _fold_batch(values)
    if folded is None:
        return None
    n = len(values)
    hit = np.zeros(n, dtype=bool)
    contains = operator.contains
    for dictionary, idx, words_only in parts:
        if dictionary is None:  # the probes themselves, one per value
            hit |= np.fromiter(map(contains, folded, idx), dtype=bool, count=n)
            continue
        counts, cols = reference_probe_table(tuple(dictionary.tolist()), words_only)
        have = counts[idx]
        for j, col in enumerate(cols):
            rows = np.arange(n) if j == 0 else np.flatnonzero(have > j)
            if not len(rows):
                break
            probes = col[idx[rows]].tolist()
            texts = folded if j == 0 else [folded[r] for r in rows.tolist()]
            hit[rows] |= np.fromiter(map(contains, texts, probes), dtype=bool, count=len(rows))
    return np.flatnonzero(hit).tolist()


def reference_streets(nums: list[int], lasts: list[str], sufs: list[str]) -> list[object]:
    """_streets before the round (six items a row)."""
    m = len(nums)
    numbers = [str(n) for n in range(10_000)]
    items = [" "] * (6 * m)
    items[0::6] = map(numbers.__getitem__, nums)
    items[2::6] = lasts
    items[4::6] = sufs
    items[5::6] = ["\n"] * m
    out: list[object] = list("".join(items).split("\n"))
    if len(out) == m + 1:
        del out[m]
        return out
    return [f"{n} {a} {s}" for n, a, s in zip(nums, lasts, sufs, strict=True)]


def reference_street_draw(tr: Any, h: Any) -> tuple[list[object], list[tuple[Any, Any, bool]]]:
    """StreetAddress._draw before the round."""
    lw, sw = tr._dicts["last"], tr._dicts["suffix"]
    li, si = _index(lw, h), _index(sw, h >> np.uint64(20))
    nums = ((h >> np.uint64(40)) % np.uint64(9999) + np.uint64(1)).tolist()
    lasts, sufs = np.take(lw, li).tolist(), np.take(sw, si).tolist()
    return reference_streets(nums, lasts, sufs), [(lw, li, False), (sw, si, True)]


def _dictionaries() -> dict[str, Any]:
    return {
        "first": _dicts.first_names(),
        "last": _dicts.last_names(),
        "suffix": _dicts.street_suffixes(),
        "city": _dicts.cities(),
        "company": _dicts.company_suffixes(),
    }


def _some_words() -> list[str]:
    d = _dictionaries()
    return [w for arr in d.values() for w in arr.tolist()[:60]]


_texts = st.one_of(
    st.text(max_size=30),
    st.sampled_from(_some_words()),
    st.tuples(st.sampled_from(_some_words()), st.sampled_from(_some_words())).map(" ".join),
    st.sampled_from(_some_words()).map(lambda w: f"12 {w.upper()} Street"),
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_texts, min_size=1, max_size=40),
    st.lists(
        st.tuples(
            st.sampled_from(["first", "last", "suffix", "city", "company"]),
            st.booleans(),
            st.integers(0, 2**32),
        ),
        min_size=1,
        max_size=3,
    ),
    st.booleans(),
)
def test_candidates_equal_the_code_before(
    values: list[str], specs: list[tuple[str, bool, int]], with_probes: bool
) -> None:
    d = _dictionaries()
    n = len(values)
    parts: list[tuple[Any, Any, bool]] = []
    for kind, words_only, seed in specs:
        words = d[kind]
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, len(words), n).astype(np.intp)
        parts.append((words, idx, words_only))
        # some values hold their own entry (a hit where the entry has a probe)
        for i in np.flatnonzero(rng.random(n) < 0.3).tolist():
            values[i] = f"{values[i]} {words[idx[i]]}"
    if with_probes:  # a part that gives one probe string per value (username's letters)
        parts.append((None, [v[:3].casefold() for v in values], False))
    assert _candidates(values, parts) == reference_candidates(values, parts)


def test_candidates_of_padding_only_columns_and_of_values_holding_nul() -> None:
    d = _dictionaries()
    sw = d["suffix"]
    # every entry of a words-only dictionary without name words probes nothing
    idx = np.arange(len(sw), dtype=np.intp)
    values = [f"1 {w} {w}" for w in sw.tolist()]
    parts = [(sw, idx, True)]
    # most suffixes are no name: their probe is the padding, which is skipped
    # (a NumPy comparison with "\x00" would take it for "" and skip nothing)
    real = _probes(sw, True)[2][0]
    assert 0 < int(real.sum()) < len(sw) // 2
    assert _candidates(values, parts) == reference_candidates(values, parts)
    assert _candidates(["a\x00b", "c"], [(sw, idx[:2], True)]) is None


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1), max_size=60), st.sampled_from([None, 16, 20, 40]))
def test_street_draw_equals_the_code_before(hashes: list[int], max_length: int | None) -> None:
    params = {} if max_length is None else {"max_length": max_length}
    tr: Any = build_transformer("street_address", params, key=KEY, salt="s")
    h = np.array(hashes, dtype=np.uint64)
    got, got_parts = tr._draw(h)
    want, want_parts = reference_street_draw(tr, h)
    assert got == want
    assert len(got_parts) == len(want_parts)
    for (gd, gi, gw), (wd, wi, ww) in zip(got_parts, want_parts, strict=True):
        assert gd is wd and gw == ww and np.array_equal(gi, wi)


def test_street_transform_equals_the_code_before_on_a_large_batch() -> None:
    tr: Any = build_transformer("street_address", {}, key=KEY, salt="s")
    values = [
        f"{i % 997} {('High', 'Mill', 'Elm')[i % 3]}{i * 31 % 2500} Street" for i in range(6000)
    ]
    h = tr._hash(values)
    assert tr._draw(h)[0] == reference_street_draw(tr, h)[0]
