"""``KnownRows.rows`` built a column at a time gives what row-by-row appends gave.

The code before (kept below, verbatim but for taking its state as arguments) built
each row's list of known values with appends; the rows must be equal tuples, in
the same order, for own columns, single- and multi-column keys, keys in COPY text
and as Python values, NULLs and missing parents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.masking._known_rows import KnownRows, canon
from stagewall.masking.transformers._known import _PARTICLES, JOINED, NO_KNOWN, words


def _rows_before(
    own: list[tuple[int, str]],
    fks: list[tuple[int, ...]],
    lookups: list[dict[tuple[str, ...], Any]],
    columns: Mapping[int, Sequence[object]],
    n: int,
) -> list[Any]:
    if not own and not fks:
        return [NO_KNOWN] * n
    out: list[list[tuple[str, str]]] = [[] for _ in range(n)]
    for i, t in own:
        for row, v in zip(out, columns[i], strict=True):
            if type(v) is str and v:
                row.append((t, v))
    # (since then: a given name and a surname of two own columns also joined; where
    # a surname column comes first, given names first too; and a surname of several
    # words, each of them with the given names)
    order = [t for _, t in own]
    surname_first = "last_name" in order and "first_name" in order[order.index("last_name") :]
    for row in out:
        names = [v for t, v in row if t in ("first_name", "last_name")]
        if len(names) > 1:
            row.append((JOINED, " ".join(names)))
            given = [v for t, v in row if t == "first_name"]
            family = [v for t, v in row if t == "last_name"]
            if surname_first and given + family != names:
                row.append((JOINED, " ".join(given + family)))
            parts = [w for v in family for w in words(v) if w not in _PARTICLES and len(w) > 2]
            if given and len(parts) > 1 and any(" " in v or "-" in v for v in family):
                row += [(JOINED, f"{' '.join(given)} {w}") for w in dict.fromkeys(parts)]
    for fk, lookup in zip(fks, lookups or [], strict=False):
        keys = zip(*(columns[i] for i in fk), strict=True)
        for row, key in zip(out, keys, strict=True):
            if any(k is None for k in key):
                continue
            found = lookup.get(tuple(map(canon, key)))
            if found:
                row.extend(found)
    return [tuple(r) for r in out]


def _known_rows(
    own: list[tuple[int, str]], fks: list[tuple[int, ...]], lookups: list[dict[Any, Any]]
) -> KnownRows:
    kr = object.__new__(KnownRows)
    kr.own, kr.fks, kr._lookups, kr._flat = own, fks, lookups, {}
    return kr


_KEY = st.one_of(st.none(), st.integers(0, 6), st.sampled_from(["0", "1", "2", "3", "x", ""]))
_VALUE = st.one_of(
    st.none(), st.sampled_from(["", "Anna", "Müller", "1 High St", "a@b.org", "Ruiz-Ganthriv"])
)


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_rows_equal_the_row_by_row_build(data: st.DataObject) -> None:
    n = data.draw(st.integers(0, 25))
    ncols = 6
    columns: dict[int, list[object]] = {}
    for i in range(ncols):
        strategy = _VALUE if i < 3 else _KEY
        if i >= 3 and data.draw(st.booleans()):  # a key column in COPY text
            strategy = st.one_of(st.none(), st.sampled_from(["0", "1", "2", "3", "7"]))
        columns[i] = data.draw(st.lists(strategy, min_size=n, max_size=n))
    own = data.draw(
        st.lists(
            st.tuples(st.integers(0, 2), st.sampled_from(["first_name", "last_name", "street"]))
        )
    )
    fks = data.draw(st.lists(st.sampled_from([(3,), (4,), (5,), (3, 4)]), max_size=3), label="fks")
    pairs = st.lists(st.tuples(st.sampled_from(["email", "last_name"]), _VALUE.filter(bool)))
    lookups = []
    for fk in fks:
        keys = st.tuples(*[st.sampled_from(["0", "1", "2", "3", "x"])] * len(fk))
        table = data.draw(st.dictionaries(keys, pairs.map(tuple).filter(bool), max_size=5))
        lookups.append(table)
    kr = _known_rows(own, fks, lookups)
    want = _rows_before(own, fks, lookups, columns, n)
    assert kr.rows(columns, n) == want
    assert kr.rows(columns, n) == want  # again, with the text lookups built
