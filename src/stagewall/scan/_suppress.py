"""Inline ``stagewall:ignore`` comments and baseline files."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from stagewall.errors import UsageError
from stagewall.scan._model import Finding

# only in a comment: prose that mentions the directive is not a directive
_IGNORE = re.compile(
    r"(?:#|//|--|;|/\*|<!--|\brem\b)[ \t]*stagewall:ignore\b(?P<rest>[^\n]*)", re.I
)
_RULE_ID = re.compile(r"^\s*,?\s*(SW-SCAN-\d{3})\b", re.I)
_TRAILERS = re.compile(r"\s*(-->|\*/|#\}|%>)\s*$")
BASELINE_VERSION = 1


@dataclass(frozen=True)
class Ignore:
    line: int
    rules: frozenset[str]
    reason: str


@dataclass(frozen=True)
class BadIgnore:
    line: int
    problem: str


def parse_ignores(text: str) -> tuple[list[Ignore], list[BadIgnore]]:
    good: list[Ignore] = []
    bad: list[BadIgnore] = []
    if "stagewall:ignore" not in text.lower():
        return good, bad
    for number, line in enumerate(text.splitlines(), start=1):
        match = _IGNORE.search(line)
        if match is None:
            continue
        rest = _TRAILERS.sub("", match.group("rest"))
        rules: set[str] = set()
        while True:
            rule = _RULE_ID.match(rest)
            if rule is None:
                break
            rules.add(rule.group(1).upper())
            rest = rest[rule.end() :]
        reason = rest.strip(" \t:-—,")
        if not rules:
            bad.append(BadIgnore(number, "stagewall:ignore names no rule id (SW-SCAN-0NN)"))
        elif not reason:
            bad.append(
                BadIgnore(number, f"stagewall:ignore {', '.join(sorted(rules))} gives no reason")
            )
        else:
            good.append(Ignore(number, frozenset(rules), reason))
    return good, bad


def inline_reason(finding: Finding, ignores: list[Ignore]) -> str | None:
    for ignore in ignores:
        if finding.rule_id in ignore.rules and ignore.line in (finding.line, finding.line - 1):
            return ignore.reason
    return None


def load_baseline(path: Path) -> dict[str, str]:
    """fingerprint -> reason. A missing or malformed file is a usage error."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(
            f"{path}: the baseline file does not exist",
            hint="create one with `stagewall scan PATH --write-baseline FILE`",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read the baseline file: {exc}") from None
    try:
        data: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UsageError(
            f"{path}: the baseline file is not valid JSON (line {exc.lineno}: {exc.msg})",
            hint="regenerate it with `stagewall scan PATH --write-baseline FILE`",
        ) from None
    if not isinstance(data, dict) or data.get("version") != BASELINE_VERSION:
        raise UsageError(
            f"{path}: not a stagewall scan baseline "
            f'(expected an object with "version": {BASELINE_VERSION})',
            hint="regenerate it with `stagewall scan PATH --write-baseline FILE`",
        )
    items = data.get("findings")
    if not isinstance(items, list):
        raise UsageError(f'{path}: the baseline has no "findings" list')
    out: dict[str, str] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("fingerprint"), str):
            raise UsageError(f'{path}: findings[{i}] has no "fingerprint" string')
        reason = item.get("reason")
        out[item["fingerprint"]] = (
            reason if isinstance(reason, str) and reason else "accepted in baseline"
        )
    return out


def baseline_document(findings: list[Finding]) -> dict[str, Any]:
    return {
        "version": BASELINE_VERSION,
        "tool": "stagewall scan",
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "findings": [
            {
                "fingerprint": f.fingerprint,
                "rule": f.rule_id,
                "file": f.file,
                "line": f.line,
                "message": f.message,
                "reason": "accepted in baseline",
            }
            for f in findings
        ],
    }
