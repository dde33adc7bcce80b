"""References named otherwise, with no foreign key declared (the cases marked
``MAIN_MISSED`` failed before the fix).

Many applications declare no foreign keys. A ticket's ``customer_id`` is taken
for a reference to ``customers`` by its name (the last round); one named
otherwise was not: ``tickets.owner_id``, ``notes.client_id``, ``orders.person``
(→ ``users``), ``cases.contact_ref``, ``orders.customerid`` (how PostgreSQL
stores Northwind's unquoted ``CustomerID``), ``orders.cust_id``,
``visits.person_id`` (→ ``people``). The ticket's text was neither scrubbed of
its customer's own values nor searched by verify for them: the passport number
no validator knows and the postcode were copied while verify passed (the
independent checker found a cell per ticket). The rule of
``masking/_references.py`` now takes them (by the name, and for the weaker names by
the values: every sampled value is a key of the one table that fits) for the
copy and verify alike; names the old rule already took (``patient_id``,
``user_id``, ``account_id``, ``customerId``) stay taken.

Quiet: a ``status_id`` is no reference to customers, a role word with two
people tables that fit or with values that are no keys is not taken (lint says
why), and a Northwind-like schema without foreign keys gets its true references
only.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import ColumnPlan
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker, with_column
from tests.masking.survivors import survivors
from tests.masking.test_leak_traps import COLUMNS, SENSITIVE, _customer, _execute

N = 40

# (parent table, child table, the reference column as written in the DDL)
CASES = [
    ("customers", "tickets", "owner_id"),
    ("customers", "notes", "client_id"),
    ("patients", "visits", "patient_id"),
    ("users", "orders", "person"),
    ("users", "orders", "user_id"),
    ("accounts", "messages", "account_id"),
    ("customers", "cases", "contact_ref"),
    ("customers", "orders", "customerId"),
    ("customers", "orders", "CustomerID"),
    ("customers", "orders", "customerid"),
    ("customers", "orders", "cust_id"),
    ("people", "visits", "person_id"),
    ("customers", "tickets", "requester_id"),
]
# taken by the old name rule already (on PostgreSQL an unquoted CustomerID is customerid)
MAIN_TOOK = {"patient_id", "user_id", "account_id", "customerId", "CustomerID"}


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    return url_maker(request, tmp_path, request.param)


def _parent_ddl(parent: str) -> str:
    return (
        f"CREATE TABLE {parent} (id INTEGER PRIMARY KEY, first_name VARCHAR(60), "
        "last_name VARCHAR(60), email VARCHAR(120), phone VARCHAR(40), street VARCHAR(120), "
        "postcode VARCHAR(12), national_id VARCHAR(20), notes TEXT)"
    )


def _people(url: str, parent: str, n: int = N, first: int = 1) -> None:
    rows = [_customer(i) for i in range(first, first + n)]
    _execute(
        url,
        [
            (_parent_ddl(parent), []),
            (
                f"INSERT INTO {parent} VALUES ({', '.join('?' * len(COLUMNS))})",
                [[p[c] for c in COLUMNS] for p in rows],
            ),
        ],
    )


def body(i: int) -> str:
    p = _customer(i)
    return f"Checked passport {p['national_id']}; the parcel goes to postcode {p['postcode']}."


def _source(url: str, parent: str, child: str, column: str) -> str:
    """``N`` people in ``parent``; one ``child`` row each whose ``column`` (no foreign
    key) holds the person's key and whose body names the person's passport number
    and postcode (values no detector knows: only a search of the row finds them)."""
    _people(url, parent)
    _execute(
        url,
        [
            (f"CREATE TABLE {child} (id INTEGER PRIMARY KEY, {column} INTEGER, body TEXT)", []),
            (f"INSERT INTO {child} VALUES (?, ?, ?)", [(i, i, body(i)) for i in range(1, N + 1)]),
        ],
    )
    return url


def _column(plan: Any, child: str, column: str) -> str:
    """The column as the database stores it (PostgreSQL folds unquoted names)."""
    t = next(t for q, t in plan.tables.items() if q.rsplit(".", 1)[-1] == child)
    return next(c for c in t.columns if c.lower() == column.lower())


def _checker(src: str, tgt: str, plan: Any, parent: str, child: str, column: str) -> dict[str, int]:
    refs = {parent: "id", child: _column(plan, child, column)}
    return survivors(src, tgt, parent, SENSITIVE, {child: ["body"]}, refs, plan=plan)


def _id(case: tuple[str, str, str]) -> str:
    return f"{case[1]}.{case[2]}"


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_a_reference_named_otherwise_is_followed_by_the_copy(
    make: Callable[[], str], case: tuple[str, str, str]
) -> None:
    """The unedited auto plan scrubs each row's body of its person's own values
    though no foreign key is declared: the checker finds nothing and verify passes.
    Before: the planner kept the body (its rows did not refer to people), the
    passport numbers and postcodes were copied, a cell per row, and verify passed
    (for the names of ``MAIN_TOOK`` verify failed: the copy was refused, not silent)."""
    parent, child, column = case
    src, tgt = _source(make(), *case), make()
    plan = build_plan(src).plan
    run(plan, src, tgt, KEY, RunOptions())
    found = _checker(src, tgt, plan, parent, child, column)
    report = verify(plan, src, tgt, KEY)
    assert found == {}, (found, report.to_json())
    assert report.passed, report.to_json()
    # the planner scrubs the body: its rows refer to people
    q = next(q for q in plan.tables if q.rsplit(".", 1)[-1] == child)
    assert plan.tables[q].columns["body"].transformer == "text_scrub"


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_verify_searches_text_through_a_reference_named_otherwise(
    make: Callable[[], str], case: tuple[str, str, str]
) -> None:
    """The bodies kept as they are (a weakened plan): verify fails, each row counted
    row by row as the checker counts it. Before: the checker found every row and
    verify passed."""
    parent, child, column = case
    src, tgt = _source(make(), *case), make()
    plan = build_plan(src).plan
    q = next(q for q in plan.tables if q.rsplit(".", 1)[-1] == child)
    kept = with_column(plan, q, "body", ColumnPlan(transformer="keep", reason="test: kept"))
    run(kept, src, tgt, KEY, RunOptions())
    assert _checker(src, tgt, kept, parent, child, column) == {f"{child}.body": N}
    report = verify(kept, src, tgt, KEY)
    assert not report.passed
    assert max((h.cells for h in report.row_hits if h.column == "body"), default=0) == N, (
        report.to_json()
    )


# ---- quiet: what is not taken ------------------------------------------------------


def _references(url: str) -> dict[str, set[tuple[str, str]]]:
    """``{table: {(column, parent)}}`` of the references the copy and verify follow
    (declared and guessed), read the way a run reads them."""
    from stagewall.masking._known_rows import references
    from stagewall.masking._references import checked
    from stagewall.masking.db import open_database

    with open_database(url, role="source") as db:
        schema = db.introspect()
        db.begin_read()
        schema = checked(db, schema)
    return {
        t.name: {(fk.columns[0], fk.ref_table) for fk in references(schema, t)}
        for t in schema.tables
    }


def _lint(url: str) -> list[tuple[str, str | None, str]]:
    from stagewall.masking._references import checked
    from stagewall.masking.db import open_database
    from stagewall.masking.lint import Rule, lint_plan

    plan = build_plan(url).plan
    with open_database(url, role="source") as db:
        schema = db.introspect()
        db.begin_read()
        schema = checked(db, schema)
    return [
        (p.table.rsplit(".", 1)[-1], p.column, p.message)
        for p in lint_plan(plan, schema)
        if p.rule is Rule.UNDECLARED_REFERENCE
    ]


def test_a_status_is_no_reference_to_people(make: Callable[[], str]) -> None:
    """``orders.status_id`` (values 1-3, every one a customer's key too) names no
    table and no role: it is not taken, and lint says nothing about it."""
    url = make()
    _people(url, "customers")
    _execute(
        url,
        [
            ("CREATE TABLE orders (id INTEGER PRIMARY KEY, status_id INTEGER, note TEXT)", []),
            ("INSERT INTO orders VALUES (?, ?, ?)", [(i, 1 + i % 3, "ok") for i in range(1, 30)]),
        ],
    )
    assert _references(url)["orders"] == set()
    assert [f for f in _lint(url) if f[0] == "orders"] == []


def test_two_people_tables_that_fit_make_no_guess(make: Callable[[], str]) -> None:
    """``tickets.owner_id`` with customers and users both holding every owner as a
    key: which one is meant is not known, so neither is taken — lint names both."""
    url = make()
    _people(url, "customers")
    _people(url, "users")
    _execute(
        url,
        [
            ("CREATE TABLE tickets (id INTEGER PRIMARY KEY, owner_id INTEGER, body TEXT)", []),
            ("INSERT INTO tickets VALUES (?, ?, ?)", [(i, i, body(i)) for i in range(1, N + 1)]),
        ],
    )
    assert _references(url)["tickets"] == set()
    (found,) = [f for f in _lint(url) if f[0] == "tickets"]
    assert found[1] == "owner_id"
    assert "customers" in found[2] and "users" in found[2] and "not taken" in found[2]


def test_the_values_pick_the_one_people_table_that_holds_them(make: Callable[[], str]) -> None:
    """Customers 1-40, users 41-80 (keys of the two tables do not overlap): every
    ``owner_id`` is a user's key, so the owner is a user."""
    url = make()
    _people(url, "customers")
    _people(url, "users", first=N + 1)
    _execute(
        url,
        [
            ("CREATE TABLE tickets (id INTEGER PRIMARY KEY, owner_id INTEGER, body TEXT)", []),
            ("INSERT INTO tickets VALUES (?, ?, ?)", [(i, N + i, "late") for i in range(1, N)]),
        ],
    )
    assert _references(url)["tickets"] == {("owner_id", "users")}
    (found,) = [f for f in _lint(url) if f[0] == "tickets"]
    assert "users" in found[2] and "owner" in found[2]


def test_values_that_are_no_keys_make_no_guess(make: Callable[[], str]) -> None:
    """A ``cust_id`` holding another system's numbers (no customer has them) is not
    taken; lint says the name looked like one and how many values are no key."""
    url = make()
    _people(url, "customers")
    _execute(
        url,
        [
            ("CREATE TABLE orders (id INTEGER PRIMARY KEY, cust_id INTEGER, note TEXT)", []),
            (
                "INSERT INTO orders VALUES (?, ?, ?)",
                [(i, 900000 + i * 7, "ok") for i in range(1, 30)],
            ),
        ],
    )
    assert _references(url)["orders"] == set()
    (found,) = [f for f in _lint(url) if f[0] == "orders"]
    assert found[1] == "cust_id" and "are no key of" in found[2] and "customers" in found[2]


def test_a_role_word_holding_names_is_no_reference(make: Callable[[], str]) -> None:
    """``tickets.owner`` holding a person's name (text; the customers' key is a
    number) is no reference: not taken."""
    url = make()
    _people(url, "customers")
    _execute(
        url,
        [
            ("CREATE TABLE tickets (id INTEGER PRIMARY KEY, owner VARCHAR(60), body TEXT)", []),
            ("INSERT INTO tickets VALUES (?, ?, ?)", [(i, "Ana", "late") for i in range(1, 9)]),
        ],
    )
    assert _references(url)["tickets"] == set()


NORTHWIND = [
    "CREATE TABLE Categories (CategoryID INTEGER PRIMARY KEY, CategoryName VARCHAR(15), "
    "Description TEXT)",
    "CREATE TABLE Customers (CustomerID CHAR(5) PRIMARY KEY, CompanyName VARCHAR(40), "
    "ContactName VARCHAR(30), Address VARCHAR(60), Phone VARCHAR(24))",
    "CREATE TABLE Employees (EmployeeID INTEGER PRIMARY KEY, LastName VARCHAR(20), "
    "FirstName VARCHAR(10), ReportsTo INTEGER, Notes TEXT)",
    "CREATE TABLE Shippers (ShipperID INTEGER PRIMARY KEY, CompanyName VARCHAR(40), "
    "Phone VARCHAR(24))",
    "CREATE TABLE Suppliers (SupplierID INTEGER PRIMARY KEY, CompanyName VARCHAR(40), "
    "ContactName VARCHAR(30), Phone VARCHAR(24))",
    "CREATE TABLE Products (ProductID INTEGER PRIMARY KEY, ProductName VARCHAR(40), "
    "SupplierID INTEGER, CategoryID INTEGER, UnitPrice DECIMAL(10,2))",
    "CREATE TABLE Orders (OrderID INTEGER PRIMARY KEY, CustomerID CHAR(5), "
    "EmployeeID INTEGER, ShipVia INTEGER, ShipName VARCHAR(40), ShipAddress VARCHAR(60))",
    "CREATE TABLE OrderDetails (OrderID INTEGER, ProductID INTEGER, Quantity INTEGER, "
    "PRIMARY KEY (OrderID, ProductID))",
]


def test_a_northwind_like_schema_without_keys_gets_its_true_references_only(
    make: Callable[[], str],
) -> None:
    """Northwind with no foreign key declared: each ``…ID`` naming a table (the
    plural ``Categories`` too) is taken; ``ShipVia`` (a shipper) and ``ReportsTo``
    (an employee) name no table and no role and are left alone, as is any guess
    between the people tables."""
    url = make()
    rows: list[tuple[str, list[Any]]] = [(ddl, []) for ddl in NORTHWIND]
    rows += [
        ("INSERT INTO Categories VALUES (?, ?, ?)", [(1, "Beverages", "Soft drinks")]),
        ("INSERT INTO Customers VALUES (?, ?, ?, ?, ?)", [("ALFKI", "Alfreds", "Maria", "x", "1")]),
        ("INSERT INTO Employees VALUES (?, ?, ?, ?, ?)", [(1, "Davolio", "Nancy", None, "")]),
        ("INSERT INTO Shippers VALUES (?, ?, ?)", [(1, "Speedy", "1")]),
        ("INSERT INTO Suppliers VALUES (?, ?, ?, ?)", [(1, "Exotic", "Charlotte", "1")]),
        ("INSERT INTO Products VALUES (?, ?, ?, ?, ?)", [(1, "Chai", 1, 1, 18)]),
        ("INSERT INTO Orders VALUES (?, ?, ?, ?, ?, ?)", [(1, "ALFKI", 1, 1, "Alfreds", "x")]),
        ("INSERT INTO OrderDetails VALUES (?, ?, ?)", [(1, 1, 12)]),
    ]
    _execute(url, rows)
    got = {t.lower(): {(c.lower(), p.lower()) for c, p in r} for t, r in _references(url).items()}
    assert got == {
        "categories": set(),
        "customers": set(),
        "employees": set(),
        "shippers": set(),
        "suppliers": set(),
        "products": {("supplierid", "suppliers"), ("categoryid", "categories")},
        "orders": {("customerid", "customers"), ("employeeid", "employees")},
        "orderdetails": {("orderid", "orders"), ("productid", "products")},
    }
