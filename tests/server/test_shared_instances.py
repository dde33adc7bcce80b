"""Two real server instances on one store share login limits and the silent-source check.

Each instance is a ``stagewall serve`` app on uvicorn with its own ServerState (its
own engine, connections and in-process state) over the same store, as two server
processes behind a balancer; the people and log shippers talk HTTP only.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from stagewall.monitoring.tokens import create_ingest_token
from stagewall.server import ServerState, create_app
from stagewall.server import _routes_ingest as ingest_routes
from tests.live_server import serve
from tests.server.conftest import PASSWORD, World


@pytest.fixture(params=["sqlite", "postgresql"])
def two(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[World, ServerState]]:
    """A world (instance one) and a second instance's state on the same store."""
    monkeypatch.setenv("SW_TEST_ADMIN_URL", pg_url)
    store_url = (
        f"sqlite:///{tmp_path / 'store.db'}"
        if request.param == "sqlite"
        else str(request.getfixturevalue("pg_store_url"))
    )
    world = World(tmp_path, pg_url.rsplit("/", 1)[1], store_url)
    other = ServerState.open(world.config, store_url, world.home)
    other.clock = other.ctx.clock = world.clock
    try:
        yield world, other
    finally:
        world.app.state.ingest.close()
        world.client.close()
        world.state.ci.close()
        other.ci.close()
        other.ctx.store.dispose()


