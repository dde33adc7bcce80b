"""Red-team findings on production values surviving through structure and schema
(not through cells): each test failed before its fix.

- A LIST partition of a masked column (``PARTITION OF users FOR VALUES IN
  ('alice@corp.example')``, MariaDB's ``PARTITION p VALUES IN (…)``): the copy
  recreated the partition, bound and all, and verify never read partition bounds,
  so the e-mail (or a lone surname) stayed in staging's schema and verify passed;
  without a DEFAULT partition the run failed half-way ("no partition of relation
  found for row") after creating the tables. Lint now refuses it
  (``partition-bound``), and verify reads partition bounds.
- Text kept in a binary column (a ``bytea``/BLOB of UTF-8 e-mails and names, with no
  foreign key to a person): the plan kept it (samples of binary columns were never
  read), and verify hashed bytes as hex, so no unit matched the e-mails it held:
  copied as it was, verify passed. Now planned ``null`` and read as text by verify.
- SQLite keeps a ``CREATE TABLE`` as written: a comment in it (``-- owner:
  alice@…``) was copied with it, and verify read only string literals of
  definitions. The copy now drops comments; verify reads comments too (and no
  longer misreads the literals after a quote inside a comment: ``-- don't``).
- A PostgreSQL domain's ``DEFAULT`` holding a source value: verify did not read
  domain defaults.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.errors import MaskingError, SchemaPersonalData
from stagewall.masking._definitions import literals
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.lint import Rule
from stagewall.masking.plan import ColumnPlan
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import (
    BACKENDS,
    KEY,
    SERVER_BACKENDS,
    acknowledging,
    url_maker,
    with_column,
)
from tests.masking.integration.traps import _connect
from tests.masking.survivors import _rows as rows_of

SECRET = "alice.zwanenburg@corp-example.com"
SURNAMES = ["Ganthriv", "Oyelaran", "Przybylski", "Vandermeer"]


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def _execute(url: str, statements: list[str], rows: list[tuple[Any, ...]] | None = None) -> None:
    """Run ``statements``; the last one once per row of ``rows`` (``?`` placeholders)."""
    conn, ph = _connect(url)
    try:
        cur = conn.cursor()
        for i, sql in enumerate(statements):
            if rows is not None and i == len(statements) - 1:
                cur.executemany(sql.replace("?", ph), rows)
            else:
                cur.execute(sql)
        conn.commit()
    finally:
        conn.close()


def _people() -> list[tuple[int, str, str]]:
    people = [(i, f"user{i}@mail-example.com", SURNAMES[i % 4]) for i in range(1, 41)]
    return [*people, (99, SECRET, "Zwanenburg")]


def _schema_text(url: str) -> str:
    """Every definition of the target's schema as one text."""
    if url.startswith("sqlite"):
        sql = "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL"
    elif url.startswith("postgresql"):
        sql = (
            "SELECT pg_catalog.pg_get_expr(c.relpartbound, c.oid) FROM pg_catalog.pg_class c "
            "WHERE c.relispartition UNION ALL SELECT t.typdefault FROM pg_catalog.pg_type t "
            "WHERE t.typdefault IS NOT NULL"
        )
    else:
        sql = (
            "SELECT PARTITION_DESCRIPTION FROM information_schema.PARTITIONS "
            "WHERE TABLE_SCHEMA = DATABASE() AND PARTITION_DESCRIPTION IS NOT NULL"
        )
    return "\n".join(str(r[0]) for r in rows_of(url, sql))


# ---- partition bounds ----------------------------------------------------------------

