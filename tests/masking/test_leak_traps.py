"""Red-team traps: production data that real databases hold and that the auto plan,
text_scrub or verify used to let through while verify passed (issue 11).

Each trap is one customer whose own values reappear somewhere a person would
write them; the auto plan runs, verify must pass only when the value is gone, and
the independent checker (survivors.py) must agree.
"""

from __future__ import annotations

import sqlite3
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
from tests.masking.integration.helpers import KEY, with_column
from tests.masking.survivors import survivors

FIRST = ["Anna", "Peter", "Maria", "Lukas", "Elena", "Tomasz", "Ines", "Oskar", "Sofia", "Jan"]
LAST = ["Kowalska", "Novak", "Rossi", "Dubois", "Jensen", "Horvat", "Schmidt", "Berger"]
CLEAN = ["Called back, no answer.", "Prefers contact in the morning.", "Paid by card.", ""]
DDL = [
    "CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name VARCHAR(60), "
    "last_name VARCHAR(60), email VARCHAR(120), phone VARCHAR(40), street VARCHAR(120), "
    "postcode VARCHAR(12), national_id VARCHAR(20), notes TEXT)",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), "
    "note TEXT)",
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


def _source(path: Path, traps: list[dict[str, Any]]) -> str:
    """``N`` ordinary customers, then one customer per trap (its fields override)."""
    conn = sqlite3.connect(path)
    for stmt in DDL:
        conn.execute(stmt)
    people = [_customer(i) for i in range(1, N + 1)]
    for k, trap in enumerate(traps):
        person = _customer(N + 1 + k)
        person.update({c: v for c, v in trap.items() if c in COLUMNS})
        person["id"] = N + 1 + k
        people.append((person, trap.get("order_note")))  # type: ignore[arg-type]
    for p in people:
        person, note = p if isinstance(p, tuple) else (p, "Deliver before noon")
        conn.execute(
            f"INSERT INTO customers VALUES ({', '.join('?' * len(COLUMNS))})",
            [person[c] for c in COLUMNS],
        )
        conn.execute("INSERT INTO orders VALUES (?, ?, ?)", (person["id"], person["id"], note))
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def _masked(tmp_path: Path, traps: list[dict[str, Any]]) -> tuple[str, str, Any]:
    tmp_path.mkdir(exist_ok=True)
    src = _source(tmp_path / "source.db", traps)
    tgt = f"sqlite:///{tmp_path / 'target.db'}"
    plan = build_plan(src).plan
    run(plan, src, tgt, KEY, RunOptions())
    return src, tgt, plan


def _cells(tgt: str, sql: str) -> list[Any]:
    with sqlite3.connect(tgt[len("sqlite:///") :]) as conn:
        return [r[0] for r in conn.execute(sql)]


# ---- national ids: a column named national_id was kept as "about the data" -----------


@pytest.mark.parametrize("column", ["national_id", "NationalId", "tax_id", "passport_id"])
def test_an_id_suffix_does_not_hide_a_national_id(column: str) -> None:
    """``_id`` makes ``company_id`` a key, not a company; ``national_id`` is the id."""
    f = classify_column(table="customers", column=column, kind=ColumnKind.TEXT, samples=[])
    assert f.category is Category.NATIONAL_ID, f
    assert f.transformer == "fpe_alnum"
    f = classify_column(table="customers", column="national_id_type", kind=ColumnKind.TEXT)
    assert f.transformer == "keep", f  # still about the data


def test_a_national_id_column_is_masked_end_to_end(tmp_path: Path) -> None:
    """Passport numbers match no value validator, so only the column name can say
    what they are; the plan used to keep them all, and verify (which learns from
    the plan what is sensitive) passed."""
    src, tgt, plan = _masked(tmp_path, [])
    assert plan.tables["customers"].columns["national_id"].transformer == "fpe_alnum"
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
    ({"last_name": "Ganthriv"}, "Call Gan\u200bthriv back", "Gan\u200bthriv"),  # zero width
    ({"last_name": "Ganthriv"}, "Call Gan\u00adthriv back", "Gan\u00adthriv"),  # soft hyphen
]


def _plain(text: str) -> str:
    import unicodedata

    return unicodedata.normalize("NFKC", text).casefold()


def _notes(url: str, first: int) -> list[str]:
    return _cells(url, f"SELECT notes FROM customers WHERE id > {first} ORDER BY id")


