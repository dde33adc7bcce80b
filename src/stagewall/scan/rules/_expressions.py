"""GitHub Actions expressions (``${{ ... }}``), read for the values they can take.

The grammar of the expression language: literals (``'x'``, numbers, ``true``, ``false``,
``null``), context references (``inputs.env``, ``matrix.target``, ``env.X``,
``github.event.inputs.env``), function calls, ``!``, comparisons and ``&&``/``||`` (which
give one of their operands, so ``inputs.env == 'production' && 'PROD_URL' || 'STG_URL'``
is one of the two names). A reference takes each value a resolver gives it (a matrix's
values, an input's options); each combination is evaluated once, so a value is known
together with the reference values it came from. Functions: ``format``, ``join``,
``fromJSON``, ``toJSON``, ``contains``, ``startsWith``, ``endsWith``; ``toUpper``/
``toLower`` (``upper``/``lower``) change the case, and any other function is read as
the words of its arguments joined by ``_`` (an environment word in them stays one).
What cannot be known (a reference without values, ``vars.X``, ``hashFiles``) is
``UNKNOWN``: it gives no name, and a condition on it may go either way.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

_MAX = 64


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()

Value = str | bool | float | None | tuple[str, ...] | _Unknown
Bound = frozenset[tuple[str, str]]
Resolver = Callable[[str], list[tuple[str, str]]]


@dataclass(frozen=True)
class Node:
    """``kind`` is ``lit`` (``value``), ``ref`` (``name``), ``call`` (``name``, ``args``),
    ``not`` (``args[0]``) or an operator (``&&``, ``||``, ``==``, ``!=``, ``<``...)."""

    kind: str
    value: Value = None
    name: str = ""
    args: tuple[Node, ...] = ()


_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)"
    r"|(?P<op>&&|\|\||==|!=|<=|>=|[<>!(),])|(?P<name>[A-Za-z_][A-Za-z0-9_.*-]*))"
)
_KEYWORDS: dict[str, Value] = {"true": True, "false": False, "null": None}


class Parser:
    """Recursive descent over one expression; ``ValueError`` for anything else."""

    def __init__(self, text: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        pos, text = 0, text.strip()
        while pos < len(text):
            match = _TOKEN.match(text, pos)
            if match is None or match.end() == pos:
                raise ValueError(f"cannot read {text[pos:]!r}")
            kind = match.lastgroup or ""
            self.tokens.append((kind, match.group(kind)))
            pos = match.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        self.i = 0

    def _peek(self) -> str:
        return self.tokens[self.i][1] if self.i < len(self.tokens) else ""

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        if self.i >= len(self.tokens) or (expected and self.tokens[self.i][1] != expected):
            raise ValueError(f"expected {expected or 'more'}")
        self.i += 1
        return self.tokens[self.i - 1]

    def parse(self) -> Node:
        node = self._binary(0)
        if self.i != len(self.tokens):
            raise ValueError("trailing text")
        return node

    _LEVELS = (("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">="))

    def _binary(self, level: int) -> Node:
        if level == len(self._LEVELS):
            return self._unary()
        node = self._binary(level + 1)
        while self._peek() in self._LEVELS[level]:
            op = self._take()[1]
            node = Node(op, args=(node, self._binary(level + 1)))
        return node

    def _unary(self) -> Node:
        if self._peek() == "!":
            self._take()
            return Node("not", args=(self._unary(),))
        if self._peek() == "(":
            self._take()
            node = self._binary(0)
            self._take(")")
            return node
        kind, text = self._take()
        if kind == "str":
            return Node("lit", value=text[1:-1].replace("''", "'"))
        if kind == "num":
            return Node("lit", value=float(text))
        if kind != "name":
            raise ValueError(f"unexpected {text!r}")
        if text in _KEYWORDS:
            return Node("lit", value=_KEYWORDS[text])
        if self._peek() != "(":
            return Node("ref", name=text)
        self._take("(")
        args: list[Node] = []
        while self._peek() != ")":
            args.append(self._binary(0))
            if self._peek() != ")":
                self._take(",")
        self._take(")")
        return Node("call", name=text, args=tuple(args))


def _text(value: Value) -> str | _Unknown:
    if isinstance(value, _Unknown):
        return UNKNOWN
    if isinstance(value, tuple):
        return "Array"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(value)
    return value


def _truth(value: Value) -> list[bool]:
    """The truth values ``value`` may have (both when unknown)."""
    if isinstance(value, _Unknown):
        return [True, False]
    return [bool(value) if not isinstance(value, tuple) else True]


def _combine(*parts: list[tuple[Value, Bound]]) -> Iterator[tuple[tuple[Value, ...], Bound]]:
    """Each combination of the operands' values whose reference values agree."""
    for combo in itertools.islice(itertools.product(*parts), _MAX * 4):
        bound: dict[str, str] = {}
        if all(bound.setdefault(ref, v) == v for _, b in combo for ref, v in b):
            yield tuple(value for value, _ in combo), frozenset(bound.items())


