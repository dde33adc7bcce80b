"""Probe the declared production endpoints from a non-production host.

Bounds, so a probe can never become a scanner: only ``host:port`` pairs declared
for production resources in ``stagewall.yaml`` are tried (the port declared, or
the kind's default: PostgreSQL 5432, MySQL 3306, API 443); at most
``MAX_TARGETS`` targets and ``MAX_ADDRESSES`` resolved addresses per host; one
connection attempt per address with a timeout of at most ``MAX_TIMEOUT``
seconds; nothing is sent on a connection, which is closed at once.

Outcomes: ``reachable`` (a TCP connection was established: segmentation is
broken), ``refused`` (the port answered with a reset), ``timeout``,
``unreachable`` (no route, network down) and ``unresolved`` (the name does not
resolve from here). Only ``reachable`` is a finding.
"""

from __future__ import annotations

import enum
import socket
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from stagewall.alerts import Alert, Severity
from stagewall.audit import AuditEvent, AuditLog, EventType, Status, register_event_type
from stagewall.errors import ConfigError, ProbeReporterRefused, UsageError
from stagewall.estate import Estate
from stagewall.estate.models import ResourceKind

MAX_TARGETS = 256
MAX_ADDRESSES = 4
MAX_TIMEOUT = 10.0
_WORKERS = 8
DEFAULT_PORTS = {ResourceKind.POSTGRESQL: 5432, ResourceKind.MYSQL: 3306, ResourceKind.API: 443}

EV_PROBE = register_event_type(
    EventType(
        "segmentation.probe.reported",
        4001,
        "Network Activity",
        99,
        "Other",
        "a probe reported whether production endpoints are reachable from a non-production host",
    )
)

EV_PROBE_REFUSED = register_event_type(
    EventType(
        "segmentation.probe.refused",
        4001,
        "Network Activity",
        99,
        "Other",
        "a probe report from a principal that segmentation.reporters does not name was refused",
    )
)


def reporter_problem(estate: Estate, actor: str) -> str | None:
    """Why ``actor``'s probe reports are not accepted nor counted (None: they are).

    Only internal, enabled principals named by ``segmentation.reporters`` (directly or
    through a group) report; an estate that names none accepts nobody's report."""
    if not estate.is_internal(actor):
        return f"{actor!r} is not an internal, enabled principal"
    reporters = estate.segmentation.reporters
    if actor not in estate.expand(reporters):
        named = ", ".join(reporters) or "nobody"
        return f"{actor!r} is not a declared probe reporter (segmentation.reporters: {named})"
    return None


class Reach(enum.StrEnum):
    REACHABLE = "reachable"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    UNRESOLVED = "unresolved"


@dataclass(frozen=True, order=True)
class Target:
    resource: str
    host: str
    port: int

    def as_dict(self) -> dict[str, Any]:
        return {"resource": self.resource, "host": self.host, "port": self.port}


@dataclass(frozen=True)
class ProbeResult:
    target: Target
    reach: Reach
    address: str | None = None  # the address that answered (reachable) or the last tried

    def as_dict(self) -> dict[str, Any]:
        return {**self.target.as_dict(), "reach": self.reach.value, "address": self.address}


