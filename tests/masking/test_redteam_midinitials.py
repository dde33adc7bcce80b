"""Another customer's name written with a middle initial between (``Tomasz K.
Berger``, ``Tomasz K Berger``), two initials (``T. K. Berger``, ``J. R. Berger``) or
a particle after an initial (``T. van Berg``), in an unrelated row's note or JSON.

The leak-trap customers hold Tomasz Berger (row 5) and Jan Berger (row 29); C (row
33) is Maria José Carrasco Pérez, D (row 34) Tomasz van Berg. Before the fix the
full-name search (``_namepairs``) knew a given name beside a surname word (spaces
or a comma between) and an initial directly before or after one: a middle initial
between, a second initial, or a particle between the initial and the surname
(``van``, which no pair holds) hid the name, so the copy kept it and verify passed
while the independent checker found it. Now a run of up to three initials (the
first the given name's, the rest middle initials of any letter) and particles may
come between an initial, or a given name, and the surname. The middle letters
(K, R) are no Berger's initial, so no ``K. Berger`` of another customer finds them.

``J. R. Berger`` names Jan Berger (J his initial), not Tomasz. Quiet: ``Tomasz and
Berger`` (a word between, not an initial), ``Tomasz, O. Berger`` (a comma after the
given name: a list, not one name; no one is O. Berger), ``O. K. Berger`` (the first
initial is no Berger's), ``T. van Bergen`` (no one's surname).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.masking.integration.helpers import BACKENDS, url_maker
from tests.masking.rarewords import (
    copies_clean,
    customers,
    fails_as_counted,
    planted_at,
    stays_quiet,
)
from tests.masking.survivors import _rows as rows_of
from tests.masking.test_leak_traps import _customer as _leak_trap_customer
from tests.masking.test_leak_traps import _execute
from tests.masking.test_redteam_namepairs import _checker as _names_checker

N = 30
B_ID, JAN_ID = 5, 29  # Tomasz Berger, Jan Berger
C = {"id": N + 3, "first_name": "Maria José", "last_name": "Carrasco Pérez"}
D = {"id": N + 4, "first_name": "Tomasz", "last_name": "van Berg"}
WHO = f"id IN ({B_ID}, {JAN_ID}, {C['id']}, {D['id']})"
NOTES = [
    "Tomasz K. Berger is her cousin",
    "Ask Tomasz K Berger first",
    "T. K. Berger paid",
    "J. R. Berger called",
    "T. van Berg called",
    "Ask T van Berg first",
    "Maria J. Carrasco called",
    "met TOMASZ K. BERGER there",
]
DOCS: list[Any] = [
    {"who": "Tomasz K. Berger"},
    {"T. K. Berger": 1},
    {"notes": "met T. van Berg there"},
    [{"kind": "list"}, {"who": "J. R. Berger"}],
]
QUIET = [
    "tomasz and berger",
    "tomasz, O. Berger met",
    "ask O. K. Berger",
    "T. van Bergen called",
]
QUIET_DOCS: list[Any] = [{"who": "tomasz and berger"}, {"who": "O. K. Berger"}]
# rows none of whose own name words the planted texts hold (no Tomasz, Jan, Maria
# or Berger), so each is a hit of another customer's name only
ROWS = [3, 4, 6, 7, 8, 10, 11, 14]
QUIET_ROWS = range(6, 6 + len(QUIET))


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def _source(url: str, notes: dict[int, str], docs: dict[int, Any]) -> list[str]:
    """``N`` customers, C and D; row ``i``'s note and JSON ``notes[i]``, ``docs[i]``
    or ordinary ones. The JSON column names."""
    people = [_leak_trap_customer(i) for i in range(1, N + 1)] + [C, D]
    rows = [
        [p["id"], p["first_name"], p["last_name"], f"person{p['id']}@mail.example.org", note]
        for p in people
        for note in [notes.get(p["id"], "Deliver before noon.")]
    ]
    cols = "first_name VARCHAR(40), last_name VARCHAR(40), email VARCHAR(100), notes TEXT"
    return customers(url, cols, rows, docs)


def _checker(src: str, tgt: str, cols: list[str], where: str = WHO) -> dict[str, int]:
    """The independent checker's cells writing a named customer's name."""
    return _names_checker(src, tgt, cols, where)


def test_middle_initials_and_particles_are_seen(make: Callable[[], str]) -> None:
    """A clean copy verifies; the notes and documents planted into other rows of the
    target then make verify fail, each cell counted (kind ``name``) as the checker
    counts it, alike in forked parts, never showing a name. Before: no name hit; verify
    failed only over the cells holding a capitalised given name (``Tomasz``,
    ``Maria``: a source value's hash) and passed over the other five notes and three
    documents per JSON column (``T. K. Berger``, ``J. R. Berger``, ``T. van Berg``,
    ``TOMASZ K. BERGER``)."""
    src, tgt = make(), make()
    cols = _source(src, {}, {})
    plan = copies_clean(src, tgt, cols, _checker)
    _execute(tgt, planted_at(cols, NOTES, DOCS, ROWS))
    found = _checker(src, tgt, cols)
    assert found == {"customers.notes": len(NOTES), **{f"customers.{c}": len(DOCS) for c in cols}}
    report = fails_as_counted(plan, src, tgt, cols, found, ["berger", "berg", "carrasco"], "name")
    assert not report.row_hits, report.to_json()  # (no planted row holds its own name)


def test_the_auto_plan_replaces_them_in_any_row(make: Callable[[], str]) -> None:
    """The same notes and documents in the source, through the unedited auto plan:
    text_scrub and json_mask replace each writing, the middle initial with it (the
    text around kept); verify passes and the checker finds nothing. Before: five
    notes and three documents were copied unchanged (a capitalised given name alone
    was replaced: ``Tomasz K. Berger`` became ``<someone> K. Berger``)."""
    src, tgt = make(), make()
    cols = _source(src, dict(zip(ROWS, NOTES, strict=True)), dict(zip(ROWS, DOCS, strict=False)))
    copies_clean(src, tgt, cols, _checker)
    got = dict(
        rows_of(tgt, f"SELECT id, notes FROM customers WHERE id IN ({', '.join(map(str, ROWS))})")
    )
    assert got[ROWS[0]].endswith(" is her cousin") and " K. " not in got[ROWS[0]]
    assert got[ROWS[4]].endswith(" called") and "van" not in got[ROWS[4]]
    for i in ROWS:
        low = got[i].lower()
        assert "berg" not in low and "carrasco" not in low, got[i]


def test_quiet_writings_stay(make: Callable[[], str]) -> None:
    """A word between, a comma after the given name, a first initial no Berger has, a
    surname no one has: copied as they were, and verify passes with them planted
    into the target."""
    src, tgt = make(), make()
    notes = dict(zip(QUIET_ROWS, QUIET, strict=True))
    cols = _source(src, notes, dict(zip(QUIET_ROWS, QUIET_DOCS, strict=False)))
    stays_quiet(src, tgt, make(), cols, _checker, (QUIET, QUIET_DOCS), QUIET_ROWS, QUIET_ROWS)


def test_which_spans_are_replaced() -> None:
    """The spans of the shared rule: the initials and particles between are in the
    span; a run of at most three initials; a bare middle capital needs a
    capitalised surname; a bare ``A`` or ``I`` is a word."""
    from stagewall.masking._namepairs import FullNames, cells_holding_pairs, pair_spans

    full = FullNames()
    full.rows(
        {"first_name": "first_name", "last_name": "last_name"},
        ["first_name", "last_name"],
        [["Tomasz", "Jan", "Tomasz"], ["Berger", "Berger", "van Berg"]],
    )
    pairs = full.result()
    spans = {
        "Tomasz K. Berger": [(0, 16)],
        "Tomasz K Berger": [(0, 15)],
        "Tomasz K berger": [],
        "T. K. Berger": [(0, 12)],
        "J. R. Berger": [(0, 12)],
        "T.K.R. Berger": [(0, 13)],
        "T. K. R. S. Berger": [],
        "T. van Berg": [(0, 11)],
        "Tomasz K. van Berg": [(0, 18)],
        "tomasz and berger": [],
        "Tomasz, O. Berger": [],
        "O. K. Berger": [],
        "Tomasz I Berger": [],
        "T. van Bergen": [],
    }
    texts = list(spans)
    assert dict(zip(texts, pair_spans(texts, pairs), strict=True)) == spans
    assert cells_holding_pairs(texts, pairs) == 7
