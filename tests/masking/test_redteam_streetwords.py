"""Red-team round on a row's own street written with its street word changed: each a
shape the unedited auto plan's text_scrub copied while verify passed and the
independent checker (survivors.py) saw nothing (docs/masking.md, "What it cannot
see"). Each test failed before its fix (on SQLite, PostgreSQL and MariaDB alike).

- The street named without its street word, its house number on either side:
  ``Alcalá 5`` / ``5 Alcalá`` for ``Calle de Alcalá 5``, ``Ganthriv 14`` / ``14
  Ganthriv`` for ``14 Ganthriv Lane``.
- The street word swapped for another: ``14 Ganthriv Road``, ``Ganthriv Road`` for
  ``14 Ganthriv Lane``; ``Avenida Mayor 7``, ``Avenida Mayor`` for ``Calle Mayor 7``.
- An abbreviation the street-word table did not list: ``Cl. Mayor 7``, ``Clle
  Mayor``, ``Pza. Mayor``, ``Ganthriv Rd.``, ``Ganthriv Blvd``, ``Berliner Str.``.

The noise: only the row's own street's name words (its *core*: ``alcalá``,
``ganthriv``, ``mayor``) are searched, and only next to the row's own house number
or next to a street word; a core that is a common word (``Mayor``, ``High``) alone
is neither replaced nor flagged, and a note without the row's street is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stagewall.keys import MaskingKey
from stagewall.masking.transformers import build_transformer
from tests.masking.integration.helpers import BACKENDS, url_maker
from tests.masking.survivors import holds, needles
from tests.masking.test_leak_traps import scrubbed_and_seen, seen_when_written_after


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


# (the trap customer's own values, the note that repeats its street, the repeated text)
NO_STREET_WORD: list[tuple[dict[str, str | None], str, str]] = [
    ({"street": "Calle de Alcalá 5"}, "quedamos en Alcalá 5, portal azul", "alcalá 5"),
    ({"street": "Calle de Alcalá 5"}, "entrega en el 5 Alcalá, segundo", "5 alcalá"),
    ({"street": "14 Ganthriv Lane"}, "parcel left at Ganthriv 14 yesterday", "ganthriv 14"),
    ({"street": "14 Ganthriv Lane"}, "parcel left at 14 Ganthriv yesterday", "14 ganthriv"),
]
SWAPPED: list[tuple[dict[str, str | None], str, str]] = [
    ({"street": "14 Ganthriv Lane"}, "moved to 14 Ganthriv Road last May", "ganthriv road"),
    ({"street": "14 Ganthriv Lane"}, "lives on Ganthriv Road now", "ganthriv road"),
    ({"street": "Calle Mayor 7"}, "vive en Avenida Mayor 7", "mayor 7"),
    ({"street": "Calle Mayor 7"}, "vive en la Avenida Mayor desde mayo", "avenida mayor"),
    ({"street": "Berliner Straße 5"}, "wohnt jetzt am Berliner Platz", "berliner platz"),
]
ABBREVIATED: list[tuple[dict[str, str | None], str, str]] = [
    ({"street": "Calle Mayor 7"}, "vive en Cl. Mayor 7", "cl. mayor"),
    ({"street": "Calle Mayor 7"}, "vive en Clle Mayor, 2º", "clle mayor"),
    ({"street": "Plaza Mayor 3"}, "quedamos en la Pza. Mayor", "pza. mayor"),
    ({"street": "14 Ganthriv Lane"}, "dropped at Ganthriv Rd. gate", "ganthriv rd"),
    ({"street": "14 Ganthriv Lane"}, "Ganthriv Blvd entrance", "ganthriv blvd"),
    ({"street": "Berliner Straße 5"}, "Lieferung an Berliner Str., Hinterhof", "berliner str"),
]


def test_a_street_without_its_street_word_is_scrubbed_and_seen(make: Callable[[], str]) -> None:
    scrubbed_and_seen(make, NO_STREET_WORD)  # type: ignore[arg-type]


def test_a_street_with_another_street_word_is_scrubbed_and_seen(make: Callable[[], str]) -> None:
    scrubbed_and_seen(make, SWAPPED)  # type: ignore[arg-type]


def test_a_street_word_abbreviated_otherwise_is_scrubbed_and_seen(
    make: Callable[[], str],
) -> None:
    scrubbed_and_seen(make, ABBREVIATED)  # type: ignore[arg-type]


def test_these_streets_are_seen_in_a_scrubbed_column(make: Callable[[], str]) -> None:
    """Written into the scrubbed notes after a clean run (a weakened copy: the
    notes' text_scrub undone for these rows): verify fails on each, and the checker
    counts each."""
    cases = NO_STREET_WORD + SWAPPED + ABBREVIATED
    hits = seen_when_written_after(make, cases)  # type: ignore[arg-type]
    assert hits == {"street": len(cases)}


# ---- noise: ordinary words, other rows' streets, a core alone stay ---------------------


def _scrub(notes: list[str], known: list[tuple[tuple[str, str], ...]]) -> list[str]:
    scrub = build_transformer("text_scrub", {}, key=MaskingKey("streets", b"s" * 32), salt="t")
    return scrub.transform_known(notes, known)


def test_notes_without_the_rows_street_are_unchanged() -> None:
    """Another row's street (and a common core without its number or a street word)
    replaces nothing: the search is of the row's own street only."""
    notes = [
        "quedamos en Alcalá 5; Ganthriv Road; 14 Ganthriv; Avda. Alcalá",
        "el alcalde mayor dijo 7 veces que sí; Mayor 8; la plaza",
        "12 items at high prices; the High Court; Main Road works; a high wall",
        "the church hall; Church 3 times; main 12 issues",
    ]
    other = [
        (("street_address", "Calle Mayor 8"), ("street_address", "22 Oak Lane")),
        (("street_address", "Calle Mayor 7"),),
        (("street_address", "12 High Street"),),
        (("street_address", "1 Church Street"), ("street_address", "5 Main Street")),
    ]
    assert _scrub(notes, other) == notes


def test_the_rows_own_street_is_replaced_only_in_those_shapes() -> None:
    """The row's own core next to its number or a street word is replaced; the core
    alone, or next to another number, is not."""
    known = [(("street_address", "Calle Mayor 7"),)] * 2 + [(("street_address", "12 High Street"),)]
    notes = [
        "Mayor 7 y Avda Mayor",
        "el mayor de todos, mayor 8",
        "High Road and 12 High; high time",
    ]
    got = _scrub(notes, known)
    assert "Mayor 7" not in got[0] and "Avda Mayor" not in got[0], got
    assert got[1] == notes[1]
    assert "High Road" not in got[2] and "12 High" not in got[2], got
    assert got[2].endswith("; high time"), got
    # a second mention in another shape beside the street as it is (starred out by
    # the residue pass: text_scrub reads the core only where the street is not found)
    (both,) = _scrub(
        ["at 14 Ganthriv Lane, or Ganthriv Road"], [(("street_address", "14 Ganthriv Lane"),)]
    )
    assert "ganthriv" not in both.casefold(), both


def test_the_checker_reads_these_streets_on_its_own() -> None:
    """survivors.py finds each shape with its own code, and not another street's."""
    alcala = needles("street", "Calle de Alcalá 5")
    assert holds("en Alcalá 5", alcala) and holds("el 5 Alcalá", alcala)
    assert holds("Avda. Alcalá", alcala) and holds("Cl Alcalá", alcala)
    assert not holds("en Alcalá 6", alcala) and not holds("Alcalá de Henares", alcala)
    lane = needles("street", "14 Ganthriv Lane")
    assert holds("Ganthriv Road", lane) and holds("14 Ganthriv", lane)
    assert holds("Ganthriv Rd.", lane) and not holds("the Ganthriv family", lane)
    mayor = needles("street", "Calle Mayor 7")
    assert holds("Cl. Mayor 7", mayor) and holds("Clle Mayor", mayor)
    assert not holds("el alcalde mayor", mayor) and not holds("mayor 8", mayor)
    high = needles("street", "12 High Street")
    assert not holds("the High Court", high) and not holds("high hopes", high)
    assert holds("High Road", high)
