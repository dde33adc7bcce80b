"""A row's own date of birth as a known value (kind ``date``): its text form, the
writings it is searched in, and the pseudonym written in the same writing.

Only columns the plan gives ``birth_date`` are such values (:data:`DATE_TRANSFORMERS`):
an order date or a ticket's creation time identifies no one. The value is handed
on as ISO text (:func:`date_text`: ``1948-09-06``) and searched, as any known
value, as phrases of folded words (any run of non-word characters between them):
``1948 09 06`` (ISO, also with ``/`` or ``.``), ``06 09 1948`` and ``6 9 1948``
(day first: ``06/09/1948``, ``6/9/1948``, ``06.09.1948``, ``06-09-1948``), the same
month first (``09/06/1948``), and with the English month's name or abbreviation
before or after the day (``6 September 1948``, ``Sep 6, 1948``). text_scrub replaces
what it finds by a keyed pseudonym date written the same way
(:func:`pseudonym_dates`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence

DATE_KIND = "date"
DATE_TRANSFORMERS = frozenset({"birth_date"})
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
# the English abbreviations people write (September also as Sept)
_SHORT = {m[:3]: i for i, m in enumerate(MONTHS, 1)} | {"sept": 9}
_MONTH_OF = {m: i for i, m in enumerate(MONTHS, 1)} | _SHORT
_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_WORD = re.compile(r"[^\W_]+")


def date_text(value: object) -> object:
    """A date-of-birth column's value as ISO text (``1948-09-06``), from a ``date``,
    a ``datetime`` or text that starts with an ISO date (COPY or SQLite text); any
    other value as it is (not text: not a known value)."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if type(value) is str:
        m = _ISO.match(value)
        return m.group(0) if m else None
    return value


def date_column(col: Sequence[object]) -> list[object]:
    """:func:`date_text` of each value of a column."""
    return list(map(date_text, col))


def date_patterns(ws: list[str]) -> list[tuple[str, bool]]:
    """The word patterns of an ISO date whose words are ``ws`` (``1948 09 06``): every
    writing the module names; none for a value that is no valid date."""
    day = _parsed(ws)
    if day is None:
        return []
    y, m, d = f"{day.year:04d}", day.month, day.day
    mm, dd = f"{m:02d}", f"{d:02d}"
    forms = [
        [y, mm, dd],
        [y, str(m), str(d)],
        [dd, mm, y],
        [str(d), str(m), y],
        [mm, dd, y],
        [str(m), str(d), y],
    ]
    for name in (MONTHS[m - 1], MONTHS[m - 1][:3], *(["sept"] if m == 9 else [])):
        for dw in dict.fromkeys([str(d), dd]):
            forms += [[dw, name, y], [name, dw, y]]
    return [(f" {' '.join(f)} ", False) for f in dict.fromkeys(map(tuple, forms))]


def date_anchor(ws: list[str]) -> list[tuple[str, bool]]:
    """The anchor of a date's patterns: its year, a word of every writing."""
    return [(ws[0], True)] if _parsed(ws) is not None else []


def _parsed(ws: list[str]) -> dt.date | None:
    if len(ws) != 3 or not all(w.isdigit() for w in ws) or len(ws[0]) != 4:
        return None
    try:
        return dt.date(int(ws[0]), int(ws[1]), int(ws[2]))
    except ValueError:
        return None


def read_written(text: str) -> tuple[dt.date, Callable[[dt.date], str]] | None:
    """The date a found span writes and a function that writes another date the
    same way (its separators, the width of its numbers, its month word's length
    and case); None when the span is no date of a known writing."""
    tokens = list(_WORD.finditer(text))
    if len(tokens) != 3:
        return None
    ws = [t.group(0) for t in tokens]
    roles: list[str]
    named = [i for i, w in enumerate(ws) if w.lower() in _MONTH_OF]
    if named:
        if len(named) != 1 or named[0] == 2 or len(ws[2]) != 4:
            return None
        roles = ["n", "d", "y"] if named[0] == 0 else ["d", "n", "y"]
    elif len(ws[0]) == 4:
        roles = ["y", "m", "d"]
    elif len(ws[2]) == 4:
        roles = ["d", "m", "y"]
        if _date(ws, roles) is None:
            roles = ["m", "d", "y"]
    else:
        return None
    day = _date(ws, roles)
    if day is None:
        return None

    def write(new: dt.date) -> str:
        out = []
        pos = 0
        for tok, role, w in zip(tokens, roles, ws, strict=True):
            out.append(text[pos : tok.start()])
            out.append(_written(new, role, w))
            pos = tok.end()
        out.append(text[pos:])
        return "".join(out)

    return day, write


def _date(ws: list[str], roles: list[str]) -> dt.date | None:
    parts: dict[str, int] = {}
    for w, r in zip(ws, roles, strict=True):
        if r == "n":
            parts["m"] = _MONTH_OF[w.lower()]
        elif w.isdigit():
            parts[r] = int(w)
        else:
            return None
    try:
        return dt.date(parts["y"], parts["m"], parts["d"])
    except (KeyError, ValueError):
        return None


def _written(new: dt.date, role: str, old: str) -> str:
    """``new``'s part ``role`` written as ``old`` writes its own."""
    if role == "y":
        return f"{new.year:04d}"
    if role == "n":
        full = MONTHS[new.month - 1]
        word = full if len(old) > 4 else ("sept" if len(old) == 4 and new.month == 9 else full[:3])
        if old.isupper():
            return word.upper()
        return word.capitalize() if old[:1].isupper() else word
    n = new.month if role == "m" else new.day
    return f"{n:02d}" if len(old) == 2 and old[0] == "0" else str(n)


def pseudonym_dates(
    items: Sequence[str], shift: Callable[[list[str]], list[object]]
) -> dict[str, str | None]:
    """Each found span → the keyed pseudonym of the date it writes (``shift``: ISO
    texts → shifted ISO texts, date_shift's), written the same way; None (starred
    out) for a span that is no date of a known writing."""
    read = {s: read_written(s) for s in items}
    isos = sorted({r[0].isoformat() for r in read.values() if r is not None})
    moved = dict(zip(isos, shift(isos), strict=True)) if isos else {}
    out: dict[str, str | None] = {}
    for s, r in read.items():
        if r is None:
            out[s] = None
            continue
        new = moved.get(r[0].isoformat())
        m = _ISO.match(new) if type(new) is str else None
        out[s] = r[1](dt.date.fromisoformat(m.group(0))) if m else None
    return out


__all__ = [
    "DATE_KIND",
    "DATE_TRANSFORMERS",
    "MONTHS",
    "date_anchor",
    "date_column",
    "date_patterns",
    "date_text",
    "pseudonym_dates",
    "read_written",
]
