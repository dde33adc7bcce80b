"""Who may approve, and what a gate check refuses: against real git repositories."""

from __future__ import annotations

from tests.cli_helpers import run_cli
from tests.gates.conftest import World, approve, digest, gate_check, report, submit, to_staging

ART = digest("app-1.0.tar.gz")


def _ready_for_production(
    w: World, author: str, committer: str | None = None, message: str = "change"
) -> tuple[str, str]:
    sha = w.commit(author, committer, message=message)
    to_staging(w, sha, ART)
    pid = submit(w, sha, ART, "production", "dana")
    report(w, sha, "production")
    return sha, pid


def approved_then_expired(w: World) -> tuple[str, str]:
    """dana's change approved by alice under ``approval_valid_for: 2s``, 2.2 s ago."""
    import time

    text = w.config.read_text().replace(
        "    deployers: [deploy-bot]", "    deployers: [deploy-bot]\n    approval_valid_for: 2s"
    )
    w.config.write_text(text)
    sha, pid = _ready_for_production(w, "dana@devshop.example")
    assert approve(w, pid, "alice").exit_code == 0
    time.sleep(2.2)
    return sha, pid


def test_external_change_with_internal_approval_is_allowed(world: World) -> None:
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    r = approve(world, pid, "alice")
    assert r.exit_code == 0, r.stderr
    assert "state: approved" in r.stdout
    r = gate_check(world, sha, ART, "production", str(world.root / "att.json"))
    assert r.exit_code == 0, r.stderr
    assert "approved by alice" in r.stdout


def test_author_cannot_approve(world: World) -> None:
    _sha, pid = _ready_for_production(world, "alice@example.com")
    r = approve(world, pid, "alice")
    assert r.exit_code == 1
    assert (
        "author (alice@example.com) and committer (alice@example.com) of commits in this change"
        in r.stderr
    )


def test_author_under_a_sub_address_cannot_approve(world: World) -> None:
    """Attack (redteamgate): a +tag alias of alice's address let alice approve her change."""
    _sha, pid = _ready_for_production(world, "alice+ci@example.com")
    r = approve(world, pid, "alice")
    assert r.exit_code == 1, r.stdout
    assert "author (alice+ci@example.com (lookalike))" in r.stderr
    assert approve(world, pid, "bob").exit_code == 0


def test_committer_cannot_approve(world: World) -> None:
    _sha, pid = _ready_for_production(world, "dana@devshop.example", committer="bob@example.com")
    r = approve(world, pid, "bob")
    assert r.exit_code == 1
    assert "committer (bob@example.com) of commits in this change" in r.stderr
    assert approve(world, pid, "alice").exit_code == 0


def test_co_author_cannot_approve(world: World) -> None:
    msg = "pair work\n\nCo-authored-by: Carol <carol@example.com>\n"
    _sha, pid = _ready_for_production(world, "dana@devshop.example", message=msg)
    r = approve(world, pid, "carol")
    assert r.exit_code == 1
    assert "co-author (carol@example.com) of commits" in r.stderr


def test_second_identity_of_same_principal_cannot_approve(world: World) -> None:
    _sha, pid = _ready_for_production(world, "alice@home.example")
    r = approve(world, pid, "alice")
    assert r.exit_code == 1
    assert "alice@home.example" in r.stderr and "cannot approve their own change" in r.stderr


def test_author_of_an_earlier_commit_in_the_range_cannot_approve(world: World) -> None:
    world.commit("bob@example.com")
    _sha, pid = _ready_for_production(world, "dana@devshop.example")
    r = approve(world, pid, "bob")
    assert r.exit_code == 1
    assert "author (bob@example.com) and committer (bob@example.com) of commits" in r.stderr


def test_external_cannot_approve(world: World) -> None:
    _sha, pid = _ready_for_production(world, "carol@example.com")
    r = approve(world, pid, "dana")
    assert r.exit_code == 1
    assert "'dana' (external) may not call gate.approve" in r.stderr


def test_unknown_principal_cannot_approve(world: World) -> None:
    _sha, pid = _ready_for_production(world, "carol@example.com")
    # mallory is declared nowhere, so the server never gave her a login.
    r = world.as_person("mallory", "gate", "approve", pid, "--otp", "123456")
    assert r.exit_code == 2
    assert "no longer a declared, enabled principal" in r.stderr


def test_unmapped_identity_counts_as_external(world: World) -> None:
    sha, pid = _ready_for_production(world, "mallory@nowhere.example")
    r = world.gate("list", "--format", "json")
    assert '"mallory@nowhere.example"' in r.stdout and '"external"' in r.stdout
    assert approve(world, pid, "alice").exit_code == 0
    r = gate_check(world, sha, ART, "production", str(world.root / "a.json"))
    assert r.exit_code == 0
    v = world.gate("verify", str(world.root / "a.json"), "--commit", sha)
    assert v.exit_code == 0, v.stderr
    assert "mallory@nowhere.example [external]" in v.stdout


