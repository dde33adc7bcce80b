"""JSON application config; ``terraform show -json`` output is handed to tfplan."""

from __future__ import annotations

import json
from typing import Any

from stagewall.scan.readers._base import Kind, LineFinder, Parsed, ReaderError, flatten
from stagewall.scan.readers.tfplan import is_terraform_json, read_tfplan

_MAX_INT_DIGITS = 4000


def _int(text: str) -> int | str:
    """Integers beyond Python's safe conversion limit stay text (never a crash)."""
    return int(text) if len(text) <= _MAX_INT_DIGITS else text


def loads(text: str) -> Any:
    """``json.loads`` that keeps huge integers as text; raises ReaderError."""
    try:
        return json.loads(text, parse_int=_int)
    except (json.JSONDecodeError, RecursionError) as exc:
        line = getattr(exc, "lineno", 1)
        raise ReaderError(f"JSON syntax error: {exc}", int(line)) from None


def read_json(text: str) -> Parsed:
    data = loads(text)
    if is_terraform_json(data):
        return read_tfplan(data, text)
    parsed = Parsed(Kind.JSON, documents=[data])
    flatten(data, (), LineFinder(text), parsed.entries)
    return parsed
