"""Red team: a masking job runs only a plan whose hash an internal person approved.

Before, the plan file was read at each run with nobody's consent: whoever could edit
it (mark a personal-data column ``keep``) had the next run copy production values
into staging, and verify withdrew the copy afterwards only when it found a value.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import yaml

from stagewall.server import jobs
from tests.server.conftest import Person, World
from tests.server.test_masking_jobs import estate_text, finish, prepare_dir


def _jobs_world(world: World, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SW_TEST_JOB_TARGET", "postgresql://x:y@127.0.0.1:1/staging")
    tmp = world.config.parent
    prepare_dir(tmp)
    db = world.state.ctx.loaded.estate.resources["prod-db"].database or ""
    world.config.write_text(estate_text(db))
    world.state.refresh()
    return tmp


def _weaken(tmp: Path) -> None:
    """Mark the full_name column (personal data) keep: a plan nobody approved."""
    plan = tmp / "plans" / "customers.yaml"
    data = yaml.safe_load(plan.read_text())
    data["tables"]["customers"]["columns"]["full_name"].update(
        transformer="keep", params={}, reason="harmless (it is not)"
    )
    plan.write_text(yaml.safe_dump(data))


def _staging_tables(tmp: Path) -> set[str]:
    if not (tmp / "staging.db").exists():
        return set()
    con = sqlite3.connect(tmp / "staging.db")
    try:
        return {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    finally:
        con.close()


def _submit(person: Person, job: str = "refresh-staging", **body: Any) -> Any:
    return person.post(
        f"/api/v1/masking/jobs/{job}/plan-approvals", {"reason": "new column", **body}
    )


def _review(person: Person, request: str, *, otp: bool = True, approve: bool = True) -> Any:
    body: dict[str, Any] = {"approve": approve}
    if otp:
        body["otp"] = person.otp()
    return person.post(f"/api/v1/masking/plan-approvals/{request}/reviews", body)


def test_an_unapproved_plan_is_refused_before_reading_production(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An edited (weakened) plan: the API start and the schedule are both refused, each a
    failed run with a critical alert, and nothing is read or written."""
    tmp = _jobs_world(world, monkeypatch)
    _weaken(tmp)
    res = people["alice"].post("/api/v1/masking/jobs/refresh-staging/runs")
    finish(world)
    assert res.status_code == 409, res.text
    assert res.json()["code"] == "SW864"
    assert "not approved" in res.json()["detail"]
    assert "customers" not in _staging_tables(tmp)  # no copy was made
    scheduled = jobs.run_scheduled(world.state, world.clock().replace(hour=2, minute=0))
    finish(world)
    assert scheduled == []
    runs = jobs.list_runs(world.state, "refresh-staging")
    assert sorted(r["trigger"] for r in runs) == ["api", "schedule"]
    assert all(r["state"] == "failed" and "SW864" in (r["error"] or "") for r in runs), runs
    alerts = [a for a in world.alerts() if a["kind"] == "masking.job.plan_unapproved"]
    assert len(alerts) == 2 and alerts[0]["severity"] == "critical"
    codes = [e.code for e in world.events()]
    assert "masking.run.completed" not in codes and "masking.job.triggered" not in codes


def test_another_internal_person_approves_with_step_up_and_only_that_hash_runs(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp = _jobs_world(world, monkeypatch)
    alice, bob, carol, dana = (people[n] for n in ("alice", "bob", "carol", "dana"))
    # externals and pipelines may not submit or approve (the authorization table)
    assert _submit(dana).status_code == 403
    sub = _submit(alice, authors=["carol"])
    assert sub.status_code == 201, sub.text
    request, sha = sub.json()["request"], sub.json()["plan_sha256"]
    assert len(sha) == 64
    assert _review(dana, request).status_code == 403
    # the submitter and a named author may not approve; nor without a factor
    for who in (alice, carol):
        res = _review(who, request)
        assert res.status_code == 403, res.text
        assert "submitted or wrote" in res.json()["detail"]
    assert _review(bob, request, otp=False).status_code in (401, 403)
    res = _review(bob, request)
    assert res.status_code == 200, res.text
    assert res.json()["outcome"] == "approved" and res.json()["plan_sha256"] == sha
    [event] = [e for e in world.events() if e.code == "masking.plan.reviewed"]
    assert event.actor == "bob" and event.details["plan_sha256"] == sha
    assert event.details["mfa"]["method"] == "totp"
    # the sweeper's binding check knows plan approvals: no false "unbound" alarm
    from stagewall.server.sweeper import check_new_approvals

    assert check_new_approvals(world.state) == []
    refused = [e for e in world.events() if e.code == "masking.plan.refused"]
    assert {e.actor for e in refused} >= {"alice", "carol"}
    # the approved hash runs
    run = alice.post("/api/v1/masking/jobs/refresh-staging/runs")
    assert run.status_code == 202, run.text
    finish(world)
    assert jobs.get_run(world.state, run.json()["id"])["state"] == "completed"
    # an edit changes the hash: refused again until approved again
    _weaken(tmp)
    res = alice.post("/api/v1/masking/jobs/refresh-staging/runs")
    assert res.status_code == 409 and res.json()["code"] == "SW864"
    # a submission for the hash the submitter reviewed is refused if the server differs
    res = _submit(alice, plan_sha256=sha)
    assert res.status_code == 400 and sha in res.json()["detail"]


def test_an_approval_row_written_in_the_store_is_not_honoured(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever writes the store inserts an approved request and review for the edited
    plan's hash: it names no audit event, so the run is refused."""
    from sqlalchemy import insert

    from stagewall.access._tables import access_outcomes, access_requests, access_reviews
    from stagewall.masking.plan import load_plan
    from stagewall.server import plans

    tmp = _jobs_world(world, monkeypatch)
    _weaken(tmp)
    sha = load_plan(tmp / "plans" / "customers.yaml").sha256()
    now = "2026-01-01T00:00:00.000000Z"
    with world.state.ctx.store.transaction() as conn:
        conn.execute(
            insert(access_requests).values(
                id="rforged",
                kind="masking_plan",
                requester="alice",
                subject=plans.subject("refresh-staging", sha),
                details=json.dumps({"job": "refresh-staging", "plan_sha256": sha}),
                reason="",
                ticket=None,
                requested_seconds=0,
                created_at=now,
                expires_at="2099-01-01T00:00:00.000000Z",
            )
        )
        conn.execute(
            insert(access_reviews).values(
                request_id="rforged",
                reviewer="bob",
                decision="approve",
                reason="",
                mfa_method="totp",
                mfa_time=now,
                created_at=now,
            )
        )
        conn.execute(
            insert(access_outcomes).values(
                request_id="rforged", outcome="approved", decided_at=now, result_ref=None
            )
        )
    res = people["alice"].post("/api/v1/masking/jobs/refresh-staging/runs")
    finish(world)
    assert res.status_code == 409, res.text
    assert "names no audit event" in res.json()["detail"]
    from stagewall.server.sweeper import check_new_approvals

    assert len(check_new_approvals(world.state)) == 1  # and the sweep alerts it
    assert "customers" not in _staging_tables(tmp)
