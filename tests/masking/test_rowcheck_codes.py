"""verify's row search and a kept code column: a customer named ``Ko`` (a Korean
surname) whose kept ``language`` column holds ``ko`` (Korean's ISO 639-1 code).

A two-letter name part is searched alone as a whole word (``_known.name_parts``),
also in the kept columns of its row. The cell ``ko`` is a language code, which the
whole-target scan already takes for public (``lint.never_public``: a country,
language or currency is no person's value), so a clean copy failed verify on it, a
false positive with nothing to fix. The row search now passes over a kept cell
whose whole text is such a code; the name in the row's free text (its notes,
scrubbed or kept) is found as before.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from stagewall.keys import MaskingKey
from stagewall.masking.engine import run
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan
from stagewall.masking.verify import verify

KEY = MaskingKey("codes-key", b"c" * 32)
# (id, first name, last name, language, country, notes)
ROWS = [
    (1, "Min", "Ko", "ko", "KR", "Paid by card."),
    (2, "Ji", "Ko", "KO", "kr", "Ko called about the invoice."),
    (3, "Anna", "Miller", "en", "GB", "Paid by card."),
    (4, "Wei", "Ng", "ng", "NA", "Paid by card."),
]


def _source(path: Path) -> str:
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT, "
        "language TEXT, country TEXT, notes TEXT)"
    )
    conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)", ROWS)
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def _plan(notes: str) -> Plan:
    columns = {
        "id": "keep",
        "first_name": "first_name",
        "last_name": "last_name",
        "language": "keep",
        "country": "keep",
        "notes": notes,
    }
    return Plan(
        tables={
            "customers": TablePlan(
                columns={
                    c: ColumnPlan(transformer=t, reason="kept for the test" if t == "keep" else "")
                    for c, t in columns.items()
                }
            )
        }
    )


def _notes(url: str) -> dict[int, str]:
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        return dict(conn.execute("SELECT id, notes FROM customers").fetchall())
    finally:
        conn.close()


def test_a_kept_language_code_equal_to_the_rows_two_letter_name_passes(tmp_path: Path) -> None:
    """The clean copy (notes scrubbed, codes kept) verifies clean. Before: row hits
    of kind name in ``customers.language`` (``ko``, ``KO``, and ``ng`` beside Wei
    Ng), verify failed."""
    src, tgt = _source(tmp_path / "src.db"), f"sqlite:///{tmp_path / 'tgt.db'}"
    plan = _plan("text_scrub")
    run(plan, src, tgt, KEY)
    assert "Ko" not in _notes(tgt)[2].split()
    report = verify(plan, src, tgt, KEY)
    assert report.passed, report.to_json()


def test_the_name_in_the_rows_free_text_is_still_found(tmp_path: Path) -> None:
    """The same rows with the notes kept: ``Ko called about the invoice.`` is the
    row's own name, one cell of kind name in ``customers.notes``, and nothing in
    the code columns."""
    src, tgt = _source(tmp_path / "src.db"), f"sqlite:///{tmp_path / 'tgt.db'}"
    plan = _plan("keep")
    run(plan, src, tgt, KEY)
    report = verify(plan, src, tgt, KEY)
    assert not report.passed
    got = {(h.column, h.kind): h.cells for h in report.row_hits}
    assert got == {("notes", "name"): 1}, report.to_json()


def test_a_code_inside_longer_kept_text_is_still_the_name(tmp_path: Path) -> None:
    """Only a cell that is the code alone passes: ``ko (Ko Min-jun)`` in the kept
    language column names the row's customer and is a hit."""
    src, tgt = _source(tmp_path / "src.db"), f"sqlite:///{tmp_path / 'tgt.db'}"
    plan = _plan("text_scrub")
    run(plan, src, tgt, KEY)
    conn = sqlite3.connect(tmp_path / "tgt.db")
    conn.execute("UPDATE customers SET language = 'ko (Ko Min)' WHERE id = 1")
    conn.commit()
    conn.close()
    report = verify(plan, src, tgt, KEY)
    got = {(h.column, h.kind): h.cells for h in report.row_hits}
    assert got == {("language", "name"): 1}, report.to_json()


def test_a_kept_cell_that_is_the_rows_own_first_name_spelled_as_a_country_is_found(
    tmp_path: Path,
) -> None:
    """Only a code (three letters or fewer) is passed over. A kept column that holds
    the row's own first name is what verify is for, even when the name is also a
    country or a genre (Jordan, Chad, Georgia): a kept ``country`` cell ``Jordan``
    beside a customer called Jordan is a hit (kind name), so a plan that keeps a
    name column by mistake still fails."""
    path = tmp_path / "src.db"
    src, tgt = _source(path), f"sqlite:///{tmp_path / 'tgt.db'}"
    conn = sqlite3.connect(path)
    conn.execute("UPDATE customers SET first_name = 'Jordan', country = 'Jordan' WHERE id = 3")
    conn.commit()
    conn.close()
    plan = _plan("text_scrub")
    run(plan, src, tgt, KEY)
    report = verify(plan, src, tgt, KEY)
    assert not report.passed
    got = {(h.column, h.kind): h.cells for h in report.row_hits}
    assert got == {("country", "name"): 1}, report.to_json()
