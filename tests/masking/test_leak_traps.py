"""Red-team traps: production data that real databases hold and that the auto plan,
text_scrub or verify used to let through while verify passed (issue 11).

Each trap is one customer whose own values reappear somewhere a person would
write them; the auto plan runs, verify must pass only when the value is gone, and
the independent checker (survivors.py) must agree.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.masking.classify import Category, classify_column
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import ColumnPlan
from stagewall.masking.planner import build_plan
from stagewall.masking.types import ColumnKind
from stagewall.masking.verify import verify
from tests.masking import trapdb
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker, with_column
from tests.masking.integration.traps import _connect
from tests.masking.survivors import _rows as rows_of
from tests.masking.survivors import survivors

FIRST = ["Anna", "Peter", "Maria", "Lukas", "Elena", "Tomasz", "Ines", "Oskar", "Sofia", "Jan"]
LAST = ["Kowalska", "Novak", "Rossi", "Dubois", "Jensen", "Horvat", "Schmidt", "Berger"]
CLEAN = ["Called back, no answer.", "Prefers contact in the morning.", "Paid by card.", ""]
DDL = [
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name VARCHAR(60), "
    "last_name VARCHAR(60), email VARCHAR(120), phone VARCHAR(40), street VARCHAR(120), "
    "postcode VARCHAR(12), national_id VARCHAR(20), notes TEXT)",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, note TEXT, "
    "FOREIGN KEY (customer_id) REFERENCES customers (id))",
]
COLUMNS = ["id", "first_name", "last_name", "email", "phone", "street", "postcode"]
COLUMNS += ["national_id", "notes"]
SENSITIVE = {**trapdb.SENSITIVE, "national_id": "id"}
TEXTS = {"customers": ["notes"], "orders": ["note"]}
REFS = {"customers": "id", "orders": "customer_id"}
N = 40


def _customer(i: int) -> dict[str, Any]:
    first, last = FIRST[i % len(FIRST)], LAST[(i * 3) % len(LAST)]
    return {
        "id": i,
        "first_name": first,
        "last_name": last,
        "email": f"{first.lower()}.{last.lower()}{i}@mail.example.org",
        "phone": f"+34 612 {100 + i:03d} {200 + i:03d}",
        "street": f"Calle Mayor {i}",
        "postcode": f"{28000 + i}",
        "national_id": f"C{4100000 + i * 7919}X",  # a passport number: no validator knows it
        "notes": CLEAN[i % len(CLEAN)],
    }


def _execute(url: str, statements: list[tuple[str, list[Any]]]) -> None:
    """Run ``(sql, rows)`` pairs (``?`` placeholders; no rows: run once) on ``url``."""
    conn, ph = _connect(url)
    try:
        cur = conn.cursor()
        for sql, rows in statements:
            sql = sql.replace("?", ph)
            if rows:
                cur.executemany(sql, rows)
            else:
                cur.execute(sql)
        conn.commit()
    finally:
        conn.close()


def _source(url: str, traps: list[dict[str, Any]]) -> str:
    """``N`` ordinary customers, then one customer per trap (its fields override)."""
    people = [_customer(i) for i in range(1, N + 1)]
    notes: list[str | None] = ["Deliver before noon"] * N
    for k, trap in enumerate(traps):
        person = _customer(N + 1 + k)
        person.update({c: v for c, v in trap.items() if c in COLUMNS})
        person["id"] = N + 1 + k
        people.append(person)
        notes.append(trap.get("order_note"))
    _execute(
        url,
        [
            *((stmt, []) for stmt in DDL),
            (
                f"INSERT INTO customers VALUES ({', '.join('?' * len(COLUMNS))})",
                [[p[c] for c in COLUMNS] for p in people],
            ),
            (
                "INSERT INTO orders VALUES (?, ?, ?)",
                [(p["id"], p["id"], n) for p, n in zip(people, notes, strict=True)],
            ),
        ],
    )
    return url


def _masked(make: Callable[[], str], traps: list[dict[str, Any]]) -> tuple[str, str, Any]:
    src, tgt = _source(make(), traps), make()
    plan = build_plan(src).plan
    run(plan, src, tgt, KEY, RunOptions())
    return src, tgt, plan


def _cells(url: str, sql: str) -> list[Any]:
    return [r[0] for r in rows_of(url, sql)]


def _plan_table(plan: Any, name: str) -> Any:
    return next(t for q, t in plan.tables.items() if q.rsplit(".", 1)[-1] == name)


def _with(plan: Any, table: str, column: str, cp: ColumnPlan) -> Any:
    q = next(q for q in plan.tables if q.rsplit(".", 1)[-1] == table)
    return with_column(plan, q, column, cp)


def scrubbed_and_seen(
    make: Callable[[], str], cases: list[tuple[dict[str, str], str, str]]
) -> None:
    """Traps of ``(own values, note, repeated text)``: the unedited plan scrubs
    every repeated text, verify passes and the checker finds nothing; with the
    notes kept, verify fails and it and the checker see every one."""
    traps = [{**values, "notes": note} for values, note, _ in cases]
    src, tgt, plan = _masked(make, traps)
    report = verify(plan, src, tgt, KEY)
    assert report.passed, report.to_json()
    for (_, note, text), got in zip(cases, _notes(tgt, N), strict=True):
        assert text.casefold() not in got.casefold(), (note, got)
    assert survivors(src, tgt, "customers", SENSITIVE, TEXTS, REFS, plan=plan) == {}
    seen_when_kept(make, src, plan, "customers", "notes", len(cases))


def seen_when_kept(
    make: Callable[[], str], src: str, plan: Any, table: str, column: str, cells: int
) -> None:
    """With ``table.column`` kept (its text_scrub undone), verify fails with ``cells``
    cells of it and the checker counts as many."""
    kept = _with(plan, table, column, ColumnPlan(transformer="keep", reason="test: kept"))
    tgt = make()
    run(kept, src, tgt, KEY, RunOptions())
    report = verify(kept, src, tgt, KEY)
    assert not report.passed
    assert sum(h.cells for h in report.row_hits if h.column == column) == cells, report.to_json()
    found = survivors(src, tgt, "customers", SENSITIVE, TEXTS, REFS, plan=kept)
    assert found == {f"{table}.{column}": cells}


def seen_when_written_after(
    make: Callable[[], str], cases: list[tuple[dict[str, Any], str, str]]
) -> dict[str, int]:
    """Traps of ``(own values, note, repeated text)`` whose notes are written into the
    scrubbed notes after a clean run (a weakened copy: text_scrub's column, not a kept
    one): verify fails and the checker counts every note. Verify's hits in the notes,
    kind → cells."""
    src, tgt, plan = _masked(make, [{**values, "notes": "no notes"} for values, _, _ in cases])
    assert verify(plan, src, tgt, KEY).passed
    _execute(
        tgt,
        [
            ("UPDATE customers SET notes = ? WHERE id = ?", [(note, N + 1 + k)])
            for k, (_, note, _) in enumerate(cases)
        ],
    )
    report = verify(plan, src, tgt, KEY)
    assert not report.passed
    hits: dict[str, int] = {}
    for h in report.row_hits:
        assert h.table.rsplit(".", 1)[-1].strip('"`') == "customers", report.to_json()
        assert h.column == "notes", report.to_json()
        hits[h.kind] = hits.get(h.kind, 0) + h.cells
    found = survivors(src, tgt, "customers", SENSITIVE, TEXTS, REFS, plan=plan)
    assert found == {"customers.notes": len(cases)}
    assert len(_notes(tgt, N)) == len(cases)
    return hits


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


# ---- national ids: a column named national_id was kept as "about the data" -----------


@pytest.mark.parametrize("column", ["national_id", "NationalId", "tax_id", "passport_id"])
def test_an_id_suffix_does_not_hide_a_national_id(column: str) -> None:
    """``_id`` makes ``company_id`` a key, not a company; ``national_id`` is the id."""
    f = classify_column(table="customers", column=column, kind=ColumnKind.TEXT, samples=[])
    assert f.category is Category.NATIONAL_ID, f
    assert f.transformer == "fpe_alnum"
    f = classify_column(table="customers", column="national_id_type", kind=ColumnKind.TEXT)
    assert f.transformer == "keep", f  # still about the data


def test_a_national_id_column_is_masked_end_to_end(make: Callable[[], str]) -> None:
    """Passport numbers match no value validator, so only the column name can say
    what they are; the plan used to keep them all, and verify (which learns from
    the plan what is sensitive) passed."""
    src, tgt, plan = _masked(make, [])
    assert _plan_table(plan, "customers").columns["national_id"].transformer == "fpe_alnum"
    before = set(_cells(src, "SELECT national_id FROM customers"))
    after = set(_cells(tgt, "SELECT national_id FROM customers"))
    assert not before & after
    assert verify(plan, src, tgt, KEY).passed


# ---- the same value, spelt as people type it ------------------------------------------

DOTLESS = "\u0131"  # Turkish dotless i: upper case I, so Y\u0131ld\u0131z is written YILDIZ


def _wide(text: str) -> str:
    """``text`` in full-width forms, as Japanese and Chinese input methods type it."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" for c in text)


