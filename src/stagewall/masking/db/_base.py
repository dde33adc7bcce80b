"""What every database adapter offers the planner, the engine and verification."""

from __future__ import annotations

import enum
import json
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, ClassVar

from stagewall.errors import BackendError, TargetMarkerLocked
from stagewall.masking.db._url import DatabaseURL, Role
from stagewall.masking.schema import Column, Schema, Table

MARKER_TABLE = "stagewall_masking_run"
# How long a run's marker write or a withdrawal waits for the target's marker lock
MARKER_LOCK_SECONDS = 30.0
GENERATED_PREFIX = "GENERATED ALWAYS AS "

Row = tuple[Any, ...]

# Called by every adapter before it hands over a batch it read (iter_rows, iter_columns,
# copy_out): verify sets it to its stop check for its own thread (and its forked
# workers to their stop flag), so a stop request ends a long read at the next batch.
# None (the default, and always in the engine's copy): nothing is asked.
BATCH_CHECK: ContextVar[Callable[[], None] | None] = ContextVar(
    "stagewall_batch_check", default=None
)


def between_batches() -> None:
    """Ask this thread's :data:`BATCH_CHECK`, if any (it raises to stop the read)."""
    check = BATCH_CHECK.get()
    if check is not None:
        check()


class MarkerStatus(enum.Enum):
    RUNNING = "running"
    FAILED = "failed"
    COMPLETE = "complete"


@dataclass(frozen=True)
class Marker:
    """The completion marker a run keeps in the target (table ``stagewall_masking_run``)."""

    run_id: str
    status: MarkerStatus
    plan_sha256: str
    key_id: str
    started_at: str
    finished_at: str | None
    source: str  # JSON of the source identity (never credentials)

    @property
    def complete(self) -> bool:
        return self.status is MarkerStatus.COMPLETE


def is_generated(column: Column) -> bool:
    """A stored generated column: recreated on the target, never copied."""
    return bool(column.default and column.default.startswith(GENERATED_PREFIX))


def copy_columns(table: Table) -> tuple[Column, ...]:
    return tuple(c for c in table.columns if not is_generated(c))


def scrub(message: str, url: DatabaseURL) -> str:
    """A driver message with the password (if any) blanked out."""
    if url.password:
        message = message.replace(url.password, "***")
    return message.strip().splitlines()[0] if message.strip() else "unknown error"


CHECK_REFUSED_HINT = (
    "a transformer wrote values a CHECK constraint of the table refuses: `stagewall mask "
    "lint` names the column (check-constraint); keep it if its values are not personal, "
    "or choose a transformer whose values pass the check"
)


def refused_by_check(exc: BaseException) -> bool:
    """Whether a driver's error is a CHECK constraint refusing a row (PostgreSQL's
    SQLSTATE 23514, SQLite's "CHECK constraint failed", MariaDB's 4025, MySQL's 3819)."""
    if getattr(exc, "sqlstate", None) == "23514":
        return True
    if type(exc).__module__.startswith("sqlite3") and "CHECK constraint failed" in str(exc):
        return True
    args: tuple[object, ...] = tuple(getattr(exc, "args", ()))
    return type(exc).__module__.startswith("pymysql") and args[:1] in ((3819,), (4025,))


