"""The unedited auto plan on the real Sakila database (data/sakila, jOOQ's BSD port),
on PostgreSQL (the schema Pagila grew from: inheritance partitions routed by rules,
a user-defined aggregate under three views, functions, triggers, a domain, an enum,
a full-text column) and on MariaDB (views, functions, procedures, triggers filling
``film_text``).

Sakila's traps: most of it is public catalogue data that must stay as it is
(countries, languages, categories, film titles and descriptions — "in A Jet Boat":
"Jet" is a Dutch first name); ``film_text`` is a denormalised copy of ``film``;
the stores' addresses have a blank district; customers and staff share the
address table.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from stagewall.masking.compare import compare_schemas
from stagewall.masking.engine import RunOptions, RunResult, run
from stagewall.masking.lint import errors
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan, dump_plan, load_plan
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import verify
from tests.conftest import PG_ADMIN_DSN
from tests.masking import sakila
from tests.masking.integration.helpers import KEY
from tests.masking.survivors import _rows, survivors

MYSQL = "mysql://root@127.0.0.1:3306"
CARRY = frozenset({"keep", "text_scrub", "json_mask"})
# what a person is, per table: column → kind for the independent checker
PEOPLE = {
    "customer": {"first_name": "name", "last_name": "name", "email": "email"},
    "staff": {"first_name": "name", "last_name": "name", "email": "email", "username": "name"},
    "actor": {"first_name": "name", "last_name": "name"},
    "address": {"address": "street", "phone": "phone", "postal_code": "postcode"},
}
# public reference data: table → (key, columns) that must be copied unchanged
REFERENCE = {
    "country": ("country_id", ["country"]),
    "category": ("category_id", ["name"]),
    "language": ("language_id", ["name"]),
    "film": ("film_id", ["title", "description", "rating", "special_features"]),
}


@dataclass
class Copy:
    backend: str
    source: str
    target: str
    plan: Plan
    result: RunResult


def _new(backend: str) -> tuple[str, str]:
    name = f"sakila11_{uuid.uuid4().hex[:10]}"
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
        return name, f"{PG_ADMIN_DSN.rsplit('/', 1)[0]}/{name}"
    _admin_mysql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    return name, f"{MYSQL}/{name}"


def _drop(backend: str, name: str) -> None:
    if backend == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
    else:
        _admin_mysql(f"DROP DATABASE IF EXISTS `{name}`")


def _admin_mysql(sql: str) -> None:
    import pymysql

    with pymysql.connect(host="127.0.0.1", port=3306, user="root", password="") as conn:
        conn.cursor().execute(sql)


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ],
)
def databases(request: pytest.FixtureRequest) -> Iterator[tuple[str, Any]]:
    """(backend, make) where make() returns a fresh throwaway database URL."""
    made: list[str] = []

    def make() -> str:
        name, url = _new(request.param)
        made.append(name)
        return url

    try:
        yield request.param, make
    finally:
        for name in made:
            _drop(request.param, name)


@pytest.fixture(scope="module")
def copy(databases: tuple[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Copy:
    backend, make = databases
    src, tgt = make(), make()
    (sakila.load_postgres if backend == "postgresql" else sakila.load_mysql)(src)
    result = build_plan(src)
    assert errors(list(result.problems)) == []
    path = tmp_path_factory.mktemp("sakila") / "plan.yaml"
    path.write_text(dump_plan(result.plan))
    plan = load_plan(path)  # what a user runs: the file, unedited
    return Copy(backend, src, tgt, plan, run(plan, src, tgt, KEY, RunOptions()))


def _t(c: Copy, table: str) -> TablePlan:
    return c.plan.tables[f"public.{table}" if c.backend == "postgresql" else table]


def _by_key(url: str, table: str, key: str, columns: list[str]) -> dict[Any, tuple[Any, ...]]:
    cols = ", ".join(f'"{x}"' for x in columns)
    return {r[0]: tuple(r[1:]) for r in _rows(url, f'SELECT "{key}", {cols} FROM "{table}"')}


def test_unedited_plan_runs_and_verifies_clean(copy: Copy) -> None:
    assert copy.result.marker_status.value == "complete"
    report = verify(copy.plan, copy.source, copy.target, KEY)
    assert report.total_hits == 0, report.to_json()
    assert report.row_hits == (), report.to_json()
    assert report.passed, report.to_json()


def test_reference_data_is_kept(copy: Copy) -> None:
    """Countries, languages, categories and the film catalogue are not personal data:
    copied as they are, never turned into people's names."""
    for table in ["country", "category", "language"]:  # marked only where it changes a column
        tp = _t(copy, table)
        assert tp.reference or {c.transformer for c in tp.columns.values()} == {"keep"}, tp
    for table, (key, columns) in REFERENCE.items():
        for c in columns:
            assert _t(copy, table).columns[c].transformer == "keep", (table, c)
        before = _by_key(copy.source, table, key, columns)
        after = _by_key(copy.target, table, key, columns)
        assert len(before) > 5
        assert before == after, table


