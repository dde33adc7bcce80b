"""A fast reader for the common subset of HCL, producing python-hcl2's output shape.

python-hcl2 (a Lark grammar) costs several milliseconds per file; most Terraform is
blocks, attributes and literals. This reader handles exactly that and raises
:class:`Unsupported` for anything it is not sure about, in which case the caller
falls back to python-hcl2, so results never depend on which path ran. Values use
python-hcl2's encoding: string literals keep their quotes (``'"x"'``), other
expressions become ``"${expr}"``, blocks are lists of dicts marked ``__is_block__``.

The file is tokenised once; blocks, attributes and the values inside expressions are
read from that one token list (brackets paired while an expression's extent is found).
"""

from __future__ import annotations

import re
from typing import Any

from stagewall.scan.readers._hclexpr import Token, render, string_end, template, tokens
from stagewall.scan.readers._hclexpr import Unsupported as Unsupported

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_TRAVERSAL = re.compile(
    r'^[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*|\.\d+|\[\d+\]|\["[^"$]*"\]|\.\*|\[\*\])*$'
)
_OPEN = {"(": ")", "[": "]", "{": "}"}
_CLOSE = frozenset({")", "]", "}"})
_BLANK = frozenset({"ws", "nl"})
_SINGLE = frozenset({"str", "trav", "ident", "num", "heredoc"})
_SPACE = frozenset(" \t\r\n\f\v")
_CONSTANTS: dict[str, Any] = {"true": True, "false": False, "null": None}
MAX_NUMBER_DIGITS = 4000
MAX_NESTING = 100


