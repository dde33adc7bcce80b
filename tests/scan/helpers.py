"""Shared helpers for the scan tests."""

from __future__ import annotations

from pathlib import Path

from stagewall.estate import load_estate
from stagewall.scan import Finding, ScanResult, scan_paths

FIXTURES = Path(__file__).parent / "fixtures"
ESTATE = FIXTURES / "stagewall.yaml"


def scan_fixture(name: str, *, estate: bool = True) -> ScanResult:
    loaded = load_estate(ESTATE) if estate else None
    return scan_paths([FIXTURES / name], loaded.estate if loaded else None)


def hits(result: ScanResult, rule: str) -> list[tuple[str, int]]:
    return sorted((f.file, f.line) for f in result.active if f.rule_id == rule)


def by_rule(result: ScanResult, rule: str) -> list[Finding]:
    return [f for f in result.active if f.rule_id == rule]
