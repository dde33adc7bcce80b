"""The batch unit extraction of verify equals the value-by-value reference."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stagewall.masking._units import (
    KEY,
    LEAF,
    PII,
    WHOLE,
    Hasher,
    Members,
    _norm,
    contains,
    iso_datetimes,
    norm_many,
    unique_sorted,
)
from stagewall.masking.classify import detect_in_text, detect_texts

_TEXTS = st.text(max_size=40) | st.sampled_from(
    [
        "jane.doe@example.com",
        "  Call +44 20 7946 0958 now ",
        "TRUE",
        "1234",
        "+12345",
        "x\x00y",
        '{"name": "Jane Smith", "mail": "a.b@c.de", "n": [1, "GB82WEST12345698765432"]}',
        "[1, 2, 3]",
        " [not json",
        "Anna Miller lives at 10.1.2.3",
    ]
)
_VALUES = st.lists(
    st.none()
    | _TEXTS
    | st.integers(-(10**8), 10**8)
    | st.booleans()
    | st.dates()
    | st.datetimes()
    | st.decimals(allow_nan=False, allow_infinity=False, places=2)
    | st.dictionaries(st.text(max_size=5), _TEXTS, max_size=3),
    max_size=30,
)


def _leaves(doc: Any) -> Iterator[str]:
    return (t for t, _ in _kinded_leaves(doc))


def _kinded_leaves(doc: Any) -> Iterator[tuple[str, int]]:
    """The reference leaves of a document (what _leaves_many lays out flat): its
    scalar leaves and its objects' keys (each object's keys, then its values')."""
    from stagewall.masking._units import _text

    stack = [doc]
    while stack:
        cur = stack.pop()
        if isinstance(cur, dict):
            yield from ((str(k), KEY) for k in cur)
            stack.extend(cur.values())
        elif isinstance(cur, (list, tuple)):
            stack.extend(cur)
        else:
            t = _text(cur)
            if t is not None:
                yield t, LEAF


def _by_value(h: Hasher, values: list[Any]) -> list[tuple[list[int], list[int], list[int]]]:
    """The reference: every value on its own, by the rules in docs/masking.md."""
    import json

    from stagewall.masking._units import (
        MAX_TEXT_SCAN,
        MIN_SCAN,
        _as_document,
        _norm,
        _text,
    )
    from stagewall.masking.transformers._confusables import latin_readings

    out: list[tuple[list[int], list[int], list[int]]] = [([], [], []) for _ in values]
    scan: list[tuple[int, str]] = []
    for i, value in enumerate(values):
        whole, leaves, _ = out[i]
        doc = _as_document(value)
        if doc is not None:
            n = _norm(json.dumps(doc, sort_keys=True, ensure_ascii=False, default=str))
            if n is not None:
                whole.append(h.h(n))
            for leaf in _leaves(doc):
                # a leaf with a word in look-alike letters: its Latin reading too
                for one in (leaf, *(r for _, r in latin_readings([leaf]))):
                    n = _norm(one)
                    if n is not None:
                        leaves.append(h.h(n))
                        if len(one) >= MIN_SCAN:
                            scan.append((i, one))
            continue
        text = _text(value)
        # a text with a word in look-alike letters: its Latin reading is one more text
        readings = [r for _, r in latin_readings([text])] if isinstance(value, str) else []
        for one in (text, *readings) if text is not None else ():
            n = _norm(one)
            if n is not None:
                whole.append(h.h(n))
                if isinstance(value, str) and len(one) >= MIN_SCAN:
                    scan.append((i, one[:MAX_TEXT_SCAN]))
    for i, text in scan:  # one text at a time: the batch detector must agree
        for m in detect_in_text(text):
            n = _norm(m.text)
            if n is not None:
                out[i][2].append(h.h(n))
    return [(sorted(a), sorted(b), sorted(c)) for a, b, c in out]