def test_submitter_cannot_approve(world: World) -> None:
    sha = world.commit("dana@devshop.example")
    to_staging(world, sha, ART)
    pid = submit(world, sha, ART, "production", "bob")
    r = approve(world, pid, "bob")
    assert r.exit_code == 1
    assert "submitted this promotion" in r.stderr


def test_service_principal_cannot_approve(world: World) -> None:
    _sha, pid = _ready_for_production(world, "dana@devshop.example")
    r = world.as_person("ci-bot", "gate", "approve", pid, "--otp", "123456")
    assert r.exit_code == 1
    assert "'ci-bot' (pipeline) may not call gate.approve" in r.stderr


def test_wrong_otp_is_refused_and_nothing_recorded(world: World) -> None:
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    r = world.as_person("alice", "gate", "approve", pid, "--otp", "000000")
    assert r.exit_code == 1
    assert "wrong or expired" in r.stderr
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1
    assert "needs 1 approval(s) from sre" in r.stderr


def test_approval_before_a_new_push_does_not_cover_the_new_sha(world: World) -> None:
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    new_sha = world.commit("dana@devshop.example", message="sneaky follow-up")
    report(world, new_sha, "production")
    r = gate_check(world, new_sha, ART, "production")
    assert r.exit_code == 1
    assert f"covers commit {sha[:12]}, not {new_sha[:12]}" in r.stderr
    r = gate_check(world, new_sha, digest("app-1.0.1.tar.gz"), "production")
    assert r.exit_code == 1
    assert "no promotion of" in r.stderr and "push after approval" in r.stderr


def test_artifact_mismatch_is_refused(world: World) -> None:
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    r = gate_check(world, sha, digest("something else"), "production")
    assert r.exit_code == 1
    assert "artifact mismatch" in r.stderr


def test_skipping_a_stage_is_refused(world: World) -> None:
    sha = world.commit("dana@devshop.example")
    r = world.gate(
        "submit",
        "--repo",
        str(world.repo),
        "--change",
        sha,
        "--artifact",
        ART,
        "--to",
        "production",
        "--as",
        "dana",
    )
    assert r.exit_code == 1
    assert "skipping a stage is refused" in r.stderr


def test_previous_stage_with_another_artifact_is_refused(world: World) -> None:
    sha = world.commit("dana@devshop.example")
    to_staging(world, sha, ART)
    other = digest("rebuilt")
    r = world.gate(
        "submit",
        "--repo",
        str(world.repo),
        "--change",
        sha,
        "--artifact",
        other,
        "--to",
        "production",
        "--as",
        "dana",
    )
    assert r.exit_code == 1
    assert "artifact mismatch" in r.stderr


def test_failed_check_after_approval_blocks(world: World) -> None:
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    report(world, sha, "production", "fail")
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1
    assert "check 'tests' failed (reported by ci-bot" in r.stderr


def test_missing_check_blocks(world: World) -> None:
    sha = world.commit("dana@devshop.example")
    submit(world, sha, ART, "staging", "dana")
    r = gate_check(world, sha, ART, "staging")
    assert r.exit_code == 1
    assert "check 'tests' has not reported" in r.stderr


def test_approval_that_no_longer_counts_after_estate_change(world: World) -> None:
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    text = world.config.read_text().replace("members: [alice, bob, carol]", "members: [bob, carol]")
    world.config.write_text(text)
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1
    assert "approval by alice no longer counts: not in approver group(s) sre" in r.stderr


def test_deployer_must_be_declared(world: World) -> None:
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    r = world.gate(
        "check", "--change", sha, "--artifact", ART, "--to", "production", "--as", "ci-bot"
    )
    assert r.exit_code == 1
    assert "'ci-bot' may not deploy to production (deployers: deploy-bot)" in r.stderr
    # People do not deploy: gate check is a pipeline's call.
    r = world.gate(
        "check", "--change", sha, "--artifact", ART, "--to", "production", "--as", "alice"
    )
    assert r.exit_code == 1
    assert "'alice' (internal) may not call gate.check" in r.stderr
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 0, r.stderr


def test_second_approval_of_same_person_is_refused(world: World) -> None:
    text = world.config.read_text().replace("one-sre: {approvals: 1", "one-sre: {approvals: 2")
    world.config.write_text(text)
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    r = approve(world, pid, "alice")
    assert r.exit_code == 1
    assert "already reviewed" in r.stderr
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1 and "needs 2 approval(s)" in r.stderr
    assert approve(world, pid, "bob").exit_code == 0
    assert gate_check(world, sha, ART, "production").exit_code == 0


def test_wait_time_is_honoured(world: World) -> None:
    text = world.config.read_text().replace(
        "    deployers: [deploy-bot]", "    deployers: [deploy-bot]\n    wait: 2h"
    )
    world.config.write_text(text)
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1
    assert "wait time: deployable from" in r.stderr


