"""Which source values of a row the engine hands to text_scrub (see transformers/_known.py).

For a table with a column whose transformer asks for known values, the row's own
known values are the source values of its masked structured columns (names,
e-mails, phones, streets, postcodes, identifiers: :func:`_known.kind_of`); the
related ones are those of each row it references by a foreign key (an order's
note about its customer). Parent values are read once per table and worker, in
the run's snapshot, before the copy of the child starts.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import compress, repeat
from operator import add
from typing import Any

from stagewall.masking._references import guessed
from stagewall.masking.plan import Plan
from stagewall.masking.schema import ForeignKey, Schema, Table
from stagewall.masking.transformers._birthdates import DATE_TRANSFORMERS, date_column
from stagewall.masking.transformers._known import NO_KNOWN, Known, joined_names, kind_of

# How many references up a row's known values are gathered from: an order line
# (order_lines → orders → customers) holds its customer's values, three hops at most.
ANCESTOR_DEPTH = 3


@dataclass(frozen=True)
class Parent:
    """A referenced table: the child's FK columns, the parent's key and value columns,
    and the tables the parent references in turn (their values are the child's too)."""

    fk_columns: tuple[str, ...]
    table: Table
    key_columns: tuple[str, ...]
    value_columns: tuple[tuple[str, str], ...]  # (column, transformer)
    parents: tuple[Parent, ...] = ()
    # a polymorphic reference (``commentable_type = 'Customer'``): the first FK column
    # holds this, the others the key; the lookup's keys are (tag, key...)
    tag: str | None = None


@dataclass(frozen=True)
class Child:
    """A table whose rows reference this one: its FK columns, this table's columns
    they reference, and the child's value columns. An account's notes name its
    contacts ("Main contact: Ganthriv"), a customer's notes an order's recipient."""

    fk_columns: tuple[str, ...]  # in the child
    table: Table  # the child
    key_columns: tuple[str, ...]  # in this table
    value_columns: tuple[tuple[str, str], ...]  # (column, transformer) of the child
    # a link table's other side (customer_contacts → contacts): the child's rows give
    # the values of the rows they reference there, not values of their own
    via: Parent | None = None


@dataclass(frozen=True)
class KnownSpec:
    own: tuple[tuple[str, str], ...]  # (column, transformer) of the row's known values
    parents: tuple[Parent, ...]
    children: tuple[Child, ...] = ()


def go_on() -> None:
    """The checkpoint of a run nobody stops."""
    return None


def known_columns(plan: Plan, table: Table) -> tuple[tuple[str, str], ...]:
    """``(column, transformer)`` of the columns of ``table`` whose values are known values."""
    tplan = plan.tables.get(table.qualified)
    if tplan is None:
        return ()
    out = []
    for c in table.columns:
        cp = tplan.columns.get(c.name)
        if cp is not None and kind_of(cp.transformer) is not None:
            out.append((c.name, cp.transformer))
    return tuple(out)


def references(schema: Schema, table: Table) -> tuple[ForeignKey, ...]:
    """The references of ``table``'s rows that known values follow: its declared
    foreign keys, and the undeclared ones the rule of ``_references`` takes (by the
    column's name — ``customer_id`` where a ``customers`` table exists — or, for a
    name that does not say which table, by the source's values: ``owner_id`` whose
    every value is a key of the one people table; lint's ``undeclared-reference``:
    many applications declare no foreign key). A ticket's text is then scrubbed of,
    and searched by verify for, its customer's values as with a declared key. The
    planner, the copy and verify ask here alike. A wrong guess hands a row another
    row's values: more is replaced and searched, nothing less."""
    return table.foreign_keys + guessed(schema).get(table.qualified, ())


def known_spec(plan: Plan, schema: Schema, table: Table) -> KnownSpec:
    """The known-value sources of ``table``'s rows (empty when nothing asks for them)."""
    return KnownSpec(
        known_columns(plan, table),
        parents_of(plan, schema, table),
        children_of(plan, schema, table),
    )


# A row's children give at most this many distinct values (the first in sorted
# order): a user referenced by a million audit rows is not handed a million IPs.
MAX_CHILD_VALUES = 1000


# The kinds of a child row's values a row's free text names it by: an account's
# notes name a contact, not the IP address of one of its logins
CHILD_KINDS = frozenset({"name", "email", "phone", "street", "postcode"})


def children_of(plan: Plan, schema: Schema, table: Table) -> tuple[Child, ...]:
    """The tables whose rows reference ``table`` by a foreign key and have known
    values of their own of :data:`CHILD_KINDS` (one reference down; a table
    referencing itself aside); and the link tables that reference it (no known
    value of their own, two references: ``customer_contacts``), whose rows give
    the known values of the rows they link it to (:attr:`Child.via`: a customer's
    contacts, a contact's customers). Not a polymorphic reference (followed up only)."""
    out = []
    undeclared = guessed(schema)  # (references(schema, child), without a call per table)
    for child in schema.tables:
        q = child.qualified
        if q == table.qualified:
            continue
        refs = (*child.foreign_keys, *undeclared.get(q, ()))
        for fk in refs:
            if _ref(fk) != table.qualified or fk.tag is not None:
                continue  # (a polymorphic reference is followed up only)
            own = known_columns(plan, child)
            values = tuple((c, t) for c, t in own if kind_of(t) in CHILD_KINDS)
            if values:
                out.append(Child(fk.columns, child, fk.ref_columns, values))
            elif not own and len(refs) == 2:  # a link table: its other side's values
                other = next(r for r in refs if r is not fk)
                far = schema.table(_ref(other))
                far_values = known_columns(plan, far) if far is not None else ()
                if far and far_values and other.tag is None and other.columns != fk.columns:
                    via = Parent(other.columns, far, other.ref_columns, far_values)
                    out.append(Child(fk.columns, child, fk.ref_columns, (), via))
    return tuple(out)


def _ref(fk: ForeignKey) -> str:
    return f"{fk.ref_schema}.{fk.ref_table}" if fk.ref_schema else fk.ref_table


def child_values(
    src: Any, ch: Child, batch_rows: int, checkpoint: Callable[[], None] = go_on
) -> dict[tuple[str, ...], Known]:
    """Key of the referenced rows (:func:`canon`) → the known values of the rows of
    ``ch`` that reference it, distinct, sorted, at most :data:`MAX_CHILD_VALUES`
    (``checkpoint``: called for every batch read; raises to stop the run).

    Read a column at a time (:func:`_pairs_columns`, :func:`_key_column`): the same
    dictionary as the row-by-row loop it replaced
    (tests/masking/test_known_rows_lookups.py)."""
    if ch.via is not None:
        return _linked_values(src, ch, ch.via, batch_rows, checkpoint)
    cols = [*ch.fk_columns, *(c for c, _ in ch.value_columns)]
    nk = len(ch.fk_columns)
    trs = [t for _, t in ch.value_columns]
    found: dict[tuple[str, ...], set[tuple[str, str]]] = {}
    for m, columns in src.iter_columns(ch.table, cols, None, batch_rows):
        checkpoint()
        vals = _pairs_columns(trs, columns[nk:], m)
        keys = _keys_or_none(columns[:nk], m)
        for k, v in compress(zip(keys, vals, strict=True), vals):
            if k is not None:
                got = found.get(k)
                if got is None:
                    found[k] = set(v)
                else:
                    got.update(v)
    return {k: tuple(sorted(v)[:MAX_CHILD_VALUES]) for k, v in found.items()}


def _linked_values(
    src: Any, ch: Child, via: Parent, batch_rows: int, checkpoint: Callable[[], None]
) -> dict[tuple[str, ...], Known]:
    """:func:`child_values` of a link table: key of the referenced rows → the known
    values of the rows its rows link them to (a customer's contacts), distinct, sorted,
    at most :data:`MAX_CHILD_VALUES`."""
    far = _parent_lookup(src, via, batch_rows, checkpoint)
    nk = len(ch.fk_columns)
    found: dict[tuple[str, ...], set[tuple[str, str]]] = {}
    if far:
        cols = [*ch.fk_columns, *via.fk_columns]
        for m, columns in src.iter_columns(ch.table, cols, None, batch_rows):
            checkpoint()
            keys = _keys_or_none(columns[:nk], m)
            ends = _keys_or_none(columns[nk:], m)
            for k, e in zip(keys, ends, strict=True):
                got = far.get(e) if k is not None and e is not None else None
                if got:
                    found.setdefault(k, set()).update(got)  # type: ignore[arg-type]
    return {k: tuple(sorted(v)[:MAX_CHILD_VALUES]) for k, v in found.items()}


def parents_of(
    plan: Plan,
    schema: Schema,
    table: Table,
    depth: int = ANCESTOR_DEPTH,
    seen: frozenset[str] = frozenset(),
) -> tuple[Parent, ...]:
    """The referenced tables whose values (their own, or of the tables they reference,
    ``depth`` references up) are a row's known values; no table twice on one path."""
    out = []
    for fk in references(schema, table):
        ref = f"{fk.ref_schema}.{fk.ref_table}" if fk.ref_schema else fk.ref_table
        parent = schema.table(ref)
        if parent is None or ref in seen:
            continue
        values = known_columns(plan, parent)
        up: tuple[Parent, ...] = ()
        if depth > 1 and ref != table.qualified:
            up = parents_of(plan, schema, parent, depth - 1, seen | {table.qualified, ref})
        if values or up:
            out.append(Parent(fk.columns, parent, fk.ref_columns, values, up, fk.tag))
    return tuple(out)


def _parent_lookup(
    src: Any, p: Parent, batch_rows: int, checkpoint: Callable[[], None] = go_on
) -> dict[tuple[str, ...], Known]:
    """Key of ``p``'s rows → their known values, with those of the rows they reference
    (``checkpoint``: called for every batch read; raises to stop the run).

    Read a column at a time: each value column gives every row a tuple (empty, or its
    pair), the rows' tuples are added up and the referenced rows' values looked up in
    C-level passes (a row whose values are only its parents' shares their tuple, as
    before). The same dictionary, in the same order, as the row-by-row loop it
    replaced (tests/masking/test_known_rows_lookups.py)."""
    ups = [(_parent_lookup(src, q, batch_rows, checkpoint), q.fk_columns) for q in p.parents]
    extra = list(dict.fromkeys(c for _, fk in ups for c in fk if c not in p.key_columns))
    cols = [*p.key_columns, *(c for c, _ in p.value_columns), *extra]
    at = {c: i for i, c in enumerate(cols)}
    nk, nv = len(p.key_columns), len(p.value_columns)
    trs = [t for _, t in p.value_columns]
    up_at = [(lookup, [at[c] for c in fk]) for lookup, fk in ups]
    table: dict[tuple[str, ...], Known] = {}
    for m, columns in src.iter_columns(p.table, cols, None, batch_rows):
        checkpoint()
        vals = joined_names(trs, _pairs_columns(trs, columns[nk : nk + nv], m))
        for lookup, idx in up_at:
            keys = _keys_or_none([columns[i] for i in idx], m)
            found = [lookup.get(k) or () if k is not None else () for k in keys]
            # () + found is found and vals + () is vals (the same tuples)
            vals = list(map(add, vals, found))
        own_keys = list(zip(*map(_canon_column, columns[:nk]), strict=True)) if nk else [()] * m
        if p.tag is not None:
            own_keys = [(p.tag, *k) for k in own_keys]
        table.update(compress(zip(own_keys, vals, strict=True), vals))
    return table


def _read_key(p: Parent) -> tuple[object, ...]:
    """What :func:`_parent_lookup` of ``p`` reads and builds (not the child's FK
    columns, which only the child uses): equal keys, equal lookups."""
    ups = tuple((q.fk_columns, _read_key(q)) for q in p.parents)
    return (p.table.qualified, p.key_columns, p.value_columns, ups, p.tag)


def _canon_column(col: Sequence[object]) -> list[str]:
    """``[canon(v) for v in col]``; a column of ``int`` and ``str`` in one ``map``."""
    if set(map(type, col)) <= _INT_OR_TEXT:
        return list(map(str, col))
    return list(map(canon, col))


_INT_OR_TEXT = frozenset({int, str})


def _keys_or_none(cols: Sequence[Sequence[object]], m: int) -> list[tuple[str, ...] | None]:
    """Each row's key (:func:`canon` of its values), None where one of them is NULL."""
    if not cols:
        return [()] * m
    keys: list[tuple[str, ...] | None] = list(zip(*map(_canon_column, cols), strict=True))
    if any(None in c for c in cols):
        nulls = [any(k is None for k in r) for r in zip(*cols, strict=True)]
        keys = [None if n else k for k, n in zip(keys, nulls, strict=True)]
    return keys


def _pairs_columns(trs: Sequence[str], cols: Sequence[Sequence[object]], m: int) -> list[Known]:
    """Each row's ``(transformer, value)`` pairs of its non-empty text values, in
    column order (what ``tuple((t, v) for t, v in zip(trs, row) if type(v) is str and
    v)`` gives each row), a column at a time."""
    out: list[Known] = [()] * m
    for t, col in zip(trs, cols, strict=True):
        if t in DATE_TRANSFORMERS:  # a date of birth: its ISO text (_birthdates)
            col = date_column(col)
        if set(map(type, col)) == {str} and "" not in col:
            one: list[Known] = list(zip(zip(repeat(t), col)))  # type: ignore[arg-type]
        else:
            one = [((t, v),) if type(v) is str and v else () for v in col]
        out = list(map(add, out, one))
    return out


def canon(value: object) -> str:
    """A key value as text, equal for a Python value and its COPY text form."""
    if type(value) is int or type(value) is str:  # the usual keys: no checks below
        return str(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, uuid.UUID)):
        return str(value)
    return str(value)


