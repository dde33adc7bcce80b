"""Red-team round on a row's own street written by its name (its *core*) and its
house number with a number sign between: ``Alcalá nº 42``, ``Alcalá n.º 42``,
``Alcalá, nº42``, ``Mayor núm. 7``, ``Berliner Nr. 5``, ``Oak No 22``; and the sign
and number first, small words between: ``nº 42 de Alcalá``, ``núm. 7 de Mayor``
(for ``Calle de Alcalá 42``, ``Calle Mayor 7``, ``Berliner Straße 5``, ``22 Oak
Lane``). The unedited auto plan's text_scrub copied them, verify passed and the
independent checker (survivors.py) saw nothing: each searched the core next to its
number (``Alcalá 42``, ``42 Alcalá``: so ``Nr. 42 Alcalá`` was already found) and
the whole street with a sign (``Calle de Alcalá nº 42``), not the core with a sign.
Each test failed before its fix, on SQLite, PostgreSQL and MariaDB alike.

The noise: only the row's own core, its own number and a sign right next to each
other (small words such as ``de`` between in the reversed form). ``Ticket no. 42``,
``Alcalá nº 43`` and ``Order no. 42 for the Alcalá store`` (the core not beside the
sign and number: not the street, by decision) are left as they are, not flagged.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.keys import MaskingKey
from stagewall.masking.transformers import build_transformer
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.survivors import holds, needles, survivors
from tests.masking.test_leak_traps import (
    REFS,
    SENSITIVE,
    TEXTS,
    N,
    _cells,
    _masked,
    scrubbed_and_seen,
    seen_when_kept,
    seen_when_written_after,
)


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


ALCALA: dict[str, str | None] = {"street": "Calle de Alcalá 42"}
# (the trap customer's own values, the note that repeats its street, the repeated text)
MARKED: list[tuple[dict[str, str | None], str, str]] = [
    (ALCALA, "Lives at Alcalá nº 42", "alcalá nº 42"),
    (ALCALA, "vive en Alcalá n.º 42, 3ºB", "alcalá n.º 42"),
    (ALCALA, "Lives at Alcalá número 42", "alcalá número 42"),
    (ALCALA, "Lives at Alcalá no. 42", "alcalá no. 42"),
    (ALCALA, "Lives at Alcalá, nº42 (bell broken)", "alcalá, nº42"),
    (ALCALA, "Alcalá N°42, portal azul", "alcalá n°42"),
    ({"street": "Calle Mayor 7"}, "vive en Mayor núm. 7", "mayor núm. 7"),
    ({"street": "Berliner Straße 5"}, "wohnt jetzt Berliner Nr.5", "berliner nr.5"),
    ({"street": "22 Oak Lane"}, "moved to Oak No 22 in May", "oak no 22"),
]
SIGN_FIRST: list[tuple[dict[str, str | None], str, str]] = [
    (ALCALA, "en el nº 42 de Alcalá, segundo", "42 de alcalá"),
    (ALCALA, "n.º 42 de la Alcalá", "42 de la alcalá"),
    ({"street": "Calle Mayor 7"}, "portal núm. 7 de Mayor, 2º", "7 de mayor"),
]


def test_a_street_core_with_a_number_sign_is_scrubbed_and_seen(make: Callable[[], str]) -> None:
    scrubbed_and_seen(make, MARKED)  # type: ignore[arg-type]


def test_the_sign_and_number_before_the_core_is_scrubbed_and_seen(
    make: Callable[[], str],
) -> None:
    scrubbed_and_seen(make, SIGN_FIRST)  # type: ignore[arg-type]


def test_these_streets_are_seen_in_a_scrubbed_column(make: Callable[[], str]) -> None:
    """Written into the scrubbed notes after a clean run (a weakened copy): verify
    fails on each (kind street) and the checker counts each."""
    cases = MARKED + SIGN_FIRST
    hits = seen_when_written_after(make, cases)  # type: ignore[arg-type]
    assert hits == {"street": len(cases)}


ORDER_NOTES = ["ship to Alcalá nº 42, 3ºB", "entregar en el nº 42 de Alcalá", "Mayor núm. 7"]


def test_a_related_rows_note_with_the_customers_street_is_scrubbed_and_seen(
    make: Callable[[], str],
) -> None:
    """An order's note (orders.customer_id → customers) holds its customer's street
    that way: the unedited plan scrubs it, verify passes and the checker finds
    nothing; with the order notes kept, both count every one."""
    streets = ["Calle de Alcalá 42", "Calle de Alcalá 42", "Calle Mayor 7"]
    traps: list[dict[str, Any]] = [
        {"street": s, "order_note": n} for s, n in zip(streets, ORDER_NOTES, strict=True)
    ]
    src, tgt, plan = _masked(make, traps)
    assert verify(plan, src, tgt, KEY).passed
    got = _cells(tgt, f"SELECT note FROM orders WHERE id > {N} ORDER BY id")
    for note, out in zip(ORDER_NOTES, got, strict=True):
        assert "alcal" not in out.casefold() and "mayor" not in out.casefold(), (note, out)
    assert survivors(src, tgt, "customers", SENSITIVE, TEXTS, REFS, plan=plan) == {}

    seen_when_kept(make, src, plan, "orders", "note", len(ORDER_NOTES))


# ---- noise: a sign and a number without the core beside them stay -------------------


def _scrub(notes: list[str], known: list[tuple[tuple[str, str], ...]]) -> list[str]:
    scrub = build_transformer("text_scrub", {}, key=MaskingKey("streets", b"s" * 32), salt="t")
    return scrub.transform_known(notes, known)


def test_a_sign_and_number_without_the_rows_core_beside_is_unchanged() -> None:
    """``Ticket no. 42`` (no core), ``Alcalá nº 43`` (another number), the core and
    the number apart (``Order no. 42 for the Alcalá store``: a decision, the core is
    not next to the sign and number) and another row's street replace nothing."""
    notes = [
        "Ticket no. 42 closed",
        "Alcalá nº 43, not 42",
        "Order no. 42 for the Alcalá store",
        "Alcalá nº 420; nº 142 de Alcalá; Alcalá no142",
        "the Alcalá flat, no. 42 items",
        "Mayor núm. 7 y Alcalá nº 42",
    ]
    mine = (("street_address", "Calle de Alcalá 42"),)
    known = [mine] * 5 + [(("street_address", "Calle Mayor 8"), ("street_address", "Calle X 42"))]
    assert _scrub(notes, known) == notes


