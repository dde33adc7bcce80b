"""Variables a command line uses, resolved from simple assignments in the same file.

A script's ``ENV_FILE=.env.production`` (also ``export``/``local``/``readonly``, or after
``;``, ``then``, ``else``, ``do`` or a ``case`` pattern's ``)``) on a line before the one
that uses ``$ENV_FILE``/``${ENV_FILE}``; a Makefile's ``ENV_FILE := .env.production``
(``=``, ``?=``, ``::=``; anywhere in the file, since make reads every assignment before it
runs a recipe) used as ``$(ENV_FILE)``/``${ENV_FILE}``; a CI job's ``env:``/``variables:``.
A variable assigned several values may have each of them. Nothing else is evaluated:
``$(command)``, ``${X:-default}``, a value that itself uses a variable, an assignment
written in another file, a prefix assignment (``X=1 cmd`` sets ``X`` for ``cmd`` only)
are unknown, and a value that uses an unknown variable is not resolved.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

_MAX_VALUES = 16
_SHELL = re.compile(
    r"(?:^[ \t]*(?:-[ \t]+)?|[;&|)][ \t]*|\b(?:then|else|do)[ \t]+)"
    r"(?P<kw>(?:export|local|readonly|declare[ \t]+-x)[ \t]+)?"
    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>'[^'\n]*'|\"[^\"\n]*\"|[^\s;&|'\"()]*)"
    r"(?=[ \t]*(?:$|;|&&|\|\||\)|#))",
    re.M,
)
# words separated by blanks (one way to split them: no backtracking blow-up)
_EXPORT = re.compile(
    r"^[ \t]*export[ \t]+([A-Za-z_][A-Za-z0-9_]*(?:[ \t]+[A-Za-z_][A-Za-z0-9_]*)*)[ \t]*$", re.M
)
_MAKE = re.compile(
    r"^(?P<kw>(?:(?:export|override)[ \t]+)*)(?P<name>[A-Za-z_][A-Za-z0-9_]*)[ \t]*"
    r"(?:::?:?=|\?=|=)[ \t]*(?P<value>[^#\n]*?)[ \t]*(?:#.*)?$",
    re.M,
)
_MAKE_REF = re.compile(r"(?<!\$)\$\(([A-Za-z_][A-Za-z0-9_]*)\)")
_REF = re.compile(
    r"(?<!\$)\$(?:\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)\}|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


@dataclass(frozen=True)
class Assignment:
    """``name`` set to ``value`` (``None``: not a plain word) on ``line`` (at ``column``);
    ``exported`` when commands started afterwards see it in their environment."""

    name: str
    value: str | None
    line: int
    exported: bool
    column: int = 0


def _plain(value: str) -> str | None:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        value = value[1:-1]
    if not value or any(c in value for c in "$`") or any(c.isspace() for c in value):
        return None
    return value


def shell_assignments(text: str, first_line: int = 1) -> list[Assignment]:
    """The shell assignments of ``text``, whose first line is ``first_line``."""
    out: list[Assignment] = []
    for match in _SHELL.finditer(text):
        kw = (match.group("kw") or "").strip()
        at = match.start("name")
        line, column = first_line + text.count("\n", 0, at), at - text.rfind("\n", 0, at) - 1
        exported = kw.startswith(("export", "declare"))
        value = _plain(match.group("value"))
        out.append(Assignment(match.group("name"), value, line, exported, column))
    for match in _EXPORT.finditer(text):
        # ``export NAME``: the value it has from that line on, and any it is given later,
        # reach the commands started afterwards
        line, names = first_line + text.count("\n", 0, match.start()), match.group(1).split()
        later = [
            Assignment(
                a.name, a.value, a.line, a.exported or (a.name in names and a.line > line), a.column
            )
            for a in out
        ]
        out = later + [
            Assignment(a.name, a.value, line, True)
            for a in out
            if a.name in names and a.line < line
        ]
    return out


def make_assignments(text: str) -> list[Assignment]:
    """A Makefile's variable assignments (recipe lines, which start with a tab, are not)."""
    out: list[Assignment] = []
    for match in _MAKE.finditer(text):
        line = 1 + text.count("\n", 0, match.start())
        exported = "export" in match.group("kw")
        out.append(Assignment(match.group("name"), _plain(match.group("value")), line, exported))
    return out


def make_references(text: str) -> str:
    """``$(NAME)`` of a Makefile written as ``${NAME}`` (make reads both alike; a shell
    would read ``$(NAME)`` as a command)."""
    return _MAKE_REF.sub(r"${\1}", text)


def values_of(name: str, assignments: Iterable[Assignment]) -> list[str]:
    """Every plain value ``name`` is given (``[]``: none known)."""
    return list(dict.fromkeys(a.value for a in assignments if a.name == name and a.value))


def _substitute(written: str, bound: dict[str, str]) -> str:
    return _REF.sub(lambda m: bound[m.group("braced") or m.group("bare")], written)


def resolve(written: str, assignments: list[Assignment]) -> list[str]:
    """Each value ``written`` can have once its variables are replaced by the values
    ``assignments`` give them; ``[]`` when a variable has none (unknown), ``[written]``
    when it uses no variable."""
    refs = list(_REF.finditer(written))
    if not refs:
        return [] if "$" in written else [written]
    names = list(dict.fromkeys(m.group("braced") or m.group("bare") for m in refs))
    choices = [values_of(n, assignments) for n in names]
    if not all(choices):
        return []
    out: list[str] = []
    for combo in itertools.islice(itertools.product(*choices), _MAX_VALUES):
        value = _substitute(written, dict(zip(names, combo, strict=True)))
        if "$" not in value and value not in out:
            out.append(value)
    return out


__all__ = [
    "Assignment",
    "make_assignments",
    "make_references",
    "resolve",
    "shell_assignments",
    "values_of",
]
