"""Another customer's Spanish DNI or NIE written in an unrelated row's note or JSON
document (4 of 14 failed before the fix: the first test on SQLite, PostgreSQL and
MariaDB, and the detector's forms).

Customer B's ``national_id`` is the DNI ``48213957T`` and its ``tax_id`` the NIE
``X5829173F`` (both masked by the plan). Other customers' notes say ``DNI 48213957T
checked``, ``NIE X5829173F``, ``48.213.957-T``. The copy's text_scrub and json_mask
replaced a row's own values and what the detector found, and the detector knew no
DNI or NIE; verify's whole-target scan compares the detector's tokens of the target
with the source's values, so neither saw them: the copy kept B's ids and verify
passed while the independent checker (``survivors_anywhere`` on B's row) found them.
Now the detector finds a DNI or NIE whose control letter is its number's mod 23
(a random number with a letter passes one time in 23), written compact, with a
hyphen, with dots, in either case; verify hashes it also without separators. It
finds an Italian codice fiscale with its right check letter too (customer C's).

Not found (docs/masking.md): another customer's DNI without its letter, SSN without
dashes, phone without its country code, IBAN account part alone: bare digit runs
the detector cannot tell from order numbers.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.masking.classify import detect_in_text
from stagewall.masking.classify._categories import Category
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.rarewords import customers
from tests.masking.survivors import _rows as rows_of
from tests.masking.survivors import holds, needles, survivors_anywhere
from tests.masking.test_redteam_numforms import COLUMNS, OWN, SENSITIVE, N, _iban_es, _kept, _plan


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


B = N + 1  # customer B's id: its national_id and tax_id are OWN's DNI and NIE
C = N + 2  # customer C's id: its tax_id is an Italian codice fiscale
C_OWN = {**OWN, "national_id": "00000023T", "tax_id": "RSSMRA85T10A562S"}
# other customers' notes holding B's ids (the text as the checker finds it)
NOTES = [
    "DNI 48213957T checked",
    "NIE X5829173F checked",
    "dni:48213957t ok",
    "copy of 48.213.957-T attached",
    "nie x-5829173-f on file",
    "DNI 48213957-T checked",
    "CF RSSMRA85T10A562S on file",
    "codice fiscale rssmra85t10a562s",
]
# (a codice fiscale with the wrong check letter)
QUIET = "order 48213958 shipped, invoice INV-2024-0017, code RSSMRA85T10A562T"


def _source(url: str, notes: list[str]) -> list[str]:
    """``N`` ordinary customers (ids 1..N, the first ``len(notes)`` with a note of
    ``notes`` and ``{"note": …}`` in every JSON column), then B and C. JSON column
    names."""
    last = [[B, *(OWN[c] for c in COLUMNS[:-1]), "Deliver before noon"]]
    last.append([C, *(C_OWN[c] for c in COLUMNS[:-1]), "Deliver before noon"])
    return with_notes(url, notes, QUIET, last)


def with_notes(url: str, notes: list[str], quiet: str, last: list[list[Any]]) -> list[str]:
    """``N`` ordinary customers (ids 1..N), the first ``len(notes)`` with a note of
    ``notes``, the others ``quiet``, and ``{"note": …}`` of it in every JSON column;
    then the rows ``last``. JSON column names."""
    rows = []
    for i in range(1, N + 1):
        note = notes[i - 1] if i <= len(notes) else quiet
        rows.append([i, "Peter", "Horvat", f"+34 699 {100 + i:03d} {300 + i:03d}",
                     _iban_es(f"20770024003102{575700 + i:06d}"), f"{87000000 + i:08d}Q",
                     f"Y{7000000 + i:07d}B", f"{500 + i:03d}-{10 + i:02d}-{4000 + i:04d}",
                     f"{46000 + i:05d}", "Valencia", f"{9000000 + i:07d}", note])  # fmt: skip
    decl = ", ".join(f"{c} {'TEXT' if c == 'notes' else 'VARCHAR(60)'}" for c in COLUMNS)
    docs = {r[0]: {"theme": "dark", "note": r[-1]} for r in rows}
    return customers(url, decl, rows + last, docs)


def _found(src: str, tgt: str, cols: list[str]) -> dict[str, int]:
    ids = {c: k for c, k in SENSITIVE.items() if c in ("national_id", "tax_id")}
    texts = {"customers": ["notes", *cols]}
    return survivors_anywhere(src, tgt, "customers", ids, texts, where=f"id > {N}")


def _copied(make: Callable[[], str], src: str, plan: Any) -> tuple[str, Any]:
    """A fresh target copied from ``src`` with ``plan``, and verify's report."""
    tgt = make()
    run(plan, src, tgt, KEY, RunOptions())
    return tgt, verify(plan, src, tgt, KEY)


