"""Masking plan approvals in the web UI and the inbox: listed, reviewed, withdrawn.

Before, a plan approval request reached nobody's inbox (web or API), had no page to
review it, and its approval could not be withdrawn (a withdrawn_at set in the row
counted for nothing, but nothing set it and the log had no withdrawal event). Now the
inbox lists the pending plans a person may approve (the rules of the review: not the
submitter or an author, internal people only, no fresh factor reset), the request's
page shows the plan and the decision form (CSRF token and factor with the form, the
same library call as the API), and the approver withdraws with a factor: the job's
next run is then refused (SW864), recorded and alerted.
"""

from __future__ import annotations

import html
from typing import Any

import pytest

from stagewall.server import jobs
from tests.server.conftest import Person, World
from tests.server.test_masking_jobs import finish
from tests.server.test_redteam_plan_approval import _jobs_world, _review, _submit
from tests.web.conftest import Browser, refused_without_csrf_or_factor

JOB = "refresh-staging"


def _browser(world: World, person: Person) -> Browser:
    b = Browser(world, person)
    b.sign_in()
    return b


def _events(world: World, code: str, status: str = "Success") -> list[Any]:
    return [e for e in world.events() if e.code == code and e.status.value == status]


def _submitted(world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch) -> str:
    """alice submits the job's plan, naming carol as its author: the request id."""
    _jobs_world(world, monkeypatch)
    res = _submit(people["alice"], authors=["carol"])
    assert res.status_code == 201, res.text
    return str(res.json()["request"])


def _approved(world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch) -> str:
    rid = _submitted(world, people, monkeypatch)
    res = _review(people["bob"], rid)
    assert res.status_code == 200 and res.json()["outcome"] == "approved", res.text
    return rid