def test_the_sign_and_its_surroundings_stay_apart_from_the_street() -> None:
    """The core, sign and number are replaced as one street (as ``Alcalá 42`` and
    ``Calle de Alcalá nº 42`` are); the text around them is kept."""
    notes = ["Lives at Alcalá nº 42 since May", "piso 3, nº 42 de Alcalá. Gracias"]
    got = _scrub(notes, [(("street_address", "Calle de Alcalá 42"),)] * 2)
    assert got[0].startswith("Lives at ") and got[0].endswith(" since May"), got
    assert got[1].startswith("piso 3, ") and got[1].endswith(". Gracias"), got
    assert all("alcal" not in g.casefold() and "42" not in g for g in got), got


def test_the_checker_reads_these_streets_on_its_own() -> None:
    """survivors.py finds each shape with its own code, and not the noise."""
    alcala = needles("street", "Calle de Alcalá 42")
    for _, note, _ in [*MARKED[:6], *SIGN_FIRST[:2]]:
        assert holds(note, alcala), note
    for note in ["Ticket no. 42", "Alcalá nº 43", "Order no. 42 for the Alcalá store"]:
        assert not holds(note, alcala), note
    assert not holds("Alcalá nº 420", alcala) and not holds("nº 142 de Alcalá", alcala)
    berliner = needles("street", "Berliner Straße 5")
    assert holds("Berliner Nr.5", berliner) and holds("Nr. 5 Berliner", berliner)
    assert not holds("Berliner Nr. 6", berliner)


# ---- more signs: number, nª / n.ª, num., #, Nummer, numéro, n°, numero -------------
# (Alcalá #42 reads as the core next to its number: "#" is no word; n° reads "n")
_MORE_SIGNS = [  # (all for the row of Calle de Alcalá 42)
    ("Lives at Alcalá number 42", "alcalá number 42"),
    ("vive en Alcalá nª 42, bajo", "alcalá nª 42"),
    ("vive en Alcalá n.ª 42", "alcalá n.ª 42"),
    ("vive en Alcalá num. 42", "alcalá num. 42"),
    ("Alcalá Num 42, portal azul", "alcalá num 42"),
    ("Lives at Alcalá #42", "alcalá #42"),
    ("Lives at Alcalá # 42", "alcalá # 42"),
    ("wohnt in Alcalá Nummer 42", "alcalá nummer 42"),
    ("wohnt in Alcalá Nummer42", "alcalá nummer42"),
    ("habite Alcalá numéro 42", "alcalá numéro 42"),
    ("habite Alcalá n° 42", "alcalá n° 42"),
    ("abita in Alcalá numero 42", "alcalá numero 42"),
]
_MORE_SIGN_FIRST = [
    ("en el nª 42 de Alcalá", "42 de alcalá"),
    ("at number 42 de la Alcalá", "42 de la alcalá"),
    ("wohnt Nummer 42 der Alcalá", "42 der alcalá"),
    ("au numéro 42 de Alcalá", "42 de alcalá"),
    ("au n° 42 de Alcalá", "42 de alcalá"),
]
MORE: list[tuple[dict[str, str | None], str, str]] = [
    (ALCALA, note, text) for note, text in _MORE_SIGNS + _MORE_SIGN_FIRST
]


@pytest.mark.parametrize(("note", "text"), [(n, t) for _, n, t in MORE])
def test_more_signs_are_scrubbed(note: str, text: str) -> None:
    (got,) = _scrub([note], [(("street_address", "Calle de Alcalá 42"),)])
    assert text.casefold() not in got.casefold() and "alcal" not in got.casefold(), (note, got)


@pytest.mark.parametrize("note", [n for _, n, _ in MORE])
def test_the_checker_reads_more_signs(note: str) -> None:
    assert holds(note, needles("street", "Calle de Alcalá 42")), note


MORE_NOISE = [
    "Order #42 for the Alcalá store",
    "Alcalá #43",
    "Alcalá number 43, not 42",
    "number 42 for the Alcalá store",
    "Alcalá Nummer 420; numéro 142 de Alcalá",
    "the Alcalá flat, # 42 items",
]


@pytest.mark.parametrize("note", MORE_NOISE)
def test_more_signs_without_the_rows_core_beside_are_unchanged(note: str) -> None:
    assert _scrub([note], [(("street_address", "Calle de Alcalá 42"),)]) == [note]
    assert not holds(note, needles("street", "Calle de Alcalá 42")), note


def test_more_signs_are_scrubbed_and_seen(make: Callable[[], str]) -> None:
    scrubbed_and_seen(make, MORE)  # type: ignore[arg-type]


def test_more_signs_are_seen_in_a_scrubbed_column(make: Callable[[], str]) -> None:
    hits = seen_when_written_after(make, MORE)  # type: ignore[arg-type]
    assert hits == {"street": len(MORE)}