def test_another_customers_dni_and_nie_are_scrubbed_and_seen(make: Callable[[], str]) -> None:
    """The plan's copy holds none of B's ids in other rows' notes and documents,
    verify passes and the checker finds nothing; with the notes and documents kept,
    verify fails with each such cell and the checker counts as many. Before: the
    copy kept all eight (the checker: 8 cells per column) and verify passed."""
    src = make()
    cols = _source(src, NOTES)
    plan = _plan(src)
    tgt, report = _copied(make, src, plan)
    assert report.passed, report.to_json()
    got = rows_of(tgt, f"SELECT notes FROM customers WHERE id <= {N} ORDER BY id")
    for note, (cell,) in zip(NOTES, got, strict=False):
        assert "5829173" not in cell and "213957" not in cell.replace(".", ""), (note, cell)
        assert "rssmra85t10a562s" not in cell.casefold(), (note, cell)
    # the quiet notes are copied as they were
    assert {c for (c,) in got[len(NOTES) :]} == {QUIET}
    assert _found(src, tgt, cols) == {}
    again, report = _copied(make, src, _kept(plan, ["notes", *cols]))
    assert not report.passed
    hits = {h.column: h.hits for h in report.hits}
    assert all(hits.get(c, 0) >= len(NOTES) for c in ["notes", *cols]), report.to_json()
    assert _found(src, again, cols) == {f"customers.{c}": len(NOTES) for c in ["notes", *cols]}


@pytest.mark.parametrize(
    "text",
    [
        "order 48213958 shipped",  # a number alone
        "invoice 48213958T",  # the wrong letter (48213958 mod 23 is R)
        "ref 12345678A",  # the wrong letter (Z is right)
        "INV-2024-00017, order no. 4821395 T",  # seven digits: no DNI
        "X5829173 and Y5829173G",  # a NIE without a letter; one with the wrong letter
        "part 12345678Z9 in stock",  # a valid DNI glued to a digit: a part number
        "Tel 612345678Z",  # no: 612345678 is nine digits
        "CF RSSMRA85T10A562T",  # a codice fiscale with the wrong check letter
        "key ABCDEF12A34B567C, sku xRSSMRA85T10A562S",  # the wrong letter; glued
    ],
)
def test_quiet_numbers_are_no_dni(text: str) -> None:
    assert [m for m in detect_in_text(text) if m.category is Category.NATIONAL_ID] == []


def test_the_detector_reads_dni_and_nie_forms() -> None:
    """Each writing is found whole; verify hashes it also without its separators."""
    from stagewall.masking.classify import detect_texts

    found = [
        [m.text for m in detect_in_text(n) if m.category is Category.NATIONAL_ID] for n in NOTES
    ]
    assert found == [
        ["48213957T"],
        ["X5829173F"],
        ["48213957t"],
        ["48.213.957-T"],
        ["x-5829173-f"],
        ["48213957-T"],
        ["RSSMRA85T10A562S"],
        ["rssmra85t10a562s"],
    ]
    tokens = [t for _, t in detect_texts(["copy of 48.213.957-T attached", "DNI 12345678 Z."])]
    assert tokens == ["48.213.957-T", "48213957T", "12345678 Z", "12345678Z"]
    assert {t.upper() for _, t in detect_texts(NOTES)} >= {"48213957T", "X5829173F"}


def test_the_checker_finds_another_customers_ids_on_its_own() -> None:
    """survivors.py's own needles hold each writing of B's and C's ids, not a quiet
    one."""
    ids = [needles("id", v) for v in (OWN["national_id"], OWN["tax_id"], C_OWN["tax_id"])]
    assert all(any(holds(n, i) for i in ids) for n in NOTES)
    assert not any(holds(QUIET, i) for i in ids)
