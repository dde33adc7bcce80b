"""Break-glass promotions: internal only, loud, and a follow-up review due in 24 hours."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from stagewall.errors import ConfigError
from stagewall.estate import load_estate
from stagewall.gates import Gate
from stagewall.store import open_store
from tests.cli_helpers import run_cli
from tests.gates.conftest import World, approve, digest, gate_check

ART = digest("hotfix")


def _break_glass(
    w: World, sha: str, who: str, reason: str = "checkout is down"
) -> tuple[int, str, str]:
    r = w.gate(
        "break-glass",
        "--repo",
        str(w.repo),
        "--change",
        sha,
        "--artifact",
        ART,
        "--to",
        "production",
        "--as",
        who,
        "--reason",
        reason,
        "--otp",
        w.otp(who) if who in w.secrets else "000000",
        "--format",
        "json",
    )
    return r.exit_code, r.stdout, r.stderr


def test_break_glass_skips_approval_and_stage_loudly(world: World) -> None:
    sha = world.commit("alice@example.com")
    code, out, err = _break_glass(world, sha, "alice")
    assert code == 0, err
    pid = json.loads(out)["id"]
    alerts = (world.root / "alerts.jsonl").read_text().splitlines()
    assert len(alerts) == 1 and "BREAK-GLASS" in alerts[0] and pid in alerts[0]
    r = gate_check(world, sha, ART, "production", str(world.root / "bg.json"))
    assert r.exit_code == 0, r.stderr
    v = run_cli("gate", "verify", str(world.root / "bg.json"))
    assert v.exit_code == 0 and "BREAK-GLASS: checkout is down" in v.stdout


def test_break_glass_still_blocks_on_a_failed_check(world: World) -> None:
    sha = world.commit("alice@example.com")
    assert _break_glass(world, sha, "alice")[0] == 0
    world.gate(
        "report",
        "--change",
        sha,
        "--stage",
        "production",
        "--check",
        "tests",
        "--status",
        "fail",
        "--as",
        "ci-bot",
    )
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1 and "check 'tests' failed" in r.stderr


def test_externals_cannot_break_glass(world: World) -> None:
    sha = world.commit("dana@devshop.example")
    code, _out, err = _break_glass(world, sha, "dana")
    assert code == 1
    assert "'dana' (external) may not call gate.break_glass" in err
    # Nor can a pipeline (a service principal authenticated by its pipeline token).
    code, _out, err = _break_glass(world, sha, "ci-bot")
    assert code == 1
    assert "'ci-bot' (pipeline) may not call gate.break_glass" in err


def test_a_person_whose_factor_was_just_reset_cannot_break_glass(world: World) -> None:
    """Whoever talked a colleague into resetting alice's factor cannot ship to production
    at once: for 24 hours after the reset alice approves nothing, break-glass included."""
    from stagewall.identity import accounts

    store = open_store(world.db)
    try:
        accounts.record_factor_reset(store, "alice", reset_by="carol", now=datetime.now(UTC))
    finally:
        store.dispose()
    sha = world.commit("alice@example.com")
    code, _out, err = _break_glass(world, sha, "alice")
    assert code == 1, err
    assert "may approve nothing until" in err
    assert (
        not (world.root / "alerts.jsonl").exists()
        or "BREAK-GLASS" not in (world.root / "alerts.jsonl").read_text()
    )


def test_break_glass_needs_a_reason_and_a_valid_code(world: World) -> None:
    sha = world.commit("alice@example.com")
    code, _out, err = _break_glass(world, sha, "alice", reason="   ")
    assert code == 2 and "needs --reason" in err
    r = world.gate(
        "break-glass",
        "--repo",
        str(world.repo),
        "--change",
        sha,
        "--artifact",
        ART,
        "--to",
        "production",
        "--as",
        "alice",
        "--reason",
        "x",
        "--otp",
        "12",
    )
    assert r.exit_code == 2 and "exactly 6 digits" in r.stderr


def test_follow_up_review_by_another_internal_person(world: World) -> None:
    sha = world.commit("alice@example.com")
    pid = json.loads(_break_glass(world, sha, "alice")[1])["id"]
    r = approve(world, pid, "alice")
    assert r.exit_code == 1 and "invoked this break-glass" in r.stderr
    r = approve(world, pid, "dana")
    assert r.exit_code == 1 and "'dana' (external) may not call gate.approve" in r.stderr
    r = approve(world, pid, "bob")
    assert r.exit_code == 0, r.stderr
    assert "follow-up review recorded" in r.stdout


def _overdue_promotion(w: World) -> str:
    sha = w.commit("alice@example.com")
    store = open_store(w.db)
    try:
        gate = Gate(store, load_estate(w.config))
        promo = gate.submit(
            repo=str(w.repo),
            change=sha,
            artifact=ART,
            stage="production",
            submitter="alice",
            break_glass_reason="db on fire",
            otp=w.otp("alice"),
            now=datetime.now(UTC) - timedelta(hours=25),
        )
    finally:
        store.dispose()
    return promo.id


def test_overdue_follow_up_fails_stagewall_check(world: World) -> None:
    pid = _overdue_promotion(world)
    r = world.cli("check", "--format", "json")
    assert r.exit_code == 1, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    rules = [v for v in doc["violations"] if v["rule"] == "SW-GATE-001"]
    assert len(rules) == 1 and pid in rules[0]["message"]
    assert approve(world, pid, "bob").exit_code == 0
    r = world.cli("check", "--format", "json")
    assert not [v for v in json.loads(r.stdout)["violations"] if v["rule"] == "SW-GATE-001"]


def test_follow_up_not_yet_due_is_not_reported(world: World) -> None:
    sha = world.commit("alice@example.com")
    assert _break_glass(world, sha, "alice")[0] == 0
    r = world.cli("check", "--format", "json")
    assert not [v for v in json.loads(r.stdout)["violations"] if v["rule"] == "SW-GATE-001"]


def test_a_configuration_error_does_not_burn_the_break_glass_code(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12: a configuration error must not consume the one-time code."""
    sha = world.commit("alice@example.com")
    code = world.otp("alice")
    store = open_store(world.db)
    try:
        gate = Gate(store, load_estate(world.config))
        args: dict[str, Any] = {
            "repo": str(world.repo),
            "change": sha,
            "artifact": ART,
            "stage": "production",
            "submitter": "alice",
            "break_glass_reason": "db on fire",
            "otp": code,
        }
        monkeypatch.setenv("STAGEWALL_GATES_MAX_COMMITS", "lots")
        with pytest.raises(ConfigError, match="STAGEWALL_GATES_MAX_COMMITS"):
            gate.submit(**args)
        monkeypatch.delenv("STAGEWALL_GATES_MAX_COMMITS")
        promo = gate.submit(**args)  # the same code: it was never used
        assert promo.break_glass
    finally:
        store.dispose()
