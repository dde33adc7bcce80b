"""What introspection of a source database produces: the contract between the
database adapters (``masking/db``), planning/linting and verification.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stagewall.masking.types import ColumnKind


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind
    db_type: str  # the type as the source database spells it, e.g. "character varying(255)"
    nullable: bool = True
    max_length: int | None = None  # character length limit, if any
    default: str | None = None  # server default expression as text (sequences, ...)
    is_identity: bool = False  # serial/identity/auto-increment
    # PostgreSQL: the last value its sequence handed out on the source (None: unused,
    # unreadable, or another database); the target's sequence continues from there
    sequence_value: int | None = field(default=None, compare=False)
    # PostgreSQL: the labels of the column's enum type (None: not an enum); the
    # labels are schema, copied with the type whatever the rows hold
    labels: tuple[str, ...] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class ForeignKey:
    name: str | None
    columns: tuple[str, ...]
    ref_schema: str | None
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str | None = None
    on_update: str | None = None
    # a polymorphic reference (``_references.polymorphic``; never declared): only
    # rows whose first column holds ``tag`` reference the table, by the other columns
    tag: str | None = None


@dataclass(frozen=True)
class Index:
    name: str
    columns: tuple[str, ...]  # empty when the index is on expressions (see ``definition``)
    unique: bool
    definition: str | None = None  # full DDL where the backend gives it (PostgreSQL)


@dataclass(frozen=True)
class Table:
    schema: str | None  # None on SQLite/MySQL (the database is the schema)
    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    unique_constraints: tuple[tuple[str, ...], ...] = ()
    indexes: tuple[Index, ...] = ()
    check_constraints: tuple[str, ...] = ()  # DDL text of each CHECK, where available
    row_estimate: int | None = None
    # a partitioned table's partitions, nested ones too: (partition, the key of the
    # table it is a partition of, its bound), e.g. ("users_vip", "LIST (email)",
    # "FOR VALUES IN ('…')"); a bound holds values of the key's columns
    partitions: tuple[tuple[str, str, str], ...] = field(default=(), compare=False)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}" if self.schema else self.name

    def column(self, name: str) -> Column | None:
        for c in self.columns:
            if c.name == name:
                return c
        return None

    def is_unique(self, column: str) -> bool:
        """True when ``column`` alone is a primary key, unique constraint or unique index."""
        single = (column,)
        return (
            self.primary_key == single
            or single in self.unique_constraints
            or any(ix.unique and ix.columns == single for ix in self.indexes)
        )

    def in_unique_set(self, column: str) -> bool:
        """True when ``column`` is part of any primary key or unique constraint/index."""
        return (
            column in self.primary_key
            or any(column in u for u in self.unique_constraints)
            or any(ix.unique and column in ix.columns for ix in self.indexes)
        )


@dataclass(frozen=True)
class CheckedReference:
    """A column the schema declares no foreign key for, whose name suggests a
    reference the name alone does not settle (``owner_id``, ``cust_id``, ``person``),
    checked against the source's values (``masking/_references.py``): ``parent`` is
    the one table of ``candidates`` whose key holds every value sampled, or None
    (not taken: none or several hold them, or nothing was sampled)."""

    table: str  # qualified
    column: str
    why: str  # what in the name made it a candidate
    candidates: tuple[str, ...]  # qualified tables whose key has the column's type
    parent: str | None
    evidence: str  # what the values showed, as a sentence's end
    # a polymorphic reference: the column naming the parent's type, and the value
    # of it that names ``parent`` (``commentable_type = 'Customer'``)
    type_column: str | None = None
    tag: str | None = None


@dataclass(frozen=True)
class Schema:
    backend: str  # "sqlite" | "postgresql" | "mysql"
    tables: tuple[Table, ...] = field(default_factory=tuple)
    # the undeclared references checked against the source's values (None: not
    # checked; ``_references.checked`` fills it in the run's or verify's snapshot)
    checked: tuple[CheckedReference, ...] | None = field(default=None, compare=False)

    def table(self, qualified: str) -> Table | None:
        for t in self.tables:
            if t.qualified == qualified:
                return t
        return None


__all__ = ["CheckedReference", "Column", "ForeignKey", "Index", "Schema", "Table"]
