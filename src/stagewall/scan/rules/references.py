"""Non-production artifacts that reach into production, and resources both sides share."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from typing import Any

from stagewall.scan._model import Attribution, Entry, Finding, Severity, Tier
from stagewall.scan._profiles import (
    ProfileDocument,
    SpringDocument,
    document_at,
    profile_documents,
    spring_documents,
)
from stagewall.scan._refs import Ref
from stagewall.scan.readers import Kind
from stagewall.scan.readers.compose import UNRESOLVED_ENV_FILES
from stagewall.scan.readers.kustomize import is_kustomization
from stagewall.scan.rules._base import FileContext, Rule, RunContext
from stagewall.scan.rules._composecmd import crossings
from stagewall.scan.rules.meta import Unresolved

# formats where one file may hold a section per environment (Rails ``database.yml``,
# ``[staging]`` in an INI or TOML file, ``{"production": {...}, "staging": {...}}``)
_SECTIONED = frozenset({Kind.YAML, Kind.JSON, Kind.TOML, Kind.INI})


_SECTION_PARENTS = frozenset({"environments", "envs", "stages", "profiles"})


def sections(ctx: FileContext) -> dict[tuple[str, ...], tuple[Attribution, int]]:
    """Sections named after an environment (top-level, or under ``environments:`` as in
    helmfile and serverless), by key path, with the line each starts on, in a file its
    path does not attribute; ``{}`` otherwise."""
    parsed = ctx.parsed
    if parsed is None or parsed.kind not in _SECTIONED or len(parsed.documents) != 1:
        return {}
    doc = parsed.documents[0]
    if not isinstance(doc, dict):
        return {}
    candidates: list[tuple[tuple[str, ...], Any]] = []
    for key, value in doc.items():
        if isinstance(key, str) and key.lower() in _SECTION_PARENTS and isinstance(value, dict):
            candidates += [((key, str(k)), v) for k, v in value.items()]
        elif isinstance(key, str):
            candidates.append(((key,), value))
    found: dict[tuple[str, ...], tuple[Attribution, int]] = {}
    for path, value in candidates:
        if not isinstance(value, dict):
            continue
        att = ctx.env.environment_named(path[-1], f"section {'.'.join(path)}: of this file")
        if att is not None:
            firsts = [e.line for e in parsed.entries if e.path[: len(path)] == path]
            line = parsed.lines.get((0, *path)) or min(firsts, default=1)
            found[path] = (att, line)
    if not found or ctx.env.attribute_path(ctx.rel) is not None:
        return {}
    return found


def _profile_documents(ctx: FileContext) -> list[ProfileDocument]:
    """Spring profile documents of a file its path does not attribute."""
    if ctx.env.attribute_path(ctx.rel) is not None:
        return []
    return profile_documents(ctx.text, ctx.parsed, ctx.env)


_INDEX_SEGMENT = re.compile(r"\.\d+(?=\.|$)")


def _property(path: tuple[str, ...]) -> str:
    """A Spring property's name as relaxed binding compares it (``spring.data-source.URL``
    is ``spring.datasource.url``); a list is replaced whole, so its indexes drop out."""
    return _INDEX_SEGMENT.sub("", ".".join(path).lower().replace("-", ""))


def _inheritors(
    ctx: FileContext, documents: list[SpringDocument], default: SpringDocument, entry: Entry
) -> list[Attribution]:
    """The non-production profiles a default-document value reaches: each one whose own
    document does not set that property after it (nor a later default document, nor a
    ``!prod`` document after it)."""
    name = _property(entry.path)

    def sets(doc: SpringDocument) -> bool:
        if doc.start < default.start and not doc.legacy:
            return False
        lines = range(doc.start, doc.end + 1)
        entries = ctx.parsed.entries if ctx.parsed is not None else []
        return any(e.line in lines and _property(e.path) == name for e in entries)

    shared = [
        d for d in documents if (d.default and d.start > default.start) or d.every_non_production
    ]
    if any(sets(d) for d in shared):
        return []
    out: list[Attribution] = []
    for doc in documents:
        att = doc.attribution
        if att is None or att.tier is not Tier.NON_PRODUCTION or sets(doc):
            continue
        if all(a.environment != att.environment for a in out):
            out.append(att)
    return out


_CONFIG_FILE_KEYS = frozenset(
    {"env_file", "envfile", "var_file", "var_files", "valuefiles", "values_files"}
)
_CONFIG_FILE_FLAG = re.compile(
    r"(?:-var-file[= ]|--var-file[= ]|--values[= ]|--env-file[= ]|(?:^|\s)-f\s+)['\"]?([^\s'\";|]+)"
)


def _config_files(entry: Entry, kind: Kind | None, kustomization: bool) -> list[tuple[str, str]]:
    """(name as written, a path in it to attribute) of each configuration ``entry`` loads:
    files (``env_file`` and its long syntax ``- path: x.env``, ``-var-file``,
    ``--values``), and the directories a kustomization builds on
    (``resources``/``bases``/``components``: ``../production``) or a Terraform
    ``module`` sources (``source = "../prod"``), by what they hold."""
    found = [m.group(1) for m in _CONFIG_FILE_FLAG.finditer(entry.value)]
    keys = [p.lower() for p in entry.path if not p.isdigit()]
    if keys and (keys[-1] in _CONFIG_FILE_KEYS or keys[-2:] == ["env_file", "path"]):
        found.append(entry.value.strip())
    out = [(name, name) for name in found]
    value = entry.value.strip()
    if not value.startswith(("./", "../")):
        return out  # a remote module or base is another repository's: not read here
    if kustomization and len(entry.path) == 2 and entry.path[0] in _KUSTOMIZE_BASES:
        out.append((value, value if _FILE_SUFFIX.search(value) else value + "/kustomization.yaml"))
    elif (
        kind is Kind.TERRAFORM and len(entry.path) == 3 and entry.path[::2] == ("module", "source")
    ):
        out.append((value, value.rstrip("/") + "/main.tf"))
    return out


_KUSTOMIZE_BASES = frozenset({"resources", "bases", "components"})
_FILE_SUFFIX = re.compile(r"\.(?:ya?ml|json)$", re.I)


def _evidence(path: tuple[str, ...], found: str) -> str:
    """Where and what was referenced; never the whole value (it may hold a secret)."""
    where = ".".join(p for p in path if p)
    return f"{where}: {found}" if where else found


_STATE_KEYS = frozenset({"key", "prefix", "workspace", "name", "path", "workspace_key_prefix"})


def _production_state(ctx: FileContext) -> Iterable[Finding]:
    """Non-production Terraform whose backend is production's state, or that reads it
    (``terraform_remote_state``): state holds production's outputs and secrets in clear,
    and a shared backend key means an apply from staging changes production."""
    for entry in ctx.parsed.entries if ctx.parsed is not None else ():
        remote = "terraform_remote_state" in entry.path
        backend = entry.path[:2] == ("terraform", "backend")
        if not (remote or backend) or entry.path[-1] not in _STATE_KEYS:
            continue
        att = ctx.env.from_words(entry.value, f"state name {entry.value}")
        if att is None or att.tier is not Tier.PRODUCTION:
            continue
        what = "reads production state" if remote else "keeps its state in production's"
        yield ctx.finding(
            ProductionReference,
            f"{ctx.attribution.label} Terraform {what} {entry.value} ({att.reason})",
            entry.line,
            _evidence(entry.path, entry.value),
            severity=Severity.MEDIUM,
            anchor=f"{'.'.join(entry.path)}|state:{entry.value}",
        )


class ProductionReference(Rule):
    id = "SW-SCAN-001"
    title = "Non-production artifact references a production resource"
    severity = Severity.HIGH
    description = (
        "A file that belongs to a non-production environment (by estate path glob, path "
        "convention or namespace) names a production resource: a database host or URL, a "
        "bucket, a cloud account, an API base URL, a queue. Staging code or people with "
        "staging access can then reach production. Declared estate resources give high "
        "severity; production recognised only by name (`db.prod.example.com`) gives medium. "
        "Reading the variable the estate names as a production resource's `connection_env` "
        "or `admin_connection_env` (`${SHOP_PROD_DATABASE_URL}`, `secrets.NAME`, a compose "
        "pass-through) and loading a production configuration file (`env_file: "
        ".env.production`, also when a variable chooses it and resolves to it from its "
        "default or the compose project's `.env` — `${ENV_FILE:-.env.production}`, "
        "`./config/${STAGE}.env` — or an absolute path names it, `/etc/app/prod.env`; "
        "`-var-file=prod.tfvars`, `--values values-prod.yaml`; `docker compose --env-file "
        ".env.production` in a Makefile, script, `package.json` script or CI job when the "
        "compose project is non-production by its `-f` file, its `-p` project name, the CI "
        "job's environment or the script's or Make target's name; the file also when a "
        'variable of the same file holds it, `--env-file "$ENV_FILE"` after '
        "`ENV_FILE=.env.production`, or `COMPOSE_ENV_FILES` names it, or when it is the `.env` "
        "of `--project-directory ../prod`) or building "
        "on a production directory (a kustomization's `resources: [../production]`, a "
        'Terraform module `source = "../prod"`) count too, '
        "as do base64 values of a Kubernetes `Secret`, percent-encoded hosts, a URL inside "
        "another's query, and a non-production section (`staging:`, `[staging]`) of a file "
        "that holds every environment's settings (Rails `database.yml`), merged values "
        "(`<<: *production`) included; non-production Terraform that reads production's state "
        "(`terraform_remote_state` of `prod/network.tfstate`) or keeps its own there (a "
        "backend `key`/`prefix`/`workspace` named production) is reported at medium. "
        "A production value in a Spring file's default document (no profile) counts for each "
        "non-production profile the file declares whose document does not override it. "
        "An image a non-production deployment runs (`image:`, Helm `image.repository`/"
        "`image.tag`) counts when it is in a `registry` resource of production (a host or a "
        "repository prefix), its registry host is named production, or its tag matches "
        "production's `image_tags` convention (`:prod`, `prod-*`). "
        "Values in comments are ignored (they are often stale "
        "documentation); examples, documentation and test fixtures are in no environment."
    )
    remediation = (
        "Point the non-production artifact at its own environment's resource; if the "
        "production data is needed, copy it through `stagewall mask`."
    )
    controls = ("A.8.31", "A.8.33", "A.5.15")
    tags = ("separation",)

    def check(self, ctx: FileContext) -> Iterable[Finding]:
        if ctx.tier is not Tier.NON_PRODUCTION:
            yield from self._sections(ctx)
            yield from _compose_commands(ctx)
            return
        seen: set[tuple[int, str]] = set()
        for entry, ref in ctx.refs:
            if ref.attribution.tier is not Tier.PRODUCTION or (entry.line, ref.key) in seen:
                continue
            seen.add((entry.line, ref.key))
            yield _reference(ctx, entry, ref, f"{ctx.attribution.label} artifact references")
        if ctx.parsed is None:
            return
        if ctx.parsed.kind in (Kind.TERRAFORM, Kind.TFVARS):
            yield from _production_state(ctx)
        base = posixpath.dirname(ctx.rel)
        kind = ctx.parsed.kind
        kustomization = kind is Kind.KUBERNETES and is_kustomization(ctx.rel, ctx.parsed)
        for entry in ctx.parsed.entries:
            for name, probe in _config_files(entry, kind, kustomization):
                target = posixpath.normpath(posixpath.join(base, probe)) if base else probe
                att = ctx.env.attribute_path(target.lstrip("./")) or ctx.env.attribute_path(
                    posixpath.basename(name)
                )
                if att is None or att.tier is not Tier.PRODUCTION:
                    continue
                yield ctx.finding(
                    ProductionReference,
                    f"{ctx.attribution.label} artifact loads {att.label} configuration "
                    f"{name} ({att.reason})",
                    entry.line,
                    _evidence(entry.path, name),
                    severity=Severity.HIGH if "estate" in att.reason else Severity.MEDIUM,
                    anchor=f"{'.'.join(entry.path)}|file:{name}",
                )
        # a compose command whose env file is a variable, COMPOSE_ENV_FILES or the project
        # directory's .env (a literal --env-file is read with the other files above)
        yield from _compose_commands(ctx, literal=False)
        if kind is Kind.COMPOSE:
            yield from _unresolved_env_files(ctx)

    def _sections(self, ctx: FileContext) -> Iterable[Finding]:
        """A non-production section (``staging:``) of a file the path does not attribute:
        its values, merged ones included, are that environment's."""
        found = sections(ctx) if ctx.refs else {}
        documents = _profile_documents(ctx) if ctx.refs and not found else []
        if documents:
            yield from _inherited(ctx)
        seen: set[tuple[tuple[str, ...], str]] = set()
        key: tuple[str, ...]
        for entry, ref in ctx.refs:
            if documents:  # Spring: a document per profile, keyed by where it starts
                doc = document_at(documents, entry.line)
                key = (f"document@{doc.start}",) if doc else ()
                section = (doc.attribution, doc.start) if doc else None
            else:
                key = entry.path[:2] if entry.path[:2] in found else entry.path[:1]
                section = found.get(key)
            if section is None or ref.attribution.tier is not Tier.PRODUCTION:
                continue
            att, start = section
            if att.tier is not Tier.NON_PRODUCTION or (key, ref.key) in seen:
                continue
            seen.add((key, ref.key))
            yield _reference(
                ctx,
                entry,
                ref,
                f"{att.label} section references",
                # a value merged in from another section (``<<: *production``) is reported
                # where this section starts
                line=entry.line if entry.line >= start else start,
                where=att,
            )