def _flat_by_value(h: Hasher, values: list[Any]) -> list[tuple[list[int], list[int], list[int]]]:
    f = h.flat(values)
    out: list[tuple[list[int], list[int], list[int]]] = [([], [], []) for _ in values]
    for o, k, x in zip(f.owner.tolist(), f.kind.tolist(), f.hashes.tolist(), strict=True):
        out[o][{WHOLE: 0, LEAF: 1, KEY: 1, PII: 2}[k]].append(x)
    return [(sorted(a), sorted(b), sorted(c)) for a, b, c in out]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_VALUES)
def test_flat_units_equal_the_reference(values: list[Any]) -> None:
    h = Hasher(b"\x07" * 32, detect_texts)
    assert _flat_by_value(h, values) == _by_value(h, values)
    # one column type at a time takes the batch paths
    strs = [v for v in values if isinstance(v, str)]
    assert _flat_by_value(h, strs) == _by_value(h, strs)


@settings(max_examples=200, deadline=None)
@given(st.lists(_TEXTS, max_size=30))
def test_norm_many_equals_norm(texts: list[str]) -> None:
    from stagewall.masking._units import _norm

    assert norm_many(texts) == [_norm(t) for t in texts]


def test_common_types_take_the_batch_path() -> None:
    h = Hasher(b"\x07" * 32, detect_texts)
    values: list[Any] = [12345678, dt.date(2020, 1, 1), "Jane Smith", None, 7, Decimal("1.5")]
    assert _flat_by_value(h, values[:5]) == _by_value(h, values[:5])
    assert _flat_by_value(h, values) == _by_value(h, values)


def test_fewer_collections_raises_the_threshold_and_restores_it() -> None:
    import gc

    from stagewall.masking._parallel import GC_YOUNG, fewer_collections

    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold()[0] >= GC_YOUNG
        assert gc.get_threshold()[1:] == before[1:]
    assert gc.get_threshold() == before


def _per_value(h: Hasher, values: list[Any]) -> list[set[tuple[int, int]]]:
    """Each value's (kind, hash) units, computed alone (no batch to share with)."""
    out = []
    for v in values:
        f = h.flat([v])
        out.append(set(zip(f.kind.tolist(), f.hashes.tolist(), strict=True)))
    return out


def _per_owner(h: Hasher, values: list[Any]) -> list[set[tuple[int, int]]]:
    f = h.flat(values)
    out: list[set[tuple[int, int]]] = [set() for _ in values]
    for o, k, x in zip(f.owner.tolist(), f.kind.tolist(), f.hashes.tolist(), strict=True):
        out[o].add((k, x))
    return out


def test_equal_documents_of_a_batch_share_their_units_exactly() -> None:
    h = Hasher(b"\x07" * 32, detect_texts)
    gift = {"channel": "web", "gift": "Happy birthday from Anna Miller! anna@example.org"}
    values: list[Any] = [
        gift,
        {"gift": gift["gift"], "channel": "web"},  # same document, other key order
        dict(gift),
        {"channel": "web", "gift": None},
        {"channel": "web", "gift": None},
        {"n": Decimal("12345.0"), "d": dt.date(2024, 1, 2)},  # not plain JSON: not shared
        {"n": "12345.0", "d": "2024-01-02"},
        [1.0, 1, "1.0"],
        [1.0, 1, "1.0"],
    ]
    assert _per_owner(h, values) == _per_value(h, values)
    texts = [json.dumps(v, default=str) for v in values[:5]]
    assert _per_owner(h, texts) == _per_value(h, texts)


# ---- the shortcuts of the batch path: repeated values, documents in one encoder call ----

_UNICODE = st.text(
    st.characters(blacklist_categories=("Cs",)) | st.sampled_from("éÉßİıΣς ñÑ-+{}[]\"'"),
    max_size=12,
)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _UNICODE
    | _TEXTS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_UNICODE, inner, max_size=4),
    max_leaves=12,
)


