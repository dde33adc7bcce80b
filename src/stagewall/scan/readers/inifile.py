"""INI / properties style application config (configparser validates the syntax)."""

from __future__ import annotations

import configparser
import re
import shlex

from stagewall.scan._model import Entry
from stagewall.scan.readers._base import Kind, Parsed, ReaderError

_SECTION = re.compile(r"^\s*\[([^\]]+)\]\s*$")
_KEY = re.compile(r"^\s*([^=:#;\s][^=:]*?)\s*[=:]\s*(.*?)\s*$")


_INVENTORY_NAMES = frozenset({"hosts", "inventory", "hosts.ini", "inventory.ini"})
_INVENTORY_DIRS = frozenset({"inventory", "inventories"})
_HOST_VAR = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)


def is_inventory(rel_path: str) -> bool:
    """An Ansible INI inventory by its usual names (``hosts.ini``, ``inventories/x/...``)."""
    parts = rel_path.lower().split("/")
    return parts[-1] in _INVENTORY_NAMES or not _INVENTORY_DIRS.isdisjoint(parts[:-1])


def read_inventory(text: str) -> Parsed:
    """An Ansible INI inventory: ``[group]`` (``:vars``, ``:children``) sections of host
    lines (``host var=value ...``); each host and each value is an entry."""
    parsed = Parsed(Kind.INI)
    section = ""
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        sec = _SECTION.match(line)
        if sec:
            section = sec.group(1).strip()
            parsed.lines.setdefault((0, section), number)
            continue
        try:
            tokens = shlex.split(stripped, comments=True)
        except ValueError:
            raise ReaderError("inventory syntax error: unbalanced quotes", number) from None
        if not tokens:
            continue
        if section.endswith(":vars"):
            kv = _KEY.match(stripped)
            if kv is None:
                raise ReaderError("inventory syntax error: expected name=value", number)
            parsed.entries.append(Entry((section, kv.group(1)), kv.group(2), number))
            continue
        host, pairs = tokens[0], [_HOST_VAR.match(t) for t in tokens[1:]]
        if any(p is None for p in pairs):
            raise ReaderError("inventory syntax error: expected host name=value ...", number)
        parsed.entries.append(Entry((section, host), host, number))
        for pair in pairs:
            if pair is not None:
                parsed.entries.append(Entry((section, host, pair.group(1)), pair.group(2), number))
    parsed.documents.append(text)
    return parsed


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
