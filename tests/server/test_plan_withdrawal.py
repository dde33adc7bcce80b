"""Withdrawing a masking plan approval through the API and the CLI.

Access and promotion approvals could be withdrawn by their approver; a plan approval
could not, so an approver who found a mistake after approving had no way to stop the
job's next run. Now the approver withdraws it (step-up MFA, ``masking.plan.withdrawn``);
the withdrawal event outranks the row, as for access and promotions.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import update

from stagewall.access._tables import access_reviews
from stagewall.server import plans
from tests.cli_helpers import run_cli
from tests.server.conftest import Person, World
from tests.server.test_masking_jobs import finish
from tests.server.test_redteam_plan_approval import _jobs_world, _review, _submit

JOB = "refresh-staging"


def _withdraw(person: Person, request: str, **body: Any) -> Any:
    return person.post(f"/api/v1/masking/plan-approvals/{request}/reviews/withdrawal", body)


def _approved(world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch) -> str:
    _jobs_world(world, monkeypatch)
    sub = _submit(people["alice"]).json()
    assert _review(people["bob"], sub["request"]).status_code == 200
    return str(sub["request"])


def _refused(world: World, people: dict[str, Person], sha: str, why: str) -> None:
    """The plan of hash ``sha`` is not approved (``why``), and a run of it is SW864."""
    problem = plans.approval_problem(world.state, JOB, sha)
    assert problem is not None and why in problem, problem
    res = people["alice"].post(f"/api/v1/masking/jobs/{JOB}/runs")
    finish(world)
    assert res.status_code == 409 and res.json()["code"] == "SW864", res.text
    assert why in res.json()["detail"]


def test_the_approver_withdraws_through_the_api_with_a_factor(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = _approved(world, people, monkeypatch)
    sha = plans.list_requests(world.state, request_id=rid)[0]["plan_sha256"]
    assert plans.approval_problem(world.state, JOB, sha) is None
    res = _withdraw(people["bob"], rid)  # no factor, no window
    assert res.status_code in (401, 403), res.text
    assert plans.approval_problem(world.state, JOB, sha) is None
    res = _withdraw(people["bob"], rid, otp=people["bob"].otp(), reason="wrong column")
    assert res.status_code == 200, res.text
    got = res.json()
    assert got["withdrawn_by"] == "bob" and got["job"] == JOB and got["plan_sha256"] == sha
    [row] = plans.list_requests(world.state, request_id=rid)
    assert row["reviews"][0]["withdrawn"] is True
    _refused(world, people, sha, "bob withdrew their approval")


def test_a_withdrawal_outranks_a_row_edited_back_in_the_store(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whoever writes the store clears withdrawn_at again: the log's withdrawal event
    still makes the approval count for nothing."""
    rid = _approved(world, people, monkeypatch)
    sha = plans.list_requests(world.state, request_id=rid)[0]["plan_sha256"]
    assert _withdraw(people["bob"], rid, otp=people["bob"].otp()).status_code == 200
    with world.state.ctx.store.transaction() as conn:
        conn.execute(
            update(access_reviews)
            .where(access_reviews.c.request_id == rid)
            .values(withdrawn_at=None, withdrawn_reason=None)
        )
    _refused(world, people, sha, "records that bob withdrew")


def test_the_cli_withdraws_a_plan_approval(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.live_server import serve

    rid = _approved(world, people, monkeypatch)
    with serve(world.state, run_sweeper=False) as url:

        def cli(who: Person, *args: str) -> Any:
            env = {"STAGEWALL_TOKEN": who.token or "", "STAGEWALL_SERVER": url}
            return run_cli("mask", *args, env=env)

        res = cli(people["carol"], "withdraw-plan-approval", rid, "--otp", people["carol"].otp())
        assert res.exit_code == 1, res.stderr
        assert "'carol' has no approval" in res.stderr
        res = cli(people["bob"], "withdraw-plan-approval", "", "--otp", "123456")
        assert res.exit_code == 2 and "SW110" in res.stderr, res.stderr
        res = cli(
            people["bob"],
            "withdraw-plan-approval",
            rid,
            "--otp",
            people["bob"].otp(),
            "--format",
            "json",
        )
        assert res.exit_code == 0, res.stderr
        assert json.loads(res.stdout)["withdrawn_by"] == "bob"


def test_a_withdrawal_names_the_runs_that_used_the_approval(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An auditor reading a withdrawal sees which runs copied production under the
    approval withdrawn (base: the event named the job and the hash, not the runs)."""
    rid = _approved(world, people, monkeypatch)
    runs = []
    for _ in range(2):
        res = people["alice"].post(f"/api/v1/masking/jobs/{JOB}/runs")
        assert res.status_code == 202, res.text
        runs.append(res.json()["id"])
        finish(world)
    by_run = {e.details["run"]: e for e in world.events() if e.code == "masking.job.triggered"}
    for run in runs:  # each run's start names the approval it went under
        assert by_run[run].details["plan_approval"]["request"] == rid
        assert by_run[run].details["plan_approval"]["approved_by"] == "bob"
    res = _withdraw(people["bob"], rid, otp=people["bob"].otp(), reason="wrong column")
    assert res.status_code == 200, res.text
    [event] = [e for e in world.events() if e.code == "masking.plan.withdrawn"]
    used = event.details["runs_under_approval"]
    assert [u["run"] for u in used] == runs == [u["run"] for u in res.json()["runs_under_approval"]]
    assert all(u["state"] == "completed" and u["masking_run"] for u in used), used
    assert all(u["triggered_event"] == by_run[u["run"]].index for u in used)
    assert f"2 run(s) used it: {runs[0]}, {runs[1]}" in event.message
    # a run refused after the withdrawal never went under it
    assert people["alice"].post(f"/api/v1/masking/jobs/{JOB}/runs").status_code == 409