def test_the_inbox_lists_a_pending_plan_for_its_eligible_approvers_only(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = _submitted(world, people, monkeypatch)
    item = f'value="plan:{rid}"'
    page = _browser(world, people["bob"]).get("/").text
    assert item in page and f'href="/masking/plans/{rid}"' in page
    assert "Masking plans you may approve" in page and JOB in page
    # the submitter, the named author and an external are not offered it
    for other in ("alice", "carol", "dana"):
        page = _browser(world, people[other]).get("/").text
        assert item not in page and f"/masking/plans/{rid}" not in page, other
    assert JOB not in _browser(world, people["dana"]).get("/").text
    # the API inbox, likewise
    [listed] = people["bob"].get("/api/v1/inbox").json()["plans_to_review"]
    assert listed["id"] == rid and listed["job"] == JOB and listed["submitter"] == "alice"
    for other in ("alice", "carol", "dana"):
        got = people[other].get("/api/v1/inbox")
        assert got.status_code == 200, got.text
        assert got.json()["plans_to_review"] == [], other
    # once decided it waits for nobody
    assert _review(people["bob"], rid).status_code == 200
    assert item not in _browser(world, people["bob"]).get("/").text
    assert people["bob"].get("/api/v1/inbox").json()["plans_to_review"] == []


def test_a_factor_reset_keeps_a_plan_out_of_the_approvers_inbox(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    from stagewall.server import plans

    rid = _submitted(world, people, monkeypatch)
    assert [r["id"] for r in plans.list_requests(world.state, reviewable_by="bob")] == [rid]
    monkeypatch.setattr(
        plans, "factor_reset_problem", lambda store, who, now: "a factor was reset today"
    )
    assert plans.list_requests(world.state, reviewable_by="bob") == []
    assert plans.review_problem(world.state, rid, "bob") is not None


def test_approving_from_the_plan_page_needs_csrf_and_a_factor(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = _submitted(world, people, monkeypatch)
    bob = _browser(world, people["bob"])
    page = bob.get(f"/masking/plans/{rid}")
    assert page.status_code == 200, page.text
    text = html.unescape(page.text)
    assert f'name="item" value="plan:{rid}"' in text and 'name="csrf"' in text
    assert 'name="otp"' in text
    # the plan's rules, column by column, for the reviewer to read
    assert "customers" in text and "full_name" in text
    # no CSRF token: refused before anything runs; no factor: the library refuses
    form = {"item": f"plan:{rid}", "decision": "approve"}
    refused_without_csrf_or_factor(bob, "/decide", form, people["bob"].otp())
    assert not _events(world, "masking.plan.reviewed")
    res = bob.post(
        "/decide", {"item": f"plan:{rid}", "decision": "approve", "otp": people["bob"].otp()}
    )
    assert res.status_code == 200, res.text
    assert f"of masking job {JOB}: approved" in html.unescape(res.text)
    [event] = _events(world, "masking.plan.reviewed")
    assert event.actor == "bob" and event.details["mfa"]["method"] == "totp"
    assert event.resource == f"request:{rid}"
    # the approved plan runs
    run = people["alice"].post(f"/api/v1/masking/jobs/{JOB}/runs")
    assert run.status_code == 202, run.text
    finish(world)
    assert jobs.get_run(world.state, run.json()["id"])["state"] == "completed"


def test_who_sees_the_plan_page_and_who_may_decide_there(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = _submitted(world, people, monkeypatch)
    form = f'value="plan:{rid}"'
    # the submitter reads it, with the reason it offers no decision
    page = _browser(world, people["alice"]).get(f"/masking/plans/{rid}")
    assert page.status_code == 200 and form not in page.text
    assert "submitted or wrote" in html.unescape(page.text)
    # an auditor reads it and decides nothing
    page = _browser(world, people["audrey"]).get(f"/masking/plans/{rid}")
    assert page.status_code == 200 and form not in page.text
    # an external sees nothing of it (the plan names production's tables)
    page = _browser(world, people["dana"]).get(f"/masking/plans/{rid}")
    assert page.status_code == 403, page.text
    assert JOB not in page.text and "full_name" not in page.text
    # an auditor cannot decide it by posting the form either
    res = _browser(world, people["audrey"]).post(
        "/decide", {"item": f"plan:{rid}", "decision": "approve", "otp": "123456"}
    )
    assert res.status_code == 403
    # an unknown request: a 404 page
    page = _browser(world, people["bob"]).get("/masking/plans/rnothere")
    assert page.status_code == 404 and "SW866" in page.text


def test_the_approver_withdraws_from_the_inbox_and_the_next_run_is_refused(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = _approved(world, people, monkeypatch)
    form = f'<input type="hidden" name="approval" value="{rid}">'
    bob = _browser(world, people["bob"])
    assert form in bob.get("/").text and 'name="kind" value="plan"' in bob.get("/").text
    for other in ("alice", "carol"):
        assert form not in _browser(world, people[other]).get("/").text
    assert form in bob.get(f"/masking/plans/{rid}").text
    # no CSRF token, then no factor: refused, nothing withdrawn
    data = {"kind": "plan", "approval": rid, "reason": "missed a column"}
    refused_without_csrf_or_factor(bob, "/withdraw", data, people["bob"].otp())
    assert not _events(world, "masking.plan.withdrawn")
    res = bob.post("/withdraw", {**data, "otp": people["bob"].otp()})
    assert res.status_code == 200, res.text
    assert "is withdrawn; its next run is refused" in html.unescape(res.text)
    [done] = _events(world, "masking.plan.withdrawn")
    assert done.actor == "bob" and done.resource == f"request:{rid}"
    assert done.details["mfa"]["method"] == "totp" and done.details["reason"] == "missed a column"
    assert done.details["job"] == JOB
    assert form not in bob.get("/").text  # withdrawn: no longer offered
    # the next run: SW864, a failed run, a critical alert
    res = people["alice"].post(f"/api/v1/masking/jobs/{JOB}/runs")
    finish(world)
    assert res.status_code == 409 and res.json()["code"] == "SW864", res.text
    assert "bob withdrew their approval" in res.json()["detail"]
    [run] = jobs.list_runs(world.state, JOB)
    assert run["state"] == "failed" and "SW864" in (run["error"] or "")
    alerts = [a for a in world.alerts() if a["kind"] == "masking.job.plan_unapproved"]
    assert len(alerts) == 1 and alerts[0]["severity"] == "critical"
    # withdrawn once: a second withdrawal is refused
    res = bob.post("/withdraw", {"kind": "plan", "approval": rid, "otp": people["bob"].otp()})
    assert res.status_code == 400 and "already withdrew" in html.unescape(res.text)


def test_nobody_else_withdraws_a_plan_approval(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = _approved(world, people, monkeypatch)
    carol = _browser(world, people["carol"])
    res = carol.post("/withdraw", {"kind": "plan", "approval": rid, "otp": people["carol"].otp()})
    assert res.status_code == 400, res.text
    assert "'carol' has no approval" in html.unescape(res.text)
    res = people["alice"].post(
        f"/api/v1/masking/plan-approvals/{rid}/reviews/withdrawal", {"otp": people["alice"].otp()}
    )
    assert res.status_code == 403 and "'alice' has no approval" in res.json()["detail"]
    dana = _browser(world, people["dana"])
    res = dana.post("/withdraw", {"kind": "plan", "approval": rid, "otp": people["dana"].otp()})
    assert res.status_code == 403 and "may not call web.withdraw" in res.text
    res = people["dana"].post(f"/api/v1/masking/plan-approvals/{rid}/reviews/withdrawal", {})
    assert res.status_code == 403
    assert not _events(world, "masking.plan.withdrawn")
    refused = _events(world, "masking.plan.refused", "Failure")
    assert {e.actor for e in refused} >= {"carol", "alice"}
    # the approval stands: the job still runs
    run = people["alice"].post(f"/api/v1/masking/jobs/{JOB}/runs")
    assert run.status_code == 202, run.text
    finish(world)
