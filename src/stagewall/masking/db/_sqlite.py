"""SQLite adapter: the stdlib driver, reads in one read transaction, batched executemany."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import re
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from stagewall.errors import BackendError
from stagewall.masking.db._base import MARKER_TABLE, Database, Row, between_batches
from stagewall.masking.db._types import portable_type, sqlite_kind
from stagewall.masking.db._url import DatabaseURL, Role
from stagewall.masking.schema import Column, ForeignKey, Index, Schema, Table
from stagewall.masking.types import ColumnKind

_BUSY_MS = 5000  # sqlite3's default wait for another connection's lock

_ACTIONS = {"NO ACTION": None}


def _adapt(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bytes):
        return value
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    return str(value)


def _checks(create_sql: str) -> tuple[str, ...]:
    """CHECK clauses of a CREATE TABLE statement (balanced parentheses)."""
    found = []
    for m in re.finditer(r"\bCHECK\s*\(", create_sql, re.IGNORECASE):
        depth, i = 0, m.end() - 1
        while i < len(create_sql):
            ch = create_sql[i]
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0:
                found.append(create_sql[m.start() : i + 1])
                break
            i += 1
    return tuple(found)


# virtual tables whose rows are text indexed for search (FTS3/4/5); their storage
# (shadow tables: ft_content, ft_data, ft_idx, …) holds the text and its words
_FTS = re.compile(r"\s*CREATE\s+VIRTUAL\s+TABLE\b.*\bUSING\s+fts[345]\b", re.I | re.S)
# content=customers: the text lives in another table; content='': nowhere (contentless)
_CONTENT = re.compile(r"\bcontent\s*=\s*(?:'([^']*)'|\"([^\"]*)\"|([A-Za-z_]\w*))", re.I)
_VIRTUAL = re.compile(r"\s*CREATE\s+VIRTUAL\s+TABLE\b", re.I)
_SHADOW_SUFFIXES = (
    "_content", "_data", "_idx", "_docsize", "_config", "_segments", "_segdir", "_stat",
    "_node", "_parent", "_rowid",
)  # fmt: skip


def _shadow_tables(c: sqlite3.Connection, rows: Sequence[tuple[str, str]]) -> set[str]:
    """The shadow tables of the virtual tables (SQLite's ``PRAGMA table_list`` says
    which; before 3.37, the names a virtual table's module gives them)."""
    try:
        return {str(r[1]) for r in c.execute("PRAGMA main.table_list") if r[2] == "shadow"}
    except sqlite3.Error:
        virtual = [n for n, sql in rows if _VIRTUAL.match(sql or "")]
        return {n for n, _ in rows for v in virtual if n in {v + s for s in _SHADOW_SUFFIXES}}


class SQLiteDatabase(Database):
    backend = "sqlite"
    placeholder = "?"

    def __init__(self, url: DatabaseURL, role: Role, read_only: bool) -> None:
        super().__init__(url, role)
        path = url.path
        if path is None:
            raise BackendError("SQLite URL without a path")
        if read_only and not path.exists():
            raise BackendError(
                f"{role} database {url.display}: the file does not exist",
                hint="check the path in the URL",
            )
        try:
            if read_only:
                self.conn = sqlite3.connect(
                    f"{path.absolute().as_uri()}?mode=ro",
                    uri=True,
                    isolation_level=None,
                    check_same_thread=False,
                )
                self.conn.execute("PRAGMA query_only = 1")
            else:
                self.conn = sqlite3.connect(
                    str(path), isolation_level=None, check_same_thread=False
                )
            self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.Error as exc:
            raise self.fail("cannot open", exc) from None
        self._in_tx = False
        self._marker_held = False
        self._create_sql: dict[str, str] = {}
        self._index_sql: dict[str, list[str]] = {}
        self._same_ddl: dict[str, Any] | None = None
        self._fulltext_external: list[str] = []  # full-text tables over another table
        self._fulltext_target: list[str] = []

    def qt(self, table: Table) -> str:
        return self.q(table.name)  # one namespace: the schema (if any) is dropped

    def close(self) -> None:
        self.conn.close()

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            if not self._in_tx and not self.conn.in_transaction:
                self.conn.execute("BEGIN")
            return [tuple(r) for r in self.conn.execute(sql, tuple(params)).fetchall()]
        except sqlite3.Error as exc:
            raise self.fail("query failed", exc) from None

    def commit(self) -> None:
        if self.conn.in_transaction and not self._marker_held:
            self.conn.execute("COMMIT")

    def _lock_marker(self, seconds: float) -> bool:
        # The write lock of the whole file: every write (a run's marker among them)
        # waits until the marker lock's transaction ends; what is done under it is one
        # transaction (SQLite's DDL is transactional), committed when it is released.
        try:
            self.commit()
            self.conn.execute(f"PRAGMA busy_timeout = {max(0, int(seconds * 1000))}")
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    return False
                raise
            finally:
                self.conn.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
        except sqlite3.Error as exc:
            raise self.fail("BEGIN IMMEDIATE failed", exc) from None
        self._marker_held = True
        return True

    def _unlock_marker(self, ok: bool) -> None:
        self._marker_held = False
        if self.conn.in_transaction:
            try:
                self.conn.execute("COMMIT" if ok else "ROLLBACK")
            except sqlite3.Error as exc:
                if ok:
                    raise self.fail("commit failed", exc) from None

    # ---- introspection -------------------------------------------------------------
    def introspect(self, schemas: Sequence[str] | None = None) -> Schema:
        try:
            return self._introspect()
        except sqlite3.Error as exc:
            raise self.fail("introspection failed", exc) from None

    def _introspect(self) -> Schema:
        c = self.conn
        tables = []
        rows = c.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> ? ORDER BY name",
            (MARKER_TABLE,),
        ).fetchall()
        shadow = _shadow_tables(c, rows)
        self._fulltext_external = []
        for name, create_sql in rows:
            if name in shadow:
                continue  # a virtual table's own storage: rebuilt when its rows are written
            qn = self.q(name)
            cols = []
            pk: list[tuple[int, str]] = []
            fts = _FTS.match(create_sql or "")
            if fts:
                # rows of a full-text table are linked to other tables by rowid: kept
                cols.append(Column(name="rowid", kind=ColumnKind.INTEGER, db_type="INTEGER"))
                content = _CONTENT.search(create_sql or "")
                if content and any(content.groups()):  # not contentless: rebuilt from it
                    self._fulltext_external.append(name)
            for _cid, cname, ctype, notnull, default, pkpos, hidden in c.execute(
                f"PRAGMA table_xinfo({qn})"
            ):
                if hidden == 1:
                    continue  # virtual-table hidden column
                gen = None
                if hidden in (2, 3):
                    gen = "GENERATED ALWAYS AS (...) " + ("STORED" if hidden == 3 else "VIRTUAL")
                if pkpos:
                    pk.append((pkpos, cname))
                m = re.search(r"\((\d+)\)", ctype or "")
                cols.append(
                    Column(
                        name=cname,
                        kind=sqlite_kind(ctype or ""),
                        db_type=ctype or "",
                        nullable=not notnull and not pkpos,
                        max_length=int(m.group(1)) if m and "CHAR" in ctype.upper() else None,
                        default=gen if gen else default,
                        is_identity=False,
                    )
                )
            pk_cols = tuple(n for _, n in sorted(pk))
            if len(pk_cols) == 1:
                col = next(x for x in cols if x.name == pk_cols[0])
                if col.db_type.upper() == "INTEGER":  # rowid alias: auto-assigned
                    cols = [
                        Column(**{**x.__dict__, "is_identity": True}) if x is col else x
                        for x in cols
                    ]
            fks: dict[int, list[Any]] = {}
            for fid, _seq, ref, frm, to, on_upd, on_del, _match in c.execute(
                f"PRAGMA foreign_key_list({qn})"
            ):
                fks.setdefault(fid, []).append((frm, to, ref, on_upd, on_del))
            foreign = []
            for fid in sorted(fks):
                parts = fks[fid]
                ref_table = parts[0][2]
                to_cols = [p[1] for p in parts]
                if any(t is None for t in to_cols):  # REFERENCES parent (implicit PK)
                    ref_pk = [
                        r[1]
                        for r in sorted(
                            c.execute(f"PRAGMA table_info({self.q(ref_table)})"),
                            key=lambda r: r[5],
                        )
                        if r[5]
                    ]
                    to_cols = ref_pk
                foreign.append(
                    ForeignKey(
                        name=None,
                        columns=tuple(p[0] for p in parts),
                        ref_schema=None,
                        ref_table=ref_table,
                        ref_columns=tuple(to_cols),
                        on_delete=_ACTIONS.get(parts[0][4], parts[0][4]),
                        on_update=_ACTIONS.get(parts[0][3], parts[0][3]),
                    )
                )
            uniques, indexes, index_sql = [], [], []
            for _seq, iname, unique, origin, _partial in c.execute(f"PRAGMA index_list({qn})"):
                icols = tuple(r[2] for r in c.execute(f"PRAGMA index_info({self.q(iname)})"))
                if origin == "pk":
                    continue
                if any(x is None for x in icols):
                    icols = ()  # expression index
                if origin == "u":
                    uniques.append(icols)
                    continue
                sql_row = c.execute(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", (iname,)
                ).fetchone()
                definition = sql_row[0] if sql_row else None
                if definition:
                    index_sql.append(definition)
                indexes.append(Index(iname, icols, bool(unique), definition))
            self._create_sql[name] = create_sql
            self._index_sql[name] = index_sql
            count = c.execute(f"SELECT count(*) FROM {qn}").fetchone()[0]  # noqa: S608 - identifiers quoted by q()
            tables.append(
                Table(
                    schema=None,
                    name=name,
                    columns=tuple(cols),
                    primary_key=pk_cols,
                    foreign_keys=tuple(foreign),
                    unique_constraints=tuple(sorted(uniques)),
                    indexes=tuple(sorted(indexes, key=lambda i: i.name)),
                    check_constraints=_checks(create_sql or ""),
                    row_estimate=int(count),
                )
            )
        return Schema(backend="sqlite", tables=tuple(tables))

    def same_backend_ddl(self) -> dict[str, Any]:
        """Original CREATE statements, for an exact SQLite → SQLite recreation, without
        their comments: SQLite keeps a CREATE as it was written, ``-- owner:
        alice@corp.com`` included, and a comment is no part of the schema."""
        from stagewall.masking._definitions import split_sql

        def bare(sql: str) -> str:
            return split_sql(sql, "sqlite")[2]

        return {
            "tables": {t: bare(sql) for t, sql in self._create_sql.items()},
            "indexes": {t: [bare(sql) for sql in ix] for t, ix in self._index_sql.items()},
            "fulltext_external": list(self._fulltext_external),
        }

    def sample(self, table: Table, columns: Sequence[str], n: int) -> dict[str, list[Any]]:
        n = max(0, min(int(n), 100_000))
        sql = (
            f"SELECT {self.qcols(columns)} FROM {self.qt(table)} "  # noqa: S608 - identifiers quoted by q()
            f"WHERE rowid IN (SELECT rowid FROM {self.qt(table)} ORDER BY random() LIMIT ?)"
        )
        if (
            table.name not in self._create_sql
            or "WITHOUT ROWID" in self._create_sql[table.name].upper()
        ):
            sql = f"SELECT {self.qcols(columns)} FROM {self.qt(table)} LIMIT ?"  # noqa: S608 - identifiers quoted by q()
        rows = self._execute(sql, (n,))
        return {c: [r[i] for r in rows] for i, c in enumerate(columns)}

    # ---- source ----------------------------------------------------------------------
    def begin_read(self, snapshot: str | None = None) -> None:
        self.commit()
        self.conn.execute("BEGIN")
        self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        self._in_tx = True

    def iter_rows(
        self, table: Table, columns: Sequence[str], where: str | None, batch_rows: int
    ) -> Iterator[list[Row]]:
        sql = f"SELECT {self.qcols(columns)} FROM {self.qt(table)}"  # noqa: S608 - identifiers quoted by q()
        if where:
            sql += f" WHERE ({where})"
        try:
            cur = self.conn.execute(sql)
            while True:
                batch = cur.fetchmany(batch_rows)
                if not batch:
                    return
                between_batches()
                yield [tuple(r) for r in batch]
        except sqlite3.Error as exc:
            raise self.fail(f"reading {table.qualified} failed", exc) from None

    def select(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._execute(sql, params)

    # ---- target --------------------------------------------------------------------------
    def user_tables(self) -> list[str]:
        rows = self._execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> ?",
            (MARKER_TABLE,),
        )
        return sorted(str(r[0]) for r in rows)

    def has_marker_table(self) -> bool:
        return bool(
            self._execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (MARKER_TABLE,)
            )
        )

    def drop_all(self) -> None:
        self.conn.execute("PRAGMA foreign_keys = OFF")
        for name in self.user_tables():
            self._execute(f"DROP TABLE {self.q(name)}")
        self.commit()

    def _marker_ddl(self) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.marker_name()} (run_id TEXT PRIMARY KEY, "
            "status TEXT NOT NULL, plan_sha256 TEXT, key_id TEXT, started_at TEXT, "
            "finished_at TEXT, source TEXT)"
        )

    def create_tables(self, schema: Schema, extra_ddl: Sequence[str]) -> None:
        self.conn.execute("PRAGMA foreign_keys = OFF")
        for stmt in extra_ddl:
            self._execute(stmt)
        if schema.backend != "sqlite":
            names = [t.name for t in schema.tables]
            dup = {n for n in names if names.count(n) > 1}
            if dup:
                raise BackendError(
                    f"tables {sorted(dup)} exist in several schemas; SQLite has one namespace",
                    hint="mask into a PostgreSQL target, or mask one schema at a time",
                )
            for t in schema.tables:
                self._execute(self._portable_create(t))
        self.commit()

    def _portable_create(self, t: Table) -> str:
        parts = []
        for c in t.columns:
            ddl = f"{self.q(c.name)} {portable_type(c, 'sqlite')}"
            if t.primary_key == (c.name,) and c.is_identity and c.kind.value == "integer":
                ddl = f"{self.q(c.name)} INTEGER PRIMARY KEY"
            elif not c.nullable:
                ddl += " NOT NULL"
            parts.append(ddl)
        if t.primary_key and not any("PRIMARY KEY" in p for p in parts):
            parts.append(f"PRIMARY KEY ({self.qcols(t.primary_key)})")
        for u in t.unique_constraints:
            if u:
                parts.append(f"UNIQUE ({self.qcols(u)})")
        for fk in t.foreign_keys:
            parts.append(
                f"FOREIGN KEY ({self.qcols(fk.columns)}) REFERENCES {self.q(fk.ref_table)} "
                f"({self.qcols(fk.ref_columns)})"
            )
        return f"CREATE TABLE {self.qt(t)} ({', '.join(parts)})"

    def rebuild_fulltext(self) -> None:
        """Full-text tables over another table's content (``content=customers``): the
        index is rebuilt from the masked content table, as the application sees it."""
        for name in self._fulltext_target:
            try:
                q = self.q(name)
                self._execute(f"INSERT INTO {q} ({q}) VALUES ('rebuild')")  # noqa: S608 - identifiers quoted by q()
            except BackendError as exc:
                raise BackendError(f"rebuilding full-text table {name}: {exc.message}") from None

    def create_same_backend(self, ddl: dict[str, Any]) -> None:
        self.conn.execute("PRAGMA foreign_keys = OFF")
        for stmt in ddl["tables"].values():
            self._execute(stmt)
        self.commit()
        self._same_ddl = ddl
        self._fulltext_target = list(ddl.get("fulltext_external", []))

    def write_rows(self, table: Table, columns: Sequence[Column], rows: list[Row]) -> None:
        names = [c.name for c in columns]
        sql = (
            f"INSERT INTO {self.qt(table)} ({self.qcols(names)}) "  # noqa: S608 - identifiers quoted by q()
            f"VALUES ({', '.join('?' * len(names))})"
        )
        try:
            if not self.conn.in_transaction:
                self.conn.execute("BEGIN")
            self.conn.executemany(sql, ([_adapt(v) for v in r] for r in rows))
        except sqlite3.Error as exc:
            raise self.fail(f"writing {table.qualified} failed", exc) from None

    def finish_tables(self, schema: Schema, jobs: int = 1) -> None:
        for t in schema.tables:
            if self._same_ddl is not None:
                stmts = self._same_ddl["indexes"].get(t.name, [])
            else:
                stmts = [
                    f"CREATE {'UNIQUE ' if ix.unique else ''}INDEX {self.q(ix.name)} "
                    f"ON {self.qt(t)} ({self.qcols(ix.columns)})"
                    for ix in t.indexes
                    if ix.columns
                ]
            for stmt in stmts:
                try:
                    self._execute(stmt)
                except BackendError as exc:
                    raise BackendError(
                        f"creating an index on {t.qualified}: {exc.message}"
                    ) from None
        self.rebuild_fulltext()
        self.commit()
        bad = self._execute("PRAGMA foreign_key_check")
        if bad:
            raise BackendError(
                f"target has {len(bad)} rows whose foreign key does not resolve "
                f"(first in table {bad[0][0]!r})"
            )


__all__ = ["SQLiteDatabase"]
