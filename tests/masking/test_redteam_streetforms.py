"""Red-team round on the ways people write a row's own street and house number in
the supported locales, beyond those already found (``C/ Alcalá 42``, ``Avda. de
Alcalá 42``, ``Hauptstr. 5``, ``Hauptstrasse 5``, ``12 Main St.``, ``42, Calle de
Alcalá``, ``Alcalá 42, 3º B``, ``Alcalá 42-3B``, ``nº 42, Alcalá``, a line break
between, upper case: all scrubbed, seen by verify and the checker on main).

Three shapes were copied unchanged while verify passed and the independent checker
(survivors.py) saw nothing (each test failed before its fix, on SQLite, PostgreSQL
and MariaDB alike):

- the house number first and small words between it and the street's name (its
  *core*), without a word sign: ``# 42 de Alcalá`` (``#`` is no word),
  ``vive en el 42 de Alcalá``, ``al 5 di Garibaldi``; and English ``of`` between,
  with a sign or not: ``number 42 of Alcalá``, ``no. 42 of Alcalá``, ``42 of
  Alcalá``. The sign-first rule read only the other locales' small words after a
  word sign (``nº 42 de Alcalá``);
- the house number with a letter or ``bis`` glued on (a building's letter, which
  the core's rule did not read: it took the number as a word): ``Alcalá 42A``,
  ``Alcalá 42bis``, ``Garibaldi 5A``, ``Berliner 5a``, ``22A Oak``, ``en el 42A de
  Alcalá``, ``Alcalá nº 42B``.
- a number sign the rule did not list (it read ``nº``, ``Nr.``, ``number``,
  ``Nummer``…): ``Hauptstraße Hausnummer 5``, ``Hauptstr. Hausnr. 5``, ``Garibaldi
  civico 5``, ``via Garibaldi, civ. 5``, ``Kerkstraat huisnummer 5``.

The noise: only the row's own core and own number (a letter or ``bis``/``ter``
glued on) with nothing but small words between. ``Order #42 for the Alcalá store``,
``page 42 of the Alcalá file``, ``Alcalá 43A``, ``Alcalá 42nd``, ``# 420 de
Alcalá`` stay as they are, not flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.keys import MaskingKey
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.planner import build_plan
from stagewall.masking.transformers import build_transformer
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.rarewords import ORDINARY_NOTE, customers, planted_at
from tests.masking.survivors import _rows as rows_of
from tests.masking.survivors import holds, needles, survivors
from tests.masking.test_leak_traps import (
    REFS,
    SENSITIVE,
    TEXTS,
    _execute,
    _masked,
    _notes,
    scrubbed_and_seen,
    seen_when_written_after,
)
from tests.masking.test_leak_traps import N as N_TRAPS
from tests.masking.test_leak_traps import _customer as _leak_trap_customer


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


ALCALA: dict[str, str | None] = {"street": "Calle de Alcalá 42"}
GARIBALDI: dict[str, str | None] = {"street": "Via Garibaldi 5"}
BERLINER: dict[str, str | None] = {"street": "Berliner Straße 5"}
OAK: dict[str, str | None] = {"street": "22 Oak Lane"}
# (the trap customer's own values, the note that repeats its street, the repeated text)
NUMBER_FIRST: list[tuple[dict[str, str | None], str, str]] = [
    (ALCALA, "Lives at # 42 de Alcalá", "42 de alcalá"),
    (ALCALA, "vive en el 42 de Alcalá, 3º", "42 de alcalá"),
    (ALCALA, "ENTREGAR EN EL #42 DE LA ALCALÁ", "42 de la alcalá"),
    (GARIBALDI, "abita al 5 di Garibaldi", "5 di garibaldi"),
    (ALCALA, "Lives at number 42 of Alcalá", "42 of alcalá"),
    (ALCALA, "Lives at no. 42 of Alcalá", "42 of alcalá"),
    (ALCALA, "the flat at 42 of Alcalá", "42 of alcalá"),
]
SUFFIXED: list[tuple[dict[str, str | None], str, str]] = [
    (ALCALA, "vive en Alcalá 42A, bajo", "alcalá 42a"),
    (ALCALA, "VIVE EN ALCALÁ 42B", "alcalá 42b"),
    (ALCALA, "vive en Alcalá 42bis", "alcalá 42bis"),
    (ALCALA, "vive en Alcalá\n42A", "42a"),
    (ALCALA, "en el 42A de Alcalá", "42a de alcalá"),
    (ALCALA, "vive en Alcalá nº 42B", "nº 42b"),
    (GARIBALDI, "abita in Garibaldi 5A", "garibaldi 5a"),
    (BERLINER, "wohnt jetzt Berliner 5a", "berliner 5a"),
    (OAK, "moved to 22A Oak in May", "22a oak"),
]
# a number sign the rule did not list: German Hausnummer, Hausnr., Dutch huisnummer,
# Italian civico, civ.
SIGNS: list[tuple[dict[str, str | None], str, str]] = [
    ({"street": "Hauptstraße 5"}, "wohnt Hauptstraße Hausnummer 5", "hausnummer 5"),
    ({"street": "Hauptstraße 5"}, "wohnt Hauptstr. Hausnr. 5", "hausnr. 5"),
    (GARIBALDI, "abita in Garibaldi civico 5", "garibaldi civico 5"),
    (GARIBALDI, "abita in via Garibaldi, civ. 5", "civ. 5"),
    ({"street": "Kerkstraat 5"}, "woont Kerkstraat huisnummer 5", "huisnummer 5"),
]
FORMS = NUMBER_FIRST + SUFFIXED + SIGNS


def test_the_number_first_with_small_words_between_is_scrubbed_and_seen(
    make: Callable[[], str],
) -> None:
    scrubbed_and_seen(make, NUMBER_FIRST)  # type: ignore[arg-type]


def test_the_number_with_a_letter_glued_is_scrubbed_and_seen(make: Callable[[], str]) -> None:
    scrubbed_and_seen(make, SUFFIXED)  # type: ignore[arg-type]


def test_a_street_with_another_number_sign_is_scrubbed_and_seen(
    make: Callable[[], str],
) -> None:
    scrubbed_and_seen(make, SIGNS)  # type: ignore[arg-type]


def test_these_streets_are_seen_in_a_scrubbed_column(make: Callable[[], str]) -> None:
    """Written into the scrubbed notes after a clean run (a weakened copy): verify
    fails on each (kind street) and the checker counts each."""
    hits = seen_when_written_after(make, FORMS)  # type: ignore[arg-type]
    assert hits == {"street": len(FORMS)}


# ---- the row's own JSON document ------------------------------------------------------

N = 30
OWN_DOCS: dict[int, Any] = {
    N + 1: {"delivery": {"where": "# 42 de Alcalá", "floor": 3}},
    N + 2: {"addresses": ["Alcalá 42A", "office"]},
    N + 3: {"note": "number 42 of Alcalá"},
}


def _json_source(
    url: str, docs: dict[int, Any], streets: dict[int, str] | None = None
) -> list[str]:
    """``N`` customers on ``Calle Mayor i``, then one per row of ``streets`` (id →
    its street; default three on ``Calle de Alcalá 42``) whose JSON documents are
    ``docs``. The JSON column names."""
    streets = streets or dict.fromkeys(OWN_DOCS, "Calle de Alcalá 42")
    people = [_leak_trap_customer(i) for i in range(1, N + 1 + len(streets))]
    rows = [
        [p["id"], p["first_name"], p["last_name"], p["email"], street, ORDINARY_NOTE]
        for p in people
        for street in [streets.get(p["id"], p["street"])]
    ]
    columns = (
        "first_name VARCHAR(40), last_name VARCHAR(40), email VARCHAR(100), "
        "street VARCHAR(80), notes TEXT"
    )
    return customers(url, columns, rows, docs)


def _found(src: str, tgt: str, cols: list[str], plan: Any) -> dict[str, int]:
    sensitive = {"street": "street"}
    texts = {"customers": ["notes", *cols]}
    return survivors(src, tgt, "customers", sensitive, texts, {"customers": "id"}, plan=plan)


def own_json_masked_and_seen(
    make: Callable[[], str],
    docs: dict[int, Any],
    streets: dict[int, str] | None = None,
    cores: tuple[str, ...] = ("alcal",),
) -> None:
    """Rows ``N + 1``… on their ``streets`` (:func:`_json_source`) whose own JSON
    documents ``docs`` write their street: the unedited auto plan's json_mask
    replaces it (no document holds any of ``cores``), verify passes and the checker
    finds nothing; the documents written into a clean copy afterwards make verify
    fail and the checker count each."""
    src, tgt = make(), make()
    cols = _json_source(src, docs, streets)
    plan = build_plan(src).plan
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    assert report.passed, report.to_json()
    assert _found(src, tgt, cols, plan) == {}
    for c in cols:
        got = rows_of(tgt, f"SELECT {c} FROM customers WHERE id > {N}")
        assert all(not any(k in str(r[0]).casefold() for k in cores) for r in got), got

    plain, again = make(), make()
    cols = _json_source(plain, {}, streets)
    plan = build_plan(plain).plan
    run(plan, plain, again, KEY, RunOptions())
    assert verify(plan, plain, again, KEY).passed
    _execute(again, planted_at(cols, [], list(docs.values()), list(docs)))
    report = verify(plan, plain, again, KEY)
    assert not report.passed
    for c in cols:
        assert sum(h.cells for h in report.row_hits if h.column == c) == len(docs), c
    assert _found(plain, again, cols, plan) == {f"customers.{c}": len(docs) for c in cols}


def test_the_rows_own_json_document_is_masked_and_seen(make: Callable[[], str]) -> None:
    """The row's street in those shapes inside its own JSON document (see
    :func:`own_json_masked_and_seen`)."""
    own_json_masked_and_seen(make, OWN_DOCS)


# ---- noise: the number and the core apart, or another number, stay --------------------


def _scrub(notes: list[str], street: str) -> list[str]:
    scrub = build_transformer("text_scrub", {}, key=MaskingKey("streets", b"s" * 32), salt="t")
    return scrub.transform_known(notes, [(("street_address", street),)] * len(notes))


QUIET = [
    "Order #42 for the Alcalá store",
    "page 42 of the Alcalá file",
    "Alcalá 43A, not ours",
    "the Alcalá 42nd anniversary",
    "# 420 de Alcalá; # 142 de Alcalá",
    "Alcalá 420b",
    "42 days in the Alcalá office",
    "Alcalá civico 43; Hausnummer 42 in der Schillerstraße",
]


@pytest.mark.parametrize("note", QUIET)
def test_the_core_and_number_apart_or_another_number_are_unchanged(note: str) -> None:
    assert _scrub([note], "Calle de Alcalá 42") == [note]
    assert not holds(note, needles("street", "Calle de Alcalá 42")), note


def test_the_quiet_notes_are_copied_as_they_were_and_verify_passes(
    make: Callable[[], str],
) -> None:
    """The quiet notes in the source, each in a row on ``Calle de Alcalá 42``: the
    unedited auto plan copies them as they were, verify passes and the checker finds
    nothing."""
    traps = [{**ALCALA, "notes": note} for note in QUIET]
    src, tgt, plan = _masked(make, traps)
    report = verify(plan, src, tgt, KEY)
    assert report.passed, report.to_json()
    assert _notes(tgt, N_TRAPS) == QUIET
    assert survivors(src, tgt, "customers", SENSITIVE, TEXTS, REFS, plan=plan) == {}


def test_the_surroundings_stay_apart_from_the_street() -> None:
    """The number, small words and core (or the core and the lettered number) are
    replaced as one street; the text around them is kept."""
    notes = ["Lives at # 42 de Alcalá since May", "piso 3, Alcalá 42A. Gracias"]
    got = _scrub(notes, "Calle de Alcalá 42")
    assert got[0].startswith("Lives at # ") and got[0].endswith(" since May"), got
    assert got[1].startswith("piso 3, ") and got[1].endswith(". Gracias"), got
    assert all("alcal" not in g.casefold() and "42" not in g for g in got), got


@pytest.mark.parametrize(("values", "note"), [(v, n) for v, n, _ in FORMS])
def test_the_checker_reads_these_streets_on_its_own(values: dict[str, str], note: str) -> None:
    assert holds(note, needles("street", values["street"])), note


# ---- the round's other writings: already found (guards, not failing before) ----------
ALREADY = [
    ("Calle de Alcalá 42", "vive en C/ Alcalá 42", "alcal"),
    ("Calle de Alcalá 42", "vive en Avda. de Alcalá 42", "alcal"),
    ("Calle de Alcalá 42", "42, Calle de Alcalá", "alcal"),
    ("Calle de Alcalá 42", "en el nº 42, Alcalá", "alcal"),
    ("Calle de Alcalá 42", "Alcalá 42, 3º B", "alcal"),
    ("Calle de Alcalá 42", "Alcalá 42-3B", "alcal"),
    ("Calle de Alcalá 42", "Calle de Alcalá,\n42", "alcal"),
    ("Calle de Alcalá 42", "C/ ALCALÁ 42", "alcal"),
    ("Hauptstraße 5", "wohnt Hauptstr. 5", "haupt"),
    ("Hauptstraße 5", "wohnt HAUPTSTRASSE 5", "haupt"),
    ("Main Street 12", "Main St 12", "main"),
    ("Main Street 12", "12 Main St.", "main"),
    ("12 Main Street", "12\nMain Street", "main"),
]


@pytest.mark.parametrize(("street", "note", "core"), ALREADY)
def test_the_other_writings_are_scrubbed_and_read_by_the_checker(
    street: str, note: str, core: str
) -> None:
    (got,) = _scrub([note], street)
    assert core not in got.casefold(), (note, got)
    assert holds(note, needles("street", street)), note
