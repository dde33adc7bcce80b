"""A stage's checks are reported only by the service principals it names.

Before ``check_reporters``, any internal service principal could report any stage's
checks: a pipeline bound to one repository (or a monitoring bot) could vouch that
another change's production tests passed.
"""

from __future__ import annotations

from tests.cli_helpers import Result
from tests.gates.conftest import World, approve, gate_check
from tests.gates.test_promotions import ART, _ready_for_production

PRODUCTION = "    deployers: [deploy-bot]\n"


def _reporters(w: World, names: str) -> None:
    text = w.config.read_text()
    lines = [x for x in text.splitlines(keepends=True) if "check_reporters" not in x]
    text = "".join(lines).replace(PRODUCTION, PRODUCTION + f"    check_reporters: [{names}]\n")
    w.config.write_text(text)


def _report_as(w: World, sha: str, who: str) -> Result:
    return w.gate(
        "report", "--change", sha, "--stage", "production", "--check", "tests",
        "--status", "pass", "--as", who,
    )  # fmt: skip


def test_only_named_reporters_report_and_a_report_counts_only_while_named(
    world: World,
) -> None:
    _reporters(world, "ci-bot")
    sha, pid = _ready_for_production(world, "dana@devshop.example")  # ci-bot reports
    assert approve(world, pid, "alice").exit_code == 0
    other = _report_as(world, sha, "deploy-bot")
    assert other.exit_code == 1, other.stdout
    assert "its check_reporters are ci-bot" in other.stderr
    assert "Traceback" not in other.stderr
    assert gate_check(world, sha, ART, "production").exit_code == 0
    # ci-bot is no longer named: its earlier "pass" stops counting at the next check
    _reporters(world, "deploy-bot")
    r = gate_check(world, sha, ART, "production")
    assert r.exit_code == 1, r.stdout
    assert "its report does not count" in r.stderr and "'ci-bot'" in r.stderr
    # an unknown or non-service reporter is a configuration error, at load
    _reporters(world, "alice")
    bad = _report_as(world, sha, "ci-bot")
    assert bad.exit_code == 2
    assert "check reporter 'alice' must be a service principal" in bad.stderr


def test_dropping_or_widening_check_reporters_is_a_recorded_weakening(world: World) -> None:
    from stagewall.estate import load_estate
    from stagewall.gates.continuity import rules_document, weakenings

    before = rules_document(load_estate(world.config).estate)
    _reporters(world, "ci-bot")
    named = rules_document(load_estate(world.config).estate)
    assert "check_reporters" not in before["stages"][1]  # undeclared: the hash stays
    _reporters(world, "ci-bot, deploy-bot")
    wider = rules_document(load_estate(world.config).estate)
    assert weakenings(named, wider) == ["stage production: check reporter 'deploy-bot' added"]
    assert weakenings(named, before) == ["stage production: check reporter restriction removed"]
    assert weakenings(before, named) == []
