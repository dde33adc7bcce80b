"""The dictionary pseudonyms' COPY-field path gives the bytes the str path gives, or declines.

``_Drawn.transform_copy_fields`` (first_name, last_name, full_name, street_address,
city, company, username) hashes the COPY text fields' bytes, looks for inputs a
pseudonym may reveal on the lower-cased batch and draws those again as
``transform`` does. For every batch it takes it must return what decoding,
``transform`` and encoding return (NULL, empty and blank values kept), and it must
decline (None) every batch it cannot read as printable ASCII, and every batch of a
transformer that draws otherwise (region and country keep a code's shape).

Also here: ``keyed_hash_groups`` is ``keyed_hash``, and the candidate prefilter,
which now skips rows whose entry has no probe (most street suffixes), finds the
positions the old prefilter (kept below) found.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.keys import MaskingKey
from stagewall.masking.db._pgtext import decode_text_column, encode_column
from stagewall.masking.transformers import _dicts, build_transformer
from stagewall.masking.transformers import _names as N
from stagewall.masking.transformers._batch import keyed_hash, keyed_hash_groups
from stagewall.masking.transformers._flat import _length_groups
from stagewall.masking.types import ColumnKind

KEY = MaskingKey("drawn-copy-fields", b"\x5d" * 32)
_RAW = b"\x11" * 32  # a transformer's derived key is bytes

DRAWN = ["first_name", "last_name", "full_name", "street_address", "city", "company", "username"]
BY_SHAPE = ["region", "country"]

_FIRSTS = _dicts.first_names().tolist()
_LASTS = _dicts.last_names().tolist()
_word = st.sampled_from([*_FIRSTS[:40], *_LASTS[:40], "Street", "Road", "Berlin", "DE", "USA"])
_printable = st.text(alphabet=st.sampled_from([*"abcXYZ019 .,'-&/#", "Smith"[0]]), max_size=30)
_joined = st.lists(st.one_of(_word, st.integers(0, 9999).map(str)), min_size=1, max_size=5).map(
    " ".join
)
_odd = st.sampled_from(
    [
        b"\\N",  # NULL
        b"",
        b"  ",
        b"\x1c",  # blank to str.isspace, not to bytes.isspace
        b"Elm\\tStreet",  # an escaped tab
        b"\\\\N",  # an escaped backslash, then N
        "M\u00fcller".encode(),  # non-ASCII
        "Anna\u00a0Smith".encode(),  # non-ASCII white space
        b"\x7fAnna",
    ]
)
_field = st.one_of(_joined.map(str.encode), _printable.map(str.encode), _odd)
_params = st.sampled_from([{}, {"max_length": 16}, {"max_length": 40}])


def _str_path(tr: Any, raw: list[bytes], suffix: bytes) -> list[bytes]:
    return encode_column(tr.transform(decode_text_column(raw)), ColumnKind.TEXT, suffix)


def _readable(raw: list[bytes]) -> bool:
    return all(f == b"\\N" or (b"\\" not in f and all(32 <= c <= 126 for c in f)) for f in raw)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(DRAWN),
    st.lists(_field, min_size=1, max_size=40),
    st.sampled_from([b"", b"\t"]),
    _params,
)
def test_copy_fields_are_the_str_path_bytes_or_declined(
    name: str, raw: list[bytes], suffix: bytes, params: dict[str, Any]
) -> None:
    tr: Any = build_transformer(name, params, key=KEY, salt="s")
    got = tr.transform_copy_fields(raw, suffix)
    some = any(f != b"\\N" and f.strip(b" ") for f in raw)
    if _readable(raw) and some:
        assert got is not None  # printable ASCII: the COPY-field path takes the batch
    elif not _readable(raw):
        assert got is None
    if got is not None:
        assert got == _str_path(tr, raw, suffix)


@pytest.mark.parametrize("name", BY_SHAPE)
def test_shape_keeping_transformers_decline(name: str) -> None:
    """region and country map a code to a code: their batches take the str path."""
    tr: Any = build_transformer(name, {}, key=KEY)
    assert tr.transform_copy_fields([b"DE", b"Germany", b"USA"], b"\t") is None


@pytest.mark.parametrize("name", DRAWN)
def test_pseudonyms_that_reveal_their_input_are_drawn_again(name: str) -> None:
    """Inputs holding every dictionary name: (nearly) every first draw reveals its
    input, so those values go through the rounds ``transform`` runs; the bytes are still the
    str path's, and a batch of many lengths and kept values is too."""
    tr: Any = build_transformer(name, {}, key=KEY, salt="s")
    everyone = " ".join([*_FIRSTS, *_LASTS])
    raw = [f"{i} {everyone} {i}".encode() for i in range(40)]
    raw += [b"\\N", b"", b"   ", b"12 High Street", b"Anna Smith", b"Berlin"]
    values = decode_text_column(raw[:40])
    first = tr._draw(tr._hash(values))[0]
    revealing = sum(N._reveals_input(o, v) for o, v in zip(first, values, strict=True))
    # few cities hold a name word; a handle ("jsmith42") is never a name word
    assert revealing >= {"city": 1, "username": 0}.get(name, 30)
    for suffix in (b"", b"\t"):
        got = tr.transform_copy_fields(raw, suffix)
        assert got is not None
        assert got == _str_path(tr, raw, suffix)


