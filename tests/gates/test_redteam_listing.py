"""Red team (gatelist): `gate list` decides each promotion as `gate check` does.

`gate check` refuses a promotion whose rows the signed audit log does not back (SW945);
`gate list` (CLI and the server route behind it) read the store's rows as they were.
An insider who can write the store (not the audit key) made a promotion look approved
or deployed in the listing; and an approval withdrawn through stagewall left its
promotion listed as approved. Each test drives the live server.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, update

from stagewall.access._tables import access_outcomes
from stagewall.audit import Status
from stagewall.gates._tables import gate_deployments, gate_promotions
from stagewall.store import open_store
from tests.gates.conftest import World, approve, gate_check
from tests.gates.test_binding import _alerts, _events
from tests.gates.test_promotions import ART, _ready_for_production
from tests.gates.test_redteam_gates import _now, _written
from tests.rows import forge_promotion_approval, insert_approval


def _listed(w: World, who: str = "carol") -> dict[str, dict[str, Any]]:
    r = w.as_person(who, "gate", "list", "--format", "json")
    assert r.exit_code == 0, r.stderr
    return {p["id"]: p for p in json.loads(r.stdout)}


def _approved_in_store(w: World, pid: str) -> None:
    """The outcome row ``record_review`` writes when the threshold is met (no event)."""
    with _written(w) as conn:
        conn.execute(
            insert(access_outcomes).values(
                request_id=pid, outcome="approved", decided_at=_now(), result_ref=pid
            )
        )


def _approval_in_store(w: World, pid: str, who: str) -> None:
    """An approval row by ``who`` (no event) and the outcome row, as an insider."""
    store = open_store(w.db)
    try:
        insert_approval(store, pid, who, created_at=_now(), mfa_time=_now())
    finally:
        store.dispose()
    _approved_in_store(w, pid)


def _unbound_events(w: World, pid: str) -> list[Any]:
    return [
        e for e in _events(w) if e.code == "gate.row.unbound" and e.details.get("promotion") == pid
    ]


def test_a_withdrawn_approval_leaves_the_promotion_listed_withdrawn_not_approved(
    world: World,
) -> None:
    """Finding (reported, reproduced): alice approves, withdraws; `gate list` still said
    approved (the outcome row stays; only the review row is marked withdrawn), while
    `gate check` refuses the deployment."""
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    assert _listed(world)[pid]["state"] == "approved"
    res = world.as_person("alice", "gate", "withdraw", pid, "--otp", world.otp("alice"))
    assert res.exit_code == 0, res.stderr
    row = _listed(world)[pid]
    assert row["state"] == "withdrawn", row
    assert [(a["by"], a["withdrawn"]) for a in row["approvals"]] == [("alice", True)]
    assert row["problems"] == []
    text = world.as_person("carol", "gate", "list")
    assert text.exit_code == 0 and "alice (withdrawn)" in text.stdout, text.stdout
    pending = world.as_person("carol", "gate", "pending", "--format", "json")
    assert pid not in {p["id"] for p in json.loads(pending.stdout)}
    assert "approval by alice was withdrawn" in gate_check(world, sha, ART, "production").stderr
    # a withdrawal is not tampering: nothing is alerted
    assert not _unbound_events(world, pid)


def test_an_approval_row_written_into_the_store_is_listed_unverified_and_alerted(
    world: World,
) -> None:
    """Insider: an approval row by bob (no event) and the outcome row. `gate list` said
    approved with bob as approver; `gate check` refuses it (SW945)."""
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    _approval_in_store(world, pid, "bob")
    row = _listed(world)[pid]
    assert row["state"] == "unverified", row
    assert row["approvals"] == []
    assert any(p.startswith("approval by bob:") for p in row["problems"]), row["problems"]
    found = _unbound_events(world, pid)
    assert len(found) == 1 and found[0].details["found_by"] == "gate list"
    assert found[0].status is Status.FAILURE
    assert any(
        a.get("kind") == "gate.row.unbound" and a["details"]["promotion"] == pid
        for a in _alerts(world)
    )
    # listed again (by anyone, in a loop): reported once per window
    for who in ("carol", "alice", "bob"):
        assert _listed(world, who)[pid]["state"] == "unverified"
    assert len(_unbound_events(world, pid)) == 1
    text = world.as_person("carol", "gate", "list")
    assert "unverified" in text.stdout and "NOT VERIFIED: approval by bob" in text.stdout
    # the same decision as gate check's
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1 and "SW945" in r.stderr


def test_an_approval_bound_to_an_unsealed_event_is_listed_unverified(
    world: World, tmp_path_factory: Any
) -> None:
    """Insider: a successful approval event appended with the library (no key), an
    approval row bound to it, the outcome row: every binding holds but the seal."""
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    store = open_store(world.db)
    try:
        forge_promotion_approval(
            store, tmp_path_factory.mktemp("insider"), pid, "bob",
            {"sha": sha, "digest": ART, "stage": "production"}, _now(), outcome=True,
        )  # fmt: skip
    finally:
        store.dispose()
    row = _listed(world)[pid]
    assert row["state"] == "unverified", row
    assert any("not sealed by this server" in p for p in row["problems"]), row["problems"]
    assert row["approvals"] == []


def test_an_outcome_row_alone_is_listed_unverified(world: World) -> None:
    """Insider: only the outcome row (``approved``), no approval at all."""
    _sha, pid = _ready_for_production(world, "dana@devshop.example")
    _approved_in_store(world, pid)
    row = _listed(world)[pid]
    assert row["state"] == "unverified", row
    assert "no approval bound to its sealed audit event" in row["problems"][0]
    assert len(_unbound_events(world, pid)) == 1


def test_a_deployment_row_written_into_the_store_is_not_listed_deployed(world: World) -> None:
    """Insider: an approved promotion gets a deployment row no gate check wrote."""
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    with _written(world) as conn:
        conn.execute(
            insert(gate_deployments).values(
                stage="production", sha=sha, digest=ART, request_id=pid,
                deployer="deploy-bot", created_at=_now(),
            )
        )  # fmt: skip
    row = _listed(world)[pid]
    assert row["state"] == "unverified", row
    assert any(p.startswith("deployment row") for p in row["problems"]), row["problems"]


def test_a_promotion_row_edited_in_the_store_is_listed_unverified(world: World) -> None:
    """Insider: the approved promotion's commit is changed in the store."""
    _sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    other = world.commit("dana@devshop.example")
    with _written(world) as conn:
        conn.execute(
            update(gate_promotions).where(gate_promotions.c.request_id == pid).values(sha=other)
        )
    row = _listed(world)[pid]
    assert row["state"] == "unverified", row
    assert any("sha differs from audit event" in p for p in row["problems"]), row["problems"]


def test_a_sound_deployed_promotion_stays_listed_deployed(world: World) -> None:
    """What held: an approved, deployed promotion is listed deployed, alerting nothing."""
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    assert gate_check(world, sha, ART, "production").exit_code == 0
    row = _listed(world)[pid]
    assert row["state"] == "deployed" and not row.get("problems")
    assert [a["by"] for a in row["approvals"]] == ["alice"]
    assert not _unbound_events(world, pid)


def test_a_break_glass_follow_up_written_into_the_store_stays_overdue(world: World) -> None:
    """Insider: an overdue break-glass promotion gets a follow-up review row by bob and
    the outcome row, no event: `stagewall check` (SW-GATE-001) read the outcome row and
    stopped reporting the missing follow-up."""
    from tests.gates.test_break_glass import _overdue_promotion

    pid = _overdue_promotion(world)
    _approval_in_store(world, pid, "bob")
    r = world.cli("check", "--format", "json")
    rules = [v for v in json.loads(r.stdout)["violations"] if v["rule"] == "SW-GATE-001"]
    assert len(rules) == 1 and pid in rules[0]["message"], r.stdout
    assert _listed(world)[pid]["state"] == "unverified"
