"""The masking record: audit events + masking_runs rows, on SQLite and PostgreSQL stores."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from stagewall.audit import AuditLog, Status
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan
from stagewall.masking.record import (
    MaskingRecord,
    RunStatus,
    Verification,
    list_runs,
    record_run,
    record_verify,
    transformers_of,
)
from stagewall.store import open_store
from tests.cli_helpers import run_cli
from tests.masking.test_planner import make_source

PLAN = Plan(
    tables={
        "customers": TablePlan(
            columns={
                "id": ColumnPlan(transformer="keep"),
                "email": ColumnPlan(transformer="email", params={"domain": "x.example"}),
            }
        )
    }
)
SOURCE = {"backend": "postgresql", "host": "db.internal", "port": 5432, "database": "prod"}
TARGET = {"backend": "postgresql", "host": "staging", "port": 5432, "database": "stage"}


def _record(run_id: str, started: str, **kw: object) -> MaskingRecord:
    base: dict[str, object] = {
        "run_id": run_id,
        "status": RunStatus.COMPLETED,
        "plan_sha256": PLAN.sha256(),
        "key_id": "mk-20260101-abcd",
        "source": SOURCE,
        "target": TARGET,
        "started_at": started,
        "finished_at": started,
        "duration_s": 1.5,
        "rows": {"customers": 10},
        "transformers": transformers_of(PLAN),
        "snapshot": "00000003-0000001B-1",
        "lsn": "0/1A2B3C",
        "verification": Verification.PASSED,
        "verify": {"outcome": "passed", "total_hits": 0},
    }
    base.update(kw)
    return MaskingRecord(**base)  # type: ignore[arg-type]


def test_record_and_list(any_migrated_store_url: str) -> None:
    store = open_store(any_migrated_store_url)
    i1 = record_run(_record("r1", "2026-01-01T00:00:00Z"), store, actor="alice")
    i2 = record_run(
        _record(
            "r2",
            "2026-01-02T00:00:00Z",
            status=RunStatus.FAILED,
            verification=Verification.SKIPPED,
            verify=None,
            error="[SW600] target went away",
        ),
        store,
        actor="alice",
    )
    assert i2 > i1
    runs = list_runs(store)
    assert [r["run_id"] for r in runs] == ["r2", "r1"]
    r1 = runs[1]
    assert r1["transformers"] == {"customers.email": "email", "customers.id": "keep"}
    assert r1["lsn"] == "0/1A2B3C" and r1["snapshot"] == "00000003-0000001B-1"
    assert r1["audit_index"] == i1 and r1["stagewall_version"]
    events = AuditLog(store).events()
    assert [(e.code, e.status) for e in events] == [
        ("masking.run.completed", Status.SUCCESS),
        ("masking.verify.passed", Status.SUCCESS),
        ("masking.run.failed", Status.FAILURE),
    ]
    assert events[0].details["plan_sha256"] == PLAN.sha256()
    assert events[0].details["rows"] == [{"table": "customers", "rows": 10}]
    assert events[0].resource == "postgresql://staging:5432/stage"
    assert "target went away" in events[2].message
    assert list_runs(store, limit=1)[0]["run_id"] == "r2"
    store.dispose()


def test_a_password_column_is_recorded_not_refused(any_migrated_store_url: str) -> None:
    """A plan that redacts ``users.password`` (in a table ``password_resets`` too) used
    to make the audit log refuse the whole record as "looks like a secret" after the
    target was complete (exit 2, no record). Names are values in the event now."""
    plan = Plan(
        tables={
            "users": TablePlan(columns={"password": ColumnPlan(transformer="redact")}),
            "password_resets": TablePlan(columns={"api_key": ColumnPlan(transformer="null")}),
        }
    )
    store = open_store(any_migrated_store_url)
    rec = _record(
        "rp",
        "2026-01-03T00:00:00Z",
        rows={"users": 3, "password_resets": 2},
        transformers=transformers_of(plan),
        plan_sha256=plan.sha256(),
    )
    index = record_run(rec, store, actor="alice")
    event = AuditLog(store).events()[0]
    assert event.details["transformers"] == [
        {"column": "password_resets.api_key", "transformer": "null"},
        {"column": "users.password", "transformer": "redact"},
    ]
    assert {"table": "password_resets", "rows": 2} in event.details["rows"]
    assert list_runs(store)[0]["audit_index"] == index
    assert list_runs(store)[0]["transformers"]["users.password"] == "redact"
    store.dispose()


def test_record_verify_alone(any_migrated_store_url: str) -> None:
    store = open_store(any_migrated_store_url)
    record_verify(
        store,
        run_id="r9",
        plan_sha256="ab" * 32,
        key_id="mk-1",
        target=TARGET,
        summary={"outcome": "failed", "total_hits": 3},
        passed=False,
        actor="bob",
    )
    (ev,) = AuditLog(store).events()
    assert ev.code == "masking.verify.failed" and ev.status is Status.FAILURE
    assert ev.details["total_hits"] == 3 and ev.actor == "bob"
    assert list_runs(store) == []  # a stand-alone verify is not a run
    store.dispose()


def test_failed_run_after_target_touched_is_recorded(tmp_path: Path) -> None:
    """A value that breaks a transformer mid-copy: exit 2, marker failed, run recorded as failed."""
    assert run_cli("keys", "init").exit_code == 0
    src = make_source(tmp_path / "src.db")
    plan = tmp_path / "plan.yaml"
    assert run_cli("mask", "plan", "--source", src, "--out", str(plan)).exit_code == 0
    data = yaml.safe_load(plan.read_text())
    data["tables"]["customers"]["columns"]["notes"] = {"transformer": "json_mask", "params": {}}
    plan.write_text(yaml.safe_dump(data))
    tgt = f"sqlite:///{tmp_path / 'tgt.db'}"
    res = run_cli("mask", "run", "--plan", str(plan), "--source", src, "--target", tgt)
    assert res.exit_code == 2
    assert "not valid JSON" in res.stderr
    verify = run_cli("mask", "verify", "--plan", str(plan), "--source", src, "--target", tgt)
    assert verify.exit_code == 2 and "is failed: it is not a complete masked copy" in verify.stderr
    runs = json.loads(run_cli("mask", "runs", "--format", "json").stdout)
    assert [(r["status"], r["verification"]) for r in runs] == [("failed", "skipped")]
    assert "not valid JSON" in runs[0]["error"]
