"""The evidence page never evaluates on the request path: it shows the newest evaluation
(in memory, else the statuses recorded in the log) and refreshes in the background."""

from __future__ import annotations

import re
from datetime import timedelta

from stagewall.audit import AuditLog
from stagewall.evidence import evaluate
from stagewall.evidence.record import record_evaluation
from tests.server.conftest import Person, World
from tests.web.conftest import Browser


def test_evidence_page_serves_the_newest_evaluation_and_refreshes_in_the_background(
    world: World, people: dict[str, Person]
) -> None:
    state = world.state
    # an evaluation recorded in the log (as the scheduler records it), none in memory
    recorded = evaluate(state.evidence_inputs())
    record_evaluation(AuditLog(state.ctx.store, home=state.home), recorded, actor="test")
    assert state.newest_evaluation() is None
    bob = Browser(world, people["bob"])
    bob.sign_in()
    page = bob.get("/evidence").text
    assert "Evaluating…" in page and "recorded in the audit log" in page
    some = sorted(recorded.results)[0]
    assert f"<code>{some}</code>" in page
    # the page queued one evaluation on the evidence worker; wait for it
    state.evaluate_in_background().result(timeout=300)
    got = state.newest_evaluation()
    assert got is not None
    page = bob.get("/evidence").text
    assert "Evaluating…" not in page and "What was measured" in page
    assert "answered from the checks above" in page
    # later, the page shows that evaluation with its time and queues a fresh one
    world.clock.advance(timedelta(minutes=11))
    bob = Browser(world, people["bob"])
    bob.sign_in()
    page = bob.get("/evidence").text
    assert "Evaluating…" in page and "below is the previous one" in page
    assert re.search(r"evaluated <time>\d{4}-\d\d-\d\d \d\d:\d\d UTC</time>", page)
    state.evaluate_in_background().result(timeout=300)
    newer = state.newest_evaluation()
    assert newer is not None and newer[0] > got[0]
