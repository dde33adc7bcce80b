"""A server job's copy that did not verify clean is withdrawn only while the target's
marker still names that copy's run and plan (fail closed, SW523 otherwise).

Before, ``_withdraw_leak`` dropped the target's tables and wrote ``failed`` over
whatever marker it found: a next run that had taken the target meanwhile (this run
was marked dead while it verified) lost its tables and had its marker overwritten,
and the failure still said "its tables were dropped". A target whose marker is gone
was emptied on the same say-so. Now neither is touched, and the failure and the
critical alert say the copy was NOT withdrawn and what the marker holds.

The window is hit with a hook: the pipeline's ``verify`` is wrapped so that the other
party acts once verify has returned, before the worker withdraws.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from stagewall.masking import pipeline
from stagewall.masking.db import Marker, MarkerStatus, open_database, read_completion_marker
from tests.server.conftest import Person, World
from tests.server.test_masking_jobs import finish
from tests.server.test_redteam_jobs import leaky_plan

NEXT = Marker("mr_next", MarkerStatus.RUNNING, "sha-next", "key", "2026-12-06T10:00:00", None, "{}")


def _after_verify(monkeypatch: pytest.MonkeyPatch, act: Callable[[str], None]) -> None:
    real = pipeline.verify

    def verify(plan: Any, source: str, target: str, *args: Any, **kwargs: Any) -> Any:
        report = real(plan, source, target, *args, **kwargs)
        act(target)
        return report

    monkeypatch.setattr(pipeline, "verify", verify)


def _next_run_takes(target: str) -> None:
    with open_database(target, role="target", read_only=False) as db, db.marker_lock():
        db.write_marker(NEXT)


def _marker_gone(target: str) -> None:
    with open_database(target, role="target", read_only=False) as db:
        db._execute("DROP TABLE stagewall_masking_run")
        db.commit()


def _run_leaky(world: World, alice: Person) -> dict[str, Any]:
    run = alice.post("/api/v1/masking/jobs/refresh-staging/runs").json()
    finish(world)
    done: dict[str, Any] = alice.get(f"/api/v1/masking/runs/{run['id']}").json()
    assert done["state"] == "failed" and done["verification"] == "failed", done
    return done


def _tables(world: World) -> set[str]:
    tgt = sqlite3.connect(world.config.parent / "staging.db")
    try:
        return {r[0] for r in tgt.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        tgt.close()


def _leak_alert(world: World) -> dict[str, Any]:
    [alert] = [a for a in world.alerts() if a["kind"] == "masking.job.leak"]
    assert alert["severity"] == "critical"
    return alert


def test_a_leaked_copy_is_not_withdrawn_over_a_next_runs_marker(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    leaky_plan(world)
    _after_verify(monkeypatch, _next_run_takes)
    done = _run_leaky(world, people["alice"])
    # the next run's marker stands (base: overwritten with "failed", its tables dropped)
    assert read_completion_marker(f"sqlite:///{world.config.parent / 'staging.db'}") == NEXT
    assert "customers" in _tables(world)  # left to the run that holds the target now
    assert "[SW523]" in done["error"] and "NOT withdrawn" in done["error"], done["error"]
    assert "marked by run mr_next" in done["error"]
    assert "tables were dropped" not in done["error"]
    alert = _leak_alert(world)
    assert alert["details"]["withdrawn"] is False
    assert "holding production data" in alert["text"]


def test_a_leaked_copy_whose_marker_is_gone_is_not_dropped_on_a_guess(
    world: World, people: dict[str, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    leaky_plan(world)
    _after_verify(monkeypatch, _marker_gone)
    done = _run_leaky(world, people["alice"])
    assert "[SW523]" in done["error"] and "has no masking marker" in done["error"]
    assert "tables were dropped" not in done["error"]  # base: said so
    assert _leak_alert(world)["details"]["withdrawn"] is False


def test_a_leaked_copy_still_its_runs_own_is_withdrawn(
    world: World, people: dict[str, Person]
) -> None:
    leaky_plan(world)
    done = _run_leaky(world, people["alice"])
    assert "tables were dropped" in done["error"]
    assert "customers" not in _tables(world)
    assert _leak_alert(world)["details"]["withdrawn"] is True
