"""HCL expressions as python-hcl2 writes them back: ``"${f(a, b)}"`` for ``f(a,b)``.

python-hcl2 turns every non-literal expression into ``${...}`` holding the expression
re-printed in a canonical layout: single spaces around binary operators, ``, ``
between items, object items joined by ``, `` with ``=``, comments and line breaks
dropped, trailing commas dropped, interpolations inside strings re-printed the same
way. This module tokenises an expression and prints that layout; anything it is not
sure about raises :class:`Unsupported` (the caller then asks python-hcl2).
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Unsupported(Exception):
    """Not in the fast subset; use python-hcl2."""


# one pass over a file: leading blanks are part of the next token's match (they are
# not tokens), strings without interpolation are one match (others go to string_end),
# a line comment and the line breaks and indentation after it are one ``nl`` token, as
# are consecutive line breaks (a ``nl`` that starts with a line break holds no comment);
# ``/* */`` is ``nl`` when it spans lines, else ``ws``; a traversal without blanks or
# splats (``aws_vpc.this[0].id``) is one ``trav`` token, printed as written
_TOKEN = re.compile(
    r"[ \t\r]*(?:"
    r"(?P<trav>[A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_-]*|\.\d+|\[\d+\])+)"
    r"|(?P<ident>[A-Za-z_][A-Za-z0-9_-]*)"
    r"|(?P<nl>(?:\#|//)[^\n]*(?:\n[ \t\r]*)*|(?:\n[ \t\r]*)+)"
    r"|(?P<heredoc><<)"
    r"|(?P<op>\.\.\.|=>|==|!=|<=|>=|&&|\|\||\[\*\]|\.\*|[-+*%<>!?:=,.()\[\]{}]|/(?![*/]))"
    r'|(?P<str>"[^"\\\n$%]*(?:(?:\\[^\n]|[$%](?!\{))[^"\\\n$%]*)*")'
    r"|(?P<num>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<comment>/\*.*?\*/)"
    r"|(?P<bad>/\*)"
    r"|\Z)",
    re.DOTALL,
)
_STRING_STOP = re.compile(r'[\\\n"}]|[$%]\{')
# python-hcl2's own heredoc terminals (hcl2.lark HEREDOC_TEMPLATE/_TRIM), so a heredoc
# ends exactly where python-hcl2 ends it: the first line holding only the marker
# (after optional whitespace), which must be followed by a newline
_HEREDOC = re.compile(r"<<(-?)([a-zA-Z][a-zA-Z0-9._-]*)\r?\n(?:(?:.|\n)*?\r?\n)??\s*\2\r?\n")
_BINARY = frozenset({"==", "!=", "<=", ">=", "&&", "||", "+", "*", "/", "%", "<", ">", "=>"})
_VALUES = frozenset({"num", "ident", "trav", "str", "heredoc"})
_VALUE_END = frozenset({")", "]", "}", "[*]", ".*"})
_OPEN = {"(": ")", "[": "]", "{": "}"}


class Token(NamedTuple):
    kind: str  # ws (``/* */`` on one line), nl, num, ident, trav, op, str, heredoc
    text: str
    start: int
    end: int


def string_end(s: str, i: int) -> int:
    """Index just past the string literal starting at ``s[i] == '"'``."""
    i += 1
    depth = 0
    search = _STRING_STOP.search
    while True:
        match = search(s, i)
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
            i = string_end(s, i)
        elif stop in ("${", "%{"):
            depth += 1
            i += 2
        else:  # "}"
            if depth:
                depth -= 1
            i += 1


def heredoc_end(s: str, i: int) -> int:
    """Index just past the closing marker of the heredoc at ``s[i:i+2] == "<<"``.

    python-hcl2 writes a heredoc as its source from ``<<`` to the closing marker, in
    quotes, wherever it stands (attribute, list item, call argument). The marker is
    followed by a newline, or ends the text (python-hcl2 appends a newline to a file)."""
    match = _HEREDOC.match(s, i)
    if match is None and not s.endswith("\n"):
        match = _HEREDOC.match(s + "\n", i)
    if match is None:
        raise Unsupported("heredoc")
    if "\r" in match.group(0):
        raise Unsupported("heredoc with CRLF line endings")
    return match.end() - 1


_KINDS = (None, *sorted(_TOKEN.groupindex, key=_TOKEN.groupindex.__getitem__))  # by group


def tokens(s: str) -> list[Token]:
    """The tokens of ``s``; blanks between them are not tokens (positions tell them)."""
    out: list[Token] = []
    append = out.append
    finditer = _TOKEN.finditer
    new = tuple.__new__
    kinds = _KINDS
    i = 0
    while True:
        heredoc = False
        for match in finditer(s, i):
            if match.start() != i:
                break  # nothing matched at i
            group = match.lastindex
            if group is None:  # the end, after blanks
                return out
            kind = kinds[group]
            text = match.group(group)
            end = match.end()
            start = end - len(text)
            if kind == "heredoc":
                end = heredoc_end(s, start)
                text = s[start:end]
                heredoc = True
            elif kind == "comment":
                kind = "nl" if "\n" in text else "ws"
            elif kind == "bad":
                raise Unsupported("unterminated comment")
            append(new(Token, (kind, text, start, end)))
            i = end
            if heredoc:
                break  # its body is not tokens: go on after it
        else:
            return out
        if heredoc:
            continue
        # a string with interpolations (or a character HCL does not have)
        while s[i] in " \t\r":
            i += 1
        if s[i] != '"':
            raise Unsupported(f"unexpected character {s[i]!r}")
        end = string_end(s, i)
        append(new(Token, ("str", s[i:end], i, end)))
        i = end


def template(raw: str) -> str:
    """A quoted string with each ``${...}`` re-printed; ``%{`` directives are refused."""
    if "%{" in raw.replace("%%{", ""):
        raise Unsupported("template directive")
    if "${" not in raw:
        return raw
    out: list[str] = []
    i, n = 0, len(raw)
    while i < n:
        if raw.startswith("$${", i):
            out.append("$${")
            i += 3
            continue
        if raw.startswith("${", i):
            end = _interpolation_end(raw, i + 2)
            inner = raw[i + 2 : end]
            if inner.startswith("~") or inner.endswith("~"):
                raise Unsupported("strip marker")
            out.append("${" + render(tokens(inner)) + "}")
            i = end + 1
            continue
        out.append(raw[i])
        i += 1
    return "".join(out)


def _interpolation_end(s: str, i: int) -> int:
    depth = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c == '"':
            i = string_end(s, i)
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            if depth == 0:
                return i
            depth -= 1
        i += 1
    raise Unsupported("unterminated interpolation")


class _Level:
    def __init__(self, kind: str, close: str = "") -> None:
        self.kind = kind  # call, paren, list, index, object, for, root
        self.close = close
        self.questions = 0
        self.key = kind == "object"  # in an object, waiting for an item's key


def render(toks: list[Token]) -> str:
    """The canonical text of an expression's tokens."""
    code = [t for t in toks if t.kind not in ("ws",)]
    out: list[str] = []
    stack: list[_Level] = []
    prev: Token | None = None

    def nxt(j: int) -> Token | None:
        while j < len(code) and code[j].kind == "nl":
            j += 1
        return code[j] if j < len(code) else None

    for i, t in enumerate(code):
        top = stack[-1] if stack else None
        if t.kind == "nl":
            following = nxt(i)
            if (
                top is not None
                and top.kind == "object"
                and prev is not None
                and prev.text not in ("{", ",")
                and following is not None
                and following.text not in ("}", ",")
            ):
                out.append(", ")
                top.key = True
                prev = Token("op", ",", t.start, t.end)
            continue
        text = t.text
        if t.kind in _VALUES:
            if (
                t.kind in ("num", "ident")
                and top is not None
                and top.kind == "for"
                and text in ("in", "if")
            ):
                out.append(f" {text} ")
            elif text == "for" and prev is not None and prev.text in ("[", "{"):
                stack[-1].kind = "for"
                out.append("for ")
            else:
                after_keyword = (
                    prev is not None
                    and prev.text in ("for", "in", "if")
                    and any(level.kind == "for" for level in stack)
                )
                if prev is not None and prev.kind in _VALUES and not after_keyword:
                    raise Unsupported("two values in a row")
                if t.kind == "str":
                    out.append(template(text))
                elif t.kind == "heredoc":
                    out.append(f'"{text}"')
                else:
                    out.append(text)
        elif text in _OPEN:
            if text == "(":
                kind = "call" if prev is not None and prev.kind in ("ident", "trav") else "paren"
            elif text == "[":
                value_end = prev is not None and (prev.kind in _VALUES or prev.text in _VALUE_END)
                kind = "index" if value_end else "list"
            else:
                kind = "object"
            stack.append(_Level(kind, _OPEN[text]))
            out.append(text)
        elif text in (")", "]", "}"):
            if not stack or stack[-1].close != text:
                raise Unsupported("mismatched bracket")
            stack.pop()
            out.append(text)
        elif text == ",":
            following = nxt(i + 1)
            if following is not None and following.text in (")", "]", "}"):
                pass  # trailing comma
            else:
                out.append(", ")
                if top is not None and top.kind == "object":
                    top.key = True
        elif text == "?":
            if top is not None:
                top.questions += 1
            else:
                stack.append(_Level("root"))
                stack[-1].questions += 1
            out.append(" ? ")
        elif text == ":":
            holder = top if top is not None else None
            if holder is not None and holder.questions:
                holder.questions -= 1
            elif holder is not None and holder.kind == "object" and holder.key:
                # ``{ "k" : v }``: python-hcl2 writes every object item with ``=``
                holder.key = False
                out.append(" = ")
                prev = t
                continue
            elif holder is None or holder.kind != "for":
                raise Unsupported("misplaced ':'")
            out.append(" : ")
        elif text == "=":
            if top is None or top.kind != "object" or not top.key:
                raise Unsupported("'=' outside an object key")
            top.key = False
            out.append(" = ")
        elif text == "-" or text == "!":
            unary = (
                prev is None
                or (prev.kind == "op" and prev.text not in _VALUE_END and prev.text != "...")
                or (
                    prev.kind == "ident"
                    and prev.text in ("in", "if")
                    and any(level.kind == "for" for level in stack)
                )
            )
            if text == "!" and not unary:
                raise Unsupported("misplaced '!'")
            out.append(text if unary else f" {text} ")
        elif text in _BINARY:
            out.append(f" {text} ")
        elif text == "...":
            out.append(" ..." if top is not None and top.kind == "call" else "...")
        elif text in (".", ".*", "[*]"):
            out.append(text)
        else:
            raise Unsupported(f"operator {text}")
        prev = t
    if stack and not (len(stack) == 1 and stack[0].kind == "root"):
        raise Unsupported("unclosed bracket")
    return "".join(out)


__all__ = ["Token", "Unsupported", "heredoc_end", "render", "string_end", "template", "tokens"]
