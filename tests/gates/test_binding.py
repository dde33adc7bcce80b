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
from tests.gates.conftest import World, approve, gate_check, report, submit
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


def _edit_request(w: World, pid: str, change: Any) -> None:
    """Edit the promotion's request row (access_requests) straight in the store."""
    from stagewall.access._tables import access_requests

    store = open_store(w.db)
    try:
        with store.transaction() as conn:
            row = conn.execute(access_requests.select().where(access_requests.c.id == pid)).one()
            values = change(dict(row._mapping))
            conn.execute(
                update(access_requests).where(access_requests.c.id == pid).values(**values)
            )
    finally:
        store.dispose()


def test_authors_removed_from_the_stored_request_are_refused(world: World) -> None:
    """Attack (redteamgate): the authors a promotion is judged by live in the request row's
    details, which no audit event was compared with. Rewriting alice's commits as dana's
    in the store let alice approve her own change and gate check allow it."""
    sha, pid = _ready_for_production(world, "alice@example.com")

    def as_dana(row: dict[str, Any]) -> dict[str, Any]:
        details = json.loads(row["details"])
        for c in details["contributions"]:
            c["email"] = c["email"].replace("alice@example.com", "dana@devshop.example")
        return {"details": json.dumps(details)}

    _edit_request(world, pid, as_dana)
    approve(world, pid, "alice")  # judged by the edited row; what matters is the check
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1, r.stdout
    assert "the promotion's stored request (its submitter, authors or details) differs" in r.stderr
    found = [e for e in _events(world) if e.code == "gate.row.unbound"]
    assert found and found[-1].details["promotion"] == pid


def test_a_submitter_changed_in_the_stored_request_is_refused(world: World) -> None:
    """The submitter an approver is compared with is the request's requester."""
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    _edit_request(world, pid, lambda row: {"requester": "carol"})
    assert approve(world, pid, "alice").exit_code == 0
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1, r.stdout
    assert "the promotion's stored request (its submitter, authors or details) differs" in r.stderr


def test_a_stored_request_claiming_verified_signatures_is_refused(world: World) -> None:
    sha, pid = _ready_for_production(world, "dana@devshop.example")

    def signed(row: dict[str, Any]) -> dict[str, Any]:
        details = json.loads(row["details"])
        details["signed_verified"] = True
        return {"details": json.dumps(details)}

    _edit_request(world, pid, signed)
    assert approve(world, pid, "alice").exit_code == 0
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1, r.stdout
    assert "the promotion's stored request (its submitter, authors or details) differs" in r.stderr


def _insert(w: World, table: Any, **values: Any) -> None:
    from datetime import UTC, datetime

    store = open_store(w.db)
    try:
        with store.transaction() as conn:
            conn.execute(table.insert().values(created_at=datetime.now(UTC).isoformat(), **values))
    finally:
        store.dispose()


def test_a_passing_report_inserted_into_the_checks_table_is_refused(world: World) -> None:
    """Attack (redteamgate): check reports were not bound to their events; a ``pass``
    row inserted after a reported failure made a failing change deployable."""
    from stagewall.gates._tables import gate_checks

    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    report(world, sha, "production", status="fail")
    _insert(
        world, gate_checks, sha=sha, stage="production", name="tests", status="pass",
        reporter="ci-bot",
    )  # fmt: skip
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1, r.stdout
    assert "report of check 'tests'" in r.stderr
    assert "the check report row names no audit event" in r.stderr
    found = [e for e in _events(world) if e.code == "gate.row.unbound"]
    assert found and found[-1].details["promotion"] == pid
    assert any(a.get("kind") == "gate.row.unbound" for a in _alerts(world))
    # A genuine report made after it counts again.
    report(world, sha, "production")
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 0, r.stderr


def test_a_deployment_inserted_into_the_store_skips_no_stage(world: World) -> None:
    """Attack (redteamgate): a deployments row written straight into the store counted as
    the change having reached the previous stage."""
    from stagewall.gates._tables import gate_deployments

    sha = world.commit("dana@devshop.example")
    pid = submit(world, sha, ART, "staging", "dana")
    _insert(
        world, gate_deployments, stage="staging", sha=sha, digest=ART, request_id=pid,
        deployer="ci-bot",
    )  # fmt: skip
    r = world.gate(
        "submit", "--repo", str(world.repo), "--change", sha, "--artifact", ART,
        "--to", "production", "--as", "dana",
    )  # fmt: skip
    assert r.exit_code == 1, r.stdout
    assert "skipping a stage is refused" in r.stderr


def test_a_deployment_inserted_into_the_store_hides_no_author(world: World) -> None:
    """Attack (redteamgate): the last deployment to a stage ends the range of commits the
    next submission is judged by; a row inserted for alice's commit hid her as an
    author of the change built on it, and she approved it."""
    from stagewall.gates._tables import gate_deployments

    mine = world.commit("alice@example.com")
    sha = world.commit("dana@devshop.example")
    staged = submit(world, sha, ART, "staging", "dana")
    report(world, sha, "staging")
    assert gate_check(world, sha, ART, "staging").exit_code == 0
    _insert(
        world, gate_deployments, stage="production", sha=mine, digest=ART, request_id=staged,
        deployer="deploy-bot",
    )  # fmt: skip
    pid = submit(world, sha, ART, "production", "dana")
    r = approve(world, pid, "alice")
    assert r.exit_code == 1, r.stdout
    assert "author (alice@example.com)" in r.stderr


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
