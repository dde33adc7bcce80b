"""How verify shares out and merges its parallel work: the results are the same,
only the cost changes (larger parts first, merged sorted runs, frozen shared heap)."""

from __future__ import annotations

import gc

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.masking._parallel import largest_first, pool
from stagewall.masking._units import union_sorted, unique_sorted
from stagewall.masking.schema import Column, Table
from stagewall.masking.types import ColumnKind

_HASHES = st.lists(st.integers(min_value=0, max_value=2**64 - 1), max_size=60)


@settings(max_examples=200, deadline=None)
@given(st.lists(_HASHES, max_size=6), st.booleans())
def test_union_sorted_is_the_distinct_union(parts: list[list[int]], presorted: bool) -> None:
    arrays = [np.asarray(p, dtype=np.uint64) for p in parts]
    if presorted:  # (what verify merges: each part's distinct hashes, sorted)
        arrays = [unique_sorted(a) for a in arrays]
    got = union_sorted(arrays)
    want = np.unique(np.concatenate(arrays)) if arrays else np.zeros(0, np.uint64)
    assert got.dtype == np.uint64
    assert got.tolist() == want.tolist()


def test_unique_sorted_of_runs_equals_the_default_sort() -> None:
    rng = np.random.default_rng(7)
    runs = [np.sort(rng.integers(0, 2**63, 500, dtype=np.uint64)) for _ in range(4)]
    joined = np.concatenate([*runs, runs[0][:50]])  # repeats across runs
    assert unique_sorted(joined, runs=True).tolist() == unique_sorted(joined).tolist()
    assert unique_sorted(joined[::-1], runs=True).tolist() == np.unique(joined).tolist()


def _table(name: str, rows: int | None, columns: int) -> Table:
    cols = tuple(Column(f"c{i}", ColumnKind.TEXT, "text") for i in range(columns))
    return Table("public", name, cols, row_estimate=rows)


def test_largest_first_puts_the_most_work_first_and_keeps_ties_in_order() -> None:
    tables = [
        _table("small", 10, 3),
        _table("wide", 1000, 20),
        _table("unknown", None, 50),
        _table("long", 5000, 2),
        _table("tie", 10, 3),
    ]
    order = largest_first(tables, lambda t: (t.row_estimate or 0) * len(t.columns))
    assert [t.name for t in order] == ["wide", "long", "small", "tie", "unknown"]
    assert tables[0].name == "small"  # (the caller's list is left as it was)


def test_the_pool_freezes_the_shared_heap_for_its_workers_and_thaws_it_after() -> None:
    before = gc.get_freeze_count()
    shared = {"sets": [object() for _ in range(1000)]}
    with pool(2, shared):
        # what the workers inherit is not walked by the collector, here or there
        assert gc.get_freeze_count() >= before + 1000
    assert gc.get_freeze_count() == 0


_KNOWN = [
    ("first_name", "Yesica"),
    ("last_name", "Carrasco Müller"),
    ("full_name", "Jean-Luc O'Brien"),
    ("email", "yesica.carrasco87@example.org"),
    ("phone", "+34 612 345 678"),
    ("street_address", "Calle Mayor 7"),
    ("street_address", "Hauptstraße 5"),
    ("iban", "ES9121000418450200051332"),
    ("postcode", "SW1A 1AA"),
    ("ip_address", "10.1.2.7"),
    ("first_name", "Li"),
]


def test_a_row_of_one_value_has_the_patterns_of_the_general_path() -> None:
    """The rows of one known value (a street, an IP) skip the general path's
    de-duplication; their patterns, compact patterns and name words are the same."""
    from stagewall.masking._rowcheck import _Pats
    from stagewall.masking.transformers._known import checked_patterns_many

    for tv in _KNOWN:
        (pats,) = checked_patterns_many([tv])
        one = _Pats.of_one((tv,), pats)
        # the general path, given the value and one that adds no pattern
        general = _Pats.built((tv, ("first_name", "")), [pats, ()])
        assert (one is None) == (general is None), tv
        if one is not None and general is not None:
            assert one.words == general.words and one.compact == general.compact, tv
            assert one.names == general.names and one.parts == ((tv,),), tv
            assert _Pats.built((tv,), [pats]).words == one.words
