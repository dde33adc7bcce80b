"""Build a masking plan from a live source: introspect, sample, classify.

Every column of every table gets an entry: the transformer classify proposes for
it (with params and the reason), or an explicit ``keep``. Foreign-key columns then
take the transformer and params of the root key they reference, so references
stay valid after masking. The result is linted; problems are returned with the
plan, never hidden.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stagewall.masking.lint import KEEP, LintProblem, Severity, lint_plan, schema_problems
from stagewall.masking.plan import REFERENCE_REASON, ColumnPlan, Plan, TablePlan, root_key
from stagewall.masking.schema import Schema, Table

DEFAULT_SAMPLE = 1000

Samples = Mapping[tuple[str, str], Sequence[object]]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class PlanResult:
    plan: Plan
    problems: tuple[LintProblem, ...]
    sampled_rows: int


def build_plan(
    source_url: str,
    *,
    sample: int = DEFAULT_SAMPLE,
    schemas: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> PlanResult:
    """Introspect ``source_url``, sample ``sample`` rows per table and classify."""
    from stagewall.masking.db import copy_columns, open_database

    if sample < 0:
        from stagewall.errors import UsageError

        raise UsageError("--sample must be 0 or more rows")
    with open_database(source_url, role="source") as db:
        from stagewall.masking._references import checked

        # the undeclared references a run would take (its free text is then about people)
        schema = checked(db, _in_scope(db.introspect(), schemas))
        if not schema.tables:
            from stagewall.errors import ConfigError

            where = f" in schemas {', '.join(schemas)}" if schemas else ""
            raise ConfigError(
                f"the source {db.url.display} has no tables{where}: nothing to plan",
                hint="check the database name in the URL (and --schema); a plan of "
                "nothing would let `mask run` report an empty copy as verified",
            )
        samples: dict[tuple[str, str], list[object]] = {}
        rows = 0
        for table in schema.tables:
            if progress:
                progress(table.qualified)
            cols = [c.name for c in copy_columns(table)]
            if not cols or sample == 0:
                continue
            got = db.sample(table, cols, sample)
            for c, values in got.items():
                samples[(table.qualified, c)] = values
            rows += max((len(v) for v in got.values()), default=0)
        fulltext = fulltext_sources(getattr(db, "ddl", None))
        guess = getattr(db, "guess_fulltext", None)
        if guess is not None and sample:
            fulltext.update(_guessed(schema, fulltext, guess, sample))
        plan = plan_from_schema(schema, samples, schemas=schemas, fulltext=fulltext)
        in_schema = schema_problems(db, plan, schema)
    problems = lint_plan(plan, schema, samples=samples)
    problems = (
        [p for p in problems if p.severity is Severity.ERROR]
        + in_schema
        + [p for p in problems if p.severity is not Severity.ERROR]
    )
    return PlanResult(plan, tuple(problems), rows)


def _in_scope(schema: Schema, schemas: Sequence[str] | None) -> Schema:
    if not schemas:
        return schema
    wanted = set(schemas)
    return Schema(schema.backend, tuple(t for t in schema.tables if (t.schema or "") in wanted))


Fulltext = Mapping[tuple[str, str], tuple[str, tuple[str, ...]]]

_TRIGGER = re.compile(r"tsvector_update_trigger(_column)?\((.*)\)\s*;?\s*$", re.S | re.I)
_ARG = re.compile(r"'((?:[^']|'')*)'")


def fulltext_sources(ddl: Any) -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    """PostgreSQL: full-text columns kept up to date by the built-in
    ``tsvector_update_trigger`` → (text search configuration, source columns)."""
    out: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
    for table, _name, definition in getattr(ddl, "triggers", None) or ():
        m = _TRIGGER.search(definition)
        if m is None:
            continue
        args = [a.replace("''", "'") for a in _ARG.findall(m.group(2))]
        if len(args) < 3:
            continue
        # the _column variant reads the configuration from a column: use simple
        config = "simple" if m.group(1) else args[1]
        out[(table, args[0])] = (config, tuple(args[2:]))
    return out


def _guessed(
    schema: Schema, known: Fulltext, guess: Callable[..., Any], sample: int
) -> dict[tuple[str, str], tuple[str, tuple[str, ...]]]:
    """Plain tsvector columns (no trigger, not generated): their sources from data."""
    from stagewall.masking.lint import is_fulltext
    from stagewall.masking.types import ColumnKind

    out = {}
    for t in schema.tables:
        text = [c.name for c in t.columns if c.kind is ColumnKind.TEXT]
        for c in t.columns:
            if is_fulltext(c) and (t.qualified, c.name) not in known:
                found = guess(t, c.name, text, min(sample, 200))
                if found is not None:
                    out[(t.qualified, c.name)] = found
    return out


def _fulltext_plan(table: Table, column: str, fulltext: Fulltext | None) -> ColumnPlan:
    found = (fulltext or {}).get((table.qualified, column))
    if found is not None:
        return ColumnPlan(
            transformer="tsvector",
            params={"columns": list(found[1]), "config": found[0]},
            reason=f"full-text column made from {', '.join(found[1])} (its trigger, or "
            "the sampled rows): recomputed on the target from the masked columns",
        )
    return ColumnPlan(
        transformer="tsvector",
        params={"columns": []},
        reason="full-text column whose source columns are unknown: left empty (list "
        "them in params.columns to have it recomputed)",
    )


DOCUMENT_REASON = (
    "an hstore or xml document: its values may be anyone's (a surname the detector "
    "does not know) and no transformer rewrites them in place; set to NULL (plan keep, "
    "with a reason, when it holds no personal data: verify reads the values inside it)"
)


def plan_from_schema(
    schema: Schema,
    samples: Samples,
    *,
    schemas: Sequence[str] | None = None,
    fulltext: Fulltext | None = None,
) -> Plan:
    """The plan for ``schema`` given sampled values (pure: no database access)."""
    from stagewall.masking._context import (
        about_people,
        fixed_list,
        personal_tables,
        reference_tables,
    )
    from stagewall.masking._documents import is_document
    from stagewall.masking.db import is_generated
    from stagewall.masking.lint import is_fulltext

    personal = personal_tables(schema)
    about = about_people(schema)
    reference = reference_tables(schema, samples, personal)
    chosen: dict[tuple[str, str], ColumnPlan] = {}
    for table in schema.tables:
        for col in table.columns:
            ref = (table.qualified, col.name)
            if is_generated(col):
                chosen[ref] = ColumnPlan(
                    transformer=KEEP,
                    reason="generated column: recomputed on the target from masked columns",
                )
                continue
            if is_fulltext(col):
                chosen[ref] = _fulltext_plan(table, col.name, fulltext)
                continue
            if is_document(col):
                chosen[ref] = ColumnPlan(transformer="null", reason=DOCUMENT_REASON)
                continue
            listed = fixed_list(table, col)
            if listed is not None:
                chosen[ref] = ColumnPlan(transformer=KEEP, reason=listed)
                continue
            chosen[ref] = _classify(
                table,
                col.name,
                samples.get(ref, ()),
                table.qualified in personal,
                about=table.qualified in about,
            )
    marked: dict[str, str] = {}
    for tname, why in reference.items():
        t = schema.table(tname)
        refs = [(tname, c.name) for c in t.columns] if t is not None else []
        if any(chosen[r].transformer != KEEP for r in refs):
            marked[tname] = why
            for r in refs:
                chosen[r] = ColumnPlan(transformer=KEEP, reason=REFERENCE_REASON)
    from stagewall.masking._domains import apply_domains, propose_domains

    apply_domains(schema, chosen, propose_domains(chosen, samples))
    for table in schema.tables:
        for fk in table.foreign_keys:
            for fk_col in fk.columns:
                root = root_key(schema, table.qualified, fk_col)
                if root == (table.qualified, fk_col):
                    continue  # a cycle's own root keeps its classification
                base = chosen.get(root)
                if base is None:
                    chosen[(table.qualified, fk_col)] = ColumnPlan(
                        transformer=KEEP,
                        reason=f"foreign key to {root[0]}.{root[1]}, which is outside the "
                        "planned schemas: kept so the reference stays valid",
                    )
                    continue
                chosen[(table.qualified, fk_col)] = ColumnPlan(
                    transformer=base.transformer,
                    params=dict(base.params),
                    reason=f"foreign key to {root[0]}.{root[1]}: same transformer as the key",
                )
    tables: dict[str, TablePlan] = {}
    for table in schema.tables:
        cols = {c.name: chosen[(table.qualified, c.name)] for c in table.columns}
        mark = marked.get(table.qualified)
        tables[table.qualified] = TablePlan(
            reference=mark is not None, reason=mark or "", columns=cols
        )
    return Plan(schemas=tuple(sorted(schemas)) if schemas else None, tables=tables)


def _classify(
    table: Table, column: str, values: Sequence[object], personal: bool, *, about: bool
) -> ColumnPlan:
    from stagewall.masking.classify import classify_column

    col = table.column(column)
    if col is None:  # pragma: no cover - callers pass the table's own columns
        raise KeyError(column)
    finding: Any = classify_column(
        table=table.qualified,
        column=column,
        kind=col.kind,
        samples=list(values),
        is_unique=table.is_unique(column) or table.in_unique_set(column),
        is_primary_key=column in table.primary_key,
        is_foreign_key=any(column in fk.columns for fk in table.foreign_keys),
        max_length=col.max_length,
        personal_table=personal,
        about_person=about,
    )
    return ColumnPlan(
        transformer=str(finding.transformer),
        params=dict(finding.params or {}),
        reason=str(finding.reason),
    )


__all__ = ["DEFAULT_SAMPLE", "PlanResult", "build_plan", "plan_from_schema"]
