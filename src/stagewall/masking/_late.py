"""Verify's late tokens: the tokens inside a pseudonymiser's outputs, found only for
the target hits that need them.

In :func:`._hashscan.collect`, a column's legitimate outputs are the units of its
recomputed outputs (a pseudonym that equals some other customer's real name is not
a leak in that column). For pseudonymisers, the tokens the detector would find
inside those outputs ("6619 David Alley" holds the name "David") are left out
there: the scan keeps the hits of such columns pending, and :func:`resolve` then
recomputes only those columns' outputs from the source, in the same snapshot,
running the detector only on outputs that hold a pending unit (:class:`._gate.Gate`
of the hits). The result is the one the eager way gives (tests/masking/test_gate.py).
Scrubbers' outputs are found late too, by :mod:`._scrublate`: :func:`resolve` does
both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from stagewall.keys import MaskingKey
from stagewall.masking._gate import Gate, unit_keys
from stagewall.masking._hashscan import Pending, ScanResult, Sets, transform
from stagewall.masking._units import EMPTY, FlatUnits, H, HashSet, contains, unique_sorted
from stagewall.masking.plan import Plan, consistency_salt
from stagewall.masking.schema import Schema, Table


def resolve(found: Sequence[ScanResult], sets: Sets, *source: Any) -> None:
    """Count every pending hit of ``found`` (in place): those of late
    pseudonymisers' columns (:func:`resolve_tokens`, whose ``plan, schema, db, key,
    batch_rows`` are ``source``), then those the scrubbers decide
    (:meth:`._scrublate.Scrubs.settle`)."""
    from stagewall.masking._scrublate import Scrubs

    resolve_tokens(found, sets, *source)
    Scrubs(sets, *source).settle(found)


def resolve_tokens(
    found: Sequence[ScanResult],
    sets: Sets,
    plan: Plan,
    schema: Schema,
    db: Any,
    key: MaskingKey,
    batch_rows: int,
) -> None:
    """The pending hits of late pseudonymisers' columns (in place): a hit stays unless
    the column's transformer outputs that unit, as a token inside an output, for
    some source value other than the one it is a unit of (the legitimate-output rule
    the other columns get in :func:`collect`). Only the column's own source values
    are read and recomputed, and the detector reads only the texts holding a hit.
    A column's cells are counted here unless a hit is doubtful (``Sets.doubtful``):
    then the scrubbers decide, and the hits this excuses wait (``Pending.excused``)."""
    for result in found:
        for column, got in list(result.pending.items()):
            where = (sets.source_name_of(result.table), column)
            if where not in sets.late or got.excused is not None:
                continue
            hashes = np.concatenate(got.hashes)
            cells = np.concatenate(got.cells)
            table = schema.table(where[0])
            legit = EMPTY
            if table is not None:
                legit = _late_legit(plan, schema, db, key, sets, table, column, got, batch_rows)
            excused = contains(legit, hashes)
            if sets.doubtful.size and contains(sets.doubtful, hashes[~excused]).any():
                got.excused = excused
                continue
            result.counts[column] += int(np.unique(cells[~excused]).size)
            del result.pending[column]


def _late_legit(
    plan: Plan,
    schema: Schema,
    db: Any,
    key: MaskingKey,
    sets: Sets,
    table: Table,
    column: str,
    got: Pending,
    batch_rows: int,
) -> H:
    """The pending units that ``column``'s transformer outputs for another value."""
    from stagewall.masking.transformers import build_transformer

    cp = plan.column(table.qualified, column)
    if cp is None:
        return EMPTY
    salt = consistency_salt(schema, table.qualified, column)
    tr = build_transformer(cp.transformer, cp.params, key=key, salt=salt)
    wanted = unique_sorted(np.concatenate(got.hashes))
    texts = list(dict.fromkeys(got.texts))
    gate = Gate(
        wanted,
        unit_keys(texts),
        np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)),
        sets.hasher.hash_many,
    )
    legit = HashSet()
    for _, (values,) in db.iter_columns(table, [column], None, batch_rows):
        out = sets.hasher.flat(transform(tr, list(values), table, column), gate)
        wants = contains(wanted, out.hashes)
        if not wants.any():
            continue
        # only the rows with an output unit that is pending need their input's units
        # (a value's units depend on the value alone)
        rows = np.unique(out.owner[wants])
        theirs = sets.hasher.flat([values[i] for i in rows.tolist()], gate)
        units = FlatUnits(rows[theirs.owner], theirs.kind, theirs.hashes)
        out = FlatUnits(out.owner[wants], out.kind[wants], out.hashes[wants])
        new = ~contains(unique_sorted(units.pair_keys()), out.pair_keys())
        legit.add_array(out.hashes[new])
    return legit.array()


__all__ = ["resolve", "resolve_tokens"]
