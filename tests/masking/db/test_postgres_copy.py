"""PostgreSQL → PostgreSQL schema fidelity of a masked copy (db/_postgres.py,
db/_pg_introspect.py) on small synthetic schemas: a materialised view's own
indexes, domains no column uses, and every sequence's state."""

from __future__ import annotations

from typing import Any

import pytest

from stagewall.masking.db import open_database
from stagewall.masking.engine import run
from tests.masking.integration.helpers import KEY
from tests.masking.integration.schemas import plan_for

pytestmark = pytest.mark.postgres


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(url) as conn:
        return [tuple(r) for r in conn.execute(sql.encode()).fetchall()]


def _pair(pg_url_factory: Any, statements: list[str]) -> tuple[str, str]:
    """A fresh source holding what ``statements`` make, and an empty target."""
    import psycopg

    src, tgt = pg_url_factory(), pg_url_factory()
    with psycopg.connect(src, autocommit=True) as c:
        for stmt in statements:
            c.execute(stmt.encode())
    return src, tgt


def _copy(src: str, tgt: str, masked: dict[tuple[str, str], tuple[str, dict[str, Any]]]) -> Any:
    with open_database(src) as db:
        schema = db.introspect()
    return run(plan_for(schema, masked), src, tgt, KEY)


MATVIEW_INDEXES = (
    "SELECT tablename, indexname, indexdef FROM pg_indexes "
    "WHERE tablename = 'm_cities' ORDER BY indexname"
)


def test_materialised_view_indexes_are_recreated_on_the_masked_rows(pg_url_factory: Any) -> None:
    """The view's own indexes (a unique one, one on an expression) come back after
    the view is filled from the masked table, so REFRESH ... CONCURRENTLY (which
    needs the unique index) works on the copy."""
    import psycopg

    people = [
        "CREATE TABLE people (id int PRIMARY KEY, email text, city text)",
        "INSERT INTO people SELECT g, 'u' || g || '@corp.example', 'Town' || (g % 3) "
        "FROM generate_series(1, 30) g",
        "CREATE MATERIALIZED VIEW m_cities AS SELECT city, count(*) AS n FROM people GROUP BY city",
        "CREATE UNIQUE INDEX m_cities_city ON m_cities (city)",
        "CREATE INDEX m_cities_lower ON m_cities (lower(city)) WHERE n > 1",
    ]
    src, tgt = _pair(pg_url_factory, people)
    result = _copy(src, tgt, {("people", "city"): ("city", {})})
    assert result.objects_skipped == ()
    assert {
        "index m_cities_city on public.m_cities",
        "index m_cities_lower on public.m_cities",
    } <= set(result.objects_created)
    assert len(_rows(src, MATVIEW_INDEXES)) == 2
    assert _rows(tgt, MATVIEW_INDEXES) == _rows(src, MATVIEW_INDEXES)
    cities = _rows(tgt, "SELECT city, n FROM m_cities ORDER BY city")
    assert sum(n for _, n in cities) == 30 and not any(c.startswith("Town") for c, _ in cities)
    with psycopg.connect(tgt, autocommit=True) as c:
        c.execute("REFRESH MATERIALIZED VIEW CONCURRENTLY m_cities")


DOMAINS = """
SELECT n.nspname, t.typname, pg_catalog.format_type(t.typbasetype, t.typtypmod),
       t.typnotnull, t.typdefault, co.collname,
       (SELECT array_agg(k.conname || ' ' || pg_get_constraintdef(k.oid) ORDER BY k.conname)
        FROM pg_constraint k WHERE k.contypid = t.oid)
FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_collation co ON co.oid = t.typcollation
WHERE t.typtype = 'd' AND n.nspname IN ('public', 'sales') ORDER BY 1, 2
"""


def test_every_domain_is_recreated_used_or_not(pg_url_factory: Any) -> None:
    """Domains no column uses (with a default, a collation, checks, NOT NULL; one
    over another, created in whichever order works; one in another schema) exist
    in the copy exactly as in the source."""
    import psycopg

    src, tgt = _pair(
        pg_url_factory,
        [
            "CREATE SCHEMA sales",
            "CREATE DOMAIN public.zcode AS varchar(8) COLLATE \"C\" DEFAULT 'x' NOT NULL "
            "CONSTRAINT zcode_nonempty CHECK (VALUE <> '')",
            "CREATE DOMAIN public.acode AS public.zcode "
            "CONSTRAINT acode_short CHECK (length(VALUE) < 5)",
            'CREATE DOMAIN sales."b\u0131g\u0131nt" AS bigint',
            "CREATE DOMAIN public.used AS text CHECK (VALUE ~ '^[a-z]+$')",
            "ALTER DOMAIN public.zcode ADD CONSTRAINT zcode_lower CHECK (VALUE = lower(VALUE)) "
            "NOT VALID",
            "CREATE TABLE sales.items (id int PRIMARY KEY, tag public.used)",
            "INSERT INTO sales.items SELECT g, 'tag' FROM generate_series(1, 5) g",
        ],
    )
    _copy(src, tgt, {})
    domains = _rows(src, DOMAINS)
    assert len(domains) == 4
    assert _rows(tgt, DOMAINS) == domains
    with psycopg.connect(tgt) as c:  # the constraints hold in the copy
        assert c.execute("SELECT 'ab'::public.acode, NULL::sales.\"b\u0131g\u0131nt\"").fetchone()
        with pytest.raises(psycopg.errors.CheckViolation):
            c.execute("SELECT 'abcdef'::public.acode")


