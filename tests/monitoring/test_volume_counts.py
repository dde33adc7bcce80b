"""Volume counts exactly datastore reads and lists and file downloads that succeeded."""

from __future__ import annotations

import pytest

from stagewall.monitoring.baselines import Volume
from stagewall.monitoring.events import (
    ACTIVITY_NAMES,
    CLS_DATASTORE_ACTIVITY,
    CLS_FILE_HOSTING,
    DS_LIST,
    DS_READ,
    FILE_DOWNLOAD,
    Event,
)

COUNTED = {(CLS_DATASTORE_ACTIVITY, DS_READ), (CLS_DATASTORE_ACTIVITY, DS_LIST)}
COUNTED.add((CLS_FILE_HOSTING, FILE_DOWNLOAD))


@pytest.mark.parametrize(
    "shape", [(int(c), a) for c, acts in ACTIVITY_NAMES.items() for a in [*acts, 99]]
)
@pytest.mark.parametrize("status", ["success", "failure", "unknown"])
@pytest.mark.parametrize("principal", ["anna", ""])
def test_counted_events(shape: tuple[int, int], status: str, principal: str) -> None:
    volume = Volume()
    cls, act = shape
    volume.judge(Event(1.8e9, cls, act, status=status, principal=principal, bytes=5))
    counted = shape in COUNTED and status == "success" and bool(principal)
    assert (volume.state.get("anna", [0, 0, 0])[1:3] == [5, 1]) is counted
