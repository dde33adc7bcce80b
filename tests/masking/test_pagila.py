"""The unedited auto plan on the real Pagila database (data/pagila) on PostgreSQL.

Pagila is Sakila grown up: ``payment`` is partitioned by range of ``payment_date``
(one partition per month of 2022), and the partitions carry foreign keys and
indexes of their own (the parent has none), so a copy that recreates only the
parent's keys accepts orphan payments. Besides: the ``group_concat`` aggregate
under three views, a materialised view, functions, triggers, domains, an enum and a
full-text column; the catalogue (films, categories, languages, countries) is public
reference data that must stay as it is.
"""

from __future__ import annotations

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
from tests.conftest import _drop_pg_database, _new_pg_database
from tests.masking import pagila
from tests.masking.integration.helpers import KEY, with_column
from tests.masking.survivors import _rows, needles, plain, survivors
from tests.masking.test_sakila import PEOPLE, REFERENCE  # the same people and catalogue

pytestmark = pytest.mark.postgres

CARRY = frozenset({"keep", "text_scrub", "json_mask", "tsvector"})
PARTITIONS = (
    "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
    "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'public.payment'::regclass "
    "ORDER BY 1"
)
FOREIGN_KEYS = (
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), convalidated "
    "FROM pg_constraint WHERE contype = 'f' ORDER BY 1, 2"
)
INDEXES = (
    "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
    "AND tablename NOT LIKE 'stagewall%' ORDER BY 1, 2"
)
SEQUENCES = (
    "SELECT sequencename, increment_by, last_value FROM pg_sequences "
    "WHERE schemaname = 'public' ORDER BY 1"
)
OBJECTS = {
    "views": "SELECT viewname FROM pg_views WHERE schemaname = 'public'",
    "materialized views": "SELECT matviewname FROM pg_matviews WHERE schemaname = 'public'",
    "routines": "SELECT p.oid::regprocedure::text || ' ' || p.prokind::text FROM pg_proc p "
    "JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public'",
    "triggers": "SELECT tgname || ' on ' || tgrelid::regclass::text FROM pg_trigger "
    "WHERE NOT tgisinternal",
    "types": "SELECT t.typname || ' ' || t.typtype::text FROM pg_type t "
    "JOIN pg_namespace n ON n.oid = t.typnamespace "
    "WHERE n.nspname = 'public' AND t.typtype IN ('d', 'e')",
}


@dataclass
class Copy:
    source: str
    target: str
    plan: Plan
    result: RunResult
    make: Any
    # (source, target) sequence states right after the run (later tests' inserts
    # consume values: an orphan payment refused still took one)
    sequences: tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Copy]:
    made: list[str] = []

    def make() -> str:
        name, url = _new_pg_database()  # skips when PostgreSQL is unreachable
        made.append(name)
        return url

    try:
        src, tgt = make(), make()
        pagila.load_postgres(src)
        result = build_plan(src)
        assert errors(list(result.problems)) == []
        path = tmp_path_factory.mktemp("pagila") / "plan.yaml"
        path.write_text(dump_plan(result.plan))
        plan = load_plan(path)  # what a user runs: the file, unedited
        result = run(plan, src, tgt, KEY, RunOptions())
        yield Copy(src, tgt, plan, result, make, (_rows(src, SEQUENCES), _rows(tgt, SEQUENCES)))
    finally:
        for name in made:
            _drop_pg_database(name)


def _t(c: Copy, table: str) -> TablePlan:
    return c.plan.tables[f"public.{table}"]


def _by_key(url: str, table: str, key: str, columns: list[str]) -> dict[Any, tuple[Any, ...]]:
    cols = ", ".join(f'"{x}"' for x in columns)
    return {r[0]: tuple(r[1:]) for r in _rows(url, f'SELECT "{key}", {cols} FROM "{table}"')}


