"""The data contract between classification, planning, transformers and the engine."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ColumnKind(enum.Enum):
    """The logical kind of a column, mapped from each database's type names."""

    TEXT = "text"
    INTEGER = "integer"
    DECIMAL = "decimal"
    FLOAT = "float"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    TIME = "time"
    UUID = "uuid"
    JSON = "json"
    BYTES = "bytes"
    ARRAY = "array"
    # a value with a syntax of its own that is not text: PostgreSQL's bit strings,
    # geometric types, ranges, intervals, enums, composite types, macaddr8. No
    # transformer rewrites one (its output would not parse): kept, or set to NULL.
    STRUCTURED = "structured"
    OTHER = "other"


@dataclass(frozen=True, order=True)
class ColumnRef:
    """A column in a source database: ``schema`` is ``None`` where there is only one."""

    schema: str | None
    table: str
    column: str

    def __str__(self) -> str:
        prefix = f"{self.schema}." if self.schema else ""
        return f"{prefix}{self.table}.{self.column}"


__all__ = ["ColumnKind", "ColumnRef"]
