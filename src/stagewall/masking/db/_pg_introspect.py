"""PostgreSQL catalog queries → :class:`Schema`, plus the exact DDL to recreate it.

Runs with ``search_path = ''`` so every name PostgreSQL prints (types, defaults,
constraint and index definitions) is schema-qualified and replays unambiguously
on the target.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from stagewall.masking.db._base import GENERATED_PREFIX, MARKER_TABLE
from stagewall.masking.db._types import pg_kind
from stagewall.masking.schema import Column, ForeignKey, Index, Schema, Table

_ACTION = {"a": None, "r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}

TABLES = """
SELECT c.oid, n.nspname, c.relname, c.reltuples::bigint, c.relkind
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp)'
  AND NOT (n.nspname = 'public' AND c.relname = %(marker)s)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_class'::regclass
                    AND d.objid = c.oid AND d.deptype = 'e')
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[]))
ORDER BY n.nspname, c.relname
"""

COLUMNS = """
SELECT a.attrelid, a.attnum, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
       a.attnotnull, pg_catalog.pg_get_expr(d.adbin, d.adrelid), a.attidentity,
       a.attgenerated, t.typcategory, COALESCE(bt.typname, t.typname), a.atttypmod,
       COALESCE(bt.typcategory, t.typcategory),
       CASE WHEN t.typtype = 'e' THEN ARRAY(SELECT e.enumlabel FROM pg_catalog.pg_enum e
            WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) END
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_catalog.pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
LEFT JOIN pg_catalog.pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum
"""

CONSTRAINTS = """
SELECT k.conrelid, k.conname, k.contype, k.conkey, k.confkey, fn.nspname, fc.relname,
       k.confupdtype, k.confdeltype, pg_catalog.pg_get_constraintdef(k.oid), k.confrelid
FROM pg_catalog.pg_constraint k
LEFT JOIN pg_catalog.pg_class fc ON fc.oid = k.confrelid
LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
WHERE k.conrelid = ANY(%s) AND k.contype IN ('p', 'u', 'f', 'c', 'x')
ORDER BY k.conrelid, k.conname
"""


def _user_objects(catalog: str, alias: str) -> str:
    """WHERE terms: in a user schema (in scope), not part of an extension.

    ``catalog`` and ``alias`` are constants of this module, never input."""
    return (
        "  AND n.nspname NOT IN ('pg_catalog', 'information_schema')\n"  # noqa: S608
        "  AND n.nspname !~ '^pg_(toast|temp)'\n"
        "  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d\n"
        f"                  WHERE d.classid = '{catalog}'::regclass\n"
        f"                    AND d.objid = {alias}.oid AND d.deptype = 'e')\n"
        "  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[]))\n"
    )


VIEWS = (
    """
SELECT n.nspname, c.relname, c.relkind, pg_catalog.pg_get_viewdef(c.oid), c.reloptions
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm')
"""
    + _user_objects("pg_catalog.pg_class", "c")
    + "ORDER BY c.oid\n"
)

# indexes of materialised views (Pagila's rental_category on rental_by_category)
VIEW_INDEXES = (
    """
SELECT n.nspname, c.relname, ic.relname, pg_catalog.pg_get_indexdef(i.indexrelid)
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid AND c.relkind = 'm'
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE true
"""
    + _user_objects("pg_catalog.pg_class", "c")
    + "ORDER BY ic.oid\n"
)

FUNCTIONS = (
    """
SELECT p.oid::regprocedure::text, pg_catalog.pg_get_functiondef(p.oid)
FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE p.prokind IN ('f', 'p')
  -- not made with another object: a range type's constructors come with the type
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.classid = 'pg_catalog.pg_proc'::regclass
                    AND d.objid = p.oid AND d.deptype = 'i')
"""  # noqa: S608 - constant SQL, no input
    + _user_objects("pg_catalog.pg_proc", "p")
    + "ORDER BY p.oid\n"
)

AGGREGATES = (
    """
SELECT p.oid::regprocedure::text,
       pg_catalog.format('CREATE AGGREGATE %%I.%%I(%%s) (SFUNC = %%s, STYPE = %%s%%s%%s%%s)',
         n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid),
         a.aggtransfn::regproc, pg_catalog.format_type(a.aggtranstype, NULL),
         CASE WHEN a.aggfinalfn <> 0 THEN ', FINALFUNC = ' || a.aggfinalfn::regproc END,
         CASE WHEN a.agginitval IS NOT NULL
              THEN ', INITCOND = ' || pg_catalog.quote_literal(a.agginitval) END,
         CASE WHEN a.aggcombinefn <> 0 THEN ', COMBINEFUNC = ' || a.aggcombinefn::regproc END)
FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_aggregate a ON a.aggfnoid = p.oid
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE p.prokind = 'a' AND a.aggkind = 'n'
"""
    + _user_objects("pg_catalog.pg_proc", "p")
    + "ORDER BY p.oid\n"
)


def comments_sql(scope: str) -> str:
    """``(label, comment, keyword, object)`` of every ``COMMENT ON`` of a user object
    the copy recreates (tables, partitions, columns, views, materialised views,
    indexes, sequences, functions, procedures, aggregates, enum, domain, range and
    composite types, schemas, table and domain constraints, triggers and rules), not
    part of an extension: ``COMMENT ON {keyword} {object}`` recreates it. ``label``
    (``comment public.customers.notes``) is how the schema check, verify and the
    plan's ``acknowledged:`` name it. The ``public`` schema's own ``'standard public
    schema'`` (every new database has it) is left out. ``scope``: more WHERE terms
    on ``n.nspname`` (constants of the callers, never input)."""
    not_ext = (
        "NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend x WHERE x.classid = d.classoid"
        " AND x.objid = d.objoid AND x.deptype = 'e')"
    )
    where = (
        "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp)'"
        f" AND {not_ext}{scope}"
    )
    rel = "quote_ident(n.nspname) || '.' || quote_ident(c.relname)"
    # objects of a table, named ``name ON table``: triggers and rules
    on_table = "".join(
        f"""UNION ALL
SELECT 'comment ' || n.nspname || '.' || c.relname || '.' || g.{name}, d.description,
       '{keyword}', quote_ident(g.{name}) || ' ON ' || {rel}
FROM pg_catalog.pg_description d
JOIN pg_catalog.{catalog} g ON g.oid = d.objoid
     AND d.classoid = 'pg_catalog.{catalog}'::regclass
JOIN pg_catalog.pg_class c ON c.oid = g.{table}
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE {own} AND {where}
"""  # noqa: S608 - constant SQL, no input
        for keyword, catalog, name, table, own in (
            ("TRIGGER", "pg_trigger", "tgname", "tgrelid", "NOT g.tgisinternal"),
            ("RULE", "pg_rewrite", "rulename", "ev_class", "g.rulename <> '_RETURN'"),
        )
    )
    return f"""
SELECT 'comment ' || n.nspname || '.' || c.relname || COALESCE('.' || a.attname, ''),
       d.description,
       CASE WHEN d.objsubid > 0 THEN 'COLUMN' WHEN c.relkind IN ('r', 'p') THEN 'TABLE'
            WHEN c.relkind = 'v' THEN 'VIEW' WHEN c.relkind = 'm' THEN 'MATERIALIZED VIEW'
            WHEN c.relkind IN ('i', 'I') THEN 'INDEX' WHEN c.relkind = 'S' THEN 'SEQUENCE'
            ELSE 'FOREIGN TABLE' END,
       {rel} || COALESCE('.' || quote_ident(a.attname), '')
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_class c ON c.oid = d.objoid AND d.classoid = 'pg_catalog.pg_class'::regclass
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
     AND d.objsubid > 0
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'i', 'I', 'S', 'f', 'c')
  AND (a.attname IS NOT NULL OR (d.objsubid = 0 AND c.relkind <> 'c')) AND {where}
UNION ALL
SELECT 'comment ' || n.nspname || '.' || p.proname, d.description,
       CASE p.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END,
       (pg_catalog.pg_identify_object(d.classoid, d.objoid, 0)).identity
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_proc p ON p.oid = d.objoid AND d.classoid = 'pg_catalog.pg_proc'::regclass
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE {where}
UNION ALL
SELECT 'comment ' || n.nspname || '.' || t.typname, d.description,
       CASE WHEN t.typtype = 'd' THEN 'DOMAIN' ELSE 'TYPE' END,
       quote_ident(n.nspname) || '.' || quote_ident(t.typname)
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_type t ON t.oid = d.objoid AND d.classoid = 'pg_catalog.pg_type'::regclass
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_catalog.pg_class c ON c.oid = t.typrelid
WHERE (t.typtype IN ('e', 'd', 'r') OR (t.typtype = 'c' AND c.relkind = 'c')) AND {where}
UNION ALL
SELECT 'comment ' || n.nspname, d.description, 'SCHEMA', quote_ident(n.nspname)
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_namespace n ON n.oid = d.objoid
     AND d.classoid = 'pg_catalog.pg_namespace'::regclass
WHERE NOT (n.nspname = 'public' AND d.description = 'standard public schema') AND {where}
UNION ALL
SELECT 'comment ' || n.nspname || '.' || COALESCE(c.relname, t.typname) || '.' || k.conname,
       d.description, 'CONSTRAINT',
       quote_ident(k.conname) || ' ON ' || CASE WHEN c.oid IS NULL THEN 'DOMAIN ' ELSE '' END
       || quote_ident(n.nspname) || '.' || quote_ident(COALESCE(c.relname, t.typname))
FROM pg_catalog.pg_description d
JOIN pg_catalog.pg_constraint k ON k.oid = d.objoid
     AND d.classoid = 'pg_catalog.pg_constraint'::regclass
