"""Secret names built when a CI job runs, and the names they can take.

GitHub Actions indexes the ``secrets`` context with an expression:
``${{ secrets[format('{0}_DB_URL', inputs.env)] }}``, ``secrets[matrix.environment]``,
``secrets[env.TARGET]``. The names are what the expression gives for each value its
references can take: a matrix's values (``include`` entries too), a ``workflow_dispatch``
or ``workflow_call`` input's options (else its default), a job- or workflow-level
``env`` value (itself perhaps ``${{ inputs.x }}``). A free-form input without options
or default, ``vars.*`` and other contexts give no name (unknown, never guessed).

A GitLab job script reads a variable whose name it builds: ``eval
"export P=\\$${TARGET}_DB_PASSWORD"`` (``\\$`` then the name with ``${VAR}`` in it,
or ``$${VAR}_NAME``, GitLab's escaped ``$`` in ``variables:`` that a script evaluates;
``$PRE${VAR}`` is two variables, not a built name), or bash's ``${!NAME}`` with
``NAME="${TARGET}_DB_PASSWORD"``; each
value the job's, its ``rules:`` or the pipeline's ``variables`` give ``VAR`` is a name.

Each name comes with the values it was built from (``{"inputs.env": "production"}``),
so a job whose ``environment:`` is built from the same reference is judged per value:
``environment: ${{ inputs.env }}`` with ``secrets[format('{0}_DB_URL', inputs.env)]``
reads production's secret only as production's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from stagewall.scan.rules._civalues import expansions as _expansions
from stagewall.scan.rules._civalues import variable_values as _variable_values
from stagewall.scan.rules._expressions import Bound, Node, Value, evaluate_with
from stagewall.scan.rules._expressions import Parser as _Parser

_INDEX = re.compile(r"\bsecrets\s*\[")
_REF = re.compile(
    r"^(?:github\.event\.)?(?P<ctx>matrix|inputs|env)\.(?P<name>[A-Za-z_][A-Za-z0-9_-]*)$"
)
_LITERAL = re.compile(r"^'((?:[^']|'')*)'$")
_WHOLE_EXPR = re.compile(r"^\$\{\{\s*(?P<expr>[^}]+?)\s*\}\}$")
# GitLab: ``\$${VAR}_NAME`` / ``$$PRE_${VAR}_NAME`` (eval), and bash indirection
_GITLAB_BUILT = re.compile(
    r"(?:\\\$(?P<pre>[A-Za-z0-9_]*)|\$(?=\$\{))\$\{(?P<var>[A-Za-z_][A-Za-z0-9_]*)\}"
    r"(?P<post>[A-Za-z0-9_]*)"
)
_BASH_NAME = re.compile(
    r"\b(?P<name>[A-Za-z_][A-Za-z0-9_]*)=['\"]?(?P<pre>[A-Za-z0-9_]*)\$\{?"
    r"(?P<var>[A-Za-z_][A-Za-z0-9_]*)\}?(?P<post>[A-Za-z0-9_]*)['\"]?"
)
_BASH_INDIRECT = re.compile(r"\$\{!([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True)
class BuiltName:
    """One name a built secret reference can take, and the values it was built from."""

    written: str
    name: str
    values: tuple[tuple[str, str], ...]


def _index_expressions(text: str) -> list[str]:
    """The expression inside each ``secrets[...]`` of ``text`` (brackets, parentheses
    and quotes balanced), other than a quoted literal (``secrets['X']`` is a plain read)."""
    found: list[str] = []
    for match in _INDEX.finditer(text):
        depth, quote, i = 0, False, match.end()
        while i < len(text):
            ch = text[i]
            if ch == "'":
                quote = not quote
            elif not quote and ch in "([":
                depth += 1
            elif not quote and ch in ")]":
                if depth == 0:
                    break
                depth -= 1
            i += 1
        expr = text[match.end() : i].strip()
        if expr and not _LITERAL.match(expr) and not expr.startswith('"'):
            found.append(expr)
    return found


def _ref_values(
    ref: str, doc: dict[str, Any], job: dict[str, Any], depth: int = 0
) -> list[tuple[str, str]]:
    """(value, the reference it comes from) of each value ``ref`` can take; ``env.X``
    set to ``${{ inputs.y }}`` gives ``inputs.y``'s values, from ``inputs.y``."""
    match = _REF.match(ref.strip())
    if match is None or depth > 3:
        return []
    kind, name = match.group("ctx"), match.group("name")
    if kind in ("matrix", "inputs"):
        key = f"{kind}.{name}"
        return [(v, key) for v in dict.fromkeys(_expansions(doc, job, kind, name))]
    for scope in (job.get("env"), doc.get("env")):
        value = scope.get(name) if isinstance(scope, dict) else None
        if isinstance(value, (str, int)):
            inner = _WHOLE_EXPR.match(str(value).strip())
            if inner is not None:
                return _ref_values(inner.group("expr"), doc, job, depth + 1)
            return [] if "${{" in str(value) else [(str(value), f"env.{name}")]
    return []


def _evaluate(tree: Node, doc: dict[str, Any], job: dict[str, Any]) -> list[tuple[Value, Bound]]:
    return evaluate_with(tree, lambda ref: _ref_values(ref, doc, job))


def _expand(expr: str, doc: dict[str, Any], job: dict[str, Any]) -> list[BuiltName]:
    """Every name the index expression ``expr`` can give (empty: not known)."""
    try:
        tree = _Parser(expr).parse()
    except ValueError:
        return []
    out: list[BuiltName] = []
    for value, bound in _evaluate(tree, doc, job):
        if isinstance(value, str) and value and all(n.name != value for n in out):
            out.append(BuiltName(f"secrets[{expr}]", value, tuple(sorted(bound))))
    return out


def github_built_names(text: str, doc: dict[str, Any], job: dict[str, Any]) -> list[BuiltName]:
    """The names each ``secrets[<expression>]`` of ``text`` (a GitHub job's) can take."""
    out: list[BuiltName] = []
    for expr in _index_expressions(text):
        out += _expand(expr, doc, job)
    return out


def has_built_index(text: str) -> list[str]:
    """``secrets[<expression>]`` as written, for each index that is not a literal."""
    return [f"secrets[{expr}]" for expr in _index_expressions(text)]


def gitlab_built_names(text: str, doc: dict[str, Any], job: dict[str, Any]) -> list[BuiltName]:
    """The names a GitLab job script builds and reads (``\\$${VAR}_TOKEN``, ``${!NAME}``)."""
    forms = [m for m in _GITLAB_BUILT.finditer(text)]
    indirect = set(_BASH_INDIRECT.findall(text))
    forms += [m for m in _BASH_NAME.finditer(text) if m.group("name") in indirect]
    out: list[BuiltName] = []
    for form in forms:
        var, post = form.group("var"), form.group("post")
        pre = form.groupdict().get("pre") or ""
        for value in _variable_values(job, doc, var):
            name = f"{pre}{value}{post}"
            out.append(BuiltName(f"{pre}${{{var}}}{post}", name, ((f"${var}", value),)))
    return out


__all__ = ["BuiltName", "github_built_names", "gitlab_built_names", "has_built_index"]
