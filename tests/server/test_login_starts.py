"""Red team: what anyone may start without a login is budgeted per address.

``POST /api/v1/device/code`` (and ``GET /api/v1/oidc/login``) wrote a store row per
call with no limit: a loop filled the store and, on SQLite, held its single writer
against approvals. Now each source address has a budget; the 429 comes with
Retry-After, before anything is written, and other addresses are not affected.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from stagewall.errors import LoginStartsLimited
from stagewall.identity._tables import identity_device_codes, identity_oidc_logins
from stagewall.server import _starts
from stagewall.server._starts import BURST, StartLimiter
from tests.identity.conftest import oidc_provider as oidc_provider
from tests.server.conftest import World
from tests.server.test_oidc_login import oidc_world as oidc_world


class Tick:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_refuses_past_its_burst_and_refills() -> None:
    tick = Tick()
    limiter = StartLimiter(burst=3, per_minute=20, clock=tick)
    for _ in range(3):
        limiter.admit("203.0.113.9", "logins")
    with pytest.raises(LoginStartsLimited) as got:
        limiter.admit("203.0.113.9", "logins")
    assert got.value.retry_after == 3 and "203.0.113.9" in got.value.message
    limiter.admit("198.51.100.7", "logins")  # another address has its own budget
    tick.now += 3.0
    limiter.admit("203.0.113.9", "logins")
    with pytest.raises(LoginStartsLimited):
        limiter.admit("203.0.113.9", "logins")


def test_forgotten_addresses_are_the_least_recently_seen(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_starts, "MAX_ADDRESSES", 2)
    limiter = StartLimiter(burst=1, per_minute=1, clock=Tick())
    limiter.admit("a", "x")
    limiter.admit("b", "x")
    with pytest.raises(LoginStartsLimited):
        limiter.admit("a", "x")  # a is seen again: most recent now
    limiter.admit("c", "x")  # b is forgotten, a is kept
    with pytest.raises(LoginStartsLimited):
        limiter.admit("a", "x")
    limiter.admit("b", "x")


def _rows(world: World, table: object) -> int:
    with world.state.ctx.store.read() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_device_codes_from_one_address_are_limited(world: World) -> None:
    looping = TestClient(world.app, client=("203.0.113.9", 40000))
    for _ in range(BURST):
        assert looping.post("/api/v1/device/code").status_code == 200
    rows = _rows(world, identity_device_codes)
    res = looping.post("/api/v1/device/code")
    assert res.status_code == 429, res.text
    assert res.json()["code"] == "SW610" and int(res.headers["retry-after"]) >= 1
    assert _rows(world, identity_device_codes) == rows  # nothing written
    other = TestClient(world.app, client=("198.51.100.7", 50000))
    assert other.post("/api/v1/device/code").status_code == 200


def test_oidc_login_starts_share_the_budget(oidc_world: World) -> None:
    looping = TestClient(oidc_world.app, client=("203.0.113.9", 40000))
    for _ in range(BURST):
        res = looping.get("/api/v1/oidc/login", follow_redirects=False)
        assert res.status_code == 303, res.text
    rows = _rows(oidc_world, identity_oidc_logins)
    res = looping.get("/api/v1/oidc/login", follow_redirects=False)
    assert res.status_code == 429 and res.json()["code"] == "SW610", res.text
    assert looping.post("/api/v1/device/code").status_code == 429
    assert _rows(oidc_world, identity_oidc_logins) == rows