# Schemas where PUBLIC may CREATE (read from the ACL, as PostgreSQL <= 14 granted it).
PUBLIC_CREATE = (
    "SELECT n.nspname FROM pg_namespace n WHERE n.nspname NOT LIKE 'pg\\_%%' "
    "AND n.nspname <> 'information_schema' AND EXISTS (SELECT 1 FROM "
    "aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a "
    "WHERE a.grantee = 0 AND a.privilege_type = 'CREATE')"
)


def test_the_loaded_databases_let_public_create_nowhere(copy: Copy) -> None:
    """The vendored dump grants PUBLIC all rights on schema public; loaded as it is, the
    shared test cluster had a database where any login could create, and the JIT
    issuer's tests (tests/access, in parallel on the same server) were refused their
    production login at random. The loader grants USAGE only; the copy adds nothing."""
    assert _rows(copy.source, PUBLIC_CREATE) == []
    assert _rows(copy.target, PUBLIC_CREATE) == []


def test_the_vendored_dumps_as_loaded_grant_public_usage_only() -> None:
    """Pagila's and Sakila's PostgreSQL dumps, as the loaders feed them to psql, grant
    PUBLIC no CREATE on schema public (both dumps hold ``GRANT ALL ... TO PUBLIC``)."""
    import gzip
    import re

    from tests.masking import sakila

    for data, name in (
        (pagila.DATA, "pagila-schema.sql.gz"),
        (sakila.DATA, "postgres-sakila-schema.sql.gz"),
    ):
        raw = gzip.decompress((data / name).read_bytes())
        assert pagila.PUBLIC_CREATE in raw  # what the dump says
        loaded = pagila.without_public_create(raw).decode()
        grants = re.findall(r"GRANT [^;]* ON SCHEMA public TO PUBLIC", loaded, re.I)
        assert grants == ["GRANT USAGE ON SCHEMA public TO PUBLIC"], (name, grants)


def test_unedited_plan_runs_and_verifies_clean(copy: Copy) -> None:
    assert copy.result.marker_status.value == "complete"
    assert copy.result.objects_skipped == ()
    report = verify(copy.plan, copy.source, copy.target, KEY)
    assert report.total_hits == 0, report.to_json()
    assert report.row_hits == (), report.to_json()
    assert report.passed, report.to_json()


def _own_hits(copy: Copy, table: str) -> tuple[int, list[tuple[Any, str, str]]]:
    """(rows, hits): every person's own source value (name parts, e-mail) found in a
    text cell of their own target row, as (key, column, needle)."""
    people = PEOPLE[table]
    cols = list(people)
    sql = f'SELECT "{table}_id", {", ".join(f"{chr(34)}{c}{chr(34)}" for c in cols)} FROM "{table}"'
    source = {r[0]: r[1:] for r in _rows(copy.source, sql)}
    hits = []
    for key, *cells in _rows(copy.target, sql):
        mine = [
            (n, c)
            for c, v in zip(cols, source[key], strict=True)
            if isinstance(v, str)
            for n, _digits in needles(people[c], v)
        ]
        for c, cell in zip(cols, cells, strict=True):
            words = plain(cell) if isinstance(cell, str) else ""
            hits += [(key, c, f"{n.strip()} (source {own})") for n, own in mine if n in words]
    return len(source), hits


