"""Another row's rare surname that the source holds only in a person's *full name*
(the first two tests failed before the fix).

The customers have one name column, ``full_name`` (``Ana Ganthriv``), beside an
e-mail. Other customers' notes and JSON documents say ``Met the Ganthriv family``,
``{"Ganthriv family": 1}``. The rare-name-word search took the words of
``first_name`` and ``last_name`` columns only (a full name's may be a band's, a
firm's or several people's: Chinook's composers), so there was no rare word: the
copy kept the surname in those cells and verify passed while the independent
checker found it. Now a ``full_name`` column's surname-like words count in a table
that looks like people (a column planned ``email``, ``phone``, ``birth_date``,
``first_name`` or ``last_name`` beside it); a catalogue's ``full_name`` column
(composers, artists: no such column) still gives none.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.rarewords import (
    DOCS,
    NOTES,
    ORDINARY_NOTE,
    checker,
    copies_clean,
    customers,
    fails_as_checker_counts,
    planted,
)
from tests.masking.survivors import _rows as rows_of
from tests.masking.test_leak_traps import _customer as _leak_trap_customer
from tests.masking.test_leak_traps import _execute

N = 30
B = {"full_name": "Ana Ganthriv", "email": "ana.ganthriv41@mail.example.org"}
C = {"full_name": "Peter House", "email": "peter.house7@mail.example.org"}  # a common word


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def _source(url: str, notes: dict[int, str], docs: dict[int, Any]) -> list[str]:
    """``N`` customers named by a full name only, then B (``N + 1``) and C (``N + 2``);
    row ``i``'s note and JSON are ``notes[i]`` and ``docs[i]`` or ordinary ones. The
    JSON column names."""
    people = []
    for i in range(1, N + 1):
        p = _leak_trap_customer(i)
        people.append({"id": i, "full_name": f"{p['first_name']} {p['last_name']}", **p})
    people += [{**B, "id": N + 1}, {**C, "id": N + 2}]
    rows = [
        [p["id"], p["full_name"], p["email"], notes.get(p["id"], ORDINARY_NOTE)] for p in people
    ]
    return customers(url, "full_name VARCHAR(80), email VARCHAR(100), notes TEXT", rows, docs)


# The independent checker's cells holding a surname-like word of B's full name (any
# row but B's own).
_checker = checker("full_name", "full name", f"id = {N + 1}")


def _planned(plan: Any, table: str, column: str) -> str:
    (tp,) = [t for q, t in plan.tables.items() if q.rsplit(".", 1)[-1] == table]
    return str(tp.columns[column].transformer)


def test_a_full_names_rare_surname_inside_other_rows_text_is_seen(
    make: Callable[[], str],
) -> None:
    """The auto plan plans ``full_name`` (beside ``email``); a clean copy verifies;
    B's surname then written inside other rows' notes and documents of the target
    makes verify fail with each cell counted as the checker counts it, as a surname,
    never shown. Before: verify passed (no rare word) and the checker found 4 cells
    per column."""
    src, tgt = make(), make()
    cols = _source(src, {}, {})
    plan = copies_clean(src, tgt, cols, _checker)
    assert _planned(plan, "customers", "full_name") == "full_name"
    _execute(tgt, planted(cols, NOTES, DOCS))
    fails_as_checker_counts(plan, src, tgt, cols, _checker(src, tgt, cols))


def test_the_auto_plan_copies_a_full_names_surname_clean(make: Callable[[], str]) -> None:
    """The same notes and documents in the source, through the unedited auto plan: the
    copy learns the full name's surname first and text_scrub and json_mask replace it
    in any row; verify passes, the checker finds nothing, a note without a name is
    copied as it was. Before: the copy kept the surname (4 cells per column)."""
    src, tgt = make(), make()
    cols = _source(src, dict(enumerate(NOTES, 1)), dict(enumerate(DOCS, 1)))
    copies_clean(src, tgt, cols, _checker)
    kept = rows_of(tgt, f"SELECT notes FROM customers WHERE id > {len(NOTES)} AND id <= {N}")
    assert {r[0] for r in kept} == {ORDINARY_NOTE}


def test_which_full_name_columns_give_words() -> None:
    """A ``full_name`` column gives its words only beside a column planned as a
    person's e-mail, phone, birth date, given name or surname; a catalogue's (a
    track's composer beside its title) gives none."""
    from stagewall.masking._namewords import name_columns

    catalogue = {"Name": "text_scrub", "Composer": "full_name", "Milliseconds": "keep"}
    assert name_columns(catalogue) == {}
    for mark in ["email", "phone", "birth_date", "first_name", "last_name"]:
        got = name_columns({"contact": "full_name", "other": mark, "notes": "text_scrub"})
        assert got["contact"] == "full_name", mark
    assert name_columns({"fn": "first_name", "ln": "last_name", "x": "keep"}) == {
        "fn": "first_name",
        "ln": "last_name",
    }


def test_a_full_names_surname_like_words() -> None:
    """A full name gives the words after its first (a middle name and a second surname
    too; its first word may be a title), or those before its comma, all as surnames;
    a given name alone gives none."""
    from stagewall.masking._namewords import SURNAME, rare, source_words

    words: dict[str, str] = {}
    values = ["Ana Ganthriv", "Zorvath, Quillona", "Al Brönnvik", "Dr. Tesk Ellidrun", "Quorra"]
    source_words("full_name", values, words)
    assert rare(words, ()) == {
        "ganthriv": SURNAME,
        "zorvath": SURNAME,
        "bronnvik": SURNAME,
        "tesk": SURNAME,
        "ellidrun": SURNAME,
    }


def test_a_catalogues_full_name_in_other_text_still_verifies(make: Callable[[], str]) -> None:
    """Chinook's shape: tracks with a composer (``full_name``, no person's column
    beside it) and a playlist note naming a composer's rare surname: the copy keeps
    the note, and verify passes (no rare word; the same before)."""
    src, tgt = make(), make()
    _execute(
        src,
        [
            (
                "CREATE TABLE tracks (id INTEGER PRIMARY KEY, name VARCHAR(100), "
                "composer VARCHAR(100), milliseconds INTEGER)",
                [],
            ),
            (
                "INSERT INTO tracks VALUES (?, ?, ?, ?)",
                [
                    (1, "Garota de Ipanema", "Jobim, Vinicius de Moraes", 180000),
                    (2, "Paranoid", "Black Sabbath", 170000),
                    (3, "Wave", "Antonio Carlos Jobim", 200000),
                ],
            ),
            ("CREATE TABLE playlists (id INTEGER PRIMARY KEY, note TEXT)", []),
            ("INSERT INTO playlists VALUES (?, ?)", [(1, "Bossa: Jobim and Moraes, then Sabbath")]),
        ],
    )
    plan = build_plan(src).plan
    assert _planned(plan, "tracks", "composer") == "full_name"
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    assert report.passed, report.to_json()
    assert not report.word_hits
