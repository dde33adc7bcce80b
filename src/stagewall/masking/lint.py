"""Check a masking plan against the live source schema before any row moves.

:func:`lint_plan` returns every problem it finds (it never stops at the first);
:func:`ensure_plan_ok` raises when any of them is an error. ``mask lint``, ``mask
run`` and the engine all go through here, so a plan that would break the target
(duplicate keys, dangling foreign keys, values that do not fit) or leave a column
unplanned is refused before the target is touched.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stagewall.errors import MaskingError, StagewallError, UnmaskedColumn
from stagewall.keys import MaskingKey
from stagewall.masking.classify import Category
from stagewall.masking.classify._reference import is_reference_value, reference_values
from stagewall.masking.plan import ColumnPlan, Plan
from stagewall.masking.schema import Column, Schema, Table
from stagewall.masking.types import ColumnKind

KEEP = "keep"

# Output kinds a column of a given kind can store without loss of meaning.
_FITS: dict[ColumnKind, frozenset[ColumnKind]] = {
    ColumnKind.DECIMAL: frozenset({ColumnKind.INTEGER, ColumnKind.DECIMAL}),
    ColumnKind.FLOAT: frozenset({ColumnKind.INTEGER, ColumnKind.DECIMAL, ColumnKind.FLOAT}),
    ColumnKind.TIMESTAMP: frozenset({ColumnKind.DATE, ColumnKind.TIMESTAMP}),
    ColumnKind.OTHER: frozenset(ColumnKind),
}
# A throwaway key: lint needs transformer *instances* (output length depends on
# params) but never transforms a value.
_LINT_KEY = MaskingKey(key_id="lint", secret=b"\x00" * 32)
_STRONG = frozenset(
    {
        Category.EMAIL,
        Category.PHONE,
        Category.IBAN,
        Category.CARD_NUMBER,
        Category.NATIONAL_ID,
        Category.IP_ADDRESS,
    }
)


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"


class Rule(enum.Enum):
    """Stable identifiers of the lint rules (documented in docs/masking.md)."""

    UNPLANNED_COLUMN = "unplanned-column"
    UNKNOWN_TABLE = "unknown-table"
    UNKNOWN_COLUMN = "unknown-column"
    UNKNOWN_TRANSFORMER = "unknown-transformer"
    BAD_PARAMS = "bad-params"
    NOT_UNIQUE_SAFE = "not-unique-safe"
    LOSSY_ON_KEY = "lossy-on-key"
    FK_MISMATCH = "fk-mismatch"
    KIND_NOT_ACCEPTED = "kind-not-accepted"
    OUTPUT_KIND = "output-kind"
    TOO_LONG = "output-too-long"
    NULL_NOT_NULLABLE = "null-not-nullable"
    KEEP_SENSITIVE = "keep-sensitive"
    KEEP_FREE_TEXT = "keep-free-text"
    FIXED_LIST = "fixed-list"
    CONSISTENCY_MISMATCH = "consistency-mismatch"
    CHECK_CONSTRAINT = "check-constraint"
    FULLTEXT = "fulltext"
    UNDECLARED_REFERENCE = "undeclared-reference"
    PARTITION_BOUND = "partition-bound"
    KEEP_MASKED_VALUES = "keep-masked-values"
    SCHEMA_PERSONAL_DATA = "schema-personal-data"
    SCHEMA_NAME_WORD = "schema-name-word"


@dataclass(frozen=True)
class LintProblem:
    severity: Severity
    rule: Rule
    table: str
    column: str | None
    message: str
    hint: str = ""

    def render(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        text = f"{self.severity.value}[{self.rule.value}] {where}: {self.message}"
        return text + (f"\n  hint: {self.hint}" if self.hint else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity.value,
            "rule": self.rule.value,
            "table": self.table,
            "column": self.column,
            "message": self.message,
            "hint": self.hint,
        }


Samples = Mapping[tuple[str, str], Sequence[object]]


def scoped_schema(plan: Plan, schema: Schema) -> Schema:
    """The part of ``schema`` the plan covers: all of it, or only ``plan.schemas``."""
    if not plan.schemas:
        return schema
    wanted = set(plan.schemas)
    tables = tuple(t for t in schema.tables if (t.schema or "") in wanted)
    names = {t.qualified for t in tables}
    checked = schema.checked
    if checked is not None:
        checked = tuple(g for g in checked if g.table in names)
    return Schema(backend=schema.backend, tables=tables, checked=checked)


def lint_plan(plan: Plan, schema: Schema, *, samples: Samples | None = None) -> list[LintProblem]:
    """Every problem of ``plan`` against ``schema``, errors first, then by place.

    With ``samples`` (``{(table, column): values}``), ``keep`` columns are
    re-classified from values too; without, from their names and types only.
    """
    from stagewall.masking._context import about_people, personal_tables

    schema = scoped_schema(plan, schema)
    personal = personal_tables(schema)
    about = about_people(schema)
    out: list[LintProblem] = []
    for table in schema.tables:
        tplan = plan.tables.get(table.qualified)
        for col in table.columns:
            if tplan is None or col.name not in tplan.columns:
                out.append(
                    _err(
                        Rule.UNPLANNED_COLUMN,
                        table.qualified,
                        col.name,
                        "the source has this column but the plan does not mention it "
                        "(schema drift); no row may move until every column is planned",
                        "add the column to the plan with a transformer or `keep`, or "
                        "regenerate it with `stagewall mask plan`",
                    )
                )
    for tname, tplan in plan.tables.items():
        found = schema.table(tname)
        if found is None:
            out.append(
                _err(
                    Rule.UNKNOWN_TABLE,
                    tname,
                    None,
                    "the plan names this table but the source has no such table",
                    "remove it from the plan or check --source and the table's schema",
                )
            )
            continue
        for cname, cplan in tplan.columns.items():
            planned = found.column(cname)
            if planned is None:
                out.append(
                    _err(
                        Rule.UNKNOWN_COLUMN,
                        tname,
                        cname,
                        "the plan names this column but the source table has no such column",
                        "remove it from the plan (was it renamed or dropped?)",
                    )
                )
                continue
            if tplan.reference:
                continue  # marked as reference data: every column is copied as is
            out += _check_column(
                found, planned, cplan, samples, (tname in personal, tname in about)
            )
            out += _check_fulltext(found, planned, cplan)
            out += _check_listed_values(found, planned, cplan, samples)
        out += _check_foreign_keys(plan, schema, found)
        out += _check_partitions(found, tplan.columns)
    out += _check_domains(plan)
    out += _undeclared_references(plan, schema)
    out += _kept_masked_values(plan, schema, samples or {})
    out.sort(
        key=lambda p: (p.severity is not Severity.ERROR, p.table, p.column or "", p.rule.value)
    )
    return out


def is_fulltext(col: Column) -> bool:
    """A PostgreSQL ``tsvector`` column that rows fill (not a generated one)."""
    from stagewall.masking.db import is_generated

    return col.db_type.lower() == "tsvector" and not is_generated(col)


def _check_fulltext(table: Table, col: Column, cplan: ColumnPlan) -> list[LintProblem]:
    where = (table.qualified, col.name)
    if cplan.transformer == "tsvector":
        sources = [str(c) for c in cplan.params.get("columns", [])]
        missing = [c for c in sources if table.column(c) is None]
        if missing:
            return [
                _err(
                    Rule.FULLTEXT,
                    *where,
                    f"params.columns names {', '.join(missing)}, which the table does not have",
                    "list text columns of the same table the full-text value is made from",
                )
            ]
        if not sources:
            return [
                LintProblem(
                    Severity.WARNING,
                    Rule.FULLTEXT,
                    *where,
                    "full-text column whose source columns are unknown: it is left empty "
                    "in the target (searches there find nothing)",
                    "list its text columns in params.columns to have it recomputed from "
                    "the masked values",
                )
            ]
        return []
    if is_fulltext(col) and cplan.transformer == KEEP:
        return [
            LintProblem(
                Severity.WARNING,
                Rule.FULLTEXT,
                *where,
                "full-text column copied as is: it holds the production words of the text "
                "it was made from",
                "plan it `transformer: tsvector` with params.columns (recomputed from the "
                "masked row), or `null`",
            )
        ]
    return []


_IDENT = re.compile(r'"((?:[^"]|"")*)"|`((?:[^`]|``)*)`|([A-Za-z_][A-Za-z0-9_$]*)')


def _key_columns(table: Table, key: str) -> list[Column]:
    """The columns of ``table`` a partition key (``LIST (lower(email))``) names."""
    quoted, bare = set(), set()
    for m in _IDENT.finditer(key):
        if m.group(1) is not None:
            quoted.add(m.group(1).replace('""', '"'))
        elif m.group(2) is not None:
            quoted.add(m.group(2).replace("``", "`").lower())
        else:
            bare.add(m.group(3).lower())
    return [c for c in table.columns if c.name in quoted or c.name.lower() in bare | quoted]


_NO_VALUES = frozenset({"", "DEFAULT", "MAXVALUE"})


def _check_partitions(table: Table, columns: Mapping[str, ColumnPlan]) -> list[LintProblem]:
    """A partition's bound is a list or range of its key's values, written into the
    schema: the copy recreates the partitions, so a LIST bound of a masked column
    (``FOR VALUES IN ('alice@corp.com')``), or a RANGE bound of masked text, would
    carry production values into staging, and the masked rows would no longer fall
    into the partition they came from. No transformer rewrites a bound: refused."""
    found: dict[str, list[str]] = {}
    for part, key, bound in table.partitions:
        method = key.split("(", 1)[0].strip().upper()
        # a DEFAULT partition holds no values (MariaDB describes it as MAXVALUE)
        if bound.strip().upper() in _NO_VALUES or not method.startswith(("LIST", "RANGE")):
            continue
        for col in _key_columns(table, key):
            cp = columns.get(col.name)
            if cp is None or cp.transformer == KEEP:
                continue
            if method.startswith("LIST") or col.kind is ColumnKind.TEXT:
                found.setdefault(col.name, []).append(part)
    return [
        _err(
            Rule.PARTITION_BOUND,
            table.qualified,
            name,
            f"the table is partitioned by this column and {len(parts)} partition"
            f"{'s' if len(parts) != 1 else ''} ({', '.join(parts[:3])}"
            f"{', …' if len(parts) > 3 else ''}) {'are' if len(parts) != 1 else 'is'} "
            "bounded by its values: the copy "
            "recreates the partitions, so their bounds would carry the column's production "
            "values into staging (the plan masks it), and the masked rows would not fall "
            "into the partitions they came from; no transformer rewrites a bound",
            "keep the column (`keep` with the reason its values are not personal, e.g. "
            "country codes), or partition the source by another column (a HASH partition "
            "holds no values)",
        )
        for name, parts in found.items()
    ]


def schema_problems(
    db: Any,
    plan: Plan,
    schema: Schema,
    target: str | None = None,
    acknowledged_out: list[Any] | None = None,
) -> list[LintProblem]:
    """Schema objects of the source ``db`` whose name, or whose definition the copy
    (into a ``target`` backend, when known) recreates as it is, holds personal data
    (``_schemanames``): errors; a name or literal holding an ordinary word (or a
    word the schema uses in two places or more) that is a source name
    (``grace_period`` beside a customer called Grace): a warning the run refuses
    until acknowledged (SW528). Never shows the value. The findings the
    plan acknowledges go to ``acknowledged_out``, when given."""
    from stagewall.masking._schemanames import schema_findings

    out = []
    found = schema_findings(db, plan, scoped_schema(plan, schema), target, acknowledged_out)
    for f in found:
        what, kind = f.part, f.label.split(" ", 1)[0]
        ack = (
            f"acknowledge it in the plan: `acknowledged: {{'{kind} "
            "<its qualified name>': <the reason it is not personal>}`"
        )
        if f.confirm:
            out.append(
                LintProblem(
                    Severity.WARNING,
                    Rule.SCHEMA_NAME_WORD,
                    f.shown,
                    None,
                    f"its {what} holds {f.what}: the copy recreates it as it is, and "
                    "`mask run` refuses it (SW528) until the plan acknowledges it",
                    f"if the word is the word (`grace_period`, `'days of grace'`), {ack}; "
                    f"if it names the person, {'rename' if what == 'name' else 'rewrite'} "
                    "it in the source",
                )
            )
            continue
        fix = "rename it" if what == "name" else "rewrite it"
        out.append(
            _err(
                Rule.SCHEMA_PERSONAL_DATA,
                f.shown,
                None,
                f"its {what} holds {f.what}: the copy recreates it as it is (no "
                "transformer rewrites a name or a definition), so staging would hold it",
                f"{fix} in the source, or, if it is not personal, {ack}",
            )
        )
    return out


def errors(problems: Sequence[LintProblem]) -> list[LintProblem]:
    return [p for p in problems if p.severity is Severity.ERROR]


def ensure_plan_ok(plan: Plan, schema: Schema) -> list[LintProblem]:
    """Raise when the plan has any lint error; return the warnings otherwise.

    Schema drift raises :class:`UnmaskedColumn`, any other error :class:`MaskingError`;
    the message lists every error with its table and column.
    """
    problems = lint_plan(plan, schema)
    errs = errors(problems)
    if errs:
        listing = "\n  ".join(p.render().replace("\n", "\n  ") for p in errs)
        text = (
            f"the plan is refused ({len(errs)} error{'s' if len(errs) != 1 else ''}):\n  {listing}"
        )
        hint = "fix the plan (see `stagewall mask lint`) and run again; the target was not touched"
        if any(p.rule is Rule.UNPLANNED_COLUMN for p in errs):
            raise UnmaskedColumn(text, hint=hint)
        raise MaskingError(text, hint=hint)
    return [p for p in problems if p.severity is Severity.WARNING]


def _err(rule: Rule, table: str, column: str | None, message: str, hint: str = "") -> LintProblem:
    return LintProblem(Severity.ERROR, rule, table, column, message, hint)


def _check_column(
    table: Table,
    col: Column,
    cplan: ColumnPlan,
    samples: Samples | None,
    personal: tuple[bool, bool],
) -> list[LintProblem]:
    """``personal``: (the table holds personal data, its rows are about a person)."""
    from stagewall.masking.transformers import build_transformer, get_transformer_class

    t, c = table.qualified, col.name
    try:
        cls = get_transformer_class(cplan.transformer)
    except StagewallError as exc:
        return [_err(Rule.UNKNOWN_TRANSFORMER, t, c, exc.message, exc.hint)]
    try:
        inst = build_transformer(cplan.transformer, cplan.params, key=_LINT_KEY, salt="lint")
    except StagewallError as exc:
        return [_err(Rule.BAD_PARAMS, t, c, exc.message, exc.hint)]
    if cplan.transformer == KEEP:
        return _check_keep(table, col, cplan, samples, personal)
    out = _check_constraints(table, col, cplan)
    if col.kind not in cls.accepts:
        accepted = ", ".join(sorted(k.value for k in cls.accepts))
        out.append(
            _err(
                Rule.KIND_NOT_ACCEPTED,
                t,
                c,
                f"transformer {cls.name!r} does not accept {col.kind.value} columns "
                f"({col.db_type}); it accepts: {accepted}",
                "choose a transformer for this column's type",
            )
        )
    else:
        produced = inst.output_kind(col.kind)
        if produced != col.kind and produced not in _FITS.get(col.kind, frozenset()):
            out.append(
                _err(
                    Rule.OUTPUT_KIND,
                    t,
                    c,
                    f"transformer {cls.name!r} produces {produced.value} values, which do not "
                    f"fit a {col.kind.value} column ({col.db_type})",
                    "choose a transformer whose output has the column's type",
                )
            )
    if col.max_length is not None:
        longest = inst.max_output_length(col.max_length)
        if longest is None and "max_length" in cls.Params.model_fields:
            out.append(
                _err(
                    Rule.TOO_LONG,
                    t,
                    c,
                    f"transformer {cls.name!r} can write values longer than the column "
                    f"holds ({col.max_length} characters): pseudonyms can be longer than "
                    "what they replace",
                    f"set params.max_length: {col.max_length} (`mask plan` does)",
                )
            )
        elif longest is not None and longest > col.max_length:
            out.append(
                _err(
                    Rule.TOO_LONG,
                    t,
                    c,
                    f"transformer {cls.name!r} can produce values of {longest} characters; "
                    f"the column holds at most {col.max_length}",
                    "choose shorter params or another transformer",
                )
            )
    if not col.nullable and _writes_null(cplan):
        out.append(
            _err(
                Rule.NULL_NOT_NULLABLE,
                t,
                c,
                f"transformer {cls.name!r} writes NULL but the column is NOT NULL",
                "use `redact`, `constant` or a pseudonym instead",
            )
        )
    if table.in_unique_set(c):
        what = "primary key" if c in table.primary_key else "unique key"
        if cls.lossy:
            out.append(
                _err(
                    Rule.LOSSY_ON_KEY,
                    t,
                    c,
                    f"lossy transformer {cls.name!r} on a {what} column would create duplicates",
                    "use a unique-safe transformer (e.g. a format-preserving permutation)",
                )
            )
        elif not inst.is_unique_safe():
            out.append(
                _err(
                    Rule.NOT_UNIQUE_SAFE,
                    t,
                    c,
                    f"transformer {cls.name!r} is not unique-safe; the column is in a {what}",
                    "use a unique-safe transformer (e.g. a format-preserving permutation)",
                )
            )
    return out


_TEXTUAL = frozenset(
    {ColumnKind.TEXT, ColumnKind.JSON, ColumnKind.OTHER, ColumnKind.BYTES, ColumnKind.STRUCTURED}
)


def _undeclared_references(plan: Plan, schema: Schema) -> list[LintProblem]:
    """Each undeclared reference beside text (in the table, or in a table referencing
    it) whose parent holds people's masked values: the copy and verify take it
    (:mod:`._references`: by the column's name, or by its name and the source's
    values) — say what was guessed and why, since nothing checks every row it names —
    or do not take a column whose name suggests one (a role word, an abbreviation):
    say why not, since the text of its rows is then neither scrubbed of nor searched
    for the person's own values."""
    from stagewall.masking._known_rows import known_columns
    from stagewall.masking._references import candidates, taken, typed

    def texty(t: Table) -> bool:
        return any(k.kind in _TEXTUAL for k in t.columns)

    out: list[LintProblem] = []
    for t, c, parent, why in taken(schema):
        if not texty(t) or not known_columns(plan, parent):
            continue
        out.append(
            LintProblem(
                Severity.WARNING,
                Rule.UNDECLARED_REFERENCE,
                t.qualified,
                c.name,
                f"taken for a reference to {parent.qualified} though no foreign key is "
                f"declared ({why}): the text of {t.qualified}'s rows is scrubbed of, and "
                f"searched by verify for, the values of the {parent.qualified} row it "
                "names (a guess: nothing checks that every row it names exists)",
                f"declare the foreign key ({c.name} → {parent.qualified}) in the source "
                "schema; if it is no reference, review the table's free text yourself",
            )
        )
    if schema.checked is None:  # (not read: say what a run would check)
        left = [
            (t.qualified, c.name, why, tuple(u for u in maybe), "its values were not read")
            for t, c, why, maybe in candidates(schema)
            if typed(c, maybe)  # (text beside a numbered key: only if its values are numbers)
        ]
    else:
        left = [
            (
                g.table,
                g.column,
                g.why,
                _tables(schema, g.candidates),
                g.evidence,
            )
            for g in schema.checked
            if g.parent is None
        ]
    for q, column, why, maybe, evidence in left:
        child = schema.table(q)
        people = [u for u in maybe if known_columns(plan, u)]
        if child is None or not texty(child) or not people:
            continue
        named = " or ".join(u.qualified for u in people)
        out.append(
            LintProblem(
                Severity.WARNING,
                Rule.UNDECLARED_REFERENCE,
                q,
                column,
                f"may be a reference to {named} ({why}), but is not taken: {evidence}; "
                f"the text of {q}'s rows is neither scrubbed of, nor searched by verify "
                "for, the values of the person it may name",
                f"declare the foreign key ({column} → the table it references) in the "
                "source schema, or review the table's free text yourself",
            )
        )
    return out


