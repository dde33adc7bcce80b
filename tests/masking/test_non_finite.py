"""PostgreSQL values Python's types cannot hold: numeric Infinity/NaN and 400-digit
values, infinite dates and timestamps, BC dates and years after 9999.

``mask run`` ended in a traceback on them (verify's text of a Decimal took
``int(Decimal('Infinity'))``; ``numeric_noise`` quantized a float's ``inf``; psycopg's
date loaders raised "timestamp too large" in verify and in ``mask plan``'s sample)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from stagewall.errors import MaskingError
from stagewall.keys import MaskingKey
from stagewall.masking.db import open_database
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan
from stagewall.masking.verify import verify
from tests.cli_helpers import run_cli

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


def _dates_source(url: str, out_of_range: bool) -> None:
    with psycopg.connect(url, autocommit=True) as c:
        c.execute(
            "CREATE TABLE visits (id int PRIMARY KEY, first_name text, seen timestamp, "
            "seen_tz timestamptz, born date, kept timestamp)"
        )
        c.execute(
            """INSERT INTO visits
               SELECT g, 'Ann' || g,
                      CASE g % 3 WHEN 0 THEN 'infinity'::timestamp WHEN 1 THEN '-infinity'
                                 ELSE '2024-01-01'::timestamp + g * interval '1 hour' END,
                      CASE g % 2 WHEN 0 THEN 'infinity'::timestamptz ELSE '2024-02-02 10:00+00' END,
                      CASE g % 4 WHEN 0 THEN '-infinity'::date ELSE '1980-05-05'::date END,
                      CASE g % 3 WHEN 0 THEN '12000-01-01'::timestamp
                                 WHEN 1 THEN '0044-03-15 BC'::timestamp ELSE 'infinity' END
               FROM generate_series(1, 40) g"""
        )
        if out_of_range:
            c.execute("UPDATE visits SET seen = '0044-03-15 BC' WHERE id = 7")


def _dates_plan() -> Plan:
    chosen = {"first_name": "first_name", "seen": "date_shift", "seen_tz": "date_shift"}
    chosen["born"] = "birth_date"
    cols = {
        c: ColumnPlan(transformer=chosen.get(c, "keep"), params={})
        for c in ("id", "first_name", "seen", "seen_tz", "born", "kept")
    }
    return Plan(tables={"public.visits": TablePlan(columns=cols)})


@pytest.mark.parametrize("jobs", [1, 2])
def test_infinite_and_far_dates_are_copied_masked_and_verified(
    pg_url_factory: Any, jobs: int, tmp_path: Path
) -> None:
    src, tgt = pg_url_factory(), pg_url_factory()
    _dates_source(src, out_of_range=False)
    plan = _dates_plan()
    run(plan, src, tgt, KEY, RunOptions(jobs=jobs))
    assert verify(plan, src, tgt, KEY, jobs=jobs).passed
    query = "SELECT id, seen::text, seen_tz::text, born::text, kept::text FROM visits"
    with psycopg.connect(src) as c:
        before = {r[0]: r[1:] for r in c.execute(query)}
    with psycopg.connect(tgt) as c:
        after = {r[0]: r[1:] for r in c.execute(query)}
    assert before.keys() == after.keys()
    for rid, row in after.items():
        for was, now in zip(before[rid][:3], row[:3], strict=True):
            if was in ("infinity", "-infinity"):
                assert now == was  # names no day: left as it is
            else:
                assert now != was
        assert row[3] == before[rid][3]  # kept: BC and year 12000 copied as they are
    # the planner's sample reads them too (it failed with "timestamp too large")
    res = run_cli("mask", "plan", "--source", src, "--out", str(tmp_path / "plan.yaml"))
    assert res.exit_code == 0, res.stderr


def test_a_bc_date_in_a_shifted_column_fails_the_run_with_a_clear_error(
    pg_url_factory: Any,
) -> None:
    src, tgt = pg_url_factory(), pg_url_factory()
    _dates_source(src, out_of_range=True)
    with pytest.raises(MaskingError, match="outside the years 1 to 9999") as err:
        run(_dates_plan(), src, tgt, KEY, RunOptions(jobs=1))
    assert "--subset" in (err.value.hint or "")
