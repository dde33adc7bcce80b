"""The order of a parallel copy's work after the rows: tables that others reference
are copied first (engine._key_levels, engine._plan_units), and the keys and foreign
keys built during the copy (engine._EarlyKeys) are built on up to ``jobs``
connections at once, a statement that deadlocks with another connection's run
again alone afterwards; the target's constraints stay those of a one-connection
copy."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import psycopg
import pytest

from stagewall.errors import BackendError
from stagewall.masking import engine
from stagewall.masking.schema import Column, ForeignKey, Schema, Table
from stagewall.masking.types import ColumnKind

_ID = (Column("id", ColumnKind.INTEGER, "integer"),)


def _table(name: str, *refs: str, rows: int = 0, schema: str | None = "public") -> Table:
    fks = tuple(ForeignKey(None, ("id",), schema, r, ("id",)) for r in refs)
    return Table(schema, name, _ID, ("id",), fks, row_estimate=rows)


def test_levels_put_every_table_below_the_tables_it_references() -> None:
    """A chain, a diamond, a self-reference, a reference to a table not copied, and a
    cycle: every table's level is one more than the deepest table it references
    (within the schema, cycles cut where the walk closes them), whatever the order
    the tables come in."""
    tables = [
        _table("grandchild", "child", "parent"),
        _table("child", "parent"),
        _table("parent"),
        _table("selfish", "selfish"),
        _table("orphan", "not_copied"),
        _table("left", "top"),
        _table("right", "top"),
        _table("bottom", "left", "right"),
        _table("top"),
        _table("ping", "pong"),
        _table("pong", "ping"),
    ]
    for order in (tables, tables[::-1]):
        level = engine._key_levels(Schema("postgresql", tuple(order)))
        assert level["public.parent"] == 0
        assert level["public.child"] == 1
        assert level["public.grandchild"] == 2
        assert level["public.selfish"] == 0
        assert level["public.orphan"] == 0
        assert level["public.top"] == 0
        assert level["public.left"] == level["public.right"] == 1
        assert level["public.bottom"] == 2
        assert {level["public.ping"], level["public.pong"]} == {0, 1}


def test_levels_of_a_long_chain_need_no_deep_recursion() -> None:
    """5 000 tables each referencing the one before (no recursion limit to meet)."""
    tables = [_table("t0")] + [_table(f"t{i}", f"t{i - 1}") for i in range(1, 5000)]
    level = engine._key_levels(Schema("postgresql", tuple(reversed(tables))))
    assert [level[f"public.t{i}"] for i in (0, 1, 2500, 4999)] == [0, 1, 2500, 4999]


def test_units_go_parents_first_then_costliest() -> None:
    """Units are ordered by level, then by cost (the largest first): the referenced
    tables come before the tables referencing them even when those cost more; tables
    without schema names (SQLite, MySQL) too."""
    for schema_name in ("public", None):

        def t(name: str, *refs: str, rows: int, schema: str | None = schema_name) -> Table:
            return _table(name, *refs, rows=rows, schema=schema)

        tables = (
            t("huge_child", "small_parent", rows=1_000_000),
            t("small_parent", rows=100),
            t("standalone", rows=50_000),
            t("leaf", "huge_child", rows=10),
            t("mid_child", "small_parent", rows=2_000),
        )
        schema = Schema("postgresql", tables)
        mappers: Any = {x.qualified: SimpleNamespace(by_index=[0], consumers=[]) for x in tables}
        sel: Any = {x.qualified: SimpleNamespace(mode="all") for x in tables}
        units = engine._plan_units(object(), schema, sel, 2, 1, mappers)  # type: ignore[arg-type]
        assert [u.table.name for u in units] == [
            "standalone",
            "small_parent",
            "huge_child",
            "mid_child",
            "leaf",
        ]


class _FakeTarget:
    """What _EarlyKeys asks of a target: its keys, and its foreign keys once every
    table they reference is built."""

    url, role = "postgresql://fake/db", "target"

    def __init__(self, tables: dict[str, Table]) -> None:
        self.tables = tables

    def early_keys(self, t: Table) -> list[str]:
        return [f"keys {t.name}", f"index {t.name}"]

    def early_foreign_keys(self, t: Table, built: Any) -> list[str] | None:
        if not t.foreign_keys or any(
            f"public.{fk.ref_table}" not in built for fk in t.foreign_keys
        ):
            return None
        return [f"add fk {t.name} NOT VALID", f"validate fk {t.name}"]


class _Log:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ran: list[tuple[int, str]] = []  # (connection, statement)
        self.conns = 0


def _fake_db(log: _Log, behave: Any) -> type:
    class FakeDB:
        def __init__(self, url: Any, role: Any, read_only: bool) -> None:
            with log.lock:
                log.conns += 1
                self.n = log.conns

        def build_keys(self, t: Table, statements: list[str]) -> None:
            for s in statements:
                behave(self.n, s)
                with log.lock:
                    log.ran.append((self.n, s))

        def close(self) -> None:
            pass

    return FakeDB


def _early(monkeypatch: pytest.MonkeyPatch, tables: list[Table], jobs: int, behave: Any) -> Any:
    from stagewall.masking.db import _postgres

    log = _Log()
    monkeypatch.setattr(_postgres, "PostgresDatabase", _fake_db(log, behave))
    schema = Schema("postgresql", tuple(tables))
    target = _FakeTarget({t.qualified: t for t in tables})
    return engine._EarlyKeys(target, schema, jobs), log


def test_two_tables_keys_are_built_at_once_on_two_connections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With jobs=2, the keys of b (copied second) are built while a's still are: a's
    build waits (up to 10 s) for b's to start, which a single connection never does."""
    b_started = threading.Event()
    seen: list[bool] = []

    def behave(conn: int, stmt: str) -> None:
        if stmt == "keys a":
            seen.append(b_started.wait(10))
        if stmt == "keys b":
            b_started.set()

    early, log = _early(monkeypatch, [_table("a"), _table("b")], 2, behave)
    early.table_done("public.a")
    early.table_done("public.b")
    built, linked = early.close(True)
    assert seen == [True]
    assert built == {"public.a", "public.b"} and linked == set()
    assert log.conns == 2
    by_conn = (
        {c for c, s in log.ran if s.endswith(" a")},
        {c for c, s in log.ran if s.endswith(" b")},
    )
    assert all(len(c) == 1 for c in by_conn)  # a table's statements on one connection
    assert [s for _, s in log.ran if s.endswith(" a")] == ["keys a", "index a"]


