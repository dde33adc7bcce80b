"""Invariants `stagewall check` enforces, each with a failing and a passing case."""

from __future__ import annotations

from datetime import date

from stagewall.estate import estate_violations, parse_estate
from tests.estate.fixtures import EXAMPLE

TODAY = date(2026, 11, 21)


def rules(text: str, today: date = TODAY) -> list[str]:
    return [v.rule for v in estate_violations(parse_estate(text, "e.yaml"), today)]


def test_example_has_no_violations() -> None:
    assert rules(EXAMPLE) == []


def test_external_eligible_for_production_role_via_group() -> None:
    text = EXAMPLE.replace("eligible: [group:sre]\n", "eligible: [group:sre, group:devshop-devs]\n")
    vs = estate_violations(parse_estate(text, "e.yaml"), TODAY)
    assert [v.rule for v in vs] == ["SW-EST-001"]
    assert "'dana'" in vs[0].message and "'prod-db-read'" in vs[0].message
    assert vs[0].where.startswith("e.yaml:")


def test_external_eligible_directly() -> None:
    text = EXAMPLE.replace("eligible: [group:sre]\n", "eligible: [dana]\n")
    assert rules(text) == ["SW-EST-001"]


def test_standing_grant_on_production_role() -> None:
    text = EXAMPLE.replace("role: staging-db-write", "role: prod-db-read")
    assert "SW-EST-002" in rules(text)


def test_vendor_without_dpa() -> None:
    text = EXAMPLE.replace("    dpa_signed: 2025-12-15\n", "")
    vs = estate_violations(parse_estate(text, "e.yaml"), TODAY)
    assert [v.rule for v in vs] == ["SW-EST-003"]
    assert "no DPA" in vs[0].message and "'dana'" in vs[0].message


def test_vendor_past_contract_end() -> None:
    assert rules(EXAMPLE, today=date(2028, 1, 1)) == ["SW-EST-004"]


def test_shared_identifier_between_tiers() -> None:
    text = EXAMPLE.replace(
        "    host: db.staging.example.internal\n",
        "    host: db.staging.example.internal\n    identifiers: [10.10.0.5]\n",
    )
    vs = estate_violations(parse_estate(text, "e.yaml"), TODAY)
    assert [v.rule for v in vs] == ["SW-EST-005"]
    assert "'10.10.0.5'" in vs[0].message


def test_identifier_comparison_is_case_insensitive() -> None:
    text = EXAMPLE.replace(
        "    host: db.staging.example.internal\n", "    host: DB.PROD.example.internal\n"
    )
    assert "SW-EST-005" in rules(text)


def test_long_production_role() -> None:
    assert rules(EXAMPLE.replace("max_duration: 2h", "max_duration: 1d")) == ["SW-EST-006"]


def test_standing_grant_over_a_year() -> None:
    assert rules(EXAMPLE.replace("expires: 2027-06-30", "expires: 2028-06-30")) == ["SW-EST-007"]


def test_external_in_approver_group() -> None:
    text = EXAMPLE.replace("members: [alice, bob]", "members: [alice, bob, dana]")
    # dana is now in sre, so also eligible for the production role
    assert sorted(rules(text)) == ["SW-EST-001", "SW-EST-008"]


def test_external_deployer_of_production() -> None:
    text = EXAMPLE.replace(
        "  deploy-bot:\n    kind: service\n    affiliation: internal\n",
        "  deploy-bot:\n    kind: service\n    affiliation: external\n    vendor: devshop\n",
    )
    assert "SW-EST-009" in rules(text)
