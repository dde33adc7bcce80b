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


class SlowSource:
    """SQLite reads in batches of two rows; at the copy's batch ``kill_at`` the run's
    server is called dead (``on_kill``), and every batch read from then on is counted.
    The column reads before the copy (the rare-name pre-pass reads the name columns
    with ``iter_columns``, before the target is touched; a stop there is tested in
    tests/masking/test_engine_stop.py) are not the copy's batches: since full names
    give rare name words, the pre-pass read this estate's ``full_name`` column and
    the kill came before the copy started."""

    def __init__(self, kill_at: int, on_kill: Callable[[], None]) -> None:
        self.kill_at, self.on_kill = kill_at, on_kill
        self.batches = 0
        self.after_kill = 0
        self._columns = 0  # inside iter_columns: not a batch of the copy

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from functools import partial

        from stagewall.masking import engine
        from stagewall.masking.db._sqlite import SQLiteDatabase

        original = SQLiteDatabase.iter_rows
        original_columns = SQLiteDatabase.iter_columns
        slow = self

        def iter_columns(db: Any, *args: Any) -> Any:
            slow._columns += 1
            try:
                yield from original_columns(db, *args)
            finally:
                slow._columns -= 1

        def iter_rows(db: Any, *args: Any) -> Any:
            for batch in original(db, *args):
                if slow._columns:
                    yield batch
                    continue
                slow.batches += 1
                if slow.batches == slow.kill_at:
                    slow.on_kill()
                elif slow.batches > slow.kill_at:
                    slow.after_kill += 1
                yield batch

        monkeypatch.setattr(SQLiteDatabase, "iter_rows", iter_rows)
        monkeypatch.setattr(SQLiteDatabase, "iter_columns", iter_columns)
        monkeypatch.setattr(engine, "RunOptions", partial(engine.RunOptions, batch_rows=2))


def _target_left(tmp: Path) -> tuple[list[str], Any]:
    from stagewall.masking.db import open_database, parse_url, read_completion_marker

    url = parse_url(f"sqlite:///{tmp / 'staging.db'}", "target")
    with open_database(url, role="target", read_only=True) as db:
        tables = db.user_tables()
    return tables, read_completion_marker(url)


@pytest.mark.parametrize("told_by", ["beat", "own_read"])
def test_a_run_marked_dead_mid_copy_stops_within_a_batch_and_withdraws_its_copy(
    servers: tuple[ServerState, ServerState, Clock, Path],
    monkeypatch: pytest.MonkeyPatch,
    told_by: str,
) -> None:
    """Server a hangs mid-copy for over a minute; b marks its run dead and queues the next.
    Before, a's worker went on reading production and writing the target to the end of
    the copy (and verified it, reading production again) before it found out."""
    a, b, clock, tmp = servers
    first = _start(a)
    seen: dict[str, Any] = {}
    if told_by == "own_read":
        a.job_check_every = 0.0  # read the row at every batch (no beat of a tells it)

    def kill() -> None:
        clock.advance(timedelta(seconds=61))  # no beat of a for 61 s
        seen["next"] = _start(b)  # b marks the run dead and queues the next one
        if told_by == "beat":
            assert jobs.beat(a) == 0  # a's heartbeat thread wakes: its run is gone

    slow = SlowSource(kill_at=5, on_kill=kill)
    slow.install(monkeypatch)
    a.workers.run(0)  # type: ignore[attr-defined]
    assert slow.batches >= 5, "the copy never reached the kill"
    assert slow.after_kill <= 1, f"{slow.after_kill} batches read after the run was dead"
    run = jobs.get_run(a, first["id"])
    assert run["state"] == "failed" and "no heartbeat since" in (run["error"] or "")
    assert run["masking_run"] is None and run["verification"] is None
    assert jobs.get_run(b, seen["next"]["id"])["state"] == "queued"  # b's run untouched
    [event] = _superseded_events(a)
    assert event.details["run"] == first["id"] and event.details["stopped_mid_copy"] is True
    assert "stopped mid-copy" in event.message
    assert "partial copy was withdrawn" in event.message
    alerts = [x for x in _alert_records(tmp) if x["kind"] == "masking.job.superseded"]
    assert len(alerts) == 1 and "mid-copy" in alerts[0]["text"]
    tables, marker = _target_left(tmp)
    assert tables == []  # no partial table of a's left in staging
    assert marker is not None and marker.status.value == "failed"
    assert marker.run_id == event.details["masking_run"]
    # nothing was recorded complete: the masking record says failed, with SW870
    from stagewall.masking.record import list_runs as masking_runs

    [record] = masking_runs(a.ctx.store)
    assert record["status"] == "failed" and "SW870" in str(record["error"])


