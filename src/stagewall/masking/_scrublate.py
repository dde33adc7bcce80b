"""Verify's late scrubbers: what ``text_scrub`` and ``json_mask`` write and pass
through, found only for the target cells that need it.

Run on a row, a scrubber adds three things (:func:`._hashscan.scrub_contributions`):
the units of the row's value (whole value, JSON leaf) its output still holds are
*passed through* (not sensitive anywhere); those that are whole values are its
column's own text (``passed_by``: not counted in that column); the units of its
output that are no unit of its value are *legitimate* in that column (a pseudonym
that is another customer's real name). Eager (``collect(late=False)``), every row
of every scrubbed column is scrubbed again, the costliest part of reading the
source. Late, none is; instead:

- The sensitive set keeps the units of scrubbed values that nothing else decides
  (``Sets.doubtful``), and the scan keeps the cells with such a hit pending, and
  every cell with a hit in a scrubbed column (with its target key).
- A doubtful unit is passed through if and only if a row whose value has it as a
  unit passes it (a row passes only units of its own value). Those rows are found
  by their values' units, hashed without the detector, and scrubbed, until one
  passes the unit; if none does, it is sensitive. ``passed_by`` likewise.
- A unit is legitimate in a column if any row's output holds it. Each pending cell
  with a hit that is not doubtful has its source row scrubbed (paired by primary
  key, as the row-by-row search pairs them: the key the plan's transformer gives).
  A hit its own source row does not excuse (a survivor, or a coincidence), or a
  cell without a key, makes the column's every row scrubbed, as eager.

A row's shares depend on that row alone (its value and its known values), so the
hits are those of the eager way (tests/masking/test_scrub_late.py compares).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from stagewall.keys import MaskingKey
from stagewall.masking._documents import as_documents, is_document
from stagewall.masking._hashscan import (
    Col,
    ScanResult,
    Sets,
    scrub_contributions,
    transform,
)
from stagewall.masking._known_rows import KnownRows, known_spec
from stagewall.masking._units import (
    EMPTY,
    H,
    HashSet,
    contains,
    union_sorted,
    unique_first,
    unique_sorted,
)
from stagewall.masking.classify import remembering
from stagewall.masking.plan import Plan
from stagewall.masking.schema import Schema, Table


@dataclass
class _Want:
    """What one scrubbed column's rows are scrubbed for in one pass."""

    doubtful: bool = False  # the rows holding an open doubtful unit
    own: H = field(default_factory=lambda: EMPTY)  # the rows holding one of these (its passed_by)
    keys: set[tuple[str, ...]] = field(default_factory=set)  # the rows of these target keys
    every: bool = False  # every row


