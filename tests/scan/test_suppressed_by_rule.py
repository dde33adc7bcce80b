"""A suppression of one rule must not hide another rule's suppressed findings.

Every output says, per rule, how many findings were suppressed and by what (an inline
``stagewall:ignore`` or the baseline), so an auditor reading only the summary, the JSON
counts, the SARIF run or the audit event sees which classes of finding were silenced.
"""

from __future__ import annotations

from pathlib import Path

from stagewall.estate import load_estate
from stagewall.scan import ScanOptions, ScanResult, scan_paths, to_json, to_sarif
from stagewall.scan._audit import summary_event
from stagewall.scan._model import Severity
from stagewall.scan._report import render_text
from tests.scan.helpers import ESTATE

STAGING_ENV = """\
# stagewall:ignore SW-SCAN-001 read-only replica approved in RISK-12
REPLICA_URL=postgres://app@db.prod.example.internal/shop?sslmode=verify-full
CACHE_URL=redis://cache.staging.example.internal:6379/0
LEGACY_URL=postgres://app@db.staging.example.internal/shop?sslmode=disable
"""


def _scan(tmp_path: Path, baseline: bool) -> ScanResult:
    root = tmp_path / "envs" / "staging"
    root.mkdir(parents=True)
    (root / "app.env").write_text(STAGING_ENV, encoding="utf-8")
    estate = load_estate(ESTATE).estate
    first = scan_paths([tmp_path], estate)
    accepted = {f.fingerprint: "legacy, RISK-14" for f in first.active if baseline}
    return scan_paths([tmp_path], estate, ScanOptions(baseline=accepted))


def test_every_output_counts_suppressed_findings_per_rule_and_kind(tmp_path: Path) -> None:
    result = _scan(tmp_path, baseline=True)
    assert not result.active
    rules = {f.rule_id for f in result.suppressed}
    assert "SW-SCAN-001" in rules and len(rules) >= 2, rules
    expected = result.suppressed_by_rule()
    assert expected["SW-SCAN-001"]["inline"] == 1
    others = {r: by for r, by in expected.items() if r != "SW-SCAN-001"}
    assert others and all(by["baseline"] >= 1 and by["inline"] == 0 for by in others.values())
    assert sum(sum(by.values()) for by in expected.values()) == len(result.suppressed)

    doc = to_json(result, Severity.MEDIUM)
    assert doc["counts"]["suppressed_by_rule"] == expected
    run = to_sarif(result, Severity.MEDIUM)["runs"][0]
    assert run["invocations"][0]["properties"]["suppressedByRule"] == expected
    text = render_text(result, Severity.MEDIUM)
    line = next(x for x in text.splitlines() if x.startswith("suppressed by rule: "))
    for rule in expected:
        assert rule in line
    assert "SW-SCAN-001 1 (inline 1)" in line
    event = summary_event(result, "os:ci", failed=False)
    assert event.details["suppressed_by_rule"] == expected


def test_no_suppression_adds_no_line(tmp_path: Path) -> None:
    result = _scan(tmp_path, baseline=False)
    assert result.active
    assert set(result.suppressed_by_rule()) == {"SW-SCAN-001"}
    doc = to_json(result, Severity.MEDIUM)
    assert "SW-SCAN-005" not in doc["counts"]["suppressed_by_rule"]
