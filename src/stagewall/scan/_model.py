"""Values shared by readers, rules, the engine and the report writers."""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field
from typing import Any


class Severity(enum.IntEnum):
    """Finding severity; ordered so ``>=`` compares with ``--fail-on``."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.strip().upper()]


class Tier(enum.Enum):
    """Which side of the wall something is on, as far as the scanner can tell."""

    PRODUCTION = "production"
    NON_PRODUCTION = "non-production"
    UNKNOWN = "unknown"


class SuppressionKind(enum.Enum):
    INLINE = "inSource"
    BASELINE = "external"


@dataclass(frozen=True)
class Suppression:
    kind: SuppressionKind
    justification: str


@dataclass(frozen=True)
class Attribution:
    """The environment a file (or a value) belongs to and why we think so."""

    environment: str | None
    tier: Tier
    reason: str

    @property
    def label(self) -> str:
        return self.environment or "unknown"


UNKNOWN_ENV = Attribution(None, Tier.UNKNOWN, "no path convention, estate glob or content matched")


@dataclass(frozen=True)
class Entry:
    """One scalar value found in a file: where it sits (key path) and on which line."""

    path: tuple[str, ...]
    value: str
    line: int

    @property
    def key(self) -> str:
        return self.path[-1].lower() if self.path else ""


@dataclass(frozen=True)
class Finding:
    """One problem at one place. ``evidence`` is already redacted."""

    rule_id: str
    severity: Severity
    message: str
    file: str
    line: int
    environment: str
    evidence: str
    anchor: str = ""
    suppression: Suppression | None = None
    fingerprint: str = ""
    environment_reason: str = ""  # how the environment was attributed

    def with_fingerprint(self, occurrence: int) -> Finding:
        basis = "\x1f".join(
            [self.rule_id, self.file, self.anchor or self.evidence, str(occurrence)]
        )
        digest = hashlib.sha256(basis.encode("utf-8")).hexdigest()[:32]
        return _replace(self, fingerprint=digest)

    def suppressed(self, suppression: Suppression) -> Finding:
        return _replace(self, suppression=suppression)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule_id,
            "severity": self.severity.label,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "environment": self.environment,
            "environment_reason": self.environment_reason,
            "evidence": self.evidence,
            "fingerprint": self.fingerprint,
        }
        if self.suppression is not None:
            out["suppression"] = {
                "kind": "inline" if self.suppression.kind is SuppressionKind.INLINE else "baseline",
                "justification": self.suppression.justification,
            }
        return out


def _replace(finding: Finding, **changes: Any) -> Finding:
    from dataclasses import replace

    return replace(finding, **changes)


@dataclass(frozen=True)
class Skipped:
    file: str
    reason: str


@dataclass
class ScanStats:
    files_scanned: int = 0
    skipped: list[Skipped] = field(default_factory=list)

    def count(self, reason: str) -> int:
        return sum(1 for s in self.skipped if s.reason == reason)


def redact(secret: str, *, token: bool = True) -> str:
    """Show a little of a secret so it can be found, never enough to use it.

    Tokens with a fixed format show their type prefix and last two characters;
    free-form passwords show at most two characters.
    """
    n = len(secret)
    if not token:
        return f"{secret[:2]}… (length {n})" if n >= 12 else f"… (length {n})"
    if n >= 16:
        return f"{secret[:4]}…{secret[-2:]} (length {n})"
    if n >= 8:
        return f"{secret[:2]}… (length {n})"
    return f"… (length {n})"