class Database(ABC):
    """One open connection to a source or target database."""

    backend: ClassVar[str]
    quote_char: ClassVar[str] = '"'

    def __init__(self, url: DatabaseURL, role: Role) -> None:
        self.url = url
        self.role = role

    # ---- naming ---------------------------------------------------------------
    def q(self, name: str) -> str:
        """Quote one identifier (any characters; the quote char is doubled)."""
        c = self.quote_char
        if "\x00" in name:
            raise BackendError(f"identifier {name!r} contains a NUL character")
        return c + name.replace(c, c + c) + c

    def qt(self, table: Table) -> str:
        if table.schema:
            return f"{self.q(table.schema)}.{self.q(table.name)}"
        return self.q(table.name)

    def qcols(self, names: Sequence[str]) -> str:
        return ", ".join(self.q(n) for n in names)

    def fail(self, what: str, exc: BaseException) -> BackendError:
        return BackendError(
            f"{self.role} database {self.url.display}: {what}: {scrub(str(exc), self.url)}",
            hint=CHECK_REFUSED_HINT if refused_by_check(exc) else None,
        )

    # ---- both sides -------------------------------------------------------------
    @abstractmethod
    def introspect(self, schemas: Sequence[str] | None = None) -> Schema: ...

    @abstractmethod
    def sample(self, table: Table, columns: Sequence[str], n: int) -> dict[str, list[Any]]: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- source -------------------------------------------------------------------
    @abstractmethod
    def begin_read(self, snapshot: str | None = None) -> None:
        """Start the read-only transaction all reads of this run happen in."""

    def export_snapshot(self) -> tuple[str | None, str | None]:
        """(snapshot id, WAL position) where the backend has them."""
        return None, None

    @abstractmethod
    def iter_rows(
        self, table: Table, columns: Sequence[str], where: str | None, batch_rows: int
    ) -> Iterator[list[Row]]:
        """Rows as Python values, in bounded batches."""

    def iter_columns(
        self, table: Table, columns: Sequence[str], where: str | None, batch_rows: int
    ) -> Iterator[tuple[int, list[list[Any]]]]:
        """:meth:`iter_rows` column by column: ``(rows in the batch, one list of
        values per column)`` (what verify reads a column at a time)."""
        for batch in self.iter_rows(table, columns, where, batch_rows):
            cols = [list(c) for c in zip(*batch, strict=True)] if batch else []
            yield len(batch), cols or [[] for _ in columns]

    @abstractmethod
    def select(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """A read query inside the read transaction (subsetting)."""

    # ---- target --------------------------------------------------------------------
    @abstractmethod
    def user_tables(self) -> list[str]:
        """Tables in the target other than the marker table."""

    @abstractmethod
    def drop_all(self) -> None:
        """Remove every user table (``--replace``)."""

    @abstractmethod
    def create_tables(self, schema: Schema, extra_ddl: Sequence[str]) -> None: ...

    @abstractmethod
    def write_rows(self, table: Table, columns: Sequence[Column], rows: list[Row]) -> None: ...

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def finish_tables(self, schema: Schema, jobs: int = 1) -> None:
        """Constraints, indexes and sequences, after the data (``jobs``: connections
        a backend may build them on at once)."""

    @abstractmethod
    def _marker_ddl(self) -> str: ...

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    def marker_name(self) -> str:
        return self.q(MARKER_TABLE)

    def write_marker(self, marker: Marker) -> None:
        self._execute(self._marker_ddl())
        ph = self.placeholder
        self._execute(f"DELETE FROM {self.marker_name()}")  # noqa: S608 - identifiers quoted by q()
        self._execute(
            f"INSERT INTO {self.marker_name()} (run_id, status, plan_sha256, key_id, "  # noqa: S608 - identifiers quoted by q()
            f"started_at, finished_at, source) VALUES ({', '.join([ph] * 7)})",
            (
                marker.run_id,
                marker.status.value,
                marker.plan_sha256,
                marker.key_id,
                marker.started_at,
                marker.finished_at,
                marker.source,
            ),
        )
        self.commit()

    @contextmanager
    def marker_lock(self, seconds: float | None = None) -> Iterator[None]:
        """Hold the target's marker lock: no other connection writes the marker (a run
        starting) while a withdrawal checks it and drops the tables. Waits at most
        ``seconds``, then raises :class:`TargetMarkerLocked` having done nothing."""
        wait = MARKER_LOCK_SECONDS if seconds is None else seconds
        try:
            got = self._lock_marker(wait)
        except BackendError as exc:
            raise TargetMarkerLocked(
                f"{self.role} database {self.url.display}: the marker lock could not be "
                f"taken: {exc.message}"
            ) from None
        if not got:
            raise TargetMarkerLocked(
                f"{self.role} database {self.url.display}: the marker lock was held by "
                f"another connection for over {wait:g} seconds"
            )
        try:
            yield
        except BaseException:
            self._unlock_marker(ok=False)
            raise
        self._unlock_marker(ok=True)

    @abstractmethod
    def _lock_marker(self, seconds: float) -> bool:
        """Take the marker lock within ``seconds``; False when it stayed held."""

    @abstractmethod
    def _unlock_marker(self, ok: bool) -> None:
        """Release the marker lock; ``ok``: what was done under it stands (SQLite
        commits it, else rolls it back; the other backends' writes are their own)."""

    @abstractmethod
    def has_marker_table(self) -> bool: ...

    def read_marker(self) -> Marker | None:
        if not self.has_marker_table():
            return None
        rows = self._execute(
            f"SELECT run_id, status, plan_sha256, key_id, started_at, finished_at, source "  # noqa: S608 - identifiers quoted by q()
            f"FROM {self.marker_name()}"
        )
        if len(rows) != 1:
            return None
        r = rows[0]
        try:
            status = MarkerStatus(r[1])
        except ValueError:
            return None
        return Marker(
            str(r[0]),
            status,
            str(r[2]),
            str(r[3]),
            str(r[4]),
            None if r[5] is None else str(r[5]),
            str(r[6]),
        )

    placeholder: ClassVar[str] = "%s"


def json_default(value: object) -> str:
    return str(value)


def to_json_text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=json_default)


__all__ = [
    "BATCH_CHECK",
    "GENERATED_PREFIX",
    "MARKER_TABLE",
    "Database",
    "Marker",
    "MarkerStatus",
    "Row",
    "between_batches",
    "copy_columns",
    "is_generated",
    "scrub",
    "to_json_text",
]
