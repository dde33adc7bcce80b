"""The built-in sweeper: one leader per store, replaced when it dies; expiry without cron."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import psycopg
import pytest

from stagewall.keys import init_keys
from stagewall.server import ServerState
from stagewall.server.sweeper import Leadership, Sweeper, health, tick
from tests.server.conftest import ESTATE, Person, World, pg_session


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
    # as while serving: pooled connections (PostgreSQL), so a released lock must not
    # stay held by a connection handed back to the pool
    a.ctx.store.set_pooled(True)
    b.ctx.store.set_pooled(True)
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
        a.ctx.store.set_pooled(False)
        b.ctx.store.set_pooled(False)


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
    conn = pg_session(cred)
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
        # the sessions end first (lock-out), the grant's full revocation follows in the sweep
        status, deadline = "active", time.monotonic() + 30
        while status == "active" and time.monotonic() < deadline:
            grants = {g["id"]: g for g in alice.get("/api/v1/access/grants").json()}
            status = grants[gid]["status"]
            time.sleep(0.05)
        assert status == "expired"
    finally:
        conn.close()
        sweeper.stop()


def test_a_burst_of_expiring_grants_ends_in_one_sweep_on_a_postgresql_store(
    tmp_path: Path, pg_url: str, pg_store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Grants ending together: their sessions are locked out together, then each grant is
    revoked in parallel (PostgreSQL store); one sweep ends them all, verified."""
    from datetime import timedelta

    from stagewall.access import sweep
    from tests.access.conftest import cleanup_roles

    monkeypatch.setenv("SW_TEST_ADMIN_URL", pg_url)
    # the control-plane store in its own database, the resource in pg_url's
    world = World(tmp_path, pg_url.rsplit("/", 1)[1], pg_store_url)
    conns: list[psycopg.Connection[Any]] = []
    try:
        alice, bob = world.onboard("alice"), world.onboard("bob")
        world.settle()  # bob approves: invited a day ago, out of the invitation quarantine
        alice.login()
        bob.login()
        gids = []
        for i in range(5):
            rid = alice.post(
                "/api/v1/access/requests", {"role": "prod-read", "duration": "1h", "reason": f"{i}"}
            ).json()["request"]
            res = bob.post(
                f"/api/v1/access/requests/{rid}/reviews", {"approve": True, "otp": bob.otp()}
            )
            assert res.status_code == 200, res.text
            gid = res.json()["grant"]
            [cred] = alice.post(
                f"/api/v1/access/grants/{gid}/credentials", {"otp": alice.otp()}
            ).json()
            gids.append(gid)
            conns.append(pg_session(cred))
        for c in conns:
            c.execute("SELECT 1")
        world.clock.advance(timedelta(hours=2))
        report = sweep(world.state.ctx)
        assert sorted(report.expired) == sorted(gids) and report.ok, report
        for c in conns:
            with pytest.raises(psycopg.Error):
                c.execute("SELECT 1")
        grants = {g["id"]: g["status"] for g in alice.get("/api/v1/access/grants").json()}
        assert all(grants[g] == "expired" for g in gids)
        proofs = [e for e in world.events() if e.code == "access.credential.revoked"]
        assert len(proofs) == 5 and all(e.status.value == "Success" for e in proofs)
    finally:
        for c in conns:
            c.close()
        cleanup_roles(pg_url, world.state.ctx.instance_id())
        world.client.close()
