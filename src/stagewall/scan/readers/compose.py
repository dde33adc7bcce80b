"""docker compose interpolation: ``${VAR}`` in a compose file from the project's ``.env``.

``docker compose`` substitutes ``$VAR``, ``${VAR}``, ``${VAR:-default}``,
``${VAR-default}``, ``${VAR:?error}`` and ``${VAR:+other}`` in the compose file from
the shell and from the ``.env`` file of the project directory (the compose file's).
A staging compose file that says ``postgres://app@${DB_HOST}/shop`` runs against
whatever that ``.env`` sets, which no path names as staging; each value that reads a
variable the ``.env`` sets is also given as it resolves by default (the written value
is kept too: it may read a variable the estate names).

A service's ``env_file`` (a name, a list, or the long syntax ``- path: ./worker.env``)
sets that service's environment: the values of such a file that is in no environment of
its own (``.env``, ``.env.web``, ``worker.env``) are read as the service's
``environment`` entries, on the ``env_file`` line. A file that is in an environment
(``.env.staging``, ``.env.production``) is scanned as that environment's, and loading a
production one from non-production is reported by the references rule. Files outside the
scanned tree (``../../secrets.env``, a symlink out) are not read.

An ``env_file`` given by a variable (``${ENV_FILE:-.env.production}``,
``./config/${STAGE}.env``) is resolved as compose resolves it when the shell sets
nothing: from the project's ``.env``, else the written default. The file it resolves to
is given as a value of its own (so loading a production file is reported) and read
like a written name. One that does not resolve (a variable with neither a default nor a
value in ``.env``, or ``${X:?error}``) is kept in ``Parsed.extra[UNRESOLVED_ENV_FILES]``
for the references rule to report as unresolved. ``--env-file`` is a flag of the
``docker compose`` command line, not of the file: the references rule reads it where the
command is written.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from pathlib import Path

from stagewall.scan._model import Entry
from stagewall.scan.readers._base import Parsed, ReaderError
from stagewall.scan.readers.dotenv import read_dotenv

_MAX_DOTENV_BYTES = 1024 * 1024
# Parsed.extra key: (entry, service, variables without a value) of each env_file whose
# variables do not resolve from the project's .env or a default
UNRESOLVED_ENV_FILES = "compose_unresolved_env_files"
_VAR = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|\$(?P<bare>[A-Za-z_][A-Za-z0-9_]*)"
)


def project_dotenv(directory: Path) -> dict[str, str]:
    """The ``KEY=value`` pairs of ``directory/.env`` (empty when absent or unreadable)."""
    return read_env_file(directory / ".env")


def read_env_file(path: Path) -> dict[str, str]:
    """The ``KEY=value`` pairs of the dotenv file ``path`` (empty when absent, too large
    or unreadable)."""
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


def resolve(value: str, env: dict[str, str]) -> tuple[str, list[str]]:
    """``value`` as compose resolves it from ``env`` alone (no shell variable set):
    defaults apply, and the names of the variables that get no value (an unset variable
    without a default, ``${X:?error}``) are returned with it."""
    missing: list[str] = []

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op") or "", match.group("arg") or ""
        have = env.get(name)
        if op in (":-", "-"):
            return have if have or (op == "-" and have is not None) else arg
        if op in (":+", "+"):
            return arg if have or (op == "+" and have is not None) else ""
        if not have:
            missing.append(name)
        return have or ""

    return _VAR.sub(one, value), missing


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


def env_files(parsed: Parsed) -> list[tuple[Entry, str]]:
    """(entry, service) of each file name a service's ``env_file`` gives: ``env_file: .env``,
    ``env_file: [a.env, b.env]`` and ``env_file: [{path: a.env, required: false}]``."""
    out = []
    for entry in parsed.entries:
        p = entry.path
        if len(p) < 3 or p[0] != "services" or p[2] != "env_file":
            continue
        rest = p[3:]
        if not rest or (rest[0].isdigit() and rest[1:] in ((), ("path",))):
            out.append((entry, p[1]))
    return out


def add_env_files(
    parsed: Parsed,
    path: Path,
    rel: str,
    load: Callable[[Path, Path], dict[str, str]],
    environment_of: Callable[[str], object | None],
    dotenv: dict[str, str],
) -> None:
    """Read the ``env_file`` of each service of the compose file ``parsed`` (at ``path``,
    ``rel`` in the scan) that is in no environment (``environment_of`` its path gives
    ``None``) as that service's ``environment``, on the ``env_file`` line. ``load(file,
    root)`` reads a dotenv file only when it is under ``root`` (the scanned tree); a name
    given by variables is resolved from ``dotenv`` (the project's ``.env``) and defaults."""
    found = env_files(parsed)
    if not found:
        return
    have = {(e.path, e.value) for e, _ in found}
    unresolved = []
    resolved = []
    written: set[int] = set()
    for entry, service in found:
        if "$" not in entry.value:
            continue
        name, missing = resolve(entry.value.strip(), dotenv)
        if missing:
            unresolved.append((entry, service, missing))
            continue
        written.add(id(entry))  # a file name to resolve, not a value of its own
        if name and (entry.path, name) not in have:
            have.add((entry.path, name))
            resolved.append((Entry(entry.path, name, entry.line), service))
    if unresolved:
        parsed.extra[UNRESOLVED_ENV_FILES] = unresolved
    parsed.entries[:] = [e for e in parsed.entries if id(e) not in written]
    parsed.entries.extend(e for e, _ in resolved)
    found = [(e, s) for e, s in found if id(e) not in written] + resolved
    parts = rel.split("/")
    inside = not rel.startswith("/") and ".." not in parts and len(parts) <= len(path.parents)
    root = path.parents[len(parts) - 1] if inside else path.parent
    base = posixpath.dirname(rel) if inside else ""
    extra = []
    for entry, service in found:
        name = entry.value.strip()
        if not name or "$" in name or name.startswith("/") or "\\" in name:
            continue  # interpolated or absolute: where it points is not known here
        target = posixpath.normpath(posixpath.join(base, name))
        if target.startswith("../") or environment_of(target) is not None:
            continue
        for key, value in load(path.parent / name, root).items():
            extra.append(Entry(("services", service, "environment", key), value, entry.line))
    parsed.entries.extend(extra)


__all__ = [
    "UNRESOLVED_ENV_FILES",
    "add_env_files",
    "add_interpolated",
    "env_files",
    "interpolate",
    "project_dotenv",
    "read_env_file",
    "resolve",
]