def _from_json(value: Value) -> Value:
    text = _text(value)
    if isinstance(text, _Unknown):
        return UNKNOWN
    try:
        loaded = json.loads(text)
    except ValueError:
        return UNKNOWN
    if isinstance(loaded, list) and all(isinstance(v, (str, int, float, bool)) for v in loaded):
        return tuple(_item(v) for v in loaded)
    if isinstance(loaded, (str, bool)) or loaded is None:
        return loaded
    if isinstance(loaded, (int, float)):
        return float(loaded)
    return UNKNOWN


def _item(value: str | int | float | bool) -> str:
    if isinstance(value, (bool, str)):
        return str(_text(value))
    return str(_text(float(value)))


def _call(name: str, args: tuple[Value, ...]) -> Value:
    lowered = name.lower()
    texts = [_text(a) for a in args]
    if lowered == "fromjson" and len(args) == 1:
        return _from_json(args[0])
    if lowered == "join" and args:
        if isinstance(args[0], tuple):
            sep = texts[1] if len(texts) > 1 else ","
            return UNKNOWN if isinstance(sep, _Unknown) else sep.join(args[0])
        return texts[0]
    if any(isinstance(t, _Unknown) for t in texts):
        return UNKNOWN
    words = [t for t in texts if isinstance(t, str)]
    if lowered == "format" and words:
        out = words[0].replace("{{", "\x00").replace("}}", "\x01")
        for i, arg in enumerate(words[1:]):
            out = out.replace("{" + str(i) + "}", arg)
        return out.replace("\x00", "{").replace("\x01", "}")
    if lowered == "tojson" and len(args) == 1:
        return json.dumps(args[0]) if isinstance(args[0], str) else UNKNOWN
    if lowered in ("contains", "startswith", "endswith") and len(words) == 2:
        hay, needle = words[0].lower(), words[1].lower()
        found = {"contains": needle in hay, "startswith": hay.startswith(needle)}
        return found.get(lowered, hay.endswith(needle))
    if lowered in ("toupper", "upper") and len(words) == 1:
        return words[0].upper()
    if lowered in ("tolower", "lower") and len(words) == 1:
        return words[0].lower()
    if lowered in ("hashfiles", "success", "always", "cancelled", "failure"):
        return UNKNOWN
    return "_".join(words) if words else UNKNOWN


def _compare(op: str, left: Value, right: Value) -> Value:
    if isinstance(left, _Unknown) or isinstance(right, _Unknown):
        return UNKNOWN
    a, b = _text(left), _text(right)
    if op in ("==", "!="):  # strings compare ignoring case
        same = str(a).lower() == str(b).lower()
        return same if op == "==" else not same
    try:
        x, y = float(str(a)), float(str(b))
    except ValueError:
        return False
    return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


_BOOLEAN = frozenset({"contains", "startswith", "endswith"})


def evaluate_with(node: Node, resolve: Resolver) -> list[tuple[Value, Bound]]:
    """Each value ``node`` can take, with the reference values it takes it for."""
    if node.kind == "lit":
        return [(node.value, frozenset())]
    if node.kind == "ref":
        found = resolve(node.name)
        return [(v, frozenset({(ref, v)})) for v, ref in found] or [(UNKNOWN, frozenset())]
    parts = [evaluate_with(arg, resolve) for arg in node.args]
    out: list[tuple[Value, Bound]] = []
    for values, bound in _combine(*parts):
        results: list[Value]
        if node.kind == "call":
            results = [_call(node.name, values)]
            if node.name.lower() in _BOOLEAN and results == [UNKNOWN]:
                results = [True, False]
        elif node.kind == "not":
            results = [not t for t in _truth(values[0])]
        elif node.kind == "&&":
            results = [values[1] if t else values[0] for t in _truth(values[0])]
        elif node.kind == "||":
            results = [values[0] if t else values[1] for t in _truth(values[0])]
        else:  # a comparison: either way when an operand is unknown
            compared = _compare(node.kind, values[0], values[1])
            results = [True, False] if compared is UNKNOWN else [compared]
        for result in results:
            if (result, bound) not in out and len(out) < _MAX:
                out.append((result, bound))
    return out


__all__ = ["UNKNOWN", "Node", "Parser", "evaluate_with"]
