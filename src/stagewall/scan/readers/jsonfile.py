"""JSON application config; ``terraform show -json`` output is handed to tfplan."""

from __future__ import annotations

import json
from typing import Any

from stagewall.scan.readers._base import Kind, LineFinder, Parsed, ReaderError, flatten
from stagewall.scan.readers.tfplan import is_terraform_json, read_tfplan


def read_json(text: str) -> Parsed:
    try:
        data: Any = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        line = getattr(exc, "lineno", 1)
        raise ReaderError(f"JSON syntax error: {exc}", int(line)) from None
    if is_terraform_json(data):
        return read_tfplan(data, text)
    parsed = Parsed(Kind.JSON, documents=[data])
    flatten(data, (), LineFinder(text), parsed.entries)
    return parsed
