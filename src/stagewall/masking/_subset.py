"""FK-closed subsets: ``--subset "customers:5%"`` or ``--subset "public.orders:WHERE ..."``.

How the closure is computed (documented in docs/masking-datapath.md): key sets are
kept in memory, on the coordinator, inside the run's read-only source snapshot.
Named tables select rows by WHERE (user SQL, run read-only) or by a deterministic
keyed sample of their identity (primary key, else a unique key). Then, until a
fixpoint, every included row's foreign-key values are looked up in the parent
(chunked ``IN`` queries) and the parent rows found are included, with their own
foreign keys followed in turn. Cycles and self-references end because a row is
included at most once. Nothing is written on the source. Memory grows with the
size of the subset, never with the size of the tables that are not subset.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from stagewall.errors import ConfigError
from stagewall.masking.db import Database, copy_columns
from stagewall.masking.schema import Schema, Table

Mode = Literal["all", "none", "keys", "filter"]
_CHUNK = 500
_FORBIDDEN = (";", "--", "/*", "*/", "\\")


@dataclass(frozen=True)
class SubsetSpec:
    """One ``--subset`` argument: a table and either a percentage or a WHERE condition."""

    table: str
    percent: float | None = None
    where: str | None = None

    def __str__(self) -> str:
        rule = f"{self.percent:g}%" if self.percent is not None else f"WHERE {self.where}"
        return f"{self.table}:{rule}"


def parse_subset(spec: str) -> SubsetSpec:
    """Parse ``TABLE:N%`` or ``TABLE:WHERE condition``; ConfigError says what is wrong."""
    table, sep, rule = spec.partition(":")
    table, rule = table.strip(), rule.strip()
    if not sep or not table or not rule:
        raise ConfigError(
            f"--subset {spec!r}: expected TABLE:PERCENT% or TABLE:WHERE condition",
            hint='e.g. --subset "customers:5%" or '
            "--subset \"public.customers:WHERE country = 'DE'\"",
        )
    if rule.endswith("%"):
        try:
            pct = float(rule[:-1])
        except ValueError:
            raise ConfigError(f"--subset {spec!r}: {rule!r} is not a percentage") from None
        if not 0 < pct <= 100:
            raise ConfigError(f"--subset {spec!r}: the percentage must be above 0 and at most 100")
        return SubsetSpec(table=table, percent=pct)
    m = re.match(r"(?is)^where\s+(.+)$", rule)
    if not m:
        raise ConfigError(
            f"--subset {spec!r}: the rule must be a percentage (5%) or start with WHERE"
        )
    cond = m.group(1).strip()
    bad = [tok for tok in _FORBIDDEN if tok in cond]
    if bad:
        raise ConfigError(
            f"--subset {spec!r}: the WHERE condition may not contain {bad[0]!r} "
            "(statement separators, comments and backslashes are refused)",
            hint="give a single boolean condition; it runs read-only with the source's privileges",
        )
    if cond.count("'") % 2 or cond.count('"') % 2 or cond.count("(") != cond.count(")"):
        raise ConfigError(f"--subset {spec!r}: unbalanced quotes or parentheses in the condition")
    return SubsetSpec(table=table, where=cond)


@dataclass
class Selection:
    """Which rows of one table a run copies."""

    mode: Mode
    key_columns: tuple[str, ...] = ()
    keys: set[tuple[Any, ...]] = field(default_factory=set)
    where: str | None = None  # "filter" on a table without identity: SQL condition
    percent: float | None = None  # "filter" on a table without identity: row-hash sample

    def count(self) -> int | None:
        return len(self.keys) if self.mode == "keys" else None


def resolve_table(schema: Schema, name: str) -> Table:
    found = schema.table(name)
    if found is not None:
        return found
    matches = [t for t in schema.tables if t.name == name]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise ConfigError(f"--subset names table {name!r}, which is not in the source")
    raise ConfigError(
        f"--subset table {name!r} is ambiguous: " + ", ".join(sorted(t.qualified for t in matches)),
        hint="qualify it with its schema, e.g. public." + name,
    )


def identity(table: Table) -> tuple[str, ...]:
    """Columns that identify a row: the primary key, else a NOT NULL unique key."""
    if table.primary_key:
        return table.primary_key
    for cols in (*table.unique_constraints, *(i.columns for i in table.indexes if i.unique)):
        if cols and all((c := table.column(n)) is not None and not c.nullable for n in cols):
            return cols
    return ()


def sampled(values: tuple[Any, ...], percent: float) -> bool:
    """Deterministic sample: the same rows are picked in every run."""
    digest = hashlib.blake2b(repr(values).encode(), key=b"stagewall/subset", digest_size=8)
    return int.from_bytes(digest.digest(), "big") < percent / 100 * 2**64


def _parent(schema: Schema, ref_schema: str | None, ref_table: str) -> Table | None:
    return schema.table(f"{ref_schema}.{ref_table}" if ref_schema else ref_table)


class _Closure:
    def __init__(self, db: Database, schema: Schema) -> None:
        self.db = db
        self.schema = schema
        self.sel: dict[str, Selection] = {}
        self.pending: dict[tuple[str, tuple[str, ...]], set[tuple[Any, ...]]] = {}
        self.seen: dict[tuple[str, tuple[str, ...]], set[tuple[Any, ...]]] = {}

    def _needed_columns(self, t: Table) -> list[str]:
        cols = list(self.sel[t.qualified].key_columns)
        for fk in t.foreign_keys:
            cols += [c for c in fk.columns if c not in cols]
        return cols

    def note_rows(self, t: Table, cols: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> None:
        """Record the foreign-key values of included rows as needed parent values."""
        pos = {c: i for i, c in enumerate(cols)}
        for fk in t.foreign_keys:
            parent = _parent(self.schema, fk.ref_schema, fk.ref_table)
            if parent is None or self.sel[parent.qualified].mode == "all":
                continue
            slot = (parent.qualified, fk.ref_columns)
            seen = self.seen.setdefault(slot, set())
            todo = self.pending.setdefault(slot, set())
            idx = [pos[c] for c in fk.columns]
            for r in rows if isinstance(rows, list) else list(rows):
                v = tuple(r[i] for i in idx)
                if None not in v and v not in seen:
                    seen.add(v)
                    todo.add(v)

    def scan(self, t: Table, where: str | None) -> list[tuple[Any, ...]]:
        cols = self._needed_columns(t)
        sql = f"SELECT {self.db.qcols(cols)} FROM {self.db.qt(t)}"  # noqa: S608 - identifiers quoted by q()
        if where:
            sql += f" WHERE ({where})"
        return self.db.select(sql)

    def fetch_parents(
        self, parent: Table, ref_cols: tuple[str, ...], values: list[tuple[Any, ...]]
    ) -> None:
        sel = self.sel[parent.qualified]
        cols = self._needed_columns(parent)
        extra = [c for c in ref_cols if c not in cols]
        allcols = cols + extra
        ph = self.db.placeholder
        for i in range(0, len(values), _CHUNK):
            chunk = values[i : i + _CHUNK]
            if len(ref_cols) == 1:
                cond = f"{self.db.q(ref_cols[0])} IN ({', '.join([ph] * len(chunk))})"
                params: list[Any] = [v[0] for v in chunk]
            else:
                tup = "(" + ", ".join([ph] * len(ref_cols)) + ")"
                cond = f"({self.db.qcols(ref_cols)}) IN ({', '.join([tup] * len(chunk))})"
                params = [x for v in chunk for x in v]
            query = f"SELECT {self.db.qcols(allcols)} FROM {self.db.qt(parent)} WHERE {cond}"  # noqa: S608
            rows = self.db.select(query, params)
            k = len(sel.key_columns)
            new = [r for r in rows if tuple(r[:k]) not in sel.keys]
            for r in new:
                sel.keys.add(tuple(r[:k]))
            self.note_rows(parent, allcols, new)


def compute_selection(
    db: Database, schema: Schema, specs: Sequence[SubsetSpec], default: Literal["all", "none"]
) -> dict[str, Selection]:
    """The rows to copy per table (qualified name), closed under foreign keys."""
    named: dict[str, SubsetSpec] = {}
    for given in specs:
        found = resolve_table(schema, given.table)
        if found.qualified in named:
            raise ConfigError(f"--subset names table {found.qualified} twice")
        named[found.qualified] = given
    cl = _Closure(db, schema)
    referenced = {
        p.qualified
        for t in schema.tables
        for fk in t.foreign_keys
        if (p := _parent(schema, fk.ref_schema, fk.ref_table)) is not None
    }
    for t in schema.tables:
        ident = identity(t)
        spec = named.get(t.qualified)
        if spec is None and default == "all":
            cl.sel[t.qualified] = Selection("all")
        elif not ident:
            if t.qualified in referenced:
                cl.sel[t.qualified] = Selection("all")  # cannot pick parents without identity
            elif spec is None:
                cl.sel[t.qualified] = Selection("none")
            else:
                cl.sel[t.qualified] = Selection("filter", where=spec.where, percent=spec.percent)
        else:
            cl.sel[t.qualified] = Selection("keys", key_columns=ident)
    for t in schema.tables:
        sel = cl.sel[t.qualified]
        spec = named.get(t.qualified)
        if sel.mode == "all":
            fk_cols = sorted({c for fk in t.foreign_keys for c in fk.columns})
            if fk_cols:
                for batch in db.iter_rows(t, fk_cols, None, 50_000):
                    cl.note_rows(t, fk_cols, batch)
        elif sel.mode == "filter" or (sel.mode == "keys" and spec is not None):
            cols = (
                cl._needed_columns(t) if sel.mode == "keys" else [c.name for c in copy_columns(t)]
            )
            where = spec.where if spec else None
            k = len(sel.key_columns) if sel.mode == "keys" else len(cols)
            for batch in db.iter_rows(t, cols, where, 50_000):
                rows = [tuple(r) for r in batch]
                if spec is not None and spec.percent is not None:
                    rows = [r for r in rows if sampled(r[:k], spec.percent)]
                if sel.mode == "keys":
                    sel.keys.update(r[:k] for r in rows)
                cl.note_rows(t, cols, rows)
    while any(cl.pending.values()):
        for slot in sorted(cl.pending, key=str):
            values = sorted(cl.pending[slot], key=repr)
            cl.pending[slot] = set()
            if values:
                parent = schema.table(slot[0])
                if parent is not None:
                    cl.fetch_parents(parent, slot[1], values)
    return cl.sel


__all__ = ["Selection", "SubsetSpec", "compute_selection", "identity", "parse_subset", "sampled"]
