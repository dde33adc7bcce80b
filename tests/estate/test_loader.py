"""Loading stagewall.yaml: valid files load; every mistake names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagewall.errors import ConfigError
from stagewall.estate import load_estate, parse_estate
from stagewall.estate.models import Tier
from tests.estate.fixtures import EXAMPLE, write


def test_example_loads_and_knows_tiers() -> None:
    loaded = parse_estate(EXAMPLE, "stagewall.yaml")
    e = loaded.estate
    assert e.environments["production"].tier is Tier.PRODUCTION
    assert e.is_production("production") and not e.is_production("staging")
    assert e.is_production("nowhere"), "unknown environments must count as production"
    assert e.eligible_for("prod-db-read") == {"alice", "bob"}
    assert not e.is_internal("dana") and e.is_internal("alice")
    assert not e.is_internal("nobody"), "unknown principals must count as external"
    assert e.principal_by_email("ALICE@example.com") == "alice"


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_estate(text, "est.yaml")
    return info.value.message


def test_malformed_yaml_names_line() -> None:
    msg = _error("environments:\n  prod:\n    tier: production\n   bad: [\n")
    assert msg.startswith("est.yaml:") and "not valid YAML" in msg


def test_tabs_are_reported_as_yaml_error() -> None:
    msg = _error("environments:\n\tprod: {tier: production}\n")
    assert "est.yaml:2" in msg and "not valid YAML" in msg


def test_duplicate_keys_are_refused() -> None:
    msg = _error("environments:\n  prod: {tier: production}\n  prod: {tier: non-production}\n")
    assert "est.yaml:3" in msg and "duplicate key 'prod'" in msg and "line 2" in msg


def test_unknown_field_names_line_and_field() -> None:
    text = EXAMPLE.replace("    tier: production\n", "    tier: production\n    teir: x\n", 1)
    msg = _error(text)
    assert "environments.production.teir: unknown field" in msg
    line = text.splitlines().index("    teir: x") + 1
    assert f"est.yaml:{line}:" in msg


def test_wrong_type_names_field() -> None:
    text = EXAMPLE.replace("max_duration: 2h", "max_duration: forever")
    msg = _error(text)
    assert "roles.prod-db-read.max_duration" in msg and "not a duration" in msg


def test_bad_tier_lists_allowed_values() -> None:
    msg = _error("environments:\n  prod: {tier: live}\n")
    assert "environments.prod.tier" in msg and "'production'" in msg and "'non-production'" in msg


def test_affiliation_is_required() -> None:
    msg = _error("environments:\n  p: {tier: production}\nprincipals:\n  x: {name: X}\n")
    assert "principals.x.affiliation: required field is missing" in msg


def test_external_without_vendor_is_refused() -> None:
    msg = _error(
        "environments:\n  p: {tier: production}\nprincipals:\n  x: {affiliation: external}\n"
    )
    assert "must name its vendor" in msg


def test_password_in_url_is_refused() -> None:
    msg = _error(
        "environments:\n  p: {tier: production}\nresources:\n"
        "  db: {environment: p, kind: postgresql, identifiers: ['postgresql://u:hunter2@h/db']}\n"
    )
    assert "password inside a URL" in msg
    assert "hunter2" not in msg, "the secret itself must never be echoed"


def test_dangling_references_name_each() -> None:
    text = EXAMPLE.replace("eligible: [group:sre]", "eligible: [group:sres, carol]").replace(
        "vendor: devshop", "vendor: devshops"
    )
    msg = _error(text)
    assert "unknown group 'sres'" in msg and "unknown principal 'carol'" in msg
    assert "unknown vendor 'devshops'" in msg
    assert "roles.prod-db-read.eligible[0]" in msg


def test_production_role_needs_approval_rule() -> None:
    text = EXAMPLE.replace("    approval: one-sre\n    max_duration: 2h", "    max_duration: 2h")
    assert "must name an approval rule" in _error(text)


def test_role_resource_in_other_environment() -> None:
    text = EXAMPLE.replace("resources: [shop-db-staging]", "resources: [shop-db-prod]")
    assert "is in environment 'production', but the role is for 'staging'" in _error(text)


def test_empty_and_non_mapping_files() -> None:
    assert "empty" in _error("")
    assert "top level must be a mapping" in _error("- a\n- b\n")


def test_load_estate_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_estate()
    assert "no estate file" in info.value.message and "stagewall init" in info.value.hint
    path = write(tmp_path / "elsewhere.yaml", EXAMPLE)
    monkeypatch.setenv("STAGEWALL_CONFIG", str(path))
    assert load_estate().path == path
    with pytest.raises(ConfigError) as info:
        load_estate(tmp_path / "missing.yaml")
    assert "does not exist" in info.value.message
