"""Red-team round on free text (issue 11), shapes left after
test_redteam_scrubgaps.py (each test failed before its fix: text_scrub left the
row's own value, verify passed a plan that kept it, and the independent checker
did not see it either).

- A login of the initials of a person's two given names and the surname:
  ``jmganthriv``, ``ganthrivjm``, ``jmganthriv42`` for Jorge Manuel Ganthriv.
- A prefix of the row's own surname (five letters or more) glued to digits:
  ``ganthr7``, ``carras12`` (see ``_readings.MIN_STEM`` for the floor, measured on
  Pagila, Sakila and Chinook).
- A row's e-mail, name or phone base64-encoded inside a longer token: between
  binary bytes (which make the whole token no text) at each of the three
  alignments modulo 3, or a piece cut out of a longer base64 token.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path

import pytest

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import ColumnPlan
from stagewall.masking.transformers._structured import _own_spans, _Patterns
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.survivors import holds, needles, stem_needles, survivors
from tests.masking.test_leak_traps import REFS, SENSITIVE, TEXTS, _masked, _with, scrubbed_and_seen


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


JM = {"first_name": "Jorge Manuel", "last_name": "Ganthriv"}
# (the trap customer's own values, the note that repeats one, the repeated text)
INITIALS: list[tuple[dict[str, str], str, str]] = [
    (JM, "login jmganthriv reset twice", "jmganthriv"),
    (JM, "user jm.ganthriv locked out", "ganthriv"),
    (JM, "acct GanthrivJM (old)", "ganthrivjm"),
    (JM, "mailbox j.m.ganthriv@corp", "ganthriv"),
    (JM, "login jmganthriv42 again", "jmganthriv"),
]
YC = {"first_name": "Yésica", "last_name": "Carrasco"}
STEMS: list[tuple[dict[str, str], str, str]] = [
    ({"first_name": "Jorge", "last_name": "Ganthriv"}, "login ganthr7 reset", "ganthr7"),
    (YC, "user carras12 locked out", "carras12"),
    (YC, "acct Carra2019 (old)", "carra2019"),
    ({"last_name": "Müller-Lüdenscheidt"}, "id mulle_x Lüdens99", "lüdens99"),
]
MAIL = "yesica.carrasco@example.com"
_LONG = _b64(f"id=7;mail={MAIL};x".encode())
PIECES: list[tuple[dict[str, str], str, str]] = [
    # between binary bytes, the e-mail at byte offsets 1, 2 and 3 (0, 1, 2 modulo 3)
    ({"email": MAIL}, "t=" + _b64(b"\x9f" + MAIL.encode() + b"\xff"), MAIL),
    ({"email": MAIL}, "t=" + _b64(b"\x9f\xfe" + MAIL.encode() + b"\x00"), MAIL),
    ({"email": MAIL}, "t=" + _b64(b"\x9f\xfe\x01" + MAIL.encode() + b"\xfe"), MAIL),
    # a piece cut out of a longer token at each character
    ({"email": MAIL}, f"sid {_LONG[1:]} ok", _LONG[1:]),
    ({"email": MAIL}, f"sid {_LONG[2:-2]} ok", _LONG[2:-2]),
    ({"email": MAIL}, f"sid {_LONG[3:-1]} ok", _LONG[3:-1]),
    (
        {"first_name": "Yésica", "last_name": "Carrasco"},
        "sso=" + _b64(b"\xff\xfe" + "Yésica Carrasco".encode() + b"\x00") + ";",
        _b64(b"\xff\xfe" + "Yésica Carrasco".encode() + b"\x00"),
    ),
    (
        {"phone": "+34 612 345 678"},
        "ref:" + _b64(b"\x00+34612345678\x07"),
        _b64(b"\x00+34612345678\x07"),
    ),
]


def test_initials_of_two_given_names_and_the_surname_are_scrubbed_and_seen(
    make: Callable[[], str],
) -> None:
    scrubbed_and_seen(make, INITIALS)


def test_a_shortened_surname_glued_to_digits_is_scrubbed_and_seen(
    make: Callable[[], str],
) -> None:
    scrubbed_and_seen(make, STEMS)


def _stems(known: list[tuple[str, str]], texts: list[str]) -> list[list[str]]:
    spans = _own_spans(texts, _Patterns([tuple(known)] * len(texts)))
    return [[t[s:e] for s, e, _ in sp] for t, sp in zip(texts, spans, strict=True)]


def test_a_shortened_surname_is_found_only_as_a_prefix_glued_to_digits() -> None:
    known = [("first_name", "Yésica"), ("last_name", "Carrasco")]
    texts = ["carras12 Carra7", "carr12 carras caras12 xcarras12 carrasx1", "smit7 yesic12"]
    assert _stems(known, texts) == [["carras", "Carra"], [], []]
    # a surname of five letters has no shorter prefix of five: Smith's smit7 is no one's
    assert _stems([("last_name", "Smith")], ["smit7 smith7"]) == [["smith"]]


def test_a_value_inside_a_longer_base64_token_is_scrubbed_and_seen(
    make: Callable[[], str],
) -> None:
    scrubbed_and_seen(make, PIECES)


def test_verify_names_the_kind_of_a_value_inside_a_longer_token(make: Callable[[], str]) -> None:
    """With the notes kept, verify reports each piece by column and kind (an e-mail,
    a name, a phone), never the value, and the checker sees every one."""
    src, _, plan = _masked(make, [{**values, "notes": note} for values, note, _ in PIECES])
    kept = _with(plan, "customers", "notes", ColumnPlan(transformer="keep", reason="test: kept"))
    tgt2 = make()
    run(kept, src, tgt2, KEY, RunOptions())
    report = verify(kept, src, tgt2, KEY)
    hits = {(h.kind, h.cells) for h in report.row_hits if h.column == "notes"}
    found = survivors(src, tgt2, "customers", SENSITIVE, TEXTS, REFS, plan=kept)
    assert (report.passed, hits, found) == (
        False,
        {("email", 6), ("name", 1), ("phone", 1)},
        {"customers.notes": len(PIECES)},
    )
    shown = report.to_json()
    assert MAIL not in shown and "Carrasco" not in shown and "612" not in shown


def test_the_checker_reads_a_value_inside_a_longer_token_on_its_own() -> None:
    """The independent checker (survivors.py) finds each piece with its own code."""
    mine = needles("email", MAIL) + needles("phone", "+34 612 345 678")
    mine += needles("name", "Yésica Carrasco") + needles("name", "Jorge Manuel Ganthriv")
    for _, note, _ in PIECES + INITIALS:
        assert holds(note, mine), note
    stems = stem_needles("Carrasco")
    assert [holds(t, stems) for t in ["carras12", "Carra7", "carr12", "carras x1"]] == [
        True,
        True,
        False,
        False,
    ]
    assert not holds("t=" + _b64(b"\x9f" + b"someone.else@example.com" + b"\xff"), mine)
