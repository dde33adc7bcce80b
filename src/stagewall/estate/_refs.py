"""Dangling-reference checks: every name the estate uses must be declared."""

from __future__ import annotations

from stagewall.estate.models import Estate, PrincipalKind

Problem = tuple[tuple[str | int, ...], str]


def _principal_refs(estate: Estate, refs: list[str], loc: tuple[str | int, ...]) -> list[Problem]:
    out: list[Problem] = []
    for i, ref in enumerate(refs):
        if ref.startswith("group:"):
            if ref.removeprefix("group:") not in estate.groups:
                out.append(((*loc, i), f"unknown group {ref.removeprefix('group:')!r}"))
        elif ref not in estate.principals:
            out.append(((*loc, i), f"unknown principal {ref!r} (groups are written group:<name>)"))
    return out


def _identity_problems(estate: Estate) -> list[Problem]:
    out: list[Problem] = []
    subjects: dict[str, str] = {}
    bindings: dict[object, str] = {}
    for name, p in estate.principals.items():
        if p.oidc_subject is not None:
            other = subjects.setdefault(p.oidc_subject, name)
            if other != name:
                out.append(
                    (
                        ("principals", name, "oidc_subject"),
                        f"the same oidc_subject is declared for principal {other!r}",
                    )
                )
        for i, binding in enumerate(p.ci):
            loc = ("principals", name, "ci", i)
            if binding.issuer not in estate.ci_issuers:
                known = ", ".join(sorted(estate.ci_issuers)) or "none declared"
                out.append(
                    (
                        (*loc, "issuer"),
                        f"unknown CI issuer {binding.issuer!r} (declare it under ci_issuers:; "
                        f"known: {known})",
                    )
                )
            owner = bindings.setdefault(binding, name)
            if owner != name or binding in p.ci[:i]:
                out.append((loc, f"the same CI binding is declared for principal {owner!r}"))
    return out


def reference_problems(estate: Estate) -> list[Problem]:
    """All dangling or inconsistent references, with their locations."""
    out: list[Problem] = []
    envs = estate.environments
    for name, res in estate.resources.items():
        if res.environment not in envs:
            out.append(
                (("resources", name, "environment"), f"unknown environment {res.environment!r}")
            )
    for name, p in estate.principals.items():
        if p.vendor is not None and p.vendor not in estate.vendors:
            out.append((("principals", name, "vendor"), f"unknown vendor {p.vendor!r}"))
    out += _identity_problems(estate)
    for i, v in enumerate(estate.vendored):
        if v.vendor is not None and v.vendor not in estate.vendors:
            out.append((("vendored", i, "vendor"), f"unknown vendor {v.vendor!r}"))
    for name, g in estate.groups.items():
        for i, member in enumerate(g.members):
            if member not in estate.principals:
                out.append((("groups", name, "members", i), f"unknown principal {member!r}"))
    out += _principal_refs(estate, estate.server.admins, ("server", "admins"))
    out += _principal_refs(estate, estate.server.auditors, ("server", "auditors"))
    for pid in sorted(estate.expand(estate.server.admins)):
        admin = estate.principals.get(pid)
        if admin is not None and (not admin.is_internal or admin.kind is not PrincipalKind.HUMAN):
            what = "a service" if admin.kind is not PrincipalKind.HUMAN else "an external"
            out.append(
                (("server", "admins"), f"admin {pid!r} must be an internal person, not {what} one")
            )
    for name, rule in estate.approval_rules.items():
        for i, grp in enumerate(rule.from_groups):
            if grp not in estate.groups:
                out.append((("approval_rules", name, "from_groups", i), f"unknown group {grp!r}"))
    for name, role in estate.roles.items():
        loc: tuple[str | int, ...] = ("roles", name)
        if role.environment not in envs:
            out.append(((*loc, "environment"), f"unknown environment {role.environment!r}"))
        for i, rname in enumerate(role.resources):
            role_res = estate.resources.get(rname)
            if role_res is None:
                out.append(((*loc, "resources", i), f"unknown resource {rname!r}"))
            elif role_res.environment != role.environment:
                out.append(
                    (
                        (*loc, "resources", i),
                        f"resource {rname!r} is in environment {role_res.environment!r}, "
                        f"but the role is for {role.environment!r}",
                    )
                )
        out += _principal_refs(estate, role.eligible, (*loc, "eligible"))
        if role.approval is not None and role.approval not in estate.approval_rules:
            out.append(((*loc, "approval"), f"unknown approval rule {role.approval!r}"))
        if role.approval is None and estate.is_production(role.environment):
            out.append(
                (
                    (*loc, "approval"),
                    "a production role must name an approval rule (approval: <rule>)",
                )
            )
    for i, sg in enumerate(estate.standing_grants):
        if sg.principal not in estate.principals:
            out.append((("standing_grants", i, "principal"), f"unknown principal {sg.principal!r}"))
        if sg.role not in estate.roles:
            out.append((("standing_grants", i, "role"), f"unknown role {sg.role!r}"))
    seen_stage: set[str] = set()
    for i, stage in enumerate(estate.stages):
        loc = ("stages", i)
        if stage.name in seen_stage:
            out.append(((*loc, "name"), f"stage {stage.name!r} is declared twice"))
        seen_stage.add(stage.name)
        if stage.environment not in envs:
            out.append(((*loc, "environment"), f"unknown environment {stage.environment!r}"))
        if stage.approval is not None and stage.approval not in estate.approval_rules:
            out.append(((*loc, "approval"), f"unknown approval rule {stage.approval!r}"))
        if stage.approval is None and estate.is_production(stage.environment):
            out.append(
                (
                    (*loc, "approval"),
                    "a production stage must name an approval rule (approval: <rule>)",
                )
            )
        out += _service_refs(estate, (*loc, "check_reporters"), stage.check_reporters or [])
        out += _service_refs(estate, (*loc, "deployers"), stage.deployers, groups=False)
    out += _monitoring_problems(estate)
    out += _masking_job_problems(estate)
    out += _reporter_problems(estate)
    return out


