"""Terraform HCL (``.tf``, ``.tfvars``) with simple value resolution.

python-hcl2 gives no line numbers, so lines are found by searching the raw text.
``var.x`` resolves from ``terraform.tfvars``/``*.auto.tfvars`` and variable
defaults in the same directory, ``local.x`` from ``locals`` blocks, and simple
``"${...}"`` interpolation is substituted. Anything else is :class:`Unknown`.
"""

from __future__ import annotations

import bisect
import re
from pathlib import Path
from typing import Any

from stagewall.scan._model import Entry
from stagewall.scan.readers import _hcl
from stagewall.scan.readers._base import Kind, LineFinder, Parsed, ReaderError, scalar_text
from stagewall.scan.readers.compose import project_dotenv, read_env_file
from stagewall.scan.readers.tfmodel import TfResource, Unknown

_INTERP = re.compile(r"\$\{([^{}]*)\}")
_REF = re.compile(r"^(var|local)\.([A-Za-z_][A-Za-z0-9_-]*)$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_BLOCK_LISTS = ("resource", "data")
_MAX_DEPTH = 16
_RESOURCE_HEADER = re.compile(
    r'^[ \t]*resource[ \t]+"?([A-Za-z0-9_-]+)"?[ \t]+"?([A-Za-z0-9_-]+)"?', re.M
)
_ATTR_START = re.compile(r"^[ \t]*([A-Za-z_][A-Za-z0-9_-]*)[ \t]*[={]", re.M)
_MAX_SIBLING_BYTES = 2 * 1024 * 1024


def _parse_hcl(text: str) -> dict[str, Any]:
    if _hcl.nesting_depth(text) > _hcl.MAX_NESTING:
        # python-hcl2's parser takes minutes (or hangs) on thousands of open brackets
        raise ReaderError(f"HCL nesting deeper than {_hcl.MAX_NESTING} brackets")
    try:
        return _hcl.loads(text)
    except (_hcl.Unsupported, RecursionError):
        pass  # python-hcl2 decides: it parses the full language or reports the error
    import hcl2

    try:
        data = hcl2.loads(text)
    except Exception as exc:  # python-hcl2 raises lark and its own exceptions
        match = re.search(r"line (\d+)", str(exc))
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        # never echo the offending token: it may be a secret
        first = re.sub(r"Token\('([^']*)', .*?\)", r"Token(\1)", first)
        first = re.sub(r"matches '.*?'", "matches a character", first)
        raise ReaderError(
            f"HCL syntax error: {first[:200]}", int(match.group(1)) if match else 1
        ) from None
    if not isinstance(data, dict):
        raise ReaderError("HCL did not parse to a body")
    cleaned: dict[str, Any] = _hcl.strip_meta(data)
    return cleaned


def _unquote_key(key: str) -> str:
    return key[1:-1] if len(key) >= 2 and key[0] == key[-1] == '"' else key


def _normalise(doc: dict[str, Any]) -> dict[str, Any]:
    """Merge hcl2's lists of single-key block dicts and strip quotes from labels."""
    out: dict[str, Any] = {}
    for key, value in doc.items():
        if isinstance(value, list) and all(isinstance(v, dict) for v in value):
            merged: dict[str, Any] = {}
            for item in value:
                for k, v in item.items():
                    if k == "__is_block__":
                        continue
                    label = _unquote_key(k)
                    if key in _BLOCK_LISTS and isinstance(v, dict) and label in merged:
                        merged[label].update({_unquote_key(n): b for n, b in v.items()})
                    elif key in _BLOCK_LISTS and isinstance(v, dict):
                        merged[label] = {_unquote_key(n): b for n, b in v.items()}
                    else:
                        merged[label] = v
            out[key] = merged
        else:
            out[key] = value
    return out


class Scope:
    """Variables and locals of one Terraform directory (module)."""

    def __init__(
        self, variables: dict[str, Any], tfvars: dict[str, Any], local_values: dict[str, Any]
    ):
        self.variables = variables
        self.tfvars = tfvars
        self.locals = local_values

    def resolve(self, raw: Any, depth: int = 0) -> Any:
        if depth > _MAX_DEPTH:
            return Unknown("reference loop")
        if isinstance(raw, dict):
            return {
                _unquote_key(k): self.resolve(v, depth + 1)
                for k, v in raw.items()
                if k != "__is_block__"
            }
        if isinstance(raw, list):
            return [self.resolve(v, depth + 1) for v in raw]
        if not isinstance(raw, str):
            return raw
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            inner = raw[1:-1].replace('\\"', '"')
            if inner.startswith("<<"):
                lines = inner.split("\n")
                inner = "\n".join(lines[1:-1])
            if "${" not in inner:
                return inner  # nothing to substitute

            def sub(match: re.Match[str]) -> str:
                value = self._expr(match.group(1), depth + 1)
                if isinstance(value, (str, int, float, bool)) and not isinstance(value, Unknown):
                    return scalar_text(value)
                return match.group(0)

            return _INTERP.sub(sub, inner)
        if raw.startswith("${") and raw.endswith("}"):
            return self._expr(raw[2:-1], depth + 1)
        return raw

    def _expr(self, expr: str, depth: int) -> Any:
        expr = expr.strip()
        match = _REF.match(expr)
        if match:
            kind, name = match.groups()
            if kind == "var":
                if name in self.tfvars:
                    return self.resolve(self.tfvars[name], depth + 1)
                if name in self.variables:
                    return self.resolve(self.variables[name], depth + 1)
            elif name in self.locals:
                return self.resolve(self.locals[name], depth + 1)
            return Unknown(expr)
        if len(expr) >= 2 and expr[0] == expr[-1] == '"' and '"' not in expr[1:-1]:
            return expr[1:-1]
        if expr in ("true", "false"):
            return expr == "true"
        if _NUMBER.match(expr) and len(expr) <= _hcl.MAX_NUMBER_DIGITS:
            return float(expr) if "." in expr else int(expr)
        return Unknown(expr)


class TerraformContext:
    """Caches parsed files and directory scopes for one scan."""

    def __init__(self) -> None:
        self._docs: dict[Path, dict[str, Any] | None] = {}
        self._scopes: dict[Path, Scope] = {}
        self._real: dict[Path, Path] = {}
        self._dotenvs: dict[Path, dict[str, str]] = {}

    def real(self, path: Path) -> Path:
        """``path.resolve()``, once per path and scan (each file's directory and every
        sibling are asked about again for each file of the directory)."""
        found = self._real.get(path)
        if found is None:
            found = self._real[path] = path.resolve()
        return found

    def document(self, path: Path, text: str | None = None) -> dict[str, Any] | None:
        key = self.real(path)
        if key not in self._docs:
            try:
                if text is None:
                    if path.stat().st_size > _MAX_SIBLING_BYTES:
                        raise ReaderError("too large")
                    text = path.read_text(encoding="utf-8")
                self._docs[key] = _normalise(_parse_hcl(text))
            except (ReaderError, OSError, UnicodeDecodeError):
                self._docs[key] = None
        return self._docs[key]

    def dotenv(self, directory: Path) -> dict[str, str]:
        """The project ``.env`` of a compose file's directory, once per directory and
        scan (see readers/compose.py; this is the scan's per-directory cache)."""
        key = self.real(directory)
        found = self._dotenvs.get(key)
        if found is None:
            found = self._dotenvs[key] = project_dotenv(directory)
        return found

    def env_file(self, path: Path, root: Path) -> dict[str, str]:
        """A compose ``env_file`` (see readers/compose.py), once per file and scan; empty
        when it resolves outside ``root`` (``../../x.env``, a symlink out of the tree)."""
        key = self.real(path)
        if not key.is_relative_to(self.real(root)):
            return {}
        found = self._dotenvs.get(key)
        if found is None:
            found = self._dotenvs[key] = read_env_file(key)
        return found

    def scope(self, directory: Path) -> Scope:
        key = self.real(directory)
        if key in self._scopes:
            return self._scopes[key]
        variables: dict[str, Any] = {}
        tfvars: dict[str, Any] = {}
        local_values: dict[str, Any] = {}
        try:
            names = sorted(p for p in directory.iterdir() if p.is_file() and not p.is_symlink())
        except OSError:
            names = []
        for path in names:
            if path.suffix == ".tf":
                doc = self.document(path)
                if doc:
                    for name, body in (doc.get("variable") or {}).items():
                        if isinstance(body, dict) and "default" in body:
                            variables[name] = body["default"]
                    local_values.update(doc.get("locals") or {})
        for path in names:
            if path.name == "terraform.tfvars" or path.name.endswith(".auto.tfvars"):
                doc = self.document(path)
                if doc:
                    tfvars.update(doc)
        scope = Scope(variables, tfvars, local_values)
        self._scopes[key] = scope
        return scope


def _walk(
    value: Any, path: tuple[str, ...], finder: LineFinder, out: list[Entry], depth: int = 0
) -> None:
    if depth > 64:
        return
    leaf = depth < 64  # a string one level down is an entry (the common case: no call)
    if isinstance(value, dict):
        for key, item in value.items():
            finder.find(key)
            if leaf and type(item) is str:
                out.append(Entry((*path, key), item, finder.find(item)))
            else:
                _walk(item, (*path, key), finder, out, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            if leaf and type(item) is str:
                out.append(Entry((*path, str(i)), item, finder.find(item)))
            else:
                _walk(item, (*path, str(i)), finder, out, depth + 1)
    elif isinstance(value, Unknown):
        out.append(Entry(path, "${" + value.expr + "}", finder.find("")))
    else:
        text = scalar_text(value)
        out.append(
            Entry(path, text, finder.find(text) if isinstance(value, str) else finder.find(""))
        )


def read_terraform(path: Path, text: str, ctx: TerraformContext) -> Parsed:
    is_vars = path.name.endswith(".tfvars")
    key = ctx.real(path)
    cached = ctx._docs.get(key)
    doc = cached if cached is not None else _normalise(_parse_hcl(text))
    ctx._docs[key] = doc
    scope = ctx.scope(path.parent) if not is_vars else Scope({}, {}, {})
    resolved = scope.resolve(doc)
    parsed = Parsed(Kind.TFVARS if is_vars else Kind.TERRAFORM, documents=[resolved])
    finder = LineFinder(text)
    _walk(resolved, (), finder, parsed.entries)
    parsed.extra["resources"] = _resources(resolved.get("resource"), text, finder)
    return parsed


def _resources(declared: Any, text: str, finder: LineFinder) -> list[TfResource]:
    """The ``resource`` blocks with the lines of their headers and attributes (the text
    is searched only in files that declare resources)."""
    if not declared:
        return []
    headers = {(m.group(1), m.group(2)): m.start() for m in _RESOURCE_HEADER.finditer(text)}
    attr_offsets: dict[str, list[int]] = {}
    for m in _ATTR_START.finditer(text):
        attr_offsets.setdefault(m.group(1), []).append(m.start())
    resources: list[TfResource] = []
    for rtype, by_name in declared.items():
        if not isinstance(by_name, dict):
            continue
        for name, attrs in by_name.items():
            if not isinstance(attrs, dict):
                continue
            offset = headers.get((rtype, name), 0)
            attr_lines: dict[str, int] = {}
            for attr in attrs:
                offsets = attr_offsets.get(attr, [])
                at = bisect.bisect_left(offsets, offset)
                if at < len(offsets):
                    attr_lines[attr] = finder.line_at(offsets[at])
            resources.append(TfResource(rtype, name, attrs, finder.line_at(offset), attr_lines))
    return resources
