"""TOML application config (``tomllib``)."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from stagewall.scan.readers._base import Kind, LineFinder, Parsed, ReaderError, flatten

_HUGE_INT = re.compile(r"(?<![\w.\"'])([+-]?[0-9][0-9_]{4000,})(?![\w.\"'])")


def _loads(text: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except ValueError as exc:
        if isinstance(exc, tomllib.TOMLDecodeError) or "integer string conversion" not in str(exc):
            raise
    # an integer too long to convert safely: read it as the string it is
    return tomllib.loads(_HUGE_INT.sub(r'"\1"', text))


def read_toml(text: str) -> Parsed:
    try:
        data = _loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise ReaderError(
            f"TOML syntax error: {exc}", int(match.group(1)) if match else 1
        ) from None
    parsed = Parsed(Kind.TOML, documents=[data])
    flatten(data, (), LineFinder(text), parsed.entries)
    return parsed
