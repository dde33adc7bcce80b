"""Withdrawing your own approval from the inbox (access requests and promotions).

Withdrawal used to have no page (API and CLI only). The inbox now lists the signed-in
approver's own approvals that still stand, each with a form that sends the session's
CSRF token and a factor; the route calls the same library function as the API route.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from tests.server.conftest import Person, World
from tests.web.conftest import Browser, refused_without_csrf_or_factor
from tests.web.test_promotion_inbox import submitted_promotion


def _browser(world: World, person: Person) -> Browser:
    b = Browser(world, person)
    b.sign_in()
    return b


def _events(world: World, code: str) -> list[Any]:
    return [e for e in world.events() if e.code == code and e.status.value == "Success"]


def _approved_request(world: World, people: dict[str, Person]) -> tuple[str, Browser]:
    alice = _browser(world, people["alice"])
    res = alice.post("/request", {"role": "prod-read", "duration": "1h", "reason": "INC-9"})
    assert res.status_code == 201, res.text
    rid = str(_events(world, "access.request.created")[-1].resource).split(":")[1]
    bob = _browser(world, people["bob"])
    res = bob.post(
        "/decide", {"item": f"access:{rid}", "decision": "approve", "otp": people["bob"].otp()}
    )
    assert res.status_code == 200 and "approved" in res.text, res.text
    return rid, bob


def test_an_approver_withdraws_an_access_approval_from_the_inbox(
    world: World, people: dict[str, Person]
) -> None:
    rid, bob = _approved_request(world, people)
    form = f'<input type="hidden" name="approval" value="{rid}">'
    page = bob.get("/").text
    assert 'action="/withdraw"' in page and form in page
    # nobody else is offered bob's approval: not the requester, not another approver
    for other in ("alice", "carol"):
        assert form not in _browser(world, people[other]).get("/").text
    # no CSRF token: refused before anything runs; no factor: refused by the library
    data = {"kind": "access", "approval": rid, "reason": "oops"}
    refused_without_csrf_or_factor(bob, "/withdraw", data, people["bob"].otp())
    assert not _events(world, "access.review.withdrawn")
    res = bob.post(
        "/withdraw",
        {"kind": "access", "approval": rid, "reason": "oops", "otp": people["bob"].otp()},
    )
    assert res.status_code == 200, res.text
    text = html.unescape(res.text)
    assert f"your approval of request {rid} is withdrawn; grant" in text
    [done] = _events(world, "access.review.withdrawn")
    assert done.actor == "bob" and done.details["reason"] == "oops"
    assert done.details["mfa"]["method"] == "totp"
    assert form not in bob.get("/").text  # withdrawn: no longer offered


def test_only_the_approver_withdraws_and_externals_may_not_call_the_route(
    world: World, people: dict[str, Person]
) -> None:
    rid, _bob = _approved_request(world, people)
    carol = _browser(world, people["carol"])
    res = carol.post("/withdraw", {"kind": "access", "approval": rid, "otp": people["carol"].otp()})
    assert res.status_code == 400, res.text
    assert "'carol' has no approval" in html.unescape(res.text)
    dana = _browser(world, people["dana"])
    res = dana.post("/withdraw", {"kind": "access", "approval": rid, "otp": people["dana"].otp()})
    assert res.status_code == 403 and "may not call web.withdraw" in res.text
    assert not _events(world, "access.review.withdrawn")


def test_an_approver_withdraws_a_promotion_approval_from_the_inbox(
    world: World, people: dict[str, Person], tmp_path: Path
) -> None:
    pid, _sha = submitted_promotion(world, tmp_path)
    bob = _browser(world, people["bob"])
    res = bob.post(
        "/decide", {"item": f"promotion:{pid}", "decision": "approve", "otp": people["bob"].otp()}
    )
    assert res.status_code == 200, res.text
    form = f'<input type="hidden" name="approval" value="{pid}">'
    assert form in bob.get("/").text
    res = bob.post("/withdraw", {"kind": "promotion", "approval": pid, "otp": people["bob"].otp()})
    assert res.status_code == 200, res.text
    assert f"your approval of promotion {pid} is withdrawn" in html.unescape(res.text)
    [done] = _events(world, "gate.approval.withdrawn")
    assert done.actor == "bob" and done.details["mfa"]["method"] == "totp"
    assert form not in bob.get("/").text


def test_the_inbox_count_of_approvals_leaves_out_withdrawn_ones(
    world: World, people: dict[str, Person]
) -> None:
    # The inbox showed "1 of 2" for a request whose one approval was withdrawn: a
    # withdrawn approval counts for nothing, at review time and on the page.
    from stagewall.web._routes_inbox import _facts

    row = {
        "id": "r1",
        "requester": "alice",
        "role": "prod-read",
        "reviews": [
            {"reviewer": "bob", "decision": "approve", "withdrawn": True},
            {"reviewer": "carol", "decision": "approve", "withdrawn": False},
            {"reviewer": "dana", "decision": "deny", "withdrawn": False},
        ],
    }
    assert _facts(world.state, row)["approvals_so_far"] == 1
    rid, bob = _approved_request(world, people)
    bob.post(
        "/withdraw",
        {"kind": "access", "approval": rid, "reason": "oops", "otp": people["bob"].otp()},
    )
    from stagewall.access.requests import list_requests

    [listed] = [r for r in list_requests(world.state.ctx) if r["id"] == rid]
    assert listed["reviews"] == [{"reviewer": "bob", "decision": "approve", "withdrawn": True}]