def test_a_column_of_bench_streets() -> None:
    tr: Any = build_transformer("street_address", {}, key=KEY, salt="s")
    raw = [
        f"{g % 997} {['High', 'Mill', 'Elm', 'Oak'][g % 4]}{g * 31 % 250000} Street".encode()
        for g in range(3000)
    ]
    for suffix in (b"", b"\t"):
        assert tr.transform_copy_fields(raw, suffix) == _str_path(tr, raw, suffix)


@settings(max_examples=200, deadline=None)
@given(st.lists(_printable, min_size=1, max_size=60), st.sampled_from(["last_name", "x/y"]))
def test_keyed_hash_groups_is_keyed_hash(texts: list[str], label: str) -> None:
    buf, groups = _length_groups([t.encode() for t in texts])
    got = keyed_hash_groups(_RAW, label, buf, groups)
    assert got.tolist() == keyed_hash(_RAW, label, texts).tolist()


# --- the candidate prefilter before rows without a probe were skipped (kept as it was)


def _old_probe_table(words: tuple[str, ...], words_only: bool) -> tuple[Any, list[Any]]:
    names = N._name_words()
    probes = []
    for w in words:
        folded = w.strip().casefold()
        found = [x for x in dict.fromkeys(N._WORD.findall(folded)) if x in names]
        probes.append(found or [N._NEVER if words_only else folded or N._NEVER])
    width = max(map(len, probes), default=1)
    cols = []
    for j in range(width):
        col = np.empty(len(probes), dtype=object)
        col[:] = [p[j] if j < len(p) else N._NEVER for p in probes]
        cols.append(col)
    return np.array([len(p) for p in probes], dtype=np.intp), cols


def _old_candidates(values: list[str], parts: list[tuple[Any, Any, bool]]) -> list[int] | None:
    folded = N._fold_batch(values)
    if folded is None:
        return None
    n = len(values)
    hit = np.zeros(n, dtype=bool)
    contains = operator.contains
    for dictionary, idx, words_only in parts:
        if dictionary is None:
            hit |= np.fromiter(map(contains, folded, idx), dtype=bool, count=n)
            continue
        counts, cols = _old_probe_table(tuple(dictionary.tolist()), words_only)
        have = counts[idx]
        for j, col in enumerate(cols):
            rows = np.arange(n) if j == 0 else np.flatnonzero(have > j)
            if not len(rows):
                break
            probes = col[idx[rows]].tolist()
            texts = folded if j == 0 else [folded[r] for r in rows.tolist()]
            hit[rows] |= np.fromiter(map(contains, texts, probes), dtype=bool, count=len(rows))
    return np.flatnonzero(hit).tolist()


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(DRAWN),
    st.lists(st.one_of(_joined, _printable), min_size=1, max_size=60),
    _params,
)
def test_candidates_are_the_old_prefilters(
    name: str, values: list[str], params: dict[str, Any]
) -> None:
    tr: Any = build_transformer(name, params, key=KEY, salt="s")
    parts = tr._draw(tr._hash(values))[1]
    assert N._candidates(values, parts) == _old_candidates(values, parts)


def test_street_suffixes_are_mostly_not_probed() -> None:
    """The skipped rows exist: most street suffixes (words_only) hold no name word."""
    tr: Any = build_transformer("street_address", {}, key=KEY)
    ((col, real),) = N._probes(tr._dicts["suffix"], True)
    assert 0 < real.sum() < len(col) // 10
