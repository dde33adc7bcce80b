"""``RunOptions.stop``: a caller (the server's masking jobs) stops a run between batches.

The run stops at the batch where its check first names a reason, asks the check no
more, leaves nothing marked complete, withdraws what it wrote and raises SW870. A
run stopped before it touched the target leaves the target as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stagewall.errors import MaskingRunStopped
from stagewall.masking.db import MarkerStatus, open_database, read_completion_marker
from stagewall.masking.engine import Progress, RunOptions, run
from stagewall.masking.schema import Schema
from tests.masking.integration.helpers import BACKENDS, KEY, source_and_target
from tests.masking.integration.schemas import plan_for


class StopAt:
    """A stop check that names a reason from its ``at``-th call on."""

    def __init__(self, at: int) -> None:
        self.at, self.calls = at, 0

    def __call__(self) -> str | None:
        self.calls += 1
        return "told to stop by the test" if self.calls >= self.at else None


def _schema(url: str) -> Schema:
    with open_database(url) as db:
        return db.introspect()


def _tables(url: str) -> list[str]:
    with open_database(url, role="target", read_only=True) as db:
        return db.user_tables()


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_run_told_to_stop_stops_at_that_batch_and_withdraws_its_copy(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    src, tgt = source_and_target(request, tmp_path, backend)
    plan = plan_for(_schema(src))
    updates: list[Progress] = []
    stop = StopAt(6)
    with pytest.raises(MaskingRunStopped) as err:
        run(plan, src, tgt, KEY, RunOptions(batch_rows=10, stop=stop, progress=updates.append))
    exc = err.value
    assert exc.code == "SW870" and "stopped mid-copy (told to stop by the test)" in exc.message
    assert "partial copy was withdrawn" in exc.message and "nothing was marked complete" in (
        exc.message
    )
    assert exc.withdrawn is True and exc.run_id
    assert stop.calls == 6  # latched: once stopped, the check is not asked again
    # the run wrote at most the batches its check let through (one checkpoint before
    # the target is touched; the rest one per batch, or per table started)
    assert sum(1 for _ in updates) <= 5
    assert _tables(tgt) == []
    marker = read_completion_marker(tgt)
    assert marker is not None and marker.status is MarkerStatus.FAILED
    assert marker.run_id == exc.run_id


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_run_stopped_before_it_touched_the_target_leaves_the_target_as_it_was(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """A run marked dead before it writes must not drop what the next run wrote."""
    src, tgt = source_and_target(request, tmp_path, backend)
    plan = plan_for(_schema(src))
    run(plan, src, tgt, KEY, RunOptions(batch_rows=50))
    before = _tables(tgt)
    first = read_completion_marker(tgt)
    stop = StopAt(1)
    with pytest.raises(MaskingRunStopped) as err:
        run(plan, src, tgt, KEY, RunOptions(replace=True, stop=stop))
    assert "it had not written to the target" in err.value.message
    assert err.value.run_id is None and err.value.withdrawn is None
    assert _tables(tgt) == before and before
    assert read_completion_marker(tgt) == first  # still the complete copy of before


@pytest.mark.postgres
@pytest.mark.parametrize("workers", ["thread", "process"])
def test_parallel_copies_stop_too(
    workers: Any, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    src, tgt = source_and_target(request, tmp_path, "postgresql")
    plan = plan_for(_schema(src))
    stop = StopAt(2)  # the first check is the one before the target is touched
    with pytest.raises(MaskingRunStopped) as err:
        run(
            plan,
            src,
            tgt,
            KEY,
            RunOptions(jobs=3, split_min_pages=1, batch_rows=20, workers=workers, stop=stop),
        )
    assert err.value.withdrawn is True and stop.calls == 2
    assert _tables(tgt) == []
    marker = read_completion_marker(tgt)
    assert marker is not None and marker.status is MarkerStatus.FAILED