class _Parser:
    def __init__(self, text: str) -> None:
        self.s = text
        self.toks: list[Token] = tokens(text)
        self.n = len(self.toks)
        self.i = 0
        # index of each bracket's partner, filled while an expression's extent is found
        self.partner: dict[int, int] = {}

    # -- structure -------------------------------------------------------
    def body(self, closing: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {}
        toks, n = self.toks, self.n
        while True:
            i = self.i
            while i < n and toks[i].kind in _BLANK:
                i += 1
            if i >= n:
                if closing:
                    raise Unsupported("unclosed block")
                self.i = i
                return out
            t = toks[i]
            if closing and t.kind == "op" and t.text == closing:
                self.i = i + 1
                return out
            if t.kind != "ident":
                raise Unsupported("expected an identifier")
            name = t.text
            i += 1
            while i < n and toks[i].kind == "ws":
                i += 1
            if i < n and toks[i].kind == "op" and toks[i].text == "=":
                if name in out:
                    raise Unsupported("duplicate attribute")
                if i + 2 < n and toks[i + 1].kind in _SINGLE and toks[i + 2].kind == "nl":
                    # ``name = value`` and a line break: what expression() would find
                    out[name] = _single(toks[i + 1])
                    self.i = i + 2
                    continue
                self.i = i + 1
                out[name] = self.expression()
            else:
                self.i = i
                out.setdefault(name, []).append(self.block())

    def block(self) -> dict[str, Any]:
        labels: list[str] = []
        toks, n = self.toks, self.n
        i = self.i
        while True:
            while i < n and toks[i].kind == "ws":
                i += 1
            if i >= n:
                raise Unsupported("block without body")
            t = toks[i]
            if t.kind in ("str", "ident"):
                labels.append(t.text)
            elif t.kind == "op" and t.text == "{":
                i += 1
                break
            else:
                raise Unsupported("bad block label")
            i += 1
        self.i = i
        inner = self.body("}")
        inner["__is_block__"] = True
        node: dict[str, Any] = inner
        for label in reversed(labels):
            node = {label: node}
        return node

    def expression(self) -> Any:
        """The value of the expression starting at the cursor: it ends at a line break
        or comment outside brackets, or before a closing bracket it did not open."""
        toks, n, partner = self.toks, self.n, self.partner
        i = start = self.i
        while i < n and toks[i].kind == "ws":
            i += 1
        if i < n and toks[i].kind == "heredoc":
            self.i = i + 1
            return '"' + toks[i].text + '"'
        stack: list[int] = []
        while i < n:
            t = toks[i]
            kind = t.kind
            if kind == "op":
                text = t.text
                if text in _OPEN:
                    stack.append(i)
                elif text in _CLOSE:
                    if not stack:
                        break
                    opened = stack.pop()
                    if _OPEN[toks[opened].text] != text:
                        raise Unsupported("mismatched bracket")
                    partner[opened] = i
            elif not stack and (kind == "nl" or (kind == "ws" and t.text.startswith("/*"))):
                break
            i += 1
        if stack:
            raise Unsupported("unclosed bracket")
        self.i = i
        return self.convert(start, i)

    # -- values ------------------------------------------------------------
    def convert(self, lo: int, hi: int) -> Any:
        """python-hcl2's value for the expression in tokens ``lo:hi``."""
        toks = self.toks
        while lo < hi and toks[lo].kind in _BLANK:
            lo += 1
        while hi > lo and toks[hi - 1].kind in _BLANK:
            hi -= 1
        if lo == hi:
            raise Unsupported("empty expression")
        first = toks[lo]
        kind = first.kind
        if hi - lo == 1 and kind in _SINGLE:
            return _single(first)
        if kind == "op":
            text = first.text
            if (
                hi - lo == 2
                and text == "-"
                and toks[lo + 1].kind == "num"
                and toks[lo + 1].start == first.end
            ):
                return _number("-" + toks[lo + 1].text)
            if (text == "[" or text == "{") and self.partner.get(lo) == hi - 1:
                if self._is_for(lo + 1):
                    return "${" + render(toks[lo:hi]) + "}"
                if text == "[":
                    return [self.convert(a, b) for a, b in self._items(lo + 1, hi - 1, False)]
                return self._object(lo + 1, hi - 1)
        raw = self.s[first.start : toks[hi - 1].end]
        if _TRAVERSAL.match(raw):
            return "${" + raw + "}"
        return "${" + render(toks[lo:hi]) + "}"

    def _is_for(self, i: int) -> bool:
        """``[for ...`` / ``{for ...``: blanks, then ``for``, then a blank."""
        toks = self.toks
        while toks[i].text[0] == "\n":
            i += 1
        t = toks[i]
        return t.kind == "ident" and t.text == "for" and self.s[t.end : t.end + 1] in _SPACE

    def _items(self, lo: int, hi: int, newlines: bool) -> list[tuple[int, int]]:
        """Token ranges of the items of a list (split at commas) or an object body (at
        commas and line breaks) outside nested brackets; blank items are dropped, an
        item missing between two commas is refused."""
        toks, partner = self.toks, self.partner
        items: list[tuple[int, int]] = []
        start, meaningful, since_comma = lo, False, True
        i = lo
        while i < hi:
            t = toks[i]
            kind = t.kind
            if kind == "op":
                if t.text == ",":
                    if not meaningful and not since_comma:
                        raise Unsupported("missing item")
                    if meaningful:
                        items.append((start, i))
                    start, meaningful, since_comma = i + 1, False, False
                    i += 1
                    continue
                meaningful = True
                if t.text in _OPEN:
                    i = partner[i]
            elif kind == "nl":
                if newlines and meaningful:
                    items.append((start, i))
                    start, meaningful, since_comma = i + 1, False, True
            elif kind != "ws":
                meaningful = True
            i += 1
        if meaningful:
            items.append((start, hi))
        return items

    def _object(self, lo: int, hi: int) -> dict[str, Any]:
        toks, partner = self.toks, self.partner
        out: dict[str, Any] = {}
        for a, b in self._items(lo, hi, True):
            while toks[a].kind in _BLANK:
                a += 1
            i = a
            while i < b:
                t = toks[i]
                if t.kind == "op":
                    if t.text == "=" or t.text == ":":
                        break
                    if t.text in _OPEN:
                        i = partner[i]
                i += 1
            else:
                raise Unsupported("object item")
            key = self.s[toks[a].start : toks[i - 1].end].strip() if i > a else ""
            out[_object_key(key)] = self.convert(i + 1, b)
        return out


def _single(t: Token) -> Any:
    """The value of an expression that is one token of a ``_SINGLE`` kind."""
    kind = t.kind
    if kind == "str":
        return template(t.text)
    if kind == "trav":
        return "${" + t.text + "}"
    if kind == "ident":
        # a bare word (``type = bool``) is kept as written
        return _CONSTANTS.get(t.text, t.text)
    if kind == "num":
        return _number(t.text)
    return '"' + t.text + '"'  # heredoc


def _number(raw: str) -> Any:
    if len(raw) > MAX_NUMBER_DIGITS:
        return "${" + raw + "}"  # too long to convert safely: kept as its text
    return float(raw) if ("." in raw or "e" in raw or "E" in raw) else int(raw)


def _object_key(key: str) -> str:
    """python-hcl2's key for an object item: a name as written, a quoted key with its
    interpolations re-printed, any other expression (``(local.x)``, ``a.b``) as
    ``${...}``."""
    if _IDENT.fullmatch(key):
        return key
    if key.startswith('"') and string_end(key, 0) == len(key):
        return template(key)
    if _TRAVERSAL.match(key):
        return "${" + render(tokens(key)) + "}"
    if key.startswith("("):
        parser = _Parser(key)
        if parser.expression() and parser.partner.get(0) == parser.n - 1:
            return "${" + render(parser.toks) + "}"
    raise Unsupported("object key")


def nesting_depth(text: str) -> int:
    """The deepest bracket nesting in ``text`` (strings and comments counted too: an
    upper bound, in one linear pass)."""
    if text.count("[") + text.count("{") + text.count("(") <= MAX_NESTING:
        return 0  # cannot be deeper than the limit: not worth the pass
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