def _tables(schema: Schema, names: Sequence[str]) -> tuple[Table, ...]:
    return tuple(t for q in names if (t := schema.table(q)) is not None)


# planned like kept columns by verify (a full-text column is recomputed from its row)
_COPIED = frozenset({KEEP, "tsvector"})
# Transformers of people's values: a whole value of a column they mask is never
# made public by a kept column holding it too (verify's sensitive set) — unless it
# is an ordinary word or number (all digits; a country, language or genre:
# the first name "Chad", the surname "English")
PEOPLES = frozenset(
    {"full_name", "first_name", "last_name", "email", "phone", "street_address"}
    | {"iban", "card_number", "ip_address", "username"}
)
_NOT_DIGITS = re.compile(r"[^\d\s.+-]")


def never_public(text: str) -> bool:
    """Whether a (normalised) value of a :data:`PEOPLES` column stays sensitive
    where a kept column holds it too."""
    if _NOT_DIGITS.search(text) is None or text in reference_values():
        return False
    # lower-cased ASCII with single spaces is its own folded form (the fast path)
    return (text.isascii() and "  " not in text) or not is_reference_value(text)


def _kept_masked_values(plan: Plan, schema: Schema, samples: Samples) -> list[LintProblem]:
    """A kept column whose sampled texts include sampled values of a column masked
    as people's values (:data:`PEOPLES`; an FTS ``author`` column of the customers'
    surnames): the copy carries those production values, and verify fails on them.
    Judged on samples, so a warning; never shows a value."""
    from stagewall.masking._units import norm_many

    def texts(table: str, column: str) -> set[str]:
        got = [v for v in samples.get((table, column), ()) if isinstance(v, str)]
        return {n for n in norm_many(got) if n is not None}

    masked: dict[str, str] = {}
    kept: list[tuple[str, str]] = []
    for table in schema.tables:
        tplan = plan.tables.get(table.qualified)
        for col in table.columns:
            cplan = tplan.columns.get(col.name) if tplan is not None else None
            if cplan is None:
                continue
            if tplan is not None and (tplan.reference or cplan.transformer in _COPIED):
                kept.append((table.qualified, col.name))
                continue
            if cplan.transformer not in PEOPLES:
                continue
            for v in texts(table.qualified, col.name):
                if never_public(v):
                    masked.setdefault(v, f"{table.qualified}.{col.name}")
    out: list[LintProblem] = []
    for tname, cname in kept if masked else ():
        shared = [v for v in texts(tname, cname) if v in masked]
        if not shared:
            continue
        which = sorted({masked[v] for v in shared})
        out.append(
            LintProblem(
                Severity.WARNING,
                Rule.KEEP_MASKED_VALUES,
                tname,
                cname,
                f"kept as is, but {len(shared)} of its sampled values are values of "
                f"masked column {', '.join(which[:3])}{' …' if len(which) > 3 else ''}: "
                "the copy would carry them, and verify fails on them",
                "mask this column like the one whose values it holds, or keep that one "
                "too if its values are not personal",
            )
        )
    return out