@dataclass(frozen=True)
class ProbeReport:
    environment: str
    probe_host: str
    time: str
    results: tuple[ProbeResult, ...]
    not_probed: tuple[str, ...] = field(default=())

    @property
    def segmented(self) -> bool:
        return all(r.reach is not Reach.REACHABLE for r in self.results)

    @property
    def reachable(self) -> list[ProbeResult]:
        return [r for r in self.results if r.reach is Reach.REACHABLE]

    def as_dict(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "probe_host": self.probe_host,
            "time": self.time,
            "segmented": self.segmented,
            "results": [r.as_dict() for r in self.results],
            "not_probed": list(self.not_probed),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProbeReport:
        try:
            results = tuple(
                ProbeResult(
                    Target(str(r["resource"]), str(r["host"]), int(r["port"])),
                    Reach(r["reach"]),
                    None if r.get("address") is None else str(r["address"]),
                )
                for r in data["results"]
            )
            return cls(
                str(data["environment"]),
                str(data["probe_host"])[:255],
                str(data["time"])[:40],
                results,
                tuple(str(n) for n in data.get("not_probed", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise UsageError(f"the probe report is malformed: {exc}") from None


def production_targets(estate: Estate) -> tuple[list[Target], list[str]]:
    """The declared production endpoints, and the production resources without one."""
    targets: list[Target] = []
    skipped: list[str] = []
    for name, res in sorted(estate.resources.items()):
        if not estate.is_production(res.environment):
            continue
        port = res.port or DEFAULT_PORTS.get(res.kind)
        if not res.host or port is None:
            skipped.append(name)
            continue
        targets.append(Target(name, res.host, port))
    if len(targets) > MAX_TARGETS:
        raise ConfigError(
            f"the estate declares {len(targets)} production endpoints; a probe tries at "
            f"most {MAX_TARGETS}"
        )
    return targets, skipped


Connect = Callable[[tuple[str, int], float], socket.socket]


def _connect(address: tuple[str, int], timeout: float) -> socket.socket:
    return socket.create_connection(address, timeout=timeout)


def _probe_one(target: Target, timeout: float, connect: Connect) -> ProbeResult:
    try:
        infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        return ProbeResult(target, Reach.UNRESOLVED)
    addresses: list[str] = []
    for info in infos:
        addr = str(info[4][0])
        if addr not in addresses:
            addresses.append(addr)
    outcome, last = Reach.UNREACHABLE, None
    for addr in addresses[:MAX_ADDRESSES]:
        last = addr
        try:
            sock = connect((addr, target.port), timeout)
        except ConnectionRefusedError:
            outcome = Reach.REFUSED if outcome is not Reach.TIMEOUT else outcome
            continue
        except TimeoutError:
            outcome = Reach.TIMEOUT
            continue
        except OSError:
            continue
        sock.close()
        return ProbeResult(target, Reach.REACHABLE, addr)
    return ProbeResult(target, outcome, last)


def run_probe(
    estate: Estate,
    *,
    environment: str,
    timeout: float = 2.0,
    connect: Connect = _connect,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> ProbeReport:
    """Try every declared production endpoint once from here (``environment``)."""
    env = estate.environments.get(environment)
    if env is None:
        known = ", ".join(sorted(estate.environments)) or "none"
        raise UsageError(f"environment {environment!r} is not declared (declared: {known})")
    if estate.is_production(environment):
        raise UsageError(
            f"environment {environment!r} is production; a probe runs on a non-production "
            "host and proves production is not reachable from it"
        )
    if not 0 < timeout <= MAX_TIMEOUT:
        raise UsageError(f"--timeout must be more than 0 and at most {MAX_TIMEOUT:g}s")
    targets, skipped = production_targets(estate)
    start = clock()
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        results = list(pool.map(lambda t: _probe_one(t, timeout, connect), targets))
    return ProbeReport(
        environment,
        socket.gethostname(),
        start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        tuple(results),
        tuple(skipped),
    )


def check_targets(estate: Estate, report: ProbeReport) -> None:
    """Refuse a report whose targets are not exactly the estate's production endpoints."""
    if report.environment not in estate.environments or estate.is_production(report.environment):
        raise UsageError(
            f"probe reports come from a declared non-production environment, "
            f"not {report.environment!r}"
        )
    expected, _ = production_targets(estate)
    got = sorted(r.target for r in report.results)
    if got != sorted(expected):
        raise UsageError(
            "the probe's targets differ from the production endpoints this estate declares",
            hint="run the probe with the same stagewall.yaml as the server",
        )


def record_probe(
    log: AuditLog,
    estate: Estate,
    report: ProbeReport,
    *,
    actor: str,
    alert: Callable[[Alert], None] | None = None,
) -> None:
    """Append the report to the audit log (Failure when production was reachable).

    Only a principal that ``segmentation.reporters`` names (internal, enabled) may
    report: neither a vendor's account nor any other internal person or pipeline may
    vouch for segmentation. A refused report is recorded (``segmentation.probe.refused``,
    never counted) and raises ProbeReporterRefused.
    """
    problem = reporter_problem(estate, actor)
    if problem is not None:
        message = f"probe report from {report.environment} refused: {problem}"
        log.append(
            AuditEvent(
                EV_PROBE_REFUSED.code,
                Status.FAILURE,
                actor,
                message,
                resource=f"environment:{report.environment}",
                details={"environment": report.environment, "probe_host": report.probe_host},
            )
        )
        raise ProbeReporterRefused(message)
    check_targets(estate, report)
    bad = report.reachable
    message = (
        f"probe from {report.environment} ({report.probe_host}): production not reachable "
        f"({len(report.results)} endpoint(s))"
        if not bad
        else f"probe from {report.environment} ({report.probe_host}): PRODUCTION REACHABLE: "
        + ", ".join(f"{r.target.resource} {r.target.host}:{r.target.port}" for r in bad)
    )
    log.append(
        AuditEvent(
            EV_PROBE.code,
            Status.SUCCESS if not bad else Status.FAILURE,
            actor,
            message,
            resource=f"environment:{report.environment}",
            details=report.as_dict(),
        )
    )
    if bad and alert is not None:
        alert(
            Alert(
                kind="segmentation.breach",
                title=f"production reachable from {report.environment}",
                text=message,
                severity=Severity.CRITICAL,
                details={"environment": report.environment, "probe_host": report.probe_host},
            )
        )


class _Event(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def actor(self) -> str: ...
    @property
    def details(self) -> Mapping[str, Any]: ...


def latest_reports(events: Iterable[_Event], estate: Estate) -> dict[str, ProbeReport]:
    """The newest recorded probe report per non-production environment, counting only
    reports by principals that ``estate`` declares as probe reporters now."""
    out: dict[str, ProbeReport] = {}
    for e in events:
        if e.code == EV_PROBE.code and reporter_problem(estate, e.actor) is None:
            try:
                rep = ProbeReport.from_dict(dict(e.details))
            except UsageError:
                continue
            out[rep.environment] = rep
    return out


__all__ = [
    "EV_PROBE",
    "EV_PROBE_REFUSED",
    "MAX_ADDRESSES",
    "MAX_TARGETS",
    "MAX_TIMEOUT",
    "ProbeReport",
    "ProbeResult",
    "Reach",
    "Target",
    "check_targets",
    "latest_reports",
    "production_targets",
    "record_probe",
    "reporter_problem",
    "run_probe",
]
