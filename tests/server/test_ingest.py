"""POST /api/v1/ingest/{source}: per-source tokens, limits, malformed lines, no 5xx.

The operator makes tokens on the server host (the library call behind
``stagewall server ingest-token create``); the shipper talks HTTP only.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from stagewall.monitoring import MonitorLog
from stagewall.monitoring._tables import monitoring_ingest_tokens
from stagewall.monitoring.tokens import (
    create_ingest_token,
    list_ingest_tokens,
    revoke_ingest_token,
)
from tests.cli_helpers import run_cli
from tests.server.conftest import Person, World

SSH = [
    "Dec  5 02:41:20 bastion sshd[4242]: Accepted publickey for alice from 10.0.0.5 port 43201 "
    "ssh2: ED25519 SHA256:Xyzabc",
    "Dec  5 02:41:25 bastion sshd[4243]: Failed password for invalid user admin from "
    "203.0.113.7 port 22234 ssh2",
]


def _token(world: World, source: str) -> str:
    new = create_ingest_token(
        world.state.ctx.store,
        world.state.estate,
        source,
        created_by="server-operator",
        now=world.clock(),
    )
    return new.secret


def _post(world: World, source: str, token: str | None, body: str | bytes, **headers: str) -> Any:
    h = {"Content-Type": "text/plain", **headers}
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    return world.client.post(f"/api/v1/ingest/{source}", content=body, headers=h)


def _stored(world: World) -> int:
    return MonitorLog(world.state.ctx.store).head().size


def test_a_source_token_posts_its_lines_into_the_chained_log(world: World) -> None:
    token = _token(world, "bastion-ssh")
    res = _post(world, "bastion-ssh", token, "\n".join(SSH) + "\n")
    assert res.status_code == 200, res.text
    report = res.json()
    assert (report["lines"], report["events"], report["malformed"]) == (2, 2, 0)
    assert _stored(world) == 2
    MonitorLog(world.state.ctx.store).verify_anchored()
    batch = [e for e in world.events() if e.code == "monitoring.ingest.batch"][-1]
    token_id = list_ingest_tokens(world.state.ctx.store, "bastion-ssh")[0].id
    assert batch.details["origin"] == {"via": "api", "ingest_credential": token_id}
    docs = MonitorLog(world.state.ctx.store).documents()
    assert {d["user"]["name"] for d in docs} == {"alice", "admin"}


def test_the_token_fixes_the_source(world: World) -> None:
    token = _token(world, "pg-prod")
    res = _post(world, "bastion-ssh", token, SSH[0])
    assert res.status_code == 403, res.text
    assert res.json()["code"] == "SW881"
    assert "pg-prod" in res.json()["detail"]
    assert _stored(world) == 0
    refused = [e for e in world.events() if e.code == "server.request.refused"][-1]
    assert refused.actor == "log-source:pg-prod"
    assert refused.resource == "log-source:bastion-ssh"
    assert any("pg-prod" in a.get("text", "") for a in world.alerts())


def test_a_revoked_token_is_refused(world: World) -> None:
    token = _token(world, "bastion-ssh")
    assert _post(world, "bastion-ssh", token, SSH[0]).status_code == 200
    tid = list_ingest_tokens(world.state.ctx.store)[0].id
    revoke_ingest_token(world.state.ctx.store, tid, revoked_by="server-operator", now=world.clock())
    res = _post(world, "bastion-ssh", token, SSH[1])
    assert res.status_code == 401, res.text
    assert res.json()["code"] == "SW880"
    assert _stored(world) == 1
    codes = [e.code for e in world.events()]
    assert "monitoring.ingest_token.created" in codes
    assert "monitoring.ingest_token.revoked" in codes


def test_missing_forged_and_person_tokens_are_refused(
    world: World, people: dict[str, Person]
) -> None:
    assert _post(world, "bastion-ssh", None, SSH[0]).status_code == 401
    forged = _post(world, "bastion-ssh", "swi_" + "A" * 43, SSH[0])
    assert forged.status_code == 401 and forged.json()["code"] == "SW880"
    # an internal admin's login token is not an ingest token
    res = _post(world, "bastion-ssh", people["carol"].token, SSH[0])
    assert res.status_code == 403 and "may not call" in res.json()["detail"]
    # and an ingest token is no login anywhere else
    token = _token(world, "bastion-ssh")
    who = world.client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    assert who.status_code == 401
    assert _stored(world) == 0


def test_an_oversize_body_is_refused_before_anything_is_stored(world: World) -> None:
    world.app.state.ingest.limits.max_body = 1000
    token = _token(world, "bastion-ssh")
    res = _post(world, "bastion-ssh", token, "\n".join(SSH * 20))
    assert res.status_code == 413, res.text
    assert res.json()["code"] == "SW882"
    assert _stored(world) == 0


def test_malformed_lines_are_counted_and_numbered_within_the_body(world: World) -> None:
    token = _token(world, "pg-prod")
    good = (
        '{"timestamp":"2026-12-05 02:41:20.123 UTC","pid":7,"error_severity":"LOG",'
        '"message":"connection authorized: user=alice database=app","remote_host":"10.0.0.5"}'
    )
    body = "\n".join([good, "garbage \x00 line", '{"not": "jsonlog"}', good, "\xff\xfe"])
    res = _post(world, "pg-prod", token, body.encode("utf-8", "surrogateescape"))
    assert res.status_code == 200, res.text
    report = res.json()
    assert report["events"] == 2 and report["malformed"] == 3
    assert [s["line"] for s in report["malformed_samples"]] == [2, 3, 5]
    assert "garbage" not in res.text  # reasons, never the content
    # numbering restarts with the next body
    again = _post(world, "pg-prod", token, "junk")
    assert again.json()["malformed_samples"][0]["line"] == 1


def test_undecodable_bytes_and_deep_json_get_no_5xx(world: World) -> None:
    token = _token(world, "bastion-ssh")
    burst = b"".join(
        b"Dec  5 02:41:%02d bastion sshd[%d]: Failed password for invalid user \xff\xfe "
        b"from 203.0.113.7 port 22234 ssh2\n" % (i, 100 + i)
        for i in range(25)
    )
    res = _post(world, "bastion-ssh", token, burst)
    assert res.status_code == 200, res.text
    assert res.json()["events"] == 25
    found = [e for e in world.events() if e.code == "monitoring.finding.created"]
    assert [e.details["finding_info"]["analytic"]["name"] for e in found] == ["failed_login_burst"]
    deep = _post(world, "bastion-ssh", token, "[" * 100_000, **{"Content-Type": "application/json"})
    assert deep.status_code == 400, deep.text


def test_a_source_that_stops_posting_is_reported_by_the_server(world: World) -> None:
    token = _token(world, "pg-prod")
    two_hours_ago = time.time() - 7200
    stamp = datetime.fromtimestamp(two_hours_ago, UTC).strftime("%Y-%m-%d %H:%M:%S.000 UTC")
    line = (
        f'{{"timestamp":"{stamp}","pid":7,"error_severity":"LOG",'
        '"message":"connection authorized: user=alice database=app","remote_host":"10.0.0.5"}'
    )
    assert _post(world, "pg-prod", token, line).json()["events"] == 1
    endpoint = world.app.state.ingest
    assert endpoint.check_gaps(now=two_hours_ago + 60) == []  # within max_gap
    found = endpoint.check_gaps()
    assert [f.rule for f in found] == ["log_source_gap"] and found[0].source == "pg-prod"
    assert endpoint.check_gaps() == []  # one alert per silence
    assert any(e.code == "monitoring.finding.created" for e in world.events())
    assert any("pg-prod" in a.get("text", "") for a in world.alerts())


def test_a_json_body_of_events_or_lines(world: World) -> None:
    token = _token(world, "gh")
    events = [
        {
            "@timestamp": 1764902480000,
            "action": "git.clone",
            "actor": "alice-gh",
            "repo": "org/app",
            "org": "org",
        },
    ]
    res = _post(world, "gh", token, json.dumps(events), **{"Content-Type": "application/json"})
    assert res.status_code == 200, res.text
    assert res.json()["events"] == 1
    bad = _post(world, "gh", token, "{not json", **{"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.json()["code"] == "SW820"
    obj = _post(world, "gh", token, '{"a": 1}', **{"Content-Type": "application/json"})
    assert obj.status_code == 400


def test_a_token_over_its_rate_is_told_to_wait(world: World) -> None:
    endpoint = world.app.state.ingest
    endpoint.clock = lambda: 1000.0  # time stands still: nothing refills
    endpoint.limits.request_burst = 2
    token = _token(world, "bastion-ssh")
    assert _post(world, "bastion-ssh", token, SSH[0]).status_code == 200
    assert _post(world, "bastion-ssh", token, SSH[1]).status_code == 200
    res = _post(world, "bastion-ssh", token, SSH[0])
    assert res.status_code == 429, res.text
    assert res.json()["code"] == "SW883"
    assert int(res.headers["retry-after"]) >= 1
    assert _stored(world) == 2
    # another source's token has its own budget
    other = _token(world, "pg-prod")
    assert _post(world, "pg-prod", other, "").status_code == 200
    # a body with more lines than the line budget spends it for the next request
    endpoint.limits.request_burst = 100
    endpoint.limits.line_burst = 3
    third = _token(world, "gh")
    assert _post(world, "gh", third, "\n".join(["{}"] * 10)).status_code == 200
    assert _post(world, "gh", third, "{}").status_code == 429


def test_operator_cli_shows_the_secret_once_and_stores_only_its_hash(world: World) -> None:
    args = ["--config", str(world.config), "--db", world.state.ctx.store.url]
    res = run_cli("server", "ingest-token", "create", "bastion-ssh", *args, "--format", "json")
    assert res.exit_code == 0, res.stderr
    made = json.loads(res.stdout)
    secret = made["token"]
    assert secret.startswith("swi_") and made["source"] == "bastion-ssh"
    listed = run_cli("server", "ingest-token", "list", *args, "--format", "json")
    assert secret not in listed.stdout and made["id"] in listed.stdout
    with world.state.ctx.store.read() as conn:
        rows = conn.execute(select(monitoring_ingest_tokens)).all()
    assert all(secret not in str(tuple(r)) for r in rows)
    assert _post(world, "bastion-ssh", secret, SSH[0]).status_code == 200
    unknown = run_cli("server", "ingest-token", "create", "nope", *args)
    assert unknown.exit_code == 2 and "not declared" in unknown.stderr
    gone = run_cli("server", "ingest-token", "revoke", made["id"], *args)
    assert gone.exit_code == 0, gone.stderr
    assert _post(world, "bastion-ssh", secret, SSH[1]).status_code == 401
    twice = run_cli("server", "ingest-token", "revoke", made["id"], *args)
    assert twice.exit_code == 2 and "SW884" in twice.stderr
