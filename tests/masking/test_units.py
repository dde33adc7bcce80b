"""The batch unit extraction of verify equals the value-by-value reference."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stagewall.masking._units import LEAF, PII, WHOLE, Hasher, norm_many
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


def _by_value(h: Hasher, values: list[Any]) -> list[tuple[list[int], list[int], list[int]]]:
    """The reference: every value on its own, by the rules in docs/masking.md."""
    import json

    from stagewall.masking._units import (
        MAX_TEXT_SCAN,
        MIN_SCAN,
        _as_document,
        _leaves,
        _norm,
        _text,
    )

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
                n = _norm(leaf)
                if n is not None:
                    leaves.append(h.h(n))
                    if len(leaf) >= MIN_SCAN:
                        scan.append((i, leaf))
            continue
        text = _text(value)
        n = _norm(text) if text is not None else None
        if text is not None and n is not None:
            whole.append(h.h(n))
            if isinstance(value, str) and len(text) >= MIN_SCAN:
                scan.append((i, text[:MAX_TEXT_SCAN]))
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
        out[o][{WHOLE: 0, LEAF: 1, PII: 2}[k]].append(x)
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
