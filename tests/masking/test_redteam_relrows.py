"""Related rows as real schemas relate them, through the unedited auto plan (the
cases of ``MAIN_LEAKED`` leaked on main and those of ``MAIN_MISSED`` went unseen by
verify; ``NOT_FOLLOWED`` is still not followed and marked ``xfail``).

Each customer ``i`` has a surname and a street core no name or word list knows
(``Quorhriv``, ``14 Brellowan Lane``), and a passport number and a postcode no
detector reads as such. A row related to customer ``i`` — another way than a
one-column ``customer_id`` — holds a note naming them. The issue's rule: a masked
row's source values are searched in the text of its own row and of rows that
reference it. The relations tried (the checker of ``survivors.py`` pairs each note
with its customer):

- ``grandchild``: ``order_items.note`` → ``orders`` → ``customers`` (declared keys);
- ``link``: ``customer_contacts(customer_id, contact_id)``, the contact's note names
  the customer (a many-to-many link table);
- ``composite``: ``orders(tenant_id, customer_id)`` → ``customers(tenant_id, id)``;
- ``self_declared`` / ``self_undeclared``: ``customers.referred_by`` → ``customers``,
  the note names the referrer;
- ``opposite``: a customer's note holds their latest order's delivery street and
  postcode (stored on ``orders``);
- ``polymorphic``: ``comments(commentable_type = 'Customer', commentable_id)`` as
  Rails writes them;
- ``unique_declared``: ``orders.customer_code`` → ``customers.code`` (a declared
  foreign key to a unique column that is not the key);
- ``unique_email``: ``orders.customer_email`` holding ``customers.email`` (none);
- ``text_id``: ``orders.customer_ref`` VARCHAR holding ``'42'`` for customer 42;
- ``schema_declared`` / ``schema_undeclared`` (PostgreSQL): ``sales.orders`` →
  ``public.customers``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.survivors import survivors
from tests.masking.test_leak_traps import FIRST, SENSITIVE, _execute

N = 20
# invented words: in no name list, no word list, no street list
_HEADS = ["Quor", "Vrel", "Thax", "Drom", "Ysk", "Kelv", "Zorn", "Brav", "Gund", "Plox"]
_TAILS = ["hriv", "nask", "vith", "ulme", "orsk"]
_CORES = ["Brellowan", "Quintharo", "Vasketh", "Droumvile", "Zantheck"]


def surname(i: int) -> str:
    return _HEADS[i % len(_HEADS)] + _TAILS[(i // len(_HEADS)) % len(_TAILS)]


def customer(i: int) -> dict[str, Any]:
    first, last = FIRST[i % len(FIRST)], surname(i)
    return {
        "id": i,
        "first_name": first,
        "last_name": last,
        "email": f"{first.lower()}.{last.lower()}{i}@mail.example.org",
        "phone": f"+34 612 {100 + i:03d} {200 + i:03d}",
        "street": f"{10 + i} {_CORES[i % len(_CORES)]} Lane",
        "postcode": f"{28000 + i}",
        "national_id": f"C{4100000 + i * 7919}X",  # a passport number: no validator knows it
    }


PEOPLE = ["first_name", "last_name", "email", "phone", "street", "postcode", "national_id"]


def note(i: int) -> str:
    """What a person writes about customer ``i`` in a related row."""
    p = customer(i)
    return (
        f"Visit Mr {p['last_name']} at {p['street']}; passport {p['national_id']}, "
        f"postcode {p['postcode']}."
    )


def ids_note(i: int) -> str:
    """Customer ``i``'s values only a search of the related row finds."""
    p = customer(i)
    return f"Checked passport {p['national_id']}; the parcel goes to postcode {p['postcode']}."


def _people_ddl(
    extra: str = "", table: str = "customers", key: str = "id INTEGER PRIMARY KEY"
) -> str:
    return (
        f"CREATE TABLE {table} ({key}, first_name VARCHAR(60), last_name VARCHAR(60), "
        "email VARCHAR(120), phone VARCHAR(40), street VARCHAR(120), postcode VARCHAR(12), "
        f"national_id VARCHAR(20), notes TEXT{extra})"
    )