def test_resubmission_by_same_submitter_is_idempotent(world: World) -> None:
    sha = world.commit("dana@devshop.example")
    assert submit(world, sha, ART, "staging", "dana") == submit(world, sha, ART, "staging", "dana")


def test_list_shows_state(world: World) -> None:
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    r = world.gate("list")
    assert r.exit_code == 0
    assert pid in r.stdout and "pending" in r.stdout
    approve(world, pid, "alice")
    gate_check(world, sha, ART, "production")
    r = world.gate("list", "--format", "json")
    assert '"state": "deployed"' in r.stdout


def test_resubmission_after_approval_opens_a_new_promotion_and_old_one_still_deploys(
    world: World,
) -> None:
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    again = submit(world, sha, ART, "production", "dana")
    assert again != pid
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 0, r.stderr


def test_approve_json_output(world: World) -> None:
    import json

    sha, pid = _ready_for_production(world, "dana@devshop.example")
    r = world.gate("approve", pid, "--as", "bob", "--otp", world.otp("bob"), "--format", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["state"] == "approved" and doc["sha"] == sha and doc["approver"] == "bob"


def test_out_into_a_missing_directory_or_unwritable_path(world: World) -> None:
    """Issue 12: a missing --out directory is refused before anything is asked or recorded.

    The server signs and records the deployment, then the client writes the file: a
    failed write is reported (the attestation can be fetched again by checking again).
    """
    sha, pid = _ready_for_production(world, "carol@example.com")
    assert approve(world, pid, "alice").exit_code == 0
    r = gate_check(world, sha, ART, "production", str(world.root / "missing" / "a.json"))
    assert r.exit_code == 2 and "Traceback" not in r.stderr
    assert f"the directory {world.root / 'missing'} does not exist" in r.stderr
    tail = run_cli("audit", "tail", "-n", "50", "--db", world.db, "--format", "json")
    assert "to production allowed" not in tail.stdout
    r = gate_check(world, sha, ART, "production", "/dev/full")  # the write fails (ENOSPC)
    assert r.exit_code == 2 and "cannot write the attestation" in r.stderr
    assert "the deployment was allowed and recorded" in r.stderr
    r = gate_check(world, sha, ART, "production", str(world.root / "a.json"))
    assert r.exit_code == 0, r.stderr
    assert (world.root / "a.json").is_file()
    tail = run_cli("audit", "tail", "-n", "50", "--db", world.db, "--format", "json")
    assert "to production allowed" in tail.stdout


def test_an_external_lists_only_their_own_promotions(world: World) -> None:
    """As with requests and grants: an external sees what they submitted, not what others
    ship (commit authors' addresses, approvers, digests); internal people see everything."""
    import json

    mine = submit(world, world.commit("dana@devshop.example"), digest("d"), "staging", "dana")
    theirs = submit(world, world.commit("alice@example.com"), digest("a"), "staging", "alice")
    for who, wanted in (("dana", {mine}), ("alice", {mine, theirs}), ("bob", {mine, theirs})):
        for cmd in ("list", "pending"):
            got = world.gate(cmd, "--as", who, "--format", "json")
            assert got.exit_code == 0, got.stderr
            assert {p["id"] for p in json.loads(got.stdout)} == wanted, (who, cmd)


def test_an_approval_counts_only_for_the_stages_validity(world: World) -> None:
    # an approved promotion never deployed used to count forever: a change approved
    # months ago (under other circumstances) still deployed
    sha, pid = approved_then_expired(world)
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1
    assert "approval by alice expired at" in r.stderr and "submit the change again" in r.stderr
    fresh = submit(world, sha, ART, "production", "dana")
    assert fresh != pid
    assert approve(world, fresh, "bob").exit_code == 0
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 0, r.stderr


def test_a_vendors_pending_promotion_ends_with_its_offboarding(world: World) -> None:
    # offboarding ends what a vendor's people hold; their pending promotion was still
    # approved and deployed afterwards (the change shipped on the word of someone gone)
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    r = world.as_person("bob", "vendor", "offboard", "devshop", "--otp", world.otp("bob"))
    assert r.exit_code == 0, r.stderr
    r = approve(world, pid, "alice")
    assert r.exit_code == 1
    assert "vendor 'devshop' has been offboarded" in r.stderr
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1 and "vendor 'devshop' has been offboarded" in r.stderr
    # an internal person may vouch for the change by submitting it again
    again = submit(world, sha, ART, "production", "carol")
    assert approve(world, again, "alice").exit_code == 0
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 0, r.stderr


def test_a_promotion_already_approved_does_not_deploy_after_the_contract_ends(
    world: World,
) -> None:
    sha, pid = _ready_for_production(world, "dana@devshop.example")
    assert approve(world, pid, "alice").exit_code == 0
    world.config.write_text(
        world.config.read_text().replace("contract_end: 2030-12-31", "contract_end: 2026-01-02")
    )
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1
    assert "the contract with vendor 'devshop' runs 2026-01-01 to 2026-01-02" in r.stderr
