"""Approvers of a masking plan are notified like those of access requests and promotions.

The notifier picks up every pending request of the store. A ``masking_plan`` request
was judged by the promotion rules: the approvers' lookup raised ``KeyError('stage')``
in the worker thread, the request's slot was already claimed, and nobody was ever told
(no notification, no ``server.approval.notified`` event, an exception in the log).
"""

from __future__ import annotations

import pytest

from stagewall.server import notify
from tests.server.conftest import Person, World
from tests.server.test_redteam_plan_approval import _jobs_world, _submit


def test_a_plan_approval_reaches_its_approvers_and_only_them(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    _jobs_world(world, monkeypatch)
    sub = _submit(people["alice"], authors=["carol"]).json()
    [req] = [r for r in notify.pending_unnotified(world.state) if r.id == sub["request"]]
    # alice submitted it, carol wrote it, audrey and dana are external, deploybot is
    # a service principal: bob and the jobs world's two other internal people remain
    assert notify.approvers(world.state, req) == ["bob", "checker", "planner"]
    alert = notify.message(world.state, req, ["bob"])
    sha = sub["plan_sha256"][:12]
    assert alert.title == f"masking plan {req.id}: plan {sha} of job refresh-staging by alice"
    assert f"stagewall mask review-plan {req.id}" in alert.text
    assert alert.details["link"].endswith(f"/masking/plans/{req.id}")  # its web page
    assert "promotion" not in alert.title and "for stage" not in alert.text
    notify.send(world.state, req)
    [done] = [e for e in world.events() if e.code == notify.NOTIFIED.code]
    assert done.details["approvers"] == ["bob", "checker", "planner"]
    assert done.status.value == "Success"