def _people_rows(notes: Callable[[int], str | None] = lambda i: "Paid by card.") -> list[list[Any]]:
    return [[*(customer(i)[c] for c in ["id", *PEOPLE]), notes(i)] for i in range(1, N + 1)]


_INSERT_PEOPLE = "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"


@dataclass(frozen=True)
class Case:
    """A source: how it is built (given the URL and the note writer), where the note
    is (table, column) and what the checker pairs it with."""

    build: Callable[[str, Callable[[int], str]], None]
    table: str  # the note's table (as the checker names it)
    column: str
    ref: str = "id"  # the note row's column holding its customer's key
    parent: str = "customers"
    sensitive: dict[str, str] = field(default_factory=lambda: SENSITIVE)
    backends: tuple[str, ...] = ("sqlite", "postgresql", "mysql")


def _grandchild(url: str, text: Callable[[int], str]) -> None:
    _execute(
        url,
        [
            (_people_ddl(), []),
            (_INSERT_PEOPLE, _people_rows()),
            (
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, "
                "status VARCHAR(20), FOREIGN KEY (customer_id) REFERENCES customers (id))",
                [],
            ),
            ("INSERT INTO orders VALUES (?, ?, ?)", [(i, i, "shipped") for i in range(1, N + 1)]),
            (
                "CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER, "
                "sku VARCHAR(20), note TEXT, FOREIGN KEY (order_id) REFERENCES orders (id))",
                [],
            ),
            (
                "INSERT INTO order_items VALUES (?, ?, ?, ?)",
                [(i, i, f"SKU-{i}", text(i)) for i in range(1, N + 1)],
            ),
        ],
    )


def _link(url: str, text: Callable[[int], str]) -> None:
    contacts = [
        (i, FIRST[(i + 3) % len(FIRST)], "Rossi", f"+34 699 {300 + i:03d} {400 + i:03d}", text(i))
        for i in range(1, N + 1)
    ]
    _execute(
        url,
        [
            (_people_ddl(), []),
            (_INSERT_PEOPLE, _people_rows()),
            (
                "CREATE TABLE contacts (id INTEGER PRIMARY KEY, first_name VARCHAR(60), "
                "last_name VARCHAR(60), phone VARCHAR(40), note TEXT)",
                [],
            ),
            ("INSERT INTO contacts VALUES (?, ?, ?, ?, ?)", contacts),
            (
                "CREATE TABLE customer_contacts (customer_id INTEGER, contact_id INTEGER, "
                "PRIMARY KEY (customer_id, contact_id), "
                "FOREIGN KEY (customer_id) REFERENCES customers (id), "
                "FOREIGN KEY (contact_id) REFERENCES contacts (id))",
                [],
            ),
            ("INSERT INTO customer_contacts VALUES (?, ?)", [(i, i) for i in range(1, N + 1)]),
        ],
    )


def _composite(url: str, text: Callable[[int], str]) -> None:
    _execute(
        url,
        [
            (
                _people_ddl(", PRIMARY KEY (tenant_id, id)", key="tenant_id INTEGER, id INTEGER"),
                [],
            ),
            (
                "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [[7, *r] for r in _people_rows()],
            ),
            (
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, tenant_id INTEGER, "
                "customer_id INTEGER, note TEXT, FOREIGN KEY (tenant_id, customer_id) "
                "REFERENCES customers (tenant_id, id))",
                [],
            ),
            (
                "INSERT INTO orders VALUES (?, ?, ?, ?)",
                [(i, 7, i, text(i)) for i in range(1, N + 1)],
            ),
        ],
    )


def _referrer(i: int) -> int | None:
    return i - 1 if i > 1 else None  # (inserted before: a declared key is checked)


