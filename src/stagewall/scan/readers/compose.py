"""docker compose interpolation: ``${VAR}`` in a compose file from the project's ``.env``.

``docker compose`` substitutes ``$VAR``, ``${VAR}``, ``${VAR:-default}``,
``${VAR-default}``, ``${VAR:?error}`` and ``${VAR:+other}`` in the compose file from
the shell and from the ``.env`` file of the project directory (the compose file's).
A staging compose file that says ``postgres://app@${DB_HOST}/shop`` runs against
whatever that ``.env`` sets, which no path names as staging; each value that reads a
variable the ``.env`` sets is also given as it resolves by default (the written value
is kept too: it may read a variable the estate names).
"""

from __future__ import annotations

import re
from pathlib import Path

from stagewall.scan._model import Entry
from stagewall.scan.readers._base import Parsed, ReaderError
from stagewall.scan.readers.dotenv import read_dotenv

_MAX_DOTENV_BYTES = 1024 * 1024
_VAR = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


def project_dotenv(directory: Path) -> dict[str, str]:
    """The ``KEY=value`` pairs of ``directory/.env`` (empty when absent or unreadable)."""
    path = directory / ".env"
    try:
        if not path.is_file() or path.stat().st_size > _MAX_DOTENV_BYTES:
            return {}
        parsed = read_dotenv(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ReaderError):
        return {}
    return {e.path[-1]: e.value for e in parsed.entries if e.path}


def interpolate(value: str, env: dict[str, str]) -> str | None:
    """``value`` as compose resolves it from ``env`` (None: it reads none of ``env``)."""
    used = False

    def one(match: re.Match[str]) -> str:
        nonlocal used
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op") or "", match.group("arg") or ""
        have = env.get(name)
        if have is not None:
            used = True
        if op == ":-":
            return have if have else arg
        if op == "-":
            return have if have is not None else arg
        if op == ":+":
            return arg if have else ""
        if op == "+":
            return arg if have is not None else ""
        return have if have is not None else match.group(0)

    out = _VAR.sub(one, value)
    return out if used and out != value else None


def add_interpolated(parsed: Parsed, env: dict[str, str]) -> None:
    """Give each value of ``parsed`` that reads a variable of ``env`` as resolved too."""
    if not env:
        return
    extra = []
    for entry in parsed.entries:
        if "$" not in entry.value:
            continue
        resolved = interpolate(entry.value, env)
        if resolved is not None:
            extra.append(Entry(entry.path, resolved, entry.line))
    parsed.entries.extend(extra)


__all__ = ["add_interpolated", "interpolate", "project_dotenv"]
