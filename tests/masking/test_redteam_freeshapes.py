"""Red-team round on free text, shapes left after test_redteam_text.py (each test
failed before its fix: text_scrub left the value, verify passed a plan that kept
it, and the independent checker did not see it either).

- A given name and a surname of two columns written as one word, inside a handle
  or a link: ``@yesicacarrasco88``, ``in/YesicaCarrasco-4711``,
  ``carrasco.yesica2019``.
- A JSON ``\\n`` (two characters, a JSON document kept in a TEXT column) right
  before a word: ``call back\\nCarrasco`` read as the word ``ncarrasco``.
- A name spelt out letter by letter: ``C a r r a s c o``, ``C-a-r-r-a-s-c-o``,
  ``C.A.R.R.A.S.C.O``.
- A name hyphenated across a line: ``Carras-`` newline ``co``, ``Carras- co``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stagewall.masking.transformers import _known
from tests.masking.integration.helpers import BACKENDS, url_maker
from tests.masking.test_leak_traps import scrubbed_and_seen


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


YC = {"first_name": "Yésica", "last_name": "Carrasco"}
# (the trap customer's own values, the note that repeats one, the repeated text)
JOINED: list[tuple[dict[str, str], str, str]] = [
    (YC, "ig: @yesicacarrasco88 (ask for a discount)", "yesicacarrasco"),
    (YC, "see linkedin.com/in/YesicaCarrasco-4711", "YesicaCarrasco"),
    (YC, "old blog http://blog.test/carrasco.yesica2019/", "carrasco.yesica"),
]
ESCAPED_BREAK: list[tuple[dict[str, str], str, str]] = [
    (YC, '{"note": "call back\\nCarrasco tomorrow"}', "Carrasco"),
    (YC, '{"lines": "Kundin:\\r\\nYésica\\tCarrasco"}', "Carrasco"),
    ({"street": "Hauptstraße 5"}, '{"addr": "neu:\\nHauptstraße 5, Berlin"}', "Hauptstraße 5"),
]
SPELT: list[tuple[dict[str, str], str, str]] = [
    (YC, "Name buchstabiert: C a r r a s c o", "C a r r a s c o"),
    (YC, "spelled C-a-r-r-a-s-c-o on the phone", "C-a-r-r-a-s-c-o"),
    (YC, "LAST NAME C.A.R.R.A.S.C.O", "C.A.R.R.A.S.C.O"),
    (YC, "Frau Carras-\nco rief an", "Carras-\nco"),
    (YC, "Frau Carras- co rief an", "Carras- co"),
]


def test_first_and_last_name_written_joined_are_scrubbed_and_seen(
    make: Callable[[], str],
) -> None:
    scrubbed_and_seen(make, JOINED)


def test_a_name_after_a_json_line_break_is_scrubbed_and_seen(make: Callable[[], str]) -> None:
    scrubbed_and_seen(make, ESCAPED_BREAK)


def test_a_spelt_out_or_hyphenated_name_is_scrubbed_and_seen(make: Callable[[], str]) -> None:
    scrubbed_and_seen(make, SPELT)


def _found(known: list[tuple[str, str]], text: str) -> list[str]:
    row = _known.joined_names([t for t, _ in known], [tuple(known)])
    spans = _known.find_known(text, _known.texts_hits(row, [text])[0])
    return [text[s:e] for s, e, _ in spans]


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("@yesicacarrasco88", ["yesicacarrasco"]),
        ("x\\nYesica\\nCarrasco!", ["Yesica\\nCarrasco"]),  # one span, escape inside
        ("Carras-\nco", ["Carras-\nco"]),
        # the text as written is still read: a Windows path's \n starts the name
        ("C:\\Users\\nyesica\\x", ["yesica"]),
        ("C:\\Users\\yesica\\x", ["yesica"]),
    ],
)
def test_spans_cover_what_writes_the_value(text: str, written: list[str]) -> None:
    assert _found([("first_name", "Yésica"), ("last_name", "Carrasco")], text) == written


def test_a_path_whose_backslash_n_is_part_of_the_name_is_still_found() -> None:
    """Both readings are searched: ``\\nadia`` in a path is the name Nadia."""
    assert _found([("first_name", "Nadia")], "C:\\Users\\nadia\\docs") == ["nadia"]


@pytest.mark.parametrize(
    ("known", "text"),
    [
        # short names are not spelt out nor joined inside words (the rule's bounds)
        ([("first_name", "Li"), ("last_name", "Ng")], "billing: l i n g, kling"),
        ([("first_name", "Al"), ("last_name", "Sim")], "a l s i m; also simple"),
        ([("first_name", "Ana"), ("last_name", "Ros")], "banana rosé, a n a"),
        # ordinary hyphens and escapes join nothing that is not there
        ([("last_name", "Carrasco")], "Carras-co; carras co; \\ncarras co"),
    ],
)
def test_short_names_and_ordinary_text_are_not_found(
    known: list[tuple[str, str]], text: str
) -> None:
    assert _found(known, text) == []


def test_the_patterns_follow_the_documented_bounds() -> None:
    pats = {p for p, _, _ in _known.known_patterns([("full_name", "Yésica Carrasco")])}
    assert {" c a r r a s c o ", " y e s i c a ", "yesicacarrasco", "carrascoyesica"} <= pats
    short = {
        p for p, _, _ in _known.known_patterns([("full_name", "Li Ng"), ("full_name", "Ana Ros")])
    }
    assert not any(len(p.split()) > 2 or (" " not in p and len(p) < 8) for p in short), short


def test_a_text_with_another_reading_keeps_both_apart() -> None:
    """The other reading comes after the text, behind a separator no phrase crosses."""
    assert _known.norm_texts(["a\\nb", "plain", "Carras- co"]) == [
        " a nb \x01 a b ",
        " plain ",
        " carras co \x01 carrasco ",
    ]
