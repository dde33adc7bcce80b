"""PostgreSQL numbers a float cannot hold: numeric Infinity/NaN and 400-digit values.

``mask run`` ended in a traceback on them (verify's text of a Decimal took
``int(Decimal('Infinity'))``; ``numeric_noise`` quantized a float's ``inf``)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from stagewall.keys import MaskingKey
from stagewall.masking.db import open_database
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan
from stagewall.masking.verify import verify

pytestmark = pytest.mark.postgres
KEY = MaskingKey("k", b"\x02" * 32)


def _source(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(
            """CREATE TABLE customers (id int PRIMARY KEY, first_name text, last_name text,
                 balance numeric(600, 2), credit numeric, score float8, kept numeric)"""
        )
        c.execute(
            """INSERT INTO customers
               SELECT g, 'Ann' || g, 'Okafor' || g,
                      CASE g % 3 WHEN 0 THEN ('9' || repeat('1', 400))::numeric + 0.25
                                 ELSE g * 100.5 END,
                      CASE g % 4 WHEN 0 THEN 'Infinity'::numeric WHEN 1 THEN '-Infinity'
                                 WHEN 2 THEN 'NaN' ELSE g END,
                      CASE g % 3 WHEN 0 THEN 'Infinity'::float8 WHEN 1 THEN 'NaN' ELSE g END,
                      CASE g % 2 WHEN 0 THEN 'Infinity'::numeric ELSE 'NaN' END
               FROM generate_series(1, 60) g"""
        )


def _plan(url: str) -> Plan:
    chosen: dict[str, tuple[str, dict[str, Any]]] = {
        "first_name": ("first_name", {}),
        "last_name": ("last_name", {}),
        "balance": ("numeric_noise", {}),
        "credit": ("numeric_noise", {}),
        "score": ("numeric_noise", {}),
    }
    with open_database(url) as db:
        (table,) = db.introspect().tables
    cols = {
        c.name: ColumnPlan(
            transformer=chosen.get(c.name, ("keep", {}))[0],
            params=chosen.get(c.name, ("keep", {}))[1],
        )
        for c in table.columns
    }
    return Plan(tables={table.qualified: TablePlan(columns=cols)})


@pytest.mark.parametrize("jobs", [1, 2])
def test_infinity_nan_and_huge_numerics_are_masked_and_verified(
    pg_url_factory: Any, jobs: int
) -> None:
    src, tgt = pg_url_factory(), pg_url_factory()
    _source(src)
    plan = _plan(src)
    run(plan, src, tgt, KEY, RunOptions(jobs=jobs))
    assert verify(plan, src, tgt, KEY, jobs=jobs).passed
    with psycopg.connect(tgt) as c:
        rows = c.execute(
            "SELECT id, balance::text, credit::text, score::text, kept::text FROM customers"
        ).fetchall()
    with psycopg.connect(src) as c:
        before = {
            r[0]: r[1:]
            for r in c.execute(
                "SELECT id, balance::text, credit::text, score::text, kept::text FROM customers"
            )
        }
    assert len(rows) == 60
    for rid, balance, credit, score, kept in rows:
        b_bal, b_credit, b_score, b_kept = before[rid]
        assert kept == b_kept  # keep copies Infinity and NaN as they are
        if b_credit in ("Infinity", "-Infinity", "NaN"):
            assert credit == b_credit  # noise cannot apply to them
        if b_score in ("Infinity", "NaN"):
            assert score == b_score
        if len(b_bal) > 300:
            assert balance != b_bal and len(balance) in range(len(b_bal) - 1, len(b_bal) + 2)
