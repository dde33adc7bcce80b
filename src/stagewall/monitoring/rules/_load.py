"""Load the shipped Sigma rules and the user's, apply stagewall.yaml settings."""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass, replace
from pathlib import Path

from sigma.collection import SigmaCollection
from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationRule,
    SigmaCorrelationType,
)
from sigma.exceptions import SigmaError
from sigma.rule import SigmaRule

from stagewall.errors import SigmaRuleInvalid
from stagewall.estate.models import RuleSettings
from stagewall.monitoring.events import FIELD_NAMES
from stagewall.monitoring.rules._compile import CompiledRule, compile_rule

_OPS = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "eq": "=="}


@dataclass(frozen=True)
class CompiledCorrelation:
    """A Sigma v2 correlation (event_count, value_count, temporal, temporal_ordered)."""

    id: str
    name: str
    title: str
    level: str
    description: str
    type: str
    rules: tuple[str, ...]
    group_by: tuple[str, ...]
    timespan: float
    op: str
    count: int
    field: str | None
    generate: bool
    origin: str

    def satisfied(self, n: int) -> bool:
        c = self.count
        return {
            ">": n > c,
            ">=": n >= c,
            "<": n < c,
            "<=": n <= c,
            "==": n == c,
        }[self.op]


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[CompiledRule, ...]
    correlations: tuple[CompiledCorrelation, ...]
    # rule names whose matches alert on their own
    emitting: frozenset[str]

    def names(self) -> list[str]:
        return sorted({r.name for r in self.rules} | {c.name for c in self.correlations})


def _collection(text: str, origin: str) -> SigmaCollection:
    try:
        coll = SigmaCollection.from_yaml(text, resolve_references=False)
    except SigmaError as exc:
        raise SigmaRuleInvalid(
            f"{origin}: not a valid Sigma rule: {exc}",
            hint="check the YAML against the Sigma specification (title, logsource, "
            "detection with a condition; correlation rules name their rules)",
        ) from None
    errors = [str(e) for e in coll.errors]
    if errors:
        raise SigmaRuleInvalid(f"{origin}: {'; '.join(errors[:3])}")
    return coll


def _correlation(rule: SigmaCorrelationRule, origin: str) -> CompiledCorrelation:
    name = rule.name or str(rule.id or rule.title)
    kind = rule.type
    if kind not in (
        SigmaCorrelationType.EVENT_COUNT,
        SigmaCorrelationType.VALUE_COUNT,
        SigmaCorrelationType.TEMPORAL,
        SigmaCorrelationType.TEMPORAL_ORDERED,
    ):
        raise SigmaRuleInvalid(f"{origin}: correlation {name!r}: type {kind} is not supported")
    for group_field in rule.group_by or []:
        if group_field not in FIELD_NAMES:
            raise SigmaRuleInvalid(
                f"{origin}: correlation {name!r}: unknown group-by field {group_field!r}"
            )
    cond = rule.condition
    op = "gte"
    count = 1
    field: str | None = None
    if isinstance(cond, SigmaCorrelationCondition):
        op = cond.op.name.lower()
        count = int(cond.count)
        if isinstance(cond.fieldref, list):
            raise SigmaRuleInvalid(
                f"{origin}: correlation {name!r}: count values of one field, not several"
            )
        field = cond.fieldref
    elif cond is not None:
        raise SigmaRuleInvalid(
            f"{origin}: correlation {name!r}: extended (and/or) conditions are not supported"
        )
    if op not in ("gt", "gte"):
        raise SigmaRuleInvalid(
            f"{origin}: correlation {name!r}: only gt/gte conditions can alert while events "
            "stream in",
            hint="write the condition as gte: N",
        )
    if field is not None and field not in FIELD_NAMES:
        raise SigmaRuleInvalid(f"{origin}: correlation {name!r}: unknown field {field!r}")
    refs = []
    for ref in rule.rules or []:
        target = ref.rule
        if not isinstance(target, SigmaRule):
            raise SigmaRuleInvalid(
                f"{origin}: correlation {name!r}: chained correlations are not supported"
            )
        refs.append(target.name or str(target.id or target.title))
    return CompiledCorrelation(
        id=str(rule.id) if rule.id else "",
        name=name,
        title=rule.title,
        level=rule.level.name.lower() if rule.level else "medium",
        description=rule.description or "",
        type=kind.name.lower(),
        rules=tuple(refs),
        group_by=tuple(rule.group_by or ()),
        timespan=float(rule.timespan.seconds),
        op=_OPS[op],
        count=count,
        field=field,
        generate=bool(rule.generate),
        origin=origin,
    )


