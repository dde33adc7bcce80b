"""``stagewall mask``: round trips on SQLite and PostgreSQL, bad input, planted leaks, records."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from stagewall.audit import AuditLog
from stagewall.masking.db import open_database
from stagewall.store import open_store
from tests.cli_helpers import Result, run_cli
from tests.masking.integration import schemas
from tests.masking.test_planner import make_source


@pytest.fixture
def keyed() -> None:
    assert run_cli("keys", "init").exit_code == 0


@pytest.fixture
def src(tmp_path: Path) -> str:
    return make_source(tmp_path / "src.db")


def _plan(tmp_path: Path, src: str) -> Path:
    out = tmp_path / "plan.yaml"
    res = run_cli("mask", "plan", "--source", src, "--out", str(out), "--sample", "50")
    assert res.exit_code == 0, res.stderr
    return out


def _edit(path: Path, fn: Callable[[dict[str, object]], None]) -> None:
    data = yaml.safe_load(path.read_text())
    fn(data)
    path.write_text(yaml.safe_dump(data))


def _col(data: dict[str, object], table: str, column: str) -> dict[str, object]:
    return data["tables"][table]["columns"][column]  # type: ignore[index,no-any-return]


def _run(plan: Path, src: str, tgt: str, *extra: str) -> Result:
    return run_cli("mask", "run", "--plan", str(plan), "--source", src, "--target", tgt, *extra)


def test_sqlite_round_trip(tmp_path: Path, src: str, keyed: None) -> None:
    plan = _plan(tmp_path, src)
    assert "every column has a transformer" in plan.read_text()
    lint = run_cli("mask", "lint", "--plan", str(plan), "--source", src)
    assert lint.exit_code == 0, lint.stderr
    assert "0 errors" in lint.stdout
    tgt = f"sqlite:///{tmp_path / 'tgt.db'}"
    res = _run(plan, src, tgt, "--format", "json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["status"] == "completed" and out["verification"] == "passed"
    assert out["rows"] == {"accounts": 40, "customers": 40, "ledger": 40}
    assert out["transformers"]["customers.email"] == "email"
    assert out["verify_report"]["total_hits"] == 0
    ver = run_cli("mask", "verify", "--plan", str(plan), "--source", src, "--target", tgt)
    assert ver.exit_code == 0, ver.stderr
    assert "verification passed: 0 hits" in ver.stdout
    runs = run_cli("mask", "runs", "--format", "json")
    assert runs.exit_code == 0
    (rec,) = json.loads(runs.stdout)
    assert rec["run_id"] == out["run_id"] and rec["plan_sha256"] == out["plan_sha256"]
    assert rec["key_id"].startswith("mk-") and rec["stagewall_version"]
    assert rec["source"] == {"backend": "sqlite", "path": str(tmp_path / "src.db")}
    text = run_cli("mask", "runs")
    assert out["run_id"][:12] in text.stdout and "verify=passed" in text.stdout
    events = [e for e in AuditLog(open_store()).events() if e.code.startswith("masking.")]
    assert [e.code for e in events] == [
        "masking.run.completed",
        "masking.verify.passed",
        "masking.verify.passed",  # the stand-alone verify
    ]
    details = events[0].details
    assert {"table": "customers", "rows": 40} in details["rows"]
    assert details["key_id"] == rec["key_id"]
    assert {"column": "customers.iban", "transformer": "iban"} in details["transformers"]
    with sqlite3.connect(tmp_path / "tgt.db") as conn:
        emails = [r[0] for r in conn.execute("SELECT email FROM customers")]
    with sqlite3.connect(tmp_path / "src.db") as conn:
        real = {r[0] for r in conn.execute("SELECT email FROM customers")}
    assert len(set(emails)) == 40 and not real & set(emails)


def test_run_without_key_refuses_and_leaves_target(tmp_path: Path, src: str) -> None:
    plan = _plan(tmp_path, src)
    res = _run(plan, src, f"sqlite:///{tmp_path / 'tgt.db'}")
    assert res.exit_code == 2
    assert "stagewall keys init" in res.stderr
    assert not (tmp_path / "tgt.db").exists()


def _bad_plan_case(tmp_path: Path, src: str, edit: Callable[[dict[str, object]], None]) -> Result:
    plan = _plan(tmp_path, src)
    _edit(plan, edit)
    res = _run(plan, src, f"sqlite:///{tmp_path / 'tgt.db'}")
    assert res.exit_code == 2, res.stderr
    assert not (tmp_path / "tgt.db").exists(), "the target must be untouched"
    return res


def test_unknown_transformer(tmp_path: Path, src: str, keyed: None) -> None:
    res = _bad_plan_case(
        tmp_path, src, lambda d: _col(d, "customers", "email").update(transformer="emial")
    )
    assert "tables.customers.columns.email: unknown transformer 'emial'" in res.stderr


def test_wrong_parameter_type(tmp_path: Path, src: str, keyed: None) -> None:
    res = _bad_plan_case(
        tmp_path,
        src,
        lambda d: _col(d, "customers", "country").update(
            transformer="redact", params={"preserve_length": "sometimes"}
        ),
    )
    assert "customers.columns.country: transformer 'redact': params.preserve_length" in res.stderr


def test_plan_names_missing_table_and_column(tmp_path: Path, src: str, keyed: None) -> None:
    def edit(d: dict[str, object]) -> None:
        d["tables"]["invoices"] = {"columns": {"id": {"transformer": "keep"}}}  # type: ignore[index]
        d["tables"]["customers"]["columns"]["fax"] = {"transformer": "keep"}  # type: ignore[index]

    res = _bad_plan_case(tmp_path, src, edit)
    assert "invoices: the plan names this table but the source has no such table" in res.stderr
    assert "customers.fax: the plan names this column" in res.stderr
    lint = run_cli("mask", "lint", "--plan", str(tmp_path / "plan.yaml"), "--source", src)
    assert lint.exit_code == 1 and "unknown-table" in lint.stderr


def test_column_missing_from_plan(tmp_path: Path, src: str, keyed: None) -> None:
    res = _bad_plan_case(tmp_path, src, lambda d: d["tables"]["customers"]["columns"].pop("phone"))  # type: ignore[index]
    assert "error[SW301]" in res.stderr
    assert (
        "customers.phone: the source has this column but the plan does not mention it" in res.stderr
    )


def test_unreachable_source(tmp_path: Path, src: str, keyed: None) -> None:
    plan = _plan(tmp_path, src)
    bad = "postgresql://postgres:hunter2@127.0.0.1:1/prod"
    res = _run(plan, bad, f"sqlite:///{tmp_path / 'tgt.db'}")
    assert res.exit_code == 2
    assert "source database postgresql://postgres@127.0.0.1:1/prod" in res.stderr
    assert "hunter2" not in res.stderr + res.stdout
    assert not (tmp_path / "tgt.db").exists()
    res = run_cli("mask", "plan", "--source", bad, "--out", str(tmp_path / "p2.yaml"))
    assert res.exit_code == 2 and "127.0.0.1:1/prod" in res.stderr
    assert not (tmp_path / "p2.yaml").exists()


@pytest.mark.mysql
def test_wrong_password(tmp_path: Path, keyed: None, mysql_url_factory: Callable[[], str]) -> None:
    import pymysql

    source = mysql_url_factory()
    conn = pymysql.connect(
        host="127.0.0.1",
        port=3306,
        user="root",
        password="",
        database=source.rsplit("/", 1)[1],
        autocommit=True,
    )
    with conn:
        conn.cursor().execute("CREATE TABLE people (id INT PRIMARY KEY, email VARCHAR(200))")
        conn.cursor().execute("INSERT INTO people VALUES (1, 'ann@corp.example')")
    plan = _plan(tmp_path, source)
    wrong = source.replace("root@", "root:not-the-password@")
    res = _run(plan, wrong, f"sqlite:///{tmp_path / 'tgt.db'}")
    assert res.exit_code == 2
    assert "Access denied" in res.stderr and "source database" in res.stderr
    assert "not-the-password" not in res.stderr
    assert not (tmp_path / "tgt.db").exists()


def _keep_emails(d: dict[str, object]) -> None:
    for t, c in [
        ("customers", "email"),
        ("accounts", "customer_email"),
        ("ledger", "acct_email"),
    ]:
        _col(d, t, c).update(transformer="keep", params={})


def test_planted_leak_exits_1_with_counts(tmp_path: Path, src: str, keyed: None) -> None:
    plan = _plan(tmp_path, src)
    _edit(plan, _keep_emails)
    tgt = f"sqlite:///{tmp_path / 'tgt.db'}"
    res = _run(plan, src, tgt)
    assert res.exit_code == 1
    assert "LEAK customers.email: 40 source value(s) found" in res.stderr
    assert "LEAK ledger.acct_email: 40" in res.stderr
    assert "verification failed" in res.stdout
    ver = run_cli(
        "mask", "verify", "--plan", str(plan), "--source", src, "--target", tgt, "--format", "json"
    )
    assert ver.exit_code == 1
    hits = {(h["table"], h["column"]): h["hits"] for h in json.loads(ver.stdout)["hits"]}
    assert hits[("customers", "email")] == 40 and hits[("accounts", "customer_email")] == 40
    (rec,) = json.loads(run_cli("mask", "runs", "--format", "json").stdout)
    assert rec["verification"] == "failed" and rec["verify"]["total_hits"] > 0


def test_verify_refuses_incomplete_target(tmp_path: Path, src: str, keyed: None) -> None:
    plan = _plan(tmp_path, src)
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    res = run_cli(
        "mask", "verify", "--plan", str(plan), "--source", src, "--target", f"sqlite:///{empty}"
    )
    assert res.exit_code == 2
    assert "has no completion marker" in res.stderr


def test_runs_empty_and_usage(tmp_path: Path) -> None:
    # Issue 12: a reading command never creates an empty store to read from.
    res = run_cli("mask", "runs")
    assert res.exit_code == 2 and "error[SW890]: there is no stagewall store" in res.stderr
    from stagewall.store import open_store

    db = f"sqlite:///{tmp_path / 'store.db'}"
    open_store(db).dispose()
    res = run_cli("mask", "runs", "--db", db)
    assert res.exit_code == 0 and "no masking runs recorded" in res.stdout
    res = run_cli("mask", "run", "--plan", "x.yaml")
    assert res.exit_code == 2 and "missing --source, --target" in res.stderr
    res = run_cli(
        "mask", "lint", "--plan", str(tmp_path / "nope.yaml"), "--source", "sqlite:///x.db"
    )
    assert res.exit_code == 2 and "the plan file does not exist" in res.stderr


@pytest.mark.postgres
def test_postgres_round_trip(
    tmp_path: Path, keyed: None, pg_url_factory: Callable[[], str]
) -> None:
    source, target = pg_url_factory(), pg_url_factory()
    schemas.build(source)
    secret_source = source.replace("postgres@", "postgres:pw-not-recorded@")
    plan = tmp_path / "plan.yaml"
    res = run_cli(
        "mask", "plan", "--source", secret_source, "--out", str(plan), "--schema", "public"
    )
    assert res.exit_code in (0, 1), res.stderr
    data = yaml.safe_load(plan.read_text())
    assert data["schemas"] == ["public"]
    with open_database(source) as db:
        schema = db.introspect()
    planned = {(t, c) for t, tp in data["tables"].items() for c in tp["columns"]}
    assert planned == {(t.qualified, c.name) for t in schema.tables for c in t.columns}
    lint = run_cli("mask", "lint", "--plan", str(plan), "--source", source, "--format", "json")
    assert lint.exit_code == 0, lint.stdout
    res = _run(plan, secret_source, target, "--jobs", "2", "--format", "json")
    assert res.exit_code == 0, res.stderr + res.stdout
    out = json.loads(res.stdout)
    assert out["verification"] == "passed"
    assert out["rows"]["public.customers"] == schemas.N_CUSTOMERS
    assert out["lsn"] and out["snapshot"]
    ver = run_cli("mask", "verify", "--plan", str(plan), "--source", source, "--target", target)
    assert ver.exit_code == 0, ver.stderr
    runs = run_cli("mask", "runs", "--format", "json")
    assert "pw-not-recorded" not in runs.stdout
    (rec,) = json.loads(runs.stdout)
    assert rec["source"]["database"] == source.rsplit("/", 1)[1]


def test_empty_source_is_refused_not_verified(tmp_path: Path, src: str, keyed: None) -> None:
    """A source without tables (a wrong database name) is an error, never an empty
    copy reported as verified."""
    import sqlite3

    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    res = run_cli(
        "mask", "plan", "--source", f"sqlite:///{empty}", "--out", str(tmp_path / "e.yaml")
    )
    assert res.exit_code == 2 and "has no tables" in res.stderr
    assert not (tmp_path / "e.yaml").exists()
    plan = _plan(tmp_path, src)
    target = tmp_path / "tgt.db"
    res = _run(plan, f"sqlite:///{empty}", f"sqlite:///{target}")
    assert res.exit_code == 2, res.stdout + res.stderr
    assert not target.exists() or sqlite3.connect(target).execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
    ).fetchone() == (0,)


JOBS_ESTATE = """
version: 1
environments:
  production: {tier: production}
  staging: {tier: non-production}
