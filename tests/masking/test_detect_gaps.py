"""Production values written in forms the detector did not read: verify passed while
they survived, and text_scrub left them (each test failed before its fix).

- an e-mail whose mailbox holds letters beyond ASCII (``jörg12@…`` was found as
  ``rg12@…``; Cyrillic, Greek and CJK mailboxes not at all, RFC 6531);
- an e-mail at an IDN domain (``anna@bücher.de``), and the same address written
  with its domain in punycode (``xn--bcher-kva.de``) or with a Cyrillic a (U+0430) in
  its mailbox;
- an e-mail written with HTML character references (``&#64;``, ``&commat;``);
- an IBAN written in lower case and in groups of four.

Customers' values are masked; the notes table refers to no customer, so only
the whole-target scan can find a customer's value in a note.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import KEY

CUSTOMERS = [
    (1, "jörg12@example.de", "DE89370400440532013000"),
    (2, "anna@bücher.de", "GB82WEST12345698765432"),
    (3, "иван.петров@example.ru", "NL91ABNA0417164300"),
    (4, "anna.miller@example.com", "FR1420041010050500013M02606"),
    (5, "张伟@例子.中国", "ES9121000418450200051332"),
]


def _col(t: str) -> ColumnPlan:
    return ColumnPlan(transformer=t, params={}, reason="test")


PLAN = Plan(
    tables={
        "customers": TablePlan(
            columns={"id": _col("keep"), "email": _col("email"), "iban": _col("iban")}
        ),
        "notes": TablePlan(columns={"id": _col("keep"), "body": _col("text_scrub")}),
    }
)


def _source(path: Path, notes: list[str]) -> str:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, iban TEXT)")
        conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        conn.executemany("INSERT INTO customers VALUES (?, ?, ?)", CUSTOMERS)
        conn.executemany(
            "INSERT INTO notes VALUES (?, ?)",
            [(i, n) for i, n in enumerate([*notes, "nothing to see here", "all good"], 1)],
        )
    conn.close()
    return f"sqlite:///{path}"


def _notes(url: str) -> list[str]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        got = [r[0] for r in conn.execute("SELECT body FROM notes ORDER BY id")]
    conn.close()
    return got


# each: a customer's value as a note writes it, and the pieces that must not survive
SURVIVORS = [
    pytest.param("write to jörg12@example.de today", ["jö", "rg12@"], id="umlaut-mailbox"),
    pytest.param("mail иван.петров@example.ru", ["иван", "петров"], id="cyrillic-mailbox"),
    pytest.param("用户 张伟@例子.中国 回电", ["张伟", "例子"], id="cjk-mailbox"),
    pytest.param("order from anna@bücher.de", ["anna@", "bücher"], id="idn-domain"),
    pytest.param("order from anna@xn--bcher-kva.de", ["anna@", "xn--bcher"], id="punycode"),
    pytest.param("cc \u0430nna.miller@example.com", ["nna.miller"], id="cyrillic-a"),
    pytest.param("<p>anna.miller&#64;example.com</p>", ["anna.miller"], id="html-decimal"),
    pytest.param("anna.miller&commat;example.com", ["anna.miller"], id="html-named"),
    pytest.param("anna.miller&#x40;example&#46;com", ["anna.miller"], id="html-hex"),
    pytest.param("iban de89 3704 0044 0532 0130 00 ok", ["3704 0044"], id="iban-lower-spaced"),
    pytest.param("IBAN GB82 WEST 1234 5698 7654 32", ["5698 7654"], id="iban-grouped"),
]


@pytest.mark.parametrize(("note", "pieces"), SURVIVORS)
def test_a_survivor_in_another_form_fails_verify(
    tmp_path: Path, note: str, pieces: list[str]
) -> None:
    """A clean run passes; the customer's value written into a note of the target
    (where the run wrote a scrubbed note) is a hit of the whole-target scan."""
    src = _source(tmp_path / "src.db", ["a note"])
    tgt = f"sqlite:///{tmp_path / 'tgt.db'}"
    run(PLAN, src, tgt, KEY, RunOptions())
    assert verify(PLAN, src, tgt, KEY).passed
    with sqlite3.connect(tmp_path / "tgt.db") as conn:
        conn.execute("UPDATE notes SET body = ? WHERE id = 1", (note,))
    conn.close()
    report = verify(PLAN, src, tgt, KEY)
    assert not report.passed
    assert {(h.table, h.column) for h in report.hits} == {("notes", "body")}


@pytest.mark.parametrize(("note", "pieces"), SURVIVORS)
def test_text_scrub_removes_the_value_and_verify_passes(
    tmp_path: Path, note: str, pieces: list[str]
) -> None:
    """The same notes in the source: the run scrubs every piece of the value, and
    verify of that target passes."""
    src = _source(tmp_path / "src.db", [note])
    tgt = f"sqlite:///{tmp_path / 'tgt.db'}"
    run(PLAN, src, tgt, KEY, RunOptions())
    body = _notes(tgt)[0]
    assert body != note
    assert not [p for p in pieces if p in body], body
    assert verify(PLAN, src, tgt, KEY).passed


# ---- a row's own values with look-alike letters or HTML references ---------------------


def _orders_source(path: Path, note: str) -> str:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT, email TEXT)")
        conn.execute(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, "
            "person_id INTEGER REFERENCES people(id), note TEXT)"
        )
        conn.executemany(
            "INSERT INTO people VALUES (?, ?, ?)",
            [
                (1, "Gwendolyn Ganthriv", "gg1987@corp.example"),
                (2, "Ola Nordmann", "ola@x.example"),
            ],
        )
        conn.executemany("INSERT INTO orders VALUES (?, ?, ?)", [(1, 1, note), (2, 2, "fine")])
    conn.close()
    return f"sqlite:///{path}"


ORDERS_PLAN = Plan(
    tables={
        "people": TablePlan(
            columns={"id": _col("keep"), "name": _col("full_name"), "email": _col("email")}
        ),
        "orders": TablePlan(
            columns={"id": _col("keep"), "person_id": _col("keep"), "note": _col("text_scrub")}
        ),
    }
)
# the row's own name and mailbox, written with Cyrillic and Greek look-alike letters
# and with HTML references (none of them a detected kind: only the row's own values
# find them)
OWN = [
    pytest.param("Call Gw\u0435ndolyn G\u0430nthriv today", ["ndolyn", "nthriv"], id="cyrillic"),
    pytest.param("\u039frder by Gwend\u03bflyn Ganthriv", ["Gwend", "Ganthriv"], id="greek"),
    pytest.param("Gwendolyn&nbsp;Ganthriv (login gg1987)", ["Gwendolyn", "Ganthriv"], id="nbsp"),
    pytest.param("G&#119;endolyn Ganth&#x72;iv", ["endolyn", "Ganth"], id="letter-refs"),
]


@pytest.mark.parametrize(("note", "pieces"), OWN)
def test_own_values_in_other_letters_are_scrubbed_and_found(
    tmp_path: Path, note: str, pieces: list[str]
) -> None:
    """text_scrub replaces the row's own name written with look-alike letters or HTML
    references; the same note copied into the target is a row hit of verify."""
    src = _orders_source(tmp_path / "src.db", note)
    tgt = f"sqlite:///{tmp_path / 'tgt.db'}"
    run(ORDERS_PLAN, src, tgt, KEY, RunOptions())
    with sqlite3.connect(tmp_path / "tgt.db") as conn:
        (body,) = conn.execute("SELECT note FROM orders WHERE id = 1").fetchone()
        assert not [p for p in pieces if p in body], body
        assert verify(ORDERS_PLAN, src, tgt, KEY).passed
        conn.execute("UPDATE orders SET note = ? WHERE id = 1", (note,))
    conn.close()
    report = verify(ORDERS_PLAN, src, tgt, KEY)
    assert not report.passed
    assert {(h.table, h.column) for h in report.row_hits} == {("orders", "note")}
