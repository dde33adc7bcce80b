"""Two adjacent name words of one source row: a person's name, or two words.

A schema name or a copied literal whose two adjacent words are each a source
value of a name column (``max_price`` beside customers called Max and Price)
names a person only if a person is called so. First and last names live in
separate columns, so the words alone cannot tell: two customers, Max Young and
Mark Price, make ``max_price`` two words (a column's name in its technical sense)
and no one's name. A real Max Price is one source row whose first name is Max and
whose last name is Price (or the other way round: ``price_max``), so the pair is
looked up as such (:func:`source_pairs`: one read of each table that holds a
column the plan masks as a first name and one it masks as a last name, for the
rows whose both values are words of the pairs, and those beyond ASCII, folded
here). A pair that is one row's is judged as a name (SW520), as a run of words
that is one value of a full-name column is; any other pair is judged word by word
(:mod:`._schemanames`: a lone word of no English list is still a name).

A person whose first and last names are kept in two tables (joined by a key) is
not found so: the lone-word rules are what judge such a pair.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from stagewall.masking.plan import Plan
from stagewall.masking.schema import Schema

FIRST_NAME = "first_name"
LAST_NAME = "last_name"
Pair = frozenset[str]


def adjacent_pairs(texts: Iterable[str], singles: set[str]) -> set[Pair]:
    """The pairs of adjacent words of ``texts`` (names or literals, split as
    :func:`._schemanames.runs` splits them) whose both words are in ``singles``
    (single words that are source values of name columns), as unordered pairs."""
    from stagewall.masking._schemanames import runs

    out: set[Pair] = set()
    for text in texts:
        for run in runs(text):
            if len(run) == 2 and run[0] in singles and run[1] in singles:
                out.add(frozenset(run))
    return out


def source_pairs(db: Any, plan: Plan, schema: Schema, pairs: set[Pair]) -> set[Pair]:
    """Which of ``pairs`` are the first and last name of one row of the source
    ``db`` (in either order): for each table with a column the plan masks as a
    first name and one it masks as a last name, one read of the rows whose both
    values are words of the pairs once lower-cased, or beyond ASCII (folded here)."""
    from stagewall.masking._schemanames import _NON_ASCII, _text, fold

    if not pairs:
        return set()
    wanted = sorted({w for p in pairs for w in p})
    out: set[Pair] = set()
    for table in schema.tables:
        tplan = plan.tables.get(table.qualified)
        if tplan is None or tplan.reference:
            continue
        by: dict[str, list[str]] = {FIRST_NAME: [], LAST_NAME: []}
        for col in table.columns:
            cp = tplan.columns.get(col.name)
            if cp is not None and cp.transformer in by:
                by[cp.transformer].append(col.name)
        for first in by[FIRST_NAME]:
            for last in by[LAST_NAME]:
                for a, b in _rows(db, table, first, last, wanted, _NON_ASCII[db.backend]):
                    if a is not None and b is not None:
                        got = frozenset((fold(_text(a)), fold(_text(b))))
                        if got in pairs:
                            out.add(got)
    return out


def _rows(db: Any, table: Any, first: str, last: str, wanted: list[str], beyond: str) -> list[Any]:
    """The distinct lower-cased ``(first, last)`` values of ``table`` whose both
    values are in ``wanted`` (lower-cased) or beyond ASCII."""

    def q(name: Any) -> str:  # a % in a name is no placeholder
        text = str(name)
        return text.replace("%", "%%") if db.placeholder == "%s" else text

    params: list[Any]
    if db.backend == "postgresql":
        marks, params = "= ANY(%s::text[])", [wanted, wanted]
    else:
        marks = "IN (" + ", ".join([db.placeholder] * len(wanted)) + ")"
        params = [*wanted, *wanted]
    f, la = q(db.q(first)), q(db.q(last))
    where = " AND ".join(f"(lower({c}) {marks} OR {beyond.format(c=c)})" for c in (f, la))
    sql = f"SELECT DISTINCT lower({f}), lower({la}) FROM {q(db.qt(table))} WHERE {where}"  # noqa: S608 - identifiers quoted by q()
    return list(db.select(sql, params))


__all__ = ["adjacent_pairs", "source_pairs"]
