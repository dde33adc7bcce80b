"""Personal data in the schema itself: object names, and literals the copy recreates.

The copy recreates every schema, table, column, partition, index, constraint,
view, function, trigger and type under the name it has on the source. A name
is text someone chose, and may be personal data: a partition per customer
(``orders_p_maria_gonzalez``), an export table (``export_john_smith_2024``), a
column or a tenant schema named by an e-mail address. No transformer rewrites a
name, so such an object is refused before any row moves (SW520), unless the plan
acknowledges it under ``acknowledged:`` with the reason it is not personal.

A name is personal when

- the detector finds an e-mail, phone number or IBAN in it (``_`` read as a space), or
- a run of two to four of its words (split at ``_``, punctuation, digits and
  camel case) is a value of a column the plan masks as a name (``full_name``,
  ``first_name``, ``last_name``), or each word of two adjacent ones is: the words
  are looked up in the source database itself (one read of each such column), so
  no sample is needed. A lone word is not judged: a surname is often an ordinary
  word (``price``, ``young``, ``grace``).

Defaults, check constraints, index definitions (their predicates and
expressions), partition bounds and domain defaults are copied whatever they hold;
a string literal in one that the detector takes for an e-mail, phone or IBAN is
refused the same way, whether or not it is a source value. (Views, functions and
triggers holding one are already skipped by the copy; verify reads every
definition of the target.)

Messages never show the name or the literal: an object is named by its kind,
its owner and its place among its siblings (``partition #2 of public.orders``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from stagewall.masking.db._base import MARKER_TABLE
from stagewall.masking.plan import Plan
from stagewall.masking.schema import Schema

# transformers of columns whose values are people's names
NAME_TRANSFORMERS = frozenset({"full_name", "first_name", "last_name"})
MAX_RUN = 4  # a name of up to four words (``Anna van der Berg``)
# definitions the copy recreates without looking at them (views, functions,
# triggers and rules holding what looks like personal data are skipped by it)
COPIED_DEFINITIONS = frozenset({"default", "constraint", "index", "partition", "domain", "table"})


@dataclass(frozen=True, order=True)
class Named:
    """A named schema object: ``kind`` (``table``, ``column``, ...), the names of
    what it belongs to (``("public", "orders")`` for a column), and its name."""

    kind: str
    owner: tuple[str, ...]
    name: str

    @property
    def label(self) -> str:
        """How the plan's ``acknowledged:`` names it: ``column public.orders.email``."""
        return f"{self.kind} {'.'.join((*self.owner, self.name))}"


@dataclass(frozen=True)
class Finding:
    """A schema object holding personal data; ``what`` says which kind, never the value."""

    label: str  # the object's full name, for the plan's ``acknowledged:`` only
    shown: str  # the object named without its value (for messages and reports)
    what: str
    part: str = "name"  # "name", or "definition" (a literal of it)
    name: str = ""  # the reported name itself (a name finding): never shown


def hiding(findings: Sequence[Finding], text: str) -> str:
    """``text`` (an object's label) with every reported name in it hidden."""
    for name in sorted({f.name for f in findings if f.name}, key=len, reverse=True):
        text = text.replace(name, "<reported name>")
    return text


# ---- reading the names ------------------------------------------------------------

_PG_NOT_EXT = """NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = {cls}
  AND d.objid = {oid} AND d.deptype = 'e')"""
