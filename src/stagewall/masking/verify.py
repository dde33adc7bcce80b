"""Prove a masked target holds no production values, independently of the run.

1. Refuse a target whose completion marker is missing or not ``complete``.
2. Read every planned column of the source. Non-``keep`` columns contribute the
   keyed hashes of their values (whole value, JSON string leaves, and PII tokens
   found inside text); ``keep`` columns contribute the PII tokens found inside
   them (a kept column of e-mails *is* a leak) and, otherwise, the values the plan
   legitimately copies (these are not counted as hits) — but not a whole value of
   a column masked as people's values (``lint.never_public``): kept elsewhere too,
   it is a hit there. hstore and xml cells are read as documents (``_documents``).
3. Scan every column of every table of the target, in batches, for those hashes
   (and the string literals and comments of its schema objects' definitions, and
   their words and runs of words: ``_definitions``)
   (the detector reads only target texts holding a sensitive unit; tokens inside
   a pseudonymiser's outputs are recomputed only for the hits that need them).
   And, as words inside any text or JSON document of the target, the rare words
   of the source's name columns (surnames and given names no name list or
   common-word list knows: ``_namewords``), and another customer's identifiers
   written without the shape the detector knows (``_otherids``).
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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from stagewall.errors import MaskingError
from stagewall.keys import MaskingKey
from stagewall.masking._namewords import learn
from stagewall.masking._otherids import learn_ids
from stagewall.masking._references import checked
from stagewall.masking.lint import scoped_schema
from stagewall.masking.plan import Plan
from stagewall.masking.schema import Schema, Table

BATCH_ROWS = 5000
# the "table" of a hit in a schema object's definition (a view, a default, ...)
SCHEMA_OBJECTS = "(schema)"
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
    # cells holding a source person's rare surname or given name as a word (of any
    # row: ``_namewords``), per column and kind
    word_hits: tuple[RowHits, ...] = ()

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
            "word_hits": [
                {"table": h.table, "column": h.column, "kind": h.kind, "cells": h.cells}
                for h in self.word_hits
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
    stop: Callable[[], str | None] | None = None,
    late: bool = True,
) -> VerifyReport:
    """Verify ``target_url`` against ``source_url`` under ``plan``; see the module doc.

    Raises :class:`MaskingError` when the target is not marked complete and
    :class:`BackendError` when a database cannot be read. ``subset`` allows target
    tables to have fewer rows than the source.

    ``stop`` (a run's stop check, ``RunOptions.stop``: the server's masking jobs pass
    theirs) is asked between phases and before every batch any read of verify hands
    over, here and, through a shared flag, in its forked workers (the coordinator asks
    it while it waits for them); once it names a reason, verify ends at that batch with
    :class:`~stagewall.errors.MaskingRunStopped` (SW870) and reports nothing.

    ``late=False`` recomputes every transformer's outputs up front (see
    :func:`._hashscan.collect`): the same report, more slowly (the reference the
    tests compare with).
    """
    from stagewall.masking._parallel import fewer_collections
    from stagewall.masking.db._base import BATCH_CHECK

    token = None
    if stop is not None:
        from stagewall.masking.engine import Stopper

        token = BATCH_CHECK.set(Stopper(stop, "verification"))
    try:
        with fewer_collections():
            return _verify(
                plan, source_url, target_url, key,
                subset=subset, batch_rows=batch_rows, progress=progress, jobs=jobs,
                late=late,
            )  # fmt: skip
    finally:
        if token is not None:
            BATCH_CHECK.reset(token)


def _verify(
    plan: Plan, source_url: str, target_url: str, key: MaskingKey, *, subset: bool,
    batch_rows: int, progress: Progress | None, jobs: int, late: bool = True,
) -> VerifyReport:  # fmt: skip
    """:func:`verify` without the collector setting."""
    from stagewall.masking import (
        _definitions,
        _documents,
        _hashscan,
        _late,
        _rowcheck,
        _schemanames,
        _scrublate,
    )
    from stagewall.masking.db import open_database
    from stagewall.masking.db._base import between_batches

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
        between_batches()  # (a stop check asked before the source is read)
        if marker.plan_sha256 != plan.sha256():
            notes.append("the target was written with a different plan than the one given")
        if marker.key_id != key.key_id:
            notes.append(
                f"the target was written with key {marker.key_id!r}, verify uses {key.key_id!r}"
            )
        with open_database(source_url, role="source") as sdb:
            schema = scoped_schema(plan, sdb.introspect())
            sdb.begin_read()
            # parallel parts of the source read in this transaction's snapshot
            snapshot = sdb.export_snapshot()[0] if jobs > 1 else None
            # the references the schema does not declare, checked as the run did
            schema = checked(sdb, schema)
            # the source rows' known values (row by row search), read by this
            # process while the workers (with jobs > 1) read the source's parts
            got: dict[str, Any] = {}

            def lookups_now() -> None:
                got["lookups"] = _rowcheck.source_lookups(plan, schema, sdb, key, batch_rows, notes)
                # the source's full names, searched in every target text (the copy's
                # pre-pass rule: _namewords.learn, _namepairs)
                got["pairs"] = learn(plan, schema, sdb, batch_rows, words=False).pairs
                # and another customer's identifiers (the copy's pre-pass rule too:
                # _otherids.learn_ids)
                got["ids"] = learn_ids(plan, schema, sdb, key, batch_rows)

            sets = _hashscan.collect(
                plan, schema, sdb, key, batch_rows, progress,
                jobs=jobs, url=sdb.url, snapshot=snapshot, meanwhile=lookups_now, late=late,
            )  # fmt: skip
            lookups = got.pop("lookups")
            sets.name_pairs = got.pop("pairs")
            sets.other_ids = got.pop("ids")
            between_batches()
            # hstore/xml columns are read as documents on any target
            tschema = _documents.typed_like_source(schema, tdb.introspect(), _in_target)
            tdb.begin_read()
            work = _rowcheck.tasks(plan, schema, tschema, lookups, _in_target)

            def tokens(found: list[_hashscan.ScanResult]) -> None:
                # the few hits that need a pseudonymiser's outputs, recomputed in
                # the same source snapshot
                _late.resolve_tokens(found, sets, plan, schema, sdb, key, batch_rows)

            found, row_hits = _scan_target(
                tschema, tdb, sets, work, lookups, batch_rows, progress, jobs, tokens
            )
            # and those that need a scrubber's, for all tables at once (one read of
            # each scrubbed table)
            scrubs = _scrublate.Scrubs(sets, plan, schema, sdb, key, batch_rows)
            scrubs.settle(found)
            between_batches()
            in_schema = _definitions.definition_hits(tdb, sets, plan.acknowledged, scrubs.sensitive)
            names = _schemanames.target_findings(tdb, sdb, plan, schema)
        # a table or column whose name is reported is never shown by it
        hide = {f.label: f.shown for f in names}

        def tname(q: str) -> str:  # (across backends, the target's table has no schema)
            bare = q.rsplit(".", 1)[-1]
            return hide.get(f"table {q}", hide.get(f"table {bare}", q))

        def cname(q: str, c: str) -> str:
            bare = q.rsplit(".", 1)[-1]
            return hide.get(f"column {q}.{c}", hide.get(f"column {bare}.{c}", c))

        hits = [
            ColumnHits(tname(r.table), cname(r.table, c), k)
            for r in found
            for c, k in r.counts.items()
        ]
        hits += [
            ColumnHits(SCHEMA_OBJECTS, _schemanames.hiding(names, obj), n)
            for obj, n in sorted(in_schema.items())
        ]
        hits += [ColumnHits(SCHEMA_OBJECTS, f"name of {f.shown}", 1) for f in names]
        target_rows = {r.table: r.rows for r in found}
        scanned = sum(r.scanned for r in found)
        del lookups
        fk_problems = _check_fks(schema, tschema, tdb)
        between_batches()  # the last: a verify told to stop reports nothing
    counts = []
    for t in schema.tables:
        src = sets.source_rows.get(t.qualified, 0)
        match = _in_target(t.qualified, tschema)
        tgt = target_rows.get(match.qualified) if match is not None else None
        ok = tgt is not None and (tgt <= src if subset else tgt == src)
        counts.append(TableCount(tname(t.qualified), src, tgt, ok))
    word_hits = [
        RowHits(tname(r.table), cname(r.table, c), kind, n)
        for r in found
        for (c, kind), n in sorted(r.words.items())
        if n
    ]
    failed = (
        any(h.hits for h in hits)
        or bool(row_hits)
        or bool(word_hits)
        or any(not c.ok for c in counts)
        or fk_problems
    )
    return VerifyReport(
        outcome=VerifyOutcome.FAILED if failed else VerifyOutcome.PASSED,
        hits=tuple(h for h in hits if h.hits),
        counts=tuple(counts),
        fk_problems=tuple(
            FkProblem(tname(f.table), f.columns, tname(f.ref_table), f.orphans) for f in fk_problems
        ),
        sensitive_hashes=sets.searched,
        target_values=scanned,
        duration_s=time.monotonic() - started,
        target_run_id=marker.run_id,
        notes=tuple(notes),
        row_hits=tuple(
            RowHits(tname(h.table), cname(h.table, h.column), h.kind, h.cells) for h in row_hits
        ),
        word_hits=tuple(word_hits),
    )


def _scan_target(
    tschema: Schema,
    tdb: Any,
    sets: Any,
    work: list[Any],
    lookups: dict[str, Any],
    batch_rows: int,
    progress: Progress | None,
    jobs: int,
    late: Callable[[list[Any]], None],
) -> tuple[list[Any], list[Any]]:
    """The whole-target scan (with ``late`` applied to its results) and the row by
    row search. With ``jobs`` > 1 both run in one set of forked workers, which share
    the hash sets and the lookups, and both in one read of each part of a table
    (:func:`_target_pass`); this process resolves a table's late hits as soon as its
    parts are scanned, while the workers go on with the next tables."""
    from stagewall.masking import _hashscan, _rowcheck
    from stagewall.masking._parallel import can_fork, largest_first, pool, split

    if not can_fork(jobs):
        found = _hashscan.scan(tschema, tdb, sets, batch_rows, progress, jobs=jobs, url=tdb.url)
        late(found)
        row_hits = _rowcheck.check_all(tdb.url, tdb, work, lookups, batch_rows, jobs, progress)
        return found, row_hits
    tables = _hashscan.scanned_tables(tschema)
    names = {t.qualified for t in tables}
    # (the rows the source has: the target's estimates may be missing, it is new)
    rows = sets.source_rows
    items = [
        (t, w, [task for task in work if task.target.qualified == t.qualified])
        for t in largest_first(tables, lambda t: rows.get(sets.source_name(t), 0) * len(t.columns))
        for w in split(tdb, t, jobs)
    ]
    alone = [task for task in work if task.target.qualified not in names]
    shared = {
        "scan": (tdb.url, sets, batch_rows),
        "url": tdb.url,
        "lookups": lookups,
        "batch_rows": batch_rows,
    }
    scanned, row_done = _hashscan.scan_done(progress), _rowcheck.done(progress)
    left = {t.qualified: 0 for t in tables}
    for t, _, _ in items:
        left[t.qualified] += 1
    parts: dict[str, list[Any]] = {}
    by_table: dict[str, Any] = {}
    row_parts: list[Any] = []

    def done(got: tuple[Any, list[Any]]) -> None:
        scan, rows = got
        scanned(scan)
        for r in rows:
            row_done(r)
        row_parts.extend(rows)
        parts.setdefault(scan.table, []).append(scan)
        left[scan.table] -= 1
        if not left[scan.table]:  # the table's parts are all in: its late hits now
            table = next(t for t in tables if t.qualified == scan.table)
            by_table[scan.table] = _hashscan.merged_scan([table], parts.pop(scan.table))[0]
            late([by_table[scan.table]])

    with pool(jobs, shared) as workers:
        both = workers.submit(_target_pass, items)
        rest = workers.submit(_rowcheck._work, _rowcheck.parts(tdb, alone, jobs))
        workers.results(both, done)
        row_parts += workers.results(rest, row_done)
    return [by_table[t.qualified] for t in tables], _rowcheck.merged_parts(row_parts)


def _target_pass(item: tuple[Table, str | None, list[Any]]) -> tuple[Any, list[Any]]:
    """One part of a target table read once for both searches: the whole-target scan
    (``_hashscan.PartScan``) and the row by row search of each task on the table
    (``_rowcheck.TableSearch``); returns the scan's result and each search's
    ``(hits, rows)``. A forked worker's item, with ``SHARED`` as
    :func:`_scan_target` sets it."""
    from dataclasses import replace

    from stagewall.masking._hashscan import PartScan
    from stagewall.masking._parallel import SHARED
    from stagewall.masking._rowcheck import TableSearch, check_table
    from stagewall.masking.db import open_database

    table, where, tasks = item
    url, sets, batch_rows = SHARED["scan"]
    lookups = SHARED["lookups"]
    with open_database(url, role="target", read_only=True) as db:
        db.begin_read()
        scan = PartScan(table, sets)
        at = {c: i for i, c in enumerate(scan.columns)}
        searches = [TableSearch(replace(t, where=where), lookups) for t in tasks]
        fed = [s for s in searches if all(c in at for c in s.columns)]
        picks = [[at[c] for c in s.columns] for s in fed]
        for m, columns in db.iter_columns(table, scan.columns, where, batch_rows):
            scan.add(m, columns)
            for search, pick in zip(fed, picks, strict=True):
                search.add(m, [columns[i] for i in pick])
        rows = [(s.hits(), s.rows) for s in fed]
        # (a search of a column the table lacks reads alone, and fails as it did)
        rows += [check_table(db, s.task, lookups, batch_rows) for s in searches if s not in fed]
    return scan.result(), rows


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
