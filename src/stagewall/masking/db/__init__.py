"""Database adapters for masking: URL parsing, introspection, sampling, reading, writing.

::

    from stagewall.masking.db import open_database, DatabaseURL
    with open_database("postgresql://app@db:5432/prod") as db:
        schema = db.introspect()
        values = db.sample(schema.tables[0], ["email"], 100)
"""

from __future__ import annotations

from stagewall.errors import ConfigError
from stagewall.masking.db._base import (
    MARKER_TABLE,
    Database,
    Marker,
    MarkerStatus,
    copy_columns,
    is_generated,
)
from stagewall.masking.db._url import DatabaseURL, Role, parse_url


def open_database(
    url: str | DatabaseURL, *, role: Role = "source", read_only: bool | None = None
) -> Database:
    """Connect to ``url``. Sources are opened read-only (``read_only`` defaults by role)."""
    parsed = url if isinstance(url, DatabaseURL) else parse_url(url, role)
    ro = (role == "source") if read_only is None else read_only
    if parsed.backend == "sqlite":
        from stagewall.masking.db._sqlite import SQLiteDatabase

        return SQLiteDatabase(parsed, role, ro)
    if parsed.backend == "postgresql":
        from stagewall.masking.db._postgres import PostgresDatabase

        return PostgresDatabase(parsed, role, ro)
    if parsed.backend == "mysql":
        from stagewall.masking.db._mysql import MySQLDatabase

        return MySQLDatabase(parsed, role, ro)
    raise ConfigError(f"unsupported backend {parsed.backend!r}")  # pragma: no cover


def open_source(url: str | DatabaseURL) -> Database:
    return open_database(url, role="source", read_only=True)


def open_target(url: str | DatabaseURL) -> Database:
    return open_database(url, role="target", read_only=False)


def read_completion_marker(target_url: str | DatabaseURL) -> Marker | None:
    """The target's completion marker, or ``None`` when there is none (or no target).

    ``verify`` refuses a target whose marker is missing or not ``complete``.
    """
    parsed = target_url if isinstance(target_url, DatabaseURL) else parse_url(target_url, "target")
    if parsed.backend == "sqlite" and (parsed.path is None or not parsed.path.exists()):
        return None
    with open_database(parsed, role="target", read_only=True) as db:
        return db.read_marker()


__all__ = [
    "MARKER_TABLE",
    "Database",
    "DatabaseURL",
    "Marker",
    "MarkerStatus",
    "copy_columns",
    "is_generated",
    "open_database",
    "open_source",
    "open_target",
    "parse_url",
    "read_completion_marker",
]
