"""A value the planner's sample cannot see is still caught by verify (issue 11).

A ticket ``subject`` column holds a handful of category strings in 20,000 rows, so
the planner keeps it ("none of 1000 samples looked sensitive"); one row the sample
does not reach names the ticket's customer. The copy keeps that text as it is, and
verify must then fail, naming the column: the plan's sampling is a convenience, the
whole-target and own-row scans are the proof.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import KEY

NAMES = ["Yésica Carrasco", "John Smith", "Maria Garcia", "Peter Müller", "Ana López"]
CATEGORIES = ["Invoice question", "Login problem", "Refund status", "Shipping delay"]
ROWS = 20_000
ODD = ROWS - 1  # the one ticket whose subject names its customer


def _source(path: Path) -> str:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, email TEXT)")
    conn.execute(
        "CREATE TABLE tickets (id INTEGER PRIMARY KEY, "
        "customer_id INTEGER NOT NULL REFERENCES customers(id), subject TEXT)"
    )
    conn.executemany(
        "INSERT INTO customers VALUES (?, ?, ?)",
        [(i, NAMES[i % 5], f"c{i}@example.com") for i in range(50)],
    )
    conn.executemany(
        "INSERT INTO tickets VALUES (?, ?, ?)",
        [
            (
                i,
                i % 50,
                f"Call back {NAMES[(i % 50) % 5]} about the order"
                if i == ODD
                else CATEGORIES[i % 4],
            )
            for i in range(ROWS)
        ],
    )
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def test_a_value_the_sample_missed_fails_verify(tmp_path: Path) -> None:
    src = _source(tmp_path / "source.db")
    # The sample is random, so it reaches the odd row once in twenty plans: plan while
    # that row still holds a category (as when the sample misses it), then write it.
    with sqlite3.connect(tmp_path / "source.db") as conn:
        (odd,) = conn.execute("SELECT subject FROM tickets WHERE id = ?", (ODD,)).fetchone()
        conn.execute("UPDATE tickets SET subject = ? WHERE id = ?", (CATEGORIES[0], ODD))
    plan = build_plan(src, sample=1000).plan
    with sqlite3.connect(tmp_path / "source.db") as conn:
        conn.execute("UPDATE tickets SET subject = ? WHERE id = ?", (odd, ODD))
    subject = plan.tables["tickets"].columns["subject"]
    assert subject.transformer == "keep", subject  # the premise: the sample saw categories
    tgt = f"sqlite:///{tmp_path / 'target.db'}"
    run(plan, src, tgt, KEY, RunOptions())
    with sqlite3.connect(tmp_path / "target.db") as conn:
        (kept,) = conn.execute("SELECT subject FROM tickets WHERE id = ?", (ODD,)).fetchone()
    assert NAMES[(ODD % 50) % 5] in kept  # copied as it was

    report = verify(plan, src, tgt, KEY)
    assert not report.passed
    assert {(h.table, h.column) for h in report.row_hits} == {("tickets", "subject")}
    assert [(h.table, h.column, h.hits) for h in report.hits] == [("tickets", "subject", 1)]
