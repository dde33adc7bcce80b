"""The control map: framework requirements linked to checks, as YAML data in the package.

Each file under ``controls/`` names a framework and its requirements; every
requirement lists one or more check names. Loading fails on an unknown check name,
a duplicate requirement id, or an unknown field.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from stagewall.errors import ConfigError
from stagewall.evidence._model import CheckResult, CheckStatus
from stagewall.evidence._registry import registered_checks


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Requirement(_Model):
    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    checks: list[str] = Field(min_length=1)


class Framework(_Model):
    framework: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    ciso_assistant_urn: str = ""
    requirements: list[Requirement] = Field(min_length=1)

    def urn(self, req: Requirement) -> str:
        base = self.ciso_assistant_urn or f"urn:stagewall:req:{self.framework}"
        return f"{base}:{req.id.lower()}"


@dataclass(frozen=True)
class ControlMap:
    frameworks: tuple[Framework, ...]

    def checks_used(self) -> set[str]:
        return {c for f in self.frameworks for r in f.requirements for c in r.checks}

    def requirements_of(self, check: str) -> list[str]:
        return [
            f"{f.framework} {r.id}"
            for f in self.frameworks
            for r in f.requirements
            if check in r.checks
        ]


def requirement_status(results: list[CheckResult]) -> CheckStatus:
    """A requirement fails if any check fails; passes only if the measured ones all pass."""
    statuses = {r.status for r in results}
    if CheckStatus.FAIL in statuses:
        return CheckStatus.FAIL
    if CheckStatus.NOT_VERIFIABLE in statuses:
        return CheckStatus.NOT_VERIFIABLE
    if statuses <= {CheckStatus.NOT_APPLICABLE}:
        return CheckStatus.NOT_APPLICABLE
    if CheckStatus.PASS in statuses:
        return CheckStatus.PASS
    return CheckStatus.MANUAL


def parse_framework(text: str, source: str, known: set[str]) -> Framework:
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"control map {source} is not valid YAML: {exc}") from exc
    try:
        fw = Framework.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(
            f"control map {source}: {where}: {err['msg']}",
            hint="each requirement has id, title, description and a non-empty list of checks",
        ) from None
    seen: set[str] = set()
    for req in fw.requirements:
        if req.id in seen:
            raise ConfigError(f"control map {source}: requirement {req.id} appears twice")
        seen.add(req.id)
        unknown = [c for c in req.checks if c not in known]
        if unknown:
            raise ConfigError(
                f"control map {source}: requirement {req.id} names unknown check(s) "
                f"{', '.join(unknown)}",
                hint="known checks: " + ", ".join(sorted(known)),
            )
    return fw


def load_control_map(directory: str | Path | None = None) -> ControlMap:
    """Every framework file (the package's own unless ``directory`` is given)."""
    known = set(registered_checks())
    frameworks: list[Framework] = []
    if directory is None:
        base = resources.files("stagewall.evidence").joinpath("controls")
        files = sorted(
            (p.name, p.read_text("utf-8")) for p in base.iterdir() if p.name.endswith(".yaml")
        )
    else:
        files = sorted((p.name, p.read_text("utf-8")) for p in Path(directory).glob("*.yaml"))
    names: set[str] = set()
    for name, text in files:
        fw = parse_framework(text, name, known)
        if fw.framework in names:
            raise ConfigError(f"control map {name}: framework {fw.framework} is defined twice")
        names.add(fw.framework)
        frameworks.append(fw)
    if not frameworks:
        raise ConfigError("the control map is empty: no framework file was found")
    return ControlMap(tuple(frameworks))


__all__ = [
    "ControlMap",
    "Framework",
    "Requirement",
    "load_control_map",
    "parse_framework",
    "requirement_status",
]
