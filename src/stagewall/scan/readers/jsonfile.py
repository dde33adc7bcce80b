"""JSON application config; ``terraform show -json`` output is handed to tfplan."""

from __future__ import annotations

import json
import re
from typing import Any

from stagewall.scan.readers._base import Kind, LineFinder, Parsed, ReaderError, flatten
from stagewall.scan.readers.tfplan import is_terraform_json, read_tfplan

_MAX_INT_DIGITS = 4000


def _int(text: str) -> int | str:
    """Integers beyond Python's safe conversion limit stay text (never a crash)."""
    return int(text) if len(text) <= _MAX_INT_DIGITS else text


_JSONC_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|//[^\n]*|/\*.*?\*/|,(?=\s*[\]}])', re.DOTALL)


def strip_jsonc(text: str) -> str:
    """JSON with comments (tsconfig, VS Code, devcontainer): comments and trailing
    commas blanked, newlines kept so line numbers still match."""

    def blank(match: re.Match[str]) -> str:
        token = match.group(0)
        if token.startswith('"'):
            return token
        return re.sub(r"[^\n]", " ", token)

    return _JSONC_TOKEN.sub(blank, text)


def loads(text: str) -> Any:
    """``json.loads`` that keeps huge integers as text and accepts comments and trailing
    commas (JSONC); raises ReaderError."""
    try:
        return json.loads(text, parse_int=_int)
    except json.JSONDecodeError as exc:
        relaxed = strip_jsonc(text) if ("/" in text or "," in text) else text
        if relaxed != text:
            try:
                return json.loads(relaxed, parse_int=_int)
            except (json.JSONDecodeError, RecursionError):
                pass
        raise ReaderError(f"JSON syntax error: {exc}", exc.lineno) from None
    except RecursionError as exc:
        line = getattr(exc, "lineno", 1)
        raise ReaderError(f"JSON syntax error: {exc}", int(line)) from None


def read_json(text: str) -> Parsed:
    data = loads(text)
    if is_terraform_json(data):
        return read_tfplan(data, text)
    parsed = Parsed(Kind.JSON, documents=[data])
    flatten(data, (), LineFinder(text), parsed.entries)
    return parsed