def _compose_commands(ctx: FileContext, *, literal: bool = True) -> Iterable[Finding]:
    """A non-production compose project started with a production env file (``docker
    compose --env-file``, ``COMPOSE_ENV_FILES``, the ``.env`` of ``--project-directory``)
    in a Makefile, a script, a ``package.json`` script or a CI job; in a non-production
    file (the project is then the file's) without a ``--env-file`` written as a plain
    name (``literal``), which is read with the file's other references."""
    for found in crossings(ctx):
        if not literal and found.how == "--env-file" and found.written == found.name:
            continue
        att, project, name = found.prod, found.project, found.name
        if found.how.endswith("DIRECTORY") or found.how == "--project-directory":
            given = f"{found.how} {found.written}, whose .env is {name}"
            anchor = f"compose-project-directory|{name}|{project.environment}"
        else:
            given = f"{found.how} {found.written}"
            given += f" (= {name})" if name != found.written else ""
            anchor = f"compose-env-file|{name}|{project.environment}"
        yield ctx.finding(
            ProductionReference,
            f"{project.label} compose project started with {att.label} configuration "
            f"{given} ({att.reason})",
            found.line,
            f"{found.how}: {found.written}" + (f" -> {name}" if name != found.written else ""),
            severity=Severity.HIGH if "estate" in att.reason else Severity.MEDIUM,
            anchor=anchor,
            environment=project.label,
            environment_reason=project.reason,
        )


