"""``stagewall scan``: find where configuration crosses the wall between environments."""

from stagewall.scan._model import Attribution, Finding, Severity, Suppression, SuppressionKind, Tier
from stagewall.scan._report import render, to_json, to_junit, to_sarif
from stagewall.scan._suppress import baseline_document, load_baseline
from stagewall.scan.engine import Scanner, ScanOptions, ScanResult, scan_paths
from stagewall.scan.rules import Rule, all_rules, get_rule, register

__all__ = [
    "Attribution",
    "Finding",
    "Rule",
    "ScanOptions",
    "ScanResult",
    "Scanner",
    "Severity",
    "Suppression",
    "SuppressionKind",
    "Tier",
    "all_rules",
    "baseline_document",
    "get_rule",
    "load_baseline",
    "register",
    "render",
    "scan_paths",
    "to_json",
    "to_junit",
    "to_sarif",
]