def _self(declared: bool) -> Callable[[str, Callable[[int], str]], None]:
    def build(url: str, text: Callable[[int], str]) -> None:
        fk = ", FOREIGN KEY (referred_by) REFERENCES customers (id)" if declared else ""
        rows = _people_rows(lambda i: text(i - 1) if i > 1 else "Walk-in customer.")
        _execute(
            url,
            [
                (_people_ddl(f", referred_by INTEGER{fk}"), []),
                (
                    "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [[*r, _referrer(r[0])] for r in rows],
                ),
            ],
        )

    return build


# the delivery addresses of the orders: another street and postcode than the customer's
def delivery(i: int) -> dict[str, str]:
    return {
        "delivery_street": f"{40 + i} {_CORES[(i + 2) % len(_CORES)]}strasse",
        "delivery_postcode": f"{61000 + i}",
    }


def _opposite(url: str, text: Callable[[int], str]) -> None:
    def latest(i: int) -> str:
        d = delivery(i)
        if text is ids_note:
            return f"Latest parcel went to postcode {d['delivery_postcode']}."
        return f"Latest order to {d['delivery_street']}, {d['delivery_postcode']}."

    _execute(
        url,
        [
            (_people_ddl(), []),
            (_INSERT_PEOPLE, _people_rows(latest)),
            (
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, "
                "delivery_street VARCHAR(120), delivery_postcode VARCHAR(12), "
                "FOREIGN KEY (customer_id) REFERENCES customers (id))",
                [],
            ),
            (
                "INSERT INTO orders VALUES (?, ?, ?, ?)",
                [(i, i, *delivery(i).values()) for i in range(1, N + 1)],
            ),
        ],
    )


def _polymorphic(url: str, text: Callable[[int], str]) -> None:
    rows = [(i, "Customer", i, text(i)) for i in range(1, N + 1)]
    rows += [(100 + i, "Product", i, "Restocked on Monday.") for i in range(1, 6)]
    _execute(
        url,
        [
            (_people_ddl(), []),
            (_INSERT_PEOPLE, _people_rows()),
            (
                "CREATE TABLE products (id INTEGER PRIMARY KEY, title VARCHAR(60))",
                [],
            ),
            ("INSERT INTO products VALUES (?, ?)", [(i, f"Lamp {i}") for i in range(1, 6)]),
            (
                "CREATE TABLE comments (id INTEGER PRIMARY KEY, "
                "commentable_type VARCHAR(40), commentable_id INTEGER, body TEXT)",
                [],
            ),
            ("INSERT INTO comments VALUES (?, ?, ?, ?)", rows),
        ],
    )


def _code(i: int) -> str:
    return f"CU-{i:05d}"


def _unique_declared(url: str, text: Callable[[int], str]) -> None:
    _execute(
        url,
        [
            (_people_ddl(", code VARCHAR(12) NOT NULL UNIQUE"), []),
            (
                "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [[*r, _code(r[0])] for r in _people_rows()],
            ),
            (
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_code VARCHAR(12), "
                "note TEXT, FOREIGN KEY (customer_code) REFERENCES customers (code))",
                [],
            ),
            (
                "INSERT INTO orders VALUES (?, ?, ?)",
                [(i, _code(i), text(i)) for i in range(1, N + 1)],
            ),
        ],
    )


def _unique_email(url: str, text: Callable[[int], str]) -> None:
    _execute(
        url,
        [
            (_people_ddl(), []),
            (_INSERT_PEOPLE, _people_rows()),
            ("CREATE UNIQUE INDEX customers_email ON customers (email)", []),
            (
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_email VARCHAR(120), "
                "note TEXT)",
                [],
            ),
            (
                "INSERT INTO orders VALUES (?, ?, ?)",
                [(i, customer(i)["email"], text(i)) for i in range(1, N + 1)],
            ),
        ],
    )


def _text_id(url: str, text: Callable[[int], str]) -> None:
    _execute(
        url,
        [
            (_people_ddl(), []),
            (_INSERT_PEOPLE, _people_rows()),
            (
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_ref VARCHAR(20), note TEXT)",
                [],
            ),
            (
                "INSERT INTO orders VALUES (?, ?, ?)",
                [(i, str(i), text(i)) for i in range(1, N + 1)],
            ),
        ],
    )


