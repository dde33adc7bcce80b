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