JOIN pg_catalog.pg_namespace n ON n.oid = k.connamespace
LEFT JOIN pg_catalog.pg_class c ON c.oid = k.conrelid AND k.conrelid <> 0
LEFT JOIN pg_catalog.pg_type t ON t.oid = k.contypid AND k.contypid <> 0
WHERE COALESCE(c.relname, t.typname) IS NOT NULL AND {where}
{on_table}"""  # noqa: S608 - constant SQL, no input


COMMENTS = (
    comments_sql("\n  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[]))")
    + "ORDER BY 1\n"
)

# inheritance children (not declarative partitions: Sakila's payment_p2007_01 INHERITS
# payment), both tables in scope: child oid, quoted parent, in inheritance order
INHERITS = """
SELECT i.inhrelid, i.inhparent FROM pg_catalog.pg_inherits i
JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
WHERE NOT c.relispartition AND i.inhrelid = ANY(%s) AND i.inhparent = ANY(%s)
ORDER BY i.inhrelid, i.inhseqno
"""

# rules other than a view's own (_RETURN): Sakila routes payment inserts by rules
RULES = """
SELECT r.ev_class, r.rulename, pg_catalog.pg_get_ruledef(r.oid)
FROM pg_catalog.pg_rewrite r
WHERE r.ev_class = ANY(%s) AND r.rulename <> '_RETURN'
ORDER BY r.ev_class, r.rulename
"""

TRIGGERS = """
SELECT t.tgrelid, t.tgname, pg_catalog.pg_get_triggerdef(t.oid)
FROM pg_catalog.pg_trigger t
WHERE t.tgrelid = ANY(%s) AND NOT t.tgisinternal
ORDER BY t.tgrelid, t.tgname
"""

INDEXES = """
SELECT i.indrelid, ic.relname, i.indisunique, i.indkey::int2[],
       pg_catalog.pg_get_indexdef(i.indexrelid)
FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = ANY(%s)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k
                  WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                    AND k.contype IN ('p', 'u', 'x'))
ORDER BY i.indrelid, ic.relname
"""

# The types the tables' columns use, and the types those use in turn (fields of
# composite types; element types of arrays), so nested types are recreated too.
_USED_TYPES = """
WITH RECURSIVE used(oid) AS (
  SELECT CASE WHEN t0.typcategory = 'A' THEN t0.typelem ELSE t0.oid END
  FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t0 ON t0.oid = a.atttypid
  WHERE a.attrelid = ANY(%s) AND a.attnum > 0 AND NOT a.attisdropped
  UNION
  -- the types a used type is made of: a composite's fields, a domain's base type
  -- (an enum, a composite, an extension's citext) and a range's subtype
  SELECT CASE WHEN ft.typcategory = 'A' THEN ft.typelem ELSE ft.oid END
  FROM used u
  JOIN pg_catalog.pg_type t ON t.oid = u.oid
  CROSS JOIN LATERAL (
    SELECT f.atttypid FROM pg_catalog.pg_attribute f
    WHERE t.typtype = 'c' AND f.attrelid = t.typrelid AND f.attnum > 0
      AND NOT f.attisdropped
    UNION ALL SELECT t.typbasetype WHERE t.typtype = 'd'
    UNION ALL SELECT r.rngsubtype FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid
  ) part(typ)
  JOIN pg_catalog.pg_type ft ON ft.oid = part.typ
)
"""

ENUMS = (
    _USED_TYPES  # noqa: S608 - constant SQL, no input
    + """
SELECT DISTINCT n.nspname, t.typname, t.oid,
       (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder)
        FROM pg_catalog.pg_enum e WHERE e.enumtypid = t.oid)
FROM used u
JOIN pg_catalog.pg_type t ON t.oid = u.oid
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'e'
ORDER BY 1, 2
"""
)

# Every domain of the schemas in scope (one no column uses too: Pagila's dotless-i "bigint"),
# plus those the tables use from elsewhere; the collation when it is not the base
# type's own
DOMAINS = (
    _USED_TYPES.replace("%s", "%(oids)s")  # noqa: S608 - constant SQL, no input
    + """, wanted(oid) AS (
  SELECT oid FROM used
  UNION
  SELECT t.oid FROM pg_catalog.pg_type t
  JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
  WHERE t.typtype = 'd'
"""
    + _user_objects("pg_catalog.pg_type", "t")
    + """)
