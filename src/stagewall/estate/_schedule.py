"""Schedules of server tasks, kept deliberately small: ``hourly``, ``nightly``, ``daily HH:MM``.

All times are UTC. A schedule names *slots* (the instants it is due); the server's
leader runs a task once per slot, and a slot missed by more than its grace period
(the server was down) is skipped rather than run late.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

_DAILY = re.compile(r"^daily ([01][0-9]|2[0-3]):([0-5][0-9])$")
NIGHTLY_AT = timedelta(hours=2)
FORMS = "hourly, nightly (daily 02:00 UTC) or daily HH:MM (UTC)"


@dataclass(frozen=True)
class Schedule:
    text: str
    period: timedelta
    offset: timedelta  # from the start of the period (midnight or the full hour), UTC

    @property
    def grace(self) -> timedelta:
        """How late a slot may still start (a quarter of the period, at most an hour)."""
        return min(self.period / 4, timedelta(hours=1))

    def last_slot(self, now: datetime) -> datetime:
        """The newest instant <= ``now`` at which this schedule was due."""
        now = now.astimezone(UTC)
        if self.period == timedelta(hours=1):
            base = now.replace(minute=0, second=0, microsecond=0)
        else:
            base = now.replace(hour=0, minute=0, second=0, microsecond=0)
        slot = base + self.offset
        return slot if slot <= now else slot - self.period

    def next_slot(self, now: datetime) -> datetime:
        return self.last_slot(now) + self.period

    def due(self, now: datetime) -> datetime | None:
        """The slot to run now, or None (no slot within its grace period)."""
        slot = self.last_slot(now)
        return slot if now - slot <= self.grace else None


def parse_schedule(text: str) -> Schedule:
    """Parse a schedule; ValueError with the accepted forms otherwise."""
    value = " ".join(text.split()).lower()
    if value == "hourly":
        return Schedule(value, timedelta(hours=1), timedelta(0))
    if value == "nightly":
        return Schedule(value, timedelta(days=1), NIGHTLY_AT)
    m = _DAILY.match(value)
    if m:
        return Schedule(
            value, timedelta(days=1), timedelta(hours=int(m.group(1)), minutes=int(m.group(2)))
        )
    raise ValueError(f"schedule {text!r} is not one of: {FORMS}")


def check_schedule(value: str | None) -> str | None:
    """A pydantic validator: the schedule parses (stored as written)."""
    if value is not None:
        parse_schedule(value)
    return value


__all__ = ["FORMS", "Schedule", "check_schedule", "parse_schedule"]