def _at_once(calls: list[tuple[str, dict[str, Any], dict[str, str]]]) -> list[int]:
    """POST each (url, json, headers) from its own thread, all released together."""
    answers: list[int] = []
    barrier = threading.Barrier(len(calls))

    def send(url: str, body: dict[str, Any], headers: dict[str, str]) -> None:
        barrier.wait()
        answers.append(httpx.post(url, json=body, headers=headers, timeout=60).status_code)

    threads = [threading.Thread(target=send, args=call) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


def _logins(world: World, status: str) -> list[Any]:
    return [e for e in world.events() if e.code == "identity.login" and e.status.value == status]


def test_password_guesses_spread_over_two_instances_share_one_budget(
    two: tuple[World, ServerState],
) -> None:
    world, other = two
    alice = world.onboard("alice")
    with (
        serve(world.state, run_sweeper=False) as one_url,
        serve(other, run_sweeper=False) as two_url,
    ):
        guess = {"principal": "alice", "password": "wrong guess", "otp": "000000"}
        answers = _at_once([(f"{u}/api/v1/session", guess, {}) for u in (one_url, two_url) * 7])
        # Five wrong guesses in five minutes, whichever instance took them, at once or not.
        assert sorted(answers) == [401] * 5 + [429] * 9, answers
        # Further guesses need the right password and code together, on both instances
        # (SW612); the right password alone is refused like a wrong one ...
        for url in (one_url, two_url):
            res = httpx.post(
                f"{url}/api/v1/session", json={"principal": "alice", "password": PASSWORD}
            )
            assert res.status_code == 429, res.text
            assert res.json()["code"] == "SW612"
        # ... and alice with her password and code is let in on both: the guesses of
        # someone else do not lock her out.
        for url in (one_url, two_url):
            res = httpx.post(
                f"{url}/api/v1/session",
                json={"principal": "alice", "password": PASSWORD, "otp": alice.otp()},
            )
            assert res.status_code == 200, res.text
    assert len(_logins(world, "Failure")) == 5


def test_step_up_guesses_spread_over_two_instances_share_one_budget(
    two: tuple[World, ServerState],
) -> None:
    world, other = two
    alice = world.onboard("alice")
    headers = alice.headers()  # a token both instances honour (tokens are in the store)
    with (
        serve(world.state, run_sweeper=False) as one_url,
        serve(other, run_sweeper=False) as two_url,
    ):
        wrong = {"otp": "000000"}
        answers = _at_once(
            [(f"{u}/api/v1/step-up", wrong, headers) for u in (one_url, two_url) * 5]
        )
        assert sorted(answers) == [403] * 5 + [429] * 5, answers
        res = httpx.post(f"{two_url}/api/v1/step-up", json={"otp": alice.otp()}, headers=headers)
        assert res.status_code == 429 and res.json()["code"] == "SW722", res.text


def test_a_store_that_cannot_count_refuses_logins(two: tuple[World, ServerState]) -> None:
    """Fail closed: no table to count in is no login, with a clear problem response."""
    from sqlalchemy import text

    world, _other = two
    alice = world.onboard("alice")
    headers = alice.headers()  # logged in before the store breaks
    with world.state.ctx.store.transaction() as conn:
        conn.execute(text("DROP TABLE identity_rate_limits"))
    res = world.client.post(
        "/api/v1/session", json={"principal": "alice", "password": PASSWORD, "otp": alice.otp()}
    )
    assert res.status_code == 503, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    body = res.json()
    assert body["code"] == "SW940" and "could not be asked" in body["detail"]
    assert len(_logins(world, "Success")) == 1  # the one before
    # A step-up is refused the same way, even with the right code.
    res = world.client.post("/api/v1/step-up", json={"otp": alice.otp()}, headers=headers)
    assert res.status_code == 503 and res.json()["code"] == "SW940", res.text


# -- the silent-source check --------------------------------------------------------


def _pg_line(t: float, pid: int) -> str:
    stamp = datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.000 UTC")
    return (
        f'{{"timestamp":"{stamp}","pid":{pid},"error_severity":"LOG",'
        '"message":"connection authorized: user=alice database=app","remote_host":"10.0.0.5"}'
    )


def _ship(url: str, token: str, t: float, pid: int) -> dict[str, Any]:
    res = httpx.post(
        f"{url}/api/v1/ingest/pg-prod",
        content=_pg_line(t, pid),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
        timeout=60,
    )
    assert res.status_code == 200, res.text
    return dict(res.json())


def _gaps(world: World, shipped: dict[str, Any]) -> list[Any]:
    """The log_source_gap findings of a post: in the audit log, with evidence among the
    events the post stored (the answer tells a shipper nothing of detection; the
    shipped login to database "app", which the estate does not declare on pg-prod's
    server, is pg-prod's own resource and may find off_hours_activity, depending on the
    hour the test runs)."""
    lo, hi = shipped["first_index"], shipped["last_index"]
    return [
        e
        for e in _gap_findings(world)
        if any(lo <= x["index"] <= hi for x in e.details["evidences"])
    ]


def _gap_findings(world: World) -> list[Any]:
    return [
        e
        for e in world.events()
        if e.code == "monitoring.finding.created"
        and e.details["finding_info"]["analytic"]["name"] == "log_source_gap"
    ]


def _gap_alerts(world: World) -> list[dict[str, Any]]:
    return [a for a in world.alerts() if a.get("kind") == "monitoring.log_source_gap"]


def _token(world: World) -> str:
    return create_ingest_token(
        world.state.ctx.store,
        world.state.estate,
        "pg-prod",
        created_by="server-operator",
        now=world.clock(),
    ).secret


@contextmanager
def _serving(world: World, other: ServerState) -> Iterator[tuple[list[Any], list[str]]]:
    """Both instances on uvicorn (no sweepers): their ingest endpoints and base URLs."""
    apps = [world.app, create_app(other, run_sweeper=False)]
    try:
        with serve(world.state, app=apps[0]) as one_url, serve(other, app=apps[1]) as two_url:
            yield [app.state.ingest for app in apps], [one_url, two_url]
    finally:
        apps[1].state.ingest.close()


def test_a_source_ingested_by_the_other_instance_is_not_silent(
    two: tuple[World, ServerState],
) -> None:
    world, other = two
    token = _token(world)
    now = time.time()
    with _serving(world, other) as (endpoints, (one_url, two_url)):
        assert _gaps(world, _ship(one_url, token, now - 6000, 1)) == []
        # The shipper is balanced to the other instance from now on (50 minutes
        # later: no gap, max_gap is 1 hour).
        assert _gaps(world, _ship(two_url, token, now - 3000, 2)) == []
        # 100 minutes after its last event of pg-prod, instance one (leading or not)
        # does not find it silent: the other instance's event counts.
        for endpoint in endpoints:
            assert endpoint.check_gaps(now=now) == []
        # Instance one sees the source again: no gap from its own stale view
        # (95 minutes since its own last event of pg-prod, 45 since the store's).
        assert _gaps(world, _ship(one_url, token, now - 300, 3)) == []
    assert _gap_findings(world) == [] and _gap_alerts(world) == []


def test_a_silence_checked_by_both_instances_at_once_is_alerted_once(
    two: tuple[World, ServerState],
) -> None:
    """Leadership can move mid-check: the silence is claimed in the store, not in memory."""
    world, other = two
    token = _token(world)
    now = time.time()
    with _serving(world, other) as (endpoints, (one_url, _two_url)):
        _ship(one_url, token, now - 7200, 1)
        found: list[Any] = []
        barrier = threading.Barrier(4)

        def check(endpoint: Any) -> None:
            barrier.wait()
            found.extend(endpoint.check_gaps(now=now))

        threads = [threading.Thread(target=check, args=(e,)) for e in endpoints * 2]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [f.rule for f in found] == ["log_source_gap"]
        # Still the same silence a day later: not alerted again, by either.
        for endpoint in endpoints:
            assert endpoint.check_gaps(now=now + 86400) == []
        # The source resumes (after the alert): the gap it ends is not reported twice.
        assert _gaps(world, _ship(one_url, token, now, 2)) == []
        # A new silence is a new alert.
        assert [f.rule for f in endpoints[1].check_gaps(now=now + 7200)] == ["log_source_gap"]
    assert len(_gap_findings(world)) == 2 and len(_gap_alerts(world)) == 2


def test_with_two_instances_running_a_silent_source_is_alerted_once(
    two: tuple[World, ServerState], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both instances run their sweeper and check loop (checking while they lead it)."""
    world, other = two
    monkeypatch.setattr(ingest_routes, "GAP_CHECK_EVERY", 0.05)
    token = _token(world)
    apps = [create_app(world.state, run_sweeper=True), create_app(other, run_sweeper=True)]
    states = [world.state, other]
    with serve(world.state, app=apps[0]) as one_url, serve(other, app=apps[1]) as two_url:
        _ship(two_url, token, time.time() - 7200, 1)
        _ship(one_url, token, time.time() - 7100, 2)
        endpoints = [app.state.ingest for app in apps]
        deadline = time.monotonic() + 60
        while not _gap_findings(world) and time.monotonic() < deadline:
            threading.Event().wait(0.05)
        assert len(_gap_findings(world)) == 1
        seen = sum(e.checks for e in endpoints)
        while sum(e.checks for e in endpoints) < seen + 20 and time.monotonic() < deadline:
            threading.Event().wait(0.05)
        assert sum(e.checks for e in endpoints) >= seen + 20  # many more checks ran ...
        assert any(s.sweep.leader for s in states)
    assert len(_gap_findings(world)) == 1  # ... and found the same silence claimed
    assert len(_gap_alerts(world)) == 1
