"""Report writers: text, JSON, SARIF 2.1.0 and JUnit XML."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from typing import Any
from urllib.parse import quote

from stagewall import __version__
from stagewall._suppressed import suppressed_line
from stagewall.scan._model import Finding, Severity, SuppressionKind
from stagewall.scan.engine import ScanResult
from stagewall.scan.rules import Rule, all_rules, get_rule

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
_LEVEL = {Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}
_SECURITY_SEVERITY = {Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0"}
INFO_URI = "https://github.com/stagewall/stagewall/blob/main/docs/scan.md"


# C0/C1 controls, DEL, bidirectional overrides/isolates/marks, line/paragraph separators
_UNSAFE = re.compile(
    r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def safe_text(text: str) -> str:
    """``text`` with control and bidi characters shown as escapes, so a file name
    cannot rewrite the terminal or reorder what a reviewer reads."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def file_uri(path: str) -> str:
    """A relative path as a valid URI reference (RFC 3986), for SARIF."""
    return quote(path, safe="/-._~!$&'()*+,;=@")


def _estate_line(result: ScanResult) -> str:
    if result.estate_used:
        return "estate: used"
    return (
        "estate: not used (no stagewall.yaml) — environments from path conventions and names only"
    )


def render_text(result: ScanResult, fail_on: Severity) -> str:
    lines: list[str] = []
    for f in result.active:
        lines.append(
            safe_text(
                f"{f.file}:{f.line}: {f.severity.label.upper()} {f.rule_id} "
                f"[{f.environment}] {f.message}"
            )
        )
        lines.append(safe_text(f"    evidence: {f.evidence}"))
        if f.environment_reason:
            lines.append(safe_text(f"    environment: {f.environment} ({f.environment_reason})"))
        rule = get_rule(f.rule_id)
        if rule is not None:
            lines.append(f"    fix: {rule.remediation}")
    if result.suppressed:
        lines.append("")
        lines.append(f"suppressed ({len(result.suppressed)}):")
        for f in result.suppressed:
            kind = (
                "inline"
                if f.suppression and f.suppression.kind is SuppressionKind.INLINE
                else "baseline"
            )
            reason = f.suppression.justification if f.suppression else ""
            lines.append(safe_text(f"  {f.file}:{f.line}: {f.rule_id} ({kind}: {reason})"))
    skipped = Counter(s.reason for s in result.stats.skipped)
    sev = result.counts_by_severity()
    lines.append("")
    lines.append(
        f"{result.stats.files_scanned} files scanned, {sum(skipped.values())} skipped"
        + (
            " (" + ", ".join(f"{n} {r}" for r, n in sorted(skipped.items())) + ")"
            if skipped
            else ""
        )
    )
    lines.append(
        f"findings: {len(result.active)} "
        f"(high {sev['high']}, medium {sev['medium']}, low {sev['low']}), "
        f"suppressed {len(result.suppressed)}; failing at --fail-on {fail_on.label}: "
        f"{len(result.failing(fail_on))}"
    )
    by_rule = result.suppressed_by_rule()
    if by_rule:
        lines.append("suppressed by rule: " + suppressed_line(by_rule))
    lines.append(_estate_line(result))
    return "\n".join(lines) + "\n"


def to_json(result: ScanResult, fail_on: Severity) -> dict[str, Any]:
    skipped = Counter(s.reason for s in result.stats.skipped)
    return {
        "tool": {"name": "stagewall", "version": __version__},
        "estate_used": result.estate_used,
        "estate_path": result.estate_path,
        "estate_note": _estate_line(result),
        "roots": result.roots,
        "files_scanned": result.stats.files_scanned,
        "skipped": {
            "total": sum(skipped.values()),
            "by_reason": dict(sorted(skipped.items())),
            "files": [{"file": s.file, "reason": s.reason} for s in result.stats.skipped],
        },
        "fail_on": fail_on.label,
        "failed": bool(result.failing(fail_on)),
        "counts": {
            "by_rule": result.counts_by_rule(),
            "by_severity": result.counts_by_severity(),
            "suppressed_by_rule": result.suppressed_by_rule(),
        },
        "findings": [f.to_json() for f in result.active],
        "suppressed": [f.to_json() for f in result.suppressed],
    }