def _unresolved_env_files(ctx: FileContext) -> Iterable[Finding]:
    """A non-production compose service's ``env_file`` chosen by a variable that has
    neither a default nor a value in the project's ``.env``: which file it loads (perhaps
    production's) is decided when it runs. Low (SW-SCAN-011); quiet when the written
    part of the name already says non-production (``./config/staging-${REGION}.env``)."""
    found = ctx.parsed.extra.get(UNRESOLVED_ENV_FILES, []) if ctx.parsed is not None else []
    for entry, service, missing in found:
        written = _VARIABLE.sub(" ", entry.value)
        named = ctx.env.from_words(written, f"env_file {entry.value}")
        if named is not None and named.tier is not Tier.UNKNOWN:
            continue  # a production name is reported above, through the resolved entry
        names = ", ".join(dict.fromkeys(missing))
        yield ctx.finding(
            Unresolved,
            f"{ctx.attribution.label} service {service} loads env_file {entry.value}: "
            f"{names} has no default and no value in the project's .env, so which file it "
            "loads (perhaps production's) cannot be checked",
            entry.line,
            _evidence(entry.path, entry.value),
            anchor=f"{'.'.join(entry.path)}|unresolved-env-file",
        )


_VARIABLE = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")


def _inherited(ctx: FileContext) -> Iterable[Finding]:
    """Production values of a Spring file's default document that its non-production
    profiles inherit (their documents do not override them)."""
    documents = spring_documents(ctx.text, ctx.parsed, ctx.env)
    defaults = [d for d in documents if d.default]
    seen: set[tuple[int, str]] = set()
    for entry, ref in ctx.refs:
        if ref.attribution.tier is not Tier.PRODUCTION:
            continue
        default = next((d for d in defaults if d.start <= entry.line <= d.end), None)
        if default is None or (default.start, ref.key) in seen:
            continue
        profiles = _inheritors(ctx, documents, default, entry)
        if not profiles:
            continue
        seen.add((default.start, ref.key))
        names = ", ".join(a.label for a in profiles)
        reason = (
            f"Spring default document (lines {default.start}-{default.end}), which every "
            f"profile loads; inherited by the {names} profile document(s) of this file"
        )
        yield _reference(
            ctx,
            entry,
            ref,
            f"{profiles[0].label} profile inherits the default document's reference to",
            where=Attribution(profiles[0].environment, profiles[0].tier, reason),
            more=f"; no later {names} document overrides {'.'.join(entry.path)}",
        )


