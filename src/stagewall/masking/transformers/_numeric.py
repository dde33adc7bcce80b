"""Dates and numbers: date_shift, birth_date, numeric_noise."""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import MAX_EMAX, MIN_EMIN, Decimal, localcontext
from functools import cache
from typing import Any, Literal

import numpy as np
from pydantic import Field

from stagewall.errors import MaskingError
from stagewall.masking.transformers._aesprf import keyed_prf
from stagewall.masking.transformers._base import ParamsModel, Transformer, register, wrong_type
from stagewall.masking.transformers._batch import keyed_hash
from stagewall.masking.transformers._instants import (
    blocks,
    numbers,
    offsets_from,
    parse_joined,
    parse_texts,
    shift_joined,
    shift_texts,
)
from stagewall.masking.types import ColumnKind

_DATES = frozenset({ColumnKind.DATE, ColumnKind.TIMESTAMP})
_COPY_NULL = b"\\N"  # NULL in PostgreSQL COPY text
# PostgreSQL's text of a date Python's datetime cannot hold: year 10000 on, or BC
_OUT_OF_RANGE = re.compile(r"\d{5,}-|.* BC$")


def _as_dates(name: str, values: list[Any]) -> tuple[list[dt.date], list[str | None]]:
    """Dates/datetimes, also ISO text as SQLite returns it; remembers how to write text back.

    The second list holds, per value, ``None`` (a native value) or the date/time
    separator of an ISO string (``""`` for a date-only string).
    """
    if set(map(type, values)) <= {dt.date, dt.datetime}:  # native values: nothing to parse
        return values, [None] * len(values)
    out: list[dt.date] = []
    styles: list[str | None] = []
    for v in values:
        if isinstance(v, dt.date):
            out.append(v)
            styles.append(None)
        elif isinstance(v, str):
            try:
                if len(v) == 10:
                    out.append(dt.date.fromisoformat(v))
                    styles.append("")
                else:
                    out.append(dt.datetime.fromisoformat(v))
                    styles.append(v[10:11] or "T")
            except ValueError:
                if _OUT_OF_RANGE.match(v):
                    raise MaskingError(
                        f"{name}: a date outside the years 1 to 9999 (a BC date or a year "
                        "after 9999) cannot be shifted",
                        hint="correct those rows in the source, or leave them out of the "
                        "copy with --subset 'TABLE:WHERE COLUMN BETWEEN ...', or plan "
                        "`null` for this column",
                    ) from None
                raise MaskingError(
                    f"{name}: a text value is not an ISO 8601 date or timestamp",
                    hint="store dates as dates, or use a text transformer for this column",
                ) from None
        else:
            raise wrong_type(name, v, "date or timestamp")
    return out, styles


def _restyle(values: list[dt.date], styles: list[str | None]) -> list[object]:
    if not any(s is not None for s in styles):
        return list(values)
    out: list[object] = []
    for v, style in zip(values, styles, strict=True):
        if style is None:
            out.append(v)
        elif isinstance(v, dt.datetime):
            out.append(v.isoformat(sep=style))
        else:
            out.append(v.isoformat())
    return out


_INFINITE = frozenset({"infinity", "-infinity"})


def _is_sentinel(v: object) -> bool:
    """PostgreSQL's infinite dates and MySQL's zero dates: no calendar date at all."""
    return type(v) is str and (v in _INFINITE or v.startswith("0000-00-00"))


def _may_hold_sentinel(values: list[Any]) -> bool:
    """False only when no value is a sentinel; checked on the whole batch at C speed
    when every value is text (COPY text), value by value otherwise."""
    try:
        joined = "\n".join(values)
    except TypeError:  # dates, datetimes or NULLs: the caller checks one by one
        return True
    # a str value equal to an infinity is in the set; one starting with the zero date
    # follows a newline (or starts the batch) in the joined text
    return not _INFINITE.isdisjoint(values) or "\n0000-00-00" in "\n" + joined


