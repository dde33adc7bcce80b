"""Red team: what a holder of one source's ingest token (a compromised shipper) and an
insider with write access to the store can do to detection through the server.

Each test posts over HTTP with the shipper's own token, as a shipper would.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, update

from stagewall.monitoring import MonitorLog
from stagewall.monitoring._tables import monitoring_source_seen
from tests.server.conftest import World
from tests.server.test_ingest import _post, _token


def _jsonlog(t: float, pid: int = 7, user: str = "deploybot") -> str:
    stamp = datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S.000 UTC")
    return json.dumps(
        {
            "timestamp": stamp,
            "pid": pid,
            "error_severity": "LOG",
            "message": f"connection authorized: user={user} database=app",
            "remote_host": "10.0.0.5",
        }
    )


def _findings(world: World, rule: str) -> list[Any]:
    return [
        e
        for e in world.events()
        if e.code == "monitoring.finding.created"
        and e.details["finding_info"]["analytic"]["name"] == rule
    ]


def _failure(t: float, i: int) -> str:
    stamp = datetime.fromtimestamp(t, UTC).strftime("%b %e %H:%M:%S")
    return (
        f"{stamp} bastion sshd[{300 + i}]: Failed password for invalid user admin from "
        "203.0.113.9 port 22234 ssh2"
    )


def test_a_future_dated_event_does_not_silence_the_source_gap_check(world: World) -> None:
    # One line dated 2099 from pg-prod's shipper made the source's newest event time
    # 2099: the silence check (last event older than max_gap) could never fire again,
    # so the shipper (or the host it ships from) could then stop for good unnoticed.
    token = _token(world, "pg-prod")
    now = time.time()
    res = _post(world, "pg-prod", token, _jsonlog(4102444800.0))  # 2100-01-01
    assert res.status_code == 200, res.text
    assert res.json()["events"] >= 1
    found = world.app.state.ingest.check_gaps(now=now + 7200)
    assert [f.rule for f in found] == ["log_source_gap"]
    # the event is stored at the time it was received, its own time kept as a claim
    doc = MonitorLog(world.state.ctx.store).documents()[0]
    assert doc["time"] < "2099"
    assert doc["unmapped"]["claim"].startswith("time:2100-01-01")
    # and the shipper sending it is alerted (one finding per source and hour)
    assert len(_findings(world, "log_time_ahead")) == 1


def test_a_future_dated_batch_does_not_wipe_other_sources_correlation_windows(
    world: World,
) -> None:
    # The detector prunes its windows by the time of every 20,000th event: one dated
    # 2099 dropped every source's windows (an SSH brute force in progress on the
    # bastion started counting again), whoever's token sent it.
    now = time.time()
    ssh = _token(world, "bastion-ssh")
    first = "\n".join(_failure(now - 60 + i, i) for i in range(19))
    assert _post(world, "bastion-ssh", ssh, first).json()["events"] == 19
    gh = _token(world, "gh")
    events = [
        {"@timestamp": 4102444800000 + i, "action": "git.clone", "actor": "x", "repo": "o/r"}
        for i in range(20_000)
    ]
    res = _post(world, "gh", gh, json.dumps(events), **{"Content-Type": "application/json"})
    assert res.status_code == 200, res.text
    last = _post(world, "bastion-ssh", ssh, _failure(now, 19))
    assert last.status_code == 200, last.text
    assert len(_findings(world, "failed_login_burst")) == 1


def test_the_answer_tells_a_shipper_nothing_of_detection(world: World) -> None:
    # A shipper's token is the least trusted credential the server takes. The answer
    # carried the findings (rules, principals, tiers), the suppressions that silenced
    # them (with their reasons) and which alert sinks failed: an oracle to tune forged
    # lines against, and a way to learn that alerts are not getting through.
    token = _token(world, "bastion-ssh")
    now = time.time()
    body = "\n".join(_failure(now - 30 + i, i) for i in range(25))
    res = _post(world, "bastion-ssh", token, body)
    assert res.status_code == 200, res.text
    answer = res.json()
    assert answer["events"] == 25
    assert len(_findings(world, "failed_login_burst")) == 1  # detected all the same
    for key in ("findings", "suppressed", "suppressed_by_rule", "alert_failures"):
        assert key not in answer, key


def test_a_source_seen_row_edited_into_the_future_is_a_silence(world: World) -> None:
    # An insider with write access to the store set monitoring_source_seen.last_event
    # to 2100: the silence check never fired again for that source.
    token = _token(world, "pg-prod")
    now = time.time()
    assert _post(world, "pg-prod", token, _jsonlog(now - 300)).json()["events"] == 1
    with world.state.ctx.store.transaction() as conn:
        conn.execute(
            update(monitoring_source_seen)
            .where(monitoring_source_seen.c.source == "pg-prod")
            .values(last_event=4102444800.0)
        )
    found = world.app.state.ingest.check_gaps(now=now)
    assert [f.rule for f in found] == ["log_source_gap"]
    # the next post writes the real newest time back: a later silence is seen again
    assert _post(world, "pg-prod", token, _jsonlog(now - 60, pid=8)).json()["events"] == 1
    assert [f.rule for f in world.app.state.ingest.check_gaps(now=now + 7200)] == ["log_source_gap"]


def test_a_deleted_source_seen_row_does_not_end_the_watch(world: World) -> None:
    # Deleting the row (or a source that never posted) left nothing to judge: a
    # source with max_gap was never silent. The check now starts watching it.
    token = _token(world, "pg-prod")
    now = time.time()
    assert _post(world, "pg-prod", token, _jsonlog(now - 300)).json()["events"] == 1
    with world.state.ctx.store.transaction() as conn:
        conn.execute(delete(monitoring_source_seen))
    endpoint = world.app.state.ingest
    assert endpoint.check_gaps(now=now) == []  # watched from now on
    assert [f.rule for f in endpoint.check_gaps(now=now + 7200)] == ["log_source_gap"]


def test_a_body_of_more_lines_than_a_token_may_ever_send_at_once_is_refused(
    world: World,
) -> None:
    # A body larger than the line budget was taken whole (the next request waited):
    # 8 MiB of "1," as a JSON array is 4 million lines, read on the server's event
    # loop (every request of every person waited) and then ingested under the lock all
    # sources share — seconds of stalled detection for every source, from any token.
    endpoint = world.app.state.ingest
    assert endpoint.limits.max_lines == endpoint.limits.line_burst  # by default
    endpoint.limits.max_lines = 100
    token = _token(world, "bastion-ssh")
    res = _post(world, "bastion-ssh", token, "\n" * 101)
    assert res.status_code == 413, res.text
    assert res.json()["code"] == "SW972"
    assert "101 lines" in res.json()["detail"]
    many = json.dumps([1] * 101)
    res = _post(world, "bastion-ssh", token, many, **{"Content-Type": "application/json"})
    assert res.status_code == 413 and res.json()["code"] == "SW972", res.text
    assert MonitorLog(world.state.ctx.store).head().size == 0
    # at the limit, a body is taken (a last line without its newline counts too)
    ok = _post(world, "bastion-ssh", token, "\n".join(["x"] * 100))
    assert ok.status_code == 200 and ok.json()["malformed"] == 100, ok.text


def test_an_ingest_token_reads_nothing(world: World) -> None:
    # Held: the token is a credential for one route; every read route refuses it.
    token = _token(world, "pg-prod")
    headers = {"Authorization": f"Bearer {token}"}
    for path in (
        "/api/v1/audit/events",
        "/api/v1/audit/checkpoints",
        "/api/v1/evidence/checks",
        "/api/v1/access/grants",
        "/api/v1/inbox",
    ):
        res = world.client.get(path, headers=headers)
        assert res.status_code == 401, (path, res.status_code, res.text)


def test_a_flood_of_other_findings_does_not_silence_a_production_login(world: World) -> None:
    # Held: dedup is per rule, actor and place, and no alert budget drops findings: a
    # shipper (or a client) raising hundreds of other findings first does not hide an
    # external's production login that follows.
    now = time.time()
    ssh = _token(world, "bastion-ssh")
    flood = "\n".join(
        f"{datetime.fromtimestamp(now - 60, UTC).strftime('%b %e %H:%M:%S')} bastion "
        f"sshd[{1000 + i}]: Failed password for invalid user u{i % 50} from "
        f"198.51.{i // 250}.{i % 250} port 1 ssh2"
        for i in range(5000)
    )
    assert _post(world, "bastion-ssh", ssh, flood).status_code == 200
    assert len(world.events()) > 0
    pg = _token(world, "pg-prod")
    res = _post(world, "pg-prod", pg, _jsonlog(now - 30, pid=99, user="dana"))
    assert res.status_code == 200, res.text
    hits = _findings(world, "external_production_access")
    assert [e.details["suspect"]["principal"] for e in hits] == ["dana"]
