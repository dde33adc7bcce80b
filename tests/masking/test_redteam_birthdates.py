"""A customer's own date of birth written in a note or in a ticket about them (the
first two tests failed before the fix).

Customers have a ``birth_date`` column (the plan generalises it to the year) and a
free-text ``notes`` column; their support tickets (a ``customer_id`` foreign key, a
free-text body) are scrubbed with text_scrub too. A note saying ``DOB 06/09/1948,
called about…`` kept the exact date: dates were no known values (``birth_date``
was in ``_known.NOT_KNOWN``), so text_scrub did not replace it and verify's row
search did not look for it, while the independent checker found it. A column the
plan gives ``birth_date`` is now a known value of kind ``date``, searched in the
row's own text and in its related rows' (the ticket) in its usual writings and
replaced by a keyed pseudonym date written the same way. Other dates (an order
date in a note) are ordinary values: copied as they are, and verify passes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import Plan
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.survivors import _rows, survivors
from tests.masking.test_leak_traps import _customer, _execute

N = 12
# each customer's date of birth: day 13 or later, so day-first and month-first
# writings differ (and day == month for none)
BORN = {i: dt.date(1940 + i, 1 + i % 12, 13 + i % 15) for i in range(1, N + 1)}


def _writings(d: dt.date) -> list[str]:
    """The writings of ``d`` a note may hold, one per customer in turn."""
    month = d.strftime("%B")
    return [
        f"DOB {d:%d/%m/%Y}, called about the invoice",
        f"Born {d.day} {month} {d.year}; prefers e-mail",
        f"Date of birth: {d.isoformat()}",
        f"dob {d:%m/%d/%Y} (US form)",
        f"Birthday {month} {d.day}, {d.year}",
        f"b. {d.day}.{d.month}.{d.year}",
        f"born {d.day} {month[:3]} {d.year}",
        f"DOB {d:%d-%m-%Y}",
        f"{month[:3]} {d.day} {d.year} is the birthday",
        f"Birth date {d:%Y/%m/%d} confirmed",
        f"born {d.day}/{d.month}/{d.year}",
        f"DOB {d:%Y.%m.%d}",
    ]


def _note(i: int) -> str:
    return _writings(BORN[i])[(i - 1) % 12]


def _order_note(i: int) -> str:
    """A note holding an ordinary date (an order's), not the customer's birth date."""
    return f"Order placed 2023-03-{10 + i % 18:02d}, delivered 14/04/2023"


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    return url_maker(request, tmp_path, request.param)


def _source(
    url: str,
    notes: Callable[[int], str],
    tickets: Callable[[int], str],
    born: dict[int, dt.date] = BORN,
) -> None:
    """Customers (ids and dates of birth ``born``) with their notes and one ticket each."""
    people = [_customer(i) for i in born]
    _execute(
        url,
        [
            (
                "CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name VARCHAR(40), "
                "last_name VARCHAR(40), email VARCHAR(100), birth_date DATE, notes TEXT)",
                [],
            ),
            (
                "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        p["id"],
                        p["first_name"],
                        p["last_name"],
                        p["email"],
                        born[p["id"]].isoformat(),
                        notes(p["id"]),
                    )
                    for p in people
                ],
            ),
            (
                "CREATE TABLE tickets (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL "
                "REFERENCES customers (id), body TEXT)",
                [],
            ),
            (
                "INSERT INTO tickets VALUES (?, ?, ?)",
                [(p["id"], p["id"], tickets(p["id"])) for p in people],
            ),
        ],
    )


def _checker(src: str, tgt: str) -> dict[str, int]:
    """The independent checker's cells holding their own customer's birth date."""
    return survivors(
        src, tgt, "customers", {"birth_date": "date"},
        {"customers": ["notes"], "tickets": ["body"]},
        {"customers": "id", "tickets": "customer_id"},
    )  # fmt: skip


def masked_clean(plan: Plan, src: str, tgt: str, n: int) -> None:
    """The checker finds ``n`` notes and tickets holding their customer's date of birth
    in the source and none in the copy ``plan`` makes, and verify passes."""
    assert _checker(src, src) == {"customers.notes": n, "tickets.body": n}
    run(plan, src, tgt, KEY, RunOptions())
    found = _checker(src, tgt)
    report = verify(plan, src, tgt, KEY)
    assert found == {}, (found, report.to_json())
    assert report.passed, report.to_json()


def replaced_the_same_way(
    src: str,
    tgt: str,
    texts: dict[int, tuple[str, str]],
    same: Callable[[str, str], bool],
) -> None:
    """The unedited auto plan copies ``src`` clean (:func:`masked_clean`): each
    customer's note and ticket (``texts``: id → both, as in the source) changed and
    written the same way (``same(old, new)``)."""
    masked_clean(build_plan(src).plan, src, tgt, len(texts))
    notes = dict(_rows(tgt, "SELECT id, notes FROM customers"))
    bodies = dict(_rows(tgt, "SELECT customer_id, body FROM tickets"))
    for i, (note, ticket) in texts.items():
        assert notes[i] != note and same(note, notes[i]), (note, notes[i])
        assert same(ticket, bodies[i]), (ticket, bodies[i])


def scrubbed(note: str, born: dt.date) -> str:
    """``note`` through text_scrub, the row's date of birth ``born``: the date is gone
    (the checker's word) and the result the same under the same key."""
    from stagewall.masking.transformers import build_transformer
    from tests.masking.survivors import date_needles, holds

    t = build_transformer("text_scrub", {}, key=KEY, salt="x")
    (out,) = t.transform_known([note], [(("birth_date", born.isoformat()),)])
    assert isinstance(out, str)
    assert not holds(out, date_needles(born)), out
    assert t.transform_known([note], [(("birth_date", born.isoformat()),)]) == [out]
    return out


def kept_reported(src: str, tgt: str, n: int) -> None:
    """A plan that keeps the notes and the tickets of ``src``: the checker finds ``n``
    cells of each holding their customer's date of birth in the copy, and verify fails
    with the same counts, as dates."""
    from stagewall.masking.plan import ColumnPlan
    from tests.masking.integration.helpers import with_column

    plan = build_plan(src).plan
    keep = ColumnPlan(transformer="keep", reason="red team")
    for table, column in (("customers", "notes"), ("tickets", "body")):
        name = next(q for q in plan.tables if q.rsplit(".", 1)[-1] == table)
        plan = with_column(plan, name, column, keep)
    run(plan, src, tgt, KEY, RunOptions())
    assert _checker(src, tgt) == {"customers.notes": n, "tickets.body": n}
    report = verify(plan, src, tgt, KEY)
    assert not report.passed
    hits = [h for h in getattr(report, "row_hits", ()) if h.column in ("notes", "body")]
    assert {h.column: h.cells for h in hits} == {"notes": n, "body": n}, report.to_json()
    assert {h.kind for h in hits} == {"date"}


def copied_unchanged(src: str, tgt: str, note: Callable[[int], str], ids: list[int]) -> None:
    """The unedited auto plan copies every note and ticket of ``src`` (``note`` of its
    customer in both) as it is, and verify passes."""
    plan = build_plan(src).plan
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    assert report.passed, report.to_json()
    assert dict(_rows(tgt, "SELECT id, notes FROM customers")) == {i: note(i) for i in ids}
    bodies = dict(_rows(tgt, "SELECT customer_id, body FROM tickets"))
    assert bodies == {i: note(i) for i in ids}


def _planned(plan: object, name: str) -> object:
    return next(t for q, t in plan.tables.items() if q.rsplit(".", 1)[-1] == name)  # type: ignore[attr-defined]


def test_the_unedited_plan_replaces_a_birth_date_in_notes_and_tickets(
    make: Callable[[], str],
) -> None:
    """Each customer's note and ticket write their birth date (twelve writings): the
    unedited auto plan replaces every one, verify passes and the checker finds
    nothing. Before: all 24 cells kept the date and verify passed."""
    src, tgt = make(), make()
    _source(src, _note, lambda i: f"Customer called. {_note(i)}")
    plan = build_plan(src).plan
    customers = _planned(plan, "customers")
    assert customers.columns["birth_date"].transformer == "birth_date"  # type: ignore[attr-defined]
    assert customers.columns["notes"].transformer == "text_scrub"  # type: ignore[attr-defined]
    assert _planned(plan, "tickets").columns["body"].transformer == "text_scrub"  # type: ignore[attr-defined]
    masked_clean(plan, src, tgt, N)
    # replaced by another date written the same way, not starred out
    notes = dict(_rows(tgt, "SELECT id, notes FROM customers"))
    assert notes[1].startswith("DOB ") and notes[1][4:14].count("/") == 2, notes[1]
    assert "*" not in "".join(notes.values()), notes


def test_verify_fails_on_a_kept_note_holding_the_birth_date(make: Callable[[], str]) -> None:
    """A plan that keeps the notes: the copy holds every customer's birth date and
    verify fails with the checker's count, as dates. Before: verify passed."""
    from stagewall.masking.plan import ColumnPlan
    from tests.masking.integration.helpers import with_column

    src, tgt = make(), make()
    _source(src, _note, lambda i: "Customer called.")
    plan = build_plan(src).plan
    q = next(q for q in plan.tables if q.rsplit(".", 1)[-1] == "customers")
    plan = with_column(plan, q, "notes", ColumnPlan(transformer="keep", reason="red team"))
    run(plan, src, tgt, KEY, RunOptions())
    found = _checker(src, tgt)
    assert found == {"customers.notes": N}
    report = verify(plan, src, tgt, KEY)
    assert not report.passed
    hits = [h for h in getattr(report, "row_hits", ()) if h.column == "notes"]
    assert sum(h.cells for h in hits) == N, report.to_json()
    assert {h.kind for h in hits} == {"date"}


def test_an_ordinary_date_in_a_note_is_kept(make: Callable[[], str]) -> None:
    """An order date in a note is no birth date: copied unchanged, verify passes."""
    src, tgt = make(), make()
    _source(src, _order_note, lambda i: "Customer called.")
    plan = build_plan(src).plan
    run(plan, src, tgt, KEY, RunOptions())
    assert verify(plan, src, tgt, KEY).passed
    notes = dict(_rows(tgt, "SELECT id, notes FROM customers"))
    assert notes == {i: _order_note(i) for i in range(1, N + 1)}


def rewrites(cases: dict[str, str], new: dt.date) -> None:
    """Each span of ``cases`` reads as a date, and ``new`` written its way is the value."""
    from stagewall.masking.transformers._birthdates import read_written

    for text, want in cases.items():
        got = read_written(text)
        assert got is not None, text
        assert got[1](new) == want, (text, got[1](new))


def json_masked(doc: str, born: str) -> str:
    """``doc`` through json_mask (unknown keys scrubbed), the row's date of birth ``born``."""
    from stagewall.masking.transformers import build_transformer

    t = build_transformer("json_mask", {"unknown_keys": "scrub"}, key=KEY, salt="x")
    (out,) = t.transform_known([doc], [(("birth_date", born),)])
    assert isinstance(out, str)
    return out


def test_written_dates_are_read_back_and_rewritten_the_same_way() -> None:
    """The pseudonym is written as the span was (separators, widths, month word)."""
    from stagewall.masking.transformers._birthdates import read_written

    cases = {
        "06/09/1948": "23/04/1950",
        "6/9/1948": "23/4/1950",
        "1948.09.06": "1950.04.23",
        "6 SEP 1948": "23 APR 1950",
        "September 6, 1948": "April 23, 1950",
        "09/16/1948": "04/23/1950",
    }
    rewrites(cases, dt.date(1950, 4, 23))
    assert read_written("Room 12") is None


def test_json_mask_replaces_the_birth_date_in_a_document() -> None:
    """json_mask replaces the row's date of birth in a leaf's text and as a leaf,
    and keeps another date."""
    doc = '{"note": "DOB 06/09/1948, called", "dob": "1948-09-06", "order": "2023-01-02"}'
    out = json_masked(doc, "1948-09-06")
    assert "1948-09-06" not in out and "06/09/1948" not in out, out
    assert '"order": "2023-01-02"' in out