# (the trap customer's own values, the note that repeats one, the repeated text)
SPELLINGS: list[tuple[dict[str, str], str, str]] = [
    (
        {"last_name": f"Y{DOTLESS}ld{DOTLESS}z"},
        f"YILDIZ arad{DOTLESS}, tekrar aray{DOTLESS}n",
        "YILDIZ",
    ),
    (
        {"last_name": "Yildiz"},
        f"Y{DOTLESS}ld{DOTLESS}z Bey arad{DOTLESS}",
        f"Y{DOTLESS}ld{DOTLESS}z",
    ),
    ({"last_name": "Ganthriv"}, _wide("GANTHRIV") + "様より電話", _wide("GANTHRIV")),
    ({"phone": "+81 90 1234 5678"}, "連絡先 " + _wide("+81 90 1234 5678"), _wide("1234 5678")),
    ({"last_name": "田中", "first_name": "太郎"}, "田中様より電話がありました", "田中"),
    ({"last_name": "Weiß"}, "WEISS rief an", "WEISS"),  # ß upper-cased is SS
    ({"street": "Ganthrivstraße 5"}, "neue Adresse Ganthrivstrasse 5", "Ganthrivstrasse"),
    ({"last_name": "Müller"}, "Rückruf: Mueller wartet", "Mueller"),  # umlaut as ue
    ({"last_name": "Mueller"}, "Rückruf: Müller wartet", "Müller"),
    ({"last_name": "Søgaard"}, "Soegaard ringer tilbage", "Soegaard"),
    ({"first_name": "Łucja", "last_name": "Ganthriv"}, "lucja will call", "lucja"),
    ({"postcode": "SW1A 1AA"}, "post code SW1A1AA confirmed", "SW1A1AA"),  # spaces or not
    ({"postcode": "1012AB"}, "nieuwe postcode 1012 AB", "1012 AB"),
    ({"postcode": "K1A0B1"}, "code postal K1A 0B1", "K1A 0B1"),
    ({"street": "Ganthrivweg 14"}, "moved to 14 Ganthrivweg last May", "14 Ganthrivweg"),
    ({"street": "222 Ganthriv Lane"}, "address now Ganthriv Lane 222", "Ganthriv Lane 222"),
    (  # URL-encoded in a link pasted into the note
        {"email": "jane.ganthriv@corp.example"},
        "reset sent: https://shop.test/reset?u=jane.ganthriv%40corp.example&t=1",
        "jane.ganthriv%40corp.example",
    ),
    ({"last_name": "Gánthriv"}, "Spoke with Ga\u0301nthriv today", "Ga\u0301nthriv"),  # NFD
    ({"first_name": "محمد"}, "اتصل مُحَمَّد اليوم", "مُحَمَّد"),  # Arabic vowel signs
    ({"last_name": "Ganthriv"}, "Call Gan\u200bthriv back", "Gan\u200bthriv"),  # zero width
    ({"last_name": "Ganthriv"}, "Call Gan\u00adthriv back", "Gan\u00adthriv"),  # soft hyphen
]


