"""A stop request interrupts verification too, not only the copy.

Before, ``RunOptions.stop`` stopped a run's copy, but a verify already started (the
verify step of a server job) read the source and the target to its end and the run was
recorded "verified". Now verify asks the stop check before every batch its reads hand
over (its forked workers through a shared flag), ends with SW870, and the run's record
says ``stopped``: never ``passed``.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from stagewall.errors import MaskingRunStopped
from stagewall.masking import _parallel
from stagewall.masking.db import MarkerStatus, open_database, read_completion_marker
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.pipeline import run_and_record
from stagewall.masking.record import list_runs
from stagewall.masking.verify import verify
from stagewall.store import open_store
from tests.masking.integration.helpers import BACKENDS, KEY, source_and_target
from tests.masking.integration.schemas import plan_for
from tests.masking.test_engine_stop import _schema, _tables


@pytest.mark.parametrize("backend", BACKENDS)
def test_verify_told_to_stop_ends_at_that_batch(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    src, tgt = source_and_target(request, tmp_path, backend)
    plan = plan_for(_schema(src))
    run(plan, src, tgt, KEY, RunOptions(batch_rows=50))
    full: list[tuple[str, int]] = []
    verify(plan, src, tgt, KEY, batch_rows=5, progress=lambda t, n: full.append((t, n)))
    assert len(full) > 8  # (enough batches to stop in the middle)
    seen: list[tuple[str, int]] = []
    at_stop: list[int] = []

    def stop() -> str | None:
        if len(seen) >= 4:
            at_stop.append(len(seen))
            return "told to stop by the test"
        return None

    with pytest.raises(MaskingRunStopped) as err:
        verify(
            plan, src, tgt, KEY, batch_rows=5,
            progress=lambda t, n: seen.append((t, n)), stop=stop,
        )  # fmt: skip
    assert err.value.code == "SW870" and "told to stop by the test" in err.value.message
    assert len(at_stop) == 1  # latched: asked no more once it said stop
    assert len(seen) <= at_stop[0] + 1 < len(full)  # no batch read after the stop


def test_the_stop_reaches_verifys_forked_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The coordinator asks the stop check while it waits for its workers and sets
    their flag: a worker reading a large table stops at its next batch."""
    if not _parallel.can_fork(2):
        # Verify forks only while its process runs one thread; a test process that
        # earlier tests left with threads runs this test in a fresh interpreter.
        if os.environ.get(_FRESH):
            pytest.fail("a fresh interpreter runs other threads: verify would not fork")
        name = f"{__file__}::test_the_stop_reaches_verifys_forked_workers"
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-n", "0", name],
            env={**os.environ, _FRESH: "1"},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        return
    db = tmp_path / "big.sqlite"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")
    conn.executemany("INSERT INTO t VALUES (?)", ((i,) for i in range(200_000)))
    conn.commit()
    conn.close()
    ctx = mp.get_context("fork")
    started, released, batches = ctx.Event(), ctx.Event(), ctx.Value("q", 0)
    monkeypatch.setattr(_parallel, "STOP_POLL", 0.01, raising=False)
    from stagewall.masking.db import _base

    check = getattr(_base, "BATCH_CHECK", None)  # (base: none, so no stop reached them)

    def stop() -> None:
        if started.is_set():
            released.set()
            raise MaskingRunStopped("told to stop by the test")

    token = check.set(stop) if check is not None else None
    try:
        with (
            pytest.raises(MaskingRunStopped),
            _parallel.pool(
                2, {"db": str(db), "events": (started, released), "batches": batches}
            ) as workers,
        ):
            workers.results(workers.submit(_read_table, [0]))
    finally:
        if check is not None and token is not None:
            check.reset(token)
    assert 1 <= batches.value < 200_000  # base: the worker read every row


_FRESH = "STAGEWALL_TEST_FRESH_INTERPRETER"


def _read_table(_: int) -> int:
    """A forked worker's item: read table t one row per batch, counting the batches."""
    started, released = _parallel.SHARED["events"]
    batches = _parallel.SHARED["batches"]
    with open_database(f"sqlite:///{_parallel.SHARED['db']}", role="source") as db:
        [table] = db.introspect().tables
        for _ in db.iter_rows(table, ["id"], None, 1):
            with batches.get_lock():
                batches.value += 1
            if not started.is_set():
                started.set()
                released.wait(30)
    return int(batches.value)


class _Bars:
    """The pipeline's phase display: verify's first batch says "stop now"."""

    def __init__(self) -> None:
        self.verifying = 0

    @contextmanager
    def __call__(self, what: str) -> Iterator[Any]:
        yield self if what == "verifying" else None

    def engine(self, p: Any) -> None:
        return None

    def rows(self, table: str, n: int) -> None:
        self.verifying += 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_run_stopped_while_it_verifies_is_recorded_stopped_and_withdrawn(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    src, tgt = source_and_target(request, tmp_path, backend)
    plan = plan_for(_schema(src))
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    bars = _Bars()

    def stop() -> str | None:  # the copy runs to its end; verify is stopped at once
        return "the run was marked dead" if bars.verifying else None

    with pytest.raises(MaskingRunStopped) as err:
        run_and_record(
            plan, src, tgt, KEY, store,
            options=RunOptions(batch_rows=50, stop=stop), phase=bars,
        )  # fmt: skip
    exc = err.value
    assert exc.verifying and exc.withdrawn is True
    assert "stopped during verification" in exc.message and "not verified" in exc.message
    assert bars.verifying == 1  # base: verify read every table to its end
    [record] = list_runs(store)
    assert record["status"] == "failed" and record["verification"] == "stopped"
    assert "[SW870]" in record["error"] and record["run_id"] == exc.run_id
    codes = [e.code for e in _events(store)]
    assert "masking.run.failed" in codes
    assert "masking.verify.passed" not in codes and "masking.run.completed" not in codes
    # the unverified copy is not left looking complete
    assert _tables(tgt) == []
    marker = read_completion_marker(tgt)
    assert marker is not None and marker.status is MarkerStatus.FAILED


def _events(store: Any) -> list[Any]:
    from stagewall.audit import AuditLog

    return list(AuditLog(store).events())
