"""Free text beside a person's data fails closed in the auto plan (issue 11).

The trap: the planner samples the rows there are when the plan is made, and they
hold clean notes ("Called back, no answer"). Rows added later — or rows the sample
missed — hold the row's own surname ("Spoke with Mrs Carrasco"). The plan used to
keep such a column as is "because no sampled value holds personal data", so every
later surname reached the target unscrubbed (verify caught it only afterwards).
The plan must scrub it from the start; a ``keep`` needs the operator's own reason.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from stagewall.errors import MaskingError
from stagewall.masking.classify import classify_column
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.lint import Rule, ensure_plan_ok, errors, lint_plan
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan, dump_plan, load_plan
from stagewall.masking.planner import build_plan
from stagewall.masking.schema import Schema
from stagewall.masking.types import ColumnKind
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import KEY, with_column
from tests.masking.survivors import survivors

DDL = [
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name VARCHAR(40), "
    "last_name VARCHAR(40), email VARCHAR(80), notes VARCHAR(200))",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, "
    "customer_id INTEGER NOT NULL REFERENCES customers(id), comment TEXT)",
    # reference data beside them: catalogues whose descriptions stay as they are,
    # even one that references a supplier with a contact person
    "CREATE TABLE films (id INTEGER PRIMARY KEY, title VARCHAR(80), description TEXT)",
    "CREATE TABLE suppliers (id INTEGER PRIMARY KEY, company_name VARCHAR(80), "
    "contact_name VARCHAR(80), phone VARCHAR(30))",
    "CREATE TABLE products (id INTEGER PRIMARY KEY, supplier_id INTEGER REFERENCES "
    "suppliers(id), product_name VARCHAR(80), description TEXT)",
]
PRODUCTS = [
    ("Chai", "Black tea from Assam, spiced with cardamom and cinnamon"),
    ("Aniseed Syrup", "A sweet syrup for desserts and drinks, twelve bottles a box"),
    ("Ikura", "Salmon roe from the northern Pacific, packed in glass jars"),
]
FIRST = ["Yésica", "Tomasz", "Ingrid", "Kwame", "Aiko", "Brendan", "Lucía", "Henrik"]
LAST = ["Carrasco", "Wiśniewski", "Lindqvist", "Okonkwo", "Nakamura", "Brennan", "Ferreira"]
CLEAN = ["Called back, no answer.", "Prefers contact in the morning.", "Paid by card.", ""]
FILMS = [
    ("ACADEMY DINOSAUR", "A Epic Drama of a Feminist And a Mad Scientist who must Battle"),
    ("ACE GOLDFINGER", "A Astounding Epistle of a Database Administrator in Ancient China"),
    ("ADAPTATION HOLES", "A Astounding Reflection of a Lumberjack And a Car in A Baloon"),
]
SENSITIVE = {"first_name": "name", "last_name": "name", "email": "email"}
TEXTS = {"customers": ["notes"], "orders": ["comment"]}
REFS = {"customers": "id", "orders": "customer_id"}
CLEAN_ROWS = 30
LATER_ROWS = 30


def _execute(url: str, statements: list[tuple[str, tuple[object, ...]]]) -> None:
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url[len("sqlite:///") :])
        with conn:
            for sql, args in statements:
                conn.execute(sql, args)
        conn.close()
        return
    import psycopg

    with psycopg.connect(url) as pg:
        for sql, args in statements:
            pg.execute(sql.replace("?", "%s").encode(), args)


def _person(i: int) -> tuple[str, str, str]:
    first, last = FIRST[i % len(FIRST)], LAST[(i * 3) % len(LAST)]
    return first, last, f"{first.lower()}.{i}@mail.example"


def _rows(start: int, count: int, *, dirty: bool) -> list[tuple[str, tuple[object, ...]]]:
    out: list[tuple[str, tuple[object, ...]]] = []
    for i in range(start, start + count):
        first, last, email = _person(i)
        if dirty:  # the row's own surname, alone or with a title, as agents write it
            notes = f"Spoke with Mrs {last}; she moved, call again" if i % 2 else f"{last} paid"
            comment = f"Leave the parcel with {last}'s neighbour"
        else:
            notes = CLEAN[i % len(CLEAN)]
            comment = "Deliver before noon" if i % 2 else None
        out.append(("INSERT INTO customers VALUES (?, ?, ?, ?, ?)", (i, first, last, email, notes)))
        out.append(("INSERT INTO orders VALUES (?, ?, ?)", (i, i, comment)))
    return out


def _source(make: Callable[[], str]) -> str:
    src = make()
    _execute(src, [(sql, ()) for sql in DDL])
    _execute(src, _rows(1, CLEAN_ROWS, dirty=False))
    films = [("INSERT INTO films VALUES (?, ?, ?)", (i + 1, *f)) for i, f in enumerate(FILMS)]
    _execute(src, films)
    suppliers = [
        (
            "INSERT INTO suppliers VALUES (?, ?, ?, ?)",
            (1, "Exotic Liquids", "Charlotte Cooper", "(171) 555-2222"),
        ),
        (
            "INSERT INTO suppliers VALUES (?, ?, ?, ?)",
            (2, "Tokyo Traders", "Yoshi Nagase", "(03) 3555-5011"),
        ),
    ]
    products = [
        ("INSERT INTO products VALUES (?, ?, ?, ?)", (i + 1, 1 + i % 2, *p))
        for i, p in enumerate(PRODUCTS)
    ]
    _execute(src, suppliers + products)
    return src


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    if request.param == "sqlite":
        n = iter(range(100))
        return lambda: f"sqlite:///{tmp_path / f'db{next(n)}.sqlite'}"
    return request.getfixturevalue("pg_url_factory")  # type: ignore[no-any-return]


def _table(plan: Plan, name: str) -> tuple[str, TablePlan]:
    found = [(k, t) for k, t in plan.tables.items() if k.split(".")[-1] == name]
    assert len(found) == 1, sorted(plan.tables)
    return found[0]


def _with(plan: Plan, table: str, column: str, cp: ColumnPlan) -> Plan:
    return with_column(plan, _table(plan, table)[0], column, cp)


def test_clean_sample_does_not_keep_free_text(make: Callable[[], str], tmp_path: Path) -> None:
    """Plan made on clean rows, later rows name their own person: the unedited auto
    plan runs, verify passes and the independent checker finds no survivor."""
    src = _source(make)
    result = build_plan(src)  # every row there is now: all notes are clean
    assert errors(list(result.problems)) == []
    path = tmp_path / "plan.yaml"
    path.write_text(dump_plan(result.plan))
    plan = load_plan(path)
    notes = _table(plan, "customers")[1].columns["notes"]
    comment = _table(plan, "orders")[1].columns["comment"]
    assert notes.transformer == "text_scrub", notes
    assert "unsampled rows" in notes.reason and notes.params.get("max_length") in (None, 200)
    assert comment.transformer == "text_scrub", comment
    for table in ["films", "products"]:
        assert _table(plan, table)[1].columns["description"].transformer == "keep", table
    assert _table(plan, "films")[1].columns["title"].transformer == "keep"

    _execute(src, _rows(CLEAN_ROWS + 1, LATER_ROWS, dirty=True))  # production grows
    tgt = make()
    assert run(plan, src, tgt, KEY, RunOptions()).marker_status.value == "complete"
    report = verify(plan, src, tgt, KEY)
    assert report.passed and report.total_hits == 0, report.to_json()
    assert survivors(src, tgt, "customers", SENSITIVE, TEXTS, REFS, plan=plan) == {}
    from tests.masking.survivors import _rows as read

    for q in [
        "SELECT id, title, description FROM films ORDER BY id",
        "SELECT id, description FROM products ORDER BY id",
    ]:
        assert read(tgt, q) == read(src, q)  # the catalogues are copied as they are
    q = "SELECT id, notes FROM customers WHERE id <= 4 ORDER BY id"
    assert read(tgt, q) == read(src, q)  # clean notes stay as they were


def test_the_old_plan_leaked_and_is_now_refused(make: Callable[[], str]) -> None:
    """What the planner used to write (keep, "no personal data in N samples") lets the
    later surnames through: verify and the independent checker both see them. The
    same keep is now a lint error that stops the run before any row moves."""
    src = _source(make)
    plan = build_plan(src).plan
    old_reason = "free-text column, no personal data in 30 samples; the verifier scans it"
    old = _with(plan, "customers", "notes", ColumnPlan(transformer="keep", reason=old_reason))
    old = _with(old, "orders", "comment", ColumnPlan(transformer="keep", reason=old_reason))
    _execute(src, _rows(CLEAN_ROWS + 1, LATER_ROWS, dirty=True))
    with pytest.raises(MaskingError) as refused:
        run(old, src, make(), KEY, RunOptions())
    assert "keep-free-text" in refused.value.message and "customers.notes" in refused.value.message

    # the operator keeps it on purpose, with a reason: allowed, and the leak is seen
    mine = "operator: reviewed, kept for the test"
    kept = _with(plan, "customers", "notes", ColumnPlan(transformer="keep", reason=mine))
    kept = _with(kept, "orders", "comment", ColumnPlan(transformer="keep", reason=mine))
    tgt = make()
    run(kept, src, tgt, KEY, RunOptions())
    report = verify(kept, src, tgt, KEY)
    assert not report.passed
    found = survivors(src, tgt, "customers", SENSITIVE, TEXTS, REFS, plan=kept)
    assert found == {"customers.notes": LATER_ROWS, "orders.comment": LATER_ROWS}, found


def test_lint_wants_a_reason_of_your_own(make: Callable[[], str]) -> None:
    from stagewall.masking.db import open_database

    src = _source(make)
    plan = build_plan(src).plan
    with open_database(src, role="source") as db:
        schema: Schema = db.introspect()
    for reason in ["", "  ", "no name rule matched and none of 30 samples looked sensitive"]:
        bad = _with(plan, "customers", "notes", ColumnPlan(transformer="keep", reason=reason))
        rules = {(p.rule, p.column) for p in errors(lint_plan(bad, schema))}
        assert rules == {(Rule.KEEP_FREE_TEXT, "notes")}, (reason, rules)
        with pytest.raises(MaskingError):
            ensure_plan_ok(bad, schema)
    ok = _with(plan, "customers", "notes", ColumnPlan(transformer="keep", reason="ids only"))
    assert errors(lint_plan(ok, schema)) == []
    # a catalogue's description needs no reason: its rows are not about a person
    for table in ["films", "products"]:
        kept = _with(plan, table, "description", ColumnPlan(transformer="keep"))
        assert errors(lint_plan(kept, schema)) == [], table
    # an order's comment does: the order belongs to a customer
    comment = _with(plan, "orders", "comment", ColumnPlan(transformer="keep"))
    assert {(p.rule, p.column) for p in errors(lint_plan(comment, schema))} == {
        (Rule.KEEP_FREE_TEXT, "comment")
    }


@pytest.mark.parametrize(
    ("table", "column", "samples", "personal", "expected"),
    [
        ("customers", "notes", ["Called back.", "ok"], None, "text_scrub"),
        ("customers", "notes", [], None, "text_scrub"),  # nothing sampled (--sample 0)
        ("customers", "notes", [None, "", "  "], None, "text_scrub"),
        ("orders", "delivery_instructions", ["Ring twice"], True, "text_scrub"),
        ("clients", "info", ["He prefers to be called in the morning, not at work"] * 3, None,
         "text_scrub"),  # free text by its values
        ("orders", "comment", ["great", "late again"], None, "keep"),  # nobody in the table
        ("products", "description", ["Black tea from Assam"], True, "keep"),  # see below
        ("film", "description", [d for _, d in FILMS], False, "keep"),
        ("employees", "title", ["Sales Support Agent", "General Manager"], None, "keep"),
        ("customers", "denote", ["x"], None, "keep"),  # words, not substrings
    ],
)  # fmt: skip
def test_which_columns_fail_closed(
    table: str, column: str, samples: list[object], personal: bool | None, expected: str
) -> None:
    """``personal`` is what the planner knows of the table; a catalogue that only
    references a supplier holds personal data by that reference, but its rows are
    not about a person (``about_person=False``)."""
    about = False if table == "products" else None
    f = classify_column(
        table=table,
        column=column,
        kind=ColumnKind.TEXT,
        samples=samples,
        personal_table=personal,
        about_person=about,
    )
    assert f.transformer == expected, f