SELECT DISTINCT n.nspname, t.typname, pg_catalog.format_type(t.typbasetype, t.typtypmod),
       t.typnotnull, pg_catalog.pg_get_expr(t.typdefaultbin, 0),
       (SELECT array_agg('CONSTRAINT ' || quote_ident(k.conname) || ' '
                         || pg_catalog.pg_get_constraintdef(k.oid) ORDER BY k.conname)
        FROM pg_catalog.pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c'),
       (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
        FROM pg_catalog.pg_collation co
        JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
        WHERE co.oid = t.typcollation AND t.typcollation <> bt.typcollation)
FROM wanted u
JOIN pg_catalog.pg_type t ON t.oid = u.oid
JOIN pg_catalog.pg_type bt ON bt.oid = t.typbasetype
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typtype = 'd'
ORDER BY 1, 2
"""
)

COMPOSITES = (
    _USED_TYPES  # noqa: S608 - constant SQL, no input
    + """
SELECT DISTINCT n.nspname, t.typname, t.oid,
       (SELECT array_agg(quote_ident(f.attname) || ' '
                         || pg_catalog.format_type(f.atttypid, f.atttypmod) ORDER BY f.attnum)
        FROM pg_catalog.pg_attribute f
        WHERE f.attrelid = t.typrelid AND f.attnum > 0 AND NOT f.attisdropped)
FROM used u
JOIN pg_catalog.pg_type t ON t.oid = u.oid AND t.typtype = 'c'
JOIN pg_catalog.pg_class tc ON tc.oid = t.typrelid AND tc.relkind = 'c'
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
ORDER BY 3
"""
)

# User-defined range types the tables use: subtype, and the options that are not the
# subtype's defaults; the multirange keeps its name (PostgreSQL 14 derives one)
RANGES = (
    _USED_TYPES  # noqa: S608 - constant SQL, no input
    + """
SELECT DISTINCT n.nspname, t.typname, pg_catalog.format_type(r.rngsubtype, NULL),
       CASE WHEN r.rngsubdiff <> 0 THEN r.rngsubdiff::regproc::text END,
       CASE WHEN r.rngcollation <> 0 AND r.rngcollation <> st.typcollation
            THEN (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
                  FROM pg_catalog.pg_collation co
                  JOIN pg_catalog.pg_namespace cn ON cn.oid = co.collnamespace
                  WHERE co.oid = r.rngcollation) END,
       CASE WHEN NOT oc.opcdefault
            THEN quote_ident(ocn.nspname) || '.' || quote_ident(oc.opcname) END,
       (SELECT quote_ident(mn.nspname) || '.' || quote_ident(mt.typname)
        FROM pg_catalog.pg_type mt JOIN pg_catalog.pg_namespace mn ON mn.oid = mt.typnamespace
        WHERE mt.oid = r.rngmultitypid)
FROM used u
JOIN pg_catalog.pg_type t ON t.oid = u.oid AND t.typtype = 'r'
JOIN pg_catalog.pg_range r ON r.rngtypid = t.oid
JOIN pg_catalog.pg_type st ON st.oid = r.rngsubtype
JOIN pg_catalog.pg_opclass oc ON oc.oid = r.rngsubopc
JOIN pg_catalog.pg_namespace ocn ON ocn.oid = oc.opcnamespace
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE n.nspname <> 'pg_catalog'
ORDER BY 1, 2
"""
)

# The extensions whose types the tables use, directly, in arrays, behind a domain
# (an e-mail domain over citext), in a composite's field or a range's subtype
EXTENSIONS = (
    _USED_TYPES
    + """
SELECT DISTINCT x.extname
FROM used u
JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_type'::regclass
     AND d.objid = u.oid AND d.deptype = 'e'
JOIN pg_catalog.pg_extension x ON x.oid = d.refobjid
ORDER BY 1
"""
)


@dataclass
class PgDDL:
    """What the source adapter hands the target adapter for an exact recreation."""

    schemas: list[str] = field(default_factory=list)
    extensions: list[str] = field(default_factory=list)
    enums: list[tuple[str, str, list[str]]] = field(default_factory=list)
    domains: list[str] = field(default_factory=list)  # CREATE DOMAIN statements
    composites: list[str] = field(default_factory=list)  # CREATE TYPE ... AS (...) statements
    ranges: list[str] = field(default_factory=list)  # CREATE TYPE ... AS RANGE (...)
    # per qualified table: [(constraint name, contype, definition)]
    constraints: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    indexes: dict[str, list[str]] = field(default_factory=dict)
    identity_always: set[tuple[str, str]] = field(default_factory=set)
    # (schema, name, "v" or "m", SELECT definition, reloptions) in creation (oid) order
    views: list[tuple[str, str, str, str, list[str]]] = field(default_factory=list)
    # "schema.view" of a materialised view → [(index name, CREATE INDEX ...)]
    view_indexes: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # (table, column) of an identity or nextval() column → the source state of its
    # sequence: (last_value, is_called, increment)
    sequence_state: dict[tuple[str, str], tuple[int, bool, int]] = field(default_factory=dict)
    # (table, column) → " (INCREMENT BY ... CYCLE)": the target identity's sequence
    # options, the source sequence's within the column type's range
    identity_options: dict[tuple[str, str], str] = field(default_factory=dict)
    # sequences no copied column takes values from: (schema, name, options of CREATE
    # SEQUENCE, (last_value, is_called) or None when unreadable)
    sequences: list[tuple[str, str, str, tuple[int, bool] | None]] = field(default_factory=list)
    # (signature, CREATE OR REPLACE FUNCTION ...) of user functions and procedures
    functions: list[tuple[str, str]] = field(default_factory=list)
    # (table, trigger name, CREATE TRIGGER ...)
    triggers: list[tuple[str, str, str]] = field(default_factory=list)
    # partitioned tables: qualified name → partition key (``RANGE (paid)``)
    partitioned: dict[str, str] = field(default_factory=dict)
    # partitions in creation order: (quoted parent, schema, name, bound, own key or None)
    partitions: list[tuple[str, str, str, str, str | None]] = field(default_factory=list)
    # (partition, statement): keys, checks and indexes a partition has of its own (not
    # from its parent), foreign keys last: Pagila's payment_p2022_01 → customer
    partition_own: list[tuple[str, str]] = field(default_factory=list)
    # inheritance (not partitioning): qualified child → its parents (qualified, quoted)
    inherits: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    # (table, rule name, CREATE RULE ...) of tables' rules (views' _RETURN excluded)
    rules: list[tuple[str, str, str]] = field(default_factory=list)
    # (label, comment, COMMENT ON ... IS ...) of the objects' comments (:func:`comments_sql`)
    comments: list[tuple[str, str, str]] = field(default_factory=list)


SEQUENCES = (
    """
SELECT c.oid, n.nspname, c.relname, pg_catalog.format_type(s.seqtypid, NULL),
       s.seqincrement, s.seqmin, s.seqmax, s.seqstart, s.seqcache, s.seqcycle,
       pg_catalog.has_sequence_privilege(c.oid, 'SELECT')
FROM pg_catalog.pg_sequence s
JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE true
"""
    + _user_objects("pg_catalog.pg_class", "c")
    + "ORDER BY c.oid\n"
)

# the columns that take their values from a sequence: by a nextval() default (first:
# Pagila's sequences are not OWNED BY their column) or by owning it (serial, identity)
SEQUENCE_COLUMNS = """
SELECT 0, d.refobjid, ad.adrelid, a.attname
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_attrdef ad ON ad.oid = d.objid
JOIN pg_catalog.pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
WHERE d.classid = 'pg_catalog.pg_attrdef'::regclass
  AND d.refclassid = 'pg_catalog.pg_class'::regclass
  AND d.refobjid = ANY(%(seqs)s) AND ad.adrelid = ANY(%(oids)s)
UNION ALL
SELECT 1, d.objid, d.refobjid, a.attname
FROM pg_catalog.pg_depend d
JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = ANY(%(seqs)s)
  AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.deptype IN ('a', 'i')
  AND d.refobjid = ANY(%(oids)s)
ORDER BY 1
"""


def _sequences(
    cur: Any,
    scope: dict[str, Any],
    trows: Sequence[Any],
    cols: dict[int, list[Column]],
    ddl: PgDDL,
) -> set[str]:
    """Every sequence's state (last value, is_called) on the source. An identity or
    ``nextval()`` column's sequence is its column's (the target's column is an
    identity and continues from it); any other is recreated as it is. Returns the
    sequences' schemas (the target needs them, with a table in them or not)."""
    import dataclasses

    cur.execute(SEQUENCES, scope)
    seqs = cur.fetchall()
    state: dict[int, tuple[int, bool]] = {}
    for oid, nsp, rel, *_options, readable in seqs:
        if readable:
            cur.execute(f"SELECT last_value, is_called FROM {_q(nsp)}.{_q(rel)}")  # noqa: S608 - quoted
            last, called = cur.fetchone()
            state[oid] = (int(last), bool(called))
    cur.execute(SEQUENCE_COLUMNS, {"seqs": [r[0] for r in seqs], "oids": [r[0] for r in trows]})
    linked: dict[tuple[int, str], int] = {}
    for _how, seq, rel, column in cur.fetchall():
        linked.setdefault((rel, str(column)), seq)
    names = {oid: f"{nsp}.{rel}" for oid, nsp, rel, *_ in trows}
    increment = {r[0]: int(r[4]) for r in seqs}
    options = {r[0]: r[4:10] for r in seqs}
    seq_names = {r[0]: f"{_q(r[1])}.{_q(r[2])}" for r in seqs}
    seq_schemas = {r[0]: str(r[1]) for r in seqs}
    used: set[int] = set()
    for oid in cols:
        for i, c in enumerate(cols[oid]):
            seq = linked.get((oid, c.name))
            if not c.is_identity or seq is None:
                continue
            # the first column of a sequence names its identity's sequence after it
            # (PostgreSQL wants an identity's sequence in its table's schema)
            same_schema = seq_schemas[seq] == names[oid].split(".", 1)[0]
            name = seq_names[seq] if seq not in used and same_schema else None
            used.add(seq)
            identity = _identity_options(c.db_type, name, *options[seq])
            if identity:
                ddl.identity_options[(names[oid], c.name)] = identity
            if seq in state:
                last, called = state[seq]
                ddl.sequence_state[(names[oid], c.name)] = (last, called, increment[seq])
                if called:  # the last value handed out, as pg_sequence_last_value says
                    cols[oid][i] = dataclasses.replace(c, sequence_value=last)
    for oid, nsp, rel, typ, *_rest in seqs:
        if oid not in used:
            create = f"AS {typ} {_sequence_options(*options[oid])}"
            ddl.sequences.append((str(nsp), str(rel), create, state.get(oid)))
    return {str(r[1]) for r in seqs}


_TOP = {"smallint": 2**15 - 1, "integer": 2**31 - 1, "bigint": 2**63 - 1}


def _sequence_options(inc: int, lo: int, hi: int, start: int, cache: int, cycle: bool) -> str:
    return (
        f"INCREMENT BY {int(inc)} MINVALUE {int(lo)} MAXVALUE {int(hi)} "
        f"START WITH {int(start)} CACHE {int(cache)} {'' if cycle else 'NO '}CYCLE"
    )


def _identity_options(
    column_type: str,
    name: str | None,
    inc: int,
    lo: int,
    hi: int,
    start: int,
    cache: int,
    cycle: bool,
) -> str:
    """The source sequence's name and options for the target's identity (whose
    sequence has the column's type: a bigint sequence of an integer column is
    bounded to it)."""
    top = _TOP.get(column_type)
    if top is None:
        return ""
    lo, hi = max(int(lo), -top - 1), min(int(hi), top)
    if lo >= hi:
        return ""
    start = min(max(int(start), lo), hi)
    named = f"SEQUENCE NAME {name} " if name else ""
    return f" ({named}{_sequence_options(inc, lo, hi, start, cache, cycle)})"


PARTITION_KEYS = """
SELECT c.oid, pg_catalog.pg_get_partkeydef(c.oid) FROM pg_catalog.pg_class c
WHERE c.oid = ANY(%s) AND c.relkind = 'p'
"""
PARTITIONS = """
SELECT i.inhparent, c.oid, n.nspname, c.relname,
       pg_catalog.pg_get_expr(c.relpartbound, c.oid),
       CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END
FROM pg_catalog.pg_inherits i
JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relispartition
ORDER BY c.oid
"""


PARTITION_OWN = """
SELECT k.conrelid, k.contype, 'ALTER TABLE ' || k.conrelid::regclass::text
       || ' ADD CONSTRAINT ' || pg_catalog.quote_ident(k.conname) || ' '
       || pg_catalog.pg_get_constraintdef(k.oid)
FROM pg_catalog.pg_constraint k
WHERE k.conrelid = ANY(%(oids)s) AND k.conparentid = 0 AND k.conislocal
  AND k.coninhcount = 0 AND k.contype IN ('p', 'u', 'x', 'c', 'f')
UNION ALL
SELECT i.indrelid, 'i', pg_catalog.pg_get_indexdef(i.indexrelid)
FROM pg_catalog.pg_index i
WHERE i.indrelid = ANY(%(oids)s)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhrelid = i.indexrelid)
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k
                  WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                    AND k.contype IN ('p', 'u', 'x'))
"""
_OWN_ORDER = {"p": 0, "u": 1, "x": 2, "c": 3, "i": 4, "f": 5}


def _partition_own(cur: Any, oids: dict[int, str], ddl: PgDDL) -> None:
    """What partitions have of their own (the parent's keys and indexes reach them
    when they are created as its partitions), in an order that can be replayed."""
    cur.execute("SELECT pg_catalog.set_config('search_path', '', true)")
    cur.execute(PARTITION_OWN, {"oids": list(oids)})
    rows = sorted(cur.fetchall(), key=lambda r: (_OWN_ORDER[r[1]], list(oids).index(r[0])))
    ddl.partition_own = [(oids[rel], str(stmt)) for rel, _kind, stmt in rows]


def _partitions(
    cur: Any, trows: Sequence[Any], ddl: PgDDL
) -> dict[int, list[tuple[str, str, str]]]:
    """Partition keys of the partitioned tables and their partitions, nested ones too.

    Returns, per partitioned table (oid), its partitions as ``(schema.partition, key
    of its parent, bound)``: a bound holds values of the key (lint refuses a masked
    column's production values there)."""
    names = {r[0]: f"{r[1]}.{r[2]}" for r in trows}
    quoted = {r[0]: f"{_q(r[1])}.{_q(r[2])}" for r in trows}  # parents, for DDL
    keys: dict[int, str] = {}
    cur.execute(PARTITION_KEYS, (list(names),))
    for oid, keydef in cur.fetchall():
        ddl.partitioned[names[oid]] = keys[oid] = str(keydef)
    if not ddl.partitioned:
        return {}
    cur.execute(PARTITIONS)
    rows = cur.fetchall()
    added = True
    seen: set[int] = set()
    root = {oid: oid for oid in keys}
    out: dict[int, list[tuple[str, str, str]]] = {}
    while added:  # a partition's parent must be known first (sub-partitions)
        added = False
        for parent, oid, nsp, rel, bound, keydef in rows:
            if oid in seen or parent not in quoted:
                continue
            seen.add(oid)
            quoted[oid] = f"{_q(nsp)}.{_q(rel)}"
            ddl.partitions.append((quoted[parent], str(nsp), str(rel), str(bound), keydef))
            if keydef:
                keys[oid] = str(keydef)
            root[oid] = root.get(parent, parent)
            out.setdefault(root[oid], []).append((f"{nsp}.{rel}", keys.get(parent, ""), str(bound)))
            added = True
    _partition_own(
        cur, {oid: f"{nsp}.{rel}" for _p, oid, nsp, rel, _b, _k in rows if oid in seen}, ddl
    )
    return out


def introspect(cur: Any, schemas: Sequence[str] | None) -> tuple[Schema, PgDDL]:
    cur.execute("SELECT pg_catalog.set_config('search_path', '', true)")
    cur.execute(TABLES, {"marker": MARKER_TABLE, "schemas": list(schemas) if schemas else None})
    trows = cur.fetchall()
    oids = [r[0] for r in trows]
    ddl = PgDDL()
    cols: dict[int, list[Column]] = {o: [] for o in oids}
    attnames: dict[int, dict[int, str]] = {o: {} for o in oids}
    always: set[tuple[int, str]] = set()
    cur.execute(COLUMNS, (oids,))
    for (
        rel,
        num,
        name,
        typ,
        notnull,
        default,
        ident,
        gen,
        cat,
        typname,
        typmod,
        bcat,
        labels,
    ) in cur:
        attnames[rel][num] = name
        is_ident = ident in ("a", "d") or bool(default and default.startswith("nextval("))
        if gen == "s":
            default = f"{GENERATED_PREFIX}({default}) STORED"
        elif is_ident:
            default = None
        maxlen = typmod - 4 if typname in ("varchar", "bpchar") and typmod > 4 else None
        cols[rel].append(
            Column(
                name=name,
                kind=pg_kind(typname, "A" if cat == "A" else bcat),
                db_type=typ,
                nullable=not notnull,
                max_length=maxlen,
                default=default,
                is_identity=is_ident,
                labels=None if labels is None else tuple(labels),
            )
        )
        if ident == "a":
            always.add((rel, name))
    scope = {"schemas": list(schemas) if schemas else None}
    spaces = _sequences(cur, scope, trows, cols, ddl)  # schemas of sequences and domains
    pk: dict[int, tuple[str, ...]] = {}
    uniq: dict[int, list[tuple[str, ...]]] = {o: [] for o in oids}
    fks: dict[int, list[ForeignKey]] = {o: [] for o in oids}
    checks: dict[int, list[str]] = {o: [] for o in oids}
    cons: dict[int, list[tuple[str, str, str]]] = {o: [] for o in oids}
    cur.execute(CONSTRAINTS, (oids,))
    for rel, name, ctype, key, fkey, fschema, ftable, upd, dele, definition, frel in cur:
        names = tuple(attnames[rel].get(k, "") for k in key or ())
        cons[rel].append((name, ctype, definition))
        if ctype == "p":
            pk[rel] = names
        elif ctype == "u":
            uniq[rel].append(names)
        elif ctype == "c":
            checks[rel].append(f"CONSTRAINT {_q(name)} {definition}")
        elif ctype == "f":
            ref_names = attnames.get(frel)
            if ref_names is None:  # parent outside the introspected schemas
                cur2 = cur.connection.execute(
                    "SELECT attnum, attname FROM pg_catalog.pg_attribute WHERE attrelid = %s",
                    (frel,),
                )
                ref_names = dict(cur2.fetchall())
            fks[rel].append(
                ForeignKey(
                    name=name,
                    columns=names,
                    ref_schema=fschema,
                    ref_table=ftable,
                    ref_columns=tuple(ref_names.get(k, "") for k in fkey or ()),
                    on_delete=_ACTION.get(dele),
                    on_update=_ACTION.get(upd),
                )
            )
    idx: dict[int, list[Index]] = {o: [] for o in oids}
    idx_ddl: dict[int, list[str]] = {o: [] for o in oids}
    cur.execute(INDEXES, (oids,))
    for rel, name, unique, keys, definition in cur:
        icols = () if 0 in keys else tuple(attnames[rel][k] for k in keys)
        idx[rel].append(Index(name=name, columns=icols, unique=unique, definition=definition))
        idx_ddl[rel].append(definition)
    cur.execute(ENUMS, (oids,))
    ddl.enums = [(r[0], r[1], list(r[3] or [])) for r in cur.fetchall()]
    cur.execute(DOMAINS, {"oids": oids, "schemas": list(schemas) if schemas else None})
    for nsp, name, base, notnull, default, checks_, collation in cur.fetchall():
        spaces.add(str(nsp))
        stmt = f"CREATE DOMAIN {_q(nsp)}.{_q(name)} AS {base}"
        if collation is not None:
            stmt += f" COLLATE {collation}"
        if default is not None:
            stmt += f" DEFAULT {default}"
        if notnull:
            stmt += " NOT NULL"
        later = []  # CREATE DOMAIN takes no NOT VALID check: added after it, as such
        for check in checks_ or []:
            if check.endswith(" NOT VALID"):
                later.append(f"ALTER DOMAIN {_q(nsp)}.{_q(name)} ADD {check}")
            else:
                stmt += f" {check}"
        ddl.domains += [stmt, *later]
    cur.execute(COMPOSITES, (oids,))
    ddl.composites = [
        f"CREATE TYPE {_q(nsp)}.{_q(name)} AS ({', '.join(fields or [])})"
        for nsp, name, _oid, fields in cur.fetchall()
    ]
    cur.execute(RANGES, (oids,))
    for nsp, name, subtype, diff, collation, opclass, multi in cur.fetchall():
        spaces.add(str(nsp))
        opts = [f"subtype = {subtype}"]
        opts += [f"subtype_diff = {diff}"] if diff else []
        opts += [f"collation = {collation}"] if collation else []
        opts += [f"subtype_opclass = {opclass}"] if opclass else []
        opts += [f"multirange_type_name = {multi}"] if multi else []
        ddl.ranges.append(f"CREATE TYPE {_q(nsp)}.{_q(name)} AS RANGE ({', '.join(opts)})")
    cur.execute(EXTENSIONS, (oids,))
    ddl.extensions = [r[0] for r in cur.fetchall()]
    tables = []
    for oid, nsp, rel, tuples, _kind in trows:
        t = Table(
            schema=nsp,
            name=rel,
            columns=tuple(cols[oid]),
            primary_key=pk.get(oid, ()),
            foreign_keys=tuple(fks[oid]),
            unique_constraints=tuple(uniq[oid]),
            indexes=tuple(idx[oid]),
            check_constraints=tuple(checks[oid]),
            row_estimate=int(tuples) if tuples is not None and tuples >= 0 else None,
        )
        tables.append(t)
        ddl.constraints[t.qualified] = cons[oid]
        ddl.indexes[t.qualified] = idx_ddl[oid]
        ddl.identity_always |= {(t.qualified, c) for o, c in always if o == oid}
    ddl.schemas = sorted({t.schema for t in tables if t.schema} | spaces)
    cur.execute(VIEWS, scope)
    ddl.views = [(r[0], r[1], r[2], r[3], list(r[4] or [])) for r in cur.fetchall()]
    cur.execute(VIEW_INDEXES, scope)
    for nsp, view, index, definition in cur.fetchall():
        ddl.view_indexes.setdefault(f"{nsp}.{view}", []).append((str(index), str(definition)))
    cur.execute(FUNCTIONS, scope)
    ddl.functions = [(str(r[0]), str(r[1])) for r in cur.fetchall()]
    cur.execute(AGGREGATES, scope)  # after the functions their state functions are
    ddl.functions += [(str(r[0]), str(r[1])) for r in cur.fetchall()]
    parts = _partitions(cur, trows, ddl)
    if parts:
        tables = [
            replace(t, partitions=tuple(parts.get(r[0], ())))
            for t, r in zip(tables, trows, strict=True)
        ]
    by_oid = {oid: f"{nsp}.{rel}" for oid, nsp, rel, _t, _k in trows}
    cur.execute(TRIGGERS, (oids,))
    ddl.triggers = [(by_oid[r[0]], str(r[1]), str(r[2])) for r in cur.fetchall()]
    cur.execute(INHERITS, (oids, oids))
    quoted = {oid: f"{_q(nsp)}.{_q(rel)}" for oid, nsp, rel, _t, _k in trows}
    for child, parent in cur.fetchall():
        ddl.inherits.setdefault(by_oid[child], []).append((by_oid[parent], quoted[parent]))
    cur.execute(RULES, (oids,))
    ddl.rules = [(by_oid[r[0]], str(r[1]), str(r[2])) for r in cur.fetchall()]
    cur.execute(COMMENTS, scope)
    ddl.comments = [
        (str(label), str(text), f"COMMENT ON {kw} {obj} IS {_literal(str(text))}")
        for label, text, kw, obj in cur.fetchall()
        if MARKER_TABLE not in str(label)
    ]
    return Schema(backend="postgresql", tables=tuple(tables)), ddl


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    """``text`` as an SQL string literal (``E'…'`` when it holds a backslash, so it
    reads the same whatever ``standard_conforming_strings`` is)."""
    body = text.replace("'", "''")
    if "\\" in body:
        return "E'" + body.replace("\\", "\\\\") + "'"
    return "'" + body + "'"


__all__ = ["COMMENTS", "PgDDL", "comments_sql", "introspect"]
