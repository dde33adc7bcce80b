"""`stagewall init`, `schema` and `check` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.cli_helpers import run_cli
from tests.estate.fixtures import EXAMPLE, write


def test_init_writes_example_and_refuses_overwrite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    r = run_cli("init")
    assert r.exit_code == 0 and (tmp_path / "stagewall.yaml").read_text() == EXAMPLE
    (tmp_path / "stagewall.yaml").write_text("mine")
    r = run_cli("init")
    assert r.exit_code == 2 and "already exists" in r.stderr and "--force" in r.stderr
    assert (tmp_path / "stagewall.yaml").read_text() == "mine", "refusal must change nothing"


def test_check_finds_local_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "stagewall.yaml", EXAMPLE)
    r = run_cli("check")
    assert r.exit_code == 0, r.stderr
    assert "all invariants hold" in r.stdout


def test_check_violation_exit_1_names_principal_and_role(tmp_path: Path) -> None:
    path = write(
        tmp_path / "e.yaml", EXAMPLE.replace("eligible: [group:sre]\n", "eligible: [dana]\n")
    )
    r = run_cli("check", "--config", str(path))
    assert r.exit_code == 1
    assert "SW-EST-001" in r.stdout and "'dana'" in r.stdout and "'prod-db-read'" in r.stdout
    r = run_cli("check", "--config", str(path), "--format", "json")
    data = json.loads(r.stdout)
    assert (
        r.exit_code == 1 and data["ok"] is False and data["violations"][0]["rule"] == "SW-EST-001"
    )


def test_check_invalid_file_exit_2_with_line(tmp_path: Path) -> None:
    path = write(tmp_path / "e.yaml", "environments:\n  prod: {tier: production, colour: red}\n")
    r = run_cli("check", "--config", str(path))
    assert r.exit_code == 2
    assert f"{path}:2: environments.prod.colour: unknown field" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_check_missing_file(tmp_path: Path) -> None:
    r = run_cli("check", "--config", str(tmp_path / "nope.yaml"))
    assert r.exit_code == 2 and "does not exist" in r.stderr


def test_check_env_var(tmp_path: Path) -> None:
    path = write(tmp_path / "e.yaml", EXAMPLE)
    r = run_cli("check", env={"STAGEWALL_CONFIG": str(path)})
    assert r.exit_code == 0 and str(path) in r.stdout


def test_schema_is_valid_and_validates_example() -> None:
    r = run_cli("schema")
    assert r.exit_code == 0
    schema = json.loads(r.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    data = yaml.safe_load(EXAMPLE)
    # dates and durations are strings in YAML/JSON; make the instance JSON-like first
    instance = json.loads(json.dumps(data, default=str))
    jsonschema.Draft202012Validator(schema).validate(instance)


def test_unknown_command_is_usage_error() -> None:
    r = run_cli("frobnicate")
    assert r.exit_code == 2 and "No such command" in r.stderr


def test_check_records_audit_event_when_store_configured(tmp_path: Path) -> None:
    from stagewall.audit import AuditLog, Status
    from stagewall.store import open_store

    path = write(
        tmp_path / "e.yaml", EXAMPLE.replace("eligible: [group:sre]\n", "eligible: [dana]\n")
    )
    url = f"sqlite:///{tmp_path / 'store.db'}"
    r = run_cli("check", "--config", str(path), "--db", url)
    assert r.exit_code == 1
    store = open_store(url)
    events = AuditLog(store).events()
    store.dispose()
    assert [e.code for e in events] == ["estate.check.completed"]
    assert events[0].status is Status.FAILURE
    assert events[0].details["violations_by_rule"] == {"SW-EST-001": 1}


def test_check_without_store_creates_none(tmp_path: Path, _isolated_home: Path) -> None:
    path = write(tmp_path / "e.yaml", EXAMPLE)
    assert run_cli("check", "--config", str(path)).exit_code == 0
    assert not _isolated_home.exists(), "check must not create a store as a side effect"


_DEPLOYER = """principals:
  shop-deployer:
    kind: service
    affiliation: internal
    ci:
      - {issuer: github, repository: acme/shop, ref: refs/heads/main}
      - {issuer: gitlab, repository: acme/shop, ref: refs/heads/main}
"""
_ISSUERS = """
ci_issuers:
  github: {issuer: https://token.actions.githubusercontent.com, audience: https://sw.example.com}
  gitlab: {issuer: https://gitlab.com, audience: https://sw.example.com}
"""


def test_check_warns_about_a_ci_binding_without_repository_id(tmp_path: Path) -> None:
    """A GitHub or GitLab name is free again after a rename or delete: the id pins it."""
    text = EXAMPLE.replace("principals:\n", _DEPLOYER, 1) + _ISSUERS
    path = write(tmp_path / "e.yaml", text)
    r = run_cli("check", "--config", str(path))
    assert r.exit_code == 0, r.stderr + r.stdout  # a warning, not a broken invariant
    warned = [line for line in r.stdout.splitlines() if "warning: SW-EST-W01" in line]
    assert len(warned) == 2, r.stdout  # GitHub's binding and GitLab's
    github, gitlab = warned
    assert "'shop-deployer'" in github and "GitHub repository 'acme/shop'" in github
    assert "repository_id" in github and "renam" in github and "gh api" in github
    assert "project 'acme/shop' (gitlab)" in gitlab and "project_id" in gitlab
    assert "https://gitlab.com/api/v4/projects/acme%2Fshop" in gitlab
    assert f"{path}:" in github  # where, with the line
    r = run_cli("check", "--config", str(path), "--format", "json")
    assert r.exit_code == 0
    got = json.loads(r.stdout)
    assert got["ok"] is True and [w["rule"] for w in got["warnings"]] == ["SW-EST-W01"] * 2
    # Pinned by id: no warning.
    pinned = text.replace(
        "{issuer: github, repository: acme/shop,",
        '{issuer: github, repository: acme/shop, repository_id: "4242",',
    ).replace(
        "{issuer: gitlab, repository: acme/shop,",
        '{issuer: gitlab, repository: acme/shop, repository_id: "77",',
    )
    r = run_cli("check", "--config", str(write(tmp_path / "p.yaml", pinned)))
    assert r.exit_code == 0 and "SW-EST-W01" not in r.stdout, r.stdout
