"""Environment attribution, the walker and the rule registry."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stagewall.errors import ConfigError
from stagewall.estate import load_estate
from stagewall.scan import Rule, Severity, Tier, register, scan_paths
from stagewall.scan._env import EnvModel

from .helpers import ESTATE


@pytest.mark.parametrize(
    ("path", "env", "tier"),
    [
        ("envs/prod/main.tf", "prod", Tier.PRODUCTION),
        ("charts/shop/values-staging.yaml", "staging", Tier.NON_PRODUCTION),
        ("app/.env.production", "production", Tier.PRODUCTION),
        ("infra/dev.tfvars", "dev", Tier.NON_PRODUCTION),
        ("terraform.tfstate.d/prod/terraform.tfstate", "prod", Tier.PRODUCTION),
        ("README.md", None, None),
        ("src/product/config.yaml", None, None),
    ],
)
def test_conventions_without_estate(path: str, env: str | None, tier: Tier | None) -> None:
    att = EnvModel(None).attribute_path(path)
    if env is None:
        assert att is None
    else:
        assert att is not None and (att.environment, att.tier) == (env, tier)


def test_estate_aliases_globs_and_namespaces() -> None:
    model = EnvModel(load_estate(ESTATE).estate)
    att = model.attribute_path("envs/prod/x/y.yaml")
    assert att is not None and att.environment == "production" and "glob" in att.reason
    att = model.attribute_path("charts/values-stg.yaml")
    assert att is not None and att.environment == "staging"
    ns = model.attribute_namespace("shop-prod")
    assert ns is not None and ns.tier is Tier.PRODUCTION
    assert model.from_words("prod-mirror.staging.example.com", "") is None


def test_file_referencing_only_staging_resources_is_staging(tmp_path: Path) -> None:
    (tmp_path / "app.yaml").write_text(
        "db: postgres://a@prod-mirror.staging.example.com/x?sslmode=disable\n"
    )
    result = scan_paths([tmp_path], load_estate(ESTATE).estate)
    assert [f.environment for f in result.active] == ["staging"]


def test_skips_binary_huge_and_excluded_and_survives_symlink_loops(tmp_path: Path) -> None:
    from stagewall.scan import ScanOptions

    (tmp_path / "bin.dat").write_bytes(b"\x00\x01AKIAIOSFODNN7EXAMPLE")
    (tmp_path / "big.env").write_text("X=" + "a" * 5000)
    (tmp_path / "node_modules").mkdir()
    (tmp_path / "node_modules" / "x.env").write_text("K=AKIAIOSFODNN7EXAMPLE\n")
    sub = tmp_path / "sub"
    sub.mkdir()
    os.symlink(tmp_path, sub / "loop")
    os.symlink("/etc", tmp_path / "outside")
    (sub / "ok.env").write_text("K=AKIAIOSFODNN7EXAMPLE\n")
    result = scan_paths([tmp_path], None, ScanOptions(max_file_size=1000))
    reasons = sorted(s.reason for s in result.stats.skipped)
    assert "binary" in reasons
    assert "larger than 1000 bytes" in reasons
    assert "symlink out of the scanned tree" in reasons
    assert [f.file for f in result.active] == ["sub/ok.env"]


def test_registry_refuses_duplicate_ids() -> None:
    class Dup(Rule):
        id = "SW-SCAN-001"
        title = "dup"
        severity = Severity.LOW
        description = "d"
        remediation = "r"
        controls = ("A.8.9",)

    with pytest.raises(ConfigError, match="registered twice"):
        register(Dup)


def test_parallel_scan_equals_serial_scan() -> None:
    from stagewall.scan import ScanOptions

    from .helpers import FIXTURES

    estate = load_estate(ESTATE).estate
    serial = scan_paths([FIXTURES], estate, ScanOptions(workers=1))
    parallel = scan_paths([FIXTURES], estate, ScanOptions(workers=2, parallel_threshold=0))
    assert parallel.findings == serial.findings
    assert parallel.stats.files_scanned == serial.stats.files_scanned
    assert parallel.files == serial.files
