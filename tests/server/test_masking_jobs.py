"""Masking jobs run by the server: started through the API or the CLI, or by the schedule.

The source and target are real SQLite databases the server reaches with URLs only
it holds; the run happens in the server's worker thread, and the test waits for it
by shutting the workers down (which joins them), never by sleeping.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from stagewall.keys import init_keys
from stagewall.masking.plan import dump_plan
from stagewall.masking.planner import build_plan
from stagewall.masking.record import list_runs as masking_runs
from stagewall.server import ServerState, jobs
from stagewall.server._workers import Workers
from stagewall.server.sweeper import Leadership, tick
from tests.masking.test_planner import make_source
from tests.server.conftest import ESTATE, Clock, Person, World
from tests.server.plan_approval import approve_plan, with_plan_people

JOBS = """
masking_jobs:
  refresh-staging:
    source: prod-sqlite
    target: staging-sqlite
    plan: plans/customers.yaml
    schedule: nightly
  no-plan:
    source: prod-sqlite
    target: staging-sqlite
    plan: plans/missing.yaml
  bob-only:
    source: prod-sqlite
    target: staging-sqlite
    plan: plans/customers.yaml
    run_by: [bob]
  secret-target:
    source: prod-sqlite
    target: staging-pg
    plan: plans/customers.yaml
"""
RESOURCES = """resources:
  prod-sqlite: {environment: production, kind: sqlite, path: prod.db}
  staging-sqlite: {environment: staging, kind: sqlite, path: staging.db}
  staging-pg: {environment: staging, kind: postgresql, connection_env: SW_TEST_JOB_TARGET}
