"""The whole-target scan's array shortcuts (``_hashscan.not_in``, ``_hashscan.covers``)
answer exactly what the plain set operations they replaced answer."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.masking._hashscan import covers, not_in
from stagewall.masking._units import Members, contains, unique_sorted

_SMALL = st.lists(st.integers(0, 40), max_size=40)


def _u64(values: list[int]) -> np.ndarray[Any, np.dtype[np.uint64]]:
    return np.asarray(values, dtype=np.uint64)


@settings(max_examples=300, deadline=None)
@given(_SMALL, _SMALL, st.data())
def test_not_in_equals_the_whole_batch_lookup(
    hashes: list[int], excused: list[int], data: Any
) -> None:
    h = _u64(hashes)
    hit = np.asarray(data.draw(st.lists(st.booleans(), min_size=len(h), max_size=len(h))), bool)
    ex = unique_sorted(_u64(excused))
    before = hit.copy()
    assert not_in(hit, h, ex).tolist() == (hit & ~contains(ex, h)).tolist()
    assert hit.tolist() == before.tolist()  # the caller's array is left as it was


@settings(max_examples=300, deadline=None)
@given(_SMALL, _SMALL)
def test_covers_equals_every_sensitive_hash_among_the_gates(
    gated: list[int], sens: list[int]
) -> None:
    g = _u64(gated)
    s = unique_sorted(_u64(sens))
    old = bool(contains(unique_sorted(g), s).all())
    assert covers(g, Members(s)(g), s) is old