def _alert_records(tmp: Path) -> list[dict[str, Any]]:
    import json

    path = tmp / "alerts.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_the_live_check_reads_the_store_at_most_every_few_seconds_and_fails_closed(
    servers: tuple[ServerState, ServerState, Clock, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _b, _clock, _tmp = servers
    run_id = _start(a)["id"]
    assert jobs._update(a, run_id, live=("queued",), state="running")
    now = [100.0]
    check = jobs.LiveCheck(a, run_id, monotonic=lambda: now[0])
    for _ in range(1000):  # a thousand batches within five seconds: no read
        now[0] += 0.004
        assert check() is None
    assert check.reads == 0
    now[0] += 1.0
    assert check() is None and check.reads == 1  # live

    def down(*_a: Any, **_kw: Any) -> Any:
        raise OSError("store unreachable")

    monkeypatch.setattr(a.ctx.store, "read", down)
    now[0] += 40.0  # 40 s without a confirmation: others call it dead at 60 s
    assert check() is None and check.reads == 2
    now[0] += 6.0  # 46 s
    reason = check()
    assert reason is not None and "could not be confirmed live for 46 s" in reason
    monkeypatch.undo()
    a.job_gone.add(run_id)  # a beat of this process found the row gone: no read needed
    assert check() is not None and check.reads == 3


def test_a_start_stamp_read_before_a_stall_does_not_make_a_live_run_look_silent(
    servers: tuple[ServerState, ServerState, Clock, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker reads the clock, stalls; meanwhile ten minutes pass and a beat lands;
    then its start stamp is written. Before, the stamp set the heartbeat ten minutes
    back and the leader failed a live run (the CI failure 01be0b3 worked around in the
    two-server schedule test)."""
    from types import SimpleNamespace

    from stagewall.masking import pipeline

    a, b, clock, _tmp = servers
    first = _start(a)
    original = jobs._update
    stalled: list[bool] = []

    def stalled_update(server: ServerState, run_id: str, **kw: Any) -> bool:
        if kw.get("state") == "running" and not stalled:  # the start stamp, clock read
            stalled.append(True)
            clock.advance(timedelta(minutes=10))  # the stall: time passes...
            assert jobs.beat(a) == 1  # ...and the heartbeat thread beats meanwhile
        return original(server, run_id, **kw)

    reaped: list[list[str]] = []

    def copy(*_args: Any, **_kw: Any) -> Any:
        reaped.append(jobs.reap_dead(b))  # the leader looks while the copy runs
        record = SimpleNamespace(
            run_id="mr_1", verification=SimpleNamespace(value="passed"), rows={"t": 3}
        )
        return SimpleNamespace(record=record, audit_index=1, report=None)

    monkeypatch.setattr(jobs, "_update", stalled_update)
    monkeypatch.setattr(pipeline, "run_and_record", copy)
    a.workers.run(0)  # type: ignore[attr-defined]
    assert stalled == [True] and reaped == [[]]
    assert jobs.get_run(a, first["id"])["state"] == "completed"
    assert _superseded_events(a) == []
