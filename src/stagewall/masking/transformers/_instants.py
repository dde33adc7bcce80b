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