def _check_domains(plan: Plan) -> list[LintProblem]:
    """Members of one consistency domain must share transformer and params."""
    first: dict[str, tuple[str, str, ColumnPlan]] = {}
    out: list[LintProblem] = []
    for tname in sorted(plan.tables):
        tplan = plan.tables[tname]
        if tplan.reference:
            continue
        for cname, cp in sorted(tplan.columns.items()):
            domain = cp.params.get("consistency")
            if not isinstance(domain, str):
                continue
            if domain not in first:
                first[domain] = (tname, cname, cp)
                continue
            t0, c0, cp0 = first[domain]
            if (cp.transformer, cp.params) != (cp0.transformer, cp0.params):
                out.append(
                    _err(
                        Rule.CONSISTENCY_MISMATCH,
                        tname,
                        cname,
                        f"consistency domain {domain!r}: transformed with {_describe(cp)} but "
                        f"{t0}.{c0} with {_describe(cp0)}; equal values would not stay equal",
                        "give every column of the domain the same transformer and params",
                    )
                )
    return out


_LISTED_REASON = "values from a fixed list"  # the planner's reason for keeping one


def _check_listed_values(
    table: Table, col: Column, cplan: ColumnPlan, samples: Samples | None
) -> list[LintProblem]:
    """A fixed list (MySQL ``enum``/``set``, a PostgreSQL enum, ``CHECK … IN (…)``)
    whose members are e-mails, phones, IBANs, cards, national ids or IP addresses:
    the list is schema (the column's type, the enum's labels, the check), copied
    whatever the rows hold, and no transformer rewrites it. Judged on the type, its
    labels, the checks and the sampled values; names are not judged (``'rose'``,
    ``'amber'`` are colours). A keep with a reason of your own stands."""
    from stagewall.masking._context import checked, fixed_list
    from stagewall.masking.classify import detect_in_text

    listed = fixed_list(table, col)
    if listed is None:
        return []
    if cplan.transformer == KEEP and cplan.reason and not cplan.reason.startswith(_LISTED_REASON):
        return []
    values = (samples or {}).get((table.qualified, col.name), ())
    texts = [col.db_type, *(col.labels or ()), *checked(table, col)]
    texts += [str(v) for v in values if v is not None]
    kinds = sorted(
        {m.category.value for t in texts for m in detect_in_text(t) if m.category in _STRONG}
    )
    if not kinds:
        return []
    return [
        _err(
            Rule.FIXED_LIST,
            table.qualified,
            col.name,
            f"the column holds {listed}, and the list holds personal data "
            f"({', '.join(kinds)}): the list is part of the schema (the column's type or "
            "a CHECK), so staging would hold it whatever the rows hold, and no "
            "transformer rewrites a type or a check",
            "make the column plain text in the source schema (its values are then masked "
            "like any other), or, if these values are not personal, keep it with a "
            "`reason:` of your own",
        )
    ]


