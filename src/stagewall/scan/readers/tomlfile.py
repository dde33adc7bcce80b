"""TOML application config (``tomllib``)."""

from __future__ import annotations

import re
import tomllib

from stagewall.scan.readers._base import Kind, LineFinder, Parsed, ReaderError, flatten


def read_toml(text: str) -> Parsed:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise ReaderError(
            f"TOML syntax error: {exc}", int(match.group(1)) if match else 1
        ) from None
    parsed = Parsed(Kind.TOML, documents=[data])
    flatten(data, (), LineFinder(text), parsed.entries)
    return parsed
