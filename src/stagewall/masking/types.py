"""The data contract between classification, planning, transformers and the engine."""

from __future__ import annotations

import enum
import re
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


_BINARY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def binary_text(value: bytes | bytearray | memoryview) -> str | None:
    """The text a binary value holds (a ``bytea`` or BLOB of UTF-8: an e-mail, a note,
    a CSV line), or None for binary data (not UTF-8, or control characters other
    than tabs and line breaks). Classification and verify read such a value as text."""
    try:
        text = bytes(value).decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if _BINARY.search(text) else text


__all__ = ["ColumnKind", "ColumnRef", "binary_text"]
