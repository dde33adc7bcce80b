"""Shared scaffolding of the rare-word red-team tests (test_redteam_otherrows.py,
test_redteam_gluedletters.py, test_redteam_gluednames.py, test_redteam_fullnames.py,
test_redteam_streetcores.py, test_redteam_cities.py).

Each builds a ``customers`` table whose notes and JSON documents (one column per
JSON type of the backend) are ordinary, names a rare word in some rows (a surname,
a street's name, a town), copies it with the unedited auto plan, plants the word
into other rows' notes and documents of the target, and holds verify to the
independent checker's counts (``survivors_anywhere`` in survivors.py, filtered to
the rows that hold the word). What differs between them (the table's columns, the
planted texts, the checker's kind and rows, the kind of hit counted) is passed in.

The second part is test_redteam_otherrows.py's source (customer B, ``Ana
Ganthriv``, a surname no name list knows) that the glued-word and full-name tests
reuse.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import KEY
from tests.masking.survivors import _rows as rows_of
from tests.masking.survivors import survivors_anywhere
from tests.masking.test_leak_traps import _customer as _leak_trap_customer
from tests.masking.test_leak_traps import _execute
from tests.masking.test_redteam_leakjson import _json_columns

Checker = Callable[[str, str, list[str]], dict[str, int]]

ORDINARY_NOTE = "Deliver before noon, leave it at the house."
ORDINARY_DOC: dict[str, Any] = {"theme": "dark", "notes": "Leave it at the house"}


def customers(url: str, columns: str, rows: list[list[Any]], docs: dict[int, Any]) -> list[str]:
    """Create ``customers (id INTEGER PRIMARY KEY, <columns>, <JSON columns>)`` in
    ``url`` and insert ``rows`` (each its id, then a value per column of
    ``columns``), every JSON column of row ``i`` holding ``docs[i]`` or
    :data:`ORDINARY_DOC`. The JSON column names."""
    cols = _json_columns(url)
    decl = ", ".join(f"{c} {t}" for c, t in cols)
    values = [r + [json.dumps(docs.get(r[0], ORDINARY_DOC))] * len(cols) for r in rows]
    _execute(
        url,
        [
            (f"CREATE TABLE customers (id INTEGER PRIMARY KEY, {columns}, {decl})", []),
            (f"INSERT INTO customers VALUES ({', '.join('?' * len(values[0]))})", values),
        ],
    )
    return [c for c, _ in cols]


def checker(column: str, kind: str, where: str) -> Checker:
    """The independent checker: the cells of the notes and of the JSON columns (any
    row) holding a value of ``column`` (kind ``kind``) of the rows ``where``."""

    def found(src: str, tgt: str, cols: list[str]) -> dict[str, int]:
        return survivors_anywhere(
            src, tgt, "customers", {column: kind}, {"customers": ["notes", *cols]}, where=where
        )

    return found


def full_name_checker(where: str, columns: tuple[str, ...]) -> Callable[..., dict[str, int]]:
    """The independent checker: the cells of the notes and of the JSON columns (any
    row) writing the name of a row ``where`` of ``customers``, its name in
    ``columns`` (first and last name; first, middle and last; or one full name)."""

    def found(src: str, tgt: str, cols: list[str], where: str = where) -> dict[str, int]:
        return survivors_anywhere(
            src,
            tgt,
            "customers",
            {},
            {"customers": ["notes", *cols]},
            where=where,
            full_names=columns,
        )

    return found


def word_hits(report: Any, column: str, kind: str | None = None) -> int:
    """Cells of ``column`` verify counted as holding a rare word (of ``kind``, or any)."""
    # (getattr: so the test files run, and fail, on the code before their fix)
    return sum(
        h.cells
        for h in getattr(report, "word_hits", ())
        if h.column == column and kind in (None, h.kind)
    )


def planted(
    cols: list[str], notes: list[str], docs: list[Any], own: dict[int, str] | None = None
) -> list[tuple[str, list[Any]]]:
    """Statements writing ``notes`` and ``docs`` into rows 1.. (never those holding
    the word) of a database, then each ``own[i]`` into row ``i``'s note."""
    out: list[tuple[str, list[Any]]] = [
        ("UPDATE customers SET notes = ? WHERE id = ?", [(t, k + 1)]) for k, t in enumerate(notes)
    ]
    out += [
        (f"UPDATE customers SET {c} = ? WHERE id = ?", [(json.dumps(d), k + 1)])
        for c in cols
        for k, d in enumerate(docs)
    ]
    out += [
        ("UPDATE customers SET notes = ? WHERE id = ?", [(t, i)]) for i, t in (own or {}).items()
    ]
    return out


