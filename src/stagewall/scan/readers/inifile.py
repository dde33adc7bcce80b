"""INI / properties style application config (configparser validates the syntax)."""

from __future__ import annotations

import configparser
import re

from stagewall.scan._model import Entry
from stagewall.scan.readers._base import Kind, Parsed, ReaderError

_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_KEY = re.compile(r"^\s*([^=:#;\s][^=:]*?)\s*[=:]\s*(.*?)\s*$")


def read_ini(text: str) -> Parsed:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text if _SECTION.search(text) else "[DEFAULT]\n" + text)
    except configparser.Error as exc:
        line = getattr(exc, "lineno", 1) or 1
        raise ReaderError(f"INI syntax error: {str(exc).splitlines()[0]}", int(line)) from None
    parsed = Parsed(Kind.INI)
    section = ""
    data: dict[str, dict[str, str]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith(("#", ";")):
            continue
        sec = _SECTION.match(line)
        if sec:
            section = sec.group(1).strip()
            parsed.lines[(0, section)] = number
            continue
        kv = _KEY.match(line)
        if kv:
            key, value = kv.group(1), kv.group(2)
            data.setdefault(section, {})[key] = value
            parsed.entries.append(Entry((section, key) if section else (key,), value, number))
    parsed.documents.append(data)
    return parsed
