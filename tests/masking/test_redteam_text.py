"""Red-team round on free text (each test failed before its fix).

- A name written URL-encoded in a link pasted into a note (``M%C3%BCller``, the
  UTF-8 bytes of ü; ``%D1%FA%F1ez`` in Latin-1, as older forms encode) or with JSON
  ``\\u`` escapes (``Lef\\u00e8vre``: JSON text written ASCII-only, Python's
  ``json.dumps`` default, kept in a TEXT column): each escape was read as a word
  break, so text_scrub left the name, verify passed the unedited plan's run and only
  the independent checker (URL-encoding) saw it.
- A street with its house number after a mark (``Hauptstraße Nr. 5``, ``Calle Mayor
  nº 7``) and a name of several words written as one (``Jeanluc`` for Jean-Luc,
  ``vanderberg`` in a profile link): verify passed a plan that kept them, and
  text_scrub left the first.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stagewall.masking.transformers._known import find_known, known_patterns
from tests.masking.integration.helpers import BACKENDS, url_maker
from tests.masking.test_leak_traps import scrubbed_and_seen


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


# (the trap customer's own values, the note that repeats one, the repeated text)
ESCAPED: list[tuple[dict[str, str], str, str]] = [
    (
        {"last_name": "Müller"},
        "profile https://crm.test/search?q=J%C3%BCrgen%20M%C3%BCller&page=2",
        "M%C3%BCller",
    ),
    ({"last_name": "Ñúñez"}, "old link https://shop.test/?n=%D1%FA%F1ez", "%F1ez"),
    ({"last_name": "Lefèvre"}, '{"gift": "Pour Mme Lef\\u00e8vre, bon anniversaire"}', "u00e8"),
    ({"last_name": "Ñúñez"}, '{"to": "Sr. \\u00d1\\u00fa\\u00f1ez"}', "u00f1ez"),
    ({"first_name": "Zoë"}, '["Zo\\u00eb", "call back"]', "Zo\\u00eb"),
]
WRITTEN: list[tuple[dict[str, str], str, str]] = [
    ({"street": "Hauptstraße 5"}, "wohnt jetzt Hauptstraße Nr. 5", "Nr. 5"),
    ({"street": "Calle Mayor 7"}, "vive en Calle Mayor nº 7, 2ºB", "Mayor nº 7"),
    ({"street": "Via Roma 12"}, "spedire a Via Roma n. 12", "Roma n. 12"),
    ({"first_name": "Jean-Luc"}, "Jeanluc rappelle demain", "Jeanluc"),
    ({"last_name": "van der Berg"}, "see linkedin.com/in/vanderberg", "vanderberg"),
]


def test_url_encoded_and_json_escaped_names_are_scrubbed_and_seen(
    make: Callable[[], str],
) -> None:
    scrubbed_and_seen(make, ESCAPED)


def test_numbered_streets_and_joined_names_are_scrubbed_and_seen(
    make: Callable[[], str],
) -> None:
    scrubbed_and_seen(make, WRITTEN)


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("q=Zo%C3%AB&x=1", "Zo%C3%AB"),  # the span ends after the escape, not inside it
        ("Mme Lef\\u00e8vre\\u00a0x", "Lef\\u00e8vre"),
        ("Zo&euml;!", "Zo&euml;"),
        ("a=Zo%EB%20", "Zo%EB"),
    ],
)
def test_an_escaped_value_is_cut_whole(text: str, written: str) -> None:
    pats = known_patterns([("first_name", "Zoë"), ("last_name", "Lefèvre")])
    assert [text[s:e] for s, e, _ in find_known(text, pats)] == [written]


def test_a_nul_or_control_escape_does_not_join_texts() -> None:
    """``%00`` decoded is a space, never the NUL that joins a batch's texts."""
    from stagewall.masking.transformers._known import norm, norm_many

    texts = ["a%00b Zo%C3%AB", "x%0Ay", "plain"]
    assert norm_many(texts) == [norm(t) for t in texts] == [" a b zoe ", " x y ", " plain "]