_PG_USER = (
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'"
)
_PG = """
SELECT 'schema', '', n.nspname FROM pg_catalog.pg_namespace n WHERE {USER}
  AND {EXT_NS}
UNION ALL
SELECT CASE WHEN c.relispartition THEN 'partition' WHEN c.relkind IN ('v', 'm') THEN 'view'
  WHEN c.relkind IN ('i', 'I') THEN 'index' WHEN c.relkind = 'S' THEN 'sequence'
  WHEN c.relkind = 'c' THEN 'type' ELSE 'table' END, n.nspname, c.relname
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'i', 'I', 'S', 'c', 'f') AND {USER}
  AND {EXT_CLASS}
UNION ALL
SELECT 'column', n.nspname || '.' || c.relname, a.attname
FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE a.attnum > 0 AND NOT a.attisdropped AND NOT c.relispartition
  AND c.relkind IN ('r', 'p', 'v', 'm', 'c', 'f') AND {USER}
  AND {EXT_CLASS}
UNION ALL
SELECT 'constraint', n.nspname || COALESCE('.' || c.relname, ''), k.conname
FROM pg_catalog.pg_constraint k JOIN pg_catalog.pg_namespace n ON n.oid = k.connamespace
LEFT JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
WHERE k.contype IN ('c', 'f', 't') AND {USER} AND (c.oid IS NULL OR NOT c.relispartition)
UNION ALL
SELECT 'trigger', n.nspname || '.' || c.relname, t.tgname
FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND {USER}
UNION ALL
SELECT 'rule', n.nspname || '.' || c.relname, r.rulename
FROM pg_catalog.pg_rewrite r JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE r.rulename <> '_RETURN' AND {USER}
UNION ALL
SELECT 'function', n.nspname, p.proname
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE {USER} AND {EXT_PROC}
UNION ALL
SELECT 'type', n.nspname, t.typname
FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype IN ('e', 'd', 'r') AND {USER}
  AND {EXT_TYPE}
"""
for _token, _cls, _oid in (
    ("{EXT_NS}", "pg_namespace", "n.oid"),
    ("{EXT_CLASS}", "pg_class", "c.oid"),
    ("{EXT_PROC}", "pg_proc", "p.oid"),
    ("{EXT_TYPE}", "pg_type", "t.oid"),
):
    _PG = _PG.replace(_token, _PG_NOT_EXT.format(cls=f"'pg_catalog.{_cls}'::regclass", oid=_oid))
_PG = _PG.replace("{USER}", _PG_USER)

_MYSQL = """
SELECT IF(TABLE_TYPE = 'VIEW', 'view', 'table'), '', TABLE_NAME
FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
UNION ALL
SELECT 'column', TABLE_NAME, COLUMN_NAME
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
UNION ALL
SELECT DISTINCT 'index', TABLE_NAME, INDEX_NAME
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME <> 'PRIMARY'
UNION ALL
SELECT 'constraint', TABLE_NAME, CONSTRAINT_NAME
FROM information_schema.TABLE_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()
  AND CONSTRAINT_TYPE IN ('CHECK', 'FOREIGN KEY')
UNION ALL
SELECT 'trigger', EVENT_OBJECT_TABLE, TRIGGER_NAME
FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()
UNION ALL
SELECT LOWER(ROUTINE_TYPE), '', ROUTINE_NAME
FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()
UNION ALL
SELECT 'partition', TABLE_NAME, PARTITION_NAME
FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND PARTITION_NAME IS NOT NULL
UNION ALL
SELECT 'partition', TABLE_NAME, SUBPARTITION_NAME
FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE()
  AND SUBPARTITION_NAME IS NOT NULL
"""

_SQLITE = """
SELECT type, CASE WHEN type IN ('index', 'trigger') THEN tbl_name ELSE '' END, name, sql
FROM sqlite_master WHERE name NOT LIKE 'sqlite!_%' ESCAPE '!'
"""
_SQLITE_COLUMNS = """
SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
WHERE m.type IN ('table', 'view') AND m.name NOT LIKE 'sqlite!_%' ESCAPE '!'
"""
# SQLite keeps constraint names only in the CREATE TABLE text
_CONSTRAINT = re.compile(r'\bCONSTRAINT\s+("(?:[^"]|"")+"|`(?:[^`]|``)+`|\[[^\]]+\]|[\w$]+)', re.I)


def _text(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, (bytes, bytearray)) else str(v)


def named_objects(db: Any, schemas: Sequence[str] | None = None) -> list[Named]:
    """Every named object of ``db``'s user schemas (only ``schemas`` on
    PostgreSQL, when given), except stagewall's own marker table."""
    from stagewall.masking._definitions import split_sql

    out: list[Named] = []
    if db.backend == "postgresql":
        for kind, owner, name in db.select(_PG):
            out.append(Named(str(kind), tuple(str(owner).split(".", 1)) if owner else (), name))
    elif db.backend == "mysql":
        for kind, owner, name in db.select(_MYSQL):
            out.append(Named(_text(kind), (_text(owner),) if owner else (), _text(name)))
    else:
        for kind, owner, name, sql in db.select(_SQLITE):
            out.append(Named(str(kind), (str(owner),) if owner else (), str(name)))
            if kind == "table" and sql:
                code = split_sql(str(sql), "sqlite")[2]
                for m in _CONSTRAINT.finditer(code):
                    raw = m.group(1)
                    unq = raw[1:-1] if raw[0] in '"`[' else raw
                    out.append(Named("constraint", (str(name),), unq))
        out += [Named("column", (str(t),), str(c)) for t, c in db.select(_SQLITE_COLUMNS)]
    out = [o for o in out if MARKER_TABLE not in (o.name, *o.owner)]
    if schemas and db.backend == "postgresql":
        wanted = set(schemas)
        out = [o for o in out if (o.owner[0] if o.owner else o.name) in wanted]
    return sorted(set(out))


