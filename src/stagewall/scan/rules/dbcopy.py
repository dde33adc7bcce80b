"""Copies of a production database into non-production that skip `stagewall mask`."""

from __future__ import annotations

import re
from collections.abc import Iterable

from stagewall.scan._model import Attribution, Finding, Tier
from stagewall.scan._model import Severity as Sev
from stagewall.scan._refs import URL, Ref
from stagewall.scan.readers import Kind
from stagewall.scan.rules._base import FileContext, Rule

DUMP = re.compile(r"\b(pg_dump|pg_dumpall|pg_basebackup|mysqldump|mariadb-dump|mongodump)\b")
LOAD = re.compile(r"\b(psql|pg_restore|mysql|mariadb|mongorestore)\b")
MASK = re.compile(r"\bstagewall\s+mask\b")
_HOST_FLAG = re.compile(r"(?:^|\s)(?:-h\s*|--host[=\s]+|-H\s+)['\"]?([^\s'\";|]+)")
_DSN = re.compile(r"\bhost=([^\s'\";|]+)")
_SCRIPT_KEYS = frozenset(
    {"run", "script", "command", "args", "cmd", "before_script", "after_script", "entrypoint"}
)


_VARIABLE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?")


def _variable_refs(ctx: FileContext, segment: str) -> list[Ref]:
    """Connection variables (``"$PROD_DATABASE_URL"``): the estate resource whose
    ``connection_env`` it is, else the environment its name says."""
    out: list[Ref] = []
    for name in _VARIABLE.findall(segment):
        declared = _connection_envs(ctx).get(name)
        if declared is not None:
            resource, env = declared
            att = Attribution(env, ctx.env.tier_of(env), f"estate connection_env of {resource}")
            out.append(Ref(f"${name}", resource, att, True))
            continue
        named = ctx.env.from_words(name, f"variable name {name}")
        if named is not None:
            out.append(Ref(f"${name}", None, named, False))
    return out


def _connection_envs(ctx: FileContext) -> dict[str, tuple[str, str]]:
    if ctx.estate is None:
        return {}
    found: dict[str, tuple[str, str]] = {}
    for name, res in ctx.estate.resources.items():
        for var in (res.connection_env, res.admin_connection_env):
            if var:
                found[var] = (name, res.environment)
    return found


def _hosts(segment: str) -> list[str]:
    found = [m.group(1) for m in _HOST_FLAG.finditer(segment)]
    found += [m.group(1) for m in _DSN.finditer(segment)]
    found += [m.group("host") for m in URL.finditer(segment)]
    return found


class UnmaskedProductionCopy(Rule):
    id = "SW-SCAN-010"
    title = "Production database copied into non-production without masking"
    severity = Sev.HIGH
    description = (
        "A script or CI job dumps a production database (`pg_dump`, `mysqldump`, "
        "`mongodump` against a production host, or from a variable such as "
        "`$PROD_DATABASE_URL` whose name or estate `connection_env` is production) and loads "
        "it into a non-production one "
        "(`psql`, `pg_restore`, `mysql` against a non-production host or variable, or in a "
        "non-production file) without going through `stagewall mask`: production personal "
        "data lands in staging. The commands are read, never run."
    )
    remediation = (
        "Replace the copy with `stagewall mask run` (masked, verified and recorded in the "
        "audit log)."
    )
    controls = ("A.8.33", "A.8.11", "A.8.31")
    tags = ("data",)

    def check(self, ctx: FileContext) -> Iterable[Finding]:
        parsed = ctx.parsed
        if parsed is None:
            return
        blocks: dict[tuple[str, ...], list[tuple[int, str]]] = {}
        for entry in parsed.entries:
            if parsed.kind is Kind.TEXT:
                blocks.setdefault((), []).append((entry.line, entry.value))
                continue
            key = next((p for p in reversed(entry.path) if not p.isdigit()), None)
            if key is not None and key.lower() in _SCRIPT_KEYS:
                blocks.setdefault(
                    entry.path[:-1] if entry.path[-1].isdigit() else entry.path, []
                ).append((entry.line, entry.value))
        for path, lines in blocks.items():
            body = "\n".join(text for _, text in lines)
            if not DUMP.search(body) or MASK.search(body):
                continue
            yield from self._block(ctx, path, lines)

    def _block(
        self, ctx: FileContext, path: tuple[str, ...], lines: list[tuple[int, str]]
    ) -> Iterable[Finding]:
        dump_line, source = 0, None
        target_tier = ctx.tier
        target_label = ctx.attribution.label
        for number, text in lines:
            for command in re.split(r"\|\||&&|\||;|\n", text):
                tiers = [ctx.index.lookup(h, heuristic=True) for h in _hosts(command)]
                tiers += _variable_refs(ctx, command)
                if DUMP.search(command):
                    for ref in tiers:
                        if ref is not None and ref.attribution.tier is Tier.PRODUCTION:
                            dump_line, source = number, ref
                elif LOAD.search(command):
                    for ref in tiers:
                        if ref is not None and ref.attribution.tier is not Tier.UNKNOWN:
                            target_tier, target_label = ref.attribution.tier, ref.attribution.label
        if source is None or target_tier is not Tier.NON_PRODUCTION:
            return
        yield ctx.finding(
            UnmaskedProductionCopy,
            f"production database {source.resource or source.text} is dumped and loaded into "
            f"{target_label} without `stagewall mask`",
            dump_line,
            f"dump from {source.text} -> {target_label}",
            anchor=f"{'.'.join(path)}|{source.key}",
        )
