"""Working hours from the per-quarter-hour cache equal the direct zone computation."""

from __future__ import annotations

from datetime import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from stagewall.monitoring.baselines import WorkingHours, _zone
from stagewall.monitoring.events import Event, OcsfClass
from tests.monitoring.conftest import make_estate

ZONES = [
    "Europe/Berlin",
    "America/St_Johns",  # -03:30 with DST
    "Asia/Kathmandu",  # +05:45
    "Australia/Lord_Howe",  # a 30-minute DST shift
    "Africa/Monrovia",  # -00:44:30 until 1972: not a whole number of quarter hours
    "UTC",
]
HOURS = WorkingHours(make_estate())
for _name in ZONES:
    # every other local quarter hour is "working": any slot error flips the answer
    HOURS._plans[_name] = (_zone(_name), frozenset(range(0, 7 * 96, 2)))


def _reference(zone: str, t: float) -> bool:
    local = datetime.fromtimestamp(t, _zone(zone))
    slot = (local.weekday() * 1440 + local.hour * 60 + local.minute) // 15
    return slot % 2 == 1


@settings(max_examples=3000)
@given(
    st.sampled_from(ZONES),
    st.floats(min_value=-1e9, max_value=4e9, allow_nan=False) | st.integers(0, 4 * 10**9),
    st.integers(-1800, 1800),
)
def test_cached_slots_equal_the_zone_computation(zone: str, t: float, step: int) -> None:
    for when in (float(t), float(t) + step):  # a neighbour shares or crosses a quarter
        ev = Event(when, OcsfClass.AUTHENTICATION, 1, principal=zone)
        HOURS.judge(ev)
        assert ev.off_hours is _reference(zone, when)