def _aligned(h: Hasher, values: list[Any]) -> None:
    """Each unit's text is the text its hash was made from."""
    units, texts = h.flat_texts(values)
    assert len(texts) == units.hashes.size == units.owner.size == units.kind.size
    assert units.hashes.tolist() == (h.hash_many(texts).tolist() if texts else [])


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.none() | _TEXTS | _UNICODE, min_size=1, max_size=6),
    st.lists(st.integers(-(10**20), 10**20) | st.none(), min_size=1, max_size=6),
    st.lists(st.dates() | st.none(), min_size=1, max_size=4),
    st.lists(
        st.decimals(allow_nan=False, allow_infinity=False) | st.none(), min_size=1, max_size=6
    ),
    st.data(),
)
def test_repeated_values_share_units_exactly(
    texts: list[Any], ints: list[Any], dates: list[Any], decimals: list[Any], data: st.DataObject
) -> None:
    """A column repeating a few values (statuses, amounts) has its units found once
    per distinct value: the same units, cell by cell, as every value on its own."""
    h = Hasher(b"\x07" * 32, detect_texts)
    # equal decimals written differently (1.10 and 1.1, 1E+5 and 100000) share units
    decimals += [Decimal("12345.10"), Decimal("12345.1"), Decimal("1E+5"), Decimal("100000")]
    for pool in (texts, ints, dates, decimals):
        values = data.draw(st.lists(st.sampled_from(pool), min_size=16, max_size=60))
        assert _flat_by_value(h, values) == _by_value(h, values)
        _aligned(h, values)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_JSON, min_size=1, max_size=5), st.data())
def test_documents_in_one_encoder_call_equal_the_reference(
    docs: list[Any], data: st.DataObject
) -> None:
    """Nested documents (unicode keys, numbers, NULLs), repeated or not, as decoded
    documents and as JSON text: the units of each, as if computed alone."""
    h = Hasher(b"\x07" * 32, detect_texts)
    values = data.draw(st.lists(st.sampled_from(docs), min_size=1, max_size=30))
    values = [v if isinstance(v, (dict, list)) else [v] for v in values]
    assert _flat_by_value(h, values) == _by_value(h, values)
    _aligned(h, values)
    as_text = [json.dumps(v, ensure_ascii=False) for v in values]
    assert _flat_by_value(h, as_text) == _by_value(h, as_text)
    # the separator of the one-call encoding inside a document: encoded one by one
    tricky = [*values, ["\x00\x01"], {"k": "\x00\x01"}]
    assert _flat_by_value(h, tricky) == _by_value(h, tricky)


def test_huge_integers_and_decimals_in_documents() -> None:
    h = Hasher(b"\x07" * 32, detect_texts)
    values: list[Any] = [10**30, -(10**19), 12345, -12345, 1234, -9999, None] * 3
    assert _flat_by_value(h, values) == _by_value(h, values)
    docs: list[Any] = [{"n": Decimal("123456.5"), "d": dt.date(2024, 1, 2)}, {"n": 123456}] * 3
    assert _flat_by_value(h, docs) == _by_value(h, docs)


def test_detector_memo_across_batches_and_when_full(monkeypatch: Any) -> None:
    """Texts seen in an earlier batch are not searched again, their tokens are the
    same; a full memo starts again without losing the batch being added."""
    import stagewall.masking._units as units

    searched: list[str] = []

    def counting(texts: Any) -> Any:
        searched.extend(texts)
        return detect_texts(texts)

    h = Hasher(b"\x07" * 32, counting)
    ref = Hasher(b"\x07" * 32, detect_texts)
    first = ["Call Anna Miller on +44 20 7946 0958", "jane.doe@example.com", "nothing here"]
    second = [*first[::-1], "write to bob.stone@example.org", first[0]]
    assert _per_owner(h, first) == _per_owner(ref, first)
    assert _per_owner(h, second) == _per_owner(ref, second)
    assert sorted(searched) == sorted([*first, "write to bob.stone@example.org"])
    monkeypatch.setattr(units, "MEMO", 3)
    third = ["mail x.y@example.net now", *second]
    assert _per_owner(h, third) == _per_owner(ref, third)
    assert _per_owner(h, third[::-1]) == _per_owner(ref, third[::-1])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(st.sampled_from("+-0123456789 aZé\u00b2\u0663"), max_size=9), max_size=30))
