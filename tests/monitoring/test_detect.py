"""The detector's state is bounded: idle correlation groups and old dedup keys are dropped."""

from __future__ import annotations

from stagewall.monitoring.detect import Detector
from stagewall.monitoring.events import Event, OcsfClass
from stagewall.monitoring.rules import load_rules


def failure(t: float, i: int) -> Event:
    return Event(
        t,
        OcsfClass.AUTHENTICATION,
        1,
        status="failure",
        user="root",
        src_ip=f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}",
        host="bastion",
        source="ssh",
        product="sshd",
        actor="unknown:root",
    )


def test_state_stays_bounded_with_endless_new_groups() -> None:
    detector = Detector(load_rules())
    # state_size() walks all the state, so it is read every EVERY events, not after
    # each (which took minutes): the peak between two readings is at most EVERY times
    # the most one event adds, measured event by event over the first events.
    every, step, peak, last = 16, 0, 0, 0
    for i in range(100_000):  # one failed login a second, each from a new address
        detector.process([failure(1_800_000_000.0 + i, i)])
        if i < 2_000 or i % every == 0:
            size = detector.state_size()
            if i < 2_000:
                step = max(step, size - last)
                last = size
            peak = max(peak, size)
    assert 0 < step < 10, step
    # per correlation grouped by client, one prune interval plus its window: the burst's
    # 10 minutes and the spray's hour; plus dedup keys of the one-name rule (it fires
    # every 10 new clients)
    bound = (20_000 + 600) + (20_000 + 3_600) + 2 * (20_000 + 3_600) // 10
    assert peak + every * step <= bound, (peak, step)
    assert detector.state_size() < bound


def test_a_burst_fires_once_and_restarts_its_window() -> None:
    detector = Detector(load_rules())
    events = [failure(1_800_000_000.0 + k, 7) for k in range(45)]
    findings = detector.process(events)
    assert [(f.rule, f.count) for f in findings] == [("failed_login_burst", 20)]
    assert findings[0].evidence[0][0] == -1  # not stored in this test: no index


def test_and_or_of_any_number_of_terms_match_all_and_any() -> None:
    from itertools import product

    from stagewall.monitoring.events import Event
    from stagewall.monitoring.rules._compile import Pred, _all, _any

    def const(value: bool) -> Pred:
        return lambda _ev: value

    ev = Event(0.0, 3002, 1)
    for n in range(1, 6):
        for truths in product([False, True], repeat=n):
            preds = [const(t) for t in truths]
            assert _all(preds)(ev) is all(truths)
            assert _any(preds)(ev) is any(truths)
