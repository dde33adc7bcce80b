"""Dates and timestamps as numbers, for whole batches: parse, key, shift and format.

``date_shift`` derives each value's offset from the *instant* it denotes, not
from how a driver happens to spell it: a date, a naive timestamp and a
time-zone-aware one (taken in UTC) become ``(kind, days since 1970-01-01,
microseconds of the day)``, packed into one 16-byte block (:func:`blocks`), the
input of one AES call. Native values from a driver and PostgreSQL COPY text
(``DateStyle=ISO``, ``TimeZone=UTC``) give the same block for the same instant.

COPY text is handled without a Python object per value: the batch is joined
into one byte buffer, checked against the few shapes PostgreSQL writes
(:func:`parse_texts`), the date digits are read and rewritten with NumPy, and the
buffer is decoded and split once (:func:`shift_texts`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
U8 = npt.NDArray[np.uint8]

DATE, NAIVE, AWARE = 0, 1, 2
_EPOCH = dt.date(1970, 1, 1).toordinal()
FIRST_DAY = dt.date(1, 1, 1).toordinal() - _EPOCH
LAST_DAY = dt.date(9999, 12, 31).toordinal() - _EPOCH
_US_PER_DAY = 86_400_000_000
_DIGIT_AT = np.array([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18])  # YYYY MM DD hh mm ss
_FIXED = {4: 45, 7: 45, 10: 32, 13: 58, 16: 58}  # '-' '-' ' ' ':' ':'


@dataclass(frozen=True)
class Parsed:
    """A batch of canonical texts as one buffer plus per-value numbers."""

    buf: U8  # the texts joined by "\n", as bytes
    starts: I64
    kind: I64
    days: I64
    micros: I64
    width: int = 0  # the texts' one length, when :func:`_parse_uniform` read them (else 0)


def days_from_civil(y: I64, m: I64, d: I64) -> I64:
    """Days since 1970-01-01 of proleptic Gregorian dates (vectorised; H. Hinnant)."""
    y = y - (m <= 2)
    era = np.floor_divide(y, 400)
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    out: I64 = era * 146097 + doe - 719468
    return out


def civil_from_days(z: I64) -> tuple[I64, I64, I64]:
    """Inverse of :func:`days_from_civil`: ``(year, month, day)`` arrays."""
    z = z + 719468
    era = np.floor_divide(z, 146097)
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = np.where(mp < 10, mp + 3, mp - 9)
    y = yoe + era * 400 + (m <= 2)
    return y, m, d


def blocks(kind: I64, days: I64, micros: I64) -> U8:
    """One 16-byte block per instant: kind, days and microseconds, little-endian."""
    rec = np.zeros(len(kind), dtype=[("k", "<i8"), ("v", "<i8")])
    rec["k"] = kind | (days << 8)
    rec["v"] = micros
    return rec.view(np.uint8).reshape(-1, 16)


def numbers(values: list[dt.date]) -> tuple[I64, I64, I64]:
    """``(kind, days, micros)`` of native dates/datetimes (aware ones in UTC)."""
    m = len(values)
    kind = np.empty(m, dtype=np.int64)
    days = np.empty(m, dtype=np.int64)
    micros = np.zeros(m, dtype=np.int64)
    for i, v in enumerate(values):
        if isinstance(v, dt.datetime):
            if v.tzinfo is not None and v.utcoffset() is not None:
                v = v.astimezone(dt.UTC)  # OverflowError at the calendar's ends
                kind[i] = AWARE
            else:
                kind[i] = NAIVE
            micros[i] = ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond
        else:
            kind[i] = DATE
        days[i] = v.toordinal() - _EPOCH
    return kind, days, micros


def parse_texts(texts: list[str]) -> Parsed | None:
    """Parse canonical ISO texts, or None if one is not in canonical form.

    Canonical: ``YYYY-MM-DD``, ``YYYY-MM-DD hh:mm:ss`` with an optional fraction
    of 1-6 digits not ending in 0, and an optional ``+00`` (UTC) — what
    PostgreSQL writes for date, timestamp and timestamptz under ``DateStyle=ISO``
    and ``TimeZone=UTC`` — and a date that exists.
    """
    m = len(texts)
    if m == 0:
        return None
    joined = "\n".join(texts)
    if joined.count("\n") != m - 1:
        return None
    raw = joined.encode("utf-8", "surrogatepass")
    if len(raw) != len(joined):
        return None  # not ASCII
    return parse_joined(raw, m)


def parse_joined(raw: bytes, m: int) -> Parsed | None:
    """:func:`parse_texts` of ``m`` texts given as their bytes joined by newlines
    (COPY text fields as they come: a canonical text is ASCII and has no escapes),
    or None if one is not in canonical form."""
    if m == 0 or raw.count(b"\n") != m - 1:
        return None
    buf = np.frombuffer(raw, dtype=np.uint8)
    if buf.size and buf.max() >= 128:
        return None  # not ASCII
    uniform = _parse_uniform(buf, m)
    if uniform is not None:
        return uniform
    # ASCII, and the only newlines are the m - 1 separators: they delimit the texts
    bounds = np.empty(m + 1, dtype=np.int64)
    bounds[0], bounds[-1] = -1, len(buf)
    bounds[1:-1] = np.flatnonzero(buf == 10)
    starts = bounds[:-1] + 1
    ends = bounds[1:]
    lengths = ends - starts
    has_time = lengths >= 19
    if ((lengths != 10) & ~has_time).any() or (lengths > 29).any():
        return None
    tz = has_time & (lengths >= 22)
    tz &= buf[np.maximum(ends - 3, 0)] == 43  # "+" of a trailing "+00"
    if tz.any():
        at = ends[tz]
        if ((buf[at - 2] != 48) | (buf[at - 1] != 48)).any():
            return None
    body = np.where(tz, lengths - 3, lengths)  # without the "+00"
    frac_len = np.where(has_time & (body > 19), body - 20, 0)
    if ((body > 19) & ((frac_len < 1) | (frac_len > 6))).any():
        return None
    if (frac_len > 0).any() and (buf[starts[frac_len > 0] + 19] != 46).any():  # "."
        return None
    # fixed positions: digits and separators of the first 10 or 19 characters
    width = np.where(has_time, 19, 10)
    cols = np.arange(19)
    inside = cols < width.reshape(-1, 1)
    # texts of one length (the usual column) are the rows of a matrix: a view, no gather
    rows = _rows_of_one_length(buf, lengths, m)
    if rows is not None and rows.shape[1] > 19:
        head = rows[:, :19]  # every text has a time: all of it inside
    else:
        head = np.where(inside, buf[np.minimum(starts.reshape(-1, 1) + cols, len(buf) - 1)], 48)
    for pos, byte in _FIXED.items():
        if (inside[:, pos] & (head[:, pos] != byte)).any():
            return None
    digits = head[:, _DIGIT_AT].astype(np.int64) - 48
    if ((digits < 0) | (digits > 9)).any():
        return None
    y = digits[:, 0] * 1000 + digits[:, 1] * 100 + digits[:, 2] * 10 + digits[:, 3]
    mo = digits[:, 4] * 10 + digits[:, 5]
    d = digits[:, 6] * 10 + digits[:, 7]
    hh = digits[:, 8] * 10 + digits[:, 9]
    mi = digits[:, 10] * 10 + digits[:, 11]
    ss = digits[:, 12] * 10 + digits[:, 13]
    if ((y < 1) | (mo < 1) | (mo > 12) | (d < 1) | (hh > 23) | (mi > 59) | (ss > 59)).any():
        return None
    days = days_from_civil(y, mo, d)
    if (civil_from_days(days)[2] != d).any():  # 2023-02-29 and the like
        return None
    micros = ((hh * 60 + mi) * 60 + ss) * 1_000_000
    if (frac_len > 0).any():
        fcols = np.arange(6)
        fmask = fcols < frac_len.reshape(-1, 1)
        if rows is not None and rows.shape[1] > 26:
            raw_fraction = rows[:, 20:26]
        else:
            raw_fraction = buf[np.minimum(starts.reshape(-1, 1) + 20 + fcols, len(buf) - 1)]
        fb = np.where(fmask, raw_fraction, 48)
        fd = fb.astype(np.int64) - 48
        if ((fd < 0) | (fd > 9)).any():
            return None
        last = fd[np.arange(m), np.maximum(frac_len - 1, 0)]
        if ((frac_len > 0) & (last == 0)).any():
            return None  # "10:00:00.50" is written "10:00:00.5"
        micros += fd @ np.array([100000, 10000, 1000, 100, 10, 1], dtype=np.int64)
    kind = np.where(tz, AWARE, np.where(has_time, NAIVE, DATE)).astype(np.int64)
    return Parsed(buf, starts, kind, days, micros)


def _digit_table(width: int) -> U8:
    """``(10**width, width)``: the zero-padded decimal digits of every number, as ASCII."""
    n = 10**width
    return np.frombuffer("".join(f"{i:0{width}d}" for i in range(n)).encode(), np.uint8).reshape(
        n, width
    )


# one machine word per number (gathered as 1-D arrays, then seen as bytes again)
_YEARS, _TWO = _digit_table(4).view(np.uint32).ravel(), _digit_table(2).view(np.uint16).ravel()
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


@cache
def _layout(width: int, tz: bool) -> tuple[I64, U8, I64, Any, int] | None:
    """For canonical texts of ``width`` characters (``tz``: ending in ``+00``): the
    separators' positions and bytes, the digits' positions, the weights that turn
    those digits into year, month, day, hour, minute, second and microseconds, and
    the kind (None: no canonical text has this width)."""
    body = width - 3 if tz else width
    if body == 10 and not tz:
        frac = -1  # a date
    elif body == 19 or 21 <= body <= 26:
        frac = max(body - 20, 0)
    else:
        return None
    fixed = {4: 45, 7: 45}
    digits = [0, 1, 2, 3, 5, 6, 8, 9]
    if frac >= 0:
        fixed |= {10: 32, 13: 58, 16: 58}
        digits += [11, 12, 14, 15, 17, 18]
    if frac > 0:
        fixed[19] = 46  # "."
        digits += list(range(20, 20 + frac))
    if tz:
        fixed |= {body: 43, body + 1: 48, body + 2: 48}  # "+00"
    weights = np.zeros((len(digits), 7), dtype=np.float64)
    for col, (first, count) in enumerate([(0, 4), (4, 2), (6, 2), (8, 2), (10, 2), (12, 2)]):
        if first < len(digits) and first + count <= 14:
            weights[first : first + count, col] = [10.0 ** (count - 1 - k) for k in range(count)]
    for k in range(max(frac, 0)):
        weights[14 + k, 6] = 10.0 ** (5 - k)
    pos = np.array(sorted(fixed), dtype=np.int64)
    kind = AWARE if tz else NAIVE if frac >= 0 else DATE
    expect = np.array([fixed[p] for p in pos.tolist()], np.uint8)
    return pos, expect, np.array(digits), weights, kind


def _parse_uniform(buf: U8, m: int) -> Parsed | None:
    """:func:`parse_joined` of ASCII texts (``m`` of them, newline-separated) that all
    have one length and one canonical layout (a column as PostgreSQL writes it), read
    as the rows of a matrix; None for any other batch (the general reading decides:
    a text not canonical, or texts of several lengths or layouts)."""
    width = (len(buf) + 1) // m - 1
    if m * (width + 1) != len(buf) + 1 or not 10 <= width <= 29:
        return None
    padded = np.empty(m * (width + 1), dtype=np.uint8)
    padded[:-1] = buf
    padded[-1] = 10
    rows = padded.reshape(m, width + 1)
    if (rows[:, width] != 10).any():  # texts of several lengths
        return None
    layout = _layout(width, width >= 22 and int(rows[0, width - 3]) == 43)
    if layout is None:
        return None
    pos, fixed, at, weights, kind = layout
    if (rows[:, pos] != fixed).any():
        return None
    digits = rows[:, at] - np.uint8(48)  # a byte below "0" wraps above 9
    if (digits > 9).any() or (len(at) > 14 and (digits[:, -1] == 0).any()):
        return None  # a non-digit, or a fraction ending in 0 ("10:00:00.50")
    y, mo, d, hh, mi, ss, frac = (digits @ weights).astype(np.int64).T
    if ((y < 1) | (mo < 1) | (mo > 12) | (d < 1) | (hh > 23) | (mi > 59) | (ss > 59)).any():
        return None
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    if (d > _MONTH_DAYS[mo] + (leap & (mo == 2))).any():  # 2023-02-29 and the like
        return None
    return Parsed(
        buf,
        np.arange(m, dtype=np.int64) * (width + 1),
        np.full(m, kind, dtype=np.int64),
        days_from_civil(y, mo, d),
        ((hh * 60 + mi) * 60 + ss) * 1_000_000 + frac,
        width,
    )


def _rows_of_one_length(buf: U8, lengths: I64, m: int) -> U8 | None:
    """The joined texts as an ``(m, length + 1)`` matrix (each row a text and its
    newline; the last row's newline position is a copy), when all have one length."""
    n = int(lengths[0])
    if (lengths != n).any():
        return None
    padded = np.empty(m * (n + 1), dtype=np.uint8)
    padded[:-1] = buf
    padded[-1] = 10
    return padded.reshape(m, n + 1)


def shift_texts(parsed: Parsed, offsets: I64) -> list[str] | None:
    """The texts with their dates moved by ``offsets`` days; None outside years 1-9999."""
    out = shift_joined(parsed, offsets)
    return None if out is None else out.decode("ascii").split("\n")


def shift_joined(parsed: Parsed, offsets: I64) -> bytes | None:
    """:func:`shift_texts` as the shifted texts' bytes joined by newlines."""
    days = parsed.days + offsets
    if days.min() < FIRST_DAY or days.max() > LAST_DAY:
        return None
    y, mo, d = civil_from_days(days)
    if parsed.width:  # texts of one length: the rows of a matrix, the date in columns 0-9
        m, width = len(days), parsed.width
        rows = np.empty(m * (width + 1), dtype=np.uint8)
        rows[:-1] = parsed.buf
        rows[-1] = 10
        matrix = rows.reshape(m, width + 1)
        matrix[:, 0:4] = np.take(_YEARS, y).view(np.uint8).reshape(m, 4)
        matrix[:, 5:7] = np.take(_TWO, mo).view(np.uint8).reshape(m, 2)
        matrix[:, 8:10] = np.take(_TWO, d).view(np.uint8).reshape(m, 2)
        return rows[:-1].tobytes()
    new = np.stack(
        [y // 1000, y // 100 % 10, y // 10 % 10, y % 10, mo // 10, mo % 10, d // 10, d % 10],
        axis=1,
    )
    out = parsed.buf.copy()
    out[parsed.starts.reshape(-1, 1) + _DIGIT_AT[:8]] = (new + 48).astype(np.uint8)
    return out.tobytes()


def offsets_from(tags: Any, max_days: int) -> I64:
    """Offsets in ``±[1, max_days]`` days from 64-bit keyed tags."""
    h = np.asarray(tags, dtype=np.uint64)
    mag = (h % np.uint64(max_days) + np.uint64(1)).astype(np.int64)
    out: I64 = mag * np.where((h >> np.uint64(63)) == 0, 1, -1)
    return out


__all__ = [
    "AWARE",
    "DATE",
    "FIRST_DAY",
    "LAST_DAY",
    "NAIVE",
    "Parsed",
    "blocks",
    "civil_from_days",
    "days_from_civil",
    "numbers",
    "offsets_from",
    "parse_joined",
    "parse_texts",
    "shift_joined",
    "shift_texts",
]
