"""Findings about the scan itself: what could not be read or resolved."""

from __future__ import annotations

from stagewall.scan._model import Severity
from stagewall.scan.rules._base import Rule


class Unresolved(Rule):
    id = "SW-SCAN-011"
    title = "Value could not be resolved"
    severity = Severity.LOW
    description = (
        "A value a rule needs (an encryption flag, a CIDR range, a peer network, the "
        "`env_file` of a non-production compose service) comes from a variable without a "
        "value, a function call or another resource, so the scanner cannot tell whether it "
        "is safe. It is reported rather than silently passed."
    )
    remediation = (
        "Give the variable a default or a value in terraform.tfvars, or scan the "
        "`terraform show -json` plan where values are known."
    )
    controls = ("A.8.9",)
    tags = ("honesty",)


class ParseError(Rule):
    id = "SW-SCAN-012"
    title = "File could not be parsed"
    severity = Severity.LOW
    description = (
        "The file looks like configuration the scanner reads (by name) but does not parse, "
        "so only the raw-text rules (secrets) ran on it."
    )
    remediation = "Fix the syntax error, or exclude the file if it is a template."
    controls = ("A.8.9",)
    tags = ("honesty",)


class IgnoreWithoutReason(Rule):
    id = "SW-SCAN-013"
    title = "Suppression without a reason"
    severity = Severity.LOW
    description = (
        "A `stagewall:ignore` comment names no rule or gives no reason. It does not suppress "
        "anything: every accepted risk needs a written reason an auditor can read."
    )
    remediation = "Write `stagewall:ignore SW-SCAN-00X <why this is acceptable>`."
    controls = ("A.8.9", "A.5.36")
    tags = ("suppression",)


class FileTooSlow(Rule):
    id = "SW-SCAN-014"
    title = "File skipped: too slow"
    severity = Severity.LOW
    description = (
        "Reading and checking one file took longer than the per-file time budget "
        "(`--file-time-budget`, 20 s by default), so the scanner stopped on it and moved on. "
        "Its findings are incomplete; the rest of the scan is not affected."
    )
    remediation = (
        "Look at why the file is so large or so deeply nested; exclude it if it is generated "
        "data, or raise the budget."
    )
    controls = ("A.8.9",)
    tags = ("honesty",)
