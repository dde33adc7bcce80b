"""Full-text (``tsvector``) columns on PostgreSQL: recomputed from the masked row,
never copied; a plan that copies one fails verify."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from stagewall.keys import MaskingKey
from stagewall.masking.engine import run
from stagewall.masking.lint import Rule, lint_plan
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import verify

KEY = MaskingKey("mk-test", bytes(range(32)))
FIRST = ["Anna", "Jan", "Zofia", "Pieter", "Maria", "Lukas", "Elena", "Tomasz"]
LAST = ["Kowalska", "Carrasco", "Schmidt", "Novak", "Rossi", "Dubois", "Jensen", "Horvat"]
N = 40
DDL = """
CREATE TABLE people (
  id integer PRIMARY KEY,
  name text NOT NULL,
  note text,
  tsv_gen tsvector GENERATED ALWAYS AS
    (to_tsvector('simple', coalesce(name, '') || ' ' || coalesce(note, ''))) STORED,
  tsv_trig tsvector,
  tsv_plain tsvector,
  tsv_opaque tsvector
);
CREATE TRIGGER people_tsv BEFORE INSERT OR UPDATE ON people FOR EACH ROW
  EXECUTE FUNCTION tsvector_update_trigger(tsv_trig, 'pg_catalog.simple', name, note);
"""
FULLTEXT = ("tsv_gen", "tsv_trig", "tsv_plain", "tsv_opaque")


def _build(url: str) -> list[tuple[int, str]]:
    surnames = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(DDL)
        for i in range(N):
            last = LAST[i % len(LAST)]
            name = f"{FIRST[i % len(FIRST)]} {last}"
            note = f"Spoke with {last} on the phone; {last} will call back."
            conn.execute(
                "INSERT INTO people (id, name, note, tsv_plain, tsv_opaque) VALUES "
                "(%s, %s, %s, to_tsvector('simple', %s), to_tsvector('simple', %s))",
                (i, name, note, f"{name} {note}", f"{last} vip customer"),
            )
            surnames.append((i, last.lower()))
    return surnames


def _fulltext(url: str) -> dict[int, tuple[str, ...]]:
    cols = ", ".join(f"coalesce({c}::text, '')" for c in FULLTEXT)
    with psycopg.connect(url) as conn:
        rows = conn.execute(f"SELECT id, {cols} FROM people").fetchall()
    return {r[0]: tuple(r[1:]) for r in rows}


@pytest.mark.postgres
def test_fulltext_columns_recomputed_from_masked_row(pg_url_factory: Any) -> None:
    source = pg_url_factory()
    surnames = _build(source)
    src_ft = _fulltext(source)
    assert all(last in src_ft[i][1] for i, last in surnames)  # the trap is armed

    result = build_plan(source)
    cols = result.plan.tables["public.people"].columns
    assert cols["tsv_gen"].transformer == "keep"  # generated: PostgreSQL computes it
    assert cols["tsv_trig"].transformer == "tsvector"
    assert cols["tsv_trig"].params == {"columns": ["name", "note"], "config": "pg_catalog.simple"}
    # filled by the application: its sources are read from the sampled rows
    assert cols["tsv_plain"].params == {"columns": ["name", "note"], "config": "simple"}
    # words of no column of the row: cannot be recomputed, left empty with a warning
    assert cols["tsv_opaque"] == ColumnPlan(
        transformer="tsvector", params={"columns": []}, reason=cols["tsv_opaque"].reason
    )
    warned = {(p.column, p.rule) for p in result.problems}
    assert ("tsv_opaque", Rule.FULLTEXT) in warned
    assert ("tsv_plain", Rule.FULLTEXT) not in warned
    plan = _scrubbed(result.plan)

    target = pg_url_factory()
    run(plan, source, target, KEY)
    report = verify(plan, source, target, KEY)
    assert report.passed, report.to_json()

    tgt_ft = _fulltext(target)
    for i, last in surnames:
        for text in tgt_ft[i]:
            assert f"'{last}'" not in text, (i, text)
    with psycopg.connect(target) as conn:
        same = conn.execute(
            "SELECT count(*) FROM people WHERE tsv_trig = to_tsvector('simple', "
            "concat_ws(' ', name, note)) AND tsv_gen = to_tsvector('simple', "
            "coalesce(name, '') || ' ' || coalesce(note, '')) AND tsv_plain = tsv_trig "
            "AND tsv_opaque = ''::tsvector"
        ).fetchone()
        assert same == (N,)
        # the trigger is recreated after the data and keeps working on the target
        conn.execute("UPDATE people SET note = 'zebra' WHERE id = 0")
        got = conn.execute("SELECT tsv_trig::text FROM people WHERE id = 0").fetchone()
        assert got is not None and "'zebra'" in got[0]


@pytest.mark.postgres
def test_plan_copying_a_fulltext_column_fails_verify(pg_url_factory: Any) -> None:
    source = pg_url_factory()
    _build(source)
    good = _scrubbed(build_plan(source).plan)
    people = good.tables["public.people"]
    leaky = Plan(
        tables={
            "public.people": TablePlan(
                columns={
                    **people.columns,
                    "tsv_trig": ColumnPlan(transformer="keep", reason="weakened on purpose"),
                }
            )
        }
    )
    problems = lint_plan(leaky, _schema(source))
    assert any(p.column == "tsv_trig" and p.rule is Rule.FULLTEXT for p in problems)
    target = pg_url_factory()
    run(leaky, source, target, KEY)
    report = verify(leaky, source, target, KEY)
    assert not report.passed
    hit = {f"{h.table}.{h.column}" for h in report.row_hits}
    assert "public.people.tsv_trig" in hit, report.to_json()


def _scrubbed(plan: Plan) -> Plan:
    """The plan with ``note`` scrubbed (free-text detection is not under test here)."""
    people = plan.tables["public.people"]
    cols = {**people.columns, "note": ColumnPlan(transformer="text_scrub", reason="test")}
    assert cols["name"].transformer == "full_name"
    return Plan(tables={"public.people": TablePlan(columns=cols)})


def _schema(url: str) -> Any:
    from stagewall.masking.db import open_database

    with open_database(url) as db:
        return db.introspect()
