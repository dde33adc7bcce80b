"""A masking plan approved and withdrawn in a real headless Chromium.

An approver finds the pending plan in the inbox, opens its page (the plan column by
column), approves it with a one-time code, then withdraws the approval from the same
page; the job's next run is refused (SW864). Both pages are screenshot and scanned
with axe-core, as the other browser tests do.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.live_server import serve
from tests.server.conftest import Person, World
from tests.server.test_masking_jobs import finish
from tests.server.test_redteam_plan_approval import _jobs_world, _submit
from tests.web.test_browser import Pages, artifacts, driver  # noqa: F401 (fixtures)


def test_a_plan_is_approved_and_withdrawn_in_chromium(
    world: World,
    people: dict[str, Person],
    driver: Any,  # noqa: F811
    artifacts: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _jobs_world(world, monkeypatch)
    rid = _submit(people["alice"], authors=["carol"]).json()["request"]
    bob = people["bob"]
    with serve(world.state, run_sweeper=False) as base:
        ui = Pages(driver, base, artifacts)
        ui.sign_in(bob)
        assert "Masking plans you may approve" in ui.text()
        ui.shoot("inbox-plan")
        ui.by(f'a[href="/masking/plans/{rid}"]').click()
        ui.wait(lambda: "What the plan does" in ui.text())
        assert "full_name" in ui.text()
        ui.shoot("plan")
        world.clock.advance(timedelta(seconds=31))  # not the sign-in's code again
        ui.fill(f"#otp-{rid}", bob.otp())
        ui.by('form[action="/decide"] button[type=submit][value=approve]').click()
        ui.wait(lambda: "approved" in ui.text() and "Result" in ui.text())
        world.clock.advance(timedelta(seconds=31))  # a fresh TOTP step
        ui.open(f"/masking/plans/{rid}")
        ui.fill(f"#otp-w-{rid}", bob.otp())
        ui.by('form[action="/withdraw"] button[type=submit]').click()
        ui.wait(lambda: "is withdrawn; its next run is refused" in ui.text())
        ui.shoot("plan-withdrawn")
    [done] = [e for e in world.events() if e.code == "masking.plan.withdrawn"]
    assert done.actor == "bob" and done.details["mfa"]["method"] == "totp"
    res = people["alice"].post("/api/v1/masking/jobs/refresh-staging/runs")
    finish(world)
    assert res.status_code == 409 and res.json()["code"] == "SW864", res.text
    assert not ui.serious(), ui.serious()
