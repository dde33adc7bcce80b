"""What the leader schedules: approver notifications (webhook on a local HTTP server) and
the daily evidence evaluation, each once per store, reported by /healthz."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from stagewall.server._workers import Workers
from stagewall.server.sweeper import Leadership, tick
from tests.server.conftest import Person, World


class Hook:
    """A webhook receiver on a loopback port: what a Slack or chat endpoint would get."""

    def __init__(self) -> None:
        received: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.received = received
        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/secret-path"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hook() -> Iterator[Hook]:
    h = Hook()
    try:
        yield h
    finally:
        h.close()


def configure(world: World, extra_alerts: str = "", server: str = "") -> None:
    text = world.config.read_text()
    text = text.replace(
        "alerts:\n  - type: file\n    path: alerts.jsonl\n",
        "alerts:\n  - type: file\n    path: alerts.jsonl\n" + extra_alerts,
    )
    text = text.replace("server:\n", "server:\n" + server, 1)
    world.config.write_text(text)
    world.state.refresh()


def leader_tick(world: World) -> None:
    """One sweeper tick as leader, then wait for the work it queued (joins the workers)."""
    lead = Leadership(world.state)
    try:
        tick(world.state, lead)
    finally:
        lead.release()
    world.state.workers.shutdown(wait=True)
    world.state.workers = Workers()


def test_approvers_are_notified_once_with_a_link_to_the_request(
    world: World, people: dict[str, Person], hook: Hook
) -> None:
    configure(
        world,
        f"  - type: webhook\n    url: {hook.url}\n",
        "  public_url: https://stagewall.example.com/\n",
    )
    dana = people["dana"]
    res = dana.post(
        "/api/v1/access/requests",
        {"role": "staging-write", "duration": "2h", "reason": "fix the import job"},
    )
    assert res.status_code == 201, res.text
    rid = res.json()["request"]
    assert hook.received == []  # nothing is sent from inside the request
    leader_tick(world)
    [got] = hook.received
    assert got["kind"] == "approval.pending"
    assert got["details"]["request"] == rid
    assert got["details"]["link"] == f"https://stagewall.example.com/requests/{rid}"
    assert f"https://stagewall.example.com/requests/{rid}" in got["text"]
    assert got["details"]["approvers"] == ["alice", "bob", "carol"]  # the sre group
    assert got["details"]["requester"] == "dana"
    notified = [e for e in world.events() if e.code == "server.approval.notified"]
    assert [e.details["approvers"] for e in notified] == [["alice", "bob", "carol"]]
    leader_tick(world)  # the next tick does not notify again
    assert len(hook.received) == 1


def test_a_request_decided_before_the_tick_is_not_notified_and_self_review_is_excluded(
    world: World, people: dict[str, Person], hook: Hook
) -> None:
    configure(world, f"  - type: webhook\n    url: {hook.url}\n")
    alice, bob = people["alice"], people["bob"]
    first = alice.post(
        "/api/v1/access/requests", {"role": "prod-read", "duration": "1h", "reason": "INC-1"}
    ).json()["request"]
    res = bob.post(f"/api/v1/access/requests/{first}/reviews", {"approve": True, "otp": bob.otp()})
    assert res.status_code == 200, res.text
    second = alice.post(
        "/api/v1/access/requests", {"role": "prod-read", "duration": "1h", "reason": "INC-2"}
    ).json()["request"]
    leader_tick(world)
    assert [h["details"]["request"] for h in hook.received] == [second]
    # the requester never approves her own request, so she is not asked to
    assert hook.received[0]["details"]["approvers"] == ["bob", "carol"]
    assert hook.received[0]["details"]["link"] == f"http://127.0.0.1:8443/requests/{second}"


def test_a_failing_webhook_is_audited_and_does_not_stop_the_sweep(
    world: World, people: dict[str, Person]
) -> None:
    configure(world, "  - type: webhook\n    url: http://127.0.0.1:9/unreachable\n")
    people["dana"].post(
        "/api/v1/access/requests", {"role": "staging-write", "duration": "1h", "reason": "x"}
    )
    leader_tick(world)
    assert world.state.sweep.sweeps == 1
    failed = [e for e in world.events() if e.code == "alert.delivery.failed"]
    assert failed and "127.0.0.1" in failed[-1].message
    notified = [e for e in world.events() if e.code == "server.approval.notified"]
    assert notified and notified[0].status.value == "Failure"


def test_evidence_checks_run_daily_once_and_healthz_shows_the_last_run(
    world: World, people: dict[str, Person]
) -> None:
    configure(world, server="  evidence_schedule: daily 03:00\n")
    day = world.clock().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    world.clock.now = day + timedelta(hours=2, minutes=59)
    before = world.client.get("/healthz").json()["evidence_checks"]
    assert before["status"] == "never" and before["next_run"].endswith("T03:00:00.000000Z")

    def scheduled() -> list[Any]:
        return [
            e
            for e in world.events()
            if e.code == "evidence.checks.evaluated" and e.actor == "schedule:evidence"
        ]

    leader_tick(world)
    assert not scheduled()
    world.clock.advance(timedelta(minutes=1, seconds=30))  # 03:00:30
    leader_tick(world)
    leader_tick(world)  # same slot: not again
    assert len(scheduled()) == 1
    health = world.client.get("/healthz").json()["evidence_checks"]
    assert health["status"] == "ok" and health["last_run"] is not None
    assert "outcome" not in health  # anonymous callers see no compliance figures
    people["audrey"].login()  # the test clock moved a day: log in again
    people["dana"].login()
    detail = people["audrey"].get("/api/v1/server/tasks").json()["evidence_checks"]
    assert detail["outcome"].startswith("ok: ")
    assert people["dana"].get("/api/v1/server/tasks").status_code == 403
    world.clock.advance(timedelta(days=1))
    leader_tick(world)
    assert len(scheduled()) == 2


def test_a_pending_promotion_notifies_its_approvers_but_not_its_author(
    tmp_path: Path, hook: Hook
) -> None:
    from stagewall.paths import home
    from stagewall.server import ServerState
    from tests.gates.conftest import ESTATE as GATES
    from tests.gates.conftest import digest, make_world, submit, to_staging

    text = GATES.replace(
        "alerts:\n  - type: file\n    path: alerts.jsonl\n",
        f"alerts:\n  - type: webhook\n    url: {hook.url}\n"
        "server:\n  public_url: https://sw.example\n",
    )
    w = make_world(tmp_path, text)
    with w.stack:
        art = digest("app-1.0.tar.gz")
        sha = w.commit("bob@example.com")  # bob wrote the change
        to_staging(w, sha, art)
        pid = submit(w, sha, art, "production", "dana")
        state = ServerState.open(w.config, w.db, home())
        lead = Leadership(state)
        try:
            tick(state, lead)
        finally:
            lead.release()
        state.workers.shutdown(wait=True)
        [got] = [h for h in hook.received if h["details"]["request"] == pid]
        assert got["details"]["type"] == "promotion"
        assert got["details"]["link"] == f"https://sw.example/requests/{pid}"
        # bob authored it and dana submitted it (and is external): neither is asked
        assert got["details"]["approvers"] == ["alice", "carol"]
        assert sha[:12] in got["title"]