def _plain(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", text).casefold()


def _notes(url: str, first: int) -> list[str]:
    return _cells(url, f"SELECT notes FROM customers WHERE id > {first} ORDER BY id")


def test_values_spelt_otherwise_are_scrubbed_and_seen(make: Callable[[], str]) -> None:
    """Each note repeats its own row's value in another spelling (another case
    mapping, full-width forms, a transliterated umlaut, an invisible character
    inside the word). The auto plan scrubs them all, verify passes and the checker
    finds nothing; kept as they are, verify sees every one of them."""
    traps = [{**values, "notes": note} for values, note, _ in SPELLINGS]
    src, tgt, plan = _masked(make, traps)
    report = verify(plan, src, tgt, KEY)
    assert report.passed, report.to_json()
    for (_, _, text), got in zip(SPELLINGS, _notes(tgt, N), strict=True):
        assert _plain(text) not in _plain(got), got
    assert survivors(src, tgt, "customers", SENSITIVE, TEXTS, REFS, plan=plan) == {}

    kept = _with(plan, "customers", "notes", ColumnPlan(transformer="keep", reason="test: kept"))
    tgt2 = make()
    run(kept, src, tgt2, KEY, RunOptions())
    report = verify(kept, src, tgt2, KEY)
    cells = sum(h.cells for h in report.row_hits if h.column == "notes")
    assert cells == len(SPELLINGS), report.to_json()
    found = survivors(src, tgt2, "customers", SENSITIVE, TEXTS, REFS, plan=kept)
    assert found == {"customers.notes": len(SPELLINGS)}


# ---- a grandchild's free text about the person: order lines of an order --------------


def _with_lines(src: str, notes: dict[int, str]) -> None:
    """Order lines (two per order) whose gift messages name the order's customer."""
    named = rows_of(src, "SELECT o.id, c.last_name FROM orders o JOIN customers c "
                         "ON c.id = o.customer_id ORDER BY o.id")  # fmt: skip
    lines = [
        (order * 2 + k, order, f"SKU-{order}-{k}", text.format(last=last))
        for order, last in named
        for k, text in enumerate(["Gift wrapped", notes.get(order, "Happy birthday!")])
    ]
    _execute(
        src,
        [
            (
                "CREATE TABLE order_lines (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL, "
                "sku VARCHAR(20), gift_message TEXT, FOREIGN KEY (order_id) REFERENCES orders (id))",
                [],
            ),
            ("INSERT INTO order_lines VALUES (?, ?, ?, ?)", lines),
        ],
    )


LINE_REFS = {
    **REFS,
    "order_lines": "(SELECT customer_id FROM orders WHERE orders.id = order_lines.order_id)",
}
LINE_TEXTS = {**TEXTS, "order_lines": ["gift_message"]}


def test_a_grandchilds_note_about_the_person_is_scrubbed_and_seen(make: Callable[[], str]) -> None:
    """order_lines → orders → customers: a gift message naming the customer ("For
    Ganthriv, with love") was kept by the plan (the line references an order, not a
    person), text_scrub was not handed the customer's values, and verify searched
    only rows that reference the customer directly: it passed with every surname
    in the copy."""
    named = {1 + i * 3: "For {last}, with love" for i in range(N // 3)}
    src = _source(make(), [{"last_name": "Ganthriv"}])
    named[N + 1] = "Para {last}, con cariño"
    _with_lines(src, named)
    plan = build_plan(src).plan
    assert _plan_table(plan, "order_lines").columns["gift_message"].transformer == "text_scrub"
    tgt = make()
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    assert report.passed, report.to_json()
    assert survivors(src, tgt, "customers", SENSITIVE, LINE_TEXTS, LINE_REFS, plan=plan) == {}
    got = _cells(tgt, f"SELECT gift_message FROM order_lines WHERE order_id = {N + 1}")
    assert not any("Ganthriv" in str(g) for g in got), got

    kept = _with(plan, "order_lines", "gift_message", ColumnPlan(transformer="keep", reason="t"))
    tgt2 = make()
    run(kept, src, tgt2, KEY, RunOptions())
    report = verify(kept, src, tgt2, KEY)
    lines = [h for h in report.row_hits if h.column == "gift_message"]
    got_hits = [(h.table.rsplit(".", 1)[-1], h.kind, h.cells) for h in lines]
    assert got_hits == [("order_lines", "name", len(named))]
    found = survivors(src, tgt2, "customers", SENSITIVE, LINE_TEXTS, LINE_REFS, plan=kept)
    assert found == {"order_lines.gift_message": len(named)}


# ---- people written as a CRM writes them, in a column without a telling name ---------


@pytest.mark.parametrize(
    "values",
    [
        ["Smith, J.", "Jones, A.", "Miller, B.", "Garcia, C.", "Brown, D."],
        ["J. Smith", "A. Jones", "B. Miller", "C. Garcia"],
        ["Smith, John", "Jones, Anna", "Miller, Peter"],
    ],
)
def test_surname_and_initial_is_a_name(values: list[str]) -> None:
    """A deal's ``sales_rep`` holding "Smith, J." was kept ("none of 100 samples
    looked sensitive"): no row of the source holds the person, so verify had nothing
    to search for and passed with every employee's name in the copy."""
    f = classify_column(
        table="deals", column="sales_rep", kind=ColumnKind.TEXT, samples=values * 20
    )
    assert f.transformer == "full_name", f
    other = ["Books, Music", "Toys, Games", "A. Bottle", "Gift, wrapped"] * 20
    f = classify_column(table="deals", column="category", kind=ColumnKind.TEXT, samples=other)
    assert f.transformer == "keep", f


# ---- text stored as bytes: SQLite's dynamic typing, a letter kept in a BLOB ----------

LETTER = "Dear Mrs {last}, we moved your parcel to {street}."


def test_text_stored_as_bytes_is_scrubbed_or_nulled_and_seen(tmp_path: Path) -> None:
    """A note written as bytes into a TEXT column (SQLite keeps the value's own type)
    passed text_scrub as it was, and a letter about the customer kept in a BLOB was
    copied: verify read neither (bytes were not text to it) and passed."""
    src = _source(f"sqlite:///{tmp_path / 'source.db'}", [{"last_name": "Ganthriv"}])
    people = rows_of(src, "SELECT id, last_name, street FROM customers ORDER BY id")
    _execute(
        src,
        [
            ("UPDATE customers SET notes = ? WHERE id = ?", [(b"Spoke with Ganthriv", N + 1)]),
            (
                "CREATE TABLE letters (id INTEGER PRIMARY KEY, customer_id INTEGER, body BLOB, "
                "FOREIGN KEY (customer_id) REFERENCES customers (id))",
                [],
            ),
            (
                "INSERT INTO letters VALUES (?, ?, ?)",
                [(i, i, LETTER.format(last=last, street=st).encode()) for i, last, st in people],
            ),
        ],
    )
    texts = {**TEXTS, "letters": ["body"]}
    refs = {**REFS, "letters": "customer_id"}
    plan = build_plan(src).plan
    assert _plan_table(plan, "letters").columns["body"].transformer == "null"
    tgt = f"sqlite:///{tmp_path / 'target.db'}"
    run(plan, src, tgt, KEY, RunOptions())
    assert verify(plan, src, tgt, KEY).passed
    assert survivors(src, tgt, "customers", SENSITIVE, texts, refs, plan=plan) == {}
    (note,) = _cells(tgt, f"SELECT notes FROM customers WHERE id = {N + 1}")
    assert isinstance(note, bytes) and b"Ganthriv" not in note, note

    kept = _with(plan, "letters", "body", ColumnPlan(transformer="keep", reason="test: kept"))
    tgt2 = f"sqlite:///{tmp_path / 'kept.db'}"
    run(kept, src, tgt2, KEY, RunOptions())
    report = verify(kept, src, tgt2, KEY)
    assert not report.passed
    cells = max(h.cells for h in report.row_hits if h.column == "body")
    assert cells == len(people)
    assert survivors(src, tgt2, "customers", SENSITIVE, texts, refs, plan=kept) == {
        "letters.body": len(people)
    }


# ---- references the schema does not declare ------------------------------------------


def test_an_undeclared_reference_is_a_lint_warning(tmp_path: Path) -> None:
    """A ticket's ``customer_id`` without a foreign key (many applications declare
    none): the ticket's body naming the customer ("Ganthriv says the parcel is
    late") is neither scrubbed of the customer's values nor searched by verify for
    them — a lone surname the detector does not know is copied and verify passes.
    That is a limit (docs/masking.md), and lint says so for the column."""
    from stagewall.masking.db import open_database
    from stagewall.masking.lint import Rule, lint_plan

    src = _source(f"sqlite:///{tmp_path / 'source.db'}", [{"last_name": "Ganthriv"}])
    _execute(
        src,
        [
            ("CREATE TABLE tickets (id INTEGER PRIMARY KEY, customer_id INTEGER, body TEXT)", []),
            ("INSERT INTO tickets VALUES (?, ?, ?)", [(1, N + 1, "Ganthriv says it is late")]),
        ],
    )
    plan = build_plan(src).plan
    with open_database(src, role="source") as db:
        schema = db.introspect()
    found = [(p.rule, p.table, p.column) for p in lint_plan(plan, schema)]
    assert (Rule.UNDECLARED_REFERENCE, "tickets", "customer_id") in found
    assert not [f for f in found if f[0] is Rule.UNDECLARED_REFERENCE and f[1] == "orders"]
