"""Schema comparison of a source and its masked copy, for the run record.

Counts, on both sides, the tables, partitions (and the keys and indexes partitions
have of their own), primary, unique and foreign keys, indexes,
views, functions (and procedures, aggregates), triggers and comments (``COMMENT
ON`` an object; MySQL/MariaDB's ``COMMENT`` clauses of tables, columns, indexes,
partitions and routines). Tables, keys and indexes come from the same
introspection the run uses; views, routines, triggers and comments from each
database's catalog. A difference is reported by kind with both
counts, so a copy that lost a partition's keys, a view or a trigger shows it in
the A.8.11 record instead of passing silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from stagewall.masking.db._pg_introspect import comments_sql
from stagewall.masking.schema import Schema

KINDS = (
    "tables",
    "partitions",
    "partition_keys",
    "primary_keys",
    "unique_keys",
    "foreign_keys",
    "indexes",
    "views",
    "functions",
    "triggers",
    "rules",
    "comments",
)

# Each %(schemas)s is the list of schemas in scope (NULL: every user schema).
_PG = {
    "views": """SELECT count(*) FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp)'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[]))
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.objid = c.oid AND d.deptype = 'e')""",
    "functions": """SELECT count(*) FROM pg_catalog.pg_proc p
JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp)'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[]))
  AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                  WHERE d.objid = p.oid AND d.deptype = 'e')""",
    "partitions": """SELECT count(*) FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p')
  AND (c.relispartition OR EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i
                                   WHERE i.inhrelid = c.oid))
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[]))""",
    # keys, checks and indexes partitions have of their own, not from their parent
    # (Pagila's payment partitions hold the foreign keys; the parent holds none)
    "partition_keys": """SELECT (SELECT count(*) FROM pg_catalog.pg_constraint k
  JOIN pg_catalog.pg_class c ON c.oid = k.conrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relispartition AND k.conparentid = 0 AND k.conislocal AND k.coninhcount = 0
    AND k.contype IN ('p', 'u', 'x', 'c', 'f')
    AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[])))
 + (SELECT count(*) FROM pg_catalog.pg_index i
  JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relispartition
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits h WHERE h.inhrelid = i.indexrelid)
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k
                    WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid
                      AND k.contype IN ('p', 'u', 'x'))
    AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[])))""",
    "rules": """SELECT count(*) FROM pg_catalog.pg_rewrite r
JOIN pg_catalog.pg_class c ON c.oid = r.ev_class
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE r.rulename <> '_RETURN' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[]))""",
    "triggers": """SELECT count(*) FROM pg_catalog.pg_trigger t
JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE NOT t.tgisinternal AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_(toast|temp)'
  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[]))""",
    # the comments the copy recreates (the public schema's default one aside)
    "comments": "SELECT count(*) FROM ("  # noqa: S608 - constant SQL, no input
    + comments_sql("\n  AND (%(schemas)s::text[] IS NULL OR n.nspname = ANY(%(schemas)s::text[]))")
    + ") x",
}
_MYSQL = {
    "partitions": "SELECT count(*) FROM information_schema.PARTITIONS "
    "WHERE TABLE_SCHEMA = DATABASE() AND PARTITION_NAME IS NOT NULL",
    "partition_keys": "SELECT 0",
    "views": "SELECT count(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = DATABASE()",
    "functions": "SELECT count(*) FROM information_schema.ROUTINES "
    "WHERE ROUTINE_SCHEMA = DATABASE()",
    "triggers": "SELECT count(*) FROM information_schema.TRIGGERS "
    "WHERE TRIGGER_SCHEMA = DATABASE()",
    "rules": "SELECT 0",
    "comments": """SELECT
 (SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()
    AND TABLE_COMMENT <> '' AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED'))
 + (SELECT count(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()
    AND COLUMN_COMMENT <> '')
 + (SELECT count(DISTINCT TABLE_NAME, INDEX_NAME) FROM information_schema.STATISTICS
    WHERE TABLE_SCHEMA = DATABASE() AND INDEX_COMMENT <> '')
 + (SELECT count(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE()
    AND PARTITION_COMMENT <> '')
 + (SELECT count(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE()
    AND ROUTINE_COMMENT <> '')""",
}
_SQLITE = {
    "partitions": "SELECT 0",
    "partition_keys": "SELECT 0",
    "views": "SELECT count(*) FROM sqlite_master WHERE type = 'view'",
    "functions": "SELECT 0",
    "triggers": "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'",
    "rules": "SELECT 0",
    "comments": "SELECT 0",  # SQLite has none (a CREATE's ``--`` text is no object's)
}


@dataclass(frozen=True)
class SchemaComparison:
    source: dict[str, int]
    target: dict[str, int]

    @property
    def differences(self) -> list[str]:
        return [k for k in KINDS if self.source.get(k) != self.target.get(k)]

    def to_json(self) -> dict[str, Any]:
        return {
            "source": dict(self.source),
            "target": dict(self.target),
            "differences": self.differences,
        }


def _structural(schema: Schema) -> dict[str, int]:
    return {
        "tables": len(schema.tables),
        "primary_keys": sum(1 for t in schema.tables if t.primary_key),
        "unique_keys": sum(len(t.unique_constraints) for t in schema.tables),
        "foreign_keys": sum(len(t.foreign_keys) for t in schema.tables),
        "indexes": sum(1 for t in schema.tables for ix in t.indexes),
    }


def count_objects(db: Any, schemas: Sequence[str] | None) -> dict[str, int]:
    """The counts of every kind in ``KINDS`` for an open database."""
    out = _structural(db.introspect(schemas))
    backend = db.url.backend
    queries = _PG if backend == "postgresql" else _MYSQL if backend == "mysql" else _SQLITE
    for kind, sql in queries.items():
        if backend == "postgresql":
            wanted = list(schemas) if schemas else None
            rows = db.select(sql.replace("%(schemas)s", "%s"), (wanted,) * sql.count("%(schemas)s"))
        else:
            rows = db.select(sql)
        out[kind] = int(rows[0][0]) if rows else 0
    return out


def compare_schemas(
    source_url: str, target_url: str, schemas: Sequence[str] | None = None
) -> SchemaComparison:
    """Count the objects of the source and of its masked copy (read only)."""
    from stagewall.masking.db import open_database

    with open_database(source_url, role="source", read_only=True) as src:
        source = count_objects(src, schemas)
    with open_database(target_url, role="target", read_only=True) as tgt:
        target = count_objects(tgt, schemas)
    return SchemaComparison(source, target)


__all__ = ["KINDS", "SchemaComparison", "compare_schemas", "count_objects"]