_PARTITIONED = {
    "postgresql": [
        "CREATE TABLE users (id int NOT NULL, email text NOT NULL, last_name text) "
        "PARTITION BY LIST (email)",
        f"CREATE TABLE users_vip PARTITION OF users FOR VALUES IN ('{SECRET}')",
        "CREATE TABLE users_rest PARTITION OF users DEFAULT",
    ],
    "mysql": [
        "CREATE TABLE users (id int NOT NULL, email varchar(100) NOT NULL, "
        "last_name varchar(50), PRIMARY KEY (id, email)) PARTITION BY LIST COLUMNS (email) "
        f"(PARTITION users_vip VALUES IN ('{SECRET}'), PARTITION users_rest DEFAULT)",
    ],
}


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_a_partition_bounded_by_a_masked_columns_values_is_refused(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    """The auto plan masks ``email``; a partition ``FOR VALUES IN ('alice…')`` would
    carry the address into staging's schema (and verify passed): lint refuses the
    plan naming the column and the partition, and the run touches nothing."""
    make = url_maker(request, tmp_path, backend)
    src, tgt = make(), make()
    _execute(
        src,
        [*_PARTITIONED[backend], "INSERT INTO users VALUES (?, ?, ?)"],
        _people(),
    )
    result = build_plan(src)
    assert result.plan.tables[_q("users", backend)].columns["email"].transformer == "email"
    found = [p for p in result.problems if p.rule is Rule.PARTITION_BOUND]
    assert [(p.column, p.severity.value) for p in found] == [("email", "error")]
    assert "users_vip" in found[0].message and SECRET not in found[0].render()
    with pytest.raises(MaskingError, match="partition-bound"):
        run(result.plan, src, tgt, KEY, RunOptions())
    assert SECRET not in _schema_text(tgt)

    # kept (its values judged not personal, for the test): the bound is still an
    # e-mail literal the copy would recreate (SW520); acknowledged too, copied,
    # partitions and all
    kept = with_column(
        result.plan, _q("users", backend), "email", ColumnPlan(transformer="keep", reason="t")
    )
    kept = with_column(
        kept, _q("users", backend), "last_name", ColumnPlan(transformer="keep", reason="t")
    )
    with pytest.raises(SchemaPersonalData, match="partition"):
        run(kept, src, tgt, KEY, RunOptions())
    run(acknowledging(kept, src), src, tgt, KEY, RunOptions())
    assert SECRET in _schema_text(tgt)


@pytest.mark.postgres
def test_a_surname_partition_bound_is_refused_and_seen_by_verify(
    pg_url_factory: Callable[[], str],
) -> None:
    """A lone surname as a LIST bound (the detector does not know it): refused by
    lint like an e-mail; and verify reads partition bounds, so a target holding one
    (here made by a plan that keeps the column, then masked by hand) fails."""
    src, tgt = pg_url_factory(), pg_url_factory()
    _execute(
        src,
        [
            "CREATE TABLE people (id int, last_name text NOT NULL, first_name text) "
            "PARTITION BY LIST (last_name)",
            "CREATE TABLE people_z PARTITION OF people FOR VALUES IN ('Zwanenburg')",
            "CREATE TABLE people_rest PARTITION OF people DEFAULT",
            "INSERT INTO people VALUES (?, ?, ?)",
        ],
        [(i, SURNAMES[i % 4], "Hannelore") for i in range(60)] + [(99, "Zwanenburg", "Alice")],
    )
    result = build_plan(src)
    assert [p.column for p in result.problems if p.rule is Rule.PARTITION_BOUND] == ["last_name"]
    kept = with_column(
        result.plan, "public.people", "last_name", ColumnPlan(transformer="keep", reason="t")
    )
    run(kept, src, tgt, KEY, RunOptions())
    _execute(tgt, ["UPDATE people SET last_name = 'Smith' WHERE last_name <> 'Zwanenburg'"])
    _execute(tgt, ["DELETE FROM people WHERE last_name = 'Zwanenburg'"])
    report = verify(result.plan, src, tgt, KEY)
    assert not report.passed
    assert [h.column for h in report.hits] == ["partition public.people_z"], report.to_json()


@pytest.mark.postgres
def test_hash_and_date_range_partitions_of_masked_columns_still_copy(
    pg_url_factory: Callable[[], str],
) -> None:
    """What the rule leaves alone: a HASH partition holds no values, and a RANGE of
    dates cut at some day names no one (the masked rows are routed anew); nor
    does verify read a RANGE bound equal to some source birth date as a leak."""
    src, tgt = pg_url_factory(), pg_url_factory()
    _execute(
        src,
        [
            "CREATE TABLE events (id int, email text, birth_date date NOT NULL) "
            "PARTITION BY RANGE (birth_date)",
            "CREATE TABLE events_old PARTITION OF events FOR VALUES FROM ('1900-01-01') "
            "TO ('1979-12-15')",
            "CREATE TABLE events_new PARTITION OF events FOR VALUES FROM ('1979-12-15') "
            "TO ('2100-01-01')",
            "CREATE TABLE contacts (id int, email text) PARTITION BY HASH (email)",
            "CREATE TABLE contacts_0 PARTITION OF contacts FOR VALUES WITH (MODULUS 2, REMAINDER 0)",
            "CREATE TABLE contacts_1 PARTITION OF contacts FOR VALUES WITH (MODULUS 2, REMAINDER 1)",
            "INSERT INTO contacts SELECT i, 'user' || i || '@mail-example.com' "
            "FROM generate_series(1, 40) i",
            "INSERT INTO events VALUES (?, ?, ?)",
        ],
        [(i, f"user{i}@mail-example.com", f"1979-12-{i % 28 + 1:02d}") for i in range(1, 41)]
        + [(99, SECRET, "1979-12-15")],  # born on a bound: a cut point, not a leak
    )
    result = build_plan(src)
    plan = result.plan
    assert plan.tables["public.contacts"].columns["email"].transformer == "email"
    assert not [p for p in result.problems if p.rule is Rule.PARTITION_BOUND]
    run(plan, src, tgt, KEY, RunOptions())
    assert verify(plan, src, tgt, KEY).passed


def _q(table: str, backend: str) -> str:
    return f"public.{table}" if backend == "postgresql" else table


# ---- text kept as bytes -------------------------------------------------------------

_BLOB = {"sqlite": "BLOB", "postgresql": "bytea", "mysql": "BLOB"}


def test_text_in_a_binary_column_is_nulled_and_seen(make: Callable[[], str]) -> None:
    """A binary column of UTF-8 text (``user7@… Oyelaran``) in a table with no
    reference to a person: the plan kept it and verify, hashing bytes as hex,
    passed with every address in staging. Now planned ``null``; kept, verify fails."""
    src, tgt = make(), make()
    backend = src.split(":", 1)[0]
    blob = _BLOB[backend]
    text = "VARCHAR(100)" if backend == "mysql" else "TEXT"
    _execute(
        src,
        [
            f"CREATE TABLE customers (id INTEGER PRIMARY KEY, email {text}, last_name {text})",
            "INSERT INTO customers VALUES (?, ?, ?)",
        ],
        _people(),
    )
    _execute(
        src,
        [
            f"CREATE TABLE blobs (id INTEGER PRIMARY KEY, data {blob})",
            "INSERT INTO blobs VALUES (?, ?)",
        ],
        [(i, f"{email} {last}".encode()) for i, email, last in _people()],
    )
    plan = build_plan(src).plan
    name = "public.blobs" if backend == "postgresql" else "blobs"
    assert plan.tables[name].columns["data"].transformer == "null"
    run(plan, src, tgt, KEY, RunOptions())
    assert verify(plan, src, tgt, KEY).passed
    assert rows_of(tgt, "SELECT count(*) FROM blobs WHERE data IS NOT NULL")[0][0] == 0

    kept = with_column(plan, name, "data", ColumnPlan(transformer="keep", reason="test: kept"))
    tgt2 = make()
    run(kept, src, tgt2, KEY, RunOptions())
    report = verify(kept, src, tgt2, KEY)
    assert not report.passed
    assert [(h.column, h.hits) for h in report.hits] == [("data", len(_people()))]


# ---- comments and defaults in definitions ---------------------------------------------


def test_sqlite_create_table_comments_are_not_copied(tmp_path: Path) -> None:
    """SQLite's CREATE TABLE as written, comments and all, was copied; verify read
    only its string literals, and passed."""
    src = f"sqlite:///{tmp_path / 'src.db'}"
    tgt = f"sqlite:///{tmp_path / 'tgt.db'}"
    _execute(
        src,
        [
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, -- owner: " + SECRET + "\n"
            " email TEXT NOT NULL, /* Zwanenburg's table */ last_name TEXT "
            "CHECK (last_name <> '--'))",
            "CREATE INDEX ix_email ON customers (email) -- asked by " + SECRET,
            "INSERT INTO customers VALUES (?, ?, ?)",
        ],
        _people(),
    )
    plan = build_plan(src).plan
    run(plan, src, tgt, KEY, RunOptions())
    assert verify(plan, src, tgt, KEY).passed
    schema = _schema_text(tgt)
    assert SECRET not in schema and "Zwanenburg" not in schema
    assert "CHECK (last_name <> '--')" in schema and "ix_email" in schema


def test_verify_reads_comments_in_definitions() -> None:
    """What verify takes from a definition: literals and comments, read in order (a
    quote inside a comment shifted every literal after it)."""
    sql = "SELECT 1 -- don't\n, 'Zwanenburg' /* x@corp.example */ FROM t WHERE a #>> '{b}'"
    assert literals(sql, True) == ["Zwanenburg", "{b}", "don't", "x@corp.example"]
    assert literals("BEGIN # Zwanenburg\nSELECT 'a'; END", True, "mysql") == ["a", "Zwanenburg"]
    assert literals("SELECT [it's] FROM t -- c", True, "sqlite") == ["c"]


@pytest.mark.postgres
def test_a_domain_default_holding_a_source_value_fails_verify(
    pg_url_factory: Callable[[], str],
) -> None:
    """``CREATE DOMAIN vip AS text DEFAULT 'alice…'``: the domain is copied (tables
    need it) and verify did not read domain defaults, so it passed."""
    src, tgt = pg_url_factory(), pg_url_factory()
    _execute(
        src,
        [
            f"CREATE DOMAIN vipmail AS text DEFAULT '{SECRET}'",
            "CREATE TABLE owners (id int PRIMARY KEY, contact vipmail)",
            "INSERT INTO owners VALUES (1, NULL)",
            "CREATE TABLE customers (id int PRIMARY KEY, email text, last_name text)",
            "INSERT INTO customers VALUES (?, ?, ?)",
        ],
        _people(),
    )
    plan = build_plan(src).plan
    # refused before the run now (SW520); acknowledged, verify still finds the value
    with pytest.raises(SchemaPersonalData, match=r"domain public\.vipmail"):
        run(plan, src, tgt, KEY, RunOptions())
    plan = acknowledging(plan, src)
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    assert not report.passed
    assert [h.column for h in report.hits] == ["domain public.vipmail"], report.to_json()


# ---- SQLite virtual tables --------------------------------------------------------------


def test_sqlite_full_text_tables_are_copied_masked_and_rebuilt(tmp_path: Path) -> None:
    """An FTS5 table (and FTS4, R*Tree): the plan listed their shadow tables
    (``notes_fts_content``, ``notes_fts_data`` — the text and its words) as tables of
    their own, and the run failed half-way ("table 'notes_fts_config' already
    exists", the virtual table having made them). Now the virtual table is planned
    like a table (its rows keep their rowid), its storage is rebuilt from the
    masked rows, and a table over another's content is rebuilt from that table (a
    contentless one, whose text cannot be read back, is left with an empty index)."""
    src = f"sqlite:///{tmp_path / 'src.db'}"
    tgt = f"sqlite:///{tmp_path / 'tgt.db'}"
    _execute(
        src,
        [
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, last_name TEXT, "
            "notes TEXT)",
            "INSERT INTO customers VALUES (?, ?, ?, ?)",
        ],
        [(i, e, last, f"wrote from {e} about the parcel") for i, e, last in _people()],
    )
    _execute(
        src,
        [
            "CREATE VIRTUAL TABLE notes_fts USING fts5(body)",
            "INSERT INTO notes_fts (rowid, body) SELECT id, notes FROM customers",
            "CREATE VIRTUAL TABLE old_fts USING fts4(body)",
            "INSERT INTO old_fts (docid, body) SELECT id, email FROM customers",
            "CREATE VIRTUAL TABLE ext_fts USING fts5(notes, content='customers', "
            "content_rowid='id')",
            "INSERT INTO ext_fts (ext_fts) VALUES ('rebuild')",
            "CREATE VIRTUAL TABLE bare_fts USING fts5(notes, content='')",
            "INSERT INTO bare_fts (rowid, notes) SELECT id, notes FROM customers",
            "CREATE VIRTUAL TABLE boxes USING rtree(id, minx, maxx)",
            "INSERT INTO boxes SELECT id, id, id + 1 FROM customers",
        ],
    )
    result = build_plan(src)
    assert sorted(result.plan.tables) == [
        "bare_fts",
        "boxes",
        "customers",
        "ext_fts",
        "notes_fts",
        "old_fts",
    ]
    assert result.plan.tables["notes_fts"].columns["body"].transformer != "keep"
    run(result.plan, src, tgt, KEY, RunOptions())
    assert verify(result.plan, src, tgt, KEY).passed
    everything = "\n".join(
        str(v)
        for (name,) in rows_of(tgt, "SELECT name FROM sqlite_master WHERE type = 'table'")
        for row in rows_of(tgt, f'SELECT * FROM "{name}"')
        for v in row
    )
    assert "user7@mail-example.com" not in everything and SECRET not in everything
    parcel = "SELECT rowid FROM {} WHERE {} MATCH 'parcel' ORDER BY rowid"
    ids = [i for i, _e, _l in _people()]
    for table in ("notes_fts", "ext_fts"):
        assert [r[0] for r in rows_of(tgt, parcel.format(table, table))] == ids
    assert [r[0] for r in rows_of(tgt, "SELECT rowid FROM old_fts ORDER BY rowid")] == ids
    for table in ("notes_fts", "old_fts", "ext_fts", "bare_fts"):  # no production word
        found = f"SELECT count(*) FROM {table} WHERE {table} MATCH 'user7'"
        assert rows_of(src, found) == [(1,)] and rows_of(tgt, found) == [(0,)]
    assert rows_of(tgt, "SELECT count(*) FROM boxes") == [(len(ids),)]


# ---- MariaDB system-versioned tables ----------------------------------------------------


@pytest.mark.mysql
def test_a_system_versioned_table_is_planned_and_copied_without_its_history(
    mysql_url_factory: Callable[[], str],
) -> None:
    """MariaDB lists a ``WITH SYSTEM VERSIONING`` table as ``SYSTEM VERSIONED``, not
    ``BASE TABLE``: the plan, the run and verify left it out without a word (a
    source of only such tables was "no tables: nothing to plan"). Now it is planned
    and copied, its current rows masked; its history (old e-mails) is not copied —
    the target's history starts with the masked rows."""
    src, tgt = mysql_url_factory(), mysql_url_factory()
    _execute(
        src,
        [
            "CREATE TABLE accounts (id int PRIMARY KEY, email varchar(100), "
            "last_name varchar(50)) WITH SYSTEM VERSIONING",
            "INSERT INTO accounts VALUES (?, ?, ?)",
        ],
        [(i, f"old{i}@mail-example.com", last) for i, _e, last in _people()],
    )
    _execute(src, ["UPDATE accounts SET email = REPLACE(email, 'old', 'user')"])
    plan = build_plan(src).plan
    assert plan.tables["accounts"].columns["email"].transformer == "email"
    run(plan, src, tgt, KEY, RunOptions())
    assert verify(plan, src, tgt, KEY).passed
    every = rows_of(tgt, "SELECT email, last_name FROM accounts FOR SYSTEM_TIME ALL")
    assert len(every) == len(_people())
    assert not [r for r in every if "mail-example.com" in str(r[0]) or r[1] in SURNAMES]


# ---- fixed lists of personal values -------------------------------------------------------


def test_a_fixed_list_of_email_addresses_is_refused(make: Callable[[], str]) -> None:
    """``CHECK (approver IN ('alice…', 'bob…'))`` (MySQL: a ``SET``/``ENUM`` of
    addresses): the planner keeps a fixed-list column, so the run copied the
    addresses, in the rows and in the schema, and verify failed after the run.
    Lint now refuses it before anything is written; a list of colours stays kept."""
    src, tgt = make(), make()
    text = "VARCHAR(100)" if src.startswith("mysql") else "TEXT"
    approvers = [SECRET, "bob.krzyzanowski@corp-example.com"]
    listed = ", ".join(f"'{a}'" for a in approvers)
    _execute(
        src,
        [
            f"CREATE TABLE tickets (id INTEGER PRIMARY KEY, approver {text} "
            f"CHECK (approver IN ({listed})), colour {text} "
            "CHECK (colour IN ('rose', 'amber', 'olive')))",
            "INSERT INTO tickets VALUES (?, ?, ?)",
        ],
        [(i, approvers[i % 2], ["rose", "amber", "olive"][i % 3]) for i in range(40)],
    )
    result = build_plan(src)
    found = [(p.rule, p.column) for p in result.problems if p.severity.value == "error"]
    # the check constraint holding the addresses is reported as such too
    assert found == [(Rule.FIXED_LIST, "approver"), (Rule.SCHEMA_PERSONAL_DATA, None)], found
    assert SECRET not in "".join(p.render() for p in result.problems)
    with pytest.raises(MaskingError, match="fixed-list"):
        run(result.plan, src, tgt, KEY, RunOptions())
    name = "public.tickets" if src.startswith("postgresql") else "tickets"
    own = ColumnPlan(transformer="keep", reason="shared team mailboxes, not people")
    kept = with_column(result.plan, name, "approver", own)
    with pytest.raises(SchemaPersonalData):  # the check itself is acknowledged apart
        run(kept, src, tgt, KEY, RunOptions())
    run(acknowledging(kept, src), src, tgt, KEY, RunOptions())


@pytest.mark.mysql
def test_a_mysql_set_of_addresses_is_refused(mysql_url_factory: Callable[[], str]) -> None:
    """A MariaDB ``SET`` of addresses: the list is the column's type."""
    src = mysql_url_factory()
    _execute(
        src,
        [
            "CREATE TABLE owners (id int PRIMARY KEY, "
            f"emails SET('{SECRET}', 'bob@corp-example.com'), tier ENUM('gold', 'silver'))",
            "INSERT INTO owners VALUES (?, ?, ?)",
        ],
        [(1, SECRET, "gold"), (2, "bob@corp-example.com", "silver")],
    )
    found = [(p.rule, p.column) for p in build_plan(src).problems if p.severity.value == "error"]
    # the type's labels are reported as such too, as a check constraint's (jsonenum)
    assert found == [(Rule.FIXED_LIST, "emails"), (Rule.SCHEMA_PERSONAL_DATA, None)]


@pytest.mark.postgres
def test_a_postgres_enum_of_addresses_is_refused(pg_url_factory: Callable[[], str]) -> None:
    """A PostgreSQL enum whose labels are addresses: the plan set the column to NULL
    (a structured type whose samples hold an e-mail) but the enum type, labels and
    all, was copied, and verify failed after the run. Now an enum is a fixed list:
    refused by lint; an enum of statuses stays kept."""
    src, tgt = pg_url_factory(), pg_url_factory()
    _execute(
        src,
        [
            f"CREATE TYPE approver AS ENUM ('{SECRET}', 'bob@corp-example.com')",
            "CREATE TYPE status AS ENUM ('open', 'closed')",
            "CREATE TABLE tickets (id int PRIMARY KEY, approved_by approver, state status)",
            "INSERT INTO tickets VALUES (?, ?, ?)",
        ],
        [(i, [SECRET, "bob@corp-example.com"][i % 2], ["open", "closed"][i % 2]) for i in range(9)],
    )
    result = build_plan(src)
    found = [(p.rule, p.column) for p in result.problems if p.severity.value == "error"]
    # the enum type's labels are reported as such too, as a check constraint's (jsonenum)
    assert found == [(Rule.FIXED_LIST, "approved_by"), (Rule.SCHEMA_PERSONAL_DATA, None)]
    assert result.plan.tables["public.tickets"].columns["state"].transformer == "keep"
    with pytest.raises(MaskingError, match="fixed-list"):
        run(result.plan, src, tgt, KEY, RunOptions())
