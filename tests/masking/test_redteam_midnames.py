"""Another customer's name written with a middle *name* between (``Tomasz Karol
Berger``, ``TOMASZ KAROL BERGER``), with the surname's own particle right after the
given name (``tomasz van berg``), surname first with a bare initial and a bare
middle initial (``Berger, T K``), or as the last given name and the last surname of
a four-word name (``José Pérez``), in an unrelated row's note or JSON.

The leak-trap customers hold Tomasz Berger (row 5) and Jan Berger (row 29); C (row
33) is Maria José Carrasco Pérez, D (row 34) Tomasz van Berg. Karol is no one's
given name. Before the fix the full-name search (``_namepairs``) knew two words of
a pair side by side only, or with initials between: a middle name or a particle
between hid the name; ``José Pérez`` was no pair (only the first given name met
each surname word); and in ``Berger, T K`` the bare middle initial ``K`` took the
match of ``T`` (the text is read backwards, ``K T ,regreB``, and ``K`` beside ``T``
consumed it). The copy kept these (the detector replaced only some title-case
ones) and verify passed over ``TOMASZ KAROL BERGER``, ``tomasz van berg``,
``Berger, T K`` and ``José Pérez`` while the independent checker, taught these
writings with its own patterns, found them. (``Berger, T. K.`` and ``Berger, Tomasz
K.``, the shapes with periods or the given name, were already found: the surname
and the first initial or given name are one pair.)

Quiet: a common word between (``tomasz and berger``, ``TOMASZ AND BERGER``), a comma
after the given name (a list), another person's name with a middle name
(``TOMASZ KAROL NOVAK``: no Tomasz is a Novak; ``ELENA KAROL BERGER``: no Elena is a
Berger), a particle the source surname does not have (``TOMASZ DE BERGER``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.masking.integration.helpers import BACKENDS, url_maker
from tests.masking.rarewords import copies_clean, fails_as_counted, planted_at, stays_quiet
from tests.masking.survivors import _rows as rows_of
from tests.masking.test_leak_traps import _execute
from tests.masking.test_redteam_midinitials import WHO, _source
from tests.masking.test_redteam_midinitials import _checker as _midinitials_checker

NOTES = [
    "Tomasz Karol Berger is her cousin",
    "met TOMASZ KAROL BERGER there",
    "tomasz van berg called",
    "Ask TOMASZ VAN BERG first",
    "Berger, T K paid",
    "BERGER, J K called",
    "José Pérez called",
    "met JOSÉ PÉREZ there",
]
DOCS: list[Any] = [
    {"who": "TOMASZ KAROL BERGER"},
    {"tomasz van berg": 1},
    {"notes": "met José Pérez there"},
    [{"kind": "list"}, {"who": "Berger, T K"}],
]
QUIET = [
    "tomasz and berger",
    "TOMASZ AND BERGER met",
    "tomasz, karol berger",
    "TOMASZ KAROL NOVAK called",
    "ELENA KAROL BERGER called",
    "TOMASZ DE BERGER called",
]
QUIET_DOCS: list[Any] = [{"notes": "TOMASZ AND BERGER met"}, {"notes": "ELENA KAROL BERGER"}]
# rows none of whose own name words the planted texts hold (no Tomasz, Jan, Maria,
# José, Berger or Pérez), so each is a hit of another customer's name only
ROWS = [3, 4, 6, 7, 8, 10, 11, 14]
QUIET_ROWS = range(6, 6 + len(QUIET))


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def _checker(src: str, tgt: str, cols: list[str], where: str = WHO) -> dict[str, int]:
    """The independent checker's cells writing a named customer's name."""
    return _midinitials_checker(src, tgt, cols, where)


def test_middle_names_particles_and_last_names_are_seen(make: Callable[[], str]) -> None:
    """A clean copy verifies; the notes and documents planted into other rows of the
    target then make verify fail, each cell counted (kind ``name``) as the checker
    counts it, alike in forked parts, never showing a name. Before: verify found no
    name in any (it failed only over a cell holding a capitalised given name,
    ``Tomasz``: a source value's hash), and the checker of main found only the two
    ``Berger, T K`` notes and one such document per JSON column."""
    src, tgt = make(), make()
    cols = _source(src, {}, {})
    plan = copies_clean(src, tgt, cols, _checker)
    _execute(tgt, planted_at(cols, NOTES, DOCS, ROWS))
    found = _checker(src, tgt, cols)
    assert found == {"customers.notes": len(NOTES), **{f"customers.{c}": len(DOCS) for c in cols}}
    words = ["berger", "berg", "karol", "perez", "pérez", "jose", "josé"]
    report = fails_as_counted(plan, src, tgt, cols, found, words, "name")
    assert not report.row_hits, report.to_json()  # (no planted row holds its own name)


def test_the_auto_plan_replaces_them_in_any_row(make: Callable[[], str]) -> None:
    """The same notes and documents in the source, through the unedited auto plan:
    text_scrub and json_mask replace each writing whole, the middle name and the
    particle with it (the text around kept); verify passes and the checker finds
    nothing. Before: ``TOMASZ KAROL BERGER``, ``tomasz van berg``, ``Berger, T K``
    and ``JOSÉ PÉREZ`` were copied unchanged."""
    src, tgt = make(), make()
    cols = _source(src, dict(zip(ROWS, NOTES, strict=True)), dict(zip(ROWS, DOCS, strict=False)))
    copies_clean(src, tgt, cols, _checker)
    got = dict(
        rows_of(tgt, f"SELECT id, notes FROM customers WHERE id IN ({', '.join(map(str, ROWS))})")
    )
    assert got[ROWS[1]].startswith("met ") and got[ROWS[1]].endswith(" there"), got[ROWS[1]]
    assert got[ROWS[2]].endswith(" called"), got[ROWS[2]]
    for i in ROWS:
        low = got[i].lower()
        for word in ["berg", "karol", "pérez", "perez", "josé", " van "]:
            assert word not in low, got[i]


def test_quiet_writings_stay(make: Callable[[], str]) -> None:
    """A common word between, a comma after the given name, another person's name
    with a middle name, a particle the source surname lacks: copied as they were,
    and verify passes with them planted into the target."""
    src, tgt = make(), make()
    notes = dict(zip(QUIET_ROWS, QUIET, strict=True))
    cols = _source(src, notes, dict(zip(QUIET_ROWS, QUIET_DOCS, strict=False)))
    stays_quiet(src, tgt, make(), cols, _checker, (QUIET, QUIET_DOCS), QUIET_ROWS, QUIET_ROWS)


def test_which_spans_are_replaced() -> None:
    """The spans of the shared rule: the middle name and the particles are in the
    span; a middle name is capitalised, no common word, one at most; spaces only
    around it; the particles are the source surname's own; every given name meets
    every surname word; a bare middle initial does not hide the first."""
    from stagewall.masking._namepairs import FullNames, cells_holding_pairs, pair_spans

    full = FullNames()
    full.rows(
        {"first_name": "first_name", "last_name": "last_name"},
        ["first_name", "last_name"],
        [
            ["Tomasz", "Maria José", "Tomasz", "Luis"],
            ["Berger", "Carrasco Pérez", "van Berg", "de la Cruz"],
        ],
    )
    pairs = full.result()
    spans = {
        "Tomasz Karol Berger": [(0, 19)],
        "TOMASZ KAROL BERGER": [(0, 19)],
        "Tomasz Karol van Berg": [(0, 21)],
        "tomasz van berg": [(0, 15)],
        "Luis de la Cruz": [(0, 15)],
        "José Pérez": [(0, 10)],
        "Pérez, JOSÉ": [(0, 11)],
        "Berger, T K": [(0, 11)],  # (the middle initial too: names3)
        "Berger T K": [(0, 10)],
        "tomasz karol berger": [(0, 19)],  # (a given name in lower case: names3)
        "Tomasz and Berger": [],
        "TOMASZ AND BERGER": [],
        "Tomasz, Karol Berger": [],
        "Tomasz Karol, Berger": [],
        "Tomasz Karol Jan Novak Berger": [],
        "Tomasz Karol Novak": [],
        "Anna Karol Berger": [],
        "Tomasz de Berger": [],
    }
    texts = list(spans)
    assert dict(zip(texts, pair_spans(texts, pairs), strict=True)) == spans
    assert cells_holding_pairs(texts, pairs) == 10