def _rule_descriptor(rule: type[Rule]) -> dict[str, Any]:
    return {
        "id": rule.id,
        "name": "".join(w.capitalize() for w in rule.__name__.split("_")),
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.description},
        "help": {"text": rule.remediation, "markdown": f"**Fix:** {rule.remediation}"},
        "helpUri": f"{INFO_URI}#{rule.id.lower()}",
        "defaultConfiguration": {"level": _LEVEL[rule.severity]},
        "properties": {
            "tags": ["security", *rule.tags, *[f"ISO27001:2022/{c}" for c in rule.controls]],
            "controls": list(rule.controls),
            "security-severity": _SECURITY_SEVERITY[rule.severity],
            "precision": "high",
        },
    }


def _result(f: Finding, index: dict[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": index[f.rule_id],
        "level": _LEVEL[f.severity],
        "message": {"text": f"{f.message} (evidence: {f.evidence})"},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": file_uri(f.file), "uriBaseId": "%SRCROOT%"},
                    "region": {"startLine": f.line},
                }
            }
        ],
        "partialFingerprints": {"stagewallFingerprint/v1": f.fingerprint},
        "properties": {
            "environment": f.environment,
            "environmentReason": f.environment_reason,
            "severity": f.severity.label,
            "security-severity": _SECURITY_SEVERITY[f.severity],
        },
    }
    if f.suppression is not None:
        out["suppressions"] = [
            {
                "kind": f.suppression.kind.value,
                "status": "accepted",
                "justification": f.suppression.justification,
            }
        ]
    return out


def to_sarif(result: ScanResult, fail_on: Severity) -> dict[str, Any]:
    rules = all_rules()
    index = {r.id: i for i, r in enumerate(rules)}
    skipped = Counter(s.reason for s in result.stats.skipped)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "stagewall",
                        "version": __version__,
                        "informationUri": INFO_URI,
                        "rules": [_rule_descriptor(r) for r in rules],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": True,
                        "properties": {
                            "filesScanned": result.stats.files_scanned,
                            "filesSkipped": dict(sorted(skipped.items())),
                            "estateUsed": result.estate_used,
                            "failOn": fail_on.label,
                            "suppressedByRule": result.suppressed_by_rule(),
                        },
                    }
                ],
                "results": [_result(f, index) for f in result.findings],
            }
        ],
    }


def to_junit(result: ScanResult, fail_on: Severity) -> str:
    failing = {id(f) for f in result.failing(fail_on)}
    suite = ET.Element(
        "testsuite",
        name="stagewall scan",
        tests=str(max(1, len(result.active))),
        failures=str(len(failing)),
        errors="0",
        skipped=str(len(result.suppressed)),
    )
    if not result.active and not result.suppressed:
        ET.SubElement(suite, "testcase", classname="stagewall.scan", name="no findings")
    for f in result.findings:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f.rule_id,
            name=safe_text(f"{f.file}:{f.line}"),
            file=safe_text(f.file),
            line=str(f.line),
        )
        if f.suppression is not None:
            ET.SubElement(
                case, "skipped", message=safe_text(f"suppressed: {f.suppression.justification}")
            )
        elif id(f) in failing:
            node = ET.SubElement(
                case, "failure", message=safe_text(f.message), type=f.severity.label
            )
            node.text = safe_text(f"{f.rule_id} [{f.environment}] {f.message}") + (
                "\nevidence: " + safe_text(f.evidence)
            )
        else:
            ET.SubElement(case, "system-out").text = safe_text(f"{f.severity.label}: {f.message}")
    suites = ET.Element("testsuites")
    suites.append(suite)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )


def render(result: ScanResult, fmt: str, fail_on: Severity) -> str:
    if fmt == "json":
        return json.dumps(to_json(result, fail_on), indent=2, sort_keys=True) + "\n"
    if fmt == "sarif":
        return json.dumps(to_sarif(result, fail_on), indent=2) + "\n"
    if fmt == "junit":
        return to_junit(result, fail_on)
    return render_text(result, fail_on)