# MariaDB's JSON column: longtext with CHECK (json_valid(`col`)), and nothing else
_JSON_VALID = re.compile(r"^CONSTRAINT `[^`]+` CHECK \(json_valid\(`[^`]+`\)\)$", re.I)


# A CHECK's text may hold production literals (`CHECK (email <> 'ceo@corp.example')`):
# lint output reaches CI logs and run records, so it names constraints, never their text.
_CHECK_NAME = re.compile(
    r'^\s*CONSTRAINT\s+("(?:[^"]|"")+"|`(?:[^`]|``)+`|\[[^\]]+\]|[\w$]+)', re.I
)


def _check_names(checks: list[str]) -> str:
    names = []
    for i, k in enumerate(checks, 1):
        m = _CHECK_NAME.match(k)
        names.append(m.group(1)[:80] if m else f"unnamed check {i}")
    return ", ".join(names[:10]) + (f" and {len(names) - 10} more" if len(names) > 10 else "")


def _check_constraints(table: Table, col: Column, cplan: ColumnPlan) -> list[LintProblem]:
    from stagewall.masking._context import checked, fixed_list

    t, c = table.qualified, col.name
    listed = fixed_list(table, col)
    if listed is not None and cplan.transformer not in ("null", "constant"):
        return [
            _err(
                Rule.FIXED_LIST,
                t,
                c,
                f"the column holds {listed}, but transformer {cplan.transformer!r} writes "
                "values outside it: the target would refuse the rows part-way",
                "keep the column (a fixed list of values is not personal data), or use "
                "`constant` with one of the listed values",
            )
        ]
    checks = checked(table, col) if listed is None else []
    if cplan.transformer == "json_mask":  # it writes JSON: MariaDB's JSON type is a check
        checks = [k for k in checks if not _JSON_VALID.search(k)]
    if checks:
        return [
            LintProblem(
                Severity.WARNING,
                Rule.CHECK_CONSTRAINT,
                t,
                c,
                f"transformer {cplan.transformer!r} writes values that must pass "
                f"{len(checks)} CHECK constraint{'s' if len(checks) > 1 else ''} of the table "
                f"({_check_names(checks)})",
                "make sure the masked values satisfy the check, or choose another transformer",
            )
        ]
    return []


