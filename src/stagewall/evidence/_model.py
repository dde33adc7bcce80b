"""Values of the evidence domain: statuses, results, the event ranges they rest on."""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from types import MappingProxyType
from typing import Any


class CheckStatus(enum.StrEnum):
    """The honest outcome of a check: never a silent pass."""

    PASS = "PASS"  # noqa: S105 (a status, not a password)
    FAIL = "FAIL"
    NOT_VERIFIABLE = "NOT_VERIFIABLE"
    MANUAL = "MANUAL"
    NOT_APPLICABLE = "NOT_APPLICABLE"


def fmt_utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Window:
    """The observation window ``[start, end]`` (UTC); ``end`` is the as-of time."""

    start: datetime
    end: datetime

    def contains(self, when: datetime) -> bool:
        return self.start <= when <= self.end

    def overlaps(self, begin: datetime, finish: datetime) -> bool:
        return begin <= self.end and finish >= self.start

    def to_json(self) -> dict[str, str]:
        return {"from": fmt_utc(self.start), "to": fmt_utc(self.end)}

    def precise_json(self) -> dict[str, str]:
        """Bounds in the audit log's own time format (microseconds), comparable as text."""
        f = "%Y-%m-%dT%H:%M:%S.%fZ"
        return {
            "from": self.start.astimezone(UTC).strftime(f),
            "to": self.end.astimezone(UTC).strftime(f),
        }


@dataclass(frozen=True)
class EventRange:
    """Audit log indexes ``first..last`` (inclusive) a result rests on."""

    first: int
    last: int

    def to_json(self) -> list[int]:
        return [self.first, self.last]


def ranges_of(indexes: Iterable[int]) -> tuple[EventRange, ...]:
    """Sorted, merged inclusive ranges of ``indexes``."""
    out: list[EventRange] = []
    for i in sorted(set(indexes)):
        if out and out[-1].last + 1 == i:
            out[-1] = EventRange(out[-1].first, i)
        else:
            out.append(EventRange(i, i))
    return tuple(out)


def expand(ranges: Iterable[EventRange]) -> list[int]:
    return [i for r in ranges for i in range(r.first, r.last + 1)]


@dataclass(frozen=True)
class Attestation:
    """A person's signed-off statement for a check that cannot be measured."""

    check: str
    by: str
    on: date
    statement: str

    def to_json(self) -> dict[str, str]:
        return {
            "check": self.check,
            "by": self.by,
            "date": self.on.isoformat(),
            "statement": self.statement,
        }


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict, the figures behind it, and the events it rests on."""

    check: str
    status: CheckStatus
    summary: str
    figures: Mapping[str, Any] = field(default_factory=dict)
    events: tuple[EventRange, ...] = ()
    why: str | None = None  # required for NOT_VERIFIABLE and NOT_APPLICABLE
    attestation: Attestation | None = None  # required for MANUAL
    items: tuple[Mapping[str, Any], ...] = ()  # the failing (or notable) items

    def __post_init__(self) -> None:
        object.__setattr__(self, "figures", MappingProxyType(dict(self.figures)))
        if self.status in (CheckStatus.NOT_VERIFIABLE, CheckStatus.NOT_APPLICABLE) and not self.why:
            raise ValueError(f"check {self.check}: {self.status} needs a reason (why)")
        if self.status is CheckStatus.MANUAL and self.attestation is None:
            raise ValueError(f"check {self.check}: MANUAL needs an attestation")

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status.value,
            "summary": self.summary,
            "why": self.why,
            "figures": dict(self.figures),
            "events": [r.to_json() for r in self.events],
            "attestation": self.attestation.to_json() if self.attestation else None,
            "items": [dict(i) for i in self.items],
        }

    def evidence_hash(self) -> str:
        """SHA-256 of the canonical JSON of this result (cited by answers and exports)."""
        raw = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"), default=str)
        return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class Evaluation:
    """Every check's result at one time over one window."""

    window: Window
    results: Mapping[str, CheckResult]
    log_size: int

    @property
    def at(self) -> datetime:
        return self.window.end

    def get(self, name: str) -> CheckResult:
        return self.results[name]

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in CheckStatus}
        for r in self.results.values():
            out[r.status.value] += 1
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": fmt_utc(self.window.end),
            "window": self.window.to_json(),
            "log_size": self.log_size,
            "counts": self.counts(),
            "checks": [self.results[k].to_json() for k in sorted(self.results)],
        }


__all__ = [
    "Attestation",
    "CheckResult",
    "CheckStatus",
    "Evaluation",
    "EventRange",
    "Window",
    "expand",
    "fmt_utc",
    "ranges_of",
]