def test_values_spelt_otherwise_are_scrubbed_and_seen(tmp_path: Path) -> None:
    """Each note repeats its own row's value in another spelling (another case
    mapping, full-width forms, a transliterated umlaut, an invisible character
    inside the word). The auto plan scrubs them all, verify passes and the checker
    finds nothing; kept as they are, verify sees every one of them."""
    traps = [{**values, "notes": note} for values, note, _ in SPELLINGS]
    src, tgt, plan = _masked(tmp_path / "a", traps)
    report = verify(plan, src, tgt, KEY)
    assert report.passed, report.to_json()
    for (_, _, text), got in zip(SPELLINGS, _notes(tgt, N), strict=True):
        assert _plain(text) not in _plain(got), got
    assert survivors(src, tgt, "customers", SENSITIVE, TEXTS, REFS) == {}

    kept = with_column(
        plan, "customers", "notes", ColumnPlan(transformer="keep", reason="test: kept")
    )
    tgt2 = f"sqlite:///{tmp_path / 'a' / 'kept.db'}"
    run(kept, src, tgt2, KEY, RunOptions())
    report = verify(kept, src, tgt2, KEY)
    cells = sum(h.cells for h in report.row_hits if h.column == "notes")
    assert cells == len(SPELLINGS), report.to_json()
    found = survivors(src, tgt2, "customers", SENSITIVE, TEXTS, REFS)
    assert found == {"customers.notes": len(SPELLINGS)}


# ---- a grandchild's free text about the person: order lines of an order --------------


def _with_lines(src: str, notes: dict[int, str]) -> None:
    """Order lines (two per order) whose gift messages name the order's customer."""
    with sqlite3.connect(src[len("sqlite:///") :]) as conn:
        conn.execute(
            "CREATE TABLE order_lines (id INTEGER PRIMARY KEY, order_id INTEGER NOT NULL "
            "REFERENCES orders(id), sku VARCHAR(20), gift_message TEXT)"
        )
        rows = conn.execute("SELECT o.id, c.last_name FROM orders o JOIN customers c "
                            "ON c.id = o.customer_id ORDER BY o.id").fetchall()  # fmt: skip
        for order, last in rows:
            for k in range(2):
                text = notes.get(order, "Happy birthday!") if k else "Gift wrapped"
                conn.execute(
                    "INSERT INTO order_lines VALUES (?, ?, ?, ?)",
                    (order * 2 + k, order, f"SKU-{order}-{k}", text.format(last=last)),
                )


LINE_REFS = {
    **REFS,
    "order_lines": "(SELECT customer_id FROM orders WHERE orders.id = order_lines.order_id)",
}
LINE_TEXTS = {**TEXTS, "order_lines": ["gift_message"]}


def test_a_grandchilds_note_about_the_person_is_scrubbed_and_seen(tmp_path: Path) -> None:
    """order_lines → orders → customers: a gift message naming the customer ("For
    Ganthriv, with love") was kept by the plan (the line references an order, not a
    person), text_scrub was not handed the customer's values, and verify searched
    only rows that reference the customer directly: it passed with every surname
    in the copy."""
    named = {1 + i * 3: "For {last}, with love" for i in range(N // 3)}
    src = _source(tmp_path / "source.db", [{"last_name": "Ganthriv"}])
    named[N + 1] = "Para {last}, con cariño"
    _with_lines(src, named)
    plan = build_plan(src).plan
    assert plan.tables["order_lines"].columns["gift_message"].transformer == "text_scrub"
    tgt = f"sqlite:///{tmp_path / 'target.db'}"
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    assert report.passed, report.to_json()
    assert survivors(src, tgt, "customers", SENSITIVE, LINE_TEXTS, LINE_REFS) == {}
    got = _cells(tgt, f"SELECT gift_message FROM order_lines WHERE order_id = {N + 1}")
    assert not any("Ganthriv" in str(g) for g in got), got

    kept = with_column(
        plan, "order_lines", "gift_message", ColumnPlan(transformer="keep", reason="test")
    )
    tgt2 = f"sqlite:///{tmp_path / 'kept.db'}"
    run(kept, src, tgt2, KEY, RunOptions())
    report = verify(kept, src, tgt2, KEY)
    lines = [h for h in report.row_hits if h.column == "gift_message"]
    assert [(h.table, h.kind, h.cells) for h in lines] == [("order_lines", "name", len(named))]
    found = survivors(src, tgt2, "customers", SENSITIVE, LINE_TEXTS, LINE_REFS)
    assert found == {"order_lines.gift_message": len(named)}