def _around_sentinels(values: list[Any], apply: Any) -> list[object] | None:
    """``apply`` to the values that are dates, the sentinels left as they are (they
    name no day, so they reveal nothing); None when there is no sentinel."""
    if not _may_hold_sentinel(values) or not any(map(_is_sentinel, values)):
        return None
    out: list[object] = list(values)
    idx = [i for i, v in enumerate(values) if not _is_sentinel(v)]
    for i, v in zip(idx, apply([values[i] for i in idx]) if idx else [], strict=True):
        out[i] = v
    return out


@cache
def _day_steps(max_days: int) -> Any:
    """``timedelta(days=k)`` for ``k`` in ``[-max_days, max_days]`` (index ``k + max_days``)."""
    steps = np.empty(2 * max_days + 1, dtype=object)
    steps[:] = [dt.timedelta(days=k) for k in range(-max_days, max_days + 1)]
    return steps


class DateShiftParams(ParamsModel):
    max_days: int = Field(default=30, ge=1, le=36500)
    per: Literal["value", "salt", "block"] = "value"


BLOCK_DAYS = 64  # ``per: block``: each day moves to another day of its 64-day block


@register
class DateShift(Transformer):
    """Shift by a keyed offset in ``[-max_days, -1]`` or ``[1, max_days]`` days.

    ``per: value`` derives the offset from each value; ``per: salt`` uses one offset
    for every value with the same salt (the engine's salt for a column, or per
    entity), which keeps intervals between the dates of one entity. ``per: block``
    moves each day to another day of its block of :data:`BLOCK_DAYS` days (aligned
    on day numbers) along one keyed cycle through the block: distinct days stay
    distinct and none stays where it was, so it is unique-safe (a birth date in a
    unique key with the names), at most 63 days off (``max_days`` is not used).
    """

    name = "date_shift"
    accepts = _DATES
    Params = DateShiftParams

    # COPY text of date/timestamp columns comes in as text and is shifted as text
    # (``_instants``), without building a datetime per value.
    takes_iso_text = True

    def _apply(self, values: list[Any]) -> list[object]:
        kept = _around_sentinels(values, self._apply)
        if kept is not None:
            return kept
        kinds = set(map(type, values))
        if values and kinds == {str}:
            parsed = parse_texts(values)
            if parsed is not None:
                offsets = self._offsets(parsed.kind, parsed.days, parsed.micros)
                shifted_texts = shift_texts(parsed, offsets)
                if shifted_texts is None:
                    raise _out_of_range()
                return shifted_texts  # type: ignore[return-value]
        dates, styles = _as_dates(self.name, values)
        try:
            offsets = self._offsets(*numbers(dates))
        except OverflowError:
            raise _out_of_range() from None
        deltas = np.take(_day_steps(self._max_days()), offsets + self._max_days())
        try:
            shifted = list(map(_add_days, dates, deltas.tolist()))
        except OverflowError:
            raise _out_of_range() from None
        return _restyle(shifted, styles)

    def transform_copy_fields(self, fields: list[bytes], suffix: bytes) -> list[bytes] | None:
        """PostgreSQL COPY text fields in, COPY text fields (each followed by
        ``suffix``) out: for a batch of NULLs and canonical ISO texts
        (:func:`parse_joined`: no escape, infinity or date outside the years 1 to
        9999), the bytes that decoding, :meth:`transform` and encoding give (a NULL
        stays NULL), without a ``str`` per value; None for any other batch (the
        caller then takes that path).
        """
        joined = b"\n".join(fields)
        nulls = b"\\" in joined and _COPY_NULL in fields  # a NULL is the only "\\" it reads
        values = [f for f in fields if f != _COPY_NULL] if nulls else fields
        if not values:
            return None
        parsed = parse_joined(b"\n".join(values) if nulls else joined, len(values))
        if parsed is None:
            return None
        shifted = shift_joined(parsed, self._offsets(parsed.kind, parsed.days, parsed.micros))
        if shifted is None:
            raise _out_of_range()
        if suffix:
            shifted = shifted.replace(b"\n", suffix + b"\n") + suffix
        out = shifted.split(b"\n")
        if not nulls:
            return out
        done = iter(out)
        null = _COPY_NULL + suffix
        return [null if f == _COPY_NULL else next(done) for f in fields]

    def _max_days(self) -> int:
        if self.params.per == "block":  # type: ignore[attr-defined]
            return BLOCK_DAYS - 1
        return self.params.max_days  # type: ignore[attr-defined,no-any-return]

    def is_unique_safe(self) -> bool:
        # one offset for the column, or a cycle within each block: injective
        return self.params.per != "value"  # type: ignore[attr-defined,no-any-return]

    def _offsets(self, kind: Any, days: Any, micros: Any) -> Any:
        """Keyed offsets in days, ``±[1, max_days]``: one AES block per instant."""
        p: DateShiftParams = self.params  # type: ignore[assignment]
        if p.per == "block":
            return self._block_offsets(np.asarray(days, dtype=np.int64))
        if p.per == "salt":
            return offsets_from(
                np.repeat(keyed_hash(self._key, self.name, ["salt"]), len(kind)), p.max_days
            )
        prf = keyed_prf(self._key, "date_shift/instant", "date_shift/x")
        tags = np.ascontiguousarray(prf.tag(blocks(kind, days, micros))[:, :8]).view("<u8")
        return offsets_from(tags.reshape(-1), p.max_days)

    def _block_offsets(self, days: Any) -> Any:
        """The offset of each day to its successor on its block's keyed cycle."""
        block = np.floor_divide(days, BLOCK_DAYS)
        at = days - block * BLOCK_DAYS
        out = np.empty_like(days)
        for b in np.unique(block).tolist():
            nxt = self._cycle(int(b))
            sel = block == b
            out[sel] = nxt[at[sel]] - at[sel]
        return out

    def _cycle(self, block: int) -> Any:
        """``next[p]``: the position after ``p`` on one keyed cycle through all
        :data:`BLOCK_DAYS` positions of ``block`` (a derangement: no fixed point)."""
        cycles: dict[int, Any] = self.__dict__.setdefault("_cycles", {})
        nxt = cycles.get(block)
        if nxt is None:
            tags = keyed_hash(
                self._key, "date_shift/block", [f"{block}:{i}" for i in range(BLOCK_DAYS)]
            )
            order = np.argsort(tags, kind="stable")
            nxt = np.empty(BLOCK_DAYS, dtype=np.int64)
            nxt[order] = np.roll(order, -1)
            if len(cycles) > 100_000:
                cycles.clear()
            cycles[block] = nxt
        return nxt


