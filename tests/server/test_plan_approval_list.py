"""Listing masking plan approval requests (API and CLI), and the CLI's submit and review.

Internal people and auditors list the requests (job, hash and whether it is the plan
the server holds now, who asked, state, reviews); an external may not. The CLI
commands ``stagewall mask plan-approvals``, ``approve-plan`` and ``review-plan`` are
clients of the server: bad arguments are refused before anything is sent.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from stagewall.server import jobs
from tests.cli_helpers import run_cli
from tests.server.conftest import Person, World
from tests.server.test_redteam_plan_approval import _jobs_world, _review, _submit, _weaken

LIST = "/api/v1/masking/plan-approvals"


def test_internal_people_and_auditors_list_requests_an_external_may_not(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp = _jobs_world(world, monkeypatch)
    alice, bob, audrey, dana = (people[n] for n in ("alice", "bob", "audrey", "dana"))
    sub = _submit(alice, authors=["carol"]).json()
    res = dana.get(LIST)
    assert res.status_code == 403 and "may not call" in res.json()["detail"], res.text
    for reader in (alice, audrey):
        res = reader.get(LIST)
        assert res.status_code == 200, res.text
        [row] = res.json()
        assert row["id"] == sub["request"] and row["job"] == "refresh-staging"
        assert row["plan_sha256"] == sub["plan_sha256"] and row["current"] is True
        assert row["submitter"] == "alice" and row["authors"] == ["carol"]
        assert row["reason"] == "new column" and row["state"] == "pending"
        assert row["reviews"] == []
    assert [r["id"] for r in audrey.get(LIST, params={"state": "pending"}).json()] == [
        sub["request"]
    ]
    assert _review(bob, sub["request"]).status_code == 200
    assert audrey.get(LIST, params={"state": "pending"}).json() == []
    [row] = audrey.get(LIST, params={"job": "refresh-staging"}).json()
    assert row["state"] == "approved"
    assert [(v["reviewer"], v["decision"]) for v in row["reviews"]] == [("bob", "approve")]
    assert audrey.get(LIST, params={"job": "bob-only"}).json() == []
    # an edit of the plan on the server: the approved hash is no longer the current one
    _weaken(tmp)
    assert audrey.get(LIST).json()[0]["current"] is False
    res = audrey.get(LIST, params={"job": "nope"})
    assert res.status_code == 404 and res.json()["code"] == "SW860", res.text
    assert audrey.get(LIST, params={"state": "approved"}).status_code == 422


def test_the_cli_submits_reviews_and_lists_plan_approvals(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.live_server import serve

    _jobs_world(world, monkeypatch)
    sha = jobs.prepare(world.state, "refresh-staging").plan.sha256()
    alice, bob = people["alice"], people["bob"]
    with serve(world.state, run_sweeper=False) as url:

        def cli(who: Person, *args: str) -> Any:
            env = {"STAGEWALL_TOKEN": who.token or "", "STAGEWALL_SERVER": url}
            return run_cli("mask", *args, env=env)

        res = cli(alice, "approve-plan", "refresh-staging", "--sha256", sha, "--reason", "r1")
        assert res.exit_code == 0, res.stderr
        assert f"plan {sha[:12]} of masking job refresh-staging pending" in res.stdout
        res = cli(alice, "plan-approvals", "--pending", "--format", "json")
        assert res.exit_code == 0, res.stderr
        [row] = json.loads(res.stdout)
        assert row["plan_sha256"] == sha and row["submitter"] == "alice"
        request = row["id"]
        res = cli(bob, "review-plan", request, "--approve", "--otp", bob.otp(), "--format", "json")
        assert res.exit_code == 0, res.stderr
        assert json.loads(res.stdout)["outcome"] == "approved"
        res = cli(alice, "plan-approvals", "--pending", "--format", "json")
        assert json.loads(res.stdout) == []
        res = cli(alice, "plan-approvals", "--job", "refresh-staging")
        assert res.exit_code == 0, res.stderr
        assert request in res.stdout and "approved" in res.stdout and "bob approve" in res.stdout
        # the approved plan runs
        assert cli(alice, "run", "refresh-staging", "--no-wait").exit_code == 0
        # the server's refusals reach the terminal as problems, with their exit code
        res = cli(
            alice, "approve-plan", "nope", "--sha256", sha, "--reason", "r", "--format", "json"
        )
        assert res.exit_code == 2, res.stderr
        problem = json.loads(res.stderr)
        assert problem["code"] == "SW860" and "nope" in problem["detail"]
        res = cli(alice, "review-plan", request, "--deny", "--otp", alice.otp())
        assert res.exit_code == 1 and "error[SW400]" in res.stderr, res.stderr
        assert "is already approved" in res.stderr
        res = cli(people["dana"], "plan-approvals", "--format", "json")
        assert res.exit_code == 1, res.stderr
        problem = json.loads(res.stderr)
        assert problem["status"] == 403 and "may not call masking.plan.list" in problem["detail"]


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("review-plan", "", "--approve", "--otp", "123456"), "SW110", "request id"),
        (("review-plan", "req-1", "--otp", "123456"), "SW101", "--approve or --deny"),
        (("approve-plan", "", "--sha256", "a" * 64, "--reason", "r"), "SW110", "job"),
        (("approve-plan", "job", "--sha256", "", "--reason", "r"), "SW110", "--sha256"),
        (("approve-plan", "job", "--sha256", "abc", "--reason", "r"), "SW101", "not a plan hash"),
        (("plan-approvals", "--job", ""), "SW110", "job"),
    ],
)
def test_bad_arguments_are_refused_before_anything_is_sent(
    args: tuple[str, ...], code: str, words: str
) -> None:
    """No server and no token: a refusal here is the CLI's own (nothing was sent)."""
    env = {"STAGEWALL_SERVER": "http://127.0.0.1:1", "STAGEWALL_TOKEN": ""}
    res = run_cli("mask", *args, "--format", "json", env=env)
    assert res.exit_code == 2, (res.stdout, res.stderr)
    problem = json.loads(res.stderr)
    assert problem["code"] == code and words in problem["detail"], problem
