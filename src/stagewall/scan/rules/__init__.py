"""Scan rules: an explicit registry that refuses duplicate ids."""

from __future__ import annotations

from stagewall.errors import ConfigError
from stagewall.scan.rules._base import FileContext, FileSummary, Rule, RunContext
from stagewall.scan.rules.ci import SecretsForExternalContributors, UngatedProductionDeploy
from stagewall.scan.rules.cisecrets import ProductionSecretInNonProductionJob
from stagewall.scan.rules.dbcopy import UnmaskedProductionCopy
from stagewall.scan.rules.meta import FileTooSlow, IgnoreWithoutReason, ParseError, Unresolved
from stagewall.scan.rules.network import NetworkPath
from stagewall.scan.rules.principals import ExternalPrincipalInProduction
from stagewall.scan.rules.references import ProductionReference, SharedResource
from stagewall.scan.rules.secrets import SecretInRepository
from stagewall.scan.rules.storage import UnencryptedStorage
from stagewall.scan.rules.transport import UnencryptedConnection

_REGISTRY: dict[str, type[Rule]] = {}


def register(rule: type[Rule]) -> type[Rule]:
    """Add a rule class; a second rule with the same id is refused."""
    for attr in ("id", "title", "severity", "description", "remediation", "controls"):
        if not hasattr(rule, attr):
            raise ConfigError(f"scan rule {rule.__name__} does not define {attr}")
    if rule.id in _REGISTRY:
        raise ConfigError(
            f"scan rule id {rule.id} is registered twice "
            f"({_REGISTRY[rule.id].__name__} and {rule.__name__})"
        )
    _REGISTRY[rule.id] = rule
    return rule


def all_rules() -> list[type[Rule]]:
    """Every registered rule, sorted by id."""
    return [_REGISTRY[k] for k in sorted(_REGISTRY)]


def get_rule(rule_id: str) -> type[Rule] | None:
    return _REGISTRY.get(rule_id)


for _rule in (
    ProductionReference,
    SharedResource,
    NetworkPath,
    SecretInRepository,
    UnencryptedConnection,
    UnencryptedStorage,
    ExternalPrincipalInProduction,
    UngatedProductionDeploy,
    SecretsForExternalContributors,
    UnmaskedProductionCopy,
    Unresolved,
    ParseError,
    IgnoreWithoutReason,
    FileTooSlow,
    ProductionSecretInNonProductionJob,
):
    register(_rule)

__all__ = ["FileContext", "FileSummary", "Rule", "RunContext", "all_rules", "get_rule", "register"]