def test_norm_many_equals_norm_on_signed_numbers(texts: list[str]) -> None:
    """Only short texts and texts starting with a sign are checked for small numbers:
    the same as checking every text (superscript and Arabic-Indic digits included)."""
    from stagewall.masking._units import _norm

    edge = [
        "++-1234",
        "-12345",
        "+1",
        " -1234 ",
        "1234",
        "12345",
        "+-+-",
        "-\u00b2\u00b2\u00b2\u00b2",
    ]
    assert norm_many(texts + edge) == [_norm(t) for t in texts + edge]


@settings(max_examples=150, deadline=None)
@given(st.lists(_JSON, max_size=6))
def test_leaves_many_equals_leaves(docs: list[Any]) -> None:
    from stagewall.masking._units import _leaves_many

    owners, leaves, kinds = _leaves_many(docs)
    assert list(zip(owners, leaves, kinds, strict=True)) == [
        (g, leaf, kind) for g, d in enumerate(docs) for leaf, kind in _kinded_leaves(d)
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.decimals(allow_nan=False, allow_infinity=False)
        | st.decimals(allow_nan=False, allow_infinity=False, places=2)
        | st.sampled_from([Decimal("NaN"), Decimal("-0"), Decimal("1E+5"), Decimal("12345.000")]),
        max_size=30,
    )
)
def test_decimal_column_texts_equal_text(values: list[Decimal]) -> None:
    from stagewall.masking._units import _decimal_texts, _text

    assert _decimal_texts(values) == [_text(v) for v in values]


def test_large_columns_with_and_without_repeats() -> None:
    """Past 1,024 values a column whose first 256 are nearly all distinct is not
    deduplicated (a guess that only picks the path): both paths give the reference."""
    h = Hasher(b"\x07" * 32, detect_texts)
    distinct_head = [f"customer {i} anna{i}@example.org" for i in range(300)] + [
        "active",
        "closed",
        None,
    ] * 300
    repeating = ["active", "closed", "jane.doe@example.com", None] * 300
    for values in (distinct_head, repeating):
        assert _flat_by_value(h, values) == _by_value(h, values)
        _aligned(h, values)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 2**64 - 1) | st.sampled_from([0, 7, 2**63]), max_size=50))
def test_unique_first_equals_numpy_unique(values: list[int]) -> None:
    import numpy as np

    from stagewall.masking._units import unique_first

    h = np.array(values, dtype=np.uint64)
    got, first = unique_first(h)
    want, want_first = np.unique(h, return_index=True)
    assert got.tolist() == want.tolist()
    assert first.tolist() == want_first.tolist()


_OFFSETS = st.timedeltas(
    min_value=-dt.timedelta(hours=23, minutes=59), max_value=dt.timedelta(hours=23, minutes=59)
)
_ZONES = st.none() | st.just(dt.UTC) | _OFFSETS.map(dt.timezone)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.integers(-(10**30), 10**30) | st.integers(-(10**6), 10**6) | st.none(), max_size=40
    ),
    st.lists(st.dates() | st.none(), max_size=40),
    st.lists(st.datetimes(timezones=_ZONES) | st.none(), max_size=40),
)
def test_columns_of_integers_dates_and_timestamps_skip_normalising_exactly(
    ints: list[Any], dates: list[Any], stamps: list[Any]
) -> None:
    """A column of integers, dates or timestamps is not normalised again (its texts
    are their own normal form): the same units as every value on its own, and
    norm_many would leave each text as it is."""
    from stagewall.masking._units import _text

    h = Hasher(b"\x07" * 32, detect_texts)
    for values in (ints, dates, stamps):
        assert _flat_by_value(h, values) == _by_value(h, values)
        texts = [t for v in values if v is not None and (t := _text(v)) is not None]
        assert norm_many(texts) == texts


