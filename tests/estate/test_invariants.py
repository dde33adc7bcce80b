"""Invariants `stagewall check` enforces, each with a failing and a passing case."""

from __future__ import annotations

from datetime import date

import pytest

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


def test_one_email_for_an_internal_and_an_external_principal() -> None:
    """Issue 12: a vendor committing as bob@example.com through her own principal."""
    text = EXAMPLE.replace("emails: [dana@devshop.example]", "emails: [Bob@Example.COM]")
    vs = estate_violations(parse_estate(text, "e.yaml"), TODAY)
    assert [v.rule for v in vs] == ["SW-EST-010"]
    assert "'bob' (internal: 'bob@example.com')" in vs[0].message
    assert "'dana' (external: 'Bob@Example.COM')" in vs[0].message


def test_a_confusable_email_is_the_same_identity() -> None:
    cyrillic_a = "\u0430"
    text = EXAMPLE.replace(
        "emails: [dana@devshop.example]",
        f"emails: [dana@devshop.example, {cyrillic_a}lice@example.com]",
    )
    assert rules(text) == ["SW-EST-010"]
    fullwidth = EXAMPLE.replace("emails: [dana@devshop.example]", "emails: [\uff42ob@example.com]")
    assert rules(fullwidth) == ["SW-EST-010"]


def test_one_login_or_signing_key_for_two_principals() -> None:
    text = EXAMPLE.replace(
        "    emails: [dana@devshop.example]",
        "    emails: [dana@devshop.example]\n    identities: {github: [Alice-Ex]}",
    )
    assert rules(text) == ["SW-EST-010"]
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBfakefakefakefakefakefakefakefakefakefake"
    both = EXAMPLE.replace(
        "    emails: [dana@devshop.example]",
        f'    emails: [dana@devshop.example]\n    identities: {{ssh_keys: ["{key} dana"]}}',
    ).replace(
        "    emails: [bob@example.com]",
        f'    emails: [bob@example.com]\n    identities: {{ssh_keys: ["{key} bob-laptop"]}}',
    )
    assert rules(both) == ["SW-EST-010"]


def test_distinct_identities_pass() -> None:
    text = EXAMPLE.replace(
        "emails: [dana@devshop.example]", "emails: [dana@devshop.example, dan@x.io]"
    )
    assert "SW-EST-010" not in rules(text)


def test_production_stages_require_signed_commits_by_default() -> None:
    estate = parse_estate(EXAMPLE, "e.yaml").estate
    by_tier = {estate.is_production(s.environment): s for s in estate.stages}
    assert estate.signed_commits_required(by_tier[True]) is True
    assert estate.signed_commits_required(by_tier[False]) is False


@pytest.mark.parametrize(
    "staging",
    [
        "    host: db.prod.example.internal.\n",  # the fully qualified spelling
        "    host: DB.Prod.Example.Internal.\n",
        '    identifiers: ["postgresql://app@db.prod.example.internal:5432/shop"]\n',
        '    identifiers: ["db.prod.example.internal:5432"]\n',
        '    identifiers: ["10.10.0.5/32"]\n',  # a network of one address
        '    identifiers: ["::ffff:10.10.0.5"]\n',  # IPv4-mapped IPv6
        '    identifiers: ["http://[::ffff:a0a:5]:8080/"]\n',
        '    identifiers: ["10.10.0.5:5432"]\n',
    ],
)
def test_shared_identifier_in_another_spelling(staging: str) -> None:
    """The same host or address written differently is still shared infrastructure."""
    text = EXAMPLE.replace("    host: db.staging.example.internal\n", staging)
    vs = estate_violations(parse_estate(text, "e.yaml"), TODAY)
    assert [v.rule for v in vs] == ["SW-EST-005"], staging
    assert "shop-db-prod" in vs[0].message and "shop-db-staging" in vs[0].message


@pytest.mark.parametrize(
    ("production", "staging"),
    [
        ('    identifiers: ["2001:db8:10::5"]\n', '    identifiers: ["2001:DB8:10:0:0::5"]\n'),
        ('    identifiers: ["2001:db8:10::5"]\n', '    host: "[2001:db8:10::5]"\n'),
        ('    identifiers: ["10.10.0.0/16"]\n', '    identifiers: ["10.10.7.9"]\n'),
        ('    identifiers: ["10.10.0.0/16"]\n', '    identifiers: ["10.10.128.0/17"]\n'),
    ],
)
def test_shared_address_in_another_spelling(production: str, staging: str) -> None:
    """IPv6 written out in full, an address in a production network, overlapping ranges."""
    text = EXAMPLE.replace("    identifiers: [10.10.0.5]\n", production).replace(
        "    host: db.staging.example.internal\n", staging
    )
    assert rules(text) == ["SW-EST-005"], (production, staging)


def test_distinct_addresses_and_networks_are_not_shared() -> None:
    text = EXAMPLE.replace(
        "    identifiers: [10.10.0.5]\n", '    identifiers: ["10.10.0.0/16", "2001:db8:10::5"]\n'
    ).replace(
        "    host: db.staging.example.internal\n",
        '    identifiers: ["10.20.0.5", "10.20.0.0/16", "2001:db8:20::5", "db.prod.example.com"]\n',
    )
    assert rules(text) == []


def test_api_urls_on_one_host_with_other_paths_are_not_shared() -> None:
    """An API is its URL prefix (docs/scan.md): /live and /sandbox of one host differ."""
    apis = (
        "  pay-live:\n    environment: production\n    kind: api\n"
        '    identifiers: ["https://api.pay.example/live"]\n'
        "  pay-sandbox:\n    environment: staging\n    kind: api\n"
        '    identifiers: ["https://api.pay.example/sandbox"]\n'
    )
    text = EXAMPLE.replace("  assets-prod:\n", apis + "  assets-prod:\n")
    assert rules(text) == []