def planted_at(
    cols: list[str], notes: list[str], docs: list[Any], at: Sequence[int]
) -> list[tuple[str, list[Any]]]:
    """Statements writing ``notes`` (and ``docs`` into every JSON column of ``cols``)
    into the rows ``at``, one each, in order."""
    out: list[tuple[str, list[Any]]] = [
        ("UPDATE customers SET notes = ? WHERE id = ?", [(t, i)])
        for t, i in zip(notes, at, strict=False)
    ]
    out += [
        (f"UPDATE customers SET {c} = ? WHERE id = ?", [(json.dumps(d), i)])
        for c in cols
        for d, i in zip(docs, at, strict=False)
    ]
    return out


def copies_clean(src: str, tgt: str, cols: list[str], check: Checker, plan: Any = None) -> Any:
    """The unedited auto plan's (or ``plan``'s) copy of ``src`` into ``tgt``:
    ``check`` finds nothing in it and verify passes. The plan."""
    plan = build_plan(src).plan if plan is None else plan
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    found = check(src, tgt, cols)
    assert found == {}, (found, report.to_json())
    assert report.passed, report.to_json()
    return plan


def stays_quiet(
    src: str,
    tgt: str,
    again: str,
    cols: list[str],
    check: Callable[..., dict[str, int]],
    quiet: tuple[list[str], list[Any]],
    rows: Sequence[int],
    plant_at: Sequence[int],
) -> None:
    """The auto plan's copy of ``src`` into ``tgt`` keeps the quiet notes
    ``quiet[0]`` of ``rows`` as they were and verifies clean; the same notes and
    documents ``quiet[1]`` planted into a second copy ``again`` (rows ``plant_at``)
    are no finding of ``check`` (any row) nor of verify."""
    notes, docs = quiet
    plan = copies_clean(src, tgt, cols, check)
    got = dict(rows_of(tgt, f"SELECT id, notes FROM customers WHERE id >= {rows[0]}"))
    assert [got[i] for i in rows] == notes
    run(plan, src, again, KEY, RunOptions())
    _execute(again, planted_at(cols, notes, docs, plant_at))
    assert check(src, again, cols, where="id > 0") == {}
    report = verify(plan, src, again, KEY)
    assert report.passed, report.to_json()


def fails_as_counted(
    plan: Any,
    src: str,
    tgt: str,
    cols: list[str],
    found: dict[str, int],
    words: list[str],
    kind: str | None = None,
) -> Any:
    """Verify of ``tgt`` fails with each cell of the notes and ``cols`` counted (as a
    hit of ``kind``, or any) as the checker counted it (``found``), alike in forked
    parts, never showing any of ``words``. The report."""
    report = verify(plan, src, tgt, KEY)
    assert not report.passed
    for c in ["notes", *cols]:
        assert word_hits(report, c, kind) == found[f"customers.{c}"], report.to_json()
    assert verify(plan, src, tgt, KEY, jobs=2).word_hits == report.word_hits  # forked parts
    text = json.dumps(report.to_json()).lower()
    for word in words:
        assert word not in text, word  # counts, never values
    return report


def fails_once_planted(
    plan: Any,
    src: str,
    tgt: str,
    cols: list[str],
    check: Checker,
    texts: tuple[list[str], list[Any], dict[int, str]],
    words: list[str],
    kind: str,
) -> tuple[dict[str, int], Any]:
    """``texts`` (notes and documents for rows 1.., and notes for the rows holding
    the word, :func:`planted`) written into ``tgt``, a clean copy: ``check`` counts
    each such cell, and verify fails as it counts (:func:`fails_as_counted`). The
    checker's counts and the report."""
    notes, docs, own = texts
    _execute(tgt, planted(cols, notes, docs, own))
    found = check(src, tgt, cols)
    assert found == {
        "customers.notes": len(notes) + len(own),
        **{f"customers.{c}": len(docs) for c in cols},
    }
    return found, fails_as_counted(plan, src, tgt, cols, found, words, kind)


