"""Working hours written like ``Mon-Fri 08:00-18:00`` and IANA time zones.

Several windows are separated by commas: ``Mon-Fri 08:00-18:00, Sat 10:00-14:00``.
A window may cross midnight (``Mon-Fri 22:00-06:00``); it then belongs to the day
it starts on. ``always`` means every hour of the week.
"""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(
    r"^(?P<d1>[a-z]{3})(?:-(?P<d2>[a-z]{3}))?\s+"
    r"(?P<h1>\d{1,2}):(?P<m1>\d{2})-(?P<h2>\d{1,2}):(?P<m2>\d{2})$"
)
WEEK_MINUTES = 7 * 24 * 60


def _day(name: str, text: str) -> int:
    try:
        return _DAYS.index(name)
    except ValueError:
        raise ValueError(
            f"{text!r}: {name!r} is not a day; use Mon, Tue, Wed, Thu, Fri, Sat, Sun"
        ) from None


@lru_cache(maxsize=256)
def parse_working_hours(text: str) -> frozenset[int]:
    """The minutes of the week (0 = Monday 00:00) inside the windows, at 15-minute steps.

    Returned as the set of quarter-hour slots (0..671) so lookups are one set test.
    """
    raw = text.strip().lower()
    if raw == "always":
        return frozenset(range(WEEK_MINUTES // 15))
    slots: set[int] = set()
    for part in raw.split(","):
        m = _WINDOW.match(part.strip())
        if m is None:
            raise ValueError(
                f"{text!r} is not a working-hours window; write e.g. 'Mon-Fri 08:00-18:00' "
                "(several separated by commas, or 'always')"
            )
        first = _day(m["d1"], text)
        last = _day(m["d2"], text) if m["d2"] else first
        start = int(m["h1"]) * 60 + int(m["m1"])
        end = int(m["h2"]) * 60 + int(m["m2"])
        if start > 24 * 60 or end > 24 * 60 or int(m["m1"]) > 59 or int(m["m2"]) > 59:
            raise ValueError(f"{text!r}: times run from 00:00 to 24:00")
        if start == end:
            raise ValueError(f"{text!r}: a window must not start and end at the same time")
        length = end - start if end > start else end + 24 * 60 - start
        day = first
        while True:
            base = day * 24 * 60 + start
            for minute in range(base, base + length, 15):
                slots.add((minute % WEEK_MINUTES) // 15)
            if day == last:
                break
            day = (day + 1) % 7
    return frozenset(slots)


def check_timezone(name: str) -> str:
    """``name`` if it is a known IANA time zone; ValueError otherwise."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"{name!r} is not a known time zone; use an IANA name such as Europe/Berlin or UTC"
        ) from None
    return name


__all__ = ["WEEK_MINUTES", "check_timezone", "parse_working_hours"]