resources:
  prod: {environment: production, kind: sqlite, path: src.db}
  clean: {environment: staging, kind: sqlite, path: clean.db}
  leaky: {environment: staging, kind: sqlite, path: leaky.db}
masking_jobs:
  clean-copy: {source: prod, target: clean, plan: plan.yaml}
  leaky-copy: {source: prod, target: leaky, plan: leaky.yaml}
"""


def test_verify_several_jobs_and_all(tmp_path: Path, src: str, keyed: None) -> None:
    """`mask verify JOB...` / `--all` verifies each declared job and reports each."""
    plan = _plan(tmp_path, src)
    leaky = tmp_path / "leaky.yaml"
    leaky.write_text(plan.read_text())
    _edit(leaky, _keep_emails)
    assert _run(plan, src, f"sqlite:///{tmp_path / 'clean.db'}").exit_code == 0
    assert _run(leaky, src, f"sqlite:///{tmp_path / 'leaky.db'}").exit_code == 1
    config = tmp_path / "stagewall.yaml"
    config.write_text(JOBS_ESTATE)
    cfg = ("--config", str(config))

    one = run_cli("mask", "verify", "clean-copy", *cfg)
    assert one.exit_code == 0, one.stderr
    assert "job clean-copy:" in one.stdout and "1 passed, 0 failed" in one.stdout

    both = run_cli("mask", "verify", "clean-copy", "leaky-copy", *cfg, "--format", "json")
    assert both.exit_code == 1, both.stderr
    out = json.loads(both.stdout)
    assert out["passed"] is False
    assert [(j["job"], j["passed"]) for j in out["jobs"]] == [
        ("clean-copy", True),
        ("leaky-copy", False),
    ]
    hits = {(h["table"], h["column"]) for h in out["jobs"][1]["report"]["hits"]}
    assert ("customers", "email") in hits

    every = run_cli("mask", "verify", "--all", *cfg)
    assert every.exit_code == 1
    assert "job clean-copy:" in every.stdout and "job leaky-copy:" in every.stdout
    assert "LEAK customers.email" in every.stderr
    assert "2 job(s): 1 passed, 1 failed" in every.stdout


def test_verify_bad_job_name_is_a_clear_usage_error(tmp_path: Path, src: str) -> None:
    config = tmp_path / "stagewall.yaml"
    config.write_text(JOBS_ESTATE)
    res = run_cli("mask", "verify", "clean-copy", "nightly-typo", "--config", str(config))
    assert res.exit_code == 2
    assert "no masking job named 'nightly-typo'" in res.stderr
    assert "clean-copy, leaky-copy" in res.stderr  # the hint lists the declared jobs
    assert "Traceback" not in res.stderr + res.stdout
    mixed = run_cli("mask", "verify", "clean-copy", "--plan", "p.yaml", "--config", str(config))
    assert mixed.exit_code == 2 and "drop --plan" in mixed.stderr
    none = run_cli("mask", "verify")
    assert none.exit_code == 2 and "missing --plan, --source, --target" in none.stderr
    assert "Traceback" not in mixed.stderr + none.stderr
