"""A fast reader for the common subset of HCL, producing python-hcl2's output shape.

python-hcl2 (a Lark grammar) costs several milliseconds per file; most Terraform is
blocks, attributes and literals. This reader handles exactly that and raises
:class:`Unsupported` for anything it is not sure about, in which case the caller
falls back to python-hcl2, so results never depend on which path ran. Values use
python-hcl2's encoding: string literals keep their quotes (``'"x"'``), other
expressions become ``"${expr}"``, blocks are lists of dicts marked ``__is_block__``.
"""

from __future__ import annotations

import re
from typing import Any

from stagewall.scan.readers._hclexpr import Unsupported as Unsupported
from stagewall.scan.readers._hclexpr import (
    heredoc_end,
    key_value,
    render,
    split,
    template,
    tokens,
)

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$")
_WS = " \t\r"
_TRAVERSAL = re.compile(
    r'^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*|\.\d+|\[\d+\]|\["[^"$]*"\]|\.\*|\[\*\])*$'
)
_INTERPOLATION = re.compile(r"\$\{~?([^{}]*?)~?\}")
_STRING_STOP = re.compile(r'[\\\n"}]|[$%]\{')
_EXPR_STOP = re.compile(r'["()\[\]{}\n#/<]')
_OPEN = {"(": ")", "[": "]", "{": "}"}
MAX_NUMBER_DIGITS = 4000
MAX_NESTING = 100


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.n = len(text)

    # -- lexical helpers -------------------------------------------------
    def skip(self, newlines: bool) -> None:
        s, n = self.s, self.n
        while self.i < n:
            c = s[self.i]
            if c in _WS or (newlines and c == "\n"):
                self.i += 1
            elif c == "#" or s.startswith("//", self.i):
                end = s.find("\n", self.i)
                self.i = n if end < 0 else end
            elif s.startswith("/*", self.i):
                end = s.find("*/", self.i + 2)
                if end < 0:
                    raise Unsupported("unterminated comment")
                self.i = end + 2
            else:
                return

    def string_end(self, i: int) -> int:
        """Index just past the string literal starting at ``i`` (a quote)."""
        s = self.s
        i += 1
        depth = 0
        while True:
            match = _STRING_STOP.search(s, i)
            if match is None:
                raise Unsupported("unterminated string")
            i = match.start()
            stop = match.group(0)
            if stop == "\\":
                i += 2
            elif stop == "\n":
                raise Unsupported("newline in string")
            elif stop == '"':
                if depth == 0:
                    return i + 1
                i = self.string_end(i)
            elif stop in ("${", "%{"):
                depth += 1
                i += 2
            else:  # "}"
                if depth:
                    depth -= 1
                i += 1

    def _skip_comment(self) -> None:
        """Step over a comment inside brackets (it is dropped from the value)."""
        s = self.s
        if s.startswith("/*", self.i):
            end = s.find("*/", self.i + 2)
            if end < 0:
                raise Unsupported("unterminated comment")
            self.i = end + 2
        else:
            end = s.find("\n", self.i)
            self.i = self.n if end < 0 else end

    # -- structure -------------------------------------------------------
    def body(self, closing: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        while True:
            self.skip(newlines=True)
            if self.i >= self.n:
                if closing:
                    raise Unsupported("unclosed block")
                return out
            if closing and self.s[self.i] == closing:
                self.i += 1
                return out
            match = _IDENT.match(self.s, self.i)
            if match is None:
                raise Unsupported("expected an identifier")
            name = match.group(0)
            self.i = match.end()
            self.skip(newlines=False)
            if self.i < self.n and self.s[self.i] == "=" and not self.s.startswith("==", self.i):
                self.i += 1
                if name in out:
                    raise Unsupported("duplicate attribute")
                out[name] = self.expression()
            else:
                out.setdefault(name, []).append(self.block())

    def block(self) -> dict[str, Any]:
        labels: list[str] = []
        while True:
            self.skip(newlines=False)
            if self.i >= self.n:
                raise Unsupported("block without body")
            c = self.s[self.i]
            if c == '"':
                end = self.string_end(self.i)
                labels.append(self.s[self.i : end])
                self.i = end
            elif c == "{":
                self.i += 1
                break
            else:
                match = _IDENT.match(self.s, self.i)
                if match is None:
                    raise Unsupported("bad block label")
                labels.append(match.group(0))
                self.i = match.end()
        inner = self.body("}")
        inner["__is_block__"] = True
        node: dict[str, Any] = inner
        for label in reversed(labels):
            node = {label: node}
        return node

    # -- expressions -------------------------------------------------------
    def expression(self) -> Any:
        self.skip(newlines=False)
        start = self.i
        s, n = self.s, self.n
        if s.startswith("<<", start):
            self.i = heredoc_end(s, start)
            return '"' + s[start : self.i] + '"'
        stack: list[str] = []
        while self.i < n:
            stop = _EXPR_STOP.search(s, self.i)
            if stop is None:
                self.i = n
                break
            self.i = stop.start()
            c = s[self.i]
            if c == '"':
                self.i = self.string_end(self.i)
                continue
            if c in _OPEN:
                stack.append(_OPEN[c])
            elif c in ")]}":
                if not stack:
                    break
                if stack.pop() != c:
                    raise Unsupported("mismatched bracket")
            elif (c == "\n" and not stack) or (
                (c == "#" or s.startswith("//", self.i) or s.startswith("/*", self.i)) and not stack
            ):
                break
            elif s.startswith("<<", self.i):
                self.i = heredoc_end(s, self.i)  # its newline ends nothing: it is the heredoc's
                continue
            elif c in "#/" and stack and (c == "#" or s[self.i + 1 : self.i + 2] in "/*"):
                self._skip_comment()
                continue
            self.i += 1
        if stack:
            raise Unsupported("unclosed bracket")
        return convert(s[start : self.i].strip())


def convert(raw: str) -> Any:
    """python-hcl2's value for one expression's source text."""
    if not raw:
        raise Unsupported("empty expression")
    if raw[0] == '"' and _Parser(raw).string_end(0) == len(raw):
        return template(raw)
    if raw in ("true", "false"):
        return raw == "true"
    if raw == "null":
        return None
    if _NUMBER.match(raw):
        if len(raw) > MAX_NUMBER_DIGITS:
            return "${" + raw + "}"  # too long to convert safely: kept as its text
        return float(raw) if any(c in raw for c in ".eE") else int(raw)
    if raw[0] == "[" and raw[-1] == "]" and _balanced_outer(raw):
        inner = raw[1:-1]
        if re.match(r"\s*for\s", inner):
            return "${" + render(tokens(raw)) + "}"
        return [convert(item) for item in split(inner, newlines=False)]
    if raw[0] == "{" and raw[-1] == "}" and _balanced_outer(raw):
        inner = raw[1:-1]
        if re.match(r"\s*for\s", inner):
            return "${" + render(tokens(raw)) + "}"
        out: dict[str, Any] = {}
        for item in split(inner, newlines=True):
            key, value = key_value(item)
            out[_object_key(key)] = convert(value)
        return out
    if raw.startswith("<<") and heredoc_end(raw, 0) == len(raw):
        return '"' + raw + '"'
    if _IDENT.fullmatch(raw):
        return raw  # a bare word (``type = bool``) is kept as written
    if _TRAVERSAL.match(raw):
        return "${" + raw + "}"
    return "${" + render(tokens(raw)) + "}"


def _object_key(key: str) -> str:
    """python-hcl2's key for an object item: a name as written, a quoted key with its
    interpolations re-printed, any other expression (``(local.x)``, ``a.b``) as
    ``${...}``."""
    if _IDENT.fullmatch(key):
        return key
    if key.startswith('"') and _Parser(key).string_end(0) == len(key):
        return template(key)
    if (key.startswith("(") and _balanced_outer(key)) or _TRAVERSAL.match(key):
        return "${" + render(tokens(key)) + "}"
    raise Unsupported("object key")


def _balanced_outer(raw: str) -> bool:
    """True when the first bracket closes at the very end (``[a] + [b]`` is not a list);
    brackets in strings, heredocs and comments do not count."""
    depth = 0
    for t in tokens(raw):
        if t.text in "([{" and t.kind == "op":
            depth += 1
        elif t.text in ")]}" and t.kind == "op":
            depth -= 1
            if depth == 0 and t.end != len(raw):
                return False
    return True


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting in ``text`` (strings and comments counted too: an
    upper bound, in one linear pass)."""
    depth = deepest = 0
    for match in re.finditer(r"[\[{(]|[\]})]", text):
        if match.group(0) in "[{(":
            depth += 1
            deepest = max(deepest, depth)
        elif depth:
            depth -= 1
    return deepest


def loads(text: str) -> dict[str, Any]:
    """Parse ``text`` or raise :class:`Unsupported`."""
    return _Parser(text).body(None)


def strip_meta(value: Any) -> Any:
    """python-hcl2's output without its comment bookkeeping (``__comments__`` ...).

    ``__is_block__`` is kept: it tells blocks from object values.
    """
    if isinstance(value, dict):
        return {
            k: strip_meta(v)
            for k, v in value.items()
            if k == "__is_block__" or not (k.startswith("__") and k.endswith("__"))
        }
    if isinstance(value, list):
        return [strip_meta(v) for v in value]
    return value
