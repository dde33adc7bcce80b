"""Prove a masked target holds no production values, independently of the run.

1. Refuse a target whose completion marker is missing or not ``complete``.
2. Read every planned column of the source. Non-``keep`` columns contribute the
   keyed hashes of their values (whole value, JSON string leaves, and PII tokens
   found inside text); ``keep`` columns contribute the PII tokens found inside
   them (a kept column of e-mails *is* a leak) and, otherwise, the values the plan
   legitimately copies (these are not counted as hits).
3. Scan every column of every table of the target, in batches, for those hashes.
4. Row by row (``_rowcheck``): the source row's own known values (names and their
   parts, e-mails, phones, streets, postcodes, identifiers) are searched as
   phrases in every text-like cell of its target row and of the target rows that
   reference it; rows are paired by primary key.
5. Compare row counts and check every foreign key of the target for orphans.

A hit is never reported with its value, only as a count per table and column.
The rules that keep false positives low are in docs/masking.md ("What verify
checks"); none of them skips a whole column.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stagewall.errors import MaskingError, StagewallError
from stagewall.keys import MaskingKey
from stagewall.masking._known_rows import KnownRows, known_spec
from stagewall.masking._units import EMPTY, LEAF, PII, WHOLE, H, Hasher, HashSet, contains
from stagewall.masking.lint import KEEP, scoped_schema
from stagewall.masking.plan import Plan, consistency_salt
from stagewall.masking.schema import Schema, Table

BATCH_ROWS = 5000
# Transformers that rewrite only the sensitive parts of a value (text, JSON): what
# they leave unchanged is passed through by the plan, like a `keep`, unless it is
# PII (detected, or a whole value of another masked column).
SCRUBBERS = frozenset({"text_scrub", "json_mask"})
Progress = Callable[[str, int], None]


class VerifyOutcome(enum.Enum):
    PASSED = "passed"
    FAILED = "failed"


@dataclass(frozen=True)
class ColumnHits:
    table: str
    column: str
    hits: int


@dataclass(frozen=True)
class RowHits:
    """Cells of ``table.column`` holding a source value of ``kind`` of their own row
    (or of a row they reference)."""

    table: str
    column: str
    kind: str
    cells: int


@dataclass(frozen=True)
class TableCount:
    table: str
    source_rows: int
    target_rows: int | None  # None: the table is missing in the target
    ok: bool


@dataclass(frozen=True)
class FkProblem:
    table: str
    columns: tuple[str, ...]
    ref_table: str
    orphans: int


@dataclass(frozen=True)
class VerifyReport:
    outcome: VerifyOutcome
    hits: tuple[ColumnHits, ...]
    counts: tuple[TableCount, ...]
    fk_problems: tuple[FkProblem, ...]
    sensitive_hashes: int
    target_values: int  # non-trivial target cells scanned
    duration_s: float
    target_run_id: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)
    row_hits: tuple[RowHits, ...] = ()

    @property
    def passed(self) -> bool:
        return self.outcome is VerifyOutcome.PASSED

    @property
    def total_hits(self) -> int:
        return sum(h.hits for h in self.hits)

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "hits": [{"table": h.table, "column": h.column, "hits": h.hits} for h in self.hits],
            "total_hits": self.total_hits,
            "row_hits": [
                {"table": h.table, "column": h.column, "kind": h.kind, "cells": h.cells}
                for h in self.row_hits
            ],
            "row_counts": [
                {"table": c.table, "source": c.source_rows, "target": c.target_rows, "ok": c.ok}
                for c in self.counts
            ],
            "foreign_key_problems": [
                {
                    "table": f.table,
                    "columns": list(f.columns),
                    "references": f.ref_table,
                    "orphans": f.orphans,
                }
                for f in self.fk_problems
            ],
            "sensitive_hashes": self.sensitive_hashes,
            "target_values": self.target_values,
            "duration_s": round(self.duration_s, 3),
            "target_run_id": self.target_run_id,
            "notes": list(self.notes),
        }


def verify(
    plan: Plan,
    source_url: str,
    target_url: str,
    key: MaskingKey,
    *,
    subset: bool = False,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
    jobs: int = 1,
) -> VerifyReport:
    """Verify ``target_url`` against ``source_url`` under ``plan``; see the module doc.

    Raises :class:`MaskingError` when the target is not marked complete and
    :class:`BackendError` when a database cannot be read. ``subset`` allows target
    tables to have fewer rows than the source.
    """
    from stagewall.masking import _rowcheck
    from stagewall.masking.db import open_database

    started = time.monotonic()
    notes: list[str] = []
    with open_database(target_url, role="target", read_only=True) as tdb:
        marker = tdb.read_marker()
        if marker is None or not marker.complete:
            state = "has no completion marker" if marker is None else f"is {marker.status.value}"
            raise MaskingError(
                f"target {tdb.url.display} {state}: it is not a complete masked copy",
                hint="run `stagewall mask run` to completion first; verify refuses partial targets",
            )
        if marker.plan_sha256 != plan.sha256():
            notes.append("the target was written with a different plan than the one given")
        if marker.key_id != key.key_id:
            notes.append(
                f"the target was written with key {marker.key_id!r}, verify uses {key.key_id!r}"
            )
        with open_database(source_url, role="source") as sdb:
            schema = scoped_schema(plan, sdb.introspect())
            sdb.begin_read()
            sets = _collect(plan, schema, sdb, key, batch_rows, progress)
            lookups = _rowcheck.source_lookups(plan, schema, sdb, key, batch_rows, notes)
        tschema = tdb.introspect()
        tdb.begin_read()
        hits, target_rows, scanned = _scan(plan, tschema, tdb, sets, batch_rows, progress)
        work = _rowcheck.tasks(plan, schema, tschema, lookups, _in_target)
        row_hits = _rowcheck.check_all(tdb.url, tdb, work, lookups, batch_rows, jobs, progress)
        del lookups
        fk_problems = _check_fks(schema, tschema, tdb)
    counts = []
    for t in schema.tables:
        src = sets.source_rows.get(t.qualified, 0)
        match = _in_target(t.qualified, tschema)
        tgt = target_rows.get(match.qualified) if match is not None else None
        ok = tgt is not None and (tgt <= src if subset else tgt == src)
        counts.append(TableCount(t.qualified, src, tgt, ok))
    failed = (
        any(h.hits for h in hits) or bool(row_hits) or any(not c.ok for c in counts) or fk_problems
    )
    return VerifyReport(
        outcome=VerifyOutcome.FAILED if failed else VerifyOutcome.PASSED,
        hits=tuple(h for h in hits if h.hits),
        counts=tuple(counts),
        fk_problems=tuple(fk_problems),
        sensitive_hashes=int(sets.sensitive.size),
        target_values=scanned,
        duration_s=time.monotonic() - started,
        target_run_id=marker.run_id,
        notes=tuple(notes),
        row_hits=tuple(RowHits(h.table, h.column, h.kind, h.cells) for h in row_hits),
    )


@dataclass
class _Sets:
    sensitive: H
    legit: dict[tuple[str, str], H]
    source_rows: dict[str, int]
    hasher: Hasher
    # per scrubbed column: whole values its source held and the scrubber left as they
    # were in the same row (the detector found no PII in them): that column's own text
    passed_by: dict[tuple[str, str], H] = field(default_factory=dict)

    def source_name(self, target: Table) -> str:
        """The source table a target table was copied from (see :func:`_in_target`)."""
        if target.qualified in self.source_rows:
            return target.qualified
        same = [q for q in self.source_rows if q.rsplit(".", 1)[-1] == target.name]
        return same[0] if len(same) == 1 else target.qualified


def _in_target(source_qualified: str, tschema: Schema) -> Table | None:
    """The target table of a source table: the same qualified name, or, across
    backends (MySQL/SQLite tables land in PostgreSQL's ``public``; PostgreSQL's
    schemas do not exist in MySQL or SQLite), the one table with the same name."""
    exact = tschema.table(source_qualified)
    if exact is not None:
        return exact
    name = source_qualified.rsplit(".", 1)[-1]
    same = [t for t in tschema.tables if t.name == name]
    return same[0] if len(same) == 1 else None


def _detector() -> Callable[[Sequence[str]], Sequence[Sequence[Any]]]:
    from stagewall.masking.classify import detect_many

    return detect_many


def _collect(
    plan: Plan,
    schema: Schema,
    db: Any,
    key: MaskingKey,
    batch_rows: int,
    progress: Progress | None,
) -> _Sets:
    from stagewall.masking.db import copy_columns
    from stagewall.masking.transformers import build_transformer

    hasher = Hasher(key.derive("masking/verify"), _detector())
    strong, weak, allowed, passed, pii = HashSet(), HashSet(), HashSet(), HashSet(), HashSet()
    legit: dict[tuple[str, str], HashSet] = {}
    passed_by: dict[tuple[str, str], HashSet] = {}
    rows_per_table: dict[str, int] = {}
    for table in schema.tables:
        cols = [c.name for c in copy_columns(table)]
        transformers: list[Any] = []
        for c in cols:
            cp = plan.column(table.qualified, c)
            if cp is None or cp.transformer == KEEP:
                # Unplanned columns (drift) count as sensitive, with no legit output.
                transformers.append(None if cp is None else KEEP)
                continue
            transformers.append(
                build_transformer(
                    cp.transformer,
                    cp.params,
                    key=key,
                    salt=consistency_salt(schema, table.qualified, c),
                )
            )
        # scrubbers are recomputed with the row's known values, as the run gave them
        knows = None
        if any(getattr(tr, "wants_known", False) for tr in transformers):
            knows = KnownRows(known_spec(plan, schema, table), cols)
            knows.prepare(db, batch_rows)
        n = 0
        for batch in db.iter_rows(table, cols, None, batch_rows):
            n += len(batch)
            known = None
            if knows is not None:
                known = knows.rows({j: [r[j] for r in batch] for j in knows.columns}, len(batch))
            for i, c in enumerate(cols):
                values = [r[i] for r in batch]
                tr = transformers[i]
                units = hasher.flat(values)
                pii.add_array(units.of(PII).hashes)
                if tr == KEEP:
                    strong.add_array(units.of(PII).hashes)
                    allowed.add_array(units.of(WHOLE, LEAF).hashes)
                    continue
                scrubber = tr is not None and tr.name in SCRUBBERS
                if scrubber:
                    # content the scrubber leaves alone is passed through by plan
                    strong.add_array(units.of(PII).hashes)
                    weak.add_array(units.of(WHOLE, LEAF).hashes)
                else:
                    strong.add_array(units.of(WHOLE, PII).hashes)
                    weak.add_array(units.of(LEAF).hashes)
                if tr is None:
                    legit.setdefault((table.qualified, c), HashSet())
                    continue
                out = hasher.flat(_transform(tr, values, table, c, known))
                # an output unit is legitimate in this column unless it is a unit of
                # the very value it came from
                mine = units.pair_keys()
                new = ~np.isin(out.pair_keys(), mine)
                legit.setdefault((table.qualified, c), HashSet()).add_array(out.hashes[new])
                shared = (WHOLE, LEAF) if scrubber else (LEAF,)
                a, b = units.of(*shared), out.of(*shared)
                same = np.isin(b.pair_keys(), a.pair_keys())
                passed.add_array(b.hashes[same])
                if scrubber:
                    whole = b.kind == WHOLE
                    passed_by.setdefault((table.qualified, c), HashSet()).add_array(
                        b.hashes[same & whole]
                    )
            if progress:
                progress(f"source {table.qualified}", len(batch))
        rows_per_table[table.qualified] = n
    allowed_np = np.setdiff1d(allowed.array(), pii.array(), assume_unique=True)
    sensitive = np.union1d(
        np.setdiff1d(strong.array(), allowed_np, assume_unique=True),
        np.setdiff1d(weak.array(), np.union1d(allowed.array(), passed.array()), assume_unique=True),
    )
    return _Sets(
        sensitive,
        {k: v.array() for k, v in legit.items()},
        rows_per_table,
        hasher,
        {k: v.array() for k, v in passed_by.items()},
    )


def _transform(
    tr: Any, values: list[object], table: Table, column: str, known: list[Any] | None = None
) -> list[object]:
    try:
        if known is not None and getattr(tr, "wants_known", False):
            out: list[object] = tr.transform_known(values, known)
        else:
            out = tr.transform(values)
    except StagewallError as exc:
        raise MaskingError(
            f"{table.qualified}.{column}: cannot recompute transformer {tr.name!r}: {exc.message}",
            hint=exc.hint,
        ) from None
    return out


def _scan(
    plan: Plan,
    tschema: Schema,
    db: Any,
    sets: _Sets,
    batch_rows: int,
    progress: Progress | None,
) -> tuple[list[ColumnHits], dict[str, int], int]:
    from stagewall.masking.db import MARKER_TABLE

    hasher = sets.hasher
    hits: list[ColumnHits] = []
    rows: dict[str, int] = {}
    scanned = 0
    for table in tschema.tables:
        if table.name == MARKER_TABLE:
            continue
        cols = [c.name for c in table.columns]
        counts = dict.fromkeys(cols, 0)
        n = 0
        for batch in db.iter_rows(table, cols, None, batch_rows):
            n += len(batch)
            for i, c in enumerate(cols):
                units = hasher.flat([r[i] for r in batch])
                if not units.hashes.size:
                    continue
                scanned += len(batch)
                hit = contains(sets.sensitive, units.hashes)
                if hit.any():
                    where = (sets.source_name(table), c)
                    hit &= ~contains(sets.legit.get(where, EMPTY), units.hashes)
                    # a scrubbed column's own text, passed through in its own column:
                    # equal to some masked value elsewhere ("Frank" the album, "Frank"
                    # a customer's first name) but not that value; the row-by-row
                    # search still finds a row's own values in it
                    hit &= ~contains(sets.passed_by.get(where, EMPTY), units.hashes)
                    # a cell (one value) counts once, however many of its units hit
                    counts[c] += int(np.unique(units.owner[hit]).size)
            if progress:
                progress(f"target {table.qualified}", len(batch))
        rows[table.qualified] = n
        hits += [ColumnHits(table.qualified, c, k) for c, k in counts.items()]
    return hits, rows, scanned


def _check_fks(schema: Schema, tschema: Schema, db: Any) -> list[FkProblem]:
    out: list[FkProblem] = []
    for src in schema.tables:
        child = _in_target(src.qualified, tschema)
        if child is None:
            continue
        for fk in src.foreign_keys:
            ref = f"{fk.ref_schema}.{fk.ref_table}" if fk.ref_schema else fk.ref_table
            parent = _in_target(ref, tschema)
            if parent is None:
                continue
            not_null = " AND ".join(f"c.{db.q(col)} IS NOT NULL" for col in fk.columns)
            match = " AND ".join(
                f"p.{db.q(rc)} = c.{db.q(cc)}"
                for cc, rc in zip(fk.columns, fk.ref_columns, strict=True)
            )
            sql = (
                f"SELECT COUNT(*) FROM {db.qt(child)} c WHERE {not_null} AND NOT EXISTS "  # noqa: S608
                f"(SELECT 1 FROM {db.qt(parent)} p WHERE {match})"
            )
            orphans = int(db.select(sql)[0][0])  # identifiers quoted by the adapter
            if orphans:
                out.append(FkProblem(src.qualified, fk.columns, ref, orphans))
    return out


__all__ = [
    "ColumnHits",
    "FkProblem",
    "RowHits",
    "TableCount",
    "VerifyOutcome",
    "VerifyReport",
    "verify",
]
