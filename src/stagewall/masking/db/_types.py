"""Native type names → ColumnKind, and ColumnKind → a portable type for another backend."""

from __future__ import annotations

from stagewall.masking.schema import Column
from stagewall.masking.types import ColumnKind


def sqlite_kind(declared: str) -> ColumnKind:
    """SQLite declared type → kind (names first, then SQLite's affinity rules)."""
    t = declared.strip().upper()
    base = t.split("(", 1)[0].strip()
    named = {
        "BOOLEAN": ColumnKind.BOOLEAN,
        "BOOL": ColumnKind.BOOLEAN,
        "DATE": ColumnKind.DATE,
        "DATETIME": ColumnKind.TIMESTAMP,
        "TIMESTAMP": ColumnKind.TIMESTAMP,
        "TIME": ColumnKind.TIME,
        "JSON": ColumnKind.JSON,
        "JSONB": ColumnKind.JSON,
        "UUID": ColumnKind.UUID,
        "DECIMAL": ColumnKind.DECIMAL,
        "NUMERIC": ColumnKind.DECIMAL,
        "BLOB": ColumnKind.BYTES,
    }
    if base in named:
        return named[base]
    if "INT" in t:
        return ColumnKind.INTEGER
    if any(s in t for s in ("CHAR", "CLOB", "TEXT")):
        return ColumnKind.TEXT
    if any(s in t for s in ("REAL", "FLOA", "DOUB")):
        return ColumnKind.FLOAT
    if not t:
        return ColumnKind.OTHER
    return ColumnKind.DECIMAL  # SQLite's NUMERIC affinity


_MYSQL = {
    "tinyint": ColumnKind.INTEGER,
    "smallint": ColumnKind.INTEGER,
    "mediumint": ColumnKind.INTEGER,
    "int": ColumnKind.INTEGER,
    "integer": ColumnKind.INTEGER,
    "bigint": ColumnKind.INTEGER,
    "year": ColumnKind.INTEGER,
    "decimal": ColumnKind.DECIMAL,
    "numeric": ColumnKind.DECIMAL,
    "float": ColumnKind.FLOAT,
    "double": ColumnKind.FLOAT,
    "real": ColumnKind.FLOAT,
    "bit": ColumnKind.INTEGER,
    "bool": ColumnKind.BOOLEAN,
    "boolean": ColumnKind.BOOLEAN,
    "date": ColumnKind.DATE,
    "datetime": ColumnKind.TIMESTAMP,
    "timestamp": ColumnKind.TIMESTAMP,
    "time": ColumnKind.TIME,
    "json": ColumnKind.JSON,
    "uuid": ColumnKind.UUID,
    "char": ColumnKind.TEXT,
    "varchar": ColumnKind.TEXT,
    "tinytext": ColumnKind.TEXT,
    "text": ColumnKind.TEXT,
    "mediumtext": ColumnKind.TEXT,
    "longtext": ColumnKind.TEXT,
    "enum": ColumnKind.OTHER,
    "set": ColumnKind.OTHER,
    "binary": ColumnKind.BYTES,
    "varbinary": ColumnKind.BYTES,
    "tinyblob": ColumnKind.BYTES,
    "blob": ColumnKind.BYTES,
    "mediumblob": ColumnKind.BYTES,
    "longblob": ColumnKind.BYTES,
}


def mysql_kind(data_type: str, column_type: str, is_json: bool = False) -> ColumnKind:
    """MySQL/MariaDB DATA_TYPE/COLUMN_TYPE → kind; tinyint(1) is BOOLEAN."""
    if is_json:
        return ColumnKind.JSON
    if column_type.lower().startswith("tinyint(1)"):
        return ColumnKind.BOOLEAN
    return _MYSQL.get(data_type.lower(), ColumnKind.OTHER)