def test_foreign_keys_follow_their_tables_and_a_deadlock_is_run_again_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two children of one parent: each child's foreign key is added once the child
    and the parent are built (NOT VALID, then validated). The first validation of
    child1 deadlocks: it is run again once every other build is done, alone, and
    child1 still counts as linked."""
    calls: list[str] = []

    def behave(conn: int, stmt: str) -> None:
        calls.append(stmt)
        if stmt == "validate fk child1" and calls.count(stmt) == 1:
            try:
                raise psycopg.errors.DeadlockDetected("deadlock detected")
            except psycopg.Error:
                raise BackendError("recreating constraints/indexes of child1 failed") from None

    tables = [_table("parent"), _table("child1", "parent"), _table("child2", "parent")]
    early, log = _early(monkeypatch, tables, 2, behave)
    for q in ("public.parent", "public.child1", "public.child2"):
        early.table_done(q)
    built, linked = early.close(True)
    assert built == {"public.parent", "public.child1", "public.child2"}
    assert linked == {"public.child1", "public.child2"}
    ran = [s for _, s in log.ran]
    assert ran[-1] == "validate fk child1"  # run again last, once the rest was done
    assert ran.count("validate fk child1") == 1  # (the deadlocked try is not logged)
    assert calls.count("validate fk child1") == 2
    for child in ("child1", "child2"):
        order = [s for s in ran if s.endswith(child) or s.endswith(f"{child} NOT VALID")]
        assert order == [
            f"keys {child}",
            f"index {child}",
            f"add fk {child} NOT VALID",
            f"validate fk {child}",
        ]
        assert ran.index(f"add fk {child} NOT VALID") > ran.index("index parent")


def test_a_failed_build_is_raised_once_the_copy_is_done(monkeypatch: pytest.MonkeyPatch) -> None:
    """A key the rows break: the error is raised by close after a successful copy,
    nothing after it is built, and a failed copy's close raises nothing."""

    def behave(conn: int, stmt: str) -> None:
        if stmt == "index a":
            raise BackendError("recreating constraints/indexes of public.a failed")

    for copied in (True, False):
        early, _log = _early(monkeypatch, [_table("a"), _table("b", "a")], 2, behave)
        early.table_done("public.a")
        early.table_done("public.b")
        if copied:
            with pytest.raises(BackendError, match=r"public\.a failed"):
                early.close(True)
        else:
            built, linked = early.close(False)
            assert "public.a" not in built and not linked


