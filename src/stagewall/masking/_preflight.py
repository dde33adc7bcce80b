"""Checks that run before any row moves: plan coverage and lint, target identity, estate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stagewall.errors import (
    ConfigError,
    DocumentTypeLost,
    MaskingError,
    SchemaNameUnconfirmed,
    SchemaPersonalData,
)
from stagewall.masking.db import DatabaseURL
from stagewall.masking.db._url import _normal_host, _real_path
from stagewall.masking.plan import Plan
from stagewall.masking.schema import Schema


def check_plan(plan: Plan, schema: Schema) -> None:
    """Every source column planned, nothing unknown named, lint errors refused."""
    from stagewall.masking.lint import ensure_plan_ok

    ensure_plan_ok(plan, schema)


def check_schema(
    db: Any, plan: Plan, schema: Schema, target: str | None = None
) -> list[tuple[str, str]]:
    """Refuse (SW520) a source whose object names, or whose definitions the copy
    (into a ``target`` backend) recreates as they are, hold personal data the plan
    does not acknowledge; refuse (SW528) one whose names or literals hold an
    ordinary word (or one the schema uses twice) that is a source name the plan
    does not acknowledge. Return the findings the plan
    acknowledges, ``(object as shown, what it holds)``: the run records them."""
    from stagewall.masking.lint import Severity, schema_problems

    acked: list[Any] = []
    problems = schema_problems(db, plan, schema, target, acked)
    found = [p for p in problems if p.severity is Severity.ERROR]
    if found:
        listing = "\n  ".join(p.render().replace("\n", "\n  ") for p in found[:20])
        more = f"\n  … and {len(found) - 20} more" if len(found) > 20 else ""
        raise SchemaPersonalData(
            f"the source schema holds personal data the copy would carry into staging "
            f"({len(found)} object{'s' if len(found) != 1 else ''}):\n  {listing}{more}"
        )
    if problems:
        listing = "\n  ".join(p.render().replace("\n", "\n  ") for p in problems[:20])
        more = f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else ""
        n = len(problems)
        raise SchemaNameUnconfirmed(
            f"the source schema's names or definitions hold ordinary words that are "
            f"also names of people in the source ({n} object{'s' if n != 1 else ''}); the copy "
            f"would carry them into staging:\n  {listing}{more}"
        )
    return [(f.shown, f.what) for f in acked]


def check_documents(plan: Plan, schema: Schema, target_backend: str) -> None:
    """Refuse (SW521) an hstore or xml column copied into a target without that
    type: there it is plain text, its values no longer read as a document's."""
    from stagewall.masking._documents import is_document

    if target_backend == "postgresql":
        return
    bad = [
        f"{t.qualified}.{c.name} ({c.db_type})"
        for t in schema.tables
        for c in t.columns
        if is_document(c)
        and (cp := plan.column(t.qualified, c.name)) is not None
        and (cp.transformer not in ("null", "constant") or plan.tables[t.qualified].reference)
    ]
    if bad:
        raise DocumentTypeLost(
            f"{', '.join(bad[:10])}{' …' if len(bad) > 10 else ''}: an hstore or xml "
            f"document planned to be copied into a {target_backend} target, which has no "
            "such type: it would arrive as plain text, its values no longer read as a "
            "document's"
        )


def check_not_same(source: DatabaseURL, target: DatabaseURL) -> None:
    if source.same_database(target):
        raise ConfigError(
            f"the target {target.display} is the source database; masking in place "
            "would destroy production data",
            hint="give a different, empty database as --target",
        )


def target_names(target: DatabaseURL) -> set[str]:
    if target.backend == "sqlite":
        path = target.path
        if path is None:
            return set()
        return {str(path).lower(), str(_real_path(path)).lower()}
    host = (target.host or "").lower()
    names = {host, _normal_host(host)}
    out = set(names)
    for h in names:
        out |= {f"{h}/{target.database}".lower(), f"{h}:{target.port}/{target.database}".lower()}
    return out


def check_not_production(target: DatabaseURL) -> None:
    """Refuse a target that ``stagewall.yaml`` declares as a production resource."""
    from stagewall.estate import load_estate_optional

    loaded = load_estate_optional()
    if loaded is None:
        return
    estate = loaded.estate
    wanted = target_names(target)
    base = Path(loaded.path).parent
    for rid, res in sorted(estate.resources.items()):
        if not estate.is_production(res.environment):
            continue
        if matches_resource(res, target, wanted, base):
            raise MaskingError(
                f"the target {target.display} is resource {rid!r} of production "
                f"environment {res.environment!r} in {loaded.path}",
                hint="mask into a staging or development database, never into production",
            )


def matches_resource(res: object, target: DatabaseURL, wanted: set[str], base: Path) -> bool:
    """Whether ``target`` is the declared resource ``res`` (its SQLite ``path``, relative
    to ``base``, the estate file's directory; its host/port/database; its identifiers)."""
    from stagewall.estate import Resource

    if not isinstance(res, Resource):
        return False
    if target.backend == "sqlite":
        if (
            res.path
            and target.path is not None
            and _real_path(target.path) == _real_path(base / Path(res.path))
        ):
            return True
        return any(i.strip().lower() in wanted for i in res.identifiers)
    if res.host:
        same_host = _normal_host(res.host) == _normal_host(target.host)
        same_port = res.port is None or res.port == target.port
        same_db = res.database is None or res.database == target.database
        if same_host and same_port and same_db:
            return True
    # Explicit identifiers only: host/database are matched together above, so a
    # staging database on the same server as production is not mistaken for it.
    for raw in res.identifiers:
        ident = raw.strip().lower()
        if ident in wanted:
            return True
        if "://" in ident:
            try:
                other = DatabaseURL.parse(ident, "target")
            except ConfigError:
                continue
            if other.same_database(target):
                return True
    return False


__all__ = [
    "check_documents",
    "check_not_production",
    "check_not_same",
    "check_plan",
    "check_schema",
    "matches_resource",
    "target_names",
]