_PG = {
    "bool": ColumnKind.BOOLEAN,
    "int2": ColumnKind.INTEGER,
    "int4": ColumnKind.INTEGER,
    "int8": ColumnKind.INTEGER,
    "oid": ColumnKind.INTEGER,
    "numeric": ColumnKind.DECIMAL,
    "money": ColumnKind.DECIMAL,
    "float4": ColumnKind.FLOAT,
    "float8": ColumnKind.FLOAT,
    "date": ColumnKind.DATE,
    "timestamp": ColumnKind.TIMESTAMP,
    "timestamptz": ColumnKind.TIMESTAMP,
    "time": ColumnKind.TIME,
    "timetz": ColumnKind.TIME,
    "uuid": ColumnKind.UUID,
    "json": ColumnKind.JSON,
    "jsonb": ColumnKind.JSON,
    "bytea": ColumnKind.BYTES,
    "text": ColumnKind.TEXT,
    "varchar": ColumnKind.TEXT,
    "bpchar": ColumnKind.TEXT,
    "name": ColumnKind.TEXT,
    "citext": ColumnKind.TEXT,
    "inet": ColumnKind.TEXT,
    "cidr": ColumnKind.TEXT,
    "macaddr": ColumnKind.TEXT,
}


# pg_type.typcategory of values with a syntax of their own: bit strings, geometric,
# ranges, timespans, enums, composite types
_PG_STRUCTURED_CATEGORIES = frozenset("VGRTEC")
_PG_STRUCTURED = frozenset({"macaddr8", "tsquery", "pg_lsn", "txid_snapshot", "pg_snapshot"})


def pg_kind(typname: str, category: str) -> ColumnKind:
    if category == "A":
        return ColumnKind.ARRAY
    kind = _PG.get(typname)
    if kind is not None:
        return kind
    if category in _PG_STRUCTURED_CATEGORIES or typname in _PG_STRUCTURED:
        return ColumnKind.STRUCTURED
    return ColumnKind.OTHER


_PORTABLE = {
    "postgresql": {
        ColumnKind.TEXT: "text",
        ColumnKind.INTEGER: "bigint",
        ColumnKind.DECIMAL: "numeric",
        ColumnKind.FLOAT: "double precision",
        ColumnKind.BOOLEAN: "boolean",
        ColumnKind.DATE: "date",
        ColumnKind.TIMESTAMP: "timestamp",
        ColumnKind.TIME: "time",
        ColumnKind.UUID: "uuid",
        ColumnKind.JSON: "jsonb",
        ColumnKind.BYTES: "bytea",
        ColumnKind.ARRAY: "text[]",
        ColumnKind.OTHER: "text",
        ColumnKind.STRUCTURED: "text",
    },
    "sqlite": {
        ColumnKind.TEXT: "TEXT",
        ColumnKind.INTEGER: "INTEGER",
        ColumnKind.DECIMAL: "NUMERIC",
        ColumnKind.FLOAT: "REAL",
        ColumnKind.BOOLEAN: "BOOLEAN",
        ColumnKind.DATE: "DATE",
        ColumnKind.TIMESTAMP: "TIMESTAMP",
        ColumnKind.TIME: "TIME",
        ColumnKind.UUID: "TEXT",
        ColumnKind.JSON: "JSON",
        ColumnKind.BYTES: "BLOB",
        ColumnKind.ARRAY: "JSON",
        ColumnKind.OTHER: "TEXT",
        ColumnKind.STRUCTURED: "TEXT",
    },
    "mysql": {
        ColumnKind.TEXT: "longtext",
        ColumnKind.INTEGER: "bigint",
        ColumnKind.DECIMAL: "decimal(65,10)",
        ColumnKind.FLOAT: "double",
        ColumnKind.BOOLEAN: "tinyint(1)",
        ColumnKind.DATE: "date",
        ColumnKind.TIMESTAMP: "datetime(6)",
        ColumnKind.TIME: "time(6)",
        ColumnKind.UUID: "char(36)",
        ColumnKind.JSON: "json",
        ColumnKind.BYTES: "longblob",
        ColumnKind.ARRAY: "json",
        ColumnKind.OTHER: "longtext",
        ColumnKind.STRUCTURED: "longtext",
    },
}


def portable_type(column: Column, backend: str, keyed: bool = False) -> str:
    """A type on ``backend`` that holds the values of ``column`` from another backend.

    ``keyed``: the column is part of a key/index on MySQL, which cannot index
    unbounded text; such text columns become ``varchar``.
    """
    if backend == "mysql" and keyed and column.kind in (ColumnKind.TEXT, ColumnKind.OTHER):
        return f"varchar({min(column.max_length or 255, 768)})"
    if backend in ("postgresql", "mysql") and column.kind is ColumnKind.TEXT and column.max_length:
        return f"varchar({column.max_length})"
    return _PORTABLE[backend][column.kind]


__all__ = ["mysql_kind", "pg_kind", "portable_type", "sqlite_kind"]
