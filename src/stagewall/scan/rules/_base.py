"""The rule contract: class attributes describe the rule, methods produce findings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import ClassVar

from stagewall.estate import Estate
from stagewall.scan._env import EnvModel
from stagewall.scan._model import Attribution, Entry, Finding, Severity, Tier
from stagewall.scan._refs import Ref, ResourceIndex
from stagewall.scan.readers import Parsed


@dataclass
class FileContext:
    """Everything a rule may look at for one file."""

    rel: str
    text: str
    parsed: Parsed | None
    attribution: Attribution
    env: EnvModel
    index: ResourceIndex
    estate: Estate | None
    refs: list[tuple[Entry, Ref]] = field(default_factory=list)

    @property
    def tier(self) -> Tier:
        return self.attribution.tier

    def finding(
        self,
        rule: type[Rule],
        message: str,
        line: int,
        evidence: str,
        *,
        severity: Severity | None = None,
        anchor: str = "",
        environment: str | None = None,
        environment_reason: str | None = None,
    ) -> Finding:
        return Finding(
            rule_id=rule.id,
            severity=severity or rule.severity,
            message=message,
            file=self.rel,
            line=max(1, line),
            environment=environment or self.attribution.label,
            evidence=evidence,
            anchor=anchor,
            environment_reason=environment_reason or self.attribution.reason,
        )


@dataclass(frozen=True)
class FileSummary:
    rel: str
    attribution: Attribution
    refs: list[tuple[Entry, Ref]]


@dataclass
class RunContext:
    """What cross-file rules see once every file has been read."""

    files: list[FileSummary]
    env: EnvModel
    index: ResourceIndex
    estate: Estate | None


class Rule:
    """Base class. Subclasses set every ClassVar and override ``check``/``finish``."""

    id: ClassVar[str]
    title: ClassVar[str]
    severity: ClassVar[Severity]
    description: ClassVar[str]
    remediation: ClassVar[str]
    controls: ClassVar[tuple[str, ...]]
    tags: ClassVar[tuple[str, ...]] = ()

    def check(self, ctx: FileContext) -> Iterable[Finding]:
        return ()

    def finish(self, run: RunContext) -> Iterable[Finding]:
        return ()