def _add_days(v: dt.date, delta: dt.timedelta) -> dt.date:
    """Whole days added in UTC, so the instant moves by exactly ``delta`` across DST too.

    That is what the text path does (PostgreSQL text is in UTC); the result keeps
    the value's own time zone.
    """
    if isinstance(v, dt.datetime) and v.tzinfo is not None and v.utcoffset() is not None:
        return (v.astimezone(dt.UTC) + delta).astimezone(v.tzinfo)
    return v + delta


def _out_of_range() -> MaskingError:
    return MaskingError(
        "date_shift: a shifted date falls outside the supported calendar range",
        hint="lower max_days or null the out-of-range sentinel dates first",
    )


class BirthDateParams(ParamsModel):
    generalise: Literal["year", "month", "band"] = "year"
    band_years: int = Field(default=10, ge=2, le=100)


@register
class BirthDate(Transformer):
    """Generalise to 1 January of the year, the 1st of the month, or the first year of a band."""

    name = "birth_date"
    lossy = True
    accepts = _DATES
    Params = BirthDateParams

    def _apply(self, values: list[Any]) -> list[object]:
        kept = _around_sentinels(values, self._apply)
        if kept is not None:
            return kept
        p: BirthDateParams = self.params  # type: ignore[assignment]
        values, styles = _as_dates(self.name, values)
        out: list[dt.date] = []
        for v in values:
            if p.generalise == "year":
                d = dt.date(v.year, 1, 1)
            elif p.generalise == "month":
                d = dt.date(v.year, v.month, 1)
            else:
                d = dt.date(max(1, v.year - v.year % p.band_years), 1, 1)
            if isinstance(v, dt.datetime):
                out.append(dt.datetime(d.year, d.month, d.day, tzinfo=v.tzinfo))
            else:
                out.append(d)
        return _restyle(out, styles)