def test_independent_checker_finds_no_survivor(copy: Copy) -> None:
    """No person's own value in a text cell of their row or of rows that reference it
    (an address's street, phone or postcode in its customer's or staff member's row).

    Pagila's people tables have no free text: all their text columns are pseudonyms
    drawn from dictionaries, and a pseudonym may by chance equal *another* name of
    the same person (source username "michael.ortiz" → first name "Michael"; surname
    "Haley" → first name "Haley"): no production value surviving, but bounded here
    so that a transformer copying names across columns would fail. A pseudonym equal
    to its own column's source value is never allowed."""
    for table in ["customer", "staff", "actor"]:
        rows, hits = _own_hits(copy, table)
        own = [h for h in hits if h[2].endswith(f"(source {h[1]})")]
        assert own == [], (table, own[:5])
        assert len(hits) <= max(3, rows // 100), (table, len(hits), hits[:5])  # ~0.3 % seen
        for c in PEOPLE[table]:
            assert _t(copy, table).columns[c].transformer not in CARRY, (table, c)
    texts = {
        "customer": ["first_name", "last_name", "email"],
        "staff": ["first_name", "last_name", "email", "username"],
        "address": ["address", "address2", "district", "postal_code", "phone"],
    }
    found = survivors(
        copy.source,
        copy.target,
        "address",
        PEOPLE["address"],
        texts,
        {"address": "address_id", "customer": "address_id", "staff": "address_id"},
        key="address_id",
    )
    assert found == {}


def test_reference_data_is_kept(copy: Copy) -> None:
    for table, (key, columns) in REFERENCE.items():
        for c in columns:
            assert _t(copy, table).columns[c].transformer == "keep", (table, c)
        before = _by_key(copy.source, table, key, columns)
        assert len(before) > 5 and before == _by_key(copy.target, table, key, columns), table


def test_partitions_are_recreated_and_queryable(copy: Copy) -> None:
    """Seven monthly partitions with the same bounds, the same rows in each, and
    new rows still routed by date."""
    partitions = _rows(copy.source, PARTITIONS)
    assert len(partitions) == 7
    assert _rows(copy.target, PARTITIONS) == partitions
    q = (
        "SELECT tableoid::regclass::text, count(*), sum(amount), min(payment_date) "
        "FROM payment GROUP BY 1 ORDER BY 1"
    )
    per_partition = _rows(copy.source, q)
    assert len(per_partition) == 7 and sum(r[1] for r in per_partition) == 16049
    assert _rows(copy.target, q) == per_partition
    q = "SELECT count(*) FROM payment WHERE payment_date >= '2022-03-01' AND payment_date < '2022-04-01'"
    assert (
        _rows(copy.target, q)
        == _rows(copy.source, q)
        == _rows(copy.target, "SELECT count(*) FROM payment_p2022_03")
    )
    import psycopg

    with psycopg.connect(copy.target) as conn:  # rolled back on leaving the block
        row = conn.execute(
            "INSERT INTO payment (customer_id, staff_id, rental_id, amount, payment_date) "
            "SELECT customer_id, staff_id, rental_id, 1.99, '2022-02-14 10:00+00' "
            "FROM payment LIMIT 1 RETURNING tableoid::regclass::text"
        ).fetchone()
        assert row == ("payment_p2022_02",)
        conn.rollback()


def test_foreign_keys_are_recreated_and_hold(copy: Copy) -> None:
    """Every foreign key (those of the partitions too) exists, validated, in the copy:
    an orphan payment is refused there as in the source."""
    import psycopg

    fks = _rows(copy.source, FOREIGN_KEYS)
    assert any(r[0] == "payment_p2022_01" for r in fks) and len(fks) > 20
    assert _rows(copy.target, FOREIGN_KEYS) == fks
    assert all(r[3] for r in _rows(copy.target, FOREIGN_KEYS))
    # every index of the tables, of the partitions and of the materialised view
    indexes = _rows(copy.source, INDEXES)
    assert any(r[0] == "payment_p2022_01" for r in indexes)
    assert ("rental_by_category", "rental_category") in {r[:2] for r in indexes}
    assert _rows(copy.target, INDEXES) == indexes
    orphan = (
        "INSERT INTO payment (customer_id, staff_id, rental_id, amount, payment_date) "
        "VALUES (999999, 1, 1, 1.00, '2022-01-15 10:00+00')"
    )
    for url in [copy.source, copy.target]:
        with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute(orphan)


CONSTRAINTS = (
    "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid), convalidated, "
    "condeferrable, condeferred FROM pg_constraint WHERE connamespace = 'public'::regnamespace "
    "AND conrelid::regclass::text NOT LIKE 'stagewall%' ORDER BY 1, 2"
)


def test_a_parallel_run_builds_the_same_constraints(copy: Copy) -> None:
    """``--jobs 2``: keys and indexes built on two connections, foreign keys added NOT
    VALID and validated at once (the partitions' own keys as they are): the same
    constraints, all validated, and indexes as one connection builds."""
    tgt = copy.make()
    run(copy.plan, copy.source, tgt, KEY, RunOptions(jobs=2, split_min_pages=1))
    for sql in (CONSTRAINTS, FOREIGN_KEYS, INDEXES):
        assert _rows(tgt, sql) == _rows(copy.target, sql)
    assert all(r[4] for r in _rows(tgt, CONSTRAINTS))


def test_schema_objects_are_recreated(copy: Copy) -> None:
    for kind, sql in OBJECTS.items():
        before = sorted(r[0] for r in _rows(copy.source, sql))
        assert before, kind
        after = sorted(r[0] for r in _rows(copy.target, sql))
        assert after == before, kind
    # the domain "b\u0131g\u0131nt" (Pagila's dotless-i trap) that no column uses
    assert "b\u0131g\u0131nt d" in {r[0] for r in _rows(copy.target, OBJECTS["types"])}
    assert "group_concat(text) a" in {r[0] for r in _rows(copy.target, OBJECTS["routines"])}
    comparison = compare_schemas(copy.source, copy.target)
    assert comparison.differences == [], comparison.to_json()
    assert comparison.source["partition_keys"] == 36  # 18 foreign keys, 18 indexes
    for view in ["actor_info", "film_list", "nicer_but_slower_film_list", "sales_by_store"]:
        sql = f'SELECT count(*) FROM "{view}"'
        assert _rows(copy.target, sql) == _rows(copy.source, sql), view
    q = "SELECT inventory_in_stock(1), (SELECT count(*) FROM film_in_stock(1, 1))"
    assert _rows(copy.target, q) == _rows(copy.source, q)
    q = "SELECT count(*) FROM film WHERE fulltext @@ to_tsquery('english', 'dinosaur')"
    assert _rows(copy.target, q) == _rows(copy.source, q) != [(0,)]


def test_sequences_continue_as_in_the_source(copy: Copy) -> None:
    """Pagila's sequences are not OWNED BY their columns (only used by their
    defaults); each continues in the copy where it is in the source, not from the
    copied keys: staff_staff_id_seq is at 1500 with 1,499 staff rows."""
    import psycopg

    seqs, copied = copy.sequences
    assert len(seqs) == 13 and ("staff_staff_id_seq", 1, 1500) in seqs
    assert _rows(copy.source, "SELECT max(staff_id) FROM staff") == [(1499,)]
    assert copied == seqs
    with psycopg.connect(copy.target) as conn:  # nextval is not rolled back: the last check
        nextval = "SELECT nextval(pg_get_serial_sequence('public.staff', 'staff_id'))"
        assert conn.execute(nextval).fetchone() == (1501,)


def test_the_checks_see_a_weakened_plan(copy: Copy) -> None:
    """With customers' e-mails kept, verify fails and the checker finds every one."""
    kept = ColumnPlan(transformer="keep", reason="weakened for the test")
    weak = with_column(copy.plan, "public.customer", "email", kept)
    tgt = copy.make()
    run(weak, copy.source, tgt, KEY, RunOptions())
    assert not verify(weak, copy.source, tgt, KEY).passed
    people = {"email": "email"}, {"customer": ["email"]}, {"customer": "customer_id"}
    found = survivors(copy.source, tgt, "customer", *people, key="customer_id")
    assert found.get("customer.email", 0) >= 599


def test_data_files_are_small() -> None:
    assert sum(p.stat().st_size for p in Path(pagila.DATA).iterdir()) < 1_000_000
