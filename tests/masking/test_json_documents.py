"""json/jsonb columns hold any JSON document, not only objects (real databases do).

Reproduced: a jsonb column holding a top-level array stopped the run ("json_mask: a
value is not valid JSON"), and a masked top-level ``true``/``false`` was written as
PostgreSQL's boolean text ``t``/``f``, which is not JSON. Every JSON shape must copy,
stay valid JSON of the same shape, and lose the row's own values.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan
from tests.masking.integration.helpers import KEY

pytestmark = pytest.mark.postgres

DOCS = [
    '[1, "Call Marguerite Vandersloot", {"name": "Marguerite Vandersloot"}]',
    "true",
    "false",
    "null",
    "42",
    '"Marguerite Vandersloot rang"',
    "[]",
    "{}",
    '{"note": "Vandersloot paid", "ok": true}',
]


def _plan() -> Plan:
    cols = {
        "id": ColumnPlan(transformer="keep"),
        "name": ColumnPlan(transformer="full_name"),
    }
    for col in ("doc", "plain"):
        cols[col] = ColumnPlan(transformer="json_mask", params={"unknown_keys": "scrub"})
    return Plan(tables={"public.t": TablePlan(columns=cols)})


@pytest.mark.parametrize("jobs", [1, 2])
def test_every_json_shape_copies_as_json(pg_url_factory: Callable[[], str], jobs: int) -> None:
    source, target = pg_url_factory(), pg_url_factory()
    with psycopg.connect(source, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, name text, doc jsonb, plain json)")
        for i, doc in enumerate(DOCS):
            conn.execute(
                "INSERT INTO t VALUES (%s, 'Marguerite Vandersloot', %s::jsonb, %s::json)",
                (i, doc, doc),
            )
    run(_plan(), source, target, KEY, RunOptions(jobs=jobs))
    with psycopg.connect(target) as conn:
        rows = conn.execute("SELECT id, doc::text, plain::text FROM t ORDER BY id").fetchall()
    assert len(rows) == len(DOCS)
    for i, doc, plain in rows:
        for got in (doc, plain):
            value: Any = json.loads(got)  # valid JSON, whatever the shape
            assert type(value) is type(json.loads(DOCS[i])), (DOCS[i], got)
            assert "Vandersloot" not in got and "Marguerite" not in got, (DOCS[i], got)