SEQUENCE_STATE = (
    "SELECT schemaname, sequencename, increment_by, min_value, last_value "
    "FROM pg_sequences WHERE schemaname IN ('public', 'billing') ORDER BY 1, 2"
)


def test_every_sequence_continues_from_the_source_state(pg_url_factory: Any) -> None:
    """Owned and unowned sequences alike: ``nextval`` on the copy gives what it gives
    on the source (``is_called`` too), never a value the copied keys already hold;
    a sequence no column uses (in a schema without tables) is recreated as it is."""
    src, tgt = _pair(
        pg_url_factory,
        [
            # owned (serial), ahead of the keys: as before, continues at 1001
            "CREATE TABLE owned (id serial PRIMARY KEY, email text)",
            "INSERT INTO owned (email) SELECT 'u' || g || '@x.example' FROM generate_series(1, 10) g",
            "SELECT setval('owned_id_seq', 1000)",
            # not OWNED BY (as in Pagila): continues at 51, not after the keys
            "CREATE SEQUENCE loose_seq",
            "CREATE TABLE loose (id int PRIMARY KEY DEFAULT nextval('loose_seq'), note text)",
            "INSERT INTO loose (note) SELECT 'n' FROM generate_series(1, 10)",
            "SELECT setval('loose_seq', 50)",
            # is_called false: 100 is next
            "CREATE TABLE waiting (id serial PRIMARY KEY, note text)",
            "INSERT INTO waiting (note) SELECT 'n' FROM generate_series(1, 10)",
            "SELECT setval('waiting_id_seq', 100, false)",
            # behind the copied keys on the source: the copy never hands out a used key
            "CREATE TABLE behind (id serial PRIMARY KEY, note text)",
            "INSERT INTO behind SELECT g, 'n' FROM generate_series(1, 10) g",
            "SELECT setval('behind_id_seq', 5)",
            # descending, not owned: its own options come along
            "CREATE SEQUENCE down_seq INCREMENT BY -1 MINVALUE -1000 MAXVALUE -1 START -1",
            "CREATE TABLE down (id int PRIMARY KEY DEFAULT nextval('down_seq'), note text)",
            "INSERT INTO down (note) SELECT 'n' FROM generate_series(1, 7)",
            # in a schema without tables, used by a table elsewhere: the identity's
            # sequence is in its table's schema (PostgreSQL wants it there), at 502
            "CREATE SCHEMA ids",
            "CREATE SEQUENCE ids.ticket_seq START 500",
            "CREATE TABLE tickets (id bigint PRIMARY KEY DEFAULT nextval('ids.ticket_seq'), n text)",
            "INSERT INTO tickets (n) SELECT 'n' FROM generate_series(1, 3)",
            # no column uses them
            "CREATE SCHEMA billing",
            "CREATE SEQUENCE billing.invoice_no INCREMENT BY 5 MINVALUE 100 START 100",
            "SELECT nextval('billing.invoice_no'), nextval('billing.invoice_no')",
            "CREATE SEQUENCE fresh START 42",
        ],
    )
    result = _copy(src, tgt, {("owned", "email"): ("email", {})})
    assert {"sequence billing.invoice_no", "sequence public.fresh"} <= set(result.objects_created)
    state = _rows(src, SEQUENCE_STATE)
    assert ("billing", "invoice_no", 5, 100, 105) in state
    assert ("public", "behind_id_seq", 1, 1, 5) in state
    ahead = ("public", "behind_id_seq", 1, 1, 10)  # the highest copied key
    tickets = ("public", "tickets_id_seq", 1, 1, 502)  # ids.ticket_seq's state
    expected = [ahead if r[1] == ahead[1] else r for r in state] + [tickets]
    assert _rows(tgt, SEQUENCE_STATE) == sorted(expected, key=lambda r: (r[0], r[1]))
    # an identity's sequence has its column's type: loose_seq (bigint) is bounded to int
    top = "SELECT max_value FROM pg_sequences WHERE sequencename = 'loose_seq'"
    assert _rows(src, top) == [(2**63 - 1,)] and _rows(tgt, top) == [(2**31 - 1,)]
    nextval = (
        "SELECT (SELECT nextval(pg_get_serial_sequence('owned', 'id'))), "
        "(SELECT nextval(pg_get_serial_sequence('loose', 'id'))), "
        "(SELECT nextval(pg_get_serial_sequence('waiting', 'id'))), "
        "(SELECT nextval(pg_get_serial_sequence('behind', 'id'))), "
        "(SELECT nextval(pg_get_serial_sequence('down', 'id'))), "
        "(SELECT nextval(pg_get_serial_sequence('tickets', 'id'))), "
        "nextval('billing.invoice_no'), nextval('fresh')"
    )
    assert _rows(tgt, nextval) == [(1001, 51, 100, 11, -8, 503, 110, 42)]