class KnownRows:
    """Builds one :data:`Known` per row of a batch for one table and one worker."""

    def __init__(self, spec: KnownSpec, names: Sequence[str]) -> None:
        self.spec = spec
        self.own = [(names.index(c), t) for c, t in spec.own if c in names]
        self.fks = [tuple(names.index(c) for c in p.fk_columns) for p in spec.parents]
        # the columns the children reference, then the parents' FK columns
        self.fks += [tuple(names.index(c) for c in ch.key_columns) for ch in spec.children]
        self._lookups: list[dict[tuple[str, ...], Known]] | None = None
        self._flat: dict[int, dict[object, Known]] = {}  # see _by_text
        self._lock = threading.Lock()
        # lookups shared by the tables of one run (see prepare); never across runs
        self.shared: dict[tuple[object, ...], Any] | None = None

    @property
    def columns(self) -> set[int]:
        """Indices of the columns a batch must provide."""
        return {i for i, _ in self.own} | {i for fk in self.fks for i in fk}

    def prepare(
        self, src: Any, batch_rows: int, checkpoint: Callable[[], None] | None = None
    ) -> None:
        """Read the parents' key and value columns (once; the connection must be idle).
        ``checkpoint``: called for every batch read; raises to stop the run.

        With :attr:`shared` set (the engine gives every table of a run the same
        dictionary, all read in one snapshot), a lookup another table already read
        (by what it reads, :func:`_read_key`) is taken from it, and one read here is
        added: orders and events that both reference customers read them once."""
        check = checkpoint or go_on
        with self._lock:
            if self._lookups is not None:
                return
            memo: dict[tuple[object, ...], Any] = {} if self.shared is None else self.shared
            lookups = []
            for p in self.spec.parents:
                k = ("parent", *_read_key(p))
                if k not in memo:
                    memo[k] = _parent_lookup(src, p, batch_rows, check)
                lookups.append(memo[k])
            for ch in self.spec.children:
                k = ("child", ch.table.qualified, ch.fk_columns, ch.value_columns)
                if ch.via is not None:
                    k += ("via", ch.via.fk_columns, *_read_key(ch.via))
                if k not in memo:
                    memo[k] = child_values(src, ch, batch_rows, check)
                lookups.append(memo[k])
            self._lookups = lookups

    def rows(self, columns: Mapping[int, Sequence[object]], n: int) -> list[Known]:
        """The known values of ``n`` rows; ``columns`` maps a column index to its values
        (Python values for own columns; values or COPY text for FK columns, ``None``
        for NULL).

        Built a column at a time: each own column and each foreign key gives every
        row a tuple (empty, or its pairs), and the rows' tuples are added up in
        C-level passes, in the order own columns, then foreign keys (the order row
        by row appends gave). A single-column key whose values are all text (COPY
        text, or ``None``) is looked up with one ``map`` (``canon`` of a ``str`` is
        the string itself)."""
        if not self.own and not self.fks:
            return [NO_KNOWN] * n
        parts: list[list[Known]] = []
        for i, t in self.own:
            col = date_column(columns[i]) if t in DATE_TRANSFORMERS else columns[i]
            parts.append([((t, v),) if type(v) is str and v else () for v in col])
        if len(parts) > 1:  # a given name and a surname of two columns, also joined
            own = parts[0]
            for more in parts[1:]:
                own = list(map(add, own, more))
            parts = [joined_names([t for _, t in self.own], own)]
        for j, (fk, lookup) in enumerate(zip(self.fks, self._lookups or [], strict=False)):
            if len(fk) == 1 and set(map(type, columns[fk[0]])) <= _TEXT_OR_NONE:
                got = list(map(self._by_text(j, lookup).get, columns[fk[0]]))
                parts.append([g or () for g in got])
                continue
            found: list[Known] = []
            for key in zip(*(columns[i] for i in fk), strict=True):
                if any(k is None for k in key):
                    found.append(())
                    continue
                found.append(lookup.get(tuple(map(canon, key))) or ())
            parts.append(found)
        out = parts[0]
        for more in parts[1:]:
            out = list(map(add, out, more))
        return out

    def _by_text(self, j: int, lookup: dict[tuple[str, ...], Known]) -> dict[object, Known]:
        """``lookup`` of a single-column key by the key's text itself (built once)."""
        got = self._flat.get(j)
        if got is None:
            got = self._flat[j] = {k[0]: v for k, v in lookup.items()}
        return got


_TEXT_OR_NONE = frozenset({str, type(None)})


__all__ = [
    "ANCESTOR_DEPTH",
    "CHILD_KINDS",
    "MAX_CHILD_VALUES",
    "Child",
    "KnownRows",
    "KnownSpec",
    "Parent",
    "canon",
    "child_values",
    "children_of",
    "known_columns",
    "known_spec",
    "parents_of",
    "references",
]
