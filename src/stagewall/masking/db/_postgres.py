"""PostgreSQL adapter: psycopg 3, COPY text both ways, one exported snapshot for all readers."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from psycopg import sql as pgsql
from psycopg.pq import ExecStatus, Format

from stagewall.errors import BackendError
from stagewall.masking.db._base import (
    MARKER_TABLE,
    Database,
    Row,
    between_batches,
    is_generated,
)
from stagewall.masking.db._pg_introspect import PgDDL, introspect
from stagewall.masking.db._pgtext import (
    JSON_OIDS,
    TEXT_OIDS,
    decode_int_column,
    decode_json_column,
    decode_numeric_column,
    decode_text_column,
    encode,
    loaded_column,
    make_decoder,
    use_lenient_dates,
)
from stagewall.masking.db._types import portable_type
from stagewall.masking.db._url import DatabaseURL, Role
from stagewall.masking.schema import Column, Schema, Table
from stagewall.masking.types import ColumnKind

# the target's marker lock (advisory locks are keyed per database): "stagewall.marker"
_MARKER_LOCK = int.from_bytes(hashlib.sha256(b"stagewall.marker").digest()[:8], "big", signed=True)

_SYSTEM = "('pg_catalog', 'information_schema')"
BATCH_BYTES = 16 * 1024 * 1024
_SESSION = (
    b"SET DateStyle = 'ISO, YMD'; SET TimeZone = 'UTC'; SET IntervalStyle = 'postgres'; "
    b"SET extra_float_digits = 3"
)


# psycopg's own text loaders (pure Python or its C build) of integers and numerics
_NUMBER_DECODERS = {
    (oid, module, name): decode
    for module in ("psycopg.types.numeric", "psycopg_binary._psycopg", "psycopg_c._psycopg")
    for oids, name, decode in (
        ((20, 21, 23), "IntLoader", decode_int_column),
        ((1700,), "NumericLoader", decode_numeric_column),
    )
    for oid in oids
}


def _plain_json(loader: Any) -> bool:
    """psycopg's json/jsonb text loader, loading with the standard ``json.loads``."""
    return (
        loader.__module__ == "psycopg.types.json"
        and loader.__name__ in ("JsonLoader", "JsonbLoader")
        and getattr(loader, "_loads", None) is json.loads
    )


class CopyWriter:
    def __init__(self, copy: Any) -> None:
        self._copy = copy

    def write(self, data: bytes) -> None:
        self._copy.write(data)


