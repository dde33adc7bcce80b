"""Keys and indexes of a table built as soon as its copy is done, while the worker
processes still copy other tables (engine._EarlyKeys, PostgresDatabase.early_keys):
the same constraints as a one-connection copy, tables tied by inheritance left to
finish_tables, and a key the masked rows break still fails the run naming the table."""

from __future__ import annotations

from typing import Any

import pytest

from stagewall.errors import BackendError
from stagewall.masking.db import MarkerStatus, open_database, read_completion_marker
from stagewall.masking.db._postgres import PostgresDatabase
from stagewall.masking.engine import RunOptions, run
from tests.masking.db.test_postgres_copy import _pair
from tests.masking.db.test_postgres_finish import CONSTRAINTS, INDEXES, _rows
from tests.masking.integration.helpers import KEY
from tests.masking.integration.schemas import plan_for

pytestmark = pytest.mark.postgres

SCHEMA = [
    "CREATE TABLE account (id int PRIMARY KEY, handle text UNIQUE, score int CHECK (score >= 0))",
    "CREATE INDEX account_score ON account (score) WHERE score > 10",
    "CREATE TABLE item (id int PRIMARY KEY, account_id int REFERENCES account (id), qty int)",
    "CREATE TABLE base (id int PRIMARY KEY, label text CHECK (label <> ''))",
    "CREATE TABLE derived (extra int) INHERITS (base)",
    "ALTER TABLE derived ADD PRIMARY KEY (id)",
    "INSERT INTO account SELECT g, 'h' || g, g FROM generate_series(1, 3000) g",
    "INSERT INTO item SELECT g, 1 + g % 3000, g % 5 FROM generate_series(1, 20000) g",
    "INSERT INTO base SELECT g, 'b' || g FROM generate_series(1, 50) g",
    "INSERT INTO derived SELECT g, 'd' || g, g FROM generate_series(51, 90) g",
]


