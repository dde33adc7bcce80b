"""Durations written like ``90s``, ``15m``, ``2h``, ``1d`` or ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer

_PART = re.compile(r"(\d+)([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_MAX_DAYS = 999_999
_MAX_SECONDS = _MAX_DAYS * 86400


def parse_duration(text: str) -> timedelta:
    """Parse ``2h``, ``30m``, ``1h30m``, ``7d``; ValueError with the accepted forms otherwise."""
    raw = text.strip().lower().replace(" ", "")
    if not raw or _PART.sub("", raw):
        raise ValueError(
            f"{text!r} is not a duration; write a number and a unit, e.g. 30m, 2h, 1h30m, 7d"
        )
    seconds = sum(int(n) * _UNITS[u] for n, u in _PART.findall(raw))
    if seconds <= 0:
        raise ValueError(f"{text!r} is not a positive duration")
    if seconds > _MAX_SECONDS:  # beyond what a timedelta holds (about 2.7 million years)
        raise ValueError(f"{text[:40]!r} is far too long a duration; write at most {_MAX_DAYS}d")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            out.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(out) or "0s"


def _coerce(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError("a duration must be a string like 30m, 2h or 7d")


Duration = Annotated[
    timedelta,
    BeforeValidator(_coerce),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]