CYCLE_SCHEMA = [
    "CREATE TABLE parent (id int PRIMARY KEY, handle text UNIQUE)",
    "CREATE TABLE child1 (id int PRIMARY KEY, parent_id int REFERENCES parent (id), n int)",
    "CREATE TABLE child2 (id int PRIMARY KEY, parent_id int REFERENCES parent (id), n int)",
    "CREATE INDEX child2_n ON child2 (n)",
    "CREATE TABLE ping (id int PRIMARY KEY, pong_id int)",
    "CREATE TABLE pong (id int PRIMARY KEY, ping_id int REFERENCES ping (id))",
    "ALTER TABLE ping ADD CONSTRAINT ping_pong FOREIGN KEY (pong_id) REFERENCES pong (id)",
    "CREATE TABLE selfish (id int PRIMARY KEY, up int REFERENCES selfish (id))",
    "INSERT INTO parent SELECT g, 'h' || g FROM generate_series(1, 4000) g",
    "INSERT INTO child1 SELECT g, 1 + g % 4000, g FROM generate_series(1, 30000) g",
    "INSERT INTO child2 SELECT g, 1 + g % 4000, g % 7 FROM generate_series(1, 30000) g",
    "INSERT INTO ping SELECT g, NULL FROM generate_series(1, 3000) g",
    "INSERT INTO pong SELECT g, g FROM generate_series(1, 3000) g",
    "UPDATE ping SET pong_id = id",
    "INSERT INTO selfish SELECT g, CASE WHEN g > 1 THEN g - 1 END FROM generate_series(1, 3000) g",
]


@pytest.mark.postgres
def test_keys_built_on_two_connections_match_a_one_connection_copy(
    pg_url_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two children of one parent, two tables referencing each other, a table
    referencing itself: with jobs=2 the keys and foreign keys are built during the
    copy on two connections (both used), and the target's constraints (validated,
    deferrable, ...) and indexes are those of a jobs=1 copy and of the source."""
    from stagewall.masking.db import open_database
    from stagewall.masking.db._postgres import PostgresDatabase
    from stagewall.masking.engine import RunOptions, run
    from tests.masking.db.test_postgres_copy import _pair
    from tests.masking.db.test_postgres_finish import CONSTRAINTS, INDEXES, _rows
    from tests.masking.integration.helpers import KEY
    from tests.masking.integration.schemas import plan_for

    src, many = _pair(pg_url_factory, CYCLE_SCHEMA)
    with open_database(src) as db:
        plan = plan_for(db.introspect(), {("parent", "handle"): ("fpe_alnum", {})})
    one = pg_url_factory()
    run(plan, src, one, KEY, RunOptions(jobs=1))
    used: set[int] = set()
    build, start = PostgresDatabase.build_keys, engine._EarlyKeys._start
    opened: list[int] = []

    def spy(self: PostgresDatabase, t: Any, statements: Any) -> None:
        used.add(id(self))
        build(self, t, statements)

    def spy_start(self: Any) -> bool:
        ok = start(self)
        opened.extend(id(db) for db in self._dbs)
        return ok

    monkeypatch.setattr(PostgresDatabase, "build_keys", spy)
    monkeypatch.setattr(engine._EarlyKeys, "_start", spy_start)
    run(plan, src, many, KEY, RunOptions(jobs=2, split_min_pages=1, workers="process"))
    assert len(opened) == 2 and used and used <= set(opened)
    assert _rows(many, CONSTRAINTS) == _rows(one, CONSTRAINTS) == _rows(src, CONSTRAINTS)
    assert _rows(many, INDEXES) == _rows(one, INDEXES) == _rows(src, INDEXES)
    for table, n in (("parent", 4000), ("child1", 30000), ("child2", 30000), ("pong", 3000)):
        assert _rows(many, f"SELECT count(*) FROM {table}") == [(n,)]