def test_keys_are_built_during_the_copy_and_match_a_one_connection_copy(
    pg_url_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With worker processes, every plain table's keys are built on their own
    connection once its copy is done (before finish_tables runs), finish_tables is
    told so and builds the rest: the inherited tables' keys and all foreign keys.
    The target's constraints and indexes are those of a jobs=1 copy (and the
    source's)."""
    src, many = _pair(pg_url_factory, SCHEMA)
    with open_database(src) as db:
        plan = plan_for(db.introspect(), {})
    events: list[tuple[str, Any]] = []
    build, finish = PostgresDatabase.build_keys, PostgresDatabase.finish_tables

    def spy_build(self: PostgresDatabase, t: Any, statements: Any) -> None:
        events.append(("early", t.qualified))
        build(self, t, statements)

    def spy_finish(self: PostgresDatabase, schema: Any, jobs: int = 1, **kw: Any) -> None:
        events.append(("finish", frozenset(kw.get("built", ()))))
        finish(self, schema, jobs, **kw)

    one = pg_url_factory()
    run(plan, src, one, KEY, RunOptions(jobs=1))
    monkeypatch.setattr(PostgresDatabase, "build_keys", spy_build)
    monkeypatch.setattr(PostgresDatabase, "finish_tables", spy_finish)
    run(plan, src, many, KEY, RunOptions(jobs=2, split_min_pages=1, workers="process"))
    early = {q for kind, q in events if kind == "early"}
    assert early == {"public.account", "public.item"}  # base/derived: tied by inheritance
    assert events[-1] == ("finish", frozenset(early))
    assert _rows(many, CONSTRAINTS) == _rows(one, CONSTRAINTS) == _rows(src, CONSTRAINTS)
    assert _rows(many, INDEXES) == _rows(one, INDEXES) == _rows(src, INDEXES)
    assert _rows(many, "SELECT count(*) FROM ONLY base") == [(50,)]
    assert _rows(many, "SELECT count(*) FROM derived") == [(40,)]


class _Constant:
    """A transformer mapping every value to one (so a unique key cannot hold)."""

    def transform(self, values: Any) -> list[Any]:
        return ["same" if v is not None else None for v in values]


def _constant_handles(name: str, params: dict[str, Any], *, key: Any, salt: str) -> Any:
    from stagewall.masking.transformers import build_transformer

    if name == "fpe_alnum":
        return _Constant()
    return build_transformer(name, params, key=key, salt=salt)


def test_a_key_the_masked_rows_break_fails_the_run_naming_the_table(pg_url_factory: Any) -> None:
    """The UNIQUE key of account.handle, built during the copy, fails on the masked
    rows: the run fails as it did when the key was built after the copy (the table
    named, the marker failed, nothing marked complete)."""
    src, tgt = _pair(pg_url_factory, SCHEMA)
    with open_database(src) as db:
        plan = plan_for(db.introspect(), {("account", "handle"): ("fpe_alnum", {})})
    _fails_naming(plan, src, tgt, _constant_handles, "public.account")


def _fails_naming(plan: Any, src: str, tgt: str, factory: Any, table: str) -> None:
    """The run fails naming ``table``, its marker failed (nothing marked complete)."""
    with pytest.raises(BackendError) as err:
        run(plan, src, tgt, KEY, RunOptions(jobs=2, split_min_pages=1, transformer_factory=factory))
    assert f"recreating constraints/indexes of {table} failed" in err.value.message
    marker = read_completion_marker(tgt)
    assert marker is not None and marker.status is MarkerStatus.FAILED


def test_foreign_keys_are_added_during_the_copy_once_their_tables_are_built(
    pg_url_factory: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """item's foreign key is added on the early connection as soon as item and
    account (the table it references) are both copied and keyed, not after the last
    table's copy: finish_tables is told so and adds no foreign key of item (only the
    keys of the inherited tables remain for it). The target's constraints are those
    of a jobs=1 copy."""
    src, many = _pair(pg_url_factory, SCHEMA)
    with open_database(src) as db:
        plan = plan_for(db.introspect(), {})
    early: list[tuple[str, str]] = []
    finished: list[tuple[str, str]] = []
    build, steps = PostgresDatabase.build_keys, PostgresDatabase._run_steps
    parallel = PostgresDatabase._run_parallel

    def spy_build(self: PostgresDatabase, t: Any, statements: Any) -> None:
        early.extend((t.qualified, s) for s in statements)
        build(self, t, statements)

    def spy_steps(self: PostgresDatabase, todo: Any) -> None:
        finished.extend(todo)
        steps(self, todo)

    def spy_parallel(self: PostgresDatabase, groups: Any, conns: Any) -> None:
        finished.extend((q, s) for q, stmts in groups for s in stmts)
        parallel(self, groups, conns)

    one = pg_url_factory()
    run(plan, src, one, KEY, RunOptions(jobs=1))
    monkeypatch.setattr(PostgresDatabase, "build_keys", spy_build)
    run(plan, src, many, KEY, RunOptions(jobs=2, split_min_pages=1, workers="process"))
    monkeypatch.setattr(PostgresDatabase, "_run_steps", spy_steps)
    monkeypatch.setattr(PostgresDatabase, "_run_parallel", spy_parallel)
    again = pg_url_factory()
    run(plan, src, again, KEY, RunOptions(jobs=2, split_min_pages=1, workers="process"))
    early_fks = [(q, s) for q, s in early if "FOREIGN KEY" in s or "VALIDATE" in s]
    assert {q for q, _ in early_fks} == {"public.item"}
    # added NOT VALID, then validated (as finish_tables does on more connections)
    assert [s.split()[-3:] for _, s in early_fks[:2]] == [
        ["public.account(id)", "NOT", "VALID"],
        ["VALIDATE", "CONSTRAINT", '"item_account_id_fkey"'],
    ]
    # the finishing steps (the early thread's own statements go through _run_steps too)
    late_fks = [q for q, s in finished if "FOREIGN KEY" in s or "VALIDATE" in s]
    assert late_fks.count("public.item") == len(early_fks) // 2  # the second run's, early
    assert _rows(many, CONSTRAINTS) == _rows(one, CONSTRAINTS) == _rows(again, CONSTRAINTS)


def test_a_foreign_key_the_copied_rows_break_fails_the_run_naming_the_table(
    pg_url_factory: Any,
) -> None:
    """Items that reference no account (put into the source past its foreign key, as
    a replica's session can): the foreign key, added during the copy now, fails the
    run as it did after the copy (the table named, marker failed). The orphans come
    from the data, not from a transformer chosen by the order of its construction:
    forked workers build their own transformers in the order they take tables."""
    import psycopg

    src, tgt = _pair(pg_url_factory, SCHEMA)
    with psycopg.connect(src, autocommit=True) as conn:
        conn.execute("SET session_replication_role = replica")
        conn.execute("INSERT INTO item VALUES (900001, 999999, 1)")
    with open_database(src) as db:
        plan = plan_for(db.introspect(), {})
    _fails_naming(plan, src, tgt, None, "public.item")