def _schema(declared: bool) -> Callable[[str, Callable[[int], str]], None]:
    def build(url: str, text: Callable[[int], str]) -> None:
        fk = ", FOREIGN KEY (customer_id) REFERENCES public.customers (id)" if declared else ""
        _execute(
            url,
            [
                (_people_ddl(), []),
                (_INSERT_PEOPLE, _people_rows()),
                ("CREATE SCHEMA sales", []),
                (
                    "CREATE TABLE sales.orders (id INTEGER PRIMARY KEY, customer_id INTEGER, "
                    f"note TEXT{fk})",
                    [],
                ),
                (
                    "INSERT INTO sales.orders VALUES (?, ?, ?)",
                    [(i, i, text(i)) for i in range(1, N + 1)],
                ),
            ],
        )

    return build


_DELIVERY = {"delivery_street": "street", "delivery_postcode": "postcode"}
PG = ("postgresql",)
CASES: dict[str, Case] = {
    "grandchild": Case(_grandchild, "order_items", "note"),
    "link": Case(_link, "contacts", "note"),
    "composite": Case(_composite, "orders", "note"),
    "self_declared": Case(_self(True), "customers", "notes", ref="referred_by"),
    "self_undeclared": Case(_self(False), "customers", "notes", ref="referred_by"),
    "opposite": Case(_opposite, "customers", "notes", parent="orders", sensitive=_DELIVERY),
    "polymorphic": Case(_polymorphic, "comments", "body", ref="commentable_id"),
    "unique_declared": Case(_unique_declared, "orders", "note"),
    "unique_email": Case(_unique_email, "orders", "note"),
    "text_id": Case(_text_id, "orders", "note"),
    "schema_declared": Case(_schema(True), 'sales"."orders', "note", backends=PG),
    "schema_undeclared": Case(_schema(False), 'sales"."orders', "note", backends=PG),
}
# on main (88eef07), with the unedited auto plan: the copy kept every note's passport
# number and postcode while verify passed (on each backend)
MAIN_LEAKED = {"link", "self_undeclared", "polymorphic", "unique_email", "text_id"}
# on main, notes written into a clean copy: verify passed (the copy of a declared key
# to a unique column was clean, but verify looked its rows up by the primary key)
MAIN_MISSED = MAIN_LEAKED | {"unique_declared"}
# still not followed (docs/masking.md, "Related rows as real schemas relate them"):
# an undeclared reference to a unique column that is not the key
NOT_FOLLOWED = {"unique_email"}


def _params() -> list[Any]:
    out = []
    for name, case in CASES.items():
        for b in BACKENDS:
            backend = b if isinstance(b, str) else b.values[0]
            marks = () if isinstance(b, str) else b.marks
            if name in NOT_FOLLOWED:
                why = "not followed: an undeclared reference to a unique column (docs)"
                marks = (*marks, pytest.mark.xfail(strict=True, reason=why))
            if backend in case.backends:
                out.append(pytest.param(name, backend, marks=marks, id=f"{name}-{backend}"))
    return out


@pytest.fixture
def maker(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[str], Callable[[], str]]:
    return lambda backend: url_maker(request, tmp_path, backend)


def _plan_key(plan: Any, table: str) -> str:
    bare = table.replace('"', "")
    return next(q for q in plan.tables if q == bare or q.rsplit(".", 1)[-1] == bare)


def _checker(case: Case, src: str, tgt: str, plan: Any) -> dict[str, int]:
    return survivors(
        src,
        tgt,
        case.parent,
        case.sensitive,
        {case.table: [case.column]},
        {case.parent: "id", case.table: case.ref},
        plan=plan,
    )


