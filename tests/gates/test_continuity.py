"""Gate continuity: rule hashes in the audit log, weakening detected and listed."""

from __future__ import annotations

from stagewall.audit import AuditLog
from stagewall.estate import parse_estate
from stagewall.gates.continuity import rules_document, rules_hash, weakenings
from stagewall.store import open_store
from tests.gates.conftest import ESTATE, World

STRONG = (
    ESTATE.replace(
        "require_signed_commits: false  # explicit opt-out: these tests use unsigned commits",
        "require_signed_commits: true",
    )
    .replace("    deployers: [deploy-bot]", "    deployers: [deploy-bot]\n    wait: 1h")
    .replace("checks: [tests]\n    approval", "checks: [tests, sast]\n    approval")
)


def _doc(text: str) -> dict[str, object]:
    from pathlib import Path

    return rules_document(parse_estate(text, Path("stagewall.yaml")).estate)


def test_hash_is_stable_and_sensitive() -> None:
    assert rules_hash(_doc(STRONG)) == rules_hash(_doc(STRONG))
    assert rules_hash(_doc(STRONG)) != rules_hash(_doc(ESTATE))
    unrelated = STRONG.replace("organisation: Gate Test Ltd", "organisation: Renamed")
    assert rules_hash(_doc(STRONG)) == rules_hash(_doc(unrelated))


def test_no_weakening_when_strengthened() -> None:
    assert weakenings(_doc(ESTATE), _doc(STRONG)) == []


def test_every_kind_of_weakening_is_listed() -> None:
    weak = (
        STRONG.replace("one-sre: {approvals: 1, from_groups: [sre]}", "one-sre: {approvals: 1}")
        .replace("checks: [tests, sast]", "checks: [tests]")
        .replace("    wait: 1h\n", "")
        .replace("require_signed_commits: true", "require_signed_commits: false")
        .replace("deployers: [deploy-bot]", "deployers: [deploy-bot, ci-bot]")
    )
    found = weakenings(_doc(STRONG), _doc(weak))
    assert found == [
        "stage production: required check 'sast' removed",
        "stage production: approvers no longer restricted to groups",
        "stage production: wait time lowered from 1h to none",
        "stage production: signed commits no longer required",
        "stage production: deployer 'ci-bot' added",
    ]


def test_fewer_approvals_wider_group_and_removed_stage() -> None:
    two = ESTATE.replace("approvals: 1,", "approvals: 2,")
    fewer = weakenings(_doc(two), _doc(ESTATE))
    assert fewer == ["stage production: approvals required lowered from 2 to 1"]
    wider = ESTATE.replace("members: [alice, bob, carol]", "members: [alice, bob, carol, dana]")
    assert weakenings(_doc(ESTATE), _doc(wider)) == [
        "stage production: approver pool widened by dana"
    ]
    no_staging = ESTATE.replace(
        "  - name: staging\n    environment: staging\n    checks: [tests]\n", ""
    )
    assert weakenings(_doc(ESTATE), _doc(no_staging)) == ["stage staging: removed"]


def _events(w: World, code: str) -> list[dict[str, object]]:
    store = open_store(w.db)
    try:
        return [
            dict(e.details) | {"_msg": e.message}
            for e in AuditLog(store).events()
            if e.code == code
        ]
    finally:
        store.dispose()


def test_rules_are_recorded_on_gate_commands_and_weakening_warned(world: World) -> None:
    assert world.gate("list").exit_code == 0
    assert world.gate("list").exit_code == 0
    changed = _events(world, "gate.rules.changed")
    assert len(changed) == 1 and changed[0]["previous_hash"] is None
    world.config.write_text(ESTATE.replace("    checks: [tests]\n    approval", "    approval"))
    assert world.gate("list").exit_code == 0
    changed = _events(world, "gate.rules.changed")
    assert len(changed) == 2 and changed[1]["previous_hash"] == changed[0]["rules_hash"]
    weak = _events(world, "gate.rules.weakened")
    assert len(weak) == 1
    assert weak[0]["severity"] == "warning"
    assert weak[0]["weakened"] == ["stage production: required check 'tests' removed"]


def test_approvals_counting_longer_is_a_weakening() -> None:
    longer = ESTATE.replace(
        "    deployers: [deploy-bot]", "    deployers: [deploy-bot]\n    approval_valid_for: 90d"
    )
    assert weakenings(_doc(ESTATE), _doc(longer)) == [
        "stage production: approvals count longer, 30d → 90d"
    ]
    assert weakenings(_doc(longer), _doc(ESTATE)) == []
    # a rules document recorded before the field existed is no weakening either way
    old = _doc(ESTATE)
    for s in old["stages"]:  # type: ignore[attr-defined]
        del s["approval_valid_seconds"]
    assert weakenings(old, _doc(longer)) == []
