"""verify on kept free text: the row's values written the way text_scrub still
replaces them (its detector finds any e-mail and abbreviated streets), but the row
search did not look for. A plan that keeps the notes (weakened) copies them as they
are; verify must fail and name the column and kind, agreeing with the independent
checker (survivors.py) — and pass a kept column that holds none of them.

Shapes: the surname inside an e-mail's mailbox with digits
(``carrasco1987@gmail.com`` for a row whose e-mail is ``yesica.c@…``) or inside a
login with an initial (``ycarrasco``); the row's street with its street word
abbreviated (``Hauptstr. 5`` for ``Hauptstraße 5``, ``C/ Mayor 7`` for ``Calle Mayor
7``, ``Av.``/``Avenida``, ``St``/``Street``, ``Rd``/``Road``, ``Ave``/``Avenue``,
``Bd``/``Boulevard``) or written out when the source has it short; its house
number's letter written apart (``Lindenweg 8 a`` for ``Lindenweg 8a``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stagewall.keys import MaskingKey
from stagewall.masking import engine
from stagewall.masking.plan import Plan
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import VerifyOutcome, verify
from tests.masking import trapdb
from tests.masking.integration.helpers import BACKENDS, url_maker
from tests.masking.survivors import survivors
from tests.masking.test_rowcheck import _with

KEY = MaskingKey("rowcheck-kept-key", b"k" * 32)

# (first, last, e-mail, street, the note kept in the copy, the kind verify reports)
LEAKS = [
    ("Yésica", "Carrasco", "yesica.c@example.com", "Calle Mayor 7",
     "Antigua dirección carrasco1987@gmail.com", "name"),
    ("Yésica", "Carrasco", "yes.c@example.com", "Calle Luna 3",
     "Usuario del portal: ycarrasco", "name"),
    ("Jürgen", "Müller", "jm@example.com", "Hauptstraße 5",
     "Wohnt jetzt Hauptstr. 5, Hinterhaus", "street"),
    ("Ana", "Ortega", "ao@example.com", "Calle Mayor 7",
     "Entregar en C/ Mayor 7, 2º izda.", "street"),
    ("Luis", "Navarro", "ln@example.com", "Avenida de América 10",
     "Vive en Av. de América 10", "street"),
    ("Tom", "Baker", "tb@example.com", "14 Oak Street",
     "Ship to 14 Oak St, back door", "street"),
    ("Sue", "Parker", "sp@example.com", "9 Elm Road",
     "Moved to 9 Elm Rd last spring", "street"),
    ("Ann", "Fowler", "af@example.com", "2 Park Avenue",
     "Office at 2 Park Ave", "street"),
    ("Amélie", "Roux", "ar@example.com", "Boulevard Haussmann 12",
     "Écrire au Bd Haussmann 12", "street"),
    ("Karl", "Weber", "kw@example.com", "Berliner Str. 5",
     "Lieferung Berliner Straße 5", "street"),
    ("Ulla", "Lind", "ul@example.com", "Lindenweg 8a",
     "Neue Adresse: Lindenweg 8 a", "street"),
]  # fmt: skip
# Kept notes that hold no value of their own row: another surname that starts with
# the row's, a first name that holds the row's, another street and house number,
# other people's values (the row search is about the row's own). (The row's street
# name next to a street word is its street, whatever number follows, and next to
# its own number whatever street word: test_redteam_streetwords.py; before, "C/
# Mayor 9" for Calle Mayor 7 and "14 Oak Rd" for 14 Oak Street stood here.)
CLEAN = [
    ("Yésica", "Carrasco", "yc@example.com", "Calle Mayor 7",
     "Referred by Carrascosa; see Mayor 9 and Calle Mayoral 7"),
    ("Anna", "Hoffmann", "ah@example.com", "Hauptstraße 5",
     "Sister hannah@example.org lives Hauptstr. 15"),
    ("Tom", "Baker", "tb2@example.com", "14 Oak Street",
     "Deliveries go to 14 Elm Rd (the depot), ask for jbaker"),
    ("Luis", "Navarro", "ln2@example.com", "Avenida de América 10",
     "Antes en Av. de Europa 10; contacto ruiz1987@example.org"),
]  # fmt: skip


def _data(rows: list[tuple[Any, ...]]) -> trapdb.Rows:
    customers, orders = [], []
    for i, (first, last, email, street, note, *_) in enumerate(rows):
        customers.append(
            (i + 1, first, last, email, f"+34 612 {i:03d} 4{i:02d}", street,
             f"{28000 + i}", note, None, json.dumps({"channel": "web"}))
        )  # fmt: skip
        orders.append((i + 1, i + 1, "Leave with the neighbour", None))
    return customers, orders


def _run(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, rows: list[tuple[Any, ...]]
) -> tuple[str, str, Any]:
    make = url_maker(request, tmp_path, backend)
    src, tgt = make(), make()
    trapdb.build(src, _data(rows))
    weak = _with(build_plan(src).plan, "customers", "notes", "keep")
    engine.run(weak, src, tgt, KEY)
    return src, tgt, weak


def _checker(src: str, tgt: str, plan: Plan) -> dict[str, int]:
    return survivors(
        src, tgt, "customers", trapdb.SENSITIVE, {"customers": ["notes"]}, {"customers": "id"},
        logins=("customers.notes",), plan=plan,
    )  # fmt: skip


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("leak", LEAKS, ids=[r[4][:24] for r in LEAKS])
def test_kept_notes_with_the_rows_value_fail_verify(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str, leak: tuple[Any, ...]
) -> None:
    # the leak, next to a row whose kept note is clean (counts are per row)
    src, tgt, weak = _run(request, tmp_path, backend, [leak, CLEAN[1]])
    assert _checker(src, tgt, weak) == {"customers.notes": 1}
    report = verify(weak, src, tgt, KEY)
    assert report.outcome is VerifyOutcome.FAILED, report.to_json()
    hits = {(h.column, h.kind): h.cells for h in report.row_hits}
    assert hits == {("notes", leak[5]): 1}, hits
    assert leak[4] not in str(report.to_json())  # counts, never values


@pytest.mark.parametrize("backend", BACKENDS)
def test_kept_notes_without_the_rows_values_pass(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    src, tgt, weak = _run(request, tmp_path, backend, CLEAN)
    assert _checker(src, tgt, weak) == {}
    report = verify(weak, src, tgt, KEY)
    # (the whole-target scan reports the e-mails and streets its detector finds in
    # the kept notes: other people's, a matter of that scan, not of the row search)
    assert report.row_hits == (), report.to_json()["row_hits"]


def test_every_street_word_of_the_table_is_detected_and_searched_both_ways() -> None:
    """One table (_streetwords) for text_scrub's detector and verify's street forms:
    each abbreviation is a street text_scrub replaces, and verify searches a row's
    street written with it for the full word, and the other way round."""
    from stagewall.masking.classify._addresses import find_streets
    from stagewall.masking.transformers._known import checked_patterns, norm
    from stagewall.masking.transformers._streetwords import (
        DE_NL_STREET_SUFFIXES,
        EN_STREET_WORDS,
        ROMANCE_STREET_WORDS,
    )

    forms = [
        *((f"14 Oak {f}", f"14 Oak {s}") for f, ss in EN_STREET_WORDS.items() for s in ss),
        *((f"Haupt{f} 5", f"Haupt{s} 5") for f, ss in DE_NL_STREET_SUFFIXES.items() for s in ss),
        *((f"{f.title()} Mayor 7", f"{s.title()} Mayor 7")
          for f, ss in ROMANCE_STREET_WORDS.items() for s in ss),
    ]  # fmt: skip
    assert len(forms) >= 18
    for full, short in forms:
        for value, written in ((full, short), (short, full)):
            text = f"Nota: {written}, gracias"
            assert find_streets(text), written  # text_scrub replaces it
            found = [p for p, _ in checked_patterns("street_address", value) if p in norm(text)]
            assert found, (value, written)
