"""Red-team round on leak shapes found last round and left (issue 11): each a row's
own value that survived the unedited auto plan's text_scrub in a free-text column
while verify passed and the independent checker (survivors.py) saw nothing. Each
test failed before its fix (on SQLite, PostgreSQL and MariaDB alike).

- A surname's plural or possessive without an apostrophe (``the Ganthrivs``,
  ``Ganthrivs'``) where the surname is the row's only name: last round searched the
  plural only of a full name of two words or more (a table's given name and
  surname joined), and a one-word name could be a given name (``Mark``, ``marks``).
  A ``last_name`` column says it is a surname.
- A login of the given name's first two letters or more glued to the surname, either
  side (``yecarrasco``, ``yescarrasco``, ``carrascoyes``, ``yecarrasco7``): only the
  initial alone was searched (``ycarrasco``).
- A row's street holding its flat or unit before the street (``Flat 3B, 14 Ganthriv
  Lane``, ``Apt 3, ...``, ``Unit 3, ...``, ``Piso 2B, Calle Mayor 7``; the
  Australian ``3/14 Ganthriv Lane``, unit 3 at number 14), written without it in a
  note: the street was searched only as a whole (the flat words first).
- A street written with two changes at once, as people shorten it: the small words
  after the street word left out and the street word shortened (``C/ Alcalá 5`` for
  ``Calle de Alcalá 5``, ``Avda. Constitución 12``, ``Rua Flores 45``), a German
  ending written apart and shortened (``Haupt-Str. 5`` for ``Hauptstraße 5``), an
  ending word glued to the name and shortened (``Berlinerstr. 5`` for ``Berliner
  Straße 5``), each with the number elsewhere too (``c. alcalá nº 5``).

The noise: a surname column's value is searched in the plural in its own row's text
only, so a row whose surname is ``Mark`` gets ``marks`` in its own note replaced
(a given name never: ``first_name`` ``Mark`` gives no plural); the logins are the
row's own given name's first letters glued to its own surname, which no ordinary
word is.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stagewall.keys import MaskingKey
from stagewall.masking.transformers import build_transformer
from stagewall.masking.transformers._known import checked_patterns, find_known, known_patterns
from tests.masking.integration.helpers import BACKENDS, url_maker
from tests.masking.survivors import holds, needles
from tests.masking.test_leak_traps import scrubbed_and_seen, seen_when_written_after


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


# (the trap customer's own values, the note that repeats one, the repeated text);
# a first name of None: the surname is the row's only name
ONLY_SURNAME: list[tuple[dict[str, str | None], str, str]] = [
    ({"first_name": None, "last_name": "Ganthriv"}, "dinner with the Ganthrivs on Friday", "ganthrivs"),
    ({"first_name": None, "last_name": "Ganthriv"}, "left it at the Ganthrivs' door", "ganthrivs"),
    ({"first_name": None, "last_name": "Sánchez"}, "the Sanchezes called twice", "sanchezes"),
]  # fmt: skip
YC = {"first_name": "Yésica", "last_name": "Carrasco"}
LOGINS: list[tuple[dict[str, str | None], str, str]] = [
    (YC, "login yecarrasco reset", "yecarrasco"),
    (YC, "user yescarrasco locked out", "yescarrasco"),
    (YC, "acct CarrascoYes (old)", "carrascoyes"),
    (YC, "login yecarrasco7 again", "yecarrasco"),
    ({"first_name": "Jorge", "last_name": "Ganthriv"}, "mailbox jorganthriv@corp", "jorganthriv"),
]
FLAT_FIRST: list[tuple[dict[str, str | None], str, str]] = [
    ({"street": "Flat 3B, 14 Ganthriv Lane"}, "moved to 14 ganthriv ln. last May", "ganthriv ln"),
    ({"street": "Apt 3, 14 Ganthriv Lane"}, "now at ganthriv lane 14", "ganthriv lane"),
    ({"street": "Unit 3, 14 Ganthriv Lane"}, "moved to 14 ganthriv lane", "ganthriv lane"),
    ({"street": "3/14 Ganthriv Lane"}, "moved to 14 ganthriv lane", "ganthriv lane"),
    ({"street": "Piso 2B, Calle Mayor 7"}, "vive en c/ mayor 7", "c/ mayor 7"),
]
TWO_CHANGES: list[tuple[dict[str, str | None], str, str]] = [
    ({"street": "Calle de Alcalá 5"}, "vive en C/ Alcalá 5", "alcalá 5"),
    ({"street": "Calle de Alcalá 5"}, "vive en c. alcalá nº 5", "alcalá nº 5"),
    ({"street": "Avenida de la Constitución 12"}, "en Avda. Constitución 12", "constitución 12"),
    ({"street": "Rua das Flores 45"}, "mora na Rua Flores 45", "flores 45"),
    ({"street": "Hauptstraße 5"}, "wohnt jetzt Haupt Straße 5", "straße 5"),
    ({"street": "Hauptstraße 5"}, "wohnt jetzt Haupt-Str. 5", "str. 5"),
    ({"street": "Berliner Straße 5"}, "wohnt jetzt berlinerstraße Nr. 5", "nr. 5"),
    ({"street": "Berliner Straße 5"}, "wohnt jetzt Berlinerstr. 5", "berlinerstr"),
]


def test_a_surname_columns_plural_is_scrubbed_and_seen(make: Callable[[], str]) -> None:
    scrubbed_and_seen(make, ONLY_SURNAME)  # type: ignore[arg-type]


def test_a_login_of_a_given_names_first_letters_is_scrubbed_and_seen(
    make: Callable[[], str],
) -> None:
    scrubbed_and_seen(make, LOGINS)  # type: ignore[arg-type]


def test_a_street_with_its_flat_first_is_scrubbed_and_seen(make: Callable[[], str]) -> None:
    scrubbed_and_seen(make, FLAT_FIRST)  # type: ignore[arg-type]


def test_a_street_changed_twice_is_scrubbed_and_seen(make: Callable[[], str]) -> None:
    scrubbed_and_seen(make, TWO_CHANGES)  # type: ignore[arg-type]


def test_these_shapes_are_seen_in_a_scrubbed_column(make: Callable[[], str]) -> None:
    """Written into the scrubbed notes after the run (a weakened copy: text_scrub's
    column, not a kept one): verify fails on each and the checker counts each."""
    cases = ONLY_SURNAME + LOGINS + FLAT_FIRST + TWO_CHANGES
    hits = seen_when_written_after(make, cases)  # type: ignore[arg-type]
    assert hits == {"name": len(ONLY_SURNAME + LOGINS), "street": 13}


# ---- noise: ordinary words and other rows' values stay ---------------------------------


def _scrub(notes: list[str], known: list[tuple[tuple[str, str], ...]]) -> list[str]:
    scrub = build_transformer("text_scrub", {}, key=MaskingKey("shapes", b"s" * 32), salt="t")
    return scrub.transform_known(notes, known)


def test_notes_without_the_rows_values_are_unchanged() -> None:
    """The same notes for rows whose values are others: nothing is replaced (no
    ordinary word matches a new pattern: marks, prices, calle, de, flat, unit, str)."""
    notes = [
        "Mark the marks; prices went up at the flat, unit 3 of the de luxe range",
        "the Smiths came; yes, carry on; Str. closed",
        "Haupt-Bahnhof 5 min away; Av. 10; C/ 12",
    ]
    other = [
        (("last_name", "Kowalska"), ("first_name", "Anna")),
        (("last_name", "Ganthriv"), ("first_name", "Yésica")),
        (("street_address", "Calle de Alcalá 5"), ("street_address", "Flat 3B, 14 Oak Lane")),
    ]
    assert _scrub(notes, other) == notes


def test_a_given_name_gets_no_plural_and_a_surname_column_does() -> None:
    """The noise, documented: a row whose surname column holds ``Mark`` gets
    ``marks`` replaced in its own text; ``Mark`` as a given name does not."""
    assert " marks " not in {p for p, _ in checked_patterns("first_name", "Mark")}
    assert " marks " in {p for p, _ in checked_patterns("last_name", "Mark")}
    assert " maxes " not in {p for p, _ in checked_patterns("last_name", "Max")}  # (3 letters)
    text = "Marks & Co. prices; the Marks came"
    pats = known_patterns([("last_name", "Mark")])
    assert [text[s:e] for s, e, _ in find_known(text, pats)] == ["Marks", "Marks"]


def test_the_checker_reads_these_shapes_on_its_own() -> None:
    """survivors.py finds each shape with its own code, and not another person's."""
    yc = needles("name", "Yésica Carrasco")
    assert [holds(t, yc) for t in ["yecarrasco", "carrascoyesi9", "yacarrasco", "ycarr"]] == [
        True,
        True,
        False,
        False,
    ]
    assert holds("the Ganthrivs", needles("surname", "Ganthriv"))
    assert not holds("the Ganthrivs", needles("name", "Ganthriv"))
    flat = needles("street", "Flat 3B, 14 Ganthriv Lane")
    assert holds("at 14 Ganthriv Lane", flat) and not holds("at 14 Oak Lane", flat)
    assert holds("c/ alcalá 5", needles("street", "Calle de Alcalá 5"))
    # (C/ Alcalá is the row's street with its street word whatever number follows:
    # test_redteam_streetwords.py; its name by another number alone is not)
    assert not holds("en alcalá 6", needles("street", "Calle de Alcalá 5"))