_COMMON_SPELLINGS = st.sampled_from(
    [
        *("true", "FALSE", " Null ", "none", "N/A", "unknown", "Test", "DEFAULT", "infinity"),
        *("-Infinity", "0000-00-00", " 0000-00-00 00:00:00", "truth", "nulls", "-12", "+1234"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_COMMON_SPELLINGS | st.text(st.sampled_from("aeiouxyz 0123"), max_size=9)))
def test_norm_many_drops_common_words_and_small_numbers_as_norm(texts: list[str]) -> None:
    """The batch's common words are found by one set intersection and its signs only
    when the batch holds one: the same as :func:`_norm` of each text."""
    assert norm_many(texts) == [_norm(t) for t in texts]


_HASHES = st.integers(0, 2**64 - 1) | st.sampled_from(
    # hashes sharing their top bits (the bitmap's slots) with others, and the extremes
    [0, 1, 2**63, 2**64 - 1, 2**63 + 1, 0xFFFF << 48, (0xFFFF << 48) | 5, 7 << 58]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_HASHES, max_size=60), st.lists(_HASHES, max_size=60), st.data())
def test_members_equals_contains(members: list[int], others: list[int], data: Any) -> None:
    """The bitmap prefilter only ever answers "maybe": membership is contains()'s."""
    sorted_set = unique_sorted(np.asarray(members, dtype=np.uint64))
    picked = data.draw(st.lists(st.sampled_from(members), max_size=20)) if members else []
    queries = np.asarray(others + picked, dtype=np.uint64)
    np.random.default_rng(len(queries)).shuffle(queries)
    got = Members(sorted_set)(queries)
    assert got.dtype == np.bool_
    assert got.tolist() == contains(sorted_set, queries).tolist()


def test_members_of_a_large_set_equal_contains() -> None:
    rng = np.random.default_rng(11)
    sorted_set = unique_sorted(rng.integers(0, 2**64 - 1, 300_000, dtype=np.uint64))
    queries = np.concatenate(
        [rng.integers(0, 2**64 - 1, 50_000, dtype=np.uint64), sorted_set[::7], sorted_set[:3] + 1]
    )
    got = Members(sorted_set)(queries)
    assert got.tolist() == contains(sorted_set, queries).tolist()
    assert int(got.sum()) >= sorted_set[::7].size


_ZONES = st.sampled_from(
    [
        None,
        dt.UTC,
        dt.timezone(dt.timedelta(hours=5, minutes=30)),
        dt.timezone(dt.timedelta(hours=-3, minutes=-7, seconds=-5, microseconds=-11)),
    ]
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.datetimes(), min_size=64, max_size=120),
    _ZONES,
    st.sampled_from([0, 1, 7]),
    st.booleans(),
)
def test_iso_datetimes_equal_isoformat(
    values: list[dt.datetime], zone: dt.tzinfo | None, whole_every: int, folded: bool
) -> None:
    """The NumPy formatting of a batch of timestamps is ``isoformat(" ")`` of each:
    years 1 to 9999, whole seconds (no fraction), fixed offsets of any precision,
    ``fold`` set, and batches it leaves to ``isoformat`` (mixed or changing zones)."""
    batch = [
        v.replace(
            tzinfo=zone,
            microsecond=0 if whole_every and k % whole_every == 0 else v.microsecond,
            fold=int(folded),
        )
        for k, v in enumerate(values)
    ]
    assert iso_datetimes(batch) == [v.isoformat(" ") for v in batch]
    mixed = [*batch, batch[0].replace(tzinfo=dt.timezone(dt.timedelta(hours=1)))]
    assert iso_datetimes(mixed) == [v.isoformat(" ") for v in mixed]