# ---- judging them -------------------------------------------------------------------

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_TOKEN = re.compile(r"[^\W\d_]+|\d+")


def _words(name: str) -> list[str | None]:
    """The name's lower-cased letter words; ``None`` where digits (or a one-letter
    word) break a run."""
    out: list[str | None] = []
    for t in _TOKEN.findall(_CAMEL.sub(" ", name)):
        out.append(t.lower() if not t.isdigit() and len(t) > 1 else None)
    return out


def runs(name: str) -> list[tuple[str, ...]]:
    """Runs of 2 to :data:`MAX_RUN` adjacent words of ``name``."""
    words = _words(name)
    out: list[tuple[str, ...]] = []
    for n in range(2, MAX_RUN + 1):
        for i in range(len(words) - n + 1):
            run = words[i : i + n]
            if all(w is not None for w in run):
                out.append(tuple(w for w in run if w is not None))
    return out


def candidates(names: Iterable[str]) -> set[str]:
    """What to look up for ``names``: every word and every run (joined by spaces)."""
    out: set[str] = set()
    for name in names:
        for run in runs(name):
            out.add(" ".join(run))
            out.update(run)
    return out


def name_hit(name: str, found: set[str]) -> bool:
    """Whether a run of ``name``'s words is a looked-up value (``found``), or both
    words of an adjacent pair are."""
    return any(" ".join(r) in found or (len(r) == 2 and set(r) <= found) for r in runs(name))


_STRONG_KINDS = ("email", "phone", "iban")
_KIND_NAMES = {"email": "an e-mail address", "phone": "a phone number", "iban": "an IBAN"}


def _kinds(kinds: set[str]) -> str:
    return " and ".join(_KIND_NAMES[k] for k in sorted(kinds))


def pattern_kinds(text: str) -> set[str]:
    """E-mail, phone and IBAN findings of the detector in ``text`` (``_`` read as
    a space too, as an identifier writes one)."""
    from stagewall.masking.classify import detect_in_text

    found = {m.category.value for m in detect_in_text(text)}
    spaced = text.replace("_", " ")
    if spaced != text:
        found |= {m.category.value for m in detect_in_text(spaced)}
    return {k for k in found if k in _STRONG_KINDS}


def source_names(db: Any, plan: Plan, schema: Schema, words: set[str]) -> set[str]:
    """Which of ``words`` are values (lower-cased) of a column the plan masks as a
    name, read from the source ``db`` (one pass over each such column)."""
    if not words:
        return set()
    wanted = sorted(words)
    found: set[str] = set()
    for table in schema.tables:
        tplan = plan.tables.get(table.qualified)
        if tplan is None or tplan.reference:
            continue
        for col in table.columns:
            cp = tplan.columns.get(col.name)
            if cp is None or cp.transformer not in NAME_TRANSFORMERS:
                continue
            expr = f"lower({db.q(col.name)})"
            base = f"SELECT DISTINCT {expr} FROM {db.qt(table)} WHERE {expr}"  # noqa: S608 - identifiers quoted by q()
            if db.placeholder == "%s":  # a % in a name is no placeholder
                base = base.replace("%", "%%")
            if db.backend == "postgresql":
                rows = db.select(f"{base}::text = ANY(%s)", (wanted,))
            else:
                rows = []
                for i in range(0, len(wanted), 500):
                    part = wanted[i : i + 500]
                    marks = ", ".join([db.placeholder] * len(part))
                    rows += db.select(f"{base} IN ({marks})", part)
            found.update(_text(r[0]) for r in rows if r[0] is not None)
    return found


