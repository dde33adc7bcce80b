"""Sigma rules (parsed and validated by pySigma) compiled to predicates over events.

pySigma parses the YAML, resolves the condition into a tree and applies the value
modifiers; stagewall walks that tree once and builds plain Python closures, so a
rule costs a few attribute reads and comparisons per event. Supported values:
strings with wildcards (case-insensitive, as Sigma requires), numbers, booleans,
null, ``re``, ``cidr``, ``exists`` and ``gt/gte/lt/lte``; field names are the
normalised event fields. Anything else is refused when the rule loads.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.rule import SigmaRule
from sigma.types import (
    CompareOperators,
    SigmaBool,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaNull,
    SigmaNumber,
    SigmaRegularExpression,
    SigmaString,
    SpecialChars,
)

from stagewall.errors import SigmaRuleInvalid
from stagewall.monitoring.events import CATEGORIES, FIELD_NAMES, Event

Pred = Callable[[Event], bool]

# What a term costs to evaluate, roughly: the terms of an AND or OR are evaluated
# cheapest first (a field compared with a value or a set before a search through a
# statement's text). Every term is a pure function of the event that never raises,
# so the order changes when an AND or OR is decided, never what it decides
# (tests/monitoring/test_detect.py compares both orders on the labelled month).
CHEAP, TEXT, SCAN, HEAVY = 1, 2, 4, 8


def _costed(pred: Pred, cost: int) -> Pred:
    pred._cost = cost  # type: ignore[attr-defined]
    return pred


def cost(pred: Pred) -> int:
    """The estimated cost of a compiled term (TEXT when it was not tagged)."""
    return int(getattr(pred, "_cost", TEXT))


def _order(preds: list[Pred]) -> list[Pred]:
    """The terms cheapest first; terms of equal cost keep the rule's order."""
    return sorted(preds, key=cost)


@dataclass(frozen=True)
class CompiledRule:
    """One single-event Sigma rule, ready to evaluate."""

    id: str
    name: str
    title: str
    level: str
    description: str
    match: Pred
    classes: frozenset[int] | None
    products: frozenset[str] | None
    origin: str
    # Tests of one field each that every event the rule matches passes (field, test):
    # an event failing one of them cannot match (the detector skips the rule for it).
    needs: tuple[tuple[str, Pred], ...] = ()


def _rule_error(rule: SigmaRule, what: str) -> SigmaRuleInvalid:
    return SigmaRuleInvalid(
        f"Sigma rule {rule.name or rule.title!r}: {what}",
        hint="see docs/monitoring.md for the fields and modifiers stagewall evaluates",
    )


def _string_pred(field: str, value: SigmaString) -> Pred:
    parts = value.s
    if not value.contains_special():
        want = value.to_plain().lower()

        def eq(ev: Event) -> bool:
            v = getattr(ev, field)
            return v is not None and str(v).lower() == want

        return _costed(eq, CHEAP)
    plain = [p for p in parts if isinstance(p, str)]
    wild = SpecialChars.WILDCARD_MULTI
    if len(parts) == 3 and parts[0] is wild and parts[2] is wild and len(plain) == 1:
        needle = plain[0].lower()
        return _costed(lambda ev: needle in str(getattr(ev, field) or "").lower(), SCAN)
    if len(parts) == 2 and parts[1] is wild and isinstance(parts[0], str):
        prefix = parts[0].lower()
        return _costed(lambda ev: str(getattr(ev, field) or "").lower().startswith(prefix), TEXT)
    if len(parts) == 2 and parts[0] is wild and isinstance(parts[1], str):
        suffix = parts[1].lower()
        return _costed(lambda ev: str(getattr(ev, field) or "").lower().endswith(suffix), TEXT)
    pattern = "".join(
        re.escape(p) if isinstance(p, str) else (".*" if p is wild else ".") for p in parts
    )
    rx = re.compile(f"^{pattern}$", re.IGNORECASE | re.DOTALL)
    return _costed(lambda ev: rx.match(str(getattr(ev, field) or "")) is not None, HEAVY)


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or v is None or v == "":
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def _value_pred(rule: SigmaRule, field: str, value: Any) -> Pred:
    if field not in FIELD_NAMES:
        raise _rule_error(rule, f"unknown field {field!r}")
    if isinstance(value, SigmaString):
        return _string_pred(field, value)
    if isinstance(value, SigmaBool):
        want_bool = value.boolean
        return _costed(lambda ev: getattr(ev, field) is want_bool, CHEAP)
    if isinstance(value, SigmaNumber):
        want_num = float(value.number)
        return _costed(lambda ev: _number(getattr(ev, field)) == want_num, TEXT)
    if isinstance(value, SigmaNull):
        return _costed(lambda ev: getattr(ev, field) in (None, ""), CHEAP)
    if isinstance(value, SigmaExists):
        exists = value.exists
        return _costed(lambda ev: (getattr(ev, field) not in (None, "")) is exists, CHEAP)
    if isinstance(value, SigmaRegularExpression):
        flags = re.IGNORECASE if any("i" in str(f).lower() for f in value.flags) else 0
        rx = re.compile(value.regexp.to_plain(), flags)
        return _costed(lambda ev: rx.search(str(getattr(ev, field) or "")) is not None, HEAVY)
    if isinstance(value, SigmaCIDRExpression):
        network = value.network

        def in_net(ev: Event) -> bool:
            try:
                return ipaddress.ip_address(str(getattr(ev, field))) in network
            except ValueError:
                return False

        return _costed(in_net, HEAVY)
    if isinstance(value, SigmaCompareExpression):
        limit = float(value.number.number)
        op = value.op

        def cmp(ev: Event) -> bool:
            n = _number(getattr(ev, field))
            if n is None:
                return False
            if op is CompareOperators.GT:
                return n > limit
            if op is CompareOperators.GTE:
                return n >= limit
            if op is CompareOperators.LT:
                return n < limit
            return n <= limit

        return _costed(cmp, TEXT)
    raise _rule_error(rule, f"field {field!r}: value type {type(value).__name__} is not supported")


