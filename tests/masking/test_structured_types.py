"""PostgreSQL types with a syntax of their own (bit strings, macaddr8, geometry,
ranges, intervals, enums, composite types) under the unedited auto plan.

The planner read them as text: a bit(8) column was planned `text_scrub` (some of its
digits look like phone numbers), macaddr8 `ip_address` (it looks like IPv6), a
composite address `text_scrub`; `mask run` then failed part-way on the target
refusing the output ("invalid input syntax for type macaddr8")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from stagewall.masking.db import open_database
from stagewall.masking.types import ColumnKind
from tests.cli_helpers import run_cli

pytestmark = pytest.mark.postgres


def _source(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
        c.execute("CREATE TYPE addr AS (street text, city text)")
        c.execute(
            """CREATE TABLE people (id int PRIMARY KEY, full_name text, flags bit(8),
                 vflags varbit, mac8 macaddr8, pt point, period tsrange, dur interval,
                 m mood, home addr, shape polygon)"""
        )
        c.execute(
            """INSERT INTO people
               SELECT g, 'Okafor Ganthriv' || g, (g % 8)::bit(8), B'10110',
                      ('08:00:2b:01:02:03:04:' || lpad(to_hex(g % 256), 2, '0'))::macaddr8,
                      point(g, g), tsrange('2020-01-01', '2021-01-01'),
                      (g || ' days')::interval, (ARRAY['sad','ok','happy'])[1 + g % 3]::mood,
                      ROW(g || ' Calle Mayor', 'Madrid')::addr, '((0,0),(1,1),(1,0))'
               FROM generate_series(1, 120) g"""
        )


def test_structured_types_get_a_plan_that_runs_and_verifies(
    pg_url_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STAGEWALL_HOME", str(tmp_path / "home"))
    assert run_cli("keys", "init").exit_code == 0
    src, tgt = pg_url_factory(), pg_url_factory()
    _source(src)
    with open_database(src) as db:
        (table,) = db.introspect().tables
    kinds = {c.name: c.kind for c in table.columns}
    for name in ("flags", "vflags", "mac8", "pt", "period", "dur", "m", "home", "shape"):
        assert kinds[name] is ColumnKind.STRUCTURED, name
    plan = tmp_path / "plan.yaml"
    res = run_cli("mask", "plan", "--source", src, "--out", str(plan))
    assert res.exit_code == 0, res.stderr
    cols = yaml.safe_load(plan.read_text())["tables"]["public.people"]["columns"]
    chosen = {c: v["transformer"] for c, v in cols.items()}
    for name in ("flags", "vflags", "pt", "period", "dur", "m", "shape"):
        assert chosen[name] == "keep", (name, cols[name])
    assert chosen["home"] == "null"  # a street inside a composite: nothing rewrites it
    assert "street_address" in cols["home"]["reason"]
    # a device's MAC address (which the detector reads as an IPv6 address): no
    # transformer writes a macaddr8, so NULL rather than a copy verify would refuse
    assert chosen["mac8"] == "null"
    res = run_cli("mask", "run", "--plan", str(plan), "--source", src, "--target", tgt)
    assert res.exit_code == 0, res.stdout + res.stderr
    assert "verification passed" in res.stdout
    with psycopg.connect(tgt) as c:
        row = c.execute("SELECT flags::text, mac8::text, m::text, home FROM people WHERE id = 5")
        flags, mac8, m, home = row.fetchone()  # type: ignore[misc]
    assert (flags, mac8, m, home) == ("00000101", None, "happy", None)


def test_a_transformer_that_rewrites_text_is_a_lint_error_on_a_structured_column(
    pg_url_factory: Any, tmp_path: Path
) -> None:
    src = pg_url_factory()
    _source(src)
    plan = tmp_path / "plan.yaml"
    assert run_cli("mask", "plan", "--source", src, "--out", str(plan)).exit_code == 0
    doc = yaml.safe_load(plan.read_text())
    doc["tables"]["public.people"]["columns"]["mac8"] = {"transformer": "ip_address"}
    plan.write_text(yaml.safe_dump(doc))
    res = run_cli("mask", "lint", "--plan", str(plan), "--source", src)
    assert res.exit_code != 0
    assert "mac8" in res.stdout + res.stderr