"""
SECRET = "s3cret-Pa55word"


def estate_text(pg_db: str) -> str:
    return with_plan_people(ESTATE.format(db=pg_db).replace("resources:\n", RESOURCES, 1) + JOBS)


def prepare_dir(tmp: Path) -> None:
    """Production data and its committed plan beside stagewall.yaml."""
    url = make_source(tmp / "prod.db")
    (tmp / "plans").mkdir(exist_ok=True)
    (tmp / "plans" / "customers.yaml").write_text(dump_plan(build_plan(url).plan))


@pytest.fixture
def jw(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """The server world with masking jobs declared."""
    monkeypatch.setenv("SW_TEST_JOB_TARGET", f"postgresql://stagewall:{SECRET}@127.0.0.1:1/staging")
    tmp = world.config.parent
    prepare_dir(tmp)
    world.config.write_text(
        estate_text(world.state.ctx.loaded.estate.resources["prod-db"].database or "")
    )
    world.state.refresh()
    assert "refresh-staging" in world.state.estate.masking_jobs
    for job in ("refresh-staging", "bob-only", "secret-target"):
        approve_plan(world.state, job, world.clock)
    return world


def finish(world: World) -> None:
    """Wait for every queued run: shutting the workers down joins their threads."""
    world.state.workers.shutdown(wait=True)
    world.state.workers = Workers()


def test_an_internal_person_runs_a_job_and_the_record_names_her(
    jw: World, people: dict[str, Person]
) -> None:
    alice = people["alice"]
    res = alice.post("/api/v1/masking/jobs/refresh-staging/runs")
    assert res.status_code == 202, res.text
    run = res.json()
    assert run["state"] in ("queued", "running", "completed")
    assert run["triggered_by"] == "alice" and run["trigger"] == "api"
    finish(jw)
    done = alice.get(f"/api/v1/masking/runs/{run['id']}").json()
    assert done["state"] == "completed", done
    assert done["verification"] == "passed"
    assert done["total_rows"] == 120  # 40 customers, accounts, ledger rows
    # the target holds masked rows: same count, no production e-mail address
    tmp = jw.config.parent
    src = sqlite3.connect(tmp / "prod.db")
    tgt = sqlite3.connect(tmp / "staging.db")
    src_emails = {r[0] for r in src.execute("SELECT email FROM customers")}
    tgt_emails = {r[0] for r in tgt.execute("SELECT email FROM customers")}
    assert len(tgt_emails) == 40 and not src_emails & tgt_emails
    # the run record and the audit events name who started it
    [record] = masking_runs(jw.state.ctx.store)
    assert record["triggered_by"] == "alice" and record["run_id"] == done["masking_run"]
    by_code = {e.code: e for e in jw.events()}
    assert by_code["masking.job.triggered"].actor == "alice"
    assert by_code["masking.run.completed"].actor == "alice"
    assert by_code["masking.verify.passed"].actor == "alice"
    # listing: jobs with resource names, never a URL; runs of the job
    listed = {j["name"]: j for j in alice.get("/api/v1/masking/jobs").json()}
    assert listed["refresh-staging"]["last_run"]["id"] == run["id"]
    assert listed["refresh-staging"]["schedule"] == "nightly"
    assert listed["refresh-staging"]["next_run"].endswith("T02:00:00.000000Z")
    assert SECRET not in alice.get("/api/v1/masking/jobs").text
    runs = alice.get("/api/v1/masking/jobs/refresh-staging/runs").json()
    assert [r["id"] for r in runs] == [run["id"]]


def test_externals_auditors_and_people_outside_run_by_may_not_start_a_job(
    jw: World, people: dict[str, Person]
) -> None:
    for who in ("dana", "audrey"):
        res = people[who].post("/api/v1/masking/jobs/refresh-staging/runs")
        assert res.status_code == 403, (who, res.text)
    assert people["audrey"].get("/api/v1/masking/jobs").status_code == 200  # auditor reads
    assert people["dana"].get("/api/v1/masking/jobs").status_code == 403  # external: no
    res = people["alice"].post("/api/v1/masking/jobs/bob-only/runs")
    assert res.status_code == 403 and "run_by" in res.json()["detail"]
    refused = [e for e in jw.events() if e.code == "masking.job.refused"]
    assert [e.actor for e in refused] == ["alice"]
    assert jobs.list_runs(jw.state) == []  # nothing was queued


def test_unknown_job_and_missing_plan_are_clear_errors(
    jw: World, people: dict[str, Person]
) -> None:
    alice = people["alice"]
    res = alice.post("/api/v1/masking/jobs/nope/runs")
    assert res.status_code == 404 and res.json()["code"] == "SW860"
    assert "no masking job named 'nope'" in res.json()["detail"]
    assert alice.get("/api/v1/masking/jobs/nope/runs").status_code == 404
    assert alice.get("/api/v1/masking/runs/mjr_nope").status_code == 404
    res = alice.post("/api/v1/masking/jobs/no-plan/runs")
    assert res.status_code == 400, res.text
    body = res.json()
    assert body["code"] == "SW861"
    assert "plan file plans/missing.yaml does not exist on the server" in body["detail"]
    assert jobs.list_runs(jw.state) == []


def test_a_failing_run_is_recorded_without_the_server_held_password(
    jw: World, people: dict[str, Person]
) -> None:
    alice = people["alice"]
    run = alice.post("/api/v1/masking/jobs/secret-target/runs").json()
    finish(jw)
    res = alice.get(f"/api/v1/masking/runs/{run['id']}")
    done = res.json()
    assert done["state"] == "failed" and done["error"]
    assert SECRET not in res.text
    assert SECRET not in alice.get("/api/v1/audit/events", params={"limit": 1000}).text
    failed = [e for e in jw.events() if e.code == "masking.job.failed"]
    assert failed and failed[0].actor == "alice"
    alerts = [a for a in jw.alerts() if a["kind"] == "masking.job.failed"]
    assert alerts and SECRET not in str(alerts)


def test_a_second_run_waits_for_the_first(jw: World, people: dict[str, Person]) -> None:
    gate = threading.Event()
    jw.state.workers.submit("masking", gate.wait, 30)  # the worker is busy: the run stays queued
    alice = people["alice"]
    first = alice.post("/api/v1/masking/jobs/refresh-staging/runs")
    assert first.status_code == 202
    second = alice.post("/api/v1/masking/jobs/refresh-staging/runs")
    assert second.status_code == 409 and second.json()["code"] == "SW862"
    gate.set()
    finish(jw)
    assert [r["state"] for r in jobs.list_runs(jw.state)] == ["completed"]


def _server(tmp: Path, pg_db: str, store_url: str, name: str, clock: Clock) -> ServerState:
    home = tmp / f"home-{name}"
    init_keys(home)
    if name != "a":  # both servers must share the masking key to verify alike
        import shutil

        shutil.rmtree(home)
        shutil.copytree(tmp / "home-a", home)
    state = ServerState.open(tmp / "stagewall.yaml", store_url, home)
    state.clock = clock
    state.ctx.clock = clock
    return state


def _wait_until_started(state: ServerState, timeout: float = 60.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = jobs.list_runs(state)
        if runs and all(r["state"] != "queued" for r in runs):
            return
        time.sleep(0.02)
    raise AssertionError(f"no run left the queue within {timeout} s: {jobs.list_runs(state)}")


def test_a_scheduled_job_runs_once_per_slot_with_two_servers(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SW_TEST_ADMIN_URL", pg_url)
    prepare_dir(tmp_path)
    (tmp_path / "stagewall.yaml").write_text(estate_text(pg_url.rsplit("/", 1)[1]))
    store = f"sqlite:///{tmp_path / 'store.db'}"
    clock = Clock()
    day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    clock.now = day + timedelta(hours=1, minutes=59)  # just before the nightly slot
    a = _server(tmp_path, "x", store, "a", clock)
    b = _server(tmp_path, "x", store, "b", clock)
    la, lb = Leadership(a), Leadership(b)
    approve_plan(a, "refresh-staging")
    try:
        tick(a, la)
        tick(b, lb)
        assert jobs.list_runs(a) == []  # not due yet
        clock.advance(timedelta(minutes=1, seconds=5))  # 02:00:05: due
        tick(a, la)
        tick(b, lb)
        # even without leadership, the slot claim lets only one start it
        assert jobs.run_scheduled(b) == [] and jobs.run_scheduled(a) == []
        # the worker stamps its start (and heartbeat) with the clock it read when it
        # began: let it get that far before the clock jumps, else that stamp lands after
        # the beat below and is ten minutes old
        _wait_until_started(a)
        clock.advance(timedelta(minutes=10))
        # the heartbeat thread's beat (it beats every 10 s of real time, and no real
        # time passes here): without it the 10 minutes make a still-running run dead,
        # and a run marked dead no longer completes
        for s in (a, b):
            jobs.beat(s)
        tick(b, lb)
        tick(a, la)
        la.release()  # the leader dies; the other takes over and does not run it again
        tick(b, lb)
        for s in (a, b):
            s.workers.shutdown(wait=True)
        runs = jobs.list_runs(a)
        assert len(runs) == 1, runs
        [run] = runs
        assert run["trigger"] == "schedule" and run["triggered_by"] == "schedule:refresh-staging"
        assert run["state"] == "completed", (run["state"], run.get("error"))
        [record] = masking_runs(a.ctx.store)
        assert record["triggered_by"] == "schedule:refresh-staging"
        # the next night it runs again, once
        clock.advance(timedelta(days=1))
        b.workers = Workers()
        tick(b, lb)
        b.workers.shutdown(wait=True)
        assert len(jobs.list_runs(a)) == 2
    finally:
        la.release()
        lb.release()


def test_the_cli_starts_a_server_job_and_waits(
    jw: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from tests.cli_helpers import run_cli
    from tests.live_server import serve

    token = people["alice"].token or ""
    with serve(jw.state, run_sweeper=False) as url:
        env = {"STAGEWALL_TOKEN": token, "STAGEWALL_SERVER": url}
        res = run_cli("mask", "run", "refresh-staging", "--format", "json", env=env)
        assert res.exit_code == 0, res.stderr
        run: dict[str, Any] = json.loads(res.stdout)
        assert run["state"] == "completed" and run["triggered_by"] == "alice"
        res = run_cli("mask", "run", "no-plan", "--format", "json", env=env)
        assert res.exit_code == 2 and "does not exist on the server" in res.stderr
        res = run_cli("mask", "run", "refresh-staging", "--plan", "p.yaml", env=env)
        assert res.exit_code == 2 and "JOB takes no --plan" in res.stderr