def _string_set(node: ConditionOR) -> Pred | None:
    """One predicate for ``field: [a, b*, *c*]`` lists: the field is read and lowered once."""
    fields = {getattr(a, "field", None) for a in node.args}
    if len(fields) != 1 or not all(
        isinstance(a, ConditionFieldEqualsValueExpression) and isinstance(a.value, SigmaString)
        for a in node.args
    ):
        return None
    field = fields.pop()
    if not isinstance(field, str) or field not in FIELD_NAMES:
        return None
    wild = SpecialChars.WILDCARD_MULTI
    equal: set[str] = set()
    contains: list[str] = []
    starts: list[str] = []
    ends: list[str] = []
    for a in node.args:
        value = getattr(a, "value", None)
        if not isinstance(value, SigmaString):
            return None
        parts = value.s
        if not value.contains_special():
            equal.add(value.to_plain().lower())
        elif (
            len(parts) == 3 and parts[0] is wild and parts[2] is wild and isinstance(parts[1], str)
        ):
            contains.append(parts[1].lower())
        elif len(parts) == 2 and parts[1] is wild and isinstance(parts[0], str):
            starts.append(parts[0].lower())
        elif len(parts) == 2 and parts[0] is wild and isinstance(parts[1], str):
            ends.append(parts[1].lower())
        else:
            return None
    starts_t, ends_t, contains_t = tuple(starts), tuple(ends), tuple(contains)
    empty = "" in equal
    if not (starts_t or ends_t or contains_t):  # the usual case: a list of values

        def match_equal(ev: Event) -> bool:
            v = getattr(ev, field)
            if v is None or v == "":
                return empty
            return str(v).lower() in equal

        return _costed(match_equal, CHEAP)

    def match(ev: Event) -> bool:
        v = getattr(ev, field)
        if v is None or v == "":
            return empty
        text = str(v).lower()
        if text in equal:
            return True
        if starts_t and text.startswith(starts_t):
            return True
        if ends_t and text.endswith(ends_t):
            return True
        for n in contains_t:  # noqa: SIM110 (a loop, not a generator per event)
            if n in text:
                return True
        return False

    return _costed(match, SCAN if contains_t else TEXT)


def _all(preds: list[Pred]) -> Pred:
    """AND (cheapest term first) without a generator per event for two or three terms."""
    if len(preds) == 1:
        return preds[0]
    total = sum(cost(p) for p in preds)
    preds = _order(preds)
    if len(preds) == 2:
        a, b = preds
        return _costed(lambda ev: a(ev) and b(ev), total)
    if len(preds) == 3:
        a, b, c = preds
        return _costed(lambda ev: a(ev) and b(ev) and c(ev), total)
    return _costed(_loop(preds, False), total)


def _any(preds: list[Pred]) -> Pred:
    """OR (cheapest term first), as :func:`_all`."""
    if len(preds) == 1:
        return preds[0]
    total = sum(cost(p) for p in preds)
    preds = _order(preds)
    if len(preds) == 2:
        a, b = preds
        return _costed(lambda ev: a(ev) or b(ev), total)
    if len(preds) == 3:
        a, b, c = preds
        return _costed(lambda ev: a(ev) or b(ev) or c(ev), total)
    return _costed(_loop(preds, True), total)