def _reporter_problems(estate: Estate) -> list[Problem]:
    """segmentation.reporters: declared groups and internal principals only."""
    out: list[Problem] = []
    for j, ref in enumerate(estate.segmentation.reporters):
        loc: tuple[str | int, ...] = ("segmentation", "reporters", j)
        if ref.startswith("group:") and ref.removeprefix("group:") not in estate.groups:
            out.append((loc, f"unknown group {ref!r}"))
        for name in sorted(estate.expand([ref])):
            p = estate.principals.get(name)
            if p is None:
                out.append((loc, f"unknown principal {name!r}"))
            elif not p.is_internal:
                out.append((loc, f"probe reporter {name!r} must be internal (never a vendor's)"))
    return out


def _service_refs(
    estate: Estate, loc: tuple[str | int, ...], refs: list[str], *, groups: bool = True
) -> list[Problem]:
    """Problems of a list of service principals (``group:<name>`` entries if ``groups``)."""
    what = "check reporter" if loc[-1] == "check_reporters" else "deployer"
    out: list[Problem] = []
    for j, ref in enumerate(refs):
        names = {ref}
        if groups and ref.startswith("group:"):
            if ref.removeprefix("group:") not in estate.groups:
                out.append(((*loc, j), f"unknown group {ref!r}"))
            names = estate.expand([ref])
        for name in sorted(names):
            p = estate.principals.get(name)
            if p is None:
                out.append(((*loc, j), f"unknown principal {name!r}"))
            elif p.kind is not PrincipalKind.SERVICE:
                out.append(
                    ((*loc, j), f"{what} {name!r} must be a service principal (kind: service)")
                )
    return out


def _masking_job_problems(estate: Estate) -> list[Problem]:
    from stagewall.estate.models import DATABASE_KINDS

    out: list[Problem] = []
    for name, job in estate.masking_jobs.items():
        loc: tuple[str | int, ...] = ("masking_jobs", name)
        for side in ("source", "target"):
            rname = getattr(job, side)
            res = estate.resources.get(rname)
            if res is None:
                out.append(((*loc, side), f"unknown resource {rname!r}"))
            elif res.kind not in DATABASE_KINDS:
                out.append(
                    ((*loc, side), f"resource {rname!r} is {res.kind.value}, not a database")
                )
            elif res.connection_env is None and not (res.kind.value == "sqlite" and res.path):
                out.append(
                    (
                        (*loc, side),
                        f"resource {rname!r} has no connection_env (the server reads the "
                        "connection URL from that environment variable)",
                    )
                )
        if job.source == job.target:
            out.append(((*loc, "target"), "the target must not be the source"))
        target = estate.resources.get(job.target)
        if target is not None and estate.is_production(target.environment):
            out.append(
                (
                    (*loc, "target"),
                    f"resource {job.target!r} is in a production environment; a masking job "
                    "writes only into non-production",
                )
            )
        out += _principal_refs(estate, job.run_by, (*loc, "run_by"))
        for pid in sorted(estate.expand(job.run_by)):
            p = estate.principals.get(pid)
            if p is not None and (not p.is_internal or p.kind is not PrincipalKind.HUMAN):
                out.append(((*loc, "run_by"), f"{pid!r} must be an internal person"))
    return out


def _monitoring_problems(estate: Estate) -> list[Problem]:
    out: list[Problem] = []
    mon = estate.monitoring
    for name, src in mon.sources.items():
        if src.resource is not None and src.resource not in estate.resources:
            loc: tuple[str | int, ...] = ("monitoring", "sources", name, "resource")
            out.append((loc, f"unknown resource {src.resource!r}"))
    for i, sup in enumerate(mon.suppress):
        if sup.principal is not None and sup.principal not in estate.principals:
            loc = ("monitoring", "suppress", i, "principal")
            out.append((loc, f"unknown principal {sup.principal!r}"))
        if sup.resource is not None and sup.resource not in estate.resources:
            out.append(
                (("monitoring", "suppress", i, "resource"), f"unknown resource {sup.resource!r}")
            )
    return out
