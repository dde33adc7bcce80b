"""A run marks its copy ``complete`` only while the target's marker is still its own
``running`` one (compare-and-set under the marker lock, SW522 otherwise).

Before, the ``complete`` write was unconditional: a run whose target was taken between
its last stop check and that write (another run wrote its marker; a withdrawal dropped
its tables and marked it failed) overwrote that with "complete" — a target marked
complete that the next run was still writing, or that held no tables at all.

The race is made deterministic with a hook: the phase right before the ``complete``
write (views and triggers, ``engine._derived_objects``) is wrapped so that the other
party acts exactly there. PostgreSQL and MySQL/MariaDB: their tables, data and indexes
are committed as they are written, so the window is real. A SQLite target is one file
whose write lock the run holds from its first table to its ``complete`` write (its
writes are one transaction until then): another writer waits (the hook's write fails
"database is locked"), there is no window to show.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.errors import StagewallError
from stagewall.masking import engine
from stagewall.masking.db import Marker, MarkerStatus, open_database, read_completion_marker
from stagewall.masking.engine import RunOptions, run, withdraw
from stagewall.masking.pipeline import run_and_record
from stagewall.masking.record import list_runs
from stagewall.store import open_store
from tests.masking.integration.helpers import KEY, SERVER_BACKENDS, source_and_target
from tests.masking.integration.schemas import plan_for
from tests.masking.test_engine_stop import _schema, _tables

NEXT = Marker("mr_next", MarkerStatus.RUNNING, "sha-next", "key", "2026-12-06T10:00:00", None, "{}")


def _before_complete(monkeypatch: pytest.MonkeyPatch, act: Callable[[], None]) -> None:
    """``act`` runs once the run's last phase is done, right before it marks complete."""
    real = engine._derived_objects

    def derived(*args: Any, **kwargs: Any) -> Any:
        out = real(*args, **kwargs)
        act()
        return out

    monkeypatch.setattr(engine, "_derived_objects", derived)


def _next_run_takes(tgt: str) -> Callable[[], None]:
    def act() -> None:  # what a next run's start does: its marker, under the lock
        with open_database(tgt, role="target", read_only=False) as db, db.marker_lock():
            db.write_marker(NEXT)

    return act


def _withdrawal(tgt: str) -> Callable[[], None]:
    def act() -> None:  # a withdrawal of the target's copy (drop, marker failed)
        withdraw(tgt)

    return act


@pytest.mark.parametrize("backend", SERVER_BACKENDS)
@pytest.mark.parametrize(
    ("taker", "found"),
    [(_next_run_takes, "run mr_next's marker (running)"), (_withdrawal, "withdrawn meanwhile")],
    ids=["next-run", "withdrawal"],
)
def test_a_target_taken_before_complete_is_not_marked_complete(
    backend: str,
    taker: Callable[[str], Callable[[], None]],
    found: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    src, tgt = source_and_target(request, tmp_path, backend)
    plan = plan_for(_schema(src))
    _before_complete(monkeypatch, taker(tgt))
    with pytest.raises(StagewallError) as err:  # base: the run "completed"
        run(plan, src, tgt, KEY, RunOptions(batch_rows=50))
    assert err.value.code == "SW522", err.value.message
    assert found in err.value.message
    marker = read_completion_marker(tgt)
    if taker is _next_run_takes:
        assert marker == NEXT  # the next run's marker stands, not "complete" over it
    else:
        # base: "complete", on a target whose tables the withdrawal had dropped
        assert marker is not None and marker.status is MarkerStatus.FAILED
        assert _tables(tgt) == []


@pytest.mark.parametrize("backend", SERVER_BACKENDS[:1])
def test_a_run_that_lost_its_target_is_recorded_failed(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, tgt = source_and_target(request, tmp_path, backend)
    plan = plan_for(_schema(src))
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    _before_complete(monkeypatch, _next_run_takes(tgt))
    with pytest.raises(StagewallError) as err:
        run_and_record(plan, src, tgt, KEY, store, options=RunOptions(batch_rows=50))
    assert err.value.code == "SW522"
    # its rows moved, so it is a masking run and is recorded, as failed
    [record] = list_runs(store)
    assert record["status"] == "failed" and "[SW522]" in record["error"]
    assert record["run_id"] != NEXT.run_id
    assert read_completion_marker(tgt) == NEXT
