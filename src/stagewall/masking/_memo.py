"""A bounded memo of one column's transform, keyed by the raw COPY field.

A column with repeats (first names, cities, statuses, a /24 of addresses) maps the
same source field to the same target field in every batch: the transformers are
deterministic (same key, params, salt and value → same output), and so are the
COPY text decoder and encoder. The memo keeps ``raw field → encoded field`` for
one column of one table of one run, so a repeated field is neither decoded, nor
transformed, nor encoded again. It lives inside a :class:`~._copy.Mapper` (built
per run, with the run's key): it is never shared between columns, tables, keys or
runs, and it is dropped with the mapper.

Raw fields are compared as bytes: two fields are equal only if their COPY text is
(``1`` and ``1.0``, or equal instants written in different zones, stay apart).
A column whose fields rarely repeat turns its memo off after a few batches, so a
mostly distinct column pays a few dictionary look-ups and then nothing. It is
judged once it has looked up as many fields as it may hold: a column of up to
``MAX_ENTRIES`` distinct values that first repeat only after all of them have been
seen (a table read in the order its rows were inserted in cycles: 20,000 last
names, then the same again) shows no hit before that, and judged earlier it would
be switched off for good.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import compress, repeat
from operator import is_

MAX_ENTRIES = 32_768  # per column
MAX_BYTES = 4 * 1024 * 1024  # per column: raw and encoded bytes held
PROBATION = MAX_ENTRIES  # fields looked up before the hit rate is judged (see the module doc)
MIN_HIT_RATE = 0.15  # below this share of hits the memo turns itself off


class ColumnMemo:
    """``raw COPY field → encoded output field`` for one column (see the module doc)."""

    __slots__ = ("active", "held", "hits", "looked", "map")

    def __init__(self) -> None:
        self.map: dict[bytes, bytes] = {}
        self.active = MAX_ENTRIES > 0
        self.looked = 0
        self.hits = 0
        self.held = 0

    def column(
        self, fields: list[bytes], compute: Callable[[list[bytes]], list[bytes]]
    ) -> list[bytes]:
        """The encoded outputs of ``fields``; ``compute`` maps fields it is given
        (distinct, not in the memo) to their encoded outputs, in order."""
        out = list(map(self.map.get, fields))
        if None not in out:
            self._count(len(fields), len(fields))
            return out  # type: ignore[return-value]
        missing = list(compress(fields, map(is_, out, repeat(None))))
        distinct = list(dict.fromkeys(missing))
        encoded = compute(distinct)
        fresh = dict(zip(distinct, encoded, strict=True))
        # a hit keeps its memo value (its field is not in fresh), a miss takes fresh's
        merged: list[bytes] = list(map(fresh.get, fields, out))  # type: ignore[arg-type]
        self._count(len(fields), len(fields) - len(missing))
        if self.active and len(self.map) < MAX_ENTRIES and self.held < MAX_BYTES:
            self.map.update(fresh)
            self.held += sum(map(len, distinct)) + sum(map(len, encoded))
        return merged

    def _count(self, looked: int, hits: int) -> None:
        self.looked += looked
        self.hits += hits
        if self.looked >= PROBATION and self.hits < self.looked * MIN_HIT_RATE:
            self.active = False
            self.map = {}
            self.held = 0


__all__ = ["MAX_BYTES", "MAX_ENTRIES", "ColumnMemo"]