def _reference(
    ctx: FileContext,
    entry: Entry,
    ref: Ref,
    subject: str,
    *,
    line: int | None = None,
    where: Attribution | None = None,
    more: str = "",
) -> Finding:
    """SW-SCAN-001 for one production reference; ``where`` is the environment of the
    part of the file it sits in (a section, a profile) when not the file's."""
    what = f"production resource {ref.resource} ({ref.text})" if ref.resource else ref.text
    return ctx.finding(
        ProductionReference,
        f"{subject} {what}, which is in {ref.attribution.label} ({ref.attribution.reason}){more}",
        entry.line if line is None else line,
        _evidence(entry.path, ref.text),
        severity=Severity.HIGH if ref.declared else Severity.MEDIUM,
        anchor=f"{'.'.join(entry.path)}|{ref.key}",
        environment=where.label if where else None,
        environment_reason=where.reason if where else None,
    )


class SharedResource(Rule):
    id = "SW-SCAN-002"
    title = "Resource shared by production and non-production"
    severity = Severity.HIGH
    description = (
        "The same database server, host, bucket, queue or network is referenced by "
        "production artifacts and by non-production artifacts, or a production artifact "
        "depends on a non-production resource. Shared infrastructure means staging "
        "workloads and their operators touch production. Undeclared resources count when "
        "they look like infrastructure (database/cache/queue URLs, DSNs, bucket or queue "
        "names, private names and addresses); public web endpoints such as SaaS APIs do not. "
        "Only identifiers count (hosts, buckets, queues, accounts, ARNs, project IDs): never "
        "booleans, numbers or short common words (`false`, `default`, `logs`)."
    )
    remediation = (
        "Give each environment its own resource and declare it under the right environment "
        "in stagewall.yaml."
    )
    controls = ("A.8.31", "A.8.22")
    tags = ("separation",)

    def finish(self, run: RunContext) -> Iterable[Finding]:
        by_key: dict[str, dict[Tier, list[tuple[str, int, str, tuple[str, ...], str]]]] = {}
        owner: dict[str, Tier] = {}
        for summary in run.files:
            tier = summary.attribution.tier
            if tier is Tier.UNKNOWN:
                continue
            for entry, ref in summary.refs:
                if not ref.declared and not ref.infrastructure:
                    continue  # public endpoints (SaaS APIs) are shared by design
                owner[ref.key] = ref.attribution.tier
                slot = by_key.setdefault(ref.key, {}).setdefault(tier, [])
                slot.append(
                    (
                        summary.rel,
                        entry.line,
                        summary.attribution.label,
                        entry.path,
                        summary.attribution.reason,
                    )
                )
        for key, sides in sorted(by_key.items()):
            resource_tier = owner[key]
            prod, nonprod = sides.get(Tier.PRODUCTION, []), sides.get(Tier.NON_PRODUCTION, [])
            if resource_tier is Tier.NON_PRODUCTION and prod:
                targets, other = prod, "a non-production resource"
            elif resource_tier is Tier.UNKNOWN and prod and nonprod:
                targets, other = nonprod, f"also used by production ({prod[0][0]}:{prod[0][1]})"
            else:
                continue
            seen: set[str] = set()
            for rel, line, env, path, reason in targets:
                if rel in seen:
                    continue
                seen.add(rel)
                yield Finding(
                    rule_id=self.id,
                    severity=self.severity,
                    message=f"{key} is shared across the wall: {env} artifact uses {other}",
                    file=rel,
                    line=line,
                    environment=env,
                    evidence=_evidence(path, key),
                    anchor=key,
                    environment_reason=reason,
                )
