"""Digits of other scripts in structured columns (phones, postcodes, ids, cards, IBANs).

``fpe_digits``, ``fpe_alnum``, ``phone``, ``postcode``, ``card_number`` and
``iban`` read ASCII digits only, so a phone written in Arabic-Indic, Persian,
Devanagari or full-width digits was copied unchanged by ``mask run`` (verify
failed with hits). Now every Unicode decimal digit is a digit position: its
value is masked as an ASCII digit's would be and written back in its own script.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import KEY
from tests.masking.survivors import _rows as rows_of
from tests.masking.survivors import survivors

ARABIC, PERSIAN, DEVANAGARI, FULL = "\u0660", "\u06f0", "\u0966", "\uff10"
SCRIPTS = (ARABIC, PERSIAN, DEVANAGARI, FULL)


def in_script(text: str, zero: str) -> str:
    """``text`` with its ASCII digits written in the script whose zero is ``zero``."""
    return text.translate({ord("0") + i: chr(ord(zero) + i) for i in range(10)})


def _customers(n: int) -> list[tuple[Any, ...]]:
    rows = []
    for i in range(n):
        z = SCRIPTS[i % len(SCRIPTS)]
        rows.append(
            (
                i + 1,
                in_script(f"0612 345 {i:03d}", z),
                in_script(f"{10115 + 7 * i}", z),
            )
        )
    return rows


def test_a_phone_and_postcode_in_other_scripts_are_masked(tmp_path: Path) -> None:
    """plan → run → verify on SQLite: the auto plan's transformers mask the digits
    of every script; verify passes and the independent checker finds nothing."""
    src = tmp_path / "src.db"
    rows = _customers(40)
    with sqlite3.connect(src) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, phone TEXT, postcode TEXT)")
        conn.executemany("INSERT INTO customers VALUES (?, ?, ?)", rows)
    conn.close()
    url, tgt = f"sqlite:///{src}", f"sqlite:///{tmp_path / 'tgt.db'}"
    plan: Any = build_plan(url).plan
    cols = plan.tables["customers"].columns
    assert (cols["phone"].transformer, cols["postcode"].transformer) == ("phone", "postcode")
    run(plan, url, tgt, KEY, RunOptions())
    report = verify(plan, url, tgt, KEY)
    assert report.passed, report.to_json()
    found = survivors(
        url,
        tgt,
        "customers",
        {"phone": "phone", "postcode": "postcode"},
        {"customers": ["phone", "postcode"]},
        {"customers": "id"},
    )
    assert found == {}
    out = rows_of(tgt, 'SELECT "id", "phone", "postcode" FROM "customers" ORDER BY "id"')
    for (_, phone, postcode), (_, new_phone, new_postcode) in zip(rows, out, strict=True):
        for before, after in ((phone, new_phone), (postcode, new_postcode)):
            assert len(after) == len(before)
            # each digit stays a digit of its own script; separators stay
            for a, b in zip(before, after, strict=True):
                if a.isdecimal():
                    assert b.isdecimal() and ord(b) - int(b) == ord(a) - int(a), (before, after)
                else:
                    assert a == b


def _card(i: int) -> str:
    body = f"411111{i:09d}"
    for c in "0123456789":
        ds = [int(d) for d in body + c][::-1]
        if (
            sum(d if k % 2 == 0 else (2 * d - 9 if d > 4 else 2 * d) for k, d in enumerate(ds)) % 10
            == 0
        ):
            card = body + c
            return " ".join(card[k : k + 4] for k in range(0, 16, 4))
    raise AssertionError("unreachable")


def _iban(i: int) -> str:
    bban = f"37040044{i:010d}"
    n = int(bban + "131400")  # D=13, E=14, "00"
    return f"DE{98 - n % 97:02d}{bban}"


def test_unique_ids_cards_and_ibans_in_other_scripts_are_masked(tmp_path: Path) -> None:
    """The auto plan's choices for a unique phone, a national id, a card number and an
    IBAN written in other scripts' digits: the run keeps the unique constraint,
    verify passes, the checker finds nothing, and cards and IBANs stay valid."""
    src = tmp_path / "src.db"
    rows = []
    for i in range(40):
        z = SCRIPTS[i % len(SCRIPTS)]
        rows.append(
            (
                i + 1,
                in_script(f"+34 612 345 {i:03d}", z),
                in_script(f"X{4810000 + i}", z),
                in_script(_card(i), z),
                in_script(_iban(i), z),
            )
        )
    # the same number in ASCII and in Arabic-Indic digits: two distinct unique values
    rows.append((41, "+34 612 345 000", "X4810000", _card(0), _iban(0)))
    with sqlite3.connect(src) as conn:
        conn.execute(
            "CREATE TABLE customers (id INTEGER PRIMARY KEY, phone TEXT UNIQUE, "
            "national_id TEXT UNIQUE, card_number TEXT UNIQUE, iban TEXT UNIQUE)"
        )
        conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?)", rows)
    conn.close()
    url, tgt = f"sqlite:///{src}", f"sqlite:///{tmp_path / 'tgt.db'}"
    plan: Any = build_plan(url).plan
    cols = plan.tables["customers"].columns
    chosen = {c: cols[c].transformer for c in ("phone", "national_id", "card_number", "iban")}
    assert chosen == {
        "phone": "phone",
        "national_id": "fpe_alnum",
        "card_number": "card_number",
        "iban": "iban",
    }
    run(plan, url, tgt, KEY, RunOptions())
    report = verify(plan, url, tgt, KEY)
    assert report.passed, report.to_json()
    kinds = {"phone": "phone", "national_id": "id", "card_number": "card", "iban": "iban"}
    texts = {"customers": list(kinds)}
    assert survivors(url, tgt, "customers", kinds, texts, {"customers": "id"}) == {}
    out = rows_of(
        tgt,
        'SELECT "id", "phone", "national_id", "card_number", "iban" FROM "customers" ORDER BY "id"',
    )
    assert len(out) == len(rows)
    for before, after in zip(rows, out, strict=True):
        for a, b in zip(before[1:], after[1:], strict=True):
            assert len(a) == len(b) and a != b
            assert [ord(x) - int(x) for x in a if x.isdecimal()] == [
                ord(y) - int(y) for y in b if y.isdecimal()
            ], (a, b)
        card = [int(d) for d in after[3] if d.isdecimal()][::-1]
        assert (
            sum(d if k % 2 == 0 else (2 * d - 9 if d > 4 else 2 * d) for k, d in enumerate(card))
            % 10
            == 0
        )
        iban = "".join(str(int(c)) if c.isdecimal() else c for c in after[4])
        assert int("".join(str(int(c, 36)) for c in iban[4:] + iban[:4])) % 97 == 1
