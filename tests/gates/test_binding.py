"""Promotion state is bound to the log, and a submission's history is verified.

Reproductions from issue 10: a row inserted straight into the approvals table (or a
promotion row edited in the store) is refused by ``gate check``, alerted and recorded.
A client that sends a doctored or incomplete commit history is refused.
"""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
from typing import Any

import httpx
from sqlalchemy import update

from stagewall.access._tables import access_reviews
from stagewall.audit import AuditLog
from stagewall.gates._tables import gate_promotions
from stagewall.store import open_store
from tests.gates.conftest import World, approve, gate_check
from tests.gates.test_promotions import ART, _ready_for_production
from tests.rows import insert_approval


def _events(w: World) -> list[Any]:
    store = open_store(w.db)
    try:
        return AuditLog(store).events()
    finally:
        store.dispose()


def _alerts(w: World) -> list[dict[str, Any]]:
    path = w.root / "alerts.jsonl"
    return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []


def test_an_approval_inserted_into_the_approvals_table_is_refused(world: World) -> None:
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    store = open_store(world.db)
    try:
        insert_approval(store, pid, "alice")
    finally:
        store.dispose()
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1, r.stderr
    assert "approval by alice: the approval row names no audit event" in r.stderr
    found = [e for e in _events(world) if e.code == "gate.row.unbound"]
    assert len(found) == 1 and found[0].details["promotion"] == pid
    assert any(a.get("kind") == "gate.row.unbound" for a in _alerts(world))


def test_a_genuine_approval_passes_and_an_edited_one_does_not(world: World) -> None:
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    store = open_store(world.db)
    try:
        with store.read() as conn:
            row = conn.execute(
                access_reviews.select().where(access_reviews.c.request_id == pid)
            ).one()
        # Re-pointed at another event (the promotion's submission): refused.
        with store.read() as conn:
            sub = conn.execute(
                gate_promotions.select().where(gate_promotions.c.request_id == pid)
            ).one()
        with store.transaction() as conn:
            conn.execute(
                update(access_reviews)
                .where(access_reviews.c.id == row.id)
                .values(audit_index=sub.audit_index, audit_leaf=sub.audit_leaf)
            )
        r = gate_check(world, sha, ART, "production")
        assert r.exit_code == 1
        assert "is a gate.promotion.submitted event, not the approval's" in r.stderr
        with store.transaction() as conn:
            conn.execute(
                update(access_reviews)
                .where(access_reviews.c.id == row.id)
                .values(audit_index=row.audit_index, audit_leaf=row.audit_leaf)
            )
    finally:
        store.dispose()
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 0, r.stderr


def test_a_promotion_row_edited_in_the_store_is_refused(world: World) -> None:
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    store = open_store(world.db)
    try:
        with store.transaction() as conn:
            conn.execute(
                update(gate_promotions)
                .where(gate_promotions.c.request_id == pid)
                .values(break_glass=True)
            )
    finally:
        store.dispose()
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1
    assert "break-glass flag differs from audit event" in r.stderr


# ---- the history a client sends ------------------------------------------------------


def _raw(w: World, sha: str) -> bytes:
    return subprocess.run(
        ["git", "-C", str(w.repo), "cat-file", "commit", sha], capture_output=True, check=True
    ).stdout


def _post(w: World, who: str, commits: dict[str, bytes], change: str) -> httpx.Response:
    """Submit exactly ``commits`` (with the trees that show what they change, as the CLI
    sends them; none for objects that do not even parse)."""
    from stagewall.errors import StagewallError
    from stagewall.gates._git import Repo
    from stagewall.gates._trees import Recorder

    recorder = Recorder(Repo(w.repo), commits)
    with contextlib.suppress(StagewallError):  # a doctored or garbage object: no trees
        recorder.changes(list(commits))
    body = {
        "stage": "staging",
        "change": change,
        "artifact": ART,
        **recorder.payload(),
        "commits": {k: base64.b64encode(v).decode() for k, v in commits.items()},
    }
    return httpx.post(
        w.server() + "/api/v1/promotions",
        json=body,
        headers={"Authorization": f"Bearer {w.token(who)}"},
        timeout=30,
    )


def test_a_commit_left_out_of_the_history_is_refused(world: World) -> None:
    first = world.commit("mallory@nowhere.example", message="the external's change")
    second = world.commit("alice@example.com", message="on top")
    res = _post(world, "dana", {second: _raw(world, second)}, second)
    assert res.status_code == 403, res.text
    assert res.json()["code"] == "SW852"
    assert f"commit {first} (a parent of {second[:12]}) was not sent" in res.json()["detail"]
    res = _post(world, "dana", {first: _raw(world, first), second: _raw(world, second)}, second)
    assert res.status_code == 200, res.text
    authors = {a["principal"] or a["identities"][0] for a in res.json()["authors"]}
    assert "alice" in authors and any("mallory@nowhere.example" in a for a in authors)


def test_a_doctored_commit_object_is_refused(world: World) -> None:
    sha = world.commit("mallory@nowhere.example")
    raw = _raw(world, sha).replace(b"mallory@nowhere.example", b"alice@example.com")
    res = _post(world, "dana", {sha: raw}, sha)
    assert res.status_code == 403, res.text
    assert "does not hash to that id" in res.json()["detail"]
    res = _post(world, "dana", {sha: b"%%%"}, sha)  # base64 of garbage is still checked
    assert res.status_code == 403
