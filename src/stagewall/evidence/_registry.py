"""The registry of checks: explicit, one name each, duplicates refused."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import ClassVar

from stagewall.errors import ConfigError
from stagewall.evidence._inputs import EvidenceInputs
from stagewall.evidence._model import CheckResult

_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


class Check(ABC):
    """One control check. Subclasses declare what it proves and what it cannot."""

    name: ClassVar[str]
    title: ClassVar[str]
    proves: ClassVar[str]
    cannot_prove: ClassVar[str]

    @abstractmethod
    def run(self, inputs: EvidenceInputs) -> CheckResult:
        """Compute the result from the inputs (never raises for a finding)."""


_REGISTRY: dict[str, type[Check]] = {}


def register(cls: type[Check]) -> type[Check]:
    """Class decorator: add a check; a second check of the same name is refused."""
    name = getattr(cls, "name", "")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ConfigError(
            f"evidence check {cls.__name__} has an invalid name {name!r}",
            hint="use dotted lower-case words, e.g. 'access.external_production'",
        )
    if name in _REGISTRY:
        raise ConfigError(
            f"evidence check {name!r} is registered twice "
            f"({_REGISTRY[name].__name__} and {cls.__name__})",
            hint="every check has one unique name",
        )
    for attr in ("title", "proves", "cannot_prove"):
        if not getattr(cls, attr, ""):
            raise ConfigError(f"evidence check {name!r} has no {attr}")
    _REGISTRY[name] = cls
    return cls


def registered_checks() -> dict[str, type[Check]]:
    """Every registered check, by name (the check modules are imported first)."""
    from stagewall.evidence import checks  # noqa: F401  (registers the built-in checks)

    return dict(sorted(_REGISTRY.items()))


def get_check(name: str) -> type[Check]:
    found = registered_checks().get(name)
    if found is None:
        raise ConfigError(f"there is no evidence check {name!r}")
    return found


__all__ = ["Check", "get_check", "register", "registered_checks"]
