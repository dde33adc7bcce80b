"""Bad input for every gate command: a clear message and the right exit code."""

from __future__ import annotations

import os
from pathlib import Path

from stagewall.audit import AuditLog, Status
from stagewall.store import open_store
from tests.gates.conftest import World, digest, submit

ART = digest("x")


def _submit(w: World, *over: str, **kw: str) -> tuple[int, str]:
    args = {
        "--repo": str(w.repo),
        "--change": kw.get("change", "0" * 40),
        "--artifact": ART,
        "--to": "staging",
        "--as": "dana",
    }
    for k, v in zip(over[::2], over[1::2], strict=True):
        args[k] = v
    r = w.gate("submit", *[x for kv in args.items() for x in kv])
    return r.exit_code, r.stderr


def test_submit_bad_input(world: World) -> None:
    sha = world.commit("dana@devshop.example")
    code, err = _submit(world, "--change", sha, "--to", "qa")
    assert (
        code == 2
        and "there is no stage 'qa' in the estate file (stages: staging, production)" in err
    )
    code, err = _submit(world, "--change", sha, "--artifact", "md5:abc")
    assert code == 2 and "is not sha256:<64 lower-case hex digits>" in err
    code, err = _submit(world, "--change", sha, "--as", "mallory")
    assert code == 2 and "'mallory' is no longer a declared, enabled principal" in err
    code, err = _submit(world, "--change", sha, "--repo", str(world.root / "nope"))
    assert code == 2 and "not a directory" in err
    r = world.gate("submit", "--change", sha)
    assert r.exit_code == 2 and "Missing option" in r.stderr


def test_no_server_or_no_token(world: World, tmp_path: Path) -> None:
    from tests.cli_helpers import run_cli

    args = ["gate", "report", "--change", "0" * 40, "--stage", "staging", "--check", "tests",
            "--status", "pass"]  # fmt: skip
    r = run_cli(*args, env={"STAGEWALL_SERVER": "", "XDG_CONFIG_HOME": str(tmp_path)})
    assert r.exit_code == 2 and "no stagewall server is configured" in r.stderr
    r = run_cli(
        *args,
        "--oidc-token-env",
        "NOT_SET_ANYWHERE",
        env={"STAGEWALL_SERVER": "http://127.0.0.1:9"},
    )
    assert (
        r.exit_code == 2
        and "--oidc-token-env NOT_SET_ANYWHERE: the variable is not set" in r.stderr
    )
    r = run_cli(*args, "--as", "ci-bot")
    assert r.exit_code == 2 and "No such option '--as'" in r.stderr


def test_report_bad_input(world: World) -> None:
    sha = world.commit("dana@devshop.example")
    base = ["report", "--change", sha, "--stage", "staging", "--check", "tests", "--status", "pass"]
    r = world.gate(*base, "--as", "dana")
    assert r.exit_code == 1 and "'dana' (external) may not call gate.report" in r.stderr
    r = world.gate(
        "report",
        "--change",
        sha,
        "--stage",
        "staging",
        "--check",
        "lint",
        "--status",
        "pass",
        "--as",
        "ci-bot",
    )
    assert (
        r.exit_code == 2 and "stage 'staging' has no check 'lint' (its checks: tests)" in r.stderr
    )
    r = world.gate(
        "report",
        "--change",
        sha[:8],
        "--stage",
        "staging",
        "--check",
        "tests",
        "--status",
        "pass",
        "--as",
        "ci-bot",
    )
    assert r.exit_code == 2 and "is not a full commit SHA" in r.stderr
    r = world.gate(
        "report",
        "--change",
        sha,
        "--stage",
        "staging",
        "--check",
        "tests",
        "--status",
        "ok",
        "--as",
        "ci-bot",
    )
    assert r.exit_code == 2 and "'ok' is not one of 'pass', 'fail'" in r.stderr


def test_approve_bad_input(world: World) -> None:
    r = world.gate("approve", "rnothere", "--as", "alice", "--otp", "123456")
    assert r.exit_code == 2 and "there is no promotion 'rnothere'" in r.stderr
    sha = world.commit("dana@devshop.example")
    pid = submit(world, sha, ART, "staging", "dana")
    r = world.gate("approve", pid, "--as", "alice", "--otp", "123456")
    assert r.exit_code == 2 and "stage 'staging' needs no approval" in r.stderr


def test_check_bad_input(world: World) -> None:
    sha = world.commit("dana@devshop.example")
    r = world.gate("check", "--change", "HEAD", "--artifact", ART, "--to", "staging")
    assert r.exit_code == 2 and "is not a full commit SHA" in r.stderr
    r = world.gate("check", "--change", sha, "--artifact", "sha256:XYZ", "--to", "staging")
    assert r.exit_code == 2 and "is not sha256:" in r.stderr
    r = world.gate("check", "--change", sha, "--artifact", ART, "--to", "qa")
    assert r.exit_code == 2 and "there is no stage 'qa'" in r.stderr
    os.remove(Path(os.environ["STAGEWALL_HOME"]) / "audit_signing.key")
    r = world.gate("check", "--change", sha, "--artifact", ART, "--to", "staging")
    assert r.exit_code == 2 and "stagewall keys init" in r.stderr


def test_refusals_are_audited_without_the_code(world: World) -> None:
    sha = world.commit("alice@example.com")
    pid = submit(world, sha, ART, "staging", "dana")
    code = world.otp("alice")
    world.gate(
        "report",
        "--change",
        sha,
        "--stage",
        "staging",
        "--check",
        "tests",
        "--status",
        "pass",
        "--as",
        "ci-bot",
    )
    world.gate("check", "--change", sha, "--artifact", ART, "--to", "staging")
    p2 = submit(world, sha, ART, "production", "dana")
    r = world.gate("approve", p2, "--as", "alice", "--otp", code)
    assert r.exit_code == 1
    store = open_store(world.db)
    try:
        events = AuditLog(store).events()
    finally:
        store.dispose()
    refused = [
        e for e in events if e.code == "gate.promotion.approved" and e.status is Status.FAILURE
    ]
    assert len(refused) == 1 and "author (alice@example.com)" in refused[0].message
    assert all(code not in e.raw.decode() for e in events)
    codes = {e.code for e in events}
    assert {"gate.promotion.submitted", "gate.check.reported", "gate.deploy.checked"} <= codes
    assert pid in {e.details.get("promotion") for e in events}
