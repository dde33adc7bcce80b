"""Support tickets: a table without a name column of its own, about customers (the
first two tests of each part failed before the fix).

**Another customer's rare surname.**
Customers have names; their support tickets (a ``customer_id`` foreign key and a
free-text body, no name column) are scrubbed by ``text_scrub`` with the related
customer's known values. Customer B is ``Ana Ganthriv`` (a surname no name list
knows); another customer's ticket says ``Spoke to Ganthriv's neighbour``. The
scrubbed text of a table without a name column counted as *public* (its words
were taken for catalogue words, as a film description's are), so ``Ganthriv``
written in any ticket made the word public: the copy kept it and verify did not
search it, while the independent checker found it. A table whose rows refer to
people (a foreign key to a table with a name column) is no catalogue: its
scrubbed text no longer makes a word public. A film table's description still
does (Pagila, Sakila and Chinook verify clean: ``test_pagila.py``,
``test_sakila.py``, ``test_chinook.py``).

**A reference the schema does not declare.** Many applications declare no foreign
keys: a ticket's ``customer_id`` is a plain integer. Known values followed declared
keys only, so the ticket's text was neither scrubbed of its customer's own values
nor searched by verify for them: a passport number no validator knows, the
customer's postcode, copied while verify passed (the checker found 40 cells). Such a
column (lint's ``undeclared-reference``: ``customer_id`` where a ``customers`` table
exists) is now taken for a reference by both (``_known_rows.references``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.survivors import survivors, survivors_anywhere
from tests.masking.test_leak_traps import REFS, SENSITIVE, TEXTS, _customer, _execute
from tests.masking.test_leak_traps import N as TRAP_N
from tests.masking.test_leak_traps import _source as _trap_source

N = 30
B_ID = N + 1
B = {"first_name": "Ana", "last_name": "Ganthriv", "email": "ana.ganthriv41@mail.example.org"}
TICKETS = [
    "Spoke to Ganthriv's neighbour about the parcel",
    "The Ganthrivs called about a refund",
    "Parcel left with GANTHRIV next door",
]
PLAIN = "Customer asked about delivery times."


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    return url_maker(request, tmp_path, request.param)


def _source(url: str, tickets: dict[int, str]) -> None:
    """``N`` customers and B; one ticket per customer: ``tickets[i]`` or a plain one
    (B's own ticket is plain: B's surname is only in other customers' tickets)."""
    people = [_customer(i) for i in range(1, N + 1)] + [{**B, "id": B_ID}]
    _execute(
        url,
        [
            (
                "CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name VARCHAR(40), "
                "last_name VARCHAR(40), email VARCHAR(100))",
                [],
            ),
            (
                "INSERT INTO customers VALUES (?, ?, ?, ?)",
                [(p["id"], p["first_name"], p["last_name"], p["email"]) for p in people],
            ),
            (
                "CREATE TABLE tickets (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL "
                "REFERENCES customers (id), body TEXT)",
                [],
            ),
            (
                "INSERT INTO tickets VALUES (?, ?, ?)",
                [(p["id"], p["id"], tickets.get(p["id"], PLAIN)) for p in people],
            ),
        ],
    )


def _checker(src: str, tgt: str) -> dict[str, int]:
    """The independent checker's cells holding B's surname (any row)."""
    return survivors_anywhere(
        src, tgt, "customers", {"last_name": "surname"}, {"tickets": ["body"]},
        where=f"id = {B_ID}",
    )  # fmt: skip


def test_a_rare_surname_in_another_customers_ticket_is_replaced(
    make: Callable[[], str],
) -> None:
    """The unedited auto plan scrubs the tickets: B's surname in other customers'
    tickets is replaced, verify passes and the checker finds nothing. Before: the
    tickets made the word public, the copy kept it (3 cells) and verify passed."""
    src, tgt = make(), make()
    _source(src, {k + 1: t for k, t in enumerate(TICKETS)})
    plan = build_plan(src).plan
    tickets = next(t for q, t in plan.tables.items() if q.rsplit(".", 1)[-1] == "tickets")
    assert tickets.columns["body"].transformer == "text_scrub"
    run(plan, src, tgt, KEY, RunOptions())
    found = _checker(src, tgt)
    report = verify(plan, src, tgt, KEY)
    assert found == {}, (found, report.to_json())
    assert report.passed, report.to_json()


def test_verify_finds_it_when_the_copy_kept_it(make: Callable[[], str]) -> None:
    """A clean copy whose tickets are then given B's surname (as a copy that kept it
    would hold it): verify fails with the checker's count, as a surname. Before: the
    source's own tickets made the word public and verify passed."""
    src, tgt = make(), make()
    _source(src, {k + 1: t for k, t in enumerate(TICKETS)})
    plan = build_plan(src).plan
    run(plan, src, tgt, KEY, RunOptions())
    _execute(
        tgt,
        [("UPDATE tickets SET body = ? WHERE id = ?", [(t, k + 1)]) for k, t in enumerate(TICKETS)],
    )
    found = _checker(src, tgt)
    assert found == {"tickets.body": len(TICKETS)}
    report = verify(plan, src, tgt, KEY)
    assert not report.passed
    hits = [h for h in getattr(report, "word_hits", ()) if h.column == "body"]
    assert sum(h.cells for h in hits) == len(TICKETS), report.to_json()
    assert {h.kind for h in hits} == {"surname"}


def test_plain_tickets_are_copied_unchanged(make: Callable[[], str]) -> None:
    """Tickets naming nobody are copied as they were, and verify passes."""
    src, tgt = make(), make()
    _source(src, {})
    plan = build_plan(src).plan
    run(plan, src, tgt, KEY, RunOptions())
    assert verify(plan, src, tgt, KEY).passed
    from tests.masking.survivors import _rows

    assert {r[0] for r in _rows(tgt, "SELECT body FROM tickets")} == {PLAIN}


def test_which_tables_are_about_people() -> None:
    """A table with a name column, and every table whose foreign keys lead to one
    (through other tables too; a ``customer_id`` without a declared key as well), is
    about people; a catalogue table (a film and its language) is not, though a
    people table refers to it."""
    from stagewall.masking._namewords import people_tables
    from stagewall.masking.plan import ColumnPlan, Plan, TablePlan
    from stagewall.masking.schema import Column, ColumnKind, ForeignKey, Schema, Table

    def table(name: str, cols: dict[str, str], refs: tuple[str, ...] = ()) -> Table:
        return Table(
            None,
            name,
            tuple(Column(c, ColumnKind.TEXT, "text") for c in ["id", *cols]),
            ("id",),
            tuple(ForeignKey(None, (f"{r}_id",), None, r, ("id",)) for r in refs),
        )

    tables = [
        table("customers", {"last_name": "last_name"}, ("film",)),
        table("tickets", {"body": "text_scrub"}, ("customers",)),
        table("messages", {"body": "text_scrub"}, ("tickets",)),
        table("film", {"description": "text_scrub"}, ("language",)),
        table("language", {"name": "keep"}),
        # an undeclared reference (lint's undeclared-reference) counts as well
        Table(None, "calls", (Column("customer_id", ColumnKind.INTEGER, "integer"),)),
    ]
    planned = {
        "customers": {"last_name": "last_name"},
        "tickets": {"body": "text_scrub"},
        "messages": {"body": "text_scrub"},
        "film": {"description": "text_scrub"},
        "language": {"name": "keep"},
        "calls": {},
    }
    plan = Plan(
        tables={
            t: TablePlan(
                columns={
                    "id": ColumnPlan(transformer="keep"),
                    **{c: ColumnPlan(transformer=tr) for c, tr in cols.items()},
                }
            )
            for t, cols in planned.items()
        }
    )
    got = people_tables(plan, Schema("sqlite", tuple(tables)))
    assert got == {"customers", "tickets", "messages", "calls"}


# ---- a reference the schema does not declare -----------------------------------------


def _undeclared(url: str) -> str:
    """The leak traps' customers, and one ticket each whose ``customer_id`` has no
    foreign key, naming the customer's passport number, street, postcode, phone."""
    _trap_source(url, [])
    bodies = []
    for i in range(1, TRAP_N + 1):
        p = _customer(i)
        bodies.append(
            (
                i,
                i,
                f"Checked passport {p['national_id']}, sent it to {p['street']}, "
                f"{p['postcode']}. Phone {p['phone']}",
            )
        )
    _execute(
        url,
        [
            ("CREATE TABLE tickets (id INTEGER PRIMARY KEY, customer_id INTEGER, body TEXT)", []),
            ("INSERT INTO tickets VALUES (?, ?, ?)", bodies),
        ],
    )
    return url


def _trap_checker(src: str, tgt: str, plan: object) -> dict[str, int]:
    texts = {**TEXTS, "tickets": ["body"]}
    return survivors(
        src, tgt, "customers", SENSITIVE, texts, {**REFS, "tickets": "customer_id"}, plan=plan
    )


def test_an_undeclared_reference_is_followed_by_the_copy(make: Callable[[], str]) -> None:
    """The unedited auto plan scrubs each ticket of its customer's own values though
    no foreign key is declared: verify passes and the checker finds nothing. Before:
    the passport numbers and postcodes were copied (40 cells) and verify passed."""
    src, tgt = _undeclared(make()), make()
    plan = build_plan(src).plan
    run(plan, src, tgt, KEY, RunOptions())
    found = _trap_checker(src, tgt, plan)
    report = verify(plan, src, tgt, KEY)
    assert found == {}, (found, report.to_json())
    assert report.passed, report.to_json()


def test_verify_searches_text_through_an_undeclared_reference(make: Callable[[], str]) -> None:
    """The tickets kept as they are: verify fails, each ticket counted row by row
    as the checker counts it. Before: verify passed."""
    from stagewall.masking.plan import ColumnPlan
    from tests.masking.integration.helpers import with_column

    src, tgt = _undeclared(make()), make()
    plan = build_plan(src).plan
    q = next(q for q in plan.tables if q.rsplit(".", 1)[-1] == "tickets")
    kept = with_column(plan, q, "body", ColumnPlan(transformer="keep", reason="test: kept"))
    run(kept, src, tgt, KEY, RunOptions())
    found = _trap_checker(src, tgt, kept)
    assert found == {"tickets.body": TRAP_N}
    report = verify(kept, src, tgt, KEY)
    assert not report.passed
    assert max(h.cells for h in report.row_hits if h.column == "body") == TRAP_N
