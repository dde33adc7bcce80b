"""Subsets: parsing, FK closure (property-based on random graphs), end-to-end runs."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stagewall.errors import BackendError, ConfigError
from stagewall.masking._subset import compute_selection, identity, parse_subset, sampled
from stagewall.masking.db import open_database
from stagewall.masking.engine import RunOptions, parse_subsets, run
from tests.masking.integration.helpers import KEY, source_and_target
from tests.masking.integration.schemas import counts, fk_violations, plan_for

# ---- parsing -------------------------------------------------------------------------------


def test_parse_percent_and_where() -> None:
    assert parse_subset("customers:5%").percent == 5
    assert parse_subset(" public.customers : 0.5% ").table == "public.customers"
    spec = parse_subset("public.customers:WHERE country = 'DE' AND id > 3")
    assert spec.where == "country = 'DE' AND id > 3"
    assert str(spec) == "public.customers:WHERE country = 'DE' AND id > 3"
    assert (
        parse_subset("t:where created_at > '2024-01-01 10:00'").where
        == "created_at > '2024-01-01 10:00'"
    )


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("customers", "expected TABLE:PERCENT% or TABLE:WHERE condition"),
        ("customers:", "expected TABLE:PERCENT%"),
        (":5%", "expected TABLE:PERCENT%"),
        ("customers:abc%", "is not a percentage"),
        ("customers:0%", "above 0 and at most 100"),
        ("customers:150%", "above 0 and at most 100"),
        ("customers:country = 'DE'", "must be a percentage (5%) or start with WHERE"),
        ("customers:WHERE 1=1; DROP TABLE customers", "may not contain ';'"),
        ("customers:WHERE id = 1 -- comment", "may not contain '--'"),
        ("customers:WHERE id = 1 /* c */", "may not contain '/*'"),
        ("customers:WHERE name = 'x", "unbalanced quotes"),
        ("customers:WHERE (id = 1", "unbalanced"),
    ],
)
def test_parse_errors_say_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_subset(spec)
    assert message in err.value.message


def test_sample_is_deterministic_and_roughly_proportional() -> None:
    picked = [i for i in range(10_000) if sampled((i,), 10)]
    assert picked == [i for i in range(10_000) if sampled((i,), 10)]
    assert 800 < len(picked) < 1200


# ---- FK closure on random graphs (Hypothesis) ------------------------------------------------


@st.composite
def graphs(draw: Any) -> dict[str, Any]:
    n_tables = draw(st.integers(1, 4))
    tables = []
    for t in range(n_tables):
        n_fks = draw(st.integers(0, 2))
        fks = [draw(st.integers(0, n_tables - 1)) for _ in range(n_fks)]  # self refs and cycles
        tables.append({"name": f"t{t}", "fks": fks, "rows": draw(st.integers(0, 25))})
    values = {}
    for t in tables:
        for r in range(1, t["rows"] + 1):
            for j, parent in enumerate(t["fks"]):
                n_parent = tables[parent]["rows"]
                values[(t["name"], r, j)] = (
                    draw(st.one_of(st.none(), st.integers(1, n_parent))) if n_parent else None
                )
    named = draw(st.integers(0, n_tables - 1))
    modulo = draw(st.integers(1, 5))
    return {"tables": tables, "values": values, "named": named, "modulo": modulo}


def _build_graph(path: Path, g: dict[str, Any]) -> None:
    conn = sqlite3.connect(path)
    for t in g["tables"]:
        cols = ", ".join(f"fk{j} INTEGER REFERENCES t{p} (id)" for j, p in enumerate(t["fks"]))
        conn.execute(
            f"CREATE TABLE {t['name']} (id INTEGER PRIMARY KEY{', ' + cols if cols else ''})"
        )
    for t in g["tables"]:
        for r in range(1, t["rows"] + 1):
            vals = [g["values"][(t["name"], r, j)] for j in range(len(t["fks"]))]
            conn.execute(
                f"INSERT INTO {t['name']} VALUES ({', '.join('?' * (1 + len(vals)))})", [r, *vals]
            )
    conn.commit()
    conn.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs(), st.sampled_from(["none", "all"]))
def test_subset_is_closed_under_foreign_keys(g: dict[str, Any], default: str) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "g.db"
        _build_graph(path, g)
        named = g["tables"][g["named"]]["name"]
        spec = parse_subset(f"{named}:WHERE id % {g['modulo']} = 0")
        with open_database(f"sqlite:///{path}") as db:
            schema = db.introspect()
            db.begin_read()
            sel = compute_selection(db, schema, [spec], default)  # type: ignore[arg-type]

        def included(table: str) -> set[int]:
            s = sel[table]
            if s.mode == "all":
                rows = next(t for t in g["tables"] if t["name"] == table)["rows"]
                return set(range(1, rows + 1))
            return {k[0] for k in s.keys} if s.mode == "keys" else set()

        # the named rows are all there
        assert {
            r for r in range(1, g["tables"][g["named"]]["rows"] + 1) if r % g["modulo"] == 0
        } <= included(named)
        # closure: every FK value of an included row points at an included parent row
        for t in g["tables"]:
            rows = included(t["name"])
            for r in rows:
                for j, parent in enumerate(t["fks"]):
                    v = g["values"][(t["name"], r, j)]
                    if v is not None:
                        assert v in included(f"t{parent}"), (t["name"], r, j, v)
            if default == "none" and t["name"] != named:
                # only rows needed for closure: each is referenced by some included row
                for r in rows:
                    assert any(
                        g["values"].get((c["name"], cr, j)) == r
                        for c in g["tables"]
                        for cr in included(c["name"])
                        for j, p in enumerate(c["fks"])
                        if f"t{p}" == t["name"]
                    )


# ---- end to end --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend",
    [
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mysql", marks=pytest.mark.mysql),
    ],
)
def test_subset_run_is_fk_closed_on_real_schema(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    src, tgt = source_and_target(request, tmp_path, backend)
    with open_database(src) as db:
        schema = db.introspect()
    specs = parse_subsets(["order:WHERE id <= 25", "employees:WHERE id >= 38", "no_pk_log:40%"])
    result = run(plan_for(schema), src, tgt, KEY, RunOptions(subset=specs, subset_default="none"))
    got = {k.split(".")[-1]: v for k, v in counts(tgt, "target").items()}
    assert got["order"] == 25
    assert (
        0 < got["customers"] < counts(src)[next(k for k in counts(src) if k.endswith("customers"))]
    )
    assert got["employees"] >= 3 and got["departments"] >= 1  # cycle pulled in its parents
    assert got["audit_trail"] == 0 and got["User Profile"] == 0
    assert 0 < got["no_pk_log"] < 50
    with open_database(tgt, role="target") as db:
        assert set(fk_violations(db, db.introspect()).values()) == {0}
    assert result.subset == tuple(str(s) for s in specs)


def test_subset_naming_unknown_or_ambiguous_table(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    src, tgt = source_and_target(request, tmp_path, "sqlite")
    with open_database(src) as db:
        schema = db.introspect()
    with pytest.raises(ConfigError) as err:
        run(plan_for(schema), src, tgt, KEY, RunOptions(subset=parse_subsets(["nope:5%"])))
    assert "'nope'" in err.value.message and "not in the source" in err.value.message
    assert not Path(tgt.removeprefix("sqlite:///")).exists()
    assert identity(schema.table("no_pk_log")) == ()  # type: ignore[arg-type]


@pytest.mark.postgres
def test_subset_where_runs_read_only(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """A WHERE with a side effect is stopped by the read-only snapshot; target untouched."""
    src, tgt = source_and_target(request, tmp_path, "postgresql")
    with open_database(src) as db:
        schema = db.introspect()
        seq_before = db.select("SELECT last_value FROM customers_id_seq")
    spec = parse_subset("customers:WHERE nextval('customers_id_seq') > 0")
    with pytest.raises(BackendError) as err:
        run(plan_for(schema), src, tgt, KEY, RunOptions(subset=(spec,), subset_default="none"))
    assert "read-only transaction" in err.value.message
    with open_database(src) as db:
        assert db.select("SELECT last_value FROM customers_id_seq") == seq_before
    with open_database(tgt, role="target") as db:
        assert db.user_tables() == [] and db.read_marker() is None