def test_people_are_masked_and_no_source_value_is_left(copy: Copy) -> None:
    """Every personal column is replaced, row by row no target value equals its source."""
    keys = {"customer": "customer_id", "staff": "staff_id", "actor": "actor_id"}
    keys["address"] = "address_id"
    for table, people in PEOPLE.items():
        for c in people:
            assert _t(copy, table).columns[c].transformer not in CARRY, (table, c)
            before = _by_key(copy.source, table, keys[table], [c])
            after = _by_key(copy.target, table, keys[table], [c])
            same = [k for k, v in after.items() if v[0] and len(str(v[0])) > 3 and before[k] == v]
            assert not same, (table, c, len(same))


def test_independent_checker_finds_no_survivor(copy: Copy) -> None:
    """No person's own value in a text cell of their row or of rows that reference it
    (an address's street or phone in its customer's or staff member's row)."""
    texts = {
        "customer": ["first_name", "last_name", "email"],
        "staff": ["first_name", "last_name", "email", "username"],
        "address": ["address", "address2", "district", "postal_code", "phone"],
        "film": ["title", "description"],
    }
    found: dict[str, int] = {}
    for parent, key in [("customer", "customer_id"), ("staff", "staff_id")]:
        found |= survivors(
            copy.source,
            copy.target,
            parent,
            PEOPLE[parent],
            {parent: texts[parent]},
            {parent: key},
            key=key,
            plan=copy.plan,
        )
    found |= survivors(
        copy.source,
        copy.target,
        "address",
        PEOPLE["address"],
        {t: texts[t] for t in ["address", "customer", "staff"]},
        {"address": "address_id", "customer": "address_id", "staff": "address_id"},
        key="address_id",
        plan=copy.plan,
    )
    assert found == {}


def test_lengths_fit_the_columns(copy: Copy) -> None:
    """No value longer than its varchar(n)/char(n); e-mail local parts ≤ 64."""
    if copy.backend == "postgresql":
        sql = (
            "SELECT table_name, column_name, character_maximum_length "
            "FROM information_schema.columns WHERE table_schema = 'public' "
            "AND character_maximum_length IS NOT NULL"
        )
    else:
        sql = (
            "SELECT table_name, column_name, character_maximum_length "
            "FROM information_schema.columns WHERE table_schema = DATABASE() "
            "AND data_type IN ('varchar', 'char')"
        )
    checked = 0
    for table, column, n in _rows(copy.target, sql):
        (longest,) = _rows(copy.target, f'SELECT max(char_length("{column}")) FROM "{table}"')[0]
        assert longest is None or longest <= n, (table, column, longest, n)
        checked += 1
    assert checked > 20
    for table in ["customer", "staff"]:
        for (email,) in _rows(copy.target, f'SELECT email FROM "{table}" WHERE email IS NOT NULL'):
            assert len(email.split("@")[0]) <= 64 and len(email) <= 50


def test_copies_stay_faithful(copy: Copy) -> None:
    """Equal in the source, equal in the target: the same source value gets the same
    pseudonym in its column and in every column of its consistency domain (all
    e-mails); blank strings stay blank; MariaDB's film_text
    still equals film; customers and staff still share their address rows."""
    images: dict[str, dict[Any, set[Any]]] = {}
    for name, tp in c_tables(copy):
        key = f"{name}_id"  # Sakila's keys are named after their table
        masked = [c for c, cp in tp.columns.items() if cp.transformer not in CARRY]
        if not masked or key not in tp.columns:
            continue
        before = _by_key(copy.source, name, key, masked)
        after = _by_key(copy.target, name, key, masked)
        for i, c in enumerate(masked):
            # one column, or every column of one consistency domain (actors and
            # customers who share a surname are different people: not a domain)
            kind = tp.columns[c].params.get("consistency") or f"{name}.{c}"
            for k, row in before.items():
                if isinstance(row[i], str):
                    images.setdefault(kind, {}).setdefault(row[i], set()).add(after[k][i])
    assert "customer.last_name" in images and "address.district" in images
    assert any(k.startswith("email@") for k in images), sorted(images)  # customers' and staff's
    for kind, by_value in images.items():
        split = {v: out for v, out in by_value.items() if len(out) > 1}
        assert not split, (kind, len(split))
        for v, out in by_value.items():
            if not v.strip():
                assert out == {v}, kind  # blank stays blank
    if copy.backend == "mysql":
        q = (
            'SELECT count(*) FROM "film" f JOIN "film_text" t ON t."film_id" = f."film_id" '
            'WHERE f."title" <> t."title" OR f."description" <> t."description"'
        )
        assert _rows(copy.target, q) == [(0,)]
    q = 'SELECT "customer_id", "address_id" FROM "customer"'
    assert sorted(_rows(copy.source, q)) == sorted(_rows(copy.target, q))