def _writes_null(cplan: ColumnPlan) -> bool:
    if cplan.transformer == "null":
        return True
    return cplan.transformer == "constant" and cplan.params.get("value", 0) is None


# Reasons the planner writes for a kept column on its own judgement (this version's
# and earlier ones'): not an operator's decision to keep free text.
_PLANNER_KEEP_REASONS = ("free-text column", "no name rule matched")


def _check_keep(
    table: Table,
    col: Column,
    cplan: ColumnPlan,
    samples: Samples | None,
    personal: tuple[bool, bool],
) -> list[LintProblem]:
    from stagewall.masking.classify import classify_column, free_text

    values = list(samples.get((table.qualified, col.name), ())) if samples else []
    why = free_text(col.name, col.kind, values) if personal[1] else ""
    reason = cplan.reason.strip()
    if why and (not reason or reason.startswith(_PLANNER_KEEP_REASONS)):
        return [
            _err(
                Rule.KEEP_FREE_TEXT,
                table.qualified,
                col.name,
                f"free-text column ({why}) of a table with personal data kept as is "
                "without a reason: a clean sample does not show that no row names its "
                "person, and kept text reaches the target unscrubbed",
                "plan it `transformer: text_scrub` (what `mask plan` proposes), or keep "
                "it with `reason:` saying why it never holds personal data",
            )
        ]
    finding = classify_column(
        table=table.qualified,
        column=col.name,
        kind=col.kind,
        samples=values,
        is_unique=table.is_unique(col.name),
        is_primary_key=col.name in table.primary_key,
        is_foreign_key=any(col.name in fk.columns for fk in table.foreign_keys),
        max_length=col.max_length,
        personal_table=personal[0],
        about_person=personal[1],
    )
    if finding.transformer == KEEP:
        return []
    return [
        LintProblem(
            Severity.WARNING,
            Rule.KEEP_SENSITIVE,
            table.qualified,
            col.name,
            f"kept as is, but classified as {finding.category} ({finding.reason})",
            f"consider transformer {finding.transformer!r}, or keep it if the data is public",
        )
    ]


