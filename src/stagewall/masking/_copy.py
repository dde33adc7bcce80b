"""Copy one unit of work (a table, or a range of one) from source to target, masking it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from stagewall.errors import MaskingError
from stagewall.masking._known_rows import KnownRows, KnownSpec, go_on
from stagewall.masking._memo import ColumnMemo
from stagewall.masking._subset import Selection, sampled
from stagewall.masking.db import Database, copy_columns
from stagewall.masking.db._pgtext import decode_text_column
from stagewall.masking.schema import Column, Table
from stagewall.masking.transformers._known import KnownBatch


class TransformerLike(Protocol):
    def transform(self, values: Any) -> list[Any]: ...


@dataclass(frozen=True)
class Unit:
    """A table, or one ctid range of a large PostgreSQL table."""

    table: Table
    where: str | None = None  # internal range condition, never user text
    part: int = 0
    parts: int = 1


_DEDUP_MIN = 256  # rows in a batch before repeats are looked for
_DEDUP_MAX_SHARE = 0.6  # distinct values at most this share of the batch
_DEDUP_PAUSE = 8  # batches to skip the check after a mostly distinct one
_TEXT_OR_NULL = frozenset({str, type(None)})
DIRECT = True  # transformers that map COPY fields themselves may (tests turn it off)


class Mapper:
    """The transformers of one table's columns, for one worker."""

    def __init__(
        self,
        table: Table,
        transformers: dict[str, TransformerLike],
        known: KnownSpec | None = None,
    ) -> None:
        self.table = table
        self.columns: tuple[Column, ...] = copy_columns(table)
        self.names = [c.name for c in self.columns]
        self.by_index = {
            i: transformers[c.name] for i, c in enumerate(self.columns) if c.name in transformers
        }
        self._dedup_wait: dict[int, int] = {}
        self._memos: dict[tuple[int, bytes], ColumnMemo] = {}  # (column, suffix) → memo
        # a transformer whose output is not a function of the value alone says so
        self._unmemoised = frozenset(
            i for i, t in self.by_index.items() if not getattr(t, "memoisable", True)
        )
        # columns whose transformer takes each row's known values (text_scrub)
        self.consumers = frozenset(
            i for i, t in self.by_index.items() if getattr(t, "wants_known", False)
        )
        self.known = KnownRows(known, self.names) if known is not None and self.consumers else None
        # columns whose transformer takes the column's text as is (COPY text passed
        # through): ISO dates, and JSON documents (whose text tells a top-level string
        # from an object; decoded, "abc" and {"a": 1} would both be Python values)
        self.raw_text = frozenset(
            name
            for name, t in transformers.items()
            if getattr(t, "takes_iso_text", False) or getattr(t, "takes_json_text", False)
        )

        # columns whose transformer maps COPY text fields to COPY text fields itself
        # (date_shift on canonical ISO text, phone on ASCII text): no per-value str
        # (see DateShift.transform_copy_fields; the same bytes as decode, transform,
        # encode). Only for fields the transformer would be handed as text: a column
        # passed as raw text, or one whose decoder is the text decoder (see _fields)
        self._direct = {
            i: t.transform_copy_fields
            for i, t in self.by_index.items()
            if DIRECT and hasattr(t, "transform_copy_fields") and i not in self.consumers
        }

    @property
    def needs_known(self) -> bool:
        return self.known is not None

    def prepare(
        self, src: Any, batch_rows: int, checkpoint: Callable[[], None] | None = None
    ) -> None:
        """Read what the known values of related rows need (before a copy starts)."""
        if self.known is not None:
            self.known.prepare(src, batch_rows, checkpoint)

    def _run(self, idx: int, values: list[Any], known: list[Any] | None = None) -> list[Any]:
        if known is not None and idx in self.consumers:
            out: list[Any] = self.by_index[idx].transform_known(values, known)  # type: ignore[attr-defined]
        else:
            out = self._transform(idx, values)
        if len(out) != len(values):
            raise MaskingError(
                f"transformer on {self.table.qualified}.{self.names[idx]} returned "
                f"{len(out)} values for {len(values)}"
            )
        return out

    def _transform(self, idx: int, values: list[Any]) -> list[Any]:
        """One column of a batch; repeated texts are transformed once.

        A transformer's output depends only on its input, so a batch with many
        repeats (cities, first names, statuses) maps its distinct values and looks
        the rest up. Only for text (equal strings are identical; ``1 == 1.0 ==
        True`` and equal datetimes in other zones are not). A column whose batches
        are mostly distinct is looked at again only every few batches.
        """
        tr = self.by_index[idx]
        n = len(values)
        wait = self._dedup_wait.get(idx, 0)
        if wait:
            self._dedup_wait[idx] = wait - 1
        elif n >= _DEDUP_MIN and set(map(type, values)) <= _TEXT_OR_NULL:
            distinct = dict.fromkeys(values)
            if len(distinct) <= n * _DEDUP_MAX_SHARE:
                keys = list(distinct)
                out = tr.transform(keys)
                if len(out) != len(keys):
                    return out  # reported by the caller
                return list(map(dict(zip(keys, out, strict=True)).__getitem__, values))
            self._dedup_wait[idx] = _DEDUP_PAUSE
        return tr.transform(values)

    def _known_of(self, rows: KnownRows, cols: dict[int, list[Any]], n: int) -> list[Any]:
        """The batch's known values (see :class:`KnownRows`). With several consumers
        (an order's note and its JSON document test the same values), one
        :class:`KnownBatch`: the values' probes are built once for the batch."""
        known = rows.rows(cols, n)
        return KnownBatch(known) if len(self.consumers) > 1 else known

    def apply_rows(self, rows: list[list[Any]]) -> list[list[Any]]:
        known = None
        if self.known is not None:
            cols = {i: [r[i] for r in rows] for i in self.known.columns}
            known = self._known_of(self.known, cols, len(rows))
        for idx in self.by_index:
            try:
                out = self._run(idx, [r[idx] for r in rows], known)
            except MaskingError as exc:
                raise self._named(idx, exc) from None
            for r, v in zip(rows, out, strict=True):
                r[idx] = v
        return rows

    @property
    def prefix_order(self) -> list[int]:
        """Column indices with the transformed ones first (the order COPY uses)."""
        kept = [i for i in range(len(self.columns)) if i not in self.by_index]
        return [*self.by_index, *kept]

    def apply_prefix_batch(
        self,
        lines: list[bytes],
        decoders: list[Any],
        encode_column: Callable[..., list[bytes]],
    ) -> bytes:
        """Transform one batch of COPY text rows whose first ``k`` fields are transformed.

        Each row is split at its first ``k`` tabs only: the kept columns stay one
        untouched field (the row's tail, newline included), so a batch has
        ``k + 1`` objects per row whatever the width of the table. Transformed
        fields are encoded with their tab, and the batch is one plain join. The
        caller orders the COPY column lists by :attr:`prefix_order`, and only uses
        this when at least one column is kept.
        """
        k = len(self.by_index)
        w = k + 1
        # each row's fields appended with one C-level extend (25-30 % less than a
        # comprehension that appends field by field; the same list)
        flat: list[bytes] = []
        extend = flat.extend
        for line in lines:
            extend(line.split(b"\t", k))
        if len(flat) != len(lines) * w:  # pragma: no cover - defensive, COPY escapes tabs
            raise MaskingError(
                f"{self.table.qualified}: unexpected COPY row layout "
                f"({len(flat)} fields for {len(lines)} rows of {len(self.columns)} columns)"
            )
        for j, idx in enumerate(self.by_index):
            flat[j::w] = self._fields(idx, flat[j::w], decoders[j], encode_column, b"\t")
        return b"".join(flat)

    def apply_text_batch(
        self,
        lines: list[bytes],
        decoders: list[Any],
        encode_column: Callable[[list[Any], Any], list[bytes]],
    ) -> bytes:
        """Transform one batch of COPY text rows; columns that are kept stay bytes.

        Works on the batch as one flat list of fields: COPY text escapes tabs and
        newlines inside values, so splitting the joined batch on both gives
        ``rows x columns`` fields, and every column is a C-speed slice.
        """
        ncols = len(self.columns)
        flat = b"".join(lines)[:-1].replace(b"\n", b"\t").split(b"\t")
        if len(flat) != len(lines) * ncols:  # pragma: no cover - defensive, COPY escapes both
            raise MaskingError(
                f"{self.table.qualified}: unexpected COPY row layout "
                f"({len(flat)} fields for {len(lines)} rows of {ncols} columns)"
            )
        known = None
        decoded: dict[int, list[Any]] = {}
        if self.known is not None:
            cols: dict[int, list[Any]] = {}
            for i in self.known.columns:
                if i in self.by_index:
                    cols[i] = decoded[i] = decoders[i](flat[i::ncols])
                else:  # a kept key column: its COPY text is its key form
                    cols[i] = [None if f == b"\\N" else f.decode() for f in flat[i::ncols]]
            known = self._known_of(self.known, cols, len(lines))
        for idx in self.by_index:
            if idx in decoded:
                try:
                    out = self._run(idx, decoded[idx], known)
                except MaskingError as exc:
                    raise self._named(idx, exc) from None
                flat[idx::ncols] = encode_column(out, self.columns[idx].kind)
                continue
            flat[idx::ncols] = self._fields(
                idx, flat[idx::ncols], decoders[idx], encode_column, b"", known
            )
        flat[ncols - 1 :: ncols] = [f + b"\n" for f in flat[ncols - 1 :: ncols]]
        return b"\t".join(flat).replace(b"\n\t", b"\n")

    def _fields(
        self,
        idx: int,
        fields: list[bytes],
        decode: Callable[[list[bytes]], list[Any]],
        encode_column: Callable[..., list[bytes]],
        suffix: bytes,
        known: list[Any] | None = None,
    ) -> list[bytes]:
        """One column of a batch, raw COPY fields in, encoded fields (each followed by
        ``suffix``) out. Repeated fields come from the column's memo (see
        :mod:`._memo`), except for a transformer that takes each row's known values
        (its output depends on the row, not only on the field)."""
        kind = self.columns[idx].kind

        direct = self._direct.get(idx)
        if direct is not None and self.names[idx] not in self.raw_text:
            direct = direct if decode is decode_text_column else None

        def compute(raw: list[bytes]) -> list[bytes]:
            if direct is not None and raw:
                try:
                    fields = direct(raw, suffix)
                except MaskingError as exc:
                    raise self._named(idx, exc) from None
                if fields is not None and len(fields) == len(raw):
                    return fields  # type: ignore[no-any-return]
            try:
                out = self._run(idx, decode(raw), known)
            except MaskingError as exc:
                raise self._named(idx, exc) from None
            return encode_column(out, kind, suffix) if suffix else encode_column(out, kind)

        if (known is not None and idx in self.consumers) or idx in self._unmemoised:
            return compute(fields)
        memo = self._memos.get((idx, suffix))
        if memo is None:
            memo = self._memos[(idx, suffix)] = ColumnMemo()
        return memo.column(fields, compute) if memo.active else compute(fields)

    def _named(self, idx: int, exc: MaskingError) -> MaskingError:
        """The same error, with the table and column it happened in."""
        where = f"{self.table.qualified}.{self.names[idx]}"
        if where in exc.message:
            return exc
        return type(exc)(f"{where}: {exc.message}", hint=exc.hint)


