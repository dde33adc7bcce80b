"""MySQL/MariaDB adapter: PyMySQL, one consistent-snapshot read transaction, batched inserts.

Same-backend runs recreate tables from ``SHOW CREATE TABLE``: columns and the
primary key first, then (after the data) unique keys, indexes, checks and
foreign keys.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import pymysql
import pymysql.cursors

from stagewall.errors import BackendError
from stagewall.masking.db._base import (
    GENERATED_PREFIX,
    MARKER_TABLE,
    Database,
    Row,
    between_batches,
)
from stagewall.masking.db._types import mysql_kind, portable_type
from stagewall.masking.db._url import DatabaseURL, Role
from stagewall.masking.schema import Column, ForeignKey, Index, Schema, Table

# the target's marker lock: GET_LOCK names are server-wide, so keyed by the database
_MARKER_LOCK = "CONCAT('stagewall_marker_', SHA1(DATABASE()))"

_DEFERRED = re.compile(r"^\s*(UNIQUE KEY|KEY|FULLTEXT KEY|SPATIAL KEY|CONSTRAINT|INDEX)\b", re.I)
_JSON_CHECK = re.compile(r"json_valid\(`((?:[^`]|``)+)`\)", re.I)


def _adapt(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    return value


class MySQLDatabase(Database):
    backend = "mysql"
    quote_char = "`"

    def __init__(self, url: DatabaseURL, role: Role, read_only: bool) -> None:
        super().__init__(url, role)
        try:
            self.conn = pymysql.connect(
                host=url.host,
                port=url.port or 3306,
                user=url.user or "root",
                password=url.password or "",
                database=url.database,
                charset="utf8mb4",
                connect_timeout=10,
                autocommit=True,
            )
        except pymysql.err.MySQLError as exc:
            raise BackendError(
                f"cannot connect to the {role} database {url.display}: {_reason(exc, url)}",
                hint="check host, port, database name, user and password "
                f"(STAGEWALL_{role.upper()}_PASSWORD or MYSQL_PWD)",
            ) from None
        self.read_only = read_only
        self._create: dict[str, str] = {}
        self._same: dict[str, str] | None = None

    def qt(self, table: Table) -> str:
        return self.q(table.name)

    def close(self) -> None:
        self.conn.close()

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            with self.conn.cursor() as cur:
                cur.execute(sql, tuple(params) if params else None)
                return [tuple(r) for r in cur.fetchall()]
        except pymysql.err.MySQLError as exc:
            raise self.fail("query failed", exc) from None

    def commit(self) -> None:
        return None

    def _lock_marker(self, seconds: float) -> bool:
        # GET_LOCK names are server-wide: keyed by this database. MariaDB's DDL is not
        # transactional, so the lock (not a transaction) is what keeps a run's marker
        # write out of a withdrawal's check-and-drop.
        got = self._execute(f"SELECT GET_LOCK({_MARKER_LOCK}, %s)", (max(0, math.ceil(seconds)),))[
            0
        ][0]
        if got is None:
            raise self.fail("GET_LOCK failed", RuntimeError("GET_LOCK returned NULL"))
        return bool(got)

    def _unlock_marker(self, ok: bool) -> None:
        with contextlib.suppress(BackendError):  # a broken connection: the lock went with it
            self._execute(f"SELECT RELEASE_LOCK({_MARKER_LOCK})")

    # ---- introspection ------------------------------------------------------------------
    def introspect(self, schemas: Sequence[str] | None = None) -> Schema:
        q = self._execute
        names = {
            str(r[0]): r[1]
            for r in q(
                "SELECT TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES "
                # a system-versioned table (MariaDB) is a table: its current rows are
                # copied, its history is not (the target's starts with the masked rows)
                "WHERE TABLE_SCHEMA = DATABASE() "
                "AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED') "
                "AND TABLE_NAME <> %s ORDER BY TABLE_NAME",
                (MARKER_TABLE,),
            )
        }
        checks: dict[str, list[tuple[str, str]]] = {}
        for tname, cname, clause in self._checks():
            checks.setdefault(str(tname), []).append((str(cname), str(clause)))
        cols: dict[str, list[Column]] = {n: [] for n in names}
        for tname, cname, dtype, ctype, nullable, default, extra, maxlen, gen in q(
            "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, "
            "COLUMN_DEFAULT, EXTRA, CHARACTER_MAXIMUM_LENGTH, GENERATION_EXPRESSION "
            "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
            "ORDER BY TABLE_NAME, ORDINAL_POSITION"
        ):
            if tname not in cols:
                continue
            json_cols = {
                m.group(1).replace("``", "`")
                for _n, clause in checks.get(tname, [])
                for m in [_JSON_CHECK.search(clause)]
                if m
            }
            extra = str(extra or "").lower()
            default_text = None if default is None else str(default)
            if "generated" in extra and gen:
                default_text = f"{GENERATED_PREFIX}({gen}) STORED"
            cols[tname].append(
                Column(
                    name=str(cname),
                    kind=mysql_kind(str(dtype), str(ctype), str(cname) in json_cols),
                    db_type=str(ctype),
                    nullable=nullable == "YES",
                    max_length=int(maxlen) if maxlen and dtype in ("varchar", "char") else None,
                    default=default_text,
                    is_identity="auto_increment" in extra,
                )
            )
        pk: dict[str, list[str]] = {}
        idx: dict[str, dict[str, tuple[bool, list[str | None]]]] = {}
        for tname, iname, non_unique, cname in q(
            "SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME "
            "FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() "
            "ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
        ):
            if iname == "PRIMARY":
                pk.setdefault(str(tname), []).append(str(cname))
            else:
                entry = idx.setdefault(str(tname), {}).setdefault(str(iname), (not non_unique, []))
                entry[1].append(None if cname is None else str(cname))
        fks: dict[str, dict[str, list[Any]]] = {}
        for tname, fname, cname, rschema, rtable, rcol, upd, dele in q(
            "SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_SCHEMA, "
            "k.REFERENCED_TABLE_NAME, k.REFERENCED_COLUMN_NAME, r.UPDATE_RULE, r.DELETE_RULE "
            "FROM information_schema.KEY_COLUMN_USAGE k JOIN "
            "information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.TABLE_SCHEMA "
            "AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME "
            "WHERE k.TABLE_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL "
            "ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION"
        ):
            fks.setdefault(str(tname), {}).setdefault(str(fname), []).append(
                (str(cname), rschema, str(rtable), str(rcol), upd, dele)
            )
        partitions: dict[str, list[tuple[str, str, str]]] = {}
        for tname, pname, sub, method, expr, desc in q(
            "SELECT TABLE_NAME, PARTITION_NAME, SUBPARTITION_NAME, PARTITION_METHOD, "
            "PARTITION_EXPRESSION, PARTITION_DESCRIPTION FROM information_schema.PARTITIONS "
            "WHERE TABLE_SCHEMA = DATABASE() AND PARTITION_NAME IS NOT NULL "
            "ORDER BY TABLE_NAME, PARTITION_ORDINAL_POSITION, SUBPARTITION_ORDINAL_POSITION"
        ):
            listed = partitions.setdefault(str(tname), [])
            if sub is not None and listed and listed[-1][0] == str(pname):
                continue  # a sub-partition: its partition's bound is listed once
            listed.append(
                (str(pname), f"{method} ({expr or ''})", "" if desc is None else str(desc))
            )
        tables = []
        for name, est in names.items():
            uniques, indexes = [], []
            for iname, (unique, icols) in sorted(idx.get(name, {}).items()):
                clean = () if None in icols else tuple(str(c) for c in icols)
                if unique and clean:
                    uniques.append(clean)
                else:
                    indexes.append(Index(iname, clean, unique, None))
            foreign = []
            for fname, parts in sorted(fks.get(name, {}).items()):
                rschema = parts[0][1]
                foreign.append(
                    ForeignKey(
                        name=fname,
                        columns=tuple(p[0] for p in parts),
                        ref_schema=None if rschema == self.url.database else str(rschema),
                        ref_table=parts[0][2],
                        ref_columns=tuple(p[3] for p in parts),
                        on_delete=None if parts[0][5] in ("RESTRICT", "NO ACTION") else parts[0][5],
                        on_update=None if parts[0][4] in ("RESTRICT", "NO ACTION") else parts[0][4],
                    )
                )
            tables.append(
                Table(
                    schema=None,
                    name=name,
                    columns=tuple(cols[name]),
                    primary_key=tuple(pk.get(name, ())),
                    foreign_keys=tuple(foreign),
                    unique_constraints=tuple(uniques),
                    indexes=tuple(indexes),
                    check_constraints=tuple(
                        f"CONSTRAINT {self.q(n)} CHECK ({c})" for n, c in checks.get(name, [])
                    ),
                    row_estimate=int(est) if est is not None else None,
                    partitions=tuple(partitions.get(name, ())),
                )
            )
            self._create[name] = str(q(f"SHOW CREATE TABLE {self.q(name)}")[0][1])
        return Schema(backend="mysql", tables=tuple(tables))

    def _checks(self) -> list[Row]:
        try:  # MariaDB has TABLE_NAME in CHECK_CONSTRAINTS
            return self._execute(
                "SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE "
                "FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()"
            )
        except BackendError:  # MySQL 8: through TABLE_CONSTRAINTS
            return self._execute(
                "SELECT t.TABLE_NAME, c.CONSTRAINT_NAME, c.CHECK_CLAUSE "
                "FROM information_schema.CHECK_CONSTRAINTS c "
                "JOIN information_schema.TABLE_CONSTRAINTS t "
                "ON t.CONSTRAINT_SCHEMA = c.CONSTRAINT_SCHEMA "
                "AND t.CONSTRAINT_NAME = c.CONSTRAINT_NAME AND t.CONSTRAINT_TYPE = 'CHECK' "
                "WHERE c.CONSTRAINT_SCHEMA = DATABASE()"
            )

    def same_backend_ddl(self) -> dict[str, str]:
        return dict(self._create)

    def use_source_ddl(self, ddl: dict[str, str]) -> None:
        self._same = ddl

    def sample(self, table: Table, columns: Sequence[str], n: int) -> dict[str, list[Any]]:
        n = max(0, min(int(n), 100_000))
        est = table.row_estimate or 0
        where = f" WHERE RAND() < {min(1.0, 20 * n / est):.6f}" if n and est > 20 * n else ""
        rows = self._execute(
            f"SELECT {self.qcols(columns)} FROM {self.qt(table)}{where} LIMIT {n}"  # noqa: S608
        )
        return {c: [r[i] for r in rows] for i, c in enumerate(columns)}

    # ---- source -----------------------------------------------------------------------
    def begin_read(self, snapshot: str | None = None) -> None:
        self._execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        self._execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")

    def iter_rows(
        self, table: Table, columns: Sequence[str], where: str | None, batch_rows: int
    ) -> Iterator[list[Row]]:
        sql = f"SELECT {self.qcols(columns)} FROM {self.qt(table)}"  # noqa: S608
        if where:
            sql += f" WHERE ({where})"
        types = {c.name: c.db_type.lower() for c in table.columns}
        # BIT(n) arrives as big-endian bytes; its kind is INTEGER, so make it one
        bits = [i for i, c in enumerate(columns) if types.get(c, "").startswith("bit")]
        try:
            with self.conn.cursor(pymysql.cursors.SSCursor) as cur:
                cur.execute(sql)
                while True:
                    batch = cur.fetchmany(batch_rows)
                    if not batch:
                        return
                    between_batches()
                    if not bits:
                        yield [tuple(r) for r in batch]
                        continue
                    rows = [list(r) for r in batch]
                    for r in rows:
                        for i in bits:
                            if isinstance(r[i], bytes):
                                r[i] = int.from_bytes(r[i], "big")
                    yield [tuple(r) for r in rows]
        except pymysql.err.MySQLError as exc:
            raise self.fail(f"reading {table.qualified} failed", exc) from None

    def select(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._execute(sql, params)

    # ---- target ----------------------------------------------------------------------------
    def user_tables(self) -> list[str]:
        rows = self._execute(
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_NAME <> %s",
            (MARKER_TABLE,),
        )
        return sorted(str(r[0]) for r in rows)

    def has_marker_table(self) -> bool:
        return bool(
            self._execute(
                "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                "AND TABLE_NAME = %s",
                (MARKER_TABLE,),
            )
        )

    def _marker_ddl(self) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.marker_name()} (run_id varchar(64) PRIMARY KEY, "
            "status varchar(16) NOT NULL, plan_sha256 varchar(64), key_id varchar(255), "
            "started_at varchar(40), finished_at varchar(40), source text)"
        )

    def drop_all(self) -> None:
        rows = self._execute(
            "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME <> %s",
            (MARKER_TABLE,),
        )
        self._execute("SET FOREIGN_KEY_CHECKS = 0")
        try:
            for name, kind in rows:
                what = "VIEW" if str(kind).upper() == "VIEW" else "TABLE"
                self._execute(f"DROP {what} IF EXISTS {self.q(str(name))}")
        finally:
            self._execute("SET FOREIGN_KEY_CHECKS = 1")

    def _split(self, create: str) -> tuple[str, list[str]]:
        """SHOW CREATE TABLE → (CREATE with columns and primary key, deferred clauses)."""
        head, _, rest = create.partition("(\n")
        body, _, tail = rest.rpartition("\n)")
        keep: list[str] = []
        later: list[str] = []
        for line in body.split("\n"):
            item = line.strip().rstrip(",")
            (later if _DEFERRED.match(item) else keep).append(item)
        tail = re.sub(r"\s*AUTO_INCREMENT=\d+", "", tail)
        return f"{head}(\n  " + ",\n  ".join(keep) + f"\n){tail}", later

    def create_tables(self, schema: Schema, extra_ddl: Sequence[str]) -> None:
        self._deferred: dict[str, list[str]] = {}
        for stmt in extra_ddl:
            self._execute(stmt)
        for t in schema.tables:
            if self._same is not None and t.name in self._same:
                create, later = self._split(self._same[t.name])
            else:
                create, later = self._portable(t)
            try:
                self._execute(create)
            except BackendError as exc:
                raise BackendError(f"creating table {t.qualified}: {exc.message}") from None
            self._deferred[t.name] = later

    def _portable(self, t: Table) -> tuple[str, list[str]]:
        keyed = set(t.primary_key) | {c for u in t.unique_constraints for c in u}
        keyed |= {c for i in t.indexes for c in i.columns}
        keyed |= {c for fk in t.foreign_keys for c in fk.columns}
        parts = []
        for c in t.columns:
            ddl = f"{self.q(c.name)} {portable_type(c, 'mysql', c.name in keyed)}"
            if not c.nullable:
                ddl += " NOT NULL"
            if c.is_identity and t.primary_key == (c.name,):
                ddl += " AUTO_INCREMENT"
            parts.append(ddl)
        if t.primary_key:
            parts.append(f"PRIMARY KEY ({self.qcols(t.primary_key)})")
        later = [f"ADD UNIQUE ({self.qcols(u)})" for u in t.unique_constraints]
        later += [
            f"ADD {'UNIQUE ' if i.unique else ''}INDEX ({self.qcols(i.columns)})"
            for i in t.indexes
            if i.columns
        ]
        later += [
            f"ADD FOREIGN KEY ({self.qcols(fk.columns)}) REFERENCES {self.q(fk.ref_table)} "
            f"({self.qcols(fk.ref_columns)})"
            for fk in t.foreign_keys
        ]
        return f"CREATE TABLE {self.qt(t)} ({', '.join(parts)})", later

    def write_rows(self, table: Table, columns: Sequence[Column], rows: list[Row]) -> None:
        names = [c.name for c in columns]
        sql = (
            f"INSERT INTO {self.qt(table)} ({self.qcols(names)}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(names))})"
        )
        try:
            with self.conn.cursor() as cur:
                cur.executemany(sql, [tuple(_adapt(v) for v in r) for r in rows])
        except pymysql.err.MySQLError as exc:
            raise self.fail(f"writing {table.qualified} failed", exc) from None

    def finish_tables(self, schema: Schema, jobs: int = 1) -> None:
        deferred = getattr(self, "_deferred", {})
        for fk_pass in (False, True):
            for t in schema.tables:
                for clause in deferred.get(t.name, []):
                    if ("FOREIGN KEY" in clause.upper()) != fk_pass:
                        continue
                    stmt = clause if clause.upper().startswith("ADD ") else f"ADD {clause}"
                    try:
                        self._execute(f"ALTER TABLE {self.qt(t)} {stmt}")
                    except BackendError as exc:
                        raise BackendError(
                            f"recreating constraints/indexes of {t.qualified}: {exc.message}",
                            hint=exc.hint,
                        ) from None


def _reason(exc: BaseException, url: DatabaseURL) -> str:
    text = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    if url.password:
        text = text.replace(url.password, "***")
    return text


__all__ = ["MySQLDatabase"]
