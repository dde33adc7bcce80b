"""Another customer's name as an outsider writes it, in an unrelated row's note or
JSON: a middle name in lower case or that is a common word (``Tomasz May Berger``,
``tomasz karol berger``, ``Tomasz may Berger``), two middle names (``Tomasz Karol
Adam Berger``), the row's own middle name column (``ewa may zielinska``), a
possessive (``Tomasz Berger's``), one half of a double-barrelled surname (``Tomasz
Nowak`` of Tomasz Berger-Nowak), a hyphenated given name written apart or as its
initials (``Jean Pierre Lefebvre``, ``JP Lefebvre``), and the surname first with the
middle names or initials after the given name (``Berger, Tomasz Karol``, ``Berger,
T. K.``: the copy replaced ``Berger, Tomasz`` and left ``Karol``, ``K.``).

The leak-trap customers hold Tomasz Berger (row 5) and Jan Berger (row 29); C (row
33) is Maria José Carrasco Pérez, D (row 34) Tomasz van Berg, E (35) Jean-Pierre
Lefebvre, F (36) Tomasz Berger-Nowak, G (37) Ewa Zielinska, middle name May (the
table's ``middle_name`` column, planned as a first name). Karol and Adam are no
one's given names. Writings an outsider tries that were already found (``T.K.
Berger``, ``Berger T.``, ``BERGER Tomasz``, ``Pérez Carrasco``) are planted too.

Quiet: a connective between (``TOMASZ AND BERGER``), a lower-case word that is no
given name between lower-case words (``tomasz met berger``), a comma after the given
name (a list), a middle name between no one's given name and surname (``ANNA MAY
BERGER``), a surname part or possessive alone (``the berger's
account``).
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
    full_name_checker,
    planted_at,
    stays_quiet,
)
from tests.masking.survivors import _rows as rows_of
from tests.masking.test_leak_traps import _customer as _leak_trap_customer
from tests.masking.test_leak_traps import _execute

N = 30
B_ID, JAN_ID = 5, 29  # Tomasz Berger, Jan Berger
OTHERS = [
    {"id": N + 3, "first_name": "Maria José", "last_name": "Carrasco Pérez"},
    {"id": N + 4, "first_name": "Tomasz", "last_name": "van Berg"},
    {"id": N + 5, "first_name": "Jean-Pierre", "last_name": "Lefebvre"},
    {"id": N + 6, "first_name": "Tomasz", "last_name": "Berger-Nowak"},
    {"id": N + 7, "first_name": "Ewa", "middle_name": "May", "last_name": "Zielinska"},
]
WHO = f"id IN ({B_ID}, {JAN_ID}, {', '.join(str(p['id']) for p in OTHERS)})"
NOTES = [
    "Tomasz May Berger is her cousin",
    "ask tomasz karol berger first",
    "Tomasz may Berger called",
    "Tomasz Karol Adam Berger paid",
    "met TOMASZ KAROL ADAM BERGER there",
    "Tomasz Berger's order came back",
    "T. Berger\u2019s order came back",
    "Tomasz Nowak called",
    "Jean Pierre Lefebvre called",
    "JP Lefebvre called",
    "ewa may zielinska called",
    "Ewa May Zielinska called",
    "T.K. Berger paid",
    "Berger T. paid",
    "BERGER Tomasz paid",
    "Pérez Carrasco called",
]
DOCS: list[Any] = [
    {"who": "tomasz karol berger"},
    {"Tomasz May Berger": 1},
    {"notes": "met Tomasz Berger's wife"},
    [{"kind": "list"}, {"who": "JP Lefebvre"}],
    {"notes": "ewa may zielinska"},
]
# the surname first, middle names or initials after: the whole written name goes
SURNAME_FIRST = [
    "Berger, Tomasz Karol paid",
    "Berger, T. K. paid",
    "BERGER Tomasz Karol paid",
    "Berger, Tomasz Karol Adam paid",
    "Lefebvre, Jean Pierre paid",
]
QUIET = [
    "TOMASZ AND BERGER met",
    "tomasz met berger",
    "tomasz, karol berger",
    "ANNA MAY BERGER called",
    "ask for jean at the desk",
    "the berger's account",
]
QUIET_DOCS: list[Any] = [{"notes": "tomasz met berger"}, {"notes": "ANNA MAY BERGER"}]
# rows none of whose own name words the planted texts hold (no Tomasz, Jan, Berger),
# so each is a hit of another customer's name only
ROWS = [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 14, 16, 17, 18, 19, 20, 22, 23, 24, 26]
QUIET_ROWS = range(6, 6 + len(QUIET))


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def _source(url: str, notes: dict[int, str], docs: dict[int, Any]) -> list[str]:
    """``N`` customers and the others; row ``i``'s note and JSON ``notes[i]``,
    ``docs[i]`` or ordinary ones. The JSON column names."""
    people = [_leak_trap_customer(i) for i in range(1, N + 1)] + OTHERS
    rows = [
        [
            p["id"],
            p["first_name"],
            p.get("middle_name"),
            p["last_name"],
            f"person{p['id']}@mail.example.org",
            notes.get(p["id"], "Deliver before noon."),
        ]
        for p in people
    ]
    cols = (
        "first_name VARCHAR(40), middle_name VARCHAR(40), last_name VARCHAR(40), "
        "email VARCHAR(100), notes TEXT"
    )
    return customers(url, cols, rows, docs)


# the independent checker's cells writing a named customer's name (first, middle
# and last name columns)
_checker = full_name_checker(WHO, ("first_name", "middle_name", "last_name"))


def test_outsiders_writings_are_seen(make: Callable[[], str]) -> None:
    """A clean copy verifies; the notes and documents planted into other rows of the
    target then make verify fail, each cell counted (kind ``name``) as the checker
    counts it, alike in forked parts, never showing a name."""
    src, tgt = make(), make()
    cols = _source(src, {}, {})
    plan = copies_clean(src, tgt, cols, _checker)
    _execute(tgt, planted_at(cols, NOTES, DOCS, ROWS))
    found = _checker(src, tgt, cols)
    assert found == {"customers.notes": len(NOTES), **{f"customers.{c}": len(DOCS) for c in cols}}
    words = ["berger", "karol", "nowak", "lefebvre", "zielinska", "carrasco"]
    report = fails_as_counted(plan, src, tgt, cols, found, words, "name")
    assert not report.row_hits, report.to_json()  # (no planted row holds its own name)


def test_the_auto_plan_replaces_them_in_any_row(make: Callable[[], str]) -> None:
    """The same notes (and the surname-first ones) and documents in the source,
    through the unedited auto plan: text_scrub and json_mask replace each writing
    whole, middle names and initials with it (the text around kept); verify passes
    and the checker finds nothing."""
    src, tgt = make(), make()
    notes = [*NOTES, *SURNAME_FIRST]
    rows = ROWS[: len(notes)]
    cols = _source(src, dict(zip(rows, notes, strict=True)), dict(zip(ROWS, DOCS, strict=False)))
    copies_clean(src, tgt, cols, _checker)
    got = dict(
        rows_of(tgt, f"SELECT id, notes FROM customers WHERE id IN ({', '.join(map(str, rows))})")
    )
    for i, note in zip(rows, notes, strict=True):
        low = got[i].lower()
        tail = note.split()[-1]
        assert got[i].endswith(" " + tail), (note, got[i])
        # (en_US pseudonyms: no Karol, and no surname of these)
        for word in ["berger", "karol", "nowak", "lefebvre", "zielinska", "carrasco"]:
            assert word not in low, (note, got[i])
        assert not any(f" {c}. " in got[i] or f" {c} " in got[i] for c in "KT"), (note, got[i])


def test_quiet_writings_stay(make: Callable[[], str]) -> None:
    """A connective between, a lower-case word that is no given name, a comma after
    the given name, a middle name beside no one's given name, a surname part or
    possessive alone: copied as they were, and verify passes with them planted."""
    src, tgt = make(), make()
    notes = dict(zip(QUIET_ROWS, QUIET, strict=True))
    cols = _source(src, notes, dict(zip(QUIET_ROWS, QUIET_DOCS, strict=False)))
    stays_quiet(src, tgt, make(), cols, _checker, (QUIET, QUIET_DOCS), QUIET_ROWS, QUIET_ROWS)


def test_which_spans_are_replaced() -> None:
    """The spans of the shared rule: middle names (capitalised, a given name in lower
    case, or any word but a connective between a capitalised given name and
    surname), at most two; a possessive's ``'s`` kept; a hyphenated name's parts; the
    surname first, the middle names and initials after the given name in the span."""
    from stagewall.masking._namepairs import FullNames, pair_spans

    full = FullNames()
    full.rows(
        {"first_name": "first_name", "middle_name": "first_name", "last_name": "last_name"},
        ["first_name", "middle_name", "last_name"],
        [
            ["Tomasz", "Jean-Pierre", "Tomasz", "Ewa"],
            [None, None, None, "May"],
            ["Berger", "Lefebvre", "Berger-Nowak", "Zielinska"],
        ],
    )
    pairs = full.result()
    spans = {
        "Tomasz May Berger": [(0, 17)],
        "tomasz karol berger": [(0, 19)],
        "Tomasz may Berger": [(0, 17)],
        "Tomasz Karol Adam Berger": [(0, 24)],
        "Tomasz Berger's car": [(0, 13)],
        "Tomasz Nowak": [(0, 12)],
        "Jean Pierre Lefebvre": [(0, 20)],
        "JP Lefebvre": [(0, 11)],
        "Lefebvre, JP": [(0, 12)],
        "ewa may zielinska": [(0, 17)],
        "Berger, Tomasz Karol paid": [(0, 20)],
        "Berger, T. K. paid": [(0, 13)],
        "Berger, T K paid": [(0, 11)],
        "BERGER Tomasz Karol Adam paid": [(0, 24)],
        "Berger, Tomasz and Jan": [(0, 14)],
        "Berger, T. I think": [(0, 10)],
        "tomasz may berger": [],
        "tomasz met berger": [],
        "Tomasz and Berger": [],
        "Tomasz Karol Jan Adam Berger": [],
        "the berger's account": [],
        "ask nowak first": [],
    }
    texts = list(spans)
    assert dict(zip(texts, pair_spans(texts, pairs), strict=True)) == spans