# -- test_redteam_otherrows.py's customers: B's rare surname in other rows' text --

N = 30
B = {"first_name": "Ana", "last_name": "Ganthriv", "email": "ana.ganthriv41@mail.example.org"}
# customer C: a surname that is a common word, said in other rows' notes as a word
C = {"first_name": "Peter", "last_name": "House", "email": "peter.house7@mail.example.org"}
# other rows' notes naming B inside a longer text
NOTES = [
    "Met the Ganthriv family at the fair",
    "Dinner with the Ganthrivs and Ana",
    "GANTHRIV called twice, wants a refund",
    "Gánthriv's order came back",
]
# other rows' documents naming B inside a longer key or leaf
DOCS: list[Any] = [
    {"theme": "dark", "Ganthriv family": 1},
    {"notes": "Met the Ganthriv family"},
    {"friends": ["the Ganthrivs", "Ana"]},
    [{"kind": "list"}, {"who": "dinner at the GANTHRIVS"}],
]


def surname_source(url: str, notes: dict[int, str], docs: dict[int, Any]) -> list[str]:
    """``N`` customers, then B (``N + 1``) and C (``N + 2``); row ``i``'s note and JSON
    are ``notes[i]`` and ``docs[i]`` or ordinary ones. The JSON column names."""
    people = [_leak_trap_customer(i) for i in range(1, N + 1)]
    people += [{**B, "id": N + 1}, {**C, "id": N + 2}]
    rows = [
        [p["id"], p["first_name"], p["last_name"], p["email"], notes.get(p["id"], ORDINARY_NOTE)]
        for p in people
    ]
    columns = "first_name VARCHAR(40), last_name VARCHAR(40), email VARCHAR(100), notes TEXT"
    return customers(url, columns, rows, docs)


# The independent checker's cells holding B's surname (any row but B's own).
surname_checker = checker("last_name", "surname", f"id = {N + 1}")


def fails_as_checker_counts(
    plan: Any, src: str, tgt: str, cols: list[str], found: dict[str, int]
) -> None:
    """Verify of ``tgt`` fails with each cell of the notes and ``cols`` counted as the
    checker counted it (``found``: 4 per column), as a surname, alike in forked
    parts, never showing the word."""
    assert found == {f"customers.{c}": 4 for c in ["notes", *cols]}
    report = fails_as_counted(plan, src, tgt, cols, found, ["ganthriv"])
    assert {h.kind for h in report.word_hits} == {"surname"}


def surname_fails_once_planted(make: Callable[[], str], notes: list[str], docs: list[Any]) -> None:
    """A clean copy of :func:`surname_source` verifies; ``notes`` and ``docs`` then
    written into rows 1.. (never B's) of the target make verify fail as the checker
    counts (:func:`fails_as_checker_counts`)."""
    src, tgt = make(), make()
    cols = surname_source(src, {}, {})
    plan = copies_clean(src, tgt, cols, surname_checker)
    _execute(tgt, planted(cols, notes, docs))
    fails_as_checker_counts(plan, src, tgt, cols, surname_checker(src, tgt, cols))


def surname_copies_clean_in_parallel(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    notes: list[str],
    docs: list[Any],
) -> None:
    """``mask run --jobs 2`` on PostgreSQL (worker processes started by ``method``)
    of :func:`surname_source` with ``notes`` and ``docs`` in rows 1..: the checker
    finds nothing and verify passes."""
    from stagewall.masking import _workers

    monkeypatch.setattr(_workers, "start_method", lambda: method)
    make = request.getfixturevalue("pg_url_factory")
    src, tgt = make(), make()
    cols = surname_source(src, dict(enumerate(notes, 1)), dict(enumerate(docs, 1)))
    plan = build_plan(src).plan
    run(plan, src, tgt, KEY, RunOptions(jobs=2))
    assert surname_checker(src, tgt, cols) == {}
    assert verify(plan, src, tgt, KEY).passed
