"""The related rows text_scrub reads, read a column at a time, are what the row-by-row
loops gave.

``child_values`` and ``_parent_lookup`` run in the coordinator before the workers
fork (serial: at 1 M rows of the benchmark about 3.8 CPU seconds with one core idle).
They now read the source with ``iter_columns`` and build each row's pairs, its key
and its parents' values in C-level passes. The code before is kept below verbatim
(but for its name) and both are run on the same generated rows: keys as ints, text,
``Decimal``, ``bool`` and NULL, composite keys, values NULL, empty, text, bytes and
numbers, parents two levels up, missing parents, repeated keys. The dictionaries
must be equal, in the same order, with equal tuples.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.masking import _known_rows
from stagewall.masking._known_rows import (
    MAX_CHILD_VALUES,
    Child,
    Known,
    Parent,
    _parent_lookup,
    canon,
    child_values,
)
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan
from stagewall.masking.transformers._known import JOINED
from tests.masking.integration.helpers import KEY


def child_values_before(src: Any, ch: Child, batch_rows: int) -> dict[tuple[str, ...], Known]:
    cols = [*ch.fk_columns, *(c for c, _ in ch.value_columns)]
    nk = len(ch.fk_columns)
    trs = [t for _, t in ch.value_columns]
    found: dict[tuple[str, ...], set[tuple[str, str]]] = {}
    for batch in src.iter_rows(ch.table, cols, None, batch_rows):
        for r in batch:
            if any(k is None for k in r[:nk]):
                continue
            vals = [(t, v) for t, v in zip(trs, r[nk:], strict=True) if type(v) is str and v]
            if vals:
                found.setdefault(tuple(map(canon, r[:nk])), set()).update(vals)
    return {k: tuple(sorted(v)[:MAX_CHILD_VALUES]) for k, v in found.items()}


def parent_lookup_before(src: Any, p: Parent, batch_rows: int) -> dict[tuple[str, ...], Known]:
    ups = [(parent_lookup_before(src, q, batch_rows), q.fk_columns) for q in p.parents]
    extra = list(dict.fromkeys(c for _, fk in ups for c in fk if c not in p.key_columns))
    cols = [*p.key_columns, *(c for c, _ in p.value_columns), *extra]
    at = {c: i for i, c in enumerate(cols)}
    nk, nv = len(p.key_columns), len(p.value_columns)
    trs = [t for _, t in p.value_columns]
    up_at = [(lookup, [at[c] for c in fk]) for lookup, fk in ups]
    table: dict[tuple[str, ...], Known] = {}
    for batch in src.iter_rows(p.table, cols, None, batch_rows):
        for r in batch:
            vals = tuple(
                (t, v) for t, v in zip(trs, r[nk : nk + nv], strict=True) if type(v) is str and v
            )
            # (since then: a given name and a surname of two columns also joined)
            names = [v for t, v in vals if t in ("first_name", "last_name")]
            if len(names) > 1:
                vals += ((JOINED, " ".join(names)),)
            for lookup, idx in up_at:
                key = tuple(r[i] for i in idx)
                if all(k is not None for k in key):
                    found = lookup.get(tuple(map(canon, key)))
                    if found:  # shared, not copied, when the row has no values of its own
                        vals = vals + found if vals else found
            if vals:
                table[tuple(map(canon, r[:nk]))] = vals
    return table


class FakeSource:
    """Tables as lists of dicts; ``iter_rows`` and ``iter_columns`` as the database
    classes give them (``iter_columns`` is the base class's: the rows' columns)."""

    def __init__(self, tables: dict[str, list[dict[str, object]]]) -> None:
        self.tables = tables

    def iter_rows(
        self, table: Any, columns: Sequence[str], where: str | None, batch_rows: int
    ) -> Iterator[list[tuple[object, ...]]]:
        rows = [tuple(r[c] for c in columns) for r in self.tables[table]]
        for i in range(0, len(rows), batch_rows):
            yield rows[i : i + batch_rows]

    def iter_columns(
        self, table: Any, columns: Sequence[str], where: str | None, batch_rows: int
    ) -> Iterator[tuple[int, list[list[Any]]]]:
        for batch in self.iter_rows(table, columns, where, batch_rows):
            cols = [list(c) for c in zip(*batch, strict=True)] if batch else []
            yield len(batch), cols or [[] for _ in columns]


_KEY = st.one_of(
    st.none(),
    st.integers(0, 4),
    st.sampled_from(["0", "1", "2", "x", "", "None"]),
    st.sampled_from([Decimal("1"), Decimal("2.50"), True, False, 1.0]),
)
_VALUE = st.one_of(
    st.none(),
    st.sampled_from(["", "Anna", "Müller", "1 High St", "a@b.org", "Anna"]),
    st.just(b"bytes"),
    st.integers(0, 3),
)
_TRS = ["first_name", "last_name", "email", "street_address"]


def _table(data: st.DataObject, columns: list[str], label: str) -> list[dict[str, object]]:
    n = data.draw(st.integers(0, 14), label=f"{label} rows")
    text_only = data.draw(st.booleans(), label=f"{label} text only")
    value = st.sampled_from(["Anna", "Bo", "x@y.org"]) if text_only else _VALUE
    return [
        {c: data.draw(_KEY if c.startswith("k") else value, label=f"{label}.{c}") for c in columns}
        for _ in range(n)
    ]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_parent_lookup_equals_the_row_by_row_loop(data: st.DataObject) -> None:
    # grandparent g(k1; v1), parent p(k1, k2 -> g.k1; v1, v2), one or two values
    nv = data.draw(st.integers(0, 2))
    two_keys = data.draw(st.booleans())
    g = Parent(("k2",), "g", ("k1",), (("v1", "last_name"),))
    pkeys = ("k1", "k3") if two_keys else ("k1",)
    values = tuple((f"v{i + 1}", _TRS[i]) for i in range(nv))
    ups = (g,) if data.draw(st.booleans()) else ()
    p = Parent(("k9",), "p", pkeys, values, ups)
    tables = {
        "g": _table(data, ["k1", "v1"], "g"),
        "p": _table(data, ["k1", "k2", "k3", "v1", "v2"], "p"),
    }
    src = FakeSource(tables)
    batch = data.draw(st.integers(1, 5))
    want = parent_lookup_before(src, p, batch)
    got = _parent_lookup(src, p, batch)
    assert list(got.items()) == list(want.items())


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_child_values_equal_the_row_by_row_loop(data: st.DataObject) -> None:
    two_keys = data.draw(st.booleans())
    fk = ("k1", "k2") if two_keys else ("k1",)
    nv = data.draw(st.integers(1, 3))
    ch = Child(fk, "c", ("id",) * len(fk), tuple((f"v{i + 1}", _TRS[i]) for i in range(nv)))
    src = FakeSource({"c": _table(data, ["k1", "k2", "v1", "v2", "v3"], "c")})
    batch = data.draw(st.integers(1, 5))
    want = child_values_before(src, ch, batch)
    got = child_values(src, ch, batch)
    assert list(got.items()) == list(want.items())


def test_a_row_with_only_its_parents_values_gets_theirs() -> None:
    g = Parent(("k2",), "g", ("k1",), (("v1", "last_name"),))
    p = Parent(("k9",), "p", ("k1",), (("v1", "first_name"),), (g,))
    src = FakeSource(
        {
            "g": [{"k1": 1, "v1": "Ganthriv"}],
            "p": [{"k1": 5, "k2": 1, "v1": None}, {"k1": 6, "k2": 1, "v1": "Anna"}],
        }
    )
    got = _parent_lookup(src, p, 10)
    assert got == {
        ("5",): (("last_name", "Ganthriv"),),
        ("6",): (("first_name", "Anna"), ("last_name", "Ganthriv")),
    }


def test_a_run_reads_a_table_two_tables_reference_once(tmp_path: Path, monkeypatch: Any) -> None:
    """Orders and events both reference customers and both have scrubbed notes: the
    run reads the customers' values once (before, once per referencing table), and
    both tables' notes still lose the customer's name."""
    src_path = tmp_path / "src.db"
    with sqlite3.connect(src_path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, last_name TEXT)")
        for t in ("orders", "events"):
            conn.execute(
                f"CREATE TABLE {t} (id INTEGER PRIMARY KEY, "
                "customer_id INTEGER REFERENCES customers(id), note TEXT)"
            )
        conn.executemany(
            "INSERT INTO customers VALUES (?, ?)", [(1, "Ganthrivsen"), (2, "Olbrechtova")]
        )
        for t in ("orders", "events"):
            conn.executemany(
                f"INSERT INTO {t} VALUES (?, ?, ?)",
                [(1, 1, "call Ganthrivsen"), (2, 2, "Olbrechtova wrote"), (3, None, "x")],
            )
    conn.close()

    def col(t: str) -> ColumnPlan:
        return ColumnPlan(transformer=t, params={}, reason="test")

    scrubbed = {"id": col("keep"), "customer_id": col("keep"), "note": col("text_scrub")}
    plan = Plan(
        tables={
            "customers": TablePlan(columns={"id": col("keep"), "last_name": col("last_name")}),
            "orders": TablePlan(columns=scrubbed),
            "events": TablePlan(columns=scrubbed),
        }
    )
    reads: list[str] = []
    real = _known_rows._parent_lookup

    def counted(src: Any, p: Parent, batch_rows: int, *rest: Any) -> Any:
        reads.append(p.table.qualified)
        return real(src, p, batch_rows, *rest)

    monkeypatch.setattr(_known_rows, "_parent_lookup", counted)
    target = tmp_path / "tgt.db"
    run(plan, f"sqlite:///{src_path}", f"sqlite:///{target}", KEY, RunOptions(jobs=1))
    assert reads == ["customers"]
    with sqlite3.connect(target) as conn:
        for t in ("orders", "events"):
            notes = [r[0] for r in conn.execute(f"SELECT note FROM {t} ORDER BY id")]
            assert len(notes) == 3 and notes[2] == "x"
            assert not any("Ganthrivsen" in n or "Olbrechtova" in n for n in notes), notes
    conn.close()
