"""Red team of the masking plan approval pages (web inbox, /masking/plans/ID, withdrawal).

The review page shows the plan's rules column by column so that the approver knows
what the hash they approve does. Those rules must be the rules *of that hash*: the plan
file is re-read from the server's disk, and an edit landing between the page's two
reads (the request list's hash comparison, then the rules) must not show the edited
plan's rules under the approved hash's name.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest

from stagewall.server import plans
from tests.server.conftest import Person, World, sign_up_people
from tests.server.test_redteam_plan_approval import _review, _submit, _weaken
from tests.web.test_plan_approval_pages import JOB, _browser, _submitted


def _keep_rows(text: str) -> list[str]:
    """The rows of the page's plan table whose transformer is keep."""
    return [row for row in text.split("<tr>") if "<strong>keep</strong>" in row]


def test_the_page_never_shows_another_plans_rules_under_the_requests_hash(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    rid = _submitted(world, people, monkeypatch)
    bob = _browser(world, people["bob"])
    before = html.unescape(bob.get(f"/masking/plans/{rid}").text)
    assert "full_name" in before and not any("full_name" in r for r in _keep_rows(before))
    # the plan file is weakened (full_name: keep) right after the page compared hashes
    plan_dir = Path(world.config.parent)
    real = plans.list_requests

    def then_edit(*args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        got = real(*args, **kwargs)
        _weaken(plan_dir)
        return got

    monkeypatch.setattr(plans, "list_requests", then_edit)
    page = bob.get(f"/masking/plans/{rid}")
    assert page.status_code == 200, page.text
    text = html.unescape(page.text)
    # the weakened rule is not presented as what this request's hash does
    assert not any("full_name" in r for r in _keep_rows(text)), _keep_rows(text)
    assert "harmless (it is not)" not in text
    assert "holds another version of this job's plan now" in text
    # the decision still binds the request's hash, never the edited plan
    monkeypatch.setattr(plans, "list_requests", real)
    form = {"item": f"plan:{rid}", "decision": "approve", "otp": people["bob"].otp()}
    res = bob.post("/decide", form)
    assert res.status_code == 200, res.text
    [row] = plans.list_requests(world.state, request_id=rid)
    assert row["current"] is False and row["state"] == "approved"


def test_who_submitted_a_plan_hash_never_approves_it_through_another_request(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    """alice submits the plan (hash H) she wrote; bob files a second request for the same
    job and hash (a routine `mask submit-plan`). alice must not be its approver: that
    would be the plan's submitter approving her own plan, one person deciding alone."""
    rid = _submitted(world, people, monkeypatch)  # alice, naming carol as an author
    again = _submit(people["bob"], reason="same plan, filed again")
    assert again.status_code == 201, again.text
    rid_b = str(again.json()["request"])
    [first] = plans.list_requests(world.state, request_id=rid)
    assert again.json()["plan_sha256"] == first["plan_sha256"]
    # neither alice (submitter of H) nor carol (named author of H) is offered it
    for who in ("alice", "carol"):
        assert plans.list_requests(world.state, reviewable_by=who) == [], who
        assert f"plan:{rid_b}" not in _browser(world, people[who]).get("/").text, who
        assert plans.review_problem(world.state, rid_b, who) is not None, who
    res = _review(people["alice"], rid_b)
    assert res.status_code == 403, res.text
    assert "submitted or wrote" in res.json()["detail"]
    page = _browser(world, people["carol"]).post(
        "/decide", {"item": f"plan:{rid_b}", "decision": "approve", "otp": people["carol"].otp()}
    )
    assert "submitted or wrote" in html.unescape(page.text)
    assert plans.approval_problem(world.state, JOB, first["plan_sha256"]) is not None
    # the rule is the same for bob: having filed H himself, he approves neither request
    assert plans.list_requests(world.state, reviewable_by="bob") == []
    assert _review(people["bob"], rid).status_code == 403
    assert plans.approval_problem(world.state, JOB, first["plan_sha256"]) is not None


def test_an_approval_by_a_submitter_of_the_same_hash_counts_for_nothing_at_run_time(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An approval recorded before this rule (alice approved bob's request of the hash
    she had submitted herself) does not let the job run that hash."""
    rid = _submitted(world, people, monkeypatch)
    again = _submit(people["bob"], reason="same plan, filed again")
    rid_b = str(again.json()["request"])
    # the review as it was: only the request's own submitter and authors were excluded
    with monkeypatch.context() as m:
        m.setattr(
            plans.PlanKind,
            "_authors",
            lambda self, r: {r.requester, *r.details.get("authors", [])},
            raising=False,
        )
        assert _review(people["alice"], rid_b).status_code == 200
    _submitted_sha = plans.list_requests(world.state, request_id=rid)[0]["plan_sha256"]
    problem = plans.approval_problem(world.state, JOB, _submitted_sha)
    assert problem is not None and "submitted or wrote" in problem, problem


def test_a_malformed_plan_request_id_is_a_clean_refusal_on_a_postgresql_store(
    pg_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A NUL byte in the id (page, API review and withdrawal, inbox /decide and
    /withdraw) was a psycopg DataError: a bare 500 and a traceback. Now SW101, nothing
    recorded for it, and the request itself is untouched."""
    world = pg_world
    people = sign_up_people(world)
    rid = _submitted(world, people, monkeypatch)
    bob = _browser(world, people["bob"])
    page = bob.get("/masking/plans/a%00b")
    assert page.status_code == 400 and "SW101" in page.text, page.text
    for path, body in (("reviews", {"approve": True}), ("reviews/withdrawal", {})):
        body = {**body, "otp": people["bob"].otp()}
        res = people["bob"].post(f"/api/v1/masking/plan-approvals/a%00b/{path}", body)
        assert res.status_code == 400 and res.json()["code"] == "SW101", res.text
    # A NUL byte is refused app-wide before the route runs (server/_input.py, naming
    # the field); another control character by the plan's own id check.
    res = bob.post("/decide", {"item": "plan:a\x00b", "decision": "approve", "otp": "123456"})
    assert res.status_code == 400 and "SW101" in res.text, res.text
    assert "the form field 'item' contains a NUL byte" in html.unescape(res.text)
    res = bob.post("/withdraw", {"kind": "plan", "approval": "a\x00b", "otp": "123456"})
    assert res.status_code == 400 and "SW101" in res.text, res.text
    assert "the form field 'approval' contains a NUL byte" in html.unescape(res.text)
    res = bob.post("/decide", {"item": "plan:a\x01b", "decision": "approve", "otp": "123456"})
    assert res.status_code == 400 and "not a masking plan request id" in html.unescape(res.text)
    res = bob.post("/withdraw", {"kind": "plan", "approval": "a\x01b", "otp": "123456"})
    assert res.status_code == 400, res.text
    assert "not a masking plan request id" in html.unescape(res.text)
    # an unknown id stays a 404 (SW866); the real request is still pending
    assert bob.get("/masking/plans/rnothere").status_code == 404
    [row] = plans.list_requests(world.state, request_id=rid)
    assert row["state"] == "pending"
