"""Helm chart templates (and other Go/Jinja-templated YAML): not YAML until rendered.

A template is read as a template: lines that hold only a template action
(``{{- if .Values.x }}``, ``{{ end }}``, ``{% for %}``) are blanked, actions inside a
line become a neutral placeholder, and the result is parsed as YAML when it parses.
When it does not (actions that produce structure), every code line is read as text,
so literal hosts and secrets in the template are still found and no parse error is
reported for a file that was never meant to be YAML as written.
"""

from __future__ import annotations

import re

from stagewall.scan.readers._base import Kind, Parsed, ReaderError
from stagewall.scan.readers.text import read_text
from stagewall.scan.readers.yamlfile import classify_yaml, read_yaml

_ACTION = re.compile(r"\{\{-?.*?-?\}\}|\{%-?.*?-?%\}|\{#.*?#\}", re.DOTALL)
_ACTION_LINE = re.compile(r"^[ \t]*(?:\{\{-?.*?-?\}\}|\{%-?.*?-?%\}|\{#.*?#\})[ \t]*$", re.M)
PLACEHOLDER = "TEMPLATED"
# ``{{ .Values.host | default "db.example" }}``, ``{{ default "db.example" .Values.host }}``
# (Go templates, Sprig), ``{{ host | default('db.example') }}`` / ``d("...")`` (Jinja):
# what the action renders to whenever the value is not set.
_DEFAULT = re.compile(r"""\b(?:default\s*\(?|d\()\s*(?:"([^"\\]*)"|'([^'\\]*)'|`([^`]*)`)""")


def is_template(rel_path: str, text: str) -> bool:
    """A chart template (``templates/`` or ``.tpl``) or any YAML with template actions."""
    if "{{" not in text and "{%" not in text:
        return False
    parts = rel_path.lower().split("/")
    if "templates" in parts[:-1] or parts[-1].endswith(".tpl"):
        return True
    return bool(_ACTION_LINE.search(text))


def _blank(match: re.Match[str]) -> str:
    return "\n" * match.group(0).count("\n")


def _defaults(action: str) -> str | None:
    """The literal defaults an action renders to, joined, or None (comments: None)."""
    if action.startswith("{#"):
        return None
    literals = [
        next(g for g in found.groups() if g is not None) for found in _DEFAULT.finditer(action)
    ]
    literals = [lit for lit in literals if lit.strip() and "\n" not in lit]
    return " ".join(literals) if literals else None


def _inline(match: re.Match[str]) -> str:
    """An action inside a line: the literal defaults it renders to, else the placeholder."""
    return (_defaults(match.group(0)) or PLACEHOLDER) + _blank(match)


def _placeholder(match: re.Match[str]) -> str:
    return PLACEHOLDER + _blank(match)


def read_template(text: str, rel_path: str) -> Parsed:
    stripped = _ACTION_LINE.sub(_blank, text)
    rendered = _ACTION.sub(_inline, stripped)
    try:
        parsed = read_yaml(rendered)
    except ReaderError:
        parsed = _read_placeholders(stripped, rendered)
    parsed.entries = [e for e in parsed.entries if e.value.strip() != PLACEHOLDER]
    if parsed.kind is not Kind.TEXT:
        parsed.kind = classify_yaml(parsed, rel_path)
    parsed.extra["template"] = True
    return parsed


def _read_placeholders(stripped: str, rendered: str) -> Parsed:
    """When a default's text does not fit the YAML it sits in (``key: {{ default "a: b"
    .x }}``), the placeholders' YAML, plus the lines with defaults as text."""
    try:
        parsed = read_yaml(_ACTION.sub(_placeholder, stripped))
    except ReaderError:
        return read_text(rendered)
    if rendered != stripped:
        placeholders = _ACTION.sub(_placeholder, stripped).splitlines()
        with_defaults = rendered.splitlines()
        for entry in read_text(rendered).entries:
            index = entry.line - 1
            if index < len(placeholders) and placeholders[index] != with_defaults[index]:
                parsed.entries.append(entry)
    return parsed


__all__ = ["PLACEHOLDER", "is_template", "read_template"]
