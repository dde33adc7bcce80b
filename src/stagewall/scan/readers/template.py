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


def read_template(text: str, rel_path: str) -> Parsed:
    stripped = _ACTION_LINE.sub(_blank, text)
    stripped = _ACTION.sub(lambda m: PLACEHOLDER + _blank(m), stripped)
    try:
        parsed = read_yaml(stripped)
    except ReaderError:
        parsed = read_text(stripped)
    parsed.entries = [e for e in parsed.entries if e.value.strip() != PLACEHOLDER]
    if parsed.kind is not Kind.TEXT:
        parsed.kind = classify_yaml(parsed, rel_path)
    parsed.extra["template"] = True
    return parsed


__all__ = ["PLACEHOLDER", "is_template", "read_template"]
