"""A server job marked dead while it verifies stops verifying at the next batch.

Before, the worker's stop check reached the copy only: a run marked dead during its
verify read production and the target to the end, recorded ``masking.verify.passed``
and a "completed" masking record, and only its final state write found out.
"""

from __future__ import annotations

from typing import Any

import pytest

from stagewall.masking import pipeline
from stagewall.masking.db import MarkerStatus, read_completion_marker
from stagewall.masking.record import list_runs as masking_runs
from stagewall.server import jobs
from tests.server.conftest import Person, World
from tests.server.test_masking_jobs import finish
from tests.server.test_masking_jobs import jw as jobs_world

jw = jobs_world  # the server world with masking jobs declared (a fixture)


def test_a_run_marked_dead_while_it_verifies_stops_and_is_never_recorded_verified(
    jw: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = pipeline.verify
    batches: list[str] = []

    def verify(*args: Any, **kwargs: Any) -> Any:
        # the next start (or the leader) marks the run dead just as its verify begins
        [run] = jobs.list_runs(jw.state, "refresh-staging")
        assert jobs._update(jw.state, run["id"], state="failed", error="marked dead")
        jw.state.job_gone.add(run["id"])  # what this server's next beat then notes
        kwargs["progress"] = lambda table, n: batches.append(table)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "verify", verify)
    res = people["alice"].post("/api/v1/masking/jobs/refresh-staging/runs")
    assert res.status_code == 202, res.text
    finish(jw)
    assert batches == []  # base: every table of the source and the target was read
    [record] = masking_runs(jw.state.ctx.store)
    assert record["status"] == "failed" and record["verification"] == "stopped", record
    assert "[SW870]" in record["error"] and "during verification" in record["error"]
    codes = [e.code for e in jw.events()]
    assert "masking.verify.passed" not in codes and "masking.run.completed" not in codes
    [event] = [e for e in jw.events() if e.code == "masking.job.superseded"]
    assert event.details["stopped_mid_verify"] is True
    assert "during verification" in event.message and "unverified copy was withdrawn" in (
        event.message
    )
    marker = read_completion_marker(f"sqlite:///{jw.config.parent / 'staging.db'}")
    assert marker is not None and marker.status is MarkerStatus.FAILED