class NoiseParams(ParamsModel):
    mode: Literal["relative", "absolute"] = "relative"
    amount: float = Field(default=0.1, gt=0)
    keep_sign: bool = True


@register
class NumericNoise(Transformer):
    """Add deterministic keyed noise: ``v·(1+a·u)`` or ``v + a·u`` with ``u`` in [-1, 1].

    Integers stay integers (rounded), decimals keep their number of decimal places,
    floats stay floats; with ``keep_sign`` the sign of the value never flips.
    """

    name = "numeric_noise"
    accepts = frozenset({ColumnKind.INTEGER, ColumnKind.DECIMAL, ColumnKind.FLOAT})
    Params = NoiseParams

    def max_output_length(self, input_max: int | None) -> int | None:
        return None

    def _apply(self, values: list[Any]) -> list[object]:
        p: NoiseParams = self.params  # type: ignore[assignment]
        for v in values:
            if isinstance(v, bool) or not isinstance(v, int | float | Decimal):
                raise wrong_type(self.name, v, "numeric")
        h = keyed_hash(self._key, self.name, [f"{type(v).__name__}:{v!r}" for v in values])
        u = (h >> np.uint64(11)).astype(np.float64) / float(1 << 53) * 2.0 - 1.0
        out: list[object] = []
        for v, ui in zip(values, u.tolist(), strict=True):
            if (isinstance(v, float) and not math.isfinite(v)) or (
                isinstance(v, Decimal) and not v.is_finite()
            ):
                out.append(v)  # Infinity and NaN name no one; noise cannot apply
                continue
            x = float(v)
            if isinstance(v, Decimal) and not math.isfinite(x):
                out.append(_decimal_noise(v, p, ui))  # beyond a float's range
                continue
            y = x * (1.0 + p.amount * ui) if p.mode == "relative" else x + p.amount * ui
            if p.keep_sign and x != 0 and (y < 0) != (x < 0):
                y = -y
            if isinstance(v, int):
                out.append(round(y))
            elif isinstance(v, Decimal):
                exp = v.as_tuple().exponent
                q = Decimal(1).scaleb(exp) if isinstance(exp, int) else Decimal(1)
                out.append(Decimal(repr(y)).quantize(q))
            else:
                out.append(y)
        return out


def _decimal_noise(v: Decimal, p: NoiseParams, u: float) -> Decimal:
    """The noise of :class:`NumericNoise` in decimal arithmetic, for a value a float
    cannot hold (PostgreSQL's numeric reaches 10**131072)."""
    exp = v.as_tuple().exponent
    q = Decimal(1).scaleb(exp) if isinstance(exp, int) else Decimal(1)
    with localcontext() as ctx:
        ctx.prec = max(28, len(v.as_tuple().digits) + 20)
        ctx.Emax, ctx.Emin = MAX_EMAX, MIN_EMIN
        d = Decimal(repr(p.amount * u))
        y = v * (1 + d) if p.mode == "relative" else v + d
        if p.keep_sign and v != 0 and (y < 0) != (v < 0):
            y = -y
        return y.quantize(q)


__all__ = ["BirthDate", "DateShift", "NumericNoise"]