def _filter(mapper: Mapper, sel: Selection, rows: list[list[Any]]) -> list[list[Any]]:
    if sel.mode == "keys":
        pos = [mapper.names.index(c) for c in sel.key_columns]
        return [r for r in rows if tuple(r[i] for i in pos) in sel.keys]
    if sel.mode == "filter" and sel.percent is not None:
        return [r for r in rows if sampled(tuple(r), sel.percent)]
    return rows


def copy_unit(
    src: Database,
    tgt: Database,
    unit: Unit,
    mapper: Mapper,
    sel: Selection,
    batch_rows: int,
    report: Callable[[int], None],
    checkpoint: Callable[[], None] | None = None,
) -> int:
    """Stream one unit; returns the rows written. Memory is bounded by ``batch_rows``.

    ``checkpoint`` is called before the unit and for each batch (after the COPY path
    wrote it; as the row path reads it); it raises to stop the run there (the open COPY
    or transaction is left to roll back)."""
    if sel.mode == "none" or (sel.mode == "keys" and not sel.keys):
        return 0
    if checkpoint is None:
        checkpoint = go_on
    checkpoint()
    from stagewall.masking.db._postgres import PostgresDatabase

    names = mapper.names
    mapper.prepare(src, batch_rows, checkpoint)
    if (
        isinstance(src, PostgresDatabase)
        and isinstance(tgt, PostgresDatabase)
        and sel.mode == "all"
    ):
        from stagewall.masking.db._pgtext import encode_column

        # transformed columns first, when some are kept: see Mapper.apply_prefix_batch
        # (not when known values are read: they need the key columns split out)
        prefix = 0 < len(mapper.by_index) < len(names) and not mapper.needs_known
        if prefix:
            names = [names[i] for i in mapper.prefix_order]
        transformed = names[: len(mapper.by_index)] if prefix else names
        decoders = (
            src.decoders(unit.table, transformed, as_text=mapper.raw_text)
            if mapper.by_index
            else []
        )
        done = 0
        with tgt.copy_in(unit.table, names) as writer:
            for lines in src.copy_out(unit.table, names, unit.where, batch_rows):
                if prefix:
                    data = mapper.apply_prefix_batch(lines, decoders, encode_column)
                elif mapper.by_index:
                    data = mapper.apply_text_batch(lines, decoders, encode_column)
                else:
                    data = b"".join(lines)
                writer.write(data)
                done += len(lines)
                report(len(lines))
                checkpoint()
        return done
    where = unit.where if sel.mode != "filter" or sel.where is None else sel.where

    def batches() -> Iterator[list[list[Any]]]:
        for batch in src.iter_rows(unit.table, names, where, batch_rows):
            checkpoint()  # every batch read, even one the filter empties
            rows = _filter(mapper, sel, [list(r) for r in batch])
            if rows:
                yield mapper.apply_rows(rows)

    done = 0
    if isinstance(tgt, PostgresDatabase):
        with tgt.copy_in(unit.table, names) as writer:
            for rows in batches():
                writer.write(tgt.encode_rows(mapper.columns, rows))  # type: ignore[arg-type]
                done += len(rows)
                report(len(rows))
        return done
    for rows in batches():
        tgt.write_rows(unit.table, mapper.columns, rows)  # type: ignore[arg-type]
        done += len(rows)
        report(len(rows))
    tgt.commit()
    return done


__all__ = ["Mapper", "Unit", "copy_unit"]