class PostgresDatabase(Database):
    backend = "postgresql"

    def __init__(self, url: DatabaseURL, role: Role, read_only: bool) -> None:
        super().__init__(url, role)
        kwargs: dict[str, Any] = dict(url.params)
        kwargs.setdefault("connect_timeout", 10)
        kwargs.setdefault("application_name", f"stagewall-mask-{role}")
        try:
            self.conn = psycopg.connect(
                host=url.host,
                port=url.port,
                dbname=url.database,
                user=url.user,
                password=url.password,
                autocommit=True,
                **kwargs,
            )
        except psycopg.Error as exc:
            raise BackendError(
                f"cannot connect to the {role} database {url.display}: {_reason(exc, url)}",
                hint="check host, port, database name, user and password "
                f"(STAGEWALL_{role.upper()}_PASSWORD or PGPASSWORD)",
            ) from None
        try:
            # COPY text must not depend on server or role defaults: dates in ISO
            # order, instants in UTC (date_shift derives its offsets from this text)
            self.conn.execute(_SESSION)
            # 'infinity', years after 9999 and BC dates arrive as text, not a DataError
            use_lenient_dates(self.conn)
        except psycopg.Error as exc:
            self.conn.close()
            raise self.fail("cannot set the session parameters", exc) from None
        self.read_only = read_only
        self.ddl: PgDDL | None = None
        self._same: PgDDL | None = None
        self._in_tx = False
        self._oids: dict[str, dict[str, int]] = {}
        self._children: dict[str, bool] = {}  # table → is an inheritance parent
        # schema objects beyond tables recreated on this target, or skipped with why
        self.objects_created: list[str] = []
        self.objects_skipped: list[tuple[str, str]] = []
        # objects the plan acknowledges (``acknowledged:``, as lint names them)
        self.acknowledged: frozenset[str] = frozenset()

    def close(self) -> None:
        try:
            if self._in_tx:
                self.conn.execute("ROLLBACK")
        except psycopg.Error:
            pass
        self.conn.close()

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        try:
            cur = self.conn.execute(sql.encode(), tuple(params) if params else None)
            return [tuple(r) for r in cur.fetchall()] if cur.description else []
        except psycopg.Error as exc:
            raise self.fail("query failed", exc) from None

    def commit(self) -> None:
        return None  # autocommit, or explicit transactions by the caller

    def _lock_marker(self, seconds: float) -> bool:
        # A session advisory lock of this database (advisory locks are per database):
        # tried, not waited on, so the wait is bounded whatever lock_timeout says.
        deadline = time.monotonic() + seconds
        while True:
            if self._execute("SELECT pg_catalog.pg_try_advisory_lock(%s)", (_MARKER_LOCK,))[0][0]:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))

    def _unlock_marker(self, ok: bool) -> None:
        with suppress(psycopg.Error):  # a broken connection: the lock went with its session
            self.conn.execute("SELECT pg_catalog.pg_advisory_unlock(%s)", (_MARKER_LOCK,))

    # ---- introspection ------------------------------------------------------------
    def introspect(self, schemas: Sequence[str] | None = None) -> Schema:
        try:
            with self.conn.transaction(), self.conn.cursor() as cur:
                schema, self.ddl = introspect(cur, schemas)
        except psycopg.Error as exc:
            raise self.fail("introspection failed", exc) from None
        return schema

    def sample(self, table: Table, columns: Sequence[str], n: int) -> dict[str, list[Any]]:
        n = max(0, min(int(n), 100_000))
        est = table.row_estimate or 0
        tablesample = ""
        if est > 20 * n and n:
            pct = min(100.0, 100.0 * 20 * n / est)
            tablesample = f" TABLESAMPLE SYSTEM ({pct:.6f})"
        query = f"SELECT {self.qcols(columns)} FROM {self.qt(table)}{tablesample} LIMIT {n}"  # noqa: S608 - identifiers quoted by q()
        rows = self._execute(query)
        return {c: [r[i] for r in rows] for i, c in enumerate(columns)}

    # ---- source ---------------------------------------------------------------------
    def begin_read(self, snapshot: str | None = None) -> None:
        try:
            self.conn.execute(b"BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            self._in_tx = True
            if snapshot:
                self.conn.execute(
                    pgsql.SQL("SET TRANSACTION SNAPSHOT {}").format(pgsql.Literal(snapshot))
                )
        except psycopg.Error as exc:
            raise self.fail("cannot start the read snapshot", exc) from None

    def export_snapshot(self) -> tuple[str | None, str | None]:
        """Export the read snapshot (for parallel readers) and note the WAL position.

        Must be the first statements of the transaction; a replica has no current
        WAL position, so its replay position is recorded instead.
        """
        try:
            row = self.conn.execute(b"SELECT pg_catalog.pg_export_snapshot()").fetchone()
        except psycopg.Error as exc:
            raise self.fail("cannot export the read snapshot", exc) from None
        snap = str(row[0]) if row else None
        lsn = None
        for query in (
            b"SELECT pg_catalog.pg_current_wal_lsn()::text",
            b"SELECT pg_catalog.pg_last_wal_replay_lsn()::text",
        ):
            try:
                self.conn.execute(b"SAVEPOINT sw_probe")
                value = self.conn.execute(query).fetchone()
                self.conn.execute(b"RELEASE SAVEPOINT sw_probe")
            except psycopg.Error:
                self.conn.execute(b"ROLLBACK TO SAVEPOINT sw_probe")
                continue
            if value and value[0] is not None:
                lsn = str(value[0])
                break
        return snap, lsn

    def copy_out(
        self, table: Table, columns: Sequence[str], where: str | None, batch_rows: int
    ) -> Iterator[list[bytes]]:
        """COPY text rows (each ending in ``\\n``), in batches of at most ``batch_rows``.

        A batch also ends once it holds :data:`BATCH_BYTES` (wide rows: long texts,
        JSON documents), so memory stays bounded by bytes, not only by rows.

        Reads with libpq's blocking ``PQgetCopyData`` directly: one C call per row
        instead of psycopg's generic generator machinery (several times faster).
        """
        only = "ONLY " if self._has_children(table) else ""
        query = f"COPY (SELECT {self.qcols(columns)} FROM {only}{self.qt(table)}"  # noqa: S608
        if where:
            query += f" WHERE ({where})"
        query += ") TO STDOUT"
        pgconn = self.conn.pgconn
        with self.conn.lock:
            pgconn.send_query(query.encode())
            res = pgconn.get_result()
            if res is None or res.status != ExecStatus.COPY_OUT:
                message = res.error_message.decode(errors="replace") if res else "no result"
                while pgconn.get_result() is not None:
                    pass
                raise self.fail(f"reading {table.qualified} failed", RuntimeError(message))
            get = pgconn.get_copy_data
            batch: list[bytes] = []
            size = 0
            finished = False
            try:
                while True:
                    n, data = get(0)
                    if n < 0:
                        break
                    batch.append(bytes(data))
                    size += n
                    if len(batch) >= batch_rows or size >= BATCH_BYTES:
                        between_batches()
                        yield batch
                        batch = []
                        size = 0
                finished = True
            finally:
                if not finished:  # abandoned mid-COPY: this connection cannot be reused
                    self.conn.close()
            if batch:
                between_batches()
                yield batch
            final = pgconn.get_result()
            while pgconn.get_result() is not None:
                pass
            if final is None or final.status != ExecStatus.COMMAND_OK:
                message = final.error_message.decode(errors="replace") if final else "no result"
                raise self.fail(f"reading {table.qualified} failed", RuntimeError(message))

    def _has_children(self, table: Table) -> bool:
        """Whether ``table`` is an inheritance parent (not a partitioned table): its
        children are tables of their own, so it is read ``ONLY`` (else their rows
        would be copied twice, once through the parent)."""
        cache = self._children
        if table.qualified not in cache:
            rows = self._execute(
                "SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_inherits i "
                "JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = %s::regclass AND NOT c.relispartition)",
                (self.qt(table),),
            )
            cache[table.qualified] = bool(rows and rows[0][0])
        return cache[table.qualified]

    def decoders(
        self,
        table: Table,
        columns: Sequence[str],
        as_text: frozenset[str] = frozenset(),
        *,
        numbers: bool = False,
    ) -> list[Any]:
        """Per column: a function decoding a list of COPY text fields to Python values.

        Columns in ``as_text`` (and text columns) are decoded to ``str`` only. With
        ``numbers``, integer and numeric columns whose loader is psycopg's own are
        decoded a column at a time (the same values: ``decode_int_column``), and the
        others with one ``map`` of their loader (``loaded_column``).
        """
        oids = self._column_oids(table)
        out: list[Any] = []
        for c in columns:
            oid = oids.get(c, 0)
            if oid in TEXT_OIDS or c in as_text:
                out.append(decode_text_column)
                continue
            cls = self.conn.adapters.get_loader(oid, Format.TEXT)
            if numbers and cls is not None:
                fast = _NUMBER_DECODERS.get((oid, cls.__module__, cls.__name__))
                if fast is not None:
                    out.append(fast)
                    continue
            if oid in JSON_OIDS and cls is not None and _plain_json(cls):
                out.append(decode_json_column)
                continue
            if numbers and cls is not None:
                out.append(loaded_column(cls(oid, self.conn)))
                continue
            one = make_decoder(cls(oid, self.conn) if cls is not None else None)
            out.append(lambda fields, one=one: [one(f) for f in fields])
        return out

    def _column_oids(self, table: Table) -> dict[str, int]:
        if table.qualified not in self._oids:
            rows = self._execute(
                "SELECT attname, atttypid::int FROM pg_catalog.pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (self.qt(table),),
            )
            self._oids[table.qualified] = {str(r[0]): int(r[1]) for r in rows}
        return self._oids[table.qualified]

    def iter_rows(
        self, table: Table, columns: Sequence[str], where: str | None, batch_rows: int
    ) -> Iterator[list[Row]]:
        decs = self.decoders(table, columns)
        for lines in self.copy_out(table, columns, where, batch_rows):
            fields = [line[:-1].split(b"\t") for line in lines]
            cols = [dec([f[i] for f in fields]) for i, dec in enumerate(decs)]
            yield list(zip(*cols, strict=True)) if cols else [() for _ in lines]

    def iter_columns(
        self, table: Table, columns: Sequence[str], where: str | None, batch_rows: int
    ) -> Iterator[tuple[int, list[list[Any]]]]:
        """:meth:`iter_rows` column by column, without building rows: a batch's
        fields are split in one pass (COPY text escapes tabs and newlines inside
        fields, so every tab and newline ends a field) and each column is a slice."""
        decs = self.decoders(table, columns, numbers=True)
        n = len(columns)
        for lines in self.copy_out(table, columns, where, batch_rows):
            m = len(lines)
            if not n:
                yield m, []
                continue
            flat = b"".join(lines).replace(b"\n", b"\t").split(b"\t")
            if len(flat) != m * n + 1:  # not one field per column and row: row by row
                fields = [line[:-1].split(b"\t") for line in lines]
                yield m, [dec([f[i] for f in fields]) for i, dec in enumerate(decs)]
                continue
            yield m, [dec(flat[i : m * n : n]) for i, dec in enumerate(decs)]

    def select(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._execute(sql, params)

    def select_scan(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """A query that reads whole tables for the few rows a filter passes (the
        schema-name check's look-ups): PostgreSQL's parallel workers may share the
        read. The planner takes a filter such as ``lower(x) = ANY(words)`` to pass a
        large share of the rows, which makes gathering them from workers look dear
        and keeps the plan serial; for this query only, gathering a row is costed as
        free (``parallel_tuple_cost``; the setting is put back afterwards, also
        inside the caller's transaction)."""
        try:
            old = self.conn.execute(b"SELECT current_setting('parallel_tuple_cost')").fetchone()
            with self.conn.transaction():
                self.conn.execute(b"SELECT set_config('parallel_tuple_cost', '0', true)")
                rows = self._execute(sql, params)
                if old is not None:
                    self.conn.execute(
                        b"SELECT set_config('parallel_tuple_cost', %s, true)", (str(old[0]),)
                    )
        except psycopg.Error as exc:
            raise self.fail("query failed", exc) from None
        return rows

    def ranges(self, table: Table, parts: int, min_pages: int) -> list[str | None]:
        """ctid page ranges splitting a plain table into ``parts`` for parallel readers."""
        rows = self._execute(
            "SELECT c.relkind, pg_catalog.pg_relation_size(c.oid) / "
            "current_setting('block_size')::bigint FROM pg_catalog.pg_class c "
            "WHERE c.oid = %s::regclass",
            (self.qt(table),),
        )
        if not rows or rows[0][0] != "r" or parts < 2 or int(rows[0][1]) < min_pages:
            return [None]
        pages = int(rows[0][1])
        step = -(-pages // parts)
        out: list[str | None] = []
        for i in range(parts):
            lo, hi = i * step, (i + 1) * step
            cond = f"ctid >= '({lo},0)'::tid"
            if i < parts - 1:
                cond += f" AND ctid < '({hi},0)'::tid"
            out.append(cond)
        return out

    # ---- target -----------------------------------------------------------------------
    def user_tables(self) -> list[str]:
        rows = self._execute(
            "SELECT n.nspname || '.' || c.relname FROM pg_catalog.pg_class c "  # noqa: S608 - identifiers quoted by q()
            "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND n.nspname NOT IN {_SYSTEM} "
            "AND n.nspname !~ '^pg_(toast|temp)' "
            "AND NOT (n.nspname = 'public' AND c.relname = %s)",
            (MARKER_TABLE,),
        )
        return sorted(str(r[0]) for r in rows)

    def has_marker_table(self) -> bool:
        return bool(
            self._execute("SELECT pg_catalog.to_regclass(%s)", (f"public.{MARKER_TABLE}",))[0][0]
        )

    def marker_name(self) -> str:
        return f"public.{self.q(MARKER_TABLE)}"

    def _marker_ddl(self) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {self.marker_name()} (run_id text PRIMARY KEY, "
            "status text NOT NULL, plan_sha256 text, key_id text, started_at text, "
            "finished_at text, source text)"
        )

    def drop_all(self) -> None:
        schemas = self._execute(
            "SELECT nspname FROM pg_catalog.pg_namespace "  # noqa: S608 - identifiers quoted by q()
            f"WHERE nspname NOT IN {_SYSTEM} AND nspname !~ '^pg_' AND nspname <> 'public'"
        )
        with self.conn.transaction():
            for (name,) in schemas:
                self._execute(f"DROP SCHEMA {self.q(str(name))} CASCADE")
            kinds = {
                "r": "TABLE",
                "p": "TABLE",
                "v": "VIEW",
                "m": "MATERIALIZED VIEW",
                "f": "FOREIGN TABLE",
            }
            for name, kind in self._execute(
                "SELECT c.relname, c.relkind FROM pg_catalog.pg_class c "
                "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'f') "
                "AND c.relname <> %s",
                (MARKER_TABLE,),
            ):
                what = kinds[str(kind)]
                self._execute(f"DROP {what} IF EXISTS public.{self.q(str(name))} CASCADE")
            for (name,) in self._execute(  # sequences no table owned (their own state)
                "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'S'"
            ):
                self._execute(f"DROP SEQUENCE IF EXISTS public.{self.q(str(name))} CASCADE")
            for (typ,) in self._execute(  # enums, domains, ranges, standalone composites
                "SELECT t.typname FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n "
                "ON n.oid = t.typnamespace LEFT JOIN pg_catalog.pg_class c ON c.oid = t.typrelid "
                "WHERE n.nspname = 'public' AND (t.typtype IN ('e', 'd', 'r') "
                "OR (t.typtype = 'c' AND c.relkind = 'c'))"
            ):
                self._execute(f"DROP TYPE IF EXISTS public.{self.q(str(typ))} CASCADE")

    def create_tables(self, schema: Schema, extra_ddl: Sequence[str]) -> None:
        try:
            with self.conn.transaction():
                for stmt in extra_ddl:
                    self.conn.execute(stmt.encode())
                same = self._same
                if same is not None:
                    for s in same.schemas:
                        self.conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.q(s)}".encode())
                    for ext in same.extensions:
                        self.conn.execute(f"CREATE EXTENSION IF NOT EXISTS {self.q(ext)}".encode())
                    for nsp, typ, labels in same.enums:
                        self.conn.execute(
                            pgsql.SQL("CREATE TYPE {}.{} AS ENUM ({})").format(
                                pgsql.Identifier(nsp),
                                pgsql.Identifier(typ),
                                pgsql.SQL(", ").join(pgsql.Literal(x) for x in labels),
                            )
                        )
                    deferred = self._create_functions(same.functions)
                    # a domain over another domain or a composite type, a composite
                    # with a field of a domain: in passes, in whatever order works
                    self._create_in_passes([*same.domains, *same.ranges, *same.composites])
                    # before the tables: an identity's own sequence takes another name
                    for nsp, name, options, state in same.sequences:
                        self._create_sequence(nsp, name, options, state)
                else:
                    for s in sorted({t.schema for t in schema.tables if t.schema}):
                        self.conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.q(s)}".encode())
                for t in self._parents_first(schema.tables):
                    self.conn.execute(self._create_sql(t, same).encode())
                for parent, nsp, rel, bound, key in same.partitions if same else ():
                    # rows copied into the parent are routed to these partitions
                    by = f" PARTITION BY {key}" if key else ""
                    self.conn.execute(
                        f"CREATE TABLE {self.q(nsp)}.{self.q(rel)} PARTITION OF {parent} "
                        f"{bound}{by}".encode()
                    )
                if same is not None:  # a function returning a table's row type needs it
                    for signature, definition in deferred:
                        self._create_object(f"function {signature}", definition)
        except psycopg.Error as exc:
            err = self.fail("creating the tables failed", exc)
            skipped = "; ".join(f"{o} ({why})" for o, why in self.objects_skipped)
            raise BackendError(
                err.message,
                hint="the target cannot hold the source's schema as introspected; check "
                "that the target has the extensions the source's column types need"
                + (f"; not recreated: {skipped}" if skipped else ""),
            ) from None

    def _create_sequence(
        self, nsp: str, name: str, options: str, state: tuple[int, bool] | None
    ) -> None:
        """A sequence no copied column takes values from, in the source's state (a
        counter, not personal data): ``nextval`` gives what it gives on the source."""
        qualified = f"{self.q(nsp)}.{self.q(name)}"
        stmt = f"CREATE SEQUENCE IF NOT EXISTS {qualified} {options}"
        if state is not None:
            last, called = state
            literal = pgsql.Literal(qualified).as_string(self.conn)
            stmt += f"; SELECT pg_catalog.setval({literal}, {int(last)}, {bool(called)})"
        self._create_object(f"sequence {nsp}.{name}", stmt)

    def _create_functions(self, functions: Sequence[tuple[str, str]]) -> list[tuple[str, str]]:
        """The user functions and procedures (defaults, checks, indexes and triggers
        may call them), before the tables. Bodies are not checked at creation
        (``check_function_bodies = off``, as pg_dump does): a function may read a
        table that does not exist yet. One whose signature needs a table (Sakila's
        ``rewards_report`` returns ``SETOF customer``) is returned, to be created
        after the tables."""
        if not functions:
            return []
        self.conn.execute(b"SET LOCAL check_function_bodies = off")
        deferred = []
        for signature, definition in functions:
            label = f"function {signature}"
            if self._holds_personal_data(label, definition):
                continue
            if self._try_create(definition) is None:
                self.objects_created.append(label)
            else:
                deferred.append((signature, definition))
        return deferred

    def _holds_personal_data(self, label: str, statement: str) -> bool:
        """Whether a definition holds what looks like personal data (then it is
        skipped), unless the plan acknowledges it (``acknowledged``: the run refused
        it otherwise, SW520, before any row moved)."""
        from stagewall.masking.classify import detect_in_text

        if _plan_label(label) in self.acknowledged:
            return False
        if detect_in_text(statement):
            self.objects_skipped.append(
                (label, "its definition contains what looks like personal data")
            )
            return True
        return False

    def _try_create(self, statement: str) -> str | None:
        """Run one CREATE in a savepoint: None, or why the target refused it."""
        try:
            with self.conn.transaction():
                self.conn.execute(statement.encode())
        except psycopg.Error as exc:
            return (exc.diag.message_primary or type(exc).__name__).strip()
        return None

    def _create_object(self, label: str, statement: str) -> bool:
        """Create one schema object in a savepoint; skip (and say why) one whose
        definition holds what looks like personal data, or that fails."""
        if self._holds_personal_data(label, statement):
            return False
        reason = self._try_create(statement)
        if reason is not None:
            self.objects_skipped.append((label, f"cannot be created on the target: {reason}"))
            return False
        self.objects_created.append(label)
        return True

    def _parents_first(self, tables: Sequence[Table]) -> list[Table]:
        """Tables in creation order: an inheritance child after its parents."""
        inherits = self._same.inherits if self._same is not None else {}
        by_name = {t.qualified: t for t in tables}
        done: set[str] = set()
        out: list[Table] = []

        def add(t: Table) -> None:
            if t.qualified in done:
                return
            done.add(t.qualified)
            for parent, _quoted in inherits.get(t.qualified, []):
                if parent in by_name:
                    add(by_name[parent])
            out.append(t)

        for t in tables:
            add(t)
        return out

    def _create_in_passes(self, statements: Sequence[str]) -> None:
        """Run CREATE statements whose order is unknown (a composite type with a field
        of another one): each in a savepoint, again while one more succeeds."""
        pending = list(statements)
        while pending:
            left: list[str] = []
            last: psycopg.Error | None = None
            for stmt in pending:
                try:
                    with self.conn.transaction():
                        self.conn.execute(stmt.encode())
                except psycopg.Error as exc:
                    left.append(stmt)
                    last = exc
            if len(left) == len(pending) and last is not None:
                raise last
            pending = left

    def use_source_ddl(self, ddl: PgDDL) -> None:
        """Recreate exactly what a PostgreSQL source had (types, constraint definitions)."""
        self._same = ddl

    def _create_sql(self, t: Table, same: PgDDL | None) -> str:
        parts = []
        for c in t.columns:
            typ = c.db_type if same is not None else portable_type(c, "postgresql")
            if c.is_identity and (same is None or c.kind is ColumnKind.INTEGER):
                if same is None:
                    typ = "bigint"
                always = same is not None and (t.qualified, c.name) in same.identity_always
                how = "ALWAYS" if always else "BY DEFAULT"
                opts = same.identity_options.get((t.qualified, c.name), "") if same else ""
                ddl = f"{self.q(c.name)} {typ} GENERATED {how} AS IDENTITY{opts}"
            elif is_generated(c) and same is not None:
                ddl = f"{self.q(c.name)} {typ} {c.default}"
            else:
                ddl = f"{self.q(c.name)} {typ}"
                if c.default and same is not None:
                    ddl += f" DEFAULT {c.default}"
            if not c.nullable:
                ddl += " NOT NULL"
            parts.append(ddl)
        key = same.partitioned.get(t.qualified) if same is not None else None
        partition_by = f" PARTITION BY {key}" if key else ""
        parents = same.inherits.get(t.qualified) if same is not None else None
        inherits = f" INHERITS ({', '.join(q for _, q in parents)})" if parents else ""
        return f"CREATE TABLE {self.qt(t)} ({', '.join(parts)}){inherits}{partition_by}"

    @contextmanager
    def copy_in(self, table: Table, columns: Sequence[str]) -> Iterator[CopyWriter]:
        query = f"COPY {self.qt(table)} ({self.qcols(columns)}) FROM STDIN"
        try:
            with self.conn.transaction(), self.conn.cursor() as cur, cur.copy(query.encode()) as cp:
                yield CopyWriter(cp)
        except psycopg.Error as exc:
            err = self.fail(f"writing {table.qualified} failed", exc)
            raise BackendError(
                err.message,
                hint="the target refused a value of this table (a type that does not map "
                "between backends, a NOT NULL column, a check); the message names it",
            ) from None

    def write_rows(self, table: Table, columns: Sequence[Column], rows: list[Row]) -> None:
        with self.copy_in(table, [c.name for c in columns]) as w:
            w.write(self.encode_rows(columns, rows))

    @staticmethod
    def encode_rows(columns: Sequence[Column], rows: list[Row]) -> bytes:
        kinds = [c.kind for c in columns]
        return b"".join(
            b"\t".join(encode(v, k) for v, k in zip(r, kinds, strict=True)) + b"\n" for r in rows
        )

    def create_derived_objects(self) -> tuple[list[str], list[tuple[str, str]]]:
        """After the data: the source's views, materialised views, triggers, rules
        and, last, the comments of every object (``COMMENT ON``).

        Returns every schema object created or skipped in this run (the functions
        created before the tables included), each as ``"view public.v"`` and the
        like; ``skipped`` pairs an object with the reason. A definition that holds
        what looks like personal data (an e-mail in a WHERE clause, a name in a
        CASE) would copy a production value into staging, so it is skipped, never
        created. Views are created in passes, so a view over another view waits
        for it; one that still fails (it reads a table outside the plan) is
        skipped. A materialised view is filled from the masked tables. Triggers
        come last, so they never fired while the masked rows were loaded.
        """
        same = self._same
        if same is None:
            return list(self.objects_created), list(self.objects_skipped)
        from stagewall.masking.classify import detect_in_text

        pending: list[tuple[str, str, str]] = []  # (label, CREATE, matview or "")
        for nsp, name, kind, definition, options in same.views:
            label = f"{'materialized view' if kind == 'm' else 'view'} {nsp}.{name}"
            if _plan_label(label) not in self.acknowledged and detect_in_text(definition):
                self.objects_skipped.append(
                    (label, "its definition contains what looks like personal data")
                )
                continue
            what = "MATERIALIZED VIEW" if kind == "m" else "VIEW"
            with_ = f" WITH ({', '.join(options)})" if options else ""
            body = definition.strip().rstrip(";")
            stmt = f"CREATE {what} {self.q(nsp)}.{self.q(name)}{with_} AS {body}"
            pending.append((label, stmt, f"{nsp}.{name}" if kind == "m" else ""))
        errors: dict[str, str] = {}
        progress = True
        while pending and progress:
            progress, left = False, []
            for label, stmt, matview in pending:
                try:
                    with self.conn.transaction():
                        self.conn.execute(stmt.encode())
                except psycopg.Error as exc:
                    errors[label] = (exc.diag.message_primary or type(exc).__name__).strip()
                    left.append((label, stmt, matview))
                else:
                    self.objects_created.append(label)
                    progress = True
                    for index, definition in same.view_indexes.get(matview, []):
                        # after the view is filled: a unique one checks the masked rows
                        self._create_object(f"index {index} on {matview}", definition)
            pending = left
        self.objects_skipped += [
            (label, f"cannot be created on the target: {errors[label]}") for label, _, _ in pending
        ]
        for table, name, definition in same.triggers:
            self._create_object(f"trigger {name} on {table}", definition)
        for table, name, definition in same.rules:  # after the data, like triggers
            self._create_object(f"rule {name} on {table}", definition)
        for label, text, statement in same.comments:  # last: every object they describe
            if not self._holds_personal_data(label, text):
                reason = self._try_create(statement)
                if reason is None:
                    self.objects_created.append(label)
                else:
                    self.objects_skipped.append(
                        (label, f"cannot be created on the target: {reason}")
                    )
        return list(self.objects_created), list(self.objects_skipped)

    def guess_fulltext(
        self, table: Table, column: str, candidates: Sequence[str], n: int = 200
    ) -> tuple[str, tuple[str, ...]] | None:
        """The (configuration, text columns) a plain ``tsvector`` column is made
        from, judged on up to ``n`` non-empty rows: each chosen column's lexemes lie
        inside the stored value in 90 % of the rows, and the chosen columns together
        give back every stored lexeme in 90 % of them. None when nothing fits."""
        if not candidates or n < 1:
            return None
        col = self.q(column)
        configs = self._execute("SELECT pg_catalog.current_setting('default_text_search_config')")
        for (config,) in [*configs, ("simple",)]:
            lex = [
                f"pg_catalog.tsvector_to_array(pg_catalog.to_tsvector(%s::regconfig, "
                f"COALESCE({self.q(c)}::text, ''))) <@ pg_catalog.tsvector_to_array({col})"
                for c in candidates
            ]
            inner = (
                f"SELECT {self.qcols([*candidates, column])} FROM {self.qt(table)} "  # noqa: S608 - identifiers quoted by q()
                f"WHERE {col} IS NOT NULL AND {col} <> ''::tsvector LIMIT {int(n)}"
            )
            got = self._execute(
                "SELECT count(*), "  # noqa: S608 - identifiers quoted by q()
                + ", ".join(f"count(*) FILTER (WHERE {e})" for e in lex)
                + f" FROM ({inner}) s",
                [config] * len(lex),
            )
            total, *inside = got[0]
            if not total:
                return None
            chosen = [c for c, k in zip(candidates, inside, strict=True) if k >= 0.9 * total]
            if not chosen:
                continue
            union = ", ".join(f"{self.q(c)}::text" for c in chosen)
            covered = self._execute(
                f"SELECT count(*) FILTER (WHERE pg_catalog.tsvector_to_array({col}) <@ "  # noqa: S608 - identifiers quoted by q()
                f"pg_catalog.tsvector_to_array(pg_catalog.to_tsvector(%s::regconfig, "
                f"pg_catalog.concat_ws(' ', {union})))) FROM ({inner}) s",
                [config],
            )[0][0]
            if covered >= 0.9 * total:
                return str(config), tuple(chosen)
        return None

    def recompute_fulltext(
        self, table: Table, column: str, sources: Sequence[str], config: str
    ) -> None:
        """Set a full-text column from the masked text ``sources`` of the same row."""
        text = ", ".join(f"{self.q(c)}::text" for c in sources)
        stmt = (
            f"UPDATE {self.qt(table)} SET {self.q(column)} = pg_catalog.to_tsvector("  # noqa: S608 - identifiers quoted by q()
            f"%s::regconfig, pg_catalog.concat_ws(' ', {text}))"
        )
        try:
            self.conn.execute(stmt.encode(), (config,))
        except psycopg.Error as exc:
            raise self.fail(
                f"recomputing the full-text column {table.qualified}.{column} failed", exc
            ) from None

    def early_keys(self, t: Table) -> list[str]:
        """The keys, checks and indexes of ``t`` that may be built as soon as ``t``'s own
        copy is done, while other tables are still being copied: those of a table
        that no partitioning or inheritance ties to another (statements on those
        recurse into, or lock, the related tables). Empty for any other table: its
        keys wait for :meth:`finish_tables`. Foreign keys always wait for it."""
        same = self._same
        if same is not None and (
            t.qualified in same.partitioned
            or t.qualified in same.inherits
            or any(p == t.qualified for ps in same.inherits.values() for p, _ in ps)
        ):
            return []
        return self._keys_and_indexes(t)

    def early_foreign_keys(self, t: Table, built: Collection[str]) -> list[str] | None:
        """The foreign keys of ``t`` (whose :meth:`early_keys` are built) to add now,
        while other tables are still being copied: when every table they reference
        is among ``built`` (its copy done, its keys built). None: they wait for
        :meth:`finish_tables` (a referenced table not built yet, or not one this copy
        builds early). The same statements as :meth:`finish_tables` runs with more
        than one connection: each key added ``NOT VALID``, then every one validated
        (so the checks of two tables referencing one table can run at once)."""
        statements = self._foreign_keys(t)
        if len(statements) != len(t.foreign_keys):  # (a key introspection did not read)
            return None
        for fk in t.foreign_keys:
            ref = f"{fk.ref_schema}.{fk.ref_table}" if fk.ref_schema else fk.ref_table
            if ref not in built:
                return None
        adds, checks = self._split_validation(t, statements)
        return [*adds, *checks]

    def build_keys(self, t: Table, statements: Sequence[str]) -> None:
        """Run ``statements`` (:meth:`early_keys` of ``t``) on this connection."""
        self._run_steps([(t.qualified, s) for s in statements])

    def finish_tables(
        self,
        schema: Schema,
        jobs: int = 1,
        built: Collection[str] = frozenset(),
        linked: Collection[str] = frozenset(),
    ) -> None:
        """Keys, checks and indexes, then foreign keys, then identity sequences.

        ``built``: tables whose :meth:`early_keys` were built already (during the
        copy); their keys are not built again. ``linked``: tables whose
        :meth:`early_foreign_keys` were added already. Everything else is as without.

        With ``jobs`` > 1 the tables' keys and indexes are built on ``jobs``
        connections at once (a table's own statements stay in order on one of
        them; different tables take different locks), and each foreign key is added
        ``NOT VALID`` (no scan) and then validated, the validations of different
        tables at once too: the same constraints, every one of them checked against
        the loaded data, in about the time of the largest table's instead of the sum.
        """
        keyed = [
            (t.qualified, [] if t.qualified in built else self._keys_and_indexes(t))
            for t in schema.tables
        ]
        fks = [(t, [] if t.qualified in linked else self._foreign_keys(t)) for t in schema.tables]
        setvals = {
            t.qualified: [
                (t.qualified, self._setval(t, c))
                for c in t.columns
                if c.is_identity and (self._same is None or c.kind is ColumnKind.INTEGER)
            ]
            for t in schema.tables
        }
        own = list(self._same.partition_own if self._same is not None else ())
        if jobs <= 1:
            steps = [(q, s) for q, stmts in keyed for s in stmts]
            for t, stmts in fks:  # foreign keys last: every referenced key exists by now
                steps += [(t.qualified, s) for s in stmts] + setvals[t.qualified]
            self._run_steps(steps + own)
            return
        # costliest first (rows times statements), so the connections finish together
        size = {t.qualified: max(t.row_estimate or 0, 1) for t in schema.tables}
        keyed.sort(key=lambda qs: -size[qs[0]] * len(qs[1]))
        # connections for the groups that can run at once (none left: no more than this one)
        groups = max(sum(1 for _, st in keyed if st), sum(1 for _, st in fks if st))
        extra: list[PostgresDatabase] = []
        try:
            for _ in range(min(jobs, len(schema.tables), max(groups, 1)) - 1):
                try:
                    extra.append(PostgresDatabase(self.url, self.role, False))
                except BackendError:  # the server's connection limit: build on fewer
                    break
            conns = [self.conn, *(db.conn for db in extra)]
            self._run_parallel([(q, stmts) for q, stmts in keyed if stmts], conns)
            validations: list[tuple[str, list[str]]] = []
            for t, stmts in fks:
                adds, checks = self._split_validation(t, stmts)
                self._run_steps([(t.qualified, s) for s in adds])
                if checks:
                    validations.append((t.qualified, checks))
            validations.sort(key=lambda qs: -size[qs[0]] * len(qs[1]))
            self._run_parallel(validations, conns)
        finally:
            for db in extra:
                db.close()
        self._run_steps([s for t in schema.tables for s in setvals[t.qualified]] + own)

    def _run_steps(self, steps: Sequence[tuple[str, str]]) -> None:
        for where, stmt in steps:
            try:
                self.conn.execute(stmt.encode())
            except psycopg.Error as exc:
                raise self.fail(f"recreating constraints/indexes of {where} failed", exc) from None

    def _run_parallel(self, groups: list[tuple[str, list[str]]], conns: list[Any]) -> None:
        """Each group's statements in order on one of ``conns``, as many groups at once
        as there are connections, taken in the order given. A statement that deadlocks
        with another table's (a check or index expression calling a function that reads
        another table) is run again, with the rest of its group, alone afterwards."""
        if len(groups) <= 1 or len(conns) <= 1:
            self._run_steps([(q, s) for q, stmts in groups for s in stmts])
            return
        from concurrent.futures import ThreadPoolExecutor

        free = list(conns)
        retry: list[tuple[str, str]] = []

        def one(group: tuple[str, list[str]]) -> BackendError | None:
            conn = free.pop()
            try:
                for i, stmt in enumerate(group[1]):
                    try:
                        conn.execute(stmt.encode())
                    except psycopg.errors.DeadlockDetected:
                        retry.extend((group[0], s) for s in group[1][i:])
                        return None
                    except psycopg.Error as exc:
                        return self.fail(
                            f"recreating constraints/indexes of {group[0]} failed", exc
                        )
                return None
            finally:
                free.append(conn)

        with ThreadPoolExecutor(len(conns), thread_name_prefix="sw-finish") as pool:
            errors = [e for e in pool.map(one, groups) if e is not None]
        if errors:
            raise errors[0]
        self._run_steps(retry)

    def _split_validation(self, t: Table, stmts: list[str]) -> tuple[list[str], list[str]]:
        """Foreign keys of ``t`` as ``NOT VALID`` additions and their validations; a key
        that cannot be split (unnamed, already ``NOT VALID`` in the source, or on a
        partitioned table, where PostgreSQL refuses ``NOT VALID``) is added as it is."""
        same = self._same
        if same is None or t.qualified in same.partitioned:
            return stmts, []
        adds, checks = [], []
        for name, ctype, definition in same.constraints.get(t.qualified, []):
            if ctype != "f":
                continue
            stmt = f"ALTER TABLE {self.qt(t)} ADD CONSTRAINT {self.q(name)} {definition}"
            if definition.rstrip().upper().endswith("NOT VALID"):
                adds.append(stmt)
                continue
            adds.append(f"{stmt} NOT VALID")
            checks.append(f"ALTER TABLE {self.qt(t)} VALIDATE CONSTRAINT {self.q(name)}")
        if len(adds) != len(stmts):  # pragma: no cover - both come from same.constraints
            return stmts, []
        return adds, checks

    def _keys_and_indexes(self, t: Table) -> list[str]:
        qt = self.qt(t)
        same = self._same
        if same is not None:
            cons = same.constraints.get(t.qualified, [])
            # a CHECK the child inherits from a parent exists already in the target
            inherited = {
                name
                for parent, _quoted in same.inherits.get(t.qualified, [])
                for name, ctype, _ in same.constraints.get(parent, [])
                if ctype == "c"
            }
            cons = [c for c in cons if not (c[1] == "c" and c[0] in inherited)]
            out = [
                f"ALTER TABLE {qt} ADD CONSTRAINT {self.q(name)} {definition}"
                for order in ("p", "u", "x", "c")
                for name, ctype, definition in cons
                if ctype == order
            ]
            return out + list(same.indexes.get(t.qualified, []))
        out = []
        if t.primary_key:
            out.append(f"ALTER TABLE {qt} ADD PRIMARY KEY ({self.qcols(t.primary_key)})")
        out += [f"ALTER TABLE {qt} ADD UNIQUE ({self.qcols(u)})" for u in t.unique_constraints]
        out += [
            f"CREATE {'UNIQUE ' if ix.unique else ''}INDEX ON {qt} ({self.qcols(ix.columns)})"
            for ix in t.indexes
            if ix.columns
        ]
        return out

    def _foreign_keys(self, t: Table) -> list[str]:
        qt = self.qt(t)
        if self._same is not None:
            return [
                f"ALTER TABLE {qt} ADD CONSTRAINT {self.q(name)} {definition}"
                for name, ctype, definition in self._same.constraints.get(t.qualified, [])
                if ctype == "f"
            ]
        out = []
        for fk in t.foreign_keys:
            ref = self.q(fk.ref_table)
            if fk.ref_schema:
                ref = f"{self.q(fk.ref_schema)}.{ref}"
            out.append(
                f"ALTER TABLE {qt} ADD FOREIGN KEY ({self.qcols(fk.columns)}) "
                f"REFERENCES {ref} ({self.qcols(fk.ref_columns)})"
            )
        return out

    def _setval(self, t: Table, c: Column) -> str:
        seq = pgsql.Literal(self.qt(t)).as_string(self.conn)
        col = pgsql.Literal(c.name).as_string(self.conn)
        state = self._same.sequence_state.get((t.qualified, c.name)) if self._same else None
        if state is not None:
            # the source sequence's state (is_called too: setval(s, 100, false) gives
            # 100 next), never behind the copied keys in its direction
            last, called, increment = int(state[0]), bool(state[1]), int(state[2])
            agg, pick, past = ("max", "GREATEST", ">=") if increment > 0 else ("min", "LEAST", "<=")
            key = f"{agg}({self.q(c.name)})"
            return (
                f"SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence({seq}, {col}), "  # noqa: S608 - identifiers quoted by q()
                f"{pick}({last}, COALESCE({key}, {last})), "
                f"{called} OR COALESCE({key} {past} {last}, false)) FROM {self.qt(t)}"
            )
        if c.sequence_value is not None:
            # continue where the source's sequence is (never below the copied keys)
            last = int(c.sequence_value)
            return (
                f"SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence({seq}, {col}), "  # noqa: S608 - identifiers quoted by q()
                f"GREATEST({last}, COALESCE(max({self.q(c.name)}), {last})), true) "
                f"FROM {self.qt(t)}"
            )
        return (
            f"SELECT pg_catalog.setval(pg_catalog.pg_get_serial_sequence({seq}, {col}), "  # noqa: S608 - identifiers quoted by q()
            f"COALESCE(max({self.q(c.name)}), 0) + 1, false) FROM {self.qt(t)}"
        )


def _reason(exc: psycopg.Error, url: DatabaseURL) -> str:
    text = str(exc)
    if url.password:
        text = text.replace(url.password, "***")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return "; ".join(lines[:2]) if lines else type(exc).__name__


def _plan_label(label: str) -> str:
    """How the plan's ``acknowledged:`` names an object the copy labels ``label``:
    ``function public.f(integer)`` → ``function public.f``, ``trigger t on
    public.orders`` → ``trigger public.t``, ``materialized view v`` → ``view v``."""
    kind, _, rest = label.partition(" ")
    if kind == "materialized":
        return "view " + rest.partition(" ")[2]
    if kind == "function":
        name = rest.split("(", 1)[0]
        return f"function {name if '.' in name else 'public.' + name}".replace('"', "")
    if kind in ("trigger", "rule", "index") and " on " in rest:
        name, _, table = rest.rpartition(" on ")
        return f"{kind} {table.split('.', 1)[0]}.{name}"
    return label


__all__ = ["CopyWriter", "PostgresDatabase"]