def test_iso_datetimes_of_a_zone_with_daylight_saving_equal_isoformat() -> None:
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    start = dt.datetime(2024, 3, 30, 12, tzinfo=berlin)
    batch = [start + dt.timedelta(hours=k, microseconds=k % 2) for k in range(100)]
    assert iso_datetimes(batch) == [v.isoformat(" ") for v in batch]
    units, texts = Hasher(b"k" * 32, None).flat_texts([None, *batch])
    assert units.owner.tolist() == list(range(1, len(batch) + 1))
    assert texts == [v.isoformat(" ") for v in batch]


class _Str(str):
    pass


class _Int(int):
    def __repr__(self) -> str:  # what json.dumps does not use: it writes int's text
        return "0"


# scalars that are equal in Python but not as JSON (1, 1.0, True), or not JSON at all
_TWINS = st.sampled_from(
    [
        *(1, 1.0, True, 0, 0.0, -0.0, False, float("nan"), float("inf"), "1", None),
        *(Decimal("1"), Decimal("1.0"), _Str("1"), _Int(1), _Int(2), dt.date(2024, 1, 2)),
        *((1,), frozenset({1}), {1, 2}, b"12", 10**30),
    ]
)
_DOCS = st.recursive(
    _TWINS | _UNICODE,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(_UNICODE | st.sampled_from([1, True, 1.5, None]), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_DOCS, min_size=1, max_size=8), st.data())
def test_canonical_of_repeated_documents_equals_each_alone(
    pool: list[Any], data: st.DataObject
) -> None:
    """A batch repeating a few documents is encoded once per distinct document:
    each document's canonical text is still its own (1, 1.0 and True; a Decimal, a
    str or int subclass; key order and key types), as the encoding of each alone."""
    from stagewall.masking._units import _canonical, _canonical_many

    docs = data.draw(st.lists(st.sampled_from(pool), min_size=64, max_size=200))
    # the same documents again, as other objects (decoded rows share no objects)
    docs = [copy.deepcopy(d) if k % 2 else d for k, d in enumerate(docs)]
    assert _canonical_many(docs) == [_canonical(d) for d in docs]
    if all(type(d) in (dict, list) and _sortable(d) for d in pool):
        h = Hasher(b"\x07" * 32, detect_texts)
        assert _flat_by_value(h, docs) == _by_value(h, docs)


def _sortable(doc: Any) -> bool:
    """Whether verify can read ``doc`` at all (keys of one type: as a decoded
    document has; on main as here, keys an int and a str cannot be sorted)."""
    try:
        json.dumps(doc, sort_keys=True, default=str)
    except TypeError:
        return False
    return True


def test_repeated_documents_take_the_distinct_path() -> None:
    from stagewall.masking._units import _canonical, _canonical_many, _distinct

    docs: list[Any] = [{"n": 1}, {"n": 1.0}, {"n": True}, {"n": "1"}, {"1": 1}, {1: 1}] * 20
    docs = [copy.deepcopy(d) for d in docs]
    keys = _distinct(docs)
    assert keys is not None and len(set(keys)) == 6
    got = _canonical_many(docs)
    assert got == [_canonical(d) for d in docs]
    assert got[:6] == [
        '{"n": 1}',
        '{"n": 1.0}',
        '{"n": true}',
        '{"n": "1"}',
        '{"1": 1}',
        '{"1": 1}',
    ]
    # an int key and a str key sort differently: equal text, different canonical
    assert _canonical_many([{2: 0, 10: 0}, {"2": 0, "10": 0}] * 40)[:2] == [
        '{"2": 0, "10": 0}',
        '{"10": 0, "2": 0}',
    ]
    assert _distinct([{"n": _Str("a")}] * 100) is None  # a subclass: each encoded
    assert _distinct([{"n": k} for k in range(100)]) is None  # mostly distinct
