"""A withdrawal's check of the target's marker and its drop are one step with respect
to a run writing its marker (the target's marker lock, SW872 when it is not free).

A superseded run's worker withdraws its copy only while the target's marker is still
its own. A next run that writes its marker between that check and the drop must not
lose the tables it then creates; and a stopped run must not write its ``failed``
marker over a next run's marker (its withdrawal would then take the target for its own).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from stagewall.errors import MaskingRunStopped, TargetMarkerLocked
from stagewall.masking.db import Marker, MarkerStatus, _base, open_database, read_completion_marker
from stagewall.masking.engine import RunOptions, run, withdraw
from tests.masking.integration.helpers import BACKENDS, KEY, SERVER_BACKENDS, source_and_target
from tests.masking.integration.schemas import plan_for
from tests.masking.test_engine_stop import _schema, _tables


def _stale(url: str, run_id: str = "mr_stale") -> None:
    """The target as a superseded run left it: its marker, one table of its copy."""
    with open_database(url, role="target", read_only=False) as tgt:
        tgt.write_marker(
            Marker(run_id, MarkerStatus.RUNNING, "sha", "key", "2026-01-01", None, "{}")
        )
        tgt._execute("CREATE TABLE stale_copy (id integer)")
        tgt.commit()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_run_writing_its_marker_between_the_check_and_the_drop_keeps_its_tables(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    src, tgt = source_and_target(request, tmp_path, backend)
    plan = plan_for(_schema(src))
    _stale(tgt)
    main = threading.current_thread()
    wrote = threading.Event()  # the next run's own marker is in the target
    outcome: dict[str, Any] = {}
    read_marker = _base.Database.read_marker
    write_marker = _base.Database.write_marker

    def next_run() -> None:
        try:
            outcome["result"] = run(plan, src, tgt, KEY, RunOptions(batch_rows=50, replace=True))
        except BaseException as exc:  # reported by the asserts below
            outcome["error"] = exc

    worker = threading.Thread(target=next_run)

    def marking(self: _base.Database, marker: Marker) -> None:
        write_marker(self, marker)
        if threading.current_thread() is worker and marker.status is MarkerStatus.RUNNING:
            wrote.set()

    def reading(self: _base.Database) -> Marker | None:
        got = read_marker(self)
        if threading.current_thread() is main and not worker.is_alive() and not outcome:
            # the withdrawal has checked the marker: the next run starts right now
            worker.start()
            if wrote.wait(3):  # it could write its marker before the drop: let it copy
                worker.join(120)
        return got

    monkeypatch.setattr(_base.Database, "read_marker", reading)
    monkeypatch.setattr(_base.Database, "write_marker", marking)
    withdrawn = withdraw(tgt, only_run="mr_stale")
    worker.join(120)
    assert not worker.is_alive()
    assert "error" not in outcome, outcome.get("error")
    assert withdrawn is True  # the stale copy went, before the next run wrote anything
    marker = read_completion_marker(tgt)
    assert marker is not None and marker.run_id == outcome["result"].run_id
    assert marker.status is MarkerStatus.COMPLETE
    tables = _tables(tgt)
    assert tables and not any("stale_copy" in t for t in tables)
    assert len(tables) >= len(plan.tables)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_withdrawal_that_cannot_take_the_lock_drops_nothing(
    backend: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, tgt = source_and_target(request, tmp_path, backend)
    _stale(tgt)
    monkeypatch.setattr(_base, "MARKER_LOCK_SECONDS", 1.0)
    with (
        open_database(tgt, role="target", read_only=False) as holder,
        holder.marker_lock(),
        pytest.raises(TargetMarkerLocked) as err,
    ):
        withdraw(tgt, only_run="mr_stale")
    assert err.value.code == "SW872" and "marker lock" in err.value.message
    assert any("stale_copy" in t for t in _tables(tgt))
    marker = read_completion_marker(tgt)
    assert marker is not None and marker.run_id == "mr_stale"
    assert marker.status is MarkerStatus.RUNNING


# not SQLite: a run's copy holds the file's write lock, no next run writes meanwhile
@pytest.mark.parametrize("backend", SERVER_BACKENDS)
def test_a_stopped_run_leaves_a_next_runs_marker_and_tables(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """The next run wrote its marker and a table while the stopped run still copied:
    the stopped run neither marks the target ``failed`` nor withdraws it."""
    src, tgt = source_and_target(request, tmp_path, backend)
    plan = plan_for(_schema(src))
    calls = 0

    def stop() -> str | None:
        nonlocal calls
        calls += 1
        if calls < 4:
            return None
        if calls == 4:
            _stale(tgt, "mr_next")  # the next run, on a connection of its own
        return "told to stop by the test"

    with pytest.raises(MaskingRunStopped) as err:
        run(plan, src, tgt, KEY, RunOptions(batch_rows=10, stop=stop))
    assert err.value.withdrawn is False
    assert "another run has written the target since" in err.value.message
    marker = read_completion_marker(tgt)
    assert marker is not None and marker.run_id == "mr_next"
    assert marker.status is MarkerStatus.RUNNING
    assert any("stale_copy" in t for t in _tables(tgt))
