"""Red-team round 4 on a row's own street, bank account, zero-padded identifier and
phone as people write them in its note and JSON document, beyond the forms of
test_redteam_streetforms.py and test_redteam_numforms.py.

Each case is one customer whose note repeats one of its own values; the unedited
auto plan (and for the numbers the plan with ``customer_no`` masked) runs, the copy
must hold none of them while verify passes and the independent checker
(survivors.py) finds nothing; with the note kept (or written after a clean run),
verify and the checker must see every one. On SQLite, PostgreSQL and MariaDB.

What failed before (SQLite, PostgreSQL, MariaDB alike; docs/masking.md, round 4):

- copied unchanged while verify passed: ``12 r. de Rivoli`` (``rue`` as ``r.``),
  ``ul. Długa 5`` (``ulica``), ``Kerkstr 5A`` (a Dutch ``-straat`` as ``-str``, a letter on
  the number), ``12 on Oak`` for ``12 Oak Street``; replaced by the street detector but
  not seen by verify when written into a copy: ``Kerkstr. 5``, ``Hauptstraße 5a``;
  the checker read ``rue`` as no street word, so it missed all the Rivoli cases
  (``12bis rue de Rivoli`` and ``Rivoli 12`` were already scrubbed and seen);
- copied unchanged while verify passed: a German IBAN's account without the bank's
  code (``Kto 532013000``, ``Kontonr. 532 013 000``; ``Konto 0532013000`` was replaced by
  the detector), a UK sort code and account (``60-16-13 31926819``, the account
  alone), a zero-padded customer number without its zeros (``47113`` of ``0047113``).

A phone without its country code, its area code and number split otherwise, was
already scrubbed and seen (``PHONES``: a regression case, not counted).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.keys import MaskingKey
from stagewall.masking.transformers import build_transformer
from stagewall.masking.transformers._known import find_known, known_patterns
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.survivors import holds, needles, survivors
from tests.masking.test_leak_traps import (
    REFS,
    SENSITIVE,
    TEXTS,
    _masked,
    _notes,
    scrubbed_and_seen,
    seen_when_written_after,
)
from tests.masking.test_leak_traps import N as N_TRAPS
from tests.masking.test_redteam_numforms import scrubbed_and_seen as numbers_scrubbed_and_seen
from tests.masking.test_redteam_streetforms import N as N_JSON
from tests.masking.test_redteam_streetforms import own_json_masked_and_seen


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


RIVOLI: dict[str, str | None] = {"street": "12 rue de Rivoli"}
KERK: dict[str, str | None] = {"street": "Kerkstraat 5"}
OAK: dict[str, str | None] = {"street": "12 Oak Street"}
HAUPT: dict[str, str | None] = {"street": "Hauptstraße 5"}
PAULISTA: dict[str, str | None] = {"street": "Avenida Paulista 1000"}
DLUGA: dict[str, str | None] = {"street": "ulica Długa 5"}
# (the trap customer's own values, the note that repeats its street, the repeated text)
STREETS: list[tuple[dict[str, str | None], str, str]] = [
    (RIVOLI, "habite au 12 r. de Rivoli depuis mai", "r. de rivoli"),
    (RIVOLI, "habite au 12bis rue de Rivoli", "rue de rivoli"),
    (RIVOLI, "habite Rivoli 12, 2e étage", "rivoli 12"),
    (KERK, "woont nu Kerkstr 5A", "kerkstr 5a"),
    (KERK, "woont nu Kerkstr. 5", "kerkstr. 5"),
    (OAK, "she is at 12 on Oak now", "12 on oak"),
    (HAUPT, "wohnt Hauptstraße 5a seit Mai", "hauptstraße 5a"),
    (PAULISTA, "mora na Av. Paulista 1000", "av. paulista 1000"),
    (DLUGA, "mieszka ul. Długa 5", "ul. długa 5"),
]


def test_these_streets_are_scrubbed_and_seen(make: Callable[[], str]) -> None:
    scrubbed_and_seen(make, STREETS)  # type: ignore[arg-type]


def test_these_streets_are_seen_in_a_scrubbed_column(make: Callable[[], str]) -> None:
    """Written into the scrubbed notes after a clean run (a weakened copy): verify
    fails on each (kind street) and the checker counts each."""
    hits = seen_when_written_after(make, STREETS)  # type: ignore[arg-type]
    assert hits == {"street": len(STREETS)}


def _scrub(notes: list[str], street: str) -> list[str]:
    scrub = build_transformer("text_scrub", {}, key=MaskingKey("streets4", b"s" * 32), salt="t")
    return scrub.transform_known(notes, [(("street_address", street),)] * len(notes))


# (street-shaped text of another street, "Kerkweg 5a", is the street detector's, which
# replaces any street: not in these notes)
STREET_QUIET: list[tuple[str, str]] = [
    ("12 Oak Street", "13 on Oak, then 12 on the Oak file"),
    ("12 rue de Rivoli", "Rivoli 13, bureau 120 Rivoli"),
    ("Kerkstraat 5", "Kerkstr 6A, de kerk 5a"),
    ("Hauptstraße 5", "Hauptstr 6b, Haupt 5a"),
    ("ulica Długa 5", "ul. Krótka, Długa 6"),
]


@pytest.mark.parametrize(("street", "note"), STREET_QUIET)
def test_another_number_or_street_is_unchanged(street: str, note: str) -> None:
    assert _scrub([note], street) == [note]
    assert not holds(note, needles("street", street)), note


def test_the_quiet_street_notes_are_copied_as_they_were_and_verify_passes(
    make: Callable[[], str],
) -> None:
    traps = [{"street": s, "notes": n} for s, n in STREET_QUIET]
    src, tgt, plan = _masked(make, traps)
    report = verify(plan, src, tgt, KEY)
    assert report.passed, report.to_json()
    assert _notes(tgt, N_TRAPS) == [n for _, n in STREET_QUIET]
    assert survivors(src, tgt, "customers", SENSITIVE, TEXTS, REFS, plan=plan) == {}


@pytest.mark.parametrize(("values", "note"), [(v, n) for v, n, _ in STREETS])
def test_the_checker_reads_these_streets_on_its_own(values: dict[str, str], note: str) -> None:
    assert holds(note, needles("street", values["street"])), note


# ---- the row's own JSON document ------------------------------------------------------

# row id → (its street, its JSON document repeating it)
OWN_DOCS: dict[int, tuple[str, Any]] = {
    N_JSON + 1: ("12 rue de Rivoli", {"delivery": {"where": "12 r. de Rivoli", "floor": 3}}),
    N_JSON + 2: ("Kerkstraat 5", {"addresses": ["Kerkstr 5A", "office"]}),
    N_JSON + 3: ("12 Oak Street", {"note": "she is at 12 on Oak now"}),
    N_JSON + 4: ("ulica Długa 5", {"note": "ul. Długa 5"}),
}


def test_the_rows_own_json_document_is_masked_and_seen(make: Callable[[], str]) -> None:
    """The row's street in these shapes inside its own JSON document: the unedited
    auto plan's json_mask replaces it, verify passes and the checker finds nothing;
    written into a clean copy afterwards, verify fails and the checker counts each."""
    own_json_masked_and_seen(
        make,
        {i: d for i, (_, d) in OWN_DOCS.items()},
        {i: street for i, (street, _) in OWN_DOCS.items()},
        ("rivoli", "kerk", "oak", "dluga", "długa"),
    )


# ---- numbers: a bank account in pieces, a number without its zeros, a phone -----------

DE = {"iban": "DE89 3704 0044 0532 0130 00"}
GB = {"iban": "GB29 NWBK 6016 1331 9268 19"}
NUMBERS: list[tuple[dict[str, str], str, str]] = [
    (DE, "BLZ 37040044 Kto 532013000", "532013000"),
    (DE, "zahlt von Konto 0532013000", "0532013000"),
    (DE, "Kontonr. 532 013 000, BLZ 370 400 44", "532 013 000"),
    (GB, "pays from 60-16-13 31926819", "60-16-13 31926819"),
    (GB, "sort code 601613 account 31926819", "31926819"),
    ({}, "customer 47113 called", "47113"),
    ({}, "Kd.-Nr. 47113 ok", "47113"),
]
# a phone without its country code, its area code and number split otherwise
PHONES: list[tuple[dict[str, str], str, str]] = [
    ({"phone": "+44 20 7946 0958"}, "ring 0207 946 0958 after six", "0207 946 0958"),
    ({"phone": "+49 30 1234567"}, "Tel. (030) 12 34 567", "12 34 567"),
    ({"phone": "+34 612 34 56 78"}, "call 61 234 5678 after six", "61 234 5678"),
    ({"phone": "+1 415 555 2671"}, "call 4155 552 671", "4155 552 671"),
]


def test_a_bank_account_in_pieces_and_a_number_without_its_zeros_are_scrubbed_and_seen(
    make: Callable[[], str],
) -> None:
    numbers_scrubbed_and_seen(make, NUMBERS)


def test_a_phone_split_otherwise_is_scrubbed_and_seen(make: Callable[[], str]) -> None:
    numbers_scrubbed_and_seen(make, PHONES)


def _scrub_known(notes: list[str], known: tuple[tuple[str, str], ...]) -> list[str]:
    scrub = build_transformer("text_scrub", {}, key=MaskingKey("streets4", b"n" * 32), salt="t")
    return scrub.transform_known(notes, [known] * len(notes))


OWN_KNOWN = (
    ("iban", DE["iban"]),
    ("fpe_alnum", "0047113"),
    ("fpe_alnum", "0001234"),  # without its zeros four digits: not alone
)


@pytest.mark.parametrize(
    "note",
    [
        "BLZ 37040044 only",  # the bank's code is no one's
        "Kto 532013001; ref 4711; order 471130",
        "Order 0471134 and 147113",
        "call 1234 or 01234",
    ],
)
def test_other_numbers_in_the_rows_text_stay(note: str) -> None:
    assert _scrub_known([note], OWN_KNOWN) == [note]


def test_order_47113_of_another_customer_stays() -> None:
    """The number without its zeros is the row's own only: a customer whose number is
    another keeps ``Order 47113`` in its note."""
    note = "Order 47113 shipped"
    assert _scrub_known([note], (("fpe_alnum", "0099881"),)) == [note]
    assert not holds(note, needles("id", "0099881"))


def test_the_new_number_forms() -> None:
    got = {p for p, _, _ in known_patterns([("iban", DE["iban"]), ("fpe_alnum", "0047113")])}
    assert {"0532013000", "532013000", " 47113 "} <= got
    gb = {p for p, _, _ in known_patterns([("iban", GB["iban"])])}
    assert {"60161331926819", "31926819"} <= gb
    text = "Kto 532013000 and customer 47113, order 147113"
    spans = find_known(text, known_patterns([("iban", DE["iban"]), ("fpe_alnum", "0047113")]))
    assert [text[s:e] for s, e, _ in spans] == ["532013000", "47113"]


@pytest.mark.parametrize(("values", "note"), [(v, n) for v, n, _ in NUMBERS])
def test_the_checker_reads_these_numbers_on_its_own(values: dict[str, str], note: str) -> None:
    if "iban" in values:
        assert holds(note, needles("iban", values["iban"])), note
    else:
        assert holds(note, needles("id", "0047113")), note
