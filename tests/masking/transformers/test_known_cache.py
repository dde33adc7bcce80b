"""``_known._cached`` (behind ``patterns_many`` and ``checked_anchors_many``) finds the
kind of each transformer of a batch once, not once per value, and builds what the
code before did: compared here with that code, kept as the reference."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stagewall.masking._anchors import anchors_of
from stagewall.masking.transformers import _known
from stagewall.masking.transformers._known import (
    _local_parts,
    _patterns_of,
    _spellable,
    norm_many,
    pattern_kind,
    spellings,
    words,
)
from tests.masking.test_anchors import pairs


def _cached_reference(
    cache: dict[tuple[str, str], Any],
    known: Sequence[tuple[str, str]],
    build: Callable[[str | None, list[str]], Any],
) -> list[Any]:
    """``_known._cached`` as it was before this round (the kind found per value)."""
    got = list(map(cache.get, known))
    miss = [i for i, g in enumerate(got) if g is None]
    if miss:
        if len(cache) + len(miss) > _known._CACHE_MAX:
            cache.clear()
        todo = list(dict.fromkeys(known[i] for i in miss))
        kinds = {t: pattern_kind(t) for t, _ in todo}
        normed = norm_many([v for _, v in todo])
        for tv, n in zip(todo, normed, strict=True):
            cache[tv] = tuple(build(kinds[tv[0]], n.split()))
        local = _local_parts([kinds[t] for t, _ in todo], [v for _, v in todo])
        for j, pattern in local.items():
            cache[todo[j]] += ((pattern, False),)
        for j in _spellable(todo):
            tv = todo[j]
            others = [build(kinds[tv[0]], words(o)) for o in spellings(*tv)]
            merged = list(chain(cache[tv], *others))
            marks = [m for m in merged if m[0][:1] == _known.CORE]
            cache[tv] = tuple(dict.fromkeys(chain(marks, merged)))
        for i in miss:
            got[i] = cache[known[i]]
    return got


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(pairs, min_size=1, max_size=8), st.lists(pairs, max_size=8))
def test_the_cache_builds_what_the_reference_builds(
    first: list[tuple[str, str]], then: list[tuple[str, str]]
) -> None:
    for build in (_patterns_of, anchors_of):
        mine: dict[tuple[str, str], Any] = {}
        ref: dict[tuple[str, str], Any] = {}
        for batch in (first, then + first):  # (a cold batch, then one partly cached)
            assert _known._cached(mine, batch, build) == _cached_reference(ref, batch, build)
        assert mine == ref


def test_a_transformer_s_kind_is_found_once_a_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def counted(t: str) -> str | None:
        asked.append(t)
        return pattern_kind(t)

    monkeypatch.setattr(_known, "pattern_kind", counted)
    known = [("first_name", f"Name{i}") for i in range(50)]
    known += [("street_address", f"{i} Oak{i} Street") for i in range(50)]
    got = _known._cached({}, known, _patterns_of)
    assert sorted(asked) == ["first_name", "street_address"]
    assert got == _cached_reference({}, known, _patterns_of)