def _shown(objects: Sequence[Named], flagged: set[Named]) -> dict[Named, str]:
    """Each flagged object named without its name: kind, owner (a flagged owner
    written as such) and its place among its siblings in name order."""
    bad_names = {o.name for o in flagged}
    siblings: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for o in objects:
        siblings.setdefault((o.kind, o.owner), []).append(o.name)
    out: dict[Named, str] = {}
    for o in flagged:
        names = sorted(set(siblings.get((o.kind, o.owner), [o.name])))
        owner = ".".join(p if p not in bad_names else "<reported name>" for p in o.owner)
        where = f" of {owner}" if owner else ""
        out[o] = f"{o.kind} #{names.index(o.name) + 1} of {len(names)}{where} (by name)"
    return out


def judge_names(objects: Sequence[Named], found: set[str]) -> list[Finding]:
    """The objects whose names hold an e-mail/phone/IBAN or a looked-up name."""
    what: dict[Named, str] = {}
    for o in objects:
        kinds = pattern_kinds(o.name)
        if kinds:
            what[o] = "what looks like " + _kinds(kinds)
        elif name_hit(o.name, found):
            what[o] = "a person's name (a value of a column the plan masks as a name)"
    shown = _shown(objects, set(what))
    return [Finding(o.label, shown[o], w, "name", o.name) for o, w in sorted(what.items())]


def judge_definitions(defs: Iterable[tuple[str, str, bool]], dialect: str) -> list[Finding]:
    """Definitions the copy recreates as they are (defaults, checks, indexes,
    partition bounds, domains; SQLite's CREATE TABLE/INDEX) whose string literals
    the detector takes for an e-mail, phone or IBAN."""
    from stagewall.masking._definitions import literals

    out: list[Finding] = []
    for obj, text, sql in defs:
        if obj.split(" ", 1)[0] not in COPIED_DEFINITIONS or not sql:
            continue
        kinds: set[str] = set()
        for lit in literals(text, sql, dialect):
            kinds |= pattern_kinds(lit)
        if kinds:
            out.append(
                Finding(obj, obj, "a literal that looks like " + _kinds(kinds), "definition")
            )
    return out


def schema_findings(db: Any, plan: Plan, schema: Schema) -> list[Finding]:
    """What of the source ``db``'s schema would carry personal data into staging,
    less what the plan acknowledges."""
    from stagewall.masking._definitions import definitions, split_sql

    objects = named_objects(db, plan.schemas)
    found = source_names(db, plan, schema, candidates(o.name for o in objects))
    defs = definitions(db)
    if plan.schemas:
        defs = [d for d in defs if _in_schemas(d[0], plan.schemas, db.backend)]
    if db.backend == "sqlite":  # the copy drops the comments of a CREATE
        defs = [(o, split_sql(t, "sqlite")[2], s) for o, t, s in defs]
    names = [f for f in judge_names(objects, found) if f.label not in plan.acknowledged]
    defs_found = [
        replace(f, shown=hiding(names, f.shown))
        for f in judge_definitions(defs, db.backend)
        if f.label not in plan.acknowledged
    ]
    return names + defs_found


def target_findings(tdb: Any, sdb: Any, plan: Plan, schema: Schema) -> list[Finding]:
    """The target ``tdb``'s objects whose names hold personal data (names looked
    up in the source ``sdb``), less what the plan acknowledges."""
    objects = named_objects(tdb)
    found = source_names(sdb, plan, schema, candidates(o.name for o in objects))
    return [f for f in judge_names(objects, found) if not acknowledged(f.label, plan.acknowledged)]


def acknowledged(label: str, acks: Mapping[str, str]) -> bool:
    """Whether the plan acknowledges the target object ``label``: as the source
    names it, or, across backends, less the source schema (``table public.t``
    acknowledges a MySQL/SQLite target's ``table t``)."""
    if label in acks:
        return True
    kind, _, rest = label.partition(" ")
    return any(
        a.partition(" ")[0] == kind and a.partition(" ")[2].endswith("." + rest) for a in acks
    )


def _in_schemas(label: str, schemas: Sequence[str], backend: str) -> bool:
    if backend != "postgresql":
        return True
    rest = label.split(" ", 1)[-1]
    return any(rest.startswith(f"{s}.") for s in schemas)


__all__ = [
    "Finding",
    "Named",
    "acknowledged",
    "candidates",
    "hiding",
    "judge_definitions",
    "judge_names",
    "name_hit",
    "named_objects",
    "pattern_kinds",
    "runs",
    "schema_findings",
    "source_names",
    "target_findings",
]