class Scrubs:
    """The scrubbers' shares, gathered for the rows pending hits need, in the
    source's snapshot (``db`` is idle between batches)."""

    def __init__(
        self, sets: Sets, plan: Plan, schema: Schema, db: Any, key: MaskingKey, batch_rows: int
    ) -> None:
        self.sets, self.plan, self.schema, self.db = sets, plan, schema, db
        self.key, self.batch_rows = key, batch_rows
        self._passed = HashSet()  # doubtful units a scrubber passes through
        self._not_passed = HashSet()  # and those none does (every row holding them seen)
        self.legit: dict[Col, HashSet] = {}
        self.passed_by: dict[Col, HashSet] = {}
        self._every: set[Col] = set()  # columns whose rows were all scrubbed
        self._known: dict[str, KnownRows] = {}
        self._open = EMPTY  # the doubtful units a search still looks for
        self.scrubbed_rows = 0  # (how many rows were scrubbed: tests read it)

    def passed(self, hashes: H) -> npt.NDArray[np.bool_]:
        """Which of the doubtful ``hashes`` some scrubber passes through (scrubbing
        the rows for those not yet known)."""
        if not hashes.size:
            return np.zeros(0, dtype=bool)
        wanted = unique_sorted(hashes)
        known = contains(self._passed.array(), wanted) | contains(self._not_passed.array(), wanted)
        if not known.all():
            self._search(wanted[~known], {})
        return contains(self._passed.array(), hashes)

    def sensitive(self, hashes: H) -> npt.NDArray[np.bool_]:
        """Which of ``hashes`` are sensitive: in ``sets.sensitive``, and not a doubtful
        unit a scrubber passes through."""
        out = contains(self.sets.sensitive, hashes)
        if self.sets.doubtful.size:
            doubt = np.flatnonzero(out & contains(self.sets.doubtful, hashes))
            if doubt.size:
                out[doubt[self.passed(hashes[doubt])]] = False
        return out

    def settle(self, found: Sequence[ScanResult]) -> None:
        """Count the pending hits of ``found`` that wait for scrubbers (in place)."""
        sets = self.sets
        entries = []
        for result in found:
            for column, got in result.pending.items():
                hashes = np.concatenate(got.hashes) if got.hashes else EMPTY
                cells = np.concatenate(got.cells) if got.cells else np.zeros(0, np.int64)
                excused = got.excused if got.excused is not None else np.zeros(cells.size, bool)
                doubt = contains(sets.doubtful, hashes)
                where = (sets.source_name_of(result.table), column)
                entries.append((result, column, where, hashes, cells, excused, doubt, got.keys))
        if not entries:
            return
        doubtful = union_sorted([unique_sorted(e[3][e[6] & ~e[5]]) for e in entries])
        wants: dict[Col, _Want] = {}
        for _, _, where, hashes, _, excused, doubt, keys in entries:
            if where not in sets.scrub_late:
                continue
            want = wants.setdefault(where, _Want())
            # a unit that is not doubtful is this column's own text only if some row
            # of the column has it as a unit
            own = unique_sorted(hashes[~doubt & ~excused])
            own = own[contains(sets.scrubbed.get(where, EMPTY), own)]
            want.own = union_sorted([want.own, own])
            want.keys.update(k for k in keys.values() if k is not None)
        known = contains(self._passed.array(), doubtful) | contains(
            self._not_passed.array(), doubtful
        )
        self._search(doubtful[~known], wants)
        left = self._left(entries)
        # a hit no row paired with its cell excuses: the columns' every row, as eager
        every = {e[2] for e, rest in zip(entries, left, strict=True) if rest.any()}
        every = {w for w in every if w in sets.scrub_late and w not in self._every}
        if every:
            self._search(EMPTY, {w: _Want(every=True) for w in every})
            left = self._left(entries)
        for e, rest in zip(entries, left, strict=True):
            result, column = e[0], e[1]
            result.counts[column] += int(np.unique(e[4][rest]).size)
            del result.pending[column]

    def _left(self, entries: list[Any]) -> list[npt.NDArray[np.bool_]]:
        """For each entry, which of its hits count: sensitive, and excused by no output."""
        passed = self._passed.array()
        out = []
        for _, _, where, hashes, _, excused, doubt, _ in entries:
            rest = ~excused & ~(doubt & contains(passed, hashes))
            if where in self.sets.scrub_late:
                rest &= ~contains(self.legit.get(where, HashSet()).array(), hashes)
                rest &= ~contains(self.passed_by.get(where, HashSet()).array(), hashes)
            out.append(rest)
        return out

    def _search(self, doubtful: H, wants: dict[Col, _Want]) -> None:
        """Scrub the rows of each scrubbed column that ``wants`` names, and those
        holding an open ``doubtful`` unit (every such row, until one passes it);
        the doubtful units none passes are not passed, after."""
        sets = self.sets
        wants = dict(wants)
        for col, units in sets.scrubbed.items():
            if doubtful.size and contains(units, doubtful).any():
                wants.setdefault(col, _Want()).doubtful = True
        self._open = doubtful
        tables: dict[str, dict[str, _Want]] = {}
        for (t, c), want in wants.items():
            if want.every or want.doubtful or want.own.size or want.keys:
                tables.setdefault(t, {})[c] = want
        for name, cols in tables.items():
            table = self.schema.table(name)
            if table is not None:
                self._search_table(table, cols)
        if self._open.size:
            self._not_passed.add_array(self._open)
        self._open = EMPTY
        for col, want in wants.items():
            if want.every:
                self._every.add(col)

    def _search_table(self, table: Table, cols: dict[str, _Want]) -> None:
        from stagewall.masking._hashscan import _transformers
        from stagewall.masking._rowcheck import _key_transformers, canon_columns
        from stagewall.masking.db import copy_columns

        sets, q = self.sets, table.qualified
        copy = copy_columns(table)
        names = [c.name for c in copy]
        trs = dict(zip(names, _transformers(self.plan, self.schema, self.key, table), strict=True))
        documents = {c.name for c in copy if is_document(c)}
        spec = known_spec(self.plan, self.schema, table)
        pk = list(table.primary_key)
        # the same columns whatever is searched (the table's KnownRows is kept)
        read = list(
            dict.fromkeys(
                [*pk, *(c for t, c in sets.scrub_late if t == q)]
                + [c for c, _ in spec.own]
                + [c for p in spec.parents for c in p.fk_columns]
                + [c for ch in spec.children for c in ch.key_columns]
            )
        )
        at = {c: i for i, c in enumerate(read)}
        knows = self._known.get(q)
        if knows is None:  # (the rows they reference are read once)
            knows = KnownRows(spec, read)
            knows.prepare(self.db, self.batch_rows)
            self._known[q] = knows
        keyed = bool(pk) and any(w.keys for w in cols.values())
        key_trs = _key_transformers(self.plan, self.schema, table, pk, self.key) if keyed else []
        bare = sets.hasher.without_detector()
        for m, columns in self.db.iter_columns(table, read, None, self.batch_rows):
            keys: list[tuple[str, ...]] | None = None
            for c, want in cols.items():
                values = columns[at[c]]
                if want.every:
                    self._scrub(table, c, trs[c], documents, knows, read, columns, np.arange(m))
                    continue
                pick = np.zeros(m, dtype=bool)
                held = EMPTY  # the units of the batch's values that are wanted
                owner = np.zeros(0, dtype=np.int64)
                wanted = self._wanted(q, c, want)
                if wanted.size:
                    units = bare.flat(as_documents(values) if c in documents else values)
                    wants_it = contains(wanted, units.hashes)
                    held, owner = units.hashes[wants_it], units.owner[wants_it]
                    # first one row holding each unit: one usually decides it
                    pick[owner[unique_first(held)[1]]] = True
                if want.keys:
                    if keys is None:
                        keys = canon_columns(
                            [
                                col if tr is None else transform(tr, list(col), table, k)
                                for col, tr, k in zip(
                                    (columns[at[k]] for k in pk), key_trs, pk, strict=True
                                )
                            ]
                        )
                    pick |= np.fromiter(map(want.keys.__contains__, keys), dtype=bool, count=m)
                rows = np.flatnonzero(pick)
                if rows.size:
                    self._scrub(table, c, trs[c], documents, knows, read, columns, rows)
                if held.size:  # then the other rows holding a unit still undecided
                    wanted = self._wanted(q, c, want)
                    more = contains(wanted, held) & ~pick[owner]
                    rows = np.unique(owner[more])
                    if rows.size:
                        self._scrub(table, c, trs[c], documents, knows, read, columns, rows)
                        self._wanted(q, c, want)

    def _wanted(self, table: str, column: str, want: _Want) -> H:
        """The units whose rows ``want`` still looks for in ``column`` (a row's value
        holding one): the open doubtful units it has, those of its own text not yet
        found (``want.own`` drops them)."""
        if want.own.size:
            by = self.passed_by.get((table, column), HashSet()).array()
            want.own = want.own[~contains(by, want.own)]
        if not (want.doubtful and self._open.size):
            return want.own
        mine = self._open[contains(self.sets.scrubbed[(table, column)], self._open)]
        return union_sorted([want.own, mine])

    def _scrub(
        self,
        table: Table,
        column: str,
        tr: Any,
        documents: set[str],
        knows: KnownRows,
        read: list[str],
        columns: list[list[Any]],
        rows: npt.NDArray[np.int64],
    ) -> None:
        """Scrub ``rows`` of the batch (``columns``, named ``read``) as the eager way
        scrubs every row, and keep their shares."""
        idx = rows.tolist()
        values = [columns[read.index(column)][i] for i in idx]
        known = knows.rows({j: [columns[j][i] for i in idx] for j in knows.columns}, len(idx))
        hasher = self.sets.hasher
        with remembering():
            units = hasher.flat(as_documents(values) if column in documents else values)
            outputs = transform(tr, list(values), table, column, known)
        legit, passed, passed_by = scrub_contributions(hasher, units, values, outputs)
        col = (table.qualified, column)
        self.legit.setdefault(col, HashSet()).add_array(legit)
        self.passed_by.setdefault(col, HashSet()).add_array(passed_by)
        if passed.size:
            self._passed.add_array(passed)
            if self._open.size:
                self._open = self._open[~contains(unique_sorted(passed), self._open)]
        self.scrubbed_rows += len(idx)


__all__ = ["Scrubs"]