@pytest.mark.parametrize(("name", "backend"), _params())
def test_the_auto_plan_scrubs_a_related_rows_note(
    maker: Callable[[str], Callable[[], str]], name: str, backend: str
) -> None:
    """The unedited auto plan copies each note without its customer's values (the
    checker finds none) and verify passes. Before, for ``MAIN_LEAKED``: the checker
    found every note (20 cells) and verify passed."""
    case = CASES[name]
    make = maker(backend)
    src, tgt = make(), make()
    case.build(src, note)
    plan = build_plan(src).plan
    run(plan, src, tgt, KEY, RunOptions())
    found = _checker(case, src, tgt, plan)
    report = verify(plan, src, tgt, KEY)
    verdict = "LEAK" if found and report.passed else "FAILS" if not report.passed else "CLEAN"
    assert verdict == "CLEAN", (verdict, found, report.to_json())


def _plant(case: Case, tgt: str, plan: Any) -> None:
    """Write ``ids_note`` into the target's notes after a clean run (a copy that failed
    to scrub them): row ``i`` names its customer (for a self-reference, the referrer)."""
    table = case.table if '"' not in case.table else case.table.replace('"', "")
    key = "id"
    who = (lambda i: i - 1) if case.ref == "referred_by" else (lambda i: i)
    _execute(
        tgt,
        [
            (f"UPDATE {table} SET {case.column} = ? WHERE {key} = ?", [(ids_note(who(i)), i)])
            for i in range(1 if case.ref != "referred_by" else 2, N + 1)
        ],
    )


@pytest.mark.parametrize(("name", "backend"), _params())
def test_verify_searches_a_related_rows_note(
    maker: Callable[[str], Callable[[], str]], name: str, backend: str
) -> None:
    """After a clean copy, each note is written over with its customer's values no
    detector and no rare-word scan knows (a passport number, a postcode): verify
    fails, every row counted as the checker counts it. Before, for ``MAIN_MISSED``:
    verify passed."""
    case = CASES[name]
    make = maker(backend)
    src, tgt = make(), make()
    case.build(src, lambda i: "Paid by card.")
    plan = build_plan(src).plan
    run(plan, src, tgt, KEY, RunOptions())
    assert verify(plan, src, tgt, KEY).passed
    if name == "opposite":  # (the customer's note names the order's postcode)
        _execute(
            tgt,
            [
                (
                    "UPDATE customers SET notes = ? WHERE id = ?",
                    [(f"Sent to {delivery(i)['delivery_postcode']}.", i)],
                )
                for i in range(1, N + 1)
            ],
        )
    else:
        _plant(case, tgt, plan)
    found = _checker(case, src, tgt, plan)
    cells = N - 1 if case.ref == "referred_by" else N
    assert found == {f"{case.table}.{case.column}": cells}
    report = verify(plan, src, tgt, KEY)
    hits = max((h.cells for h in report.row_hits if h.column == case.column), default=0)
    assert not report.passed and hits == cells, ("MISSED", hits, report.to_json())


# ---- quiet: what is not taken ------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    return url_maker(request, tmp_path, request.param)


def _refs(url: str) -> dict[str, set[tuple[tuple[str, ...], str, str | None]]]:
    """``{table: {(columns, parent, tag)}}`` of the references the copy and verify
    follow, read the way a run reads them."""
    from stagewall.masking._known_rows import references
    from stagewall.masking._references import checked
    from stagewall.masking.db import open_database

    with open_database(url, role="source") as db:
        schema = db.introspect()
        db.begin_read()
        schema = checked(db, schema)
    return {
        t.name: {
            (fk.columns, fk.ref_table, getattr(fk, "tag", None)) for fk in references(schema, t)
        }
        for t in schema.tables
    }


def test_text_that_is_no_number_is_no_reference(make: Callable[[], str]) -> None:
    """``orders.customer_ref`` holding ``ACME-1`` (and one holding ``042``) beside the
    customers' whole-number key: not taken, and lint says nothing about it (a text
    column is a candidate of a numbered key only for values that are numbers)."""
    from tests.masking.test_redteam_references import _lint

    url = make()
    _execute(
        url,
        [
            (_people_ddl(), []),
            (_INSERT_PEOPLE, _people_rows()),
            (
                "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_ref VARCHAR(20), "
                "owner VARCHAR(20), note TEXT)",
                [],
            ),
            (
                "INSERT INTO orders VALUES (?, ?, ?, ?)",
                [(i, f"ACME-{i}", "Ana" if i % 2 else "042", "ok") for i in range(1, N + 1)],
            ),
        ],
    )
    assert _refs(url)["orders"] == set()
    assert [f for f in _lint(url) if f[0] == "orders"] == []


