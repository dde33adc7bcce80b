"""The built-in sweeper: one leader per store, replaced when it dies; expiry without cron."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest

from stagewall.keys import init_keys
from stagewall.server import ServerState
from stagewall.server.sweeper import Leadership, Sweeper, health, tick
from tests.server.conftest import ESTATE, Person, World


def _state(tmp: Path, pg_db: str, store_url: str, name: str) -> ServerState:
    config = tmp / "stagewall.yaml"
    if not config.exists():
        config.write_text(ESTATE.format(db=pg_db), encoding="utf-8")
    home = tmp / f"home-{name}"
    init_keys(home)
    return ServerState.open(config, store_url, home)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_exactly_one_leader_and_a_dead_one_is_replaced(
    tmp_path: Path, pg_url: str, pg_url_factory: object, backend: str
) -> None:
    store_url = (
        f"sqlite:///{tmp_path / 'store.db'}"
        if backend == "sqlite"
        else pg_url_factory().replace("postgresql://", "postgresql+psycopg://", 1)  # type: ignore[operator]
    )
    db = pg_url.rsplit("/", 1)[1]
    a = _state(tmp_path, db, store_url, "a")
    b = _state(tmp_path, db, store_url, "b")
    la, lb = Leadership(a), Leadership(b)
    try:
        assert la.try_acquire() is True
        assert lb.try_acquire() is False  # exactly one
        tick(a, la)
        tick(b, lb)
        assert a.sweep.leader and not b.sweep.leader
        assert a.sweep.sweeps == 1 and b.sweep.sweeps == 0
        assert health(b)["last_sweep"] is not None  # every instance sees the leader's sweep
        la.release()  # the leader dies
        tick(b, lb)
        assert b.sweep.leader and b.sweep.sweeps == 1
    finally:
        la.release()
        lb.release()


def test_expiry_kills_the_session_within_seconds_with_nothing_else_running(
    world: World, people: dict[str, Person]
) -> None:
    """The server's own sweeper thread, no sweep command: the grant's end (the test clock
    passing it) to the session being killed is measured in real time."""
    from datetime import timedelta

    alice, bob = people["alice"], people["bob"]
    rid = alice.post(
        "/api/v1/access/requests", {"role": "prod-read", "duration": "1h", "reason": "INC-7"}
    ).json()["request"]
    gid = bob.post(
        f"/api/v1/access/requests/{rid}/reviews", {"approve": True, "otp": bob.otp()}
    ).json()["grant"]
    [cred] = alice.post(f"/api/v1/access/grants/{gid}/credentials", {"otp": alice.otp()}).json()
    conn = psycopg.connect(
        host="127.0.0.1",
        port=5432,
        dbname=cred["database"],
        user=cred["login"],
        password=cred["password"],
        autocommit=True,
    )
    sweeper = Sweeper(world.state)
    sweeper.start()
    try:
        conn.execute("SELECT 1")  # alive while the grant lasts, sweeper running
        world.clock.advance(timedelta(hours=1, seconds=1))  # the grant's end passes
        ended = time.monotonic()
        killed_after = None
        while time.monotonic() - ended < 30:
            try:
                conn.execute("SELECT 1")
            except psycopg.Error:
                killed_after = time.monotonic() - ended
                break
            time.sleep(0.05)
        assert killed_after is not None, "the session survived its grant"
        assert killed_after < 5, killed_after
        grants = {g["id"]: g for g in alice.get("/api/v1/access/grants").json()}
        assert grants[gid]["status"] == "expired"
    finally:
        conn.close()
        sweeper.stop()
