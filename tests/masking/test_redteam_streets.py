"""Red-team round on a row's own street written otherwise in free text (each test
failed before its fix).

- A street word abbreviated and the house number after a mark at once (``c. mayor
  nº 7``, ``Hauptstr. Nr. 5`` for the row's ``Calle Mayor 7``, ``Hauptstraße 5``),
  or abbreviated with the number on the other side (``Ganthriv Ln. 22`` for ``22
  Ganthriv Lane``, ``7 c/ mayor``): text_scrub, verify and the independent checker
  each searched one change at a time, so none of them saw both together.
- A street abbreviated where text_scrub's street detector does not look (``Ganthriv
  Ln. 22`` for ``Ganthriv Lane 22``: the detector takes an English street only with
  its number first; ``av. ganthriv 10`` in lower case): verify found it, but
  text_scrub searched the row's street only as written (its probe was the street's
  words without the number, ``ganthrivlane``, which ``ganthrivln22`` does not
  hold), so the unedited plan's run failed verify.
- A row's street holding its flat after it (``Calle Mayor 7, 2ºB``, ``14 Ganthriv
  Lane, Apt 3``) written without it in a note: none of the three saw it (text_scrub
  replaced it only when its detector took the street, written capitalised).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from stagewall.keys import MaskingKey
from stagewall.masking.transformers import build_transformer
from stagewall.masking.transformers._known import Pairs, find_known, known_patterns, patterns
from stagewall.masking.transformers._streetwords import (
    DE_NL_STREET_SUFFIXES,
    EN_STREET_WORDS,
    ROMANCE_STREET_WORDS,
)
from tests.masking.integration.helpers import BACKENDS, url_maker
from tests.masking.test_leak_traps import scrubbed_and_seen


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


# (the trap customer's own values, the note that repeats one, the repeated text)
ABBREVIATED_AND_NUMBERED: list[tuple[dict[str, str], str, str]] = [
    ({"street": "Calle Mayor 7"}, "vive en c. mayor nº 7, 2ºB", "mayor nº 7"),
    ({"street": "Calle Mayor 7"}, "enviar a 7 c/ mayor", "7 c/ mayor"),
    ({"street": "Hauptstraße 5"}, "wohnt jetzt hauptstr. Nr. 5", "str. nr. 5"),
    ({"street": "Avenida de América 10"}, "en avda. de américa núm. 10", "rica núm. 10"),
    ({"street": "22 Ganthriv Lane"}, "moved to ganthriv ln. no. 22", "ln. no. 22"),
    ({"street": "14 Ganthriv Street"}, "ship to ganthriv st. 14 please", "ganthriv st. 14"),
    ({"street": "Ganthrivstraße 14"}, "neu: 14 ganthrivstr.", "14 ganthrivstr"),
]
ABBREVIATED_ONLY_VERIFY_SAW: list[tuple[dict[str, str], str, str]] = [
    ({"street": "Ganthriv Lane 22"}, "moved to Ganthriv Ln. 22 last May", "ganthriv ln. 22"),
    ({"street": "Avenida Ganthriv 10"}, "nueva dirección av. ganthriv 10", "av. ganthriv 10"),
    ({"street": "Boulevard Ganthriv 3"}, "écrire au bd ganthriv 3", "bd ganthriv 3"),
    ({"street": "Ganthriv Straße 14"}, "jetzt Ganthriv Str. 14", "ganthriv str. 14"),
    ({"street": "Calle Mayor 9"}, "vive en c/ mayor 9", "c/ mayor 9"),
]

WITHOUT_ITS_FLAT: list[tuple[dict[str, str], str, str]] = [
    ({"street": "Calle Mayor 7, 2ºB"}, "vive en calle mayor 7 desde mayo", "mayor 7"),
    ({"street": "Ganthrivweg 14, 3B"}, "neue adresse ganthrivweg 14", "ganthrivweg 14"),
    ({"street": "14 Ganthriv Lane, Apt 3"}, "moved to 14 ganthriv lane", "ganthriv lane"),
    ({"street": "Hauptstraße 5, Hinterhaus"}, "wohnt jetzt hauptstr. nr. 5", "str. nr. 5"),
]


def test_a_street_abbreviated_and_numbered_otherwise_is_scrubbed_and_seen(
    make: Callable[[], str],
) -> None:
    scrubbed_and_seen(make, ABBREVIATED_AND_NUMBERED)


def test_a_street_abbreviated_where_the_detector_does_not_look_is_scrubbed(
    make: Callable[[], str],
) -> None:
    scrubbed_and_seen(make, ABBREVIATED_ONLY_VERIFY_SAW)


def test_a_street_written_without_its_flat_is_scrubbed_and_seen(
    make: Callable[[], str],
) -> None:
    """The row's street holds its flat (``Calle Mayor 7, 2ºB``), the note names the
    street without it: text_scrub left it unless its detector took it (capitalised),
    and neither verify nor the checker saw it."""
    scrubbed_and_seen(make, WITHOUT_ITS_FLAT)


def _forms() -> list[tuple[str, str]]:
    """(the row's street, a note writing it abbreviated with its number elsewhere)
    for every abbreviation of every street word of the street words' table."""
    out = []
    for full, shorts in EN_STREET_WORDS.items():
        for short in shorts:
            out += [
                (f"22 Ganthriv {full}", f"now at Ganthriv {short}. 22, flat 1"),
                (f"Ganthriv {full} 22", f"now at 22 ganthriv {short}"),
                (f"22 Ganthriv {full}", f"now at Ganthriv {short} No. 22"),
            ]
    for full, shorts in ROMANCE_STREET_WORDS.items():
        for short in shorts:
            out += [
                (f"{full.title()} Ganthriv 10", f"ahora {short} ganthriv nº 10"),
                (f"{full.title()} Ganthriv 10", f"ahora 10 {short} ganthriv"),
            ]
    for full, shorts in DE_NL_STREET_SUFFIXES.items():
        for short in shorts:
            out += [
                (f"Ganthriv{full} 14", f"jetzt ganthriv{short} Nr. 14"),
                (f"Ganthriv{full} 14", f"jetzt 14 Ganthriv{short}"),
                (f"Berliner {full.title()} 14", f"jetzt berliner {short} nr. 14"),
            ]
    return out


@pytest.mark.parametrize(("street", "note"), _forms())
def test_every_abbreviation_is_scrubbed_and_seen_with_its_number_elsewhere(
    street: str, note: str
) -> None:
    """text_scrub leaves no digit of the house number beside the street's name, and
    verify's patterns find the note as it was written."""
    scrub = build_transformer("text_scrub", {}, key=MaskingKey("streets", b"s" * 32), salt="t")
    (got,) = scrub.transform_known([note], [(("street_address", street),)])
    assert "ganthriv" not in got.casefold() and "berliner" not in got.casefold(), (note, got)
    pats = known_patterns([("street_address", street)])
    found = [note[s:e] for s, e, _ in find_known(note, pats)]
    assert found and any(c.isdigit() for c in found[0]), (note, found)


_PIECES = [
    *["Calle", "C/", "c.", "Mayor", "Avenida", "Av.", "Avda.", "de", "América", "Ganthriv"],
    *["Lane", "Ln.", "Street", "St", "Hauptstraße", "Hauptstr.", "Straße", "Str.", "strasse"],
    *["Berliner", "Lindenweg", "8a", "8", "a", "14", "22", "3B", "2ºB", "Apt", "Flat", ","],
    *["Nr.", "nº", "Müller", "Queen", "Rd", "Road", "25", "weg", "-", "Blvd", "Bd", "x"],
    *["Way", "Allée", "Praça", "Rue", "Weg", "Ave", "Avenue", "STRASSE", "7", "No."],
]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=6).map(" ".join))
@example("Calle Mayor 7, 2ºB")
@example("14 Ganthriv Lane, Apt 3")
@example("Flat 3B, 14 Ganthriv Lane")
@example("Calle 25 de Mayo 3")
@example("Hauptstraße 5, Hinterhaus")
@example("3rd Avenue 5, Apt 3")
@example("High45678 Street")
def test_every_pattern_of_a_street_holds_its_probe(value: str) -> None:
    """text_scrub builds a street's patterns only where its row's compact text holds
    the street's probe (``Pairs``): every pattern, written without its spaces, holds
    it (or, for a street spelt otherwise, one of its words)."""
    pairs = Pairs([(("street_address", value),)])
    for pattern, compact in patterns("street_address", value):
        form = pattern if compact else pattern.replace(" ", "")
        if pairs.multi[0]:
            assert any(w in form for w in pairs.spaced[0].split()), (form, pairs.spaced)
        else:
            assert pairs.forms[0] in form, (form, pairs.forms)