def _check_foreign_keys(plan: Plan, schema: Schema, table: Table) -> list[LintProblem]:
    out: list[LintProblem] = []
    for fk in table.foreign_keys:
        ref = f"{fk.ref_schema}.{fk.ref_table}" if fk.ref_schema else fk.ref_table
        ref_table = schema.table(ref)
        for col, ref_col in zip(fk.columns, fk.ref_columns, strict=False):
            mine = plan.column(table.qualified, col)
            theirs = plan.column(ref, ref_col)
            if mine is None:
                continue  # reported as unplanned / unknown already
            if ref_table is None or theirs is None:
                if ref_table is None and mine.transformer != KEEP:
                    out.append(
                        _err(
                            Rule.FK_MISMATCH,
                            table.qualified,
                            col,
                            f"references {ref}.{ref_col}, which is outside the planned "
                            "source, but is transformed: the reference would dangle",
                            "keep the column, or include the referenced table in the plan",
                        )
                    )
                continue
            if (mine.transformer, mine.params) != (theirs.transformer, theirs.params):
                out.append(
                    _err(
                        Rule.FK_MISMATCH,
                        table.qualified,
                        col,
                        f"foreign key to {ref}.{ref_col} is transformed with "
                        f"{_describe(mine)} but the referenced key with {_describe(theirs)}; "
                        "masked references would point at the wrong rows or nowhere",
                        f"give it the same transformer and params as {ref}.{ref_col}",
                    )
                )
    return out


def _describe(c: ColumnPlan) -> str:
    if not c.params:
        return repr(c.transformer)
    params = ", ".join(f"{k}={v!r}" for k, v in sorted(c.params.items()))
    return f"{c.transformer!r} ({params})"


__all__ = [
    "LintProblem",
    "Rule",
    "Severity",
    "ensure_plan_ok",
    "errors",
    "lint_plan",
    "schema_problems",
    "scoped_schema",
]
