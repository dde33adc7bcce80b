"""Vendor / external principals granted rights in production."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from stagewall.estate import Estate
from stagewall.scan._model import Entry, Finding, Tier
from stagewall.scan._model import Severity as Sev
from stagewall.scan.readers import Kind, Parsed
from stagewall.scan.rules._base import FileContext, Rule

_GRANT_KEYS = re.compile(
    r"^(principal|principals|aws|identifiers|member|members|subjects?|users?|userarn|rolearn|"
    r"username|groups?|reviewers?|assignee|principal_id|email|emails|name|mapusers|maproles|"
    r"approvers?|owners?|collaborators?)$",
    re.I,
)
_IAM_TYPES = re.compile(
    r"(iam|role_assignment|role_binding|rolebinding|repository_environment|collaborator|"
    r"team_membership|project_member|access_policy|_member$|_binding$)",
    re.I,
)


def external_identities(estate: Estate | None) -> dict[str, str]:
    """identity (lower-case) -> "principal (vendor)" for every external principal and group."""
    out: dict[str, str] = {}
    if estate is None:
        return out
    for pid, p in estate.principals.items():
        if p.is_internal:
            continue
        who = f"{pid} (vendor {p.vendor})"
        ids = [*p.emails, *p.identities.github, *p.identities.gitlab, *p.identities.cloud]
        ids += p.identities.kubernetes
        for ident in ids:
            out[ident.strip().lower()] = who
    for gid, group in estate.groups.items():
        externals = [m for m in group.members if not estate.is_internal(m)]
        if externals:
            out[gid.lower()] = f"group {gid} (has external members: {', '.join(sorted(externals))})"
    return out


def _match(value: str, identities: dict[str, str]) -> tuple[str, str] | None:
    low = value.strip().lower()
    if low in identities:
        return low, identities[low]
    for ident, who in identities.items():
        if len(ident) >= 8 and ("@" in ident or ":" in ident) and ident in low:
            return ident, who
    return None


class ExternalPrincipalInProduction(Rule):
    id = "SW-SCAN-007"
    title = "External principal granted rights in production"
    severity = Sev.HIGH
    description = (
        "A vendor or other external principal from the estate (its e-mails, GitHub/GitLab "
        "users, cloud identities, Kubernetes users, or a group with external members) is "
        "named in a production grant: an IAM policy, trust relationship or role assignment "
        "in a production file, a Kubernetes RoleBinding/ClusterRoleBinding in a production "
        "namespace, or the reviewers of a production CI environment. Needs the estate."
    )
    remediation = (
        "Remove the grant. Externals work on staging; production access for internal staff "
        "goes through `stagewall access request` (time-limited, approved, audited)."
    )
    controls = ("A.5.15", "A.5.18", "A.8.2", "A.5.19")
    tags = ("access",)

    def __init__(self) -> None:
        # one rule instance per scan: the estate's external identities are built once
        self._identities: tuple[Estate | None, dict[str, str]] | None = None

    def check(self, ctx: FileContext) -> Iterable[Finding]:
        if self._identities is None or self._identities[0] is not ctx.estate:
            self._identities = (ctx.estate, external_identities(ctx.estate))
        identities = self._identities[1]
        if not identities or ctx.parsed is None:
            return
        if ctx.parsed.kind is Kind.KUBERNETES:
            yield from self._kubernetes(ctx, ctx.parsed, identities)
            return
        for entry in ctx.parsed.entries:
            scope = self._scope(ctx, entry)
            if scope is None:
                continue
            hit = _match(entry.value, identities)
            if hit is None:
                continue
            yield ctx.finding(
                ExternalPrincipalInProduction,
                f"external principal {hit[1]} appears in a production grant ({scope})",
                entry.line,
                f"{'.'.join(entry.path)} = {hit[0]}",
                anchor=f"{'.'.join(entry.path)}|{hit[0]}",
            )

    def _scope(self, ctx: FileContext, entry: Entry) -> str | None:
        path = entry.path
        if ctx.parsed is not None and ctx.parsed.kind is Kind.TERRAFORM and len(path) >= 3:
            if path[0] != "resource" or not _IAM_TYPES.search(path[1]):
                return None
            if path[1] == "github_repository_environment":
                doc = ctx.parsed.documents[0] if ctx.parsed.documents else {}
                env_name = str(_dig(doc, ("resource", path[1], path[2], "environment")) or "")
                att = ctx.env.environment_named(env_name, "CI environment") or ctx.env.from_words(
                    env_name, ""
                )
                if att is not None and att.tier is Tier.PRODUCTION:
                    return f"reviewers of CI environment {env_name}"
            return f"{path[1]}.{path[2]}" if ctx.tier is Tier.PRODUCTION else None
        if ctx.tier is Tier.PRODUCTION and any(_GRANT_KEYS.match(p) for p in path):
            return ".".join(path)
        return None

    def _kubernetes(
        self, ctx: FileContext, parsed: Parsed, identities: dict[str, str]
    ) -> Iterable[Finding]:
        for i, doc in enumerate(parsed.documents):
            if not isinstance(doc, dict) or doc.get("kind") not in (
                "RoleBinding",
                "ClusterRoleBinding",
            ):
                continue
            meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
            ns = str(meta.get("namespace") or "") if isinstance(meta, dict) else ""
            att = ctx.env.attribute_namespace(ns) if ns else None
            tier = att.tier if att is not None else ctx.tier
            if tier is not Tier.PRODUCTION:
                continue
            role = _dig(doc, ("roleRef", "name")) or "?"
            for j, subject in enumerate(doc.get("subjects") or []):
                if not isinstance(subject, dict):
                    continue
                hit = _match(str(subject.get("name", "")), identities)
                if hit is None:
                    continue
                where = f"namespace {ns}" if ns else "the cluster"
                yield ctx.finding(
                    ExternalPrincipalInProduction,
                    f"{doc['kind']} binds {role} to external principal {hit[1]} "
                    f"in production {where}",
                    parsed.line_of(i, "subjects", str(j), "name"),
                    f"subjects[{j}].name = {hit[0]}",
                    anchor=f"{i}|{ns}|{hit[0]}|{role}",
                    environment=att.label if att is not None else None,
                )


def _dig(doc: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(key)
    return doc
