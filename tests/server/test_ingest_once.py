"""A shipper's retried post is answered again, not stored twice (``Idempotency-Key``).

A shipper whose connection dropped after it sent a post does not know whether the
server took it. Before, retrying stored every line again: the events were twice in the
monitoring log, counted twice by the baselines and their findings alerted twice.
"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

import pytest
from sqlalchemy import text

from stagewall.identity._seal import token_key
from stagewall.monitoring import MonitorLog, _once
from stagewall.store import open_store
from tests.server.conftest import World
from tests.server.test_ingest import _post, _token

BURST = "".join(
    f"Dec  5 02:41:{i:02d} bastion sshd[{100 + i}]: Failed password for invalid user admin "
    "from 203.0.113.7 port 22234 ssh2\n"
    for i in range(25)
)
KEY = '"5f1c2a4e-8d7b-4f3e-9a61-0c2b7d9e4f10"'


def _stored(world: World) -> int:
    return MonitorLog(world.state.ctx.store).head().size


def _codes(world: World, code: str) -> int:
    return sum(1 for e in world.events() if e.code == code)


def test_a_retried_post_gets_its_first_answer_and_stores_nothing_again(world: World) -> None:
    token = _token(world, "bastion-ssh")
    first = _post(world, "bastion-ssh", token, BURST, **{"Idempotency-Key": KEY})
    assert first.status_code == 200, first.text
    assert first.json()["events"] == 25 and first.json()["replayed"] is False
    findings = _codes(world, "monitoring.finding.created")
    alerts = len(world.alerts())
    assert findings >= 1 and alerts >= 1
    for _ in range(2):
        again = _post(world, "bastion-ssh", token, BURST, **{"Idempotency-Key": KEY})
        assert again.status_code == 200, again.text
        assert again.headers["Idempotent-Replayed"] == "true"
        assert {**again.json(), "replayed": False} == first.json()
    assert _stored(world) == 25
    assert _codes(world, "monitoring.ingest.batch") == 1
    assert _codes(world, "monitoring.finding.created") == findings
    assert len(world.alerts()) == alerts
    MonitorLog(world.state.ctx.store).verify_anchored()


def test_without_a_key_a_repeated_post_is_taken_again(world: World) -> None:
    # Identical lines may really happen twice (psql connects twice when it prompts for
    # a password), so only the shipper's key says a post is a retry.
    token = _token(world, "bastion-ssh")
    for _ in range(2):
        assert _post(world, "bastion-ssh", token, BURST).json()["replayed"] is False
    assert _stored(world) == 50


def test_a_key_reused_for_another_body_is_refused_and_stores_nothing(world: World) -> None:
    token = _token(world, "bastion-ssh")
    assert _post(world, "bastion-ssh", token, BURST, **{"Idempotency-Key": KEY}).status_code == 200
    other = BURST.replace("admin", "oracle")
    res = _post(world, "bastion-ssh", token, other, **{"Idempotency-Key": KEY})
    assert res.status_code == 422, res.text
    assert res.json()["code"] == "SW978" and "another body" in res.json()["detail"]
    # the same bytes sent as a JSON array are another body too
    as_json = _post(
        world,
        "bastion-ssh",
        token,
        '["' + BURST.splitlines()[0] + '"]',
        **{"Idempotency-Key": KEY, "Content-Type": "application/json"},
    )
    assert as_json.status_code == 422
    assert _stored(world) == 25


@pytest.mark.parametrize("key", ["", '""', "x" * 129, "two words", "caf\u00e9", 'a"b', "tab\there"])
def test_a_malformed_key_is_refused_before_anything_is_stored(world: World, key: str) -> None:
    token = _token(world, "bastion-ssh")
    res = world.client.post(
        "/api/v1/ingest/bastion-ssh",
        content=BURST.encode(),
        headers=[
            ("Authorization", f"Bearer {token}"),
            ("Content-Type", "text/plain"),
            (b"Idempotency-Key", key.encode("utf-8")),
        ],
    )
    assert res.status_code == 400, res.text
    assert res.json()["code"] == "SW979"
    assert "Idempotency-Key" in res.json()["detail"]
    assert _stored(world) == 0


def test_keys_belong_to_their_source_and_are_forgotten_after_a_day(world: World) -> None:
    ssh, pg = _token(world, "bastion-ssh"), _token(world, "pg-prod")
    line = (
        '{"timestamp":"2026-12-05 02:41:20.000 UTC","pid":7,"error_severity":"LOG",'
        '"message":"connection authorized: user=alice database=app","remote_host":"10.0.0.5"}'
    )
    assert _post(world, "bastion-ssh", ssh, BURST, **{"Idempotency-Key": "k1"}).status_code == 200
    assert _post(world, "pg-prod", pg, line, **{"Idempotency-Key": "k1"}).json()["events"] == 1
    assert _stored(world) == 26
    with world.state.ctx.store.transaction() as conn:
        conn.execute(text("UPDATE monitoring_ingest_posts SET taken_at = taken_at - 86401"))
    res = _post(world, "bastion-ssh", ssh, BURST, **{"Idempotency-Key": "k1"})
    assert res.json()["replayed"] is False
    assert _stored(world) == 51


def test_an_answer_written_into_the_store_does_not_drop_the_lines(world: World) -> None:
    # Someone able to write the store plants the answer of a post the shipper has not
    # sent yet: believed, the server would answer "taken" and drop the real lines.
    token = _token(world, "bastion-ssh")
    digest = hashlib.sha256(b"text\n" + BURST.encode()).hexdigest()
    forged = '{"events":25,"first_index":0,"head":"","last_index":24,"lines":25}'
    with world.state.ctx.store.transaction() as conn:
        conn.execute(
            text(
                "INSERT INTO monitoring_ingest_posts "
                "(source, post_key, body_digest, answer, taken_at, row_mac) "
                "VALUES ('bastion-ssh', 'planted', :d, :a, 9e18, :m)"
            ),
            {"d": digest, "a": forged, "m": "0" * 64},
        )
    res = _post(world, "bastion-ssh", token, BURST, **{"Idempotency-Key": "planted"})
    assert res.status_code == 200 and res.json()["replayed"] is False
    assert _stored(world) == 25
    # and the row now holds this post's own sealed answer: a retry replays it
    again = _post(world, "bastion-ssh", token, BURST, **{"Idempotency-Key": "planted"})
    assert again.json()["replayed"] is True
    assert _stored(world) == 25


def test_a_failed_ingest_leaves_no_claim(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    token = _token(world, "bastion-ssh")
    ctx = world.app.state.ingest.context()
    calls: list[int] = []
    real = type(ctx).save_state

    def failing(self: Any, conn: Any = None) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("disk full")
        real(self, conn)

    monkeypatch.setattr(type(ctx), "save_state", failing)
    with pytest.raises(OSError):
        _post(world, "bastion-ssh", token, BURST, **{"Idempotency-Key": KEY})
    assert _stored(world) == 0
    res = _post(world, "bastion-ssh", token, BURST, **{"Idempotency-Key": KEY})
    assert res.status_code == 200 and res.json()["replayed"] is False
    assert _stored(world) == 25


@pytest.mark.postgres
def test_two_instances_racing_one_key_take_it_once(pg_store_url: str) -> None:
    # Two server instances (two store connections) claim the same key at once: the
    # second waits for the first's transaction and then gets its answer.
    a, b = open_store(pg_store_url), open_store(pg_store_url)
    try:
        key = _once.PostKey("race", "d" * 64)
        mac = token_key(a)
        first_claimed = threading.Event()
        release = threading.Event()
        got: dict[str, Any] = {}

        def first() -> None:
            with a.transaction() as conn:
                got["first"] = _once.claim(conn, mac, "src", key, 1000.0)
                first_claimed.set()
                release.wait(10)
                _once.answer(conn, mac, "src", key, {"events": 3})

        def second() -> None:
            first_claimed.wait(10)
            with b.transaction() as conn:
                got["second"] = _once.claim(conn, mac, "src", key, 1000.5)

        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for t in threads:
            t.start()
        first_claimed.wait(10)
        threads[1].join(0.5)
        assert threads[1].is_alive()  # blocked on the first's uncommitted claim
        release.set()
        for t in threads:
            t.join(10)
        assert got == {"first": None, "second": {"events": 3}}
    finally:
        a.dispose()
        b.dispose()
