"""Policy invariants of an estate: what ``stagewall check`` reports (exit 1).

Other domains add checks that need the store (overdue break-glass follow-ups,
...) with :func:`register_state_check`; ``stagewall check`` runs them all.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import quote, urlsplit

from stagewall.estate.hosts import Network, host_key, range_of
from stagewall.estate.identity import normalise, skeleton
from stagewall.estate.loader import LoadedEstate
from stagewall.estate.models import PRODUCTION_ROLE_CAP, Estate, Principal, ResourceKind


class Severity(enum.StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True)
class Violation:
    """One broken invariant; ``rule`` is a stable id documented in docs/estate.md."""

    rule: str
    message: str
    where: str
    severity: Severity = Severity.HIGH

    def as_dict(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "message": self.message,
            "where": self.where,
            "severity": self.severity.value,
        }


STANDING_GRANT_MAX = timedelta(days=366)


def _today() -> date:
    return datetime.now(UTC).date()


def estate_violations(loaded: LoadedEstate, today: date | None = None) -> list[Violation]:
    """Every invariant the estate file itself breaks."""
    e: Estate = loaded.estate
    today = today or _today()
    out: list[Violation] = []

    # 1. An external principal is never eligible for, nor holds, a production role.
    for rname, role in sorted(e.roles.items()):
        if not e.is_production(role.environment):
            continue
        for pid in sorted(e.expand(role.eligible)):
            if not e.is_internal(pid):
                p = e.principals.get(pid)
                who = f"vendor {p.vendor!r}" if p and p.vendor else "not internal"
                out.append(
                    Violation(
                        "SW-EST-001",
                        f"external principal {pid!r} ({who}) is eligible for production role "
                        f"{rname!r}; externals never get production access",
                        loaded.where("roles", rname, "eligible"),
                    )
                )
    for i, sg in enumerate(e.standing_grants):
        if e.role_is_production(sg.role):
            kind = "external principal" if not e.is_internal(sg.principal) else "principal"
            out.append(
                Violation(
                    "SW-EST-002",
                    f"{kind} {sg.principal!r} holds a standing grant on production role "
                    f"{sg.role!r}; production access is just-in-time only",
                    loaded.where("standing_grants", i),
                )
            )

    # 2. Vendor principals without NDA/DPA, or past contract end, hold no grant.
    holders: dict[str, list[str]] = {}
    for i, sg in enumerate(e.standing_grants):
        if sg.expires >= today:
            holders.setdefault(sg.principal, []).append(f"standing_grants[{i}]")
    for rname, role in e.roles.items():
        for pid in e.expand(role.eligible):
            holders.setdefault(pid, []).append(f"roles.{rname}.eligible")
    for pid, places in sorted(holders.items()):
        p = e.principals.get(pid)
        if p is None or p.vendor is None:
            continue
        v = e.vendors[p.vendor]
        missing = [n for n, d in (("NDA", v.nda_signed), ("DPA", v.dpa_signed)) if d is None]
        if missing:
            out.append(
                Violation(
                    "SW-EST-003",
                    f"vendor principal {pid!r} of {p.vendor!r} has no {' and no '.join(missing)} "
                    f"signature date but is named in {', '.join(sorted(places))}",
                    loaded.where("vendors", p.vendor),
                )
            )
        if v.contract_end < today:
            out.append(
                Violation(
                    "SW-EST-004",
                    f"vendor principal {pid!r}: contract with {p.vendor!r} ended {v.contract_end}, "
                    f"but the principal is named in {', '.join(sorted(places))}",
                    loaded.where("vendors", p.vendor, "contract_end"),
                )
            )

    # 3. No identifier is both production and non-production.
    out.extend(_shared_identifiers(loaded))

    # 4. Production roles are short; standing grants end.
    for rname, role in sorted(e.roles.items()):
        if e.is_production(role.environment) and role.max_duration > PRODUCTION_ROLE_CAP:
            out.append(
                Violation(
                    "SW-EST-006",
                    f"production role {rname!r} allows {role.max_duration}, over the "
                    f"{PRODUCTION_ROLE_CAP} cap for just-in-time access",
                    loaded.where("roles", rname, "max_duration"),
                    Severity.MEDIUM,
                )
            )
    for i, sg in enumerate(e.standing_grants):
        if sg.expires - today > STANDING_GRANT_MAX:
            out.append(
                Violation(
                    "SW-EST-007",
                    f"standing grant of {sg.role!r} to {sg.principal!r} runs until {sg.expires}, "
                    "more than a year; standing grants must be renewed at least yearly",
                    loaded.where("standing_grants", i, "expires"),
                    Severity.MEDIUM,
                )
            )

    # 5. Approvers and deployers of production are internal.
    for rname, rule in sorted(e.approval_rules.items()):
        for grp in rule.from_groups:
            for pid in sorted(e.group_members(grp)):
                if not e.is_internal(pid):
                    out.append(
                        Violation(
                            "SW-EST-008",
                            f"approval rule {rname!r} draws approvers from group {grp!r}, which "
                            f"contains external principal {pid!r} (their approvals never count)",
                            loaded.where("approval_rules", rname, "from_groups"),
                            Severity.MEDIUM,
                        )
                    )
    for i, stage in enumerate(e.stages):
        if not e.is_production(stage.environment):
            continue
        for dep in stage.deployers:
            if not e.is_internal(dep):
                out.append(
                    Violation(
                        "SW-EST-009",
                        f"external principal {dep!r} may deploy to production stage {stage.name!r}",
                        loaded.where("stages", i, "deployers"),
                    )
                )
    out.extend(_identity_violations(loaded))
    return out


def _shared_identifiers(loaded: LoadedEstate) -> list[Violation]:
    """SW-EST-005: a host, address, bucket or account both production and not.

    Identifiers are compared as written (lower-cased), then as the host or address
    they name (:func:`stagewall.estate.hosts.host_key`: a URL's host, ``host:port``,
    the trailing root dot, IPv6 spellings, IPv4-mapped IPv6), then as address ranges
    (an address inside, or a range overlapping, one of the other tier's): another
    spelling of a production host is still that host.
    """
    e: Estate = loaded.estate
    owners: dict[str, set[tuple[bool, str]]] = {}
    canonical: dict[str, set[tuple[bool, str]]] = {}
    ranges: list[tuple[bool, str, str, Network]] = []
    for rname, res in e.resources.items():
        prod = e.is_production(res.environment)
        for ident in res.all_identifiers():
            owners.setdefault(ident, set()).add((prod, rname))
            if res.kind is ResourceKind.API and "://" in ident:
                continue  # an API is its URL prefix: one host may serve both (/live, /sandbox)
            key = host_key(ident)
            if key is not None:
                canonical.setdefault(key, set()).add((prod, rname))
            net = range_of(ident)
            if net is not None:
                ranges.append((prod, rname, ident, net))
    out: list[Violation] = []
    reported: set[tuple[str, str]] = set()

    def shared(what: str, prod_res: list[str], non_prod: list[str]) -> None:
        reported.update((p, n) for p in prod_res for n in non_prod)
        out.append(
            Violation(
                "SW-EST-005",
                f"{what} is declared for production resource(s) "
                f"{', '.join(prod_res)} and non-production resource(s) {', '.join(non_prod)}; "
                "environments must not share infrastructure",
                loaded.where("resources", non_prod[0]),
            )
        )

    for ident, owned in sorted(owners.items()):
        prod_res = sorted(r for p, r in owned if p)
        non_prod = sorted(r for p, r in owned if not p)
        if prod_res and non_prod:
            shared(f"identifier {ident!r}", prod_res, non_prod)
    for key, owned in sorted(canonical.items()):
        prod_res = sorted(r for p, r in owned if p)
        non_prod = sorted(r for p, r in owned if not p)
        # pairs already reported under an identical spelling are not reported again
        if prod_res and non_prod and not {(p, n) for p in prod_res for n in non_prod} <= reported:
            shared(f"the host {key!r} (under different spellings)", prod_res, non_prod)
    for p_prod, p_name, p_ident, p_net in ranges:
        if not p_prod:
            continue
        for n_prod, n_name, n_ident, n_net in ranges:
            if n_prod or (p_name, n_name) in reported or p_net.version != n_net.version:
                continue
            if p_net.overlaps(n_net):
                shared(
                    f"the address range {n_ident!r}, within or overlapping {p_ident!r},",
                    [p_name],
                    [n_name],
                )
    return out


def _identity_keys(p: Principal) -> list[tuple[str, str, str]]:
    """(kind, comparison key, as written) of every identity a principal declares."""
    keys = [("e-mail", skeleton(e), e) for e in p.emails]
    keys += [("GitHub login", normalise(g), g) for g in p.identities.github]
    keys += [("GitLab login", normalise(g), g) for g in p.identities.gitlab]
    keys += [("GPG key", re.sub(r"[\s:]", "", k).upper(), k) for k in p.identities.gpg_keys]
    for k in p.identities.ssh_keys:
        parts = k.split()
        keys.append(("SSH key", " ".join(parts[:2]) if len(parts) >= 2 else k, k))
    return keys


def _identity_violations(loaded: LoadedEstate) -> list[Violation]:
    """SW-EST-010: one identity (e-mail, login, signing key) belongs to one principal."""
    e: Estate = loaded.estate
    holders: dict[tuple[str, str], dict[str, str]] = {}
    for pid, p in sorted(e.principals.items()):
        for kind, key, written in _identity_keys(p):
            holders.setdefault((kind, key), {}).setdefault(pid, written)
    out: list[Violation] = []
    for (kind, _key), owners in sorted(holders.items()):
        if len(owners) < 2:
            continue
        pids = sorted(owners)
        sides = ", ".join(
            f"{pid!r} ({'internal' if e.is_internal(pid) else 'external'}: {owners[pid]!r})"
            for pid in pids
        )
        out.append(
            Violation(
                "SW-EST-010",
                f"the same {kind} (after case folding, NFKC and confusable skeleton) belongs to "
                f"principals {sides}; one identity must belong to exactly one principal, or "
                "authorship and independence can be hidden behind the second one",
                loaded.where("principals", pids[1]),
            )
        )
    return out


_GITHUB_ISSUER_HOST = "token.actions.githubusercontent.com"


def _is_github(issuer_url: str) -> bool:
    """GitHub Actions (github.com, or Enterprise Server's ``https://HOST/_services/token``)."""
    parts = urlsplit(issuer_url)
    return parts.hostname == _GITHUB_ISSUER_HOST or parts.path.rstrip("/").endswith(
        "/_services/token"
    )


def _plaintext_warnings(loaded: LoadedEstate) -> list[Violation]:
    """SW-EST-W02: an alert webhook or witness allowed to use plain http."""
    from stagewall.estate.models import WebhookSink, WitnessSettings

    e: Estate = loaded.estate
    out: list[Violation] = []
    places: list[tuple[tuple[str | int, ...], str]] = [
        (("alerts", i), "alert webhook")
        for i, sink in enumerate(e.alerts)
        if isinstance(sink, WebhookSink) and sink.allow_plaintext
    ]
    places += [
        (("audit", "witnesses", i), "witness")
        for i, w in enumerate(e.audit.witnesses)
        if isinstance(w, WitnessSettings) and w.allow_plaintext
    ]
    for loc, what in places:
        out.append(
            Violation(
                "SW-EST-W02",
                f"the {what} at {'.'.join(map(str, loc))} has allow_plaintext: true: over "
                "an http:// URL what it sends (names, reasons, checkpoints) can be read and "
                "changed on the network; use https:// and remove allow_plaintext",
                loaded.where(*loc),
                Severity.LOW,
            )
        )
    return out


def estate_warnings(loaded: LoadedEstate) -> list[Violation]:
    """Weaknesses that are not broken invariants: ``stagewall check`` reports them and
    still exits 0.

    SW-EST-W01: a CI binding without ``repository_id``. A repository is matched by its
    ``owner/repo`` name alone, and on GitHub and GitLab a name becomes free again when the
    repository is renamed, transferred or deleted (or its owner renames or deletes the
    account): whoever registers the name then runs pipelines that act as the service
    principal. The numeric id (GitHub's ``repository_id``, GitLab's ``project_id``)
    never passes to another repository.
    """
    e: Estate = loaded.estate
    out: list[Violation] = _plaintext_warnings(loaded)
    for pid, p in sorted(e.principals.items()):
        for i, binding in enumerate(p.ci):
            spec = e.ci_issuers.get(binding.issuer)
            if spec is None or binding.repository_id is not None:
                continue
            if _is_github(spec.issuer):
                message = (
                    f"the CI binding of {pid!r} for GitHub repository {binding.repository!r} "
                    "has no repository_id: a repository name can be registered again by "
                    "someone else after a rename or delete, and their pipelines would act as "
                    f'{pid!r}; add repository_id: "<id>" (the number from '
                    f"`gh api repos/{binding.repository} --jq .id`)"
                )
            else:  # GitLab and the others: a project path is a name too
                api = spec.issuer.rstrip("/") + "/api/v4/projects/"
                path = quote(binding.repository, safe="")
                message = (
                    f"the CI binding of {pid!r} for project {binding.repository!r} "
                    f"({binding.issuer}) has no repository_id: a project path can be taken "
                    "again by someone else after a rename, transfer or delete, and their "
                    f'pipelines would act as {pid!r}; add repository_id: "<id>" (on GitLab '
                    "the project_id: the Project ID on the project's page, or "
                    f"`curl -s {api}{path} | jq .id`)"
                )
            out.append(
                Violation(
                    "SW-EST-W01",
                    message,
                    loaded.where("principals", pid, "ci", i),
                    Severity.LOW,
                )
            )
    return out


StateCheck = Callable[[LoadedEstate, str | None], list[Violation]]
_STATE_CHECKS: dict[str, StateCheck] = {}


def register_state_check(name: str, check: StateCheck) -> None:
    """Add a check that also reads the store (called with the estate and the store URL)."""
    if name in _STATE_CHECKS:
        raise ValueError(f"state check {name!r} is registered twice")
    _STATE_CHECKS[name] = check


def state_checks() -> dict[str, StateCheck]:
    return dict(_STATE_CHECKS)