def c_tables(copy: Copy) -> list[tuple[str, TablePlan]]:
    return [(n.removeprefix("public."), tp) for n, tp in copy.plan.tables.items()]


OBJECTS = {
    "postgresql": {
        "views": "SELECT viewname FROM pg_views WHERE schemaname = 'public'",
        "routines": "SELECT p.oid::regprocedure::text FROM pg_proc p "
        "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'",
        "triggers": "SELECT tgname || ' on ' || tgrelid::regclass::text FROM pg_trigger "
        "WHERE NOT tgisinternal",
        "rules": "SELECT rulename || ' on ' || tablename FROM pg_rules WHERE schemaname = 'public'",
        "inherits": "SELECT inhrelid::regclass::text || ' < ' || inhparent::regclass::text "
        "FROM pg_inherits",
        "foreign keys": "SELECT conname || ' on ' || conrelid::regclass::text FROM pg_constraint "
        "WHERE contype = 'f'",
    },
    "mysql": {
        "views": "SELECT table_name FROM information_schema.views WHERE table_schema = DATABASE()",
        "routines": "SELECT concat(routine_type, ' ', routine_name) FROM information_schema.routines "
        "WHERE routine_schema = DATABASE()",
        "triggers": "SELECT concat(trigger_name, ' on ', event_object_table) "
        "FROM information_schema.triggers WHERE trigger_schema = DATABASE()",
    },
}


def test_schema_objects_are_recreated(copy: Copy) -> None:
    """Views (three over the user aggregate group_concat on PostgreSQL), functions,
    procedures, triggers, rules, inheritance partitions and their keys all exist in
    the copy, and work."""
    assert copy.result.objects_skipped == ()
    for kind, sql in OBJECTS[copy.backend].items():
        before = sorted(r[0] for r in _rows(copy.source, sql))
        assert before, kind
        assert sorted(r[0] for r in _rows(copy.target, sql)) == before, kind
    comparison = compare_schemas(copy.source, copy.target)
    assert comparison.differences == [], comparison.to_json()
    for sql in ['SELECT count(*) FROM "actor_info"', 'SELECT count(*) FROM "film_list"']:
        assert _rows(copy.target, sql) == _rows(copy.source, sql)
    if copy.backend == "postgresql":
        q = "SELECT count(*), sum(amount) FROM payment"
        assert _rows(copy.target, q) == _rows(copy.source, q)  # not twice through children
        q = "SELECT inventory_in_stock(1), (SELECT count(*) FROM film_in_stock(1, 1))"
    else:
        q = "SELECT get_customer_balance(1, '2007-12-31'), inventory_in_stock(1)"
    assert _rows(copy.target, q) == _rows(copy.source, q)


def test_the_checks_see_a_weakened_plan(copy: Copy, databases: tuple[str, Any]) -> None:
    """The same checks can fail: with customers' e-mails kept, verify fails and the
    independent checker finds every one."""
    _, make = databases
    tables = dict(copy.plan.tables)
    name = "public.customer" if copy.backend == "postgresql" else "customer"
    cols = dict(tables[name].columns)
    cols["email"] = ColumnPlan(transformer="keep", reason="weakened for the test")
    tables[name] = TablePlan(columns=cols)
    weak = Plan(schemas=copy.plan.schemas, tables=tables)
    tgt = make()
    run(weak, copy.source, tgt, KEY, RunOptions())
    assert not verify(weak, copy.source, tgt, KEY).passed
    found = survivors(
        copy.source,
        tgt,
        "customer",
        {"email": "email"},
        {"customer": ["email"]},
        {"customer": "customer_id"},
        key="customer_id",
    )
    assert found.get("customer.email", 0) >= 599


def test_data_files_are_small() -> None:
    assert sum(p.stat().st_size for p in Path(sakila.DATA).iterdir()) < 3_000_000


def test_jet_is_a_word_unless_next_to_a_surname() -> None:
    """Sakila's film descriptions end "in A Jet Boat": "Jet" (a Dutch first name) is
    taken as a name only next to a surname, like "April" or "Hunter"."""
    from stagewall.masking.classify import detect_in_text

    assert (
        detect_in_text("A Touching Saga of a Hunter who must Discover a Butler in A Jet Boat") == []
    )
    assert [m.text for m in detect_in_text("Spoke with Jet Jansen today")] == ["Jet Jansen"]