def test_a_type_naming_no_table_or_ids_that_are_no_keys_make_no_reference(
    make: Callable[[], str],
) -> None:
    """``taggable_type = 'Widget'`` names no table; ``commentable_type = 'Customer'``
    beside ids no customer has is not taken; ``Admin::Customer`` beside customers'
    keys is (its last part names the table)."""
    url = make()
    _execute(
        url,
        [
            (_people_ddl(), []),
            (_INSERT_PEOPLE, _people_rows()),
            (
                "CREATE TABLE tags (id INTEGER PRIMARY KEY, taggable_type VARCHAR(40), "
                "taggable_id INTEGER, commentable_type VARCHAR(40), commentable_id INTEGER, "
                "ownable_type VARCHAR(40), ownable_id INTEGER, body TEXT)",
                [],
            ),
            (
                "INSERT INTO tags VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (i, "Widget", i, "Customer", 900 + i, "Admin::Customer", i, "ok")
                    for i in range(1, N + 1)
                ],
            ),
        ],
    )
    assert _refs(url)["tags"] == {(("ownable_type", "ownable_id"), "customers", "Admin::Customer")}


def test_a_self_reference_with_two_people_tables_that_fit_makes_no_guess(
    make: Callable[[], str],
) -> None:
    """``customers.referred_by`` with users numbered as the customers are: which one
    is meant is not known, so neither (the table itself included) is taken."""
    url = make()
    _self(False)(url, note)
    _execute(
        url,
        [
            (_people_ddl(table="users"), []),
            (
                "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _people_rows(),
            ),
        ],
    )
    assert _refs(url)["customers"] == set()


def test_a_link_table_with_values_of_its_own_is_no_link() -> None:
    """A table with two references and a known value of its own (``orders`` with a
    delivery street, referencing customers and employees) hands its own values down,
    not the other side's: a customer's notes are not searched for the employee's."""
    from stagewall.masking._known_rows import children_of
    from stagewall.masking.plan import ColumnPlan, Plan, TablePlan
    from stagewall.masking.schema import Column, ForeignKey, Schema, Table
    from stagewall.masking.types import ColumnKind

    def col(name: str, kind: ColumnKind = ColumnKind.INTEGER) -> Column:
        return Column(name, kind, kind.value)

    people = (col("id"), col("last_name", ColumnKind.TEXT), col("notes", ColumnKind.TEXT))
    customers = Table(None, "customers", people, ("id",))
    employees = Table(None, "employees", people, ("id",))
    fks = (
        ForeignKey(None, ("customer_id",), None, "customers", ("id",)),
        ForeignKey(None, ("employee_id",), None, "employees", ("id",)),
    )
    link = (col("customer_id"), col("employee_id"))
    orders = Table(None, "orders", (col("id"), *link, col("street", ColumnKind.TEXT)), ("id",), fks)
    links = Table(None, "handled", link, ("customer_id", "employee_id"), fks)
    name = ColumnPlan(transformer="last_name")
    tables = {
        "customers": TablePlan(columns={"last_name": name}),
        "employees": TablePlan(columns={"last_name": name}),
        "orders": TablePlan(columns={"street": ColumnPlan(transformer="street_address")}),
        "handled": TablePlan(columns={}),
    }
    plan = Plan(tables=tables)
    schema = Schema("sqlite", (customers, employees, orders))
    (child,) = children_of(plan, schema, customers)
    assert child.table.name == "orders" and child.via is None
    schema = Schema("sqlite", (customers, employees, links))
    (child,) = children_of(plan, schema, customers)
    assert child.table.name == "handled" and child.via is not None
    assert child.via.table.name == "employees"
