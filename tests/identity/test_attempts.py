"""Failed-attempt limits in the store: one budget per key for every server instance.

Run on both store backends. "Instances" here are separate Store objects (their own
engines and connections) on one database, as separate server processes have.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from stagewall.errors import AttemptsUnavailable, RateLimited
from stagewall.identity import attempts
from stagewall.identity._tables import identity_rate_limits
from stagewall.store import Store, open_store

T0 = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


@pytest.fixture
def stores(any_migrated_store_url: str) -> Iterator[tuple[Store, Store]]:
    one = open_store(any_migrated_store_url)
    two = Store(one.url)  # a second instance: its own engine and connections
    try:
        yield one, two
    finally:
        one.dispose()
        two.dispose()


def _fail(store: Store, *keys: str, now: datetime) -> bool:
    """One wrong guess: True if it was let through (and counted), False if refused."""
    try:
        with attempts.attempt(store, *keys, now=now) as slots:
            slots.failed()
    except RateLimited:
        return False
    return True


def _rows(store: Store) -> dict[str, str]:
    with store.read() as conn:
        return {r.key: r.slots for r in conn.execute(select(identity_rate_limits))}


def test_failures_on_two_instances_share_one_budget(stores: tuple[Store, Store]) -> None:
    one, two = stores
    let = [
        _fail((one, two)[i % 2], "alice:principal", now=T0 + timedelta(seconds=i)) for i in range(8)
    ]
    assert let == [True] * 5 + [False] * 3
    with pytest.raises(RateLimited, match="too many failed attempts for alice"):
        attempts.take(one, ("alice:principal",), now=T0 + timedelta(seconds=10))
    # Another key has its own budget.
    assert _fail(two, "bob:principal", now=T0)


def test_concurrent_guesses_cannot_exceed_the_budget(stores: tuple[Store, Store]) -> None:
    """Slots are taken before the guess is checked: attempts in flight count."""
    one, two = stores
    let: list[bool] = []
    barrier = threading.Barrier(16)
    hold = threading.Event()

    def guess(store: Store) -> None:
        barrier.wait()
        try:
            with attempts.attempt(store, "alice:principal", "198.51.100.7:address", now=T0) as s:
                hold.wait(10)  # every admitted guess is still being checked
                s.failed()
        except RateLimited:
            let.append(False)
            return
        let.append(True)

    threads = [threading.Thread(target=guess, args=((one, two)[i % 2],)) for i in range(16)]
    for t in threads:
        t.start()
    while len(let) < 11 and any(t.is_alive() for t in threads):
        threading.Event().wait(0.01)  # the refusals come back while five guesses are held
    hold.set()
    for t in threads:
        t.join()
    assert sorted(let) == [False] * 11 + [True] * 5
    assert all(len(v) == 5 * 23 for v in _rows(one).values())


def test_a_success_gives_its_slot_back(stores: tuple[Store, Store]) -> None:
    one, two = stores
    for i in range(4):
        assert _fail(one, "alice:principal", now=T0 + timedelta(seconds=i))
    for i in range(10):  # the right password again and again: never limited
        with attempts.attempt(two, "alice:principal", now=T0 + timedelta(seconds=10 + i)):
            pass
    assert _fail(one, "alice:principal", now=T0 + timedelta(seconds=30))  # the fifth
    assert not _fail(one, "alice:principal", now=T0 + timedelta(seconds=31))
    # An error that is not a wrong guess does not count either.
    assert _fail(two, "carol:principal", now=T0)
    with (
        pytest.raises(ZeroDivisionError),
        attempts.attempt(two, "carol:principal", now=T0),
    ):
        _ = 1 / 0
    assert len(_rows(one)["carol:principal"]) == 23


def test_the_window_slides_over_each_failure(stores: tuple[Store, Store]) -> None:
    one, two = stores
    key = "203.0.113.9:address"
    assert _fail(one, key, now=T0)
    for i in range(4):
        assert _fail(two, key, now=T0 + timedelta(minutes=4, seconds=i))
    window = attempts.FAILURE_WINDOW
    assert not _fail(one, key, now=T0 + window - timedelta(milliseconds=1))  # 5 in 5 minutes
    assert _fail(one, key, now=T0 + window)  # the first one has left the window
    assert not _fail(two, key, now=T0 + window + timedelta(seconds=30))
    later = T0 + timedelta(minutes=4, seconds=3) + window + timedelta(milliseconds=1)
    assert [_fail(one, key, now=later) for _ in range(5)] == [True] * 4 + [False]


def test_a_refusal_on_one_key_takes_no_slot_of_the_other(stores: tuple[Store, Store]) -> None:
    one, _two = stores
    for i in range(5):
        assert _fail(one, "10.0.0.1:address", f"p{i}:principal", now=T0)
    assert not _fail(one, "10.0.0.1:address", "victim:principal", now=T0)
    assert "victim:principal" not in {k for k, v in _rows(one).items() if v}


def test_the_sweeper_purges_keys_whose_slots_all_expired(stores: tuple[Store, Store]) -> None:
    one, two = stores
    assert _fail(one, "old:principal", now=T0)
    assert _fail(one, "new:principal", now=T0 + timedelta(minutes=4))
    assert attempts.purge(two, now=T0 + timedelta(minutes=3)) == 0
    assert attempts.purge(two, now=T0 + timedelta(minutes=5, seconds=1)) == 1
    assert set(_rows(one)) == {"new:principal"}


def test_a_store_that_cannot_count_refuses_the_attempt(stores: tuple[Store, Store]) -> None:
    one, two = stores
    with one.transaction() as conn:
        conn.execute(text("DROP TABLE identity_rate_limits"))
    with pytest.raises(AttemptsUnavailable, match="store that counts failed logins") as info:
        attempts.take(two, ("alice:principal",), now=T0)
    assert info.value.code == "SW940"


def test_unguessable_credentials_arriving_together_are_not_refused(
    stores: tuple[Store, Store],
) -> None:
    """reserve=False (signed CI tokens, IdP codes): parallel jobs behind one address
    all get checked; only failures already spent refuse, on either instance."""
    one, two = stores
    key = "198.51.100.20:ci-address"
    let: list[bool] = []
    barrier = threading.Barrier(12)
    hold = threading.Event()

    def present(store: Store) -> None:
        barrier.wait()
        try:
            with attempts.attempt(store, key, now=T0, reserve=False):
                hold.wait(10)  # twelve presentations being checked at once
        except RateLimited:
            let.append(False)
            return
        let.append(True)

    threads = [threading.Thread(target=present, args=((one, two)[i % 2],)) for i in range(12)]
    for t in threads:
        t.start()
    threading.Event().wait(0.3)
    hold.set()
    for t in threads:
        t.join()
    assert let == [True] * 12
    assert not _rows(one).get(key)  # successes leave no slot

    def bad(store: Store, at: datetime) -> bool:
        try:
            with attempts.attempt(store, key, now=at, reserve=False) as slots:
                slots.failed()
        except RateLimited:
            return False
        return True

    results = [bad((one, two)[i % 2], T0 + timedelta(seconds=i)) for i in range(7)]
    assert results == [True] * 5 + [False] * 2
    with (  # a valid token is refused too while spent
        pytest.raises(RateLimited),
        attempts.attempt(two, key, now=T0 + timedelta(seconds=9), reserve=False),
    ):
        pass
    with one.transaction() as conn:
        conn.execute(text("DROP TABLE identity_rate_limits"))
    with (  # fail closed here as well
        pytest.raises(AttemptsUnavailable),
        attempts.attempt(two, key, now=T0 + timedelta(minutes=9), reserve=False),
    ):
        pass
