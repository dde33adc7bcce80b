"""A masking job run is alive while its heartbeat is, on SQLite and PostgreSQL stores.

Before, an active run blocked the next run of its target for 12 hours after it was
queued, and not a second longer: a healthy 13-hour copy was overlapped by the next
nightly run (two runs replacing one target's tables), while a run whose server died
blocked staging's refresh for half a day. Clocks are the tests' own; the worker is a
fake that holds runs queued, so nothing sleeps or races.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from stagewall.errors import StagewallError
from stagewall.keys import init_keys
from stagewall.server import ServerState, jobs
from tests.server.conftest import Clock
from tests.server.plan_approval import approve_plan
from tests.server.test_masking_jobs import estate_text, prepare_dir


class HeldWorkers:
    """Workers that queue and never run: a run stays active as long as the test wants."""

    def __init__(self) -> None:
        self.queued: list[tuple[str, Callable[..., Any]]] = []
        self.args: list[tuple[Any, ...]] = []

    def submit(self, kind: str, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        self.queued.append((kind, fn))
        self.args.append(args)
        return Future()

    def run(self, i: int) -> None:
        """Run queued call ``i`` now, in this thread (a worker that was held up)."""
        self.queued[i][1](*self.args[i])

    def shutdown(self, *, wait: bool = True) -> None:
        pass


def _open(tmp: Path, store_url: str, name: str, clock: Clock) -> ServerState:
    home = tmp / f"home-{name}"
    init_keys(home)
    state = ServerState.open(tmp / "stagewall.yaml", store_url, home)
    state.clock = clock
    state.ctx.clock = clock
    state.workers = HeldWorkers()  # type: ignore[assignment]
    state.job_heartbeat_every = None  # the test beats by hand
    return state


@pytest.fixture
def servers(
    tmp_path: Path, any_store_url: str, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[ServerState, ServerState, Clock, Path]]:
    monkeypatch.setenv("SW_TEST_ADMIN_URL", pg_url)
    monkeypatch.setenv("SW_TEST_JOB_TARGET", "postgresql://x:y@127.0.0.1:1/staging")
    prepare_dir(tmp_path)
    (tmp_path / "stagewall.yaml").write_text(estate_text(pg_url.rsplit("/", 1)[1]))
    clock = Clock()
    a = _open(tmp_path, any_store_url, "a", clock)
    b = _open(tmp_path, any_store_url, "b", clock)
    approve_plan(a, "refresh-staging", clock)
    approve_plan(a, "bob-only", clock)
    try:
        yield a, b, clock, tmp_path
    finally:
        for s in (a, b):
            s.ctx.store.dispose()


def _start(state: ServerState, job: str = "refresh-staging") -> dict[str, Any]:
    return jobs.start(state, job, triggered_by="alice", trigger="api")


def _alerts(tmp: Path) -> list[str]:
    import json

    path = tmp / "alerts.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [json.loads(x)["kind"] for x in lines]


def test_a_long_healthy_run_keeps_blocking_its_target(
    servers: tuple[ServerState, ServerState, Clock, Path],
) -> None:
    a, b, clock, _tmp = servers
    first = _start(a)
    for _ in range(3):  # 13 hours of work, beating all along (every 50 s in real life)
        clock.advance(timedelta(hours=4, minutes=20))
        assert jobs.beat(a) == 1
    for state, job in ((b, "refresh-staging"), (a, "bob-only")):
        with pytest.raises(StagewallError) as err:
            _start(state, job)
        assert err.value.code == "SW862" and first["id"] in err.value.message
    assert jobs.reap_dead(b) == []
    assert jobs.get_run(a, first["id"])["state"] == "queued"


def test_a_run_whose_heartbeat_stopped_is_failed_alerted_and_no_longer_blocks(
    servers: tuple[ServerState, ServerState, Clock, Path],
) -> None:
    a, b, clock, tmp = servers
    first = _start(a)  # server a then dies: nobody beats for its run
    clock.advance(timedelta(seconds=59))
    with pytest.raises(StagewallError) as err:
        _start(b)
    assert err.value.code == "SW862"  # within the minute: still alive
    assert jobs.beat(b) == 0  # b beats only for its own runs
    clock.advance(timedelta(seconds=2))
    second = _start(b)
    assert second["state"] == "queued"
    dead = jobs.get_run(b, first["id"])
    assert dead["state"] == "failed" and "no heartbeat since" in (dead["error"] or "")
    assert "masking.job.dead" in _alerts(tmp)
    failed = [e for e in a.ctx.audit.events() if e.code == "masking.job.failed"]
    assert [e.details["run"] for e in failed] == [first["id"]]


def test_the_leader_marks_a_dead_run_failed(
    servers: tuple[ServerState, ServerState, Clock, Path],
) -> None:
    a, b, clock, tmp = servers
    first = _start(a)
    clock.advance(timedelta(seconds=45))
    assert jobs.beat(a) == 1
    clock.advance(timedelta(seconds=45))
    assert jobs.reap_dead(b) == []  # beat 45 s ago: alive
    clock.advance(timedelta(seconds=16))
    from stagewall.server.scheduler import leader_duties

    leader_duties(b)
    assert jobs.get_run(b, first["id"])["state"] == "failed"
    assert _alerts(tmp).count("masking.job.dead") == 1
    assert jobs.reap_dead(b) == []  # once


def _superseded_events(state: ServerState) -> list[Any]:
    return [e for e in state.ctx.audit.events() if e.code == "masking.job.superseded"]


def test_a_run_marked_dead_while_running_does_not_complete_and_its_copy_is_withdrawn(
    servers: tuple[ServerState, ServerState, Clock, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Server a hangs for over a minute mid-copy: its run is marked dead and b starts the
    next run of the target. Before, a's worker then wrote "completed" over "failed"."""
    from types import SimpleNamespace

    from stagewall.masking import engine, pipeline

    a, b, clock, tmp = servers
    first = _start(a)
    seen: dict[str, Any] = {}

    def hung_copy(*_args: Any, **_kw: Any) -> Any:
        clock.advance(timedelta(seconds=61))  # a's server hangs: no beat for 61 s
        seen["next"] = _start(b)  # b marks the run dead and starts the next one
        record = SimpleNamespace(
            run_id="mr_stale", verification=SimpleNamespace(value="passed"), rows={"t": 3}
        )
        return SimpleNamespace(record=record, audit_index=1, report=None)

    withdrawn: list[str | None] = []

    def fake_withdraw(_url: Any, *, only_run: str | None = None) -> bool:
        withdrawn.append(only_run)
        return True

    monkeypatch.setattr(pipeline, "run_and_record", hung_copy)
    monkeypatch.setattr(engine, "withdraw", fake_withdraw)
    a.workers.run(0)  # type: ignore[attr-defined]
    run = jobs.get_run(a, first["id"])
    assert run["state"] == "failed" and run["masking_run"] is None
    assert jobs.get_run(b, seen["next"]["id"])["state"] == "queued"  # b's run untouched
    assert withdrawn == ["mr_stale"]  # only while the target's marker is still a's
    [event] = _superseded_events(a)
    assert event.details["run"] == first["id"] and "withdrawn" in event.message
    assert "masking.job.superseded" in _alerts(tmp)
    assert jobs.beat(a) == 0  # a dead run's heartbeat writes nothing either


def test_a_run_marked_dead_before_its_worker_started_never_runs(
    servers: tuple[ServerState, ServerState, Clock, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, the late worker set the failed run back to "running" and copied."""
    from stagewall.masking import pipeline

    a, b, clock, _tmp = servers
    first = _start(a)
    clock.advance(timedelta(seconds=61))
    second = _start(b)

    read: list[bool] = []

    def must_not_run(*_args: Any, **_kw: Any) -> Any:
        read.append(True)
        raise AssertionError("a superseded run read its source")

    monkeypatch.setattr(pipeline, "run_and_record", must_not_run)
    a.workers.run(0)  # type: ignore[attr-defined]
    assert read == []  # it never read production
    assert jobs.get_run(a, first["id"])["state"] == "failed"
    assert jobs.get_run(b, second["id"])["state"] == "queued"
    [event] = _superseded_events(a)
    assert "before reading the source" in event.message
