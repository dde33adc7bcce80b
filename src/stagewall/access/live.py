"""``stagewall check --live``: measured separation of non-production from production.

For every pair (non-production, production) of declared PostgreSQL / MySQL
resources the identities are read over the network and compared: the result is
"not the same server, not the same database" or a violation. A resource whose
identity differs from its pin in the store is a violation too. The A.8.31
evidence is the list of pairs, each with both identities, and the newest
`stagewall probe` report per non-production environment (a probe that reached a
production endpoint is a violation; environments without a probe are listed).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from stagewall.access.identity import LIVE_KINDS, ServerIdentity, all_pins, read_identity
from stagewall.audit import AuditLog
from stagewall.errors import StagewallError
from stagewall.estate import Estate
from stagewall.estate.invariants import Severity, Violation
from stagewall.paths import configured_store_url
from stagewall.segmentation import ProbeReport, latest_reports
from stagewall.store import Store, open_store

_T = TypeVar("_T")


class Separation(enum.StrEnum):
    SEPARATE = "separate"
    SAME_SERVER = "same_server"
    SAME_DATABASE = "same_database"
    NOT_VERIFIABLE = "not_verifiable"


@dataclass(frozen=True)
class Pair:
    non_production: str
    production: str
    separation: Separation

    def as_dict(self) -> dict[str, str]:
        return {
            "non_production": self.non_production,
            "production": self.production,
            "separation": self.separation.value,
            "statement": self.statement(),
        }

    def statement(self) -> str:
        return {
            Separation.SEPARATE: "not the same server, not the same database",
            Separation.SAME_SERVER: "SAME SERVER",
            Separation.SAME_DATABASE: "SAME SERVER AND DATABASE",
            Separation.NOT_VERIFIABLE: "not verifiable (identity unreadable)",
        }[self.separation]


@dataclass
class LiveReport:
    identities: dict[str, ServerIdentity] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)
    pairs: list[Pair] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    probes: dict[str, ProbeReport] = field(default_factory=dict)
    unprobed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "identities": {k: v.as_dict() for k, v in sorted(self.identities.items())},
            "unreadable": dict(sorted(self.unreadable.items())),
            "pairs": [p.as_dict() for p in self.pairs],
            "probes": {k: v.as_dict() for k, v in sorted(self.probes.items())},
            "environments_without_probe": self.unprobed,
        }


def _from_store(store_url: str | None, read: Callable[[Store], dict[str, _T]]) -> dict[str, _T]:
    """``read`` over the configured store; empty when there is none (never creates one)."""
    url = configured_store_url(store_url)
    if url is None:
        return {}
    store = open_store(url)
    try:
        return read(store)
    finally:
        store.dispose()


def _pins(store_url: str | None) -> dict[str, ServerIdentity]:
    return _from_store(store_url, all_pins)


def _probes(store_url: str | None, estate: Estate) -> dict[str, ProbeReport]:
    return _from_store(store_url, lambda store: latest_reports(AuditLog(store).events(), estate))


def _probe_evidence(estate: Estate, store_url: str | None, rep: LiveReport) -> None:
    """The newest `stagewall probe` report per non-production environment."""
    rep.probes = _probes(store_url, estate)
    for env in sorted(n for n in estate.environments if not estate.is_production(n)):
        probe = rep.probes.get(env)
        if probe is None:
            rep.unprobed.append(env)
            continue
        for r in probe.reachable:
            rep.violations.append(
                Violation(
                    "SW-LIVE-004",
                    f"production resource {r.target.resource} ({r.target.host}:"
                    f"{r.target.port}) was reachable from {env} host {probe.probe_host} "
                    f"at {probe.time} (stagewall probe)",
                    f"environments.{env}",
                )
            )


def live_check(estate: Estate, store_url: str | None) -> LiveReport:
    """Read every database resource's identity and prove each (non-prod, prod) pair apart.

    ``store_url`` (or the configured store, when one exists) supplies the pins.
    """
    rep = LiveReport()
    names = sorted(n for n, r in estate.resources.items() if r.kind in LIVE_KINDS)
    for name in names:
        try:
            rep.identities[name] = read_identity(name, estate.resources[name])
        except StagewallError as exc:
            rep.unreadable[name] = exc.message
            rep.violations.append(
                Violation(
                    "SW-LIVE-003",
                    f"the identity of resource {name} cannot be read, so its separation "
                    f"cannot be proven: {exc.message}",
                    f"resources.{name}",
                    Severity.MEDIUM,
                )
            )
    pins = _pins(store_url)
    for name, ident in sorted(rep.identities.items()):
        pin = pins.get(name)
        if pin is not None and not ident.same_database(pin):
            rep.violations.append(
                Violation(
                    "SW-LIVE-002",
                    f"resource {name} changed identity: pinned to {pin.describe()}, now "
                    f"resolves to {ident.describe()}",
                    f"resources.{name}",
                )
            )
    prod = [n for n in names if estate.is_production(estate.resources[n].environment)]
    for np in (n for n in names if n not in prod):
        for p in prod:
            a, b = rep.identities.get(np), rep.identities.get(p)
            if a is None or b is None:
                sep = Separation.NOT_VERIFIABLE
            elif a.same_database(b):
                sep = Separation.SAME_DATABASE
            elif a.same_server(b):
                sep = Separation.SAME_SERVER
            else:
                sep = Separation.SEPARATE
            rep.pairs.append(Pair(np, p, sep))
            if sep in (Separation.SAME_SERVER, Separation.SAME_DATABASE) and a is not None:
                rep.violations.append(
                    Violation(
                        "SW-LIVE-001",
                        f"non-production resource {np} resolves to the "
                        f"{'same database' if sep is Separation.SAME_DATABASE else 'server'} "
                        f"of production resource {p}: {a.describe()}",
                        f"resources.{np}",
                    )
                )
    _probe_evidence(estate, store_url, rep)
    return rep


__all__ = ["LiveReport", "Pair", "Separation", "live_check"]