def _builtin_texts() -> list[tuple[str, str]]:
    folder = importlib.resources.files("stagewall.monitoring.rules") / "builtin"
    out = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yml"):
            out.append((f"builtin/{entry.name}", entry.read_text("utf-8")))
    return out


def _user_texts(rules_dir: Path) -> list[tuple[str, str]]:
    if not rules_dir.is_dir():
        raise SigmaRuleInvalid(
            f"monitoring.rules_dir {rules_dir} is not a directory",
            hint="create it or remove rules_dir from stagewall.yaml",
        )
    return [
        (str(p), p.read_text("utf-8"))
        for p in sorted([*rules_dir.glob("*.yml"), *rules_dir.glob("*.yaml")])
    ]


def load_rules(
    settings: dict[str, RuleSettings] | None = None,
    rules_dir: Path | None = None,
    *,
    builtin: bool = True,
) -> RuleSet:
    """The built-in rules plus those in ``rules_dir``, with per-rule settings applied."""
    settings = settings or {}
    texts = (_builtin_texts() if builtin else []) + (
        _user_texts(rules_dir) if rules_dir is not None else []
    )
    rules: list[CompiledRule] = []
    correlations: list[CompiledCorrelation] = []
    parsed = [(origin, _collection(text, origin)) for origin, text in texts]
    merged = SigmaCollection.merge([c for _o, c in parsed])
    origins = {id(item): origin for origin, c in parsed for item in c.rules}
    try:
        merged.resolve_rule_references()
    except SigmaError as exc:
        raise SigmaRuleInvalid(
            f"a correlation rule names a rule that does not exist: {exc}",
            hint="correlations refer to rules by their `name:` (or id)",
        ) from None
    for item in merged.rules:
        origin = origins.get(id(item), "rules")
        try:
            if isinstance(item, SigmaCorrelationRule):
                correlations.append(_correlation(item, origin))
            elif isinstance(item, SigmaRule):
                rules.append(compile_rule(item, origin))
        except SigmaError as exc:
            raise SigmaRuleInvalid(
                f"{origin}: not a valid Sigma rule: {exc}",
                hint="check the detection and its condition",
            ) from None
    names = [r.name for r in rules] + [c.name for c in correlations]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SigmaRuleInvalid(
            f"Sigma rule names are used twice: {', '.join(dupes)}",
            hint="give each rule a unique `name:` (your rules must not reuse built-in names)",
        )
    unknown = sorted(set(settings) - set(names))
    if unknown:
        raise SigmaRuleInvalid(
            f"monitoring.rules in stagewall.yaml names unknown rules: {', '.join(unknown)}",
            hint=f"known rules: {', '.join(sorted(names))}",
        )
    final: list[CompiledCorrelation] = []
    for corr in correlations:
        s = settings.get(corr.name)
        if s is not None:
            if not s.enabled:
                continue
            corr = replace(
                corr,
                count=s.threshold if s.threshold is not None else corr.count,
                timespan=s.timespan.total_seconds() if s.timespan is not None else corr.timespan,
            )
        final.append(corr)
    quiet = {r for c in correlations if not c.generate for r in c.rules}
    disabled = {n for n, s in settings.items() if not s.enabled}
    emitting = frozenset(r.name for r in rules if r.name not in quiet and r.name not in disabled)
    return RuleSet(tuple(rules), tuple(final), emitting)


__all__ = ["CompiledCorrelation", "RuleSet", "load_rules"]