def _loop(preds: list[Pred], decisive: bool) -> Pred:
    """OR (``decisive`` True) or AND (False) of many terms: a loop that stops at the
    first term whose truth is ``decisive``, without a generator per event."""
    terms = tuple(preds)

    def pred(ev: Event) -> bool:
        for p in terms:
            if (not p(ev)) is not decisive:
                return decisive
        return not decisive

    return pred


@dataclass(frozen=True)
class _Term:
    """A compiled condition, the fields it reads, and tests it implies (see ``needs``).

    ``needs`` maps a field to a test of that field alone that is true for every event
    ``pred`` is true for: a necessary condition, so an event failing it is not matched.
    """

    pred: Pred
    fields: frozenset[str]
    needs: dict[str, Pred]


def _term(pred: Pred, fields: frozenset[str], needs: dict[str, Pred]) -> _Term:
    if len(fields) == 1:  # a test of one field is its own necessary condition (exactly)
        (only,) = fields
        return _Term(pred, fields, {only: pred})
    return _Term(pred, fields, needs)


def _tree(rule: SigmaRule, node: Any) -> _Term:
    if isinstance(node, ConditionOR):
        fast = _string_set(node)
        if fast is not None:
            return _term(fast, frozenset({str(getattr(node.args[0], "field", ""))}), {})
    if isinstance(node, ConditionAND):
        terms = [_tree(rule, a) for a in node.args]
        by_field: dict[str, list[Pred]] = {}
        for t in terms:  # every term must hold: each term's tests are necessary
            for f, test in t.needs.items():
                by_field.setdefault(f, []).append(test)
        return _term(
            _all([t.pred for t in terms]),
            frozenset().union(*(t.fields for t in terms)),
            {f: _all(tests) for f, tests in by_field.items()},
        )
    if isinstance(node, ConditionOR):
        terms = [_tree(rule, a) for a in node.args]
        common = set(terms[0].needs).intersection(*(t.needs for t in terms[1:]))
        return _term(  # one of the terms holds: so does the OR of their tests of a field
            _any([t.pred for t in terms]),
            frozenset().union(*(t.fields for t in terms)),
            {f: _any([t.needs[f] for t in terms]) for f in sorted(common)},
        )
    if isinstance(node, ConditionNOT):
        inner = _tree(rule, node.args[0])
        pred = inner.pred
        return _term(_costed(lambda ev: not pred(ev), cost(pred)), inner.fields, {})
    if isinstance(node, ConditionFieldEqualsValueExpression):
        return _term(_value_pred(rule, node.field, node.value), frozenset({node.field}), {})
    if isinstance(node, ConditionValueExpression):
        raise _rule_error(rule, "keyword (field-less) detections are not supported; name a field")
    raise _rule_error(rule, f"condition element {type(node).__name__} is not supported")


def compile_rule(rule: SigmaRule, origin: str) -> CompiledRule:
    """Compile one pySigma rule (its own parse errors are raised by pySigma as ConfigError)."""
    if rule.errors:
        raise _rule_error(rule, "; ".join(str(e) for e in rule.errors))
    src = rule.logsource
    if src.product not in (None, "stagewall"):
        raise _rule_error(rule, f"logsource product {src.product!r} is not stagewall")
    classes: frozenset[int] | None = None
    if src.category is not None:
        if src.category not in CATEGORIES:
            raise _rule_error(
                rule,
                f"logsource category {src.category!r} is unknown (use one of "
                f"{', '.join(sorted(CATEGORIES))})",
            )
        classes = frozenset({int(CATEGORIES[src.category])})
    products = frozenset({src.service}) if src.service else None
    terms = [_tree(rule, c.parsed) for c in rule.detection.parsed_condition]
    common = set(terms[0].needs).intersection(*(t.needs for t in terms[1:])) if terms else set()
    match = _any([t.pred for t in terms])
    needs = {f: _any([t.needs[f] for t in terms]) for f in common}
    return CompiledRule(
        id=str(rule.id) if rule.id else "",
        name=rule.name or str(rule.id or rule.title),
        title=rule.title,
        level=rule.level.name.lower() if rule.level else "medium",
        description=rule.description or "",
        match=match,
        classes=classes,
        products=products,
        origin=origin,
        needs=tuple(sorted(needs.items(), key=lambda item: item[0])),
    )


__all__ = ["CompiledRule", "Pred", "compile_rule"]
