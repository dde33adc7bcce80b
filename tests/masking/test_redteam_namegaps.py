"""Red-team round on name shapes docs/masking.md listed as unseen (each test failed
before its fix):

- a surname in the plural or possessive without an apostrophe (``the Ganthrivs``,
  ``Carrascos'``, ``the Sanchezes``): the word was not the surname's;
- an HTML tag inside a word (``Gan<b>thriv</b>``, ``Yé<i>sica</i>``): a tag read
  as a space cut the word in two;
- a login of the surname then the initial (``carrascoy`` for Yésica Carrasco) in a
  scrubbed column: text_scrub left it, and verify looked for it only in a kept
  column (a name inside a login, ``_rowcheck.embedded``).

And the noise: only the row's own last name of four letters or more is searched in
the plural, so a given name (``Mark``, ``Max``) or a short surname gives no plural
(a ``last_name`` column's one word does since test_redteam_shapegaps.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stagewall.masking.transformers._known import (
    checked_patterns,
    find_known,
    known_patterns,
    norm_texts,
)
from tests.masking.integration.helpers import BACKENDS, url_maker
from tests.masking.test_leak_traps import scrubbed_and_seen, seen_when_written_after


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


GANTHRIV = {"first_name": "Jorge", "last_name": "Ganthriv"}
CARRASCO = {"first_name": "Yésica", "last_name": "Carrasco"}
SANCHEZ = {"first_name": "Ana", "last_name": "Sánchez"}

# (the trap customer's own values, the note that repeats one, the repeated text)
PLURALS: list[tuple[dict[str, str], str, str]] = [
    (GANTHRIV, "dinner with the Ganthrivs on Friday", "ganthrivs"),
    (CARRASCO, "left the parcel at the Carrascos' door", "carrascos'"),
    (CARRASCO, "Carrascos dog barks at the courier", "carrascos dog"),
    (SANCHEZ, "the Sanchezes called twice", "sanchezes"),
]
TAGS: list[tuple[dict[str, str], str, str]] = [
    (GANTHRIV, "signed: Gan<b>thriv</b>, by hand", "gan<b>thriv"),
    (CARRASCO, "para Yé<i>sica</i>, urgente", "yé<i>sica"),
    (CARRASCO, "<p>Carr<span class='x'>asco</span> paid</p>", "carr<span"),
]
LOGINS: list[tuple[dict[str, str], str, str]] = [
    (CARRASCO, "login carrascoy reset", "carrascoy"),
    (CARRASCO, "user carrascoy87 locked out", "carrascoy87"),
    (GANTHRIV, "acct GanthrivJ (old)", "ganthrivj"),
]


def test_a_surname_in_the_plural_is_scrubbed_and_seen(make: Callable[[], str]) -> None:
    scrubbed_and_seen(make, PLURALS)


def test_an_html_tag_inside_a_name_is_scrubbed_and_seen(make: Callable[[], str]) -> None:
    scrubbed_and_seen(make, TAGS)


def test_a_login_of_the_surname_and_initial_is_scrubbed_and_seen(
    make: Callable[[], str],
) -> None:
    scrubbed_and_seen(make, LOGINS)


def test_these_shapes_are_seen_in_a_scrubbed_column(make: Callable[[], str]) -> None:
    """Written into the scrubbed notes after the run (text_scrub's column, not a kept
    one): verify fails on each, and the checker counts each."""
    cases = PLURALS + TAGS + LOGINS
    assert seen_when_written_after(make, cases) == {"name": len(cases)}


# ---- noise: ordinary words stay ------------------------------------------------------


@pytest.mark.parametrize(
    ("known", "absent"),
    [
        # a given name: no plural (a surname column's one word has one since
        # test_redteam_shapegaps.py, the row's own noise documented there)
        ((("first_name", "Mark"),), [" marks "]),
        ((("first_name", "Price"),), [" prices "]),
        ((("full_name", "Price"),), [" prices "]),
        # a last name shorter than four letters
        ((("full_name", "Anna Max"),), [" maxes ", " maxs ", " maxa "]),
        ((("full_name", "Li Roe"),), [" roes ", " roel "]),
        # a particle is no surname
        ((("full_name", "Maarten van"),), [" vans "]),
    ],
)
def test_no_plural_of_a_given_name_or_a_short_name(
    known: tuple[tuple[str, str], ...], absent: list[str]
) -> None:
    pats = {p for t, v in known for p, _ in checked_patterns(t, v)}
    assert not pats & set(absent), pats


def test_the_plural_is_of_the_rows_own_surname_only() -> None:
    pats = known_patterns([("full_name", "Sam Young")])
    text = "Youngs Pharmacy sells prices lists; the Youngs came."
    assert [text[s:e] for s, e, _ in find_known(text, pats)] == ["Youngs", "Youngs"]
    other = known_patterns([("full_name", "Anna Kowalska")])
    assert find_known("prices went up at Youngs", other) == []


def test_a_tag_between_words_still_reads_as_a_space() -> None:
    """The tag-as-nothing reading is one more: ``Calle Mayor <b>7</b>`` is still read
    with the tag a space, and a text without a tag inside a word gets no third one."""
    (one,) = norm_texts(["Calle Mayor <b>7</b>"])
    assert one.count("\x01") == 1 and " calle mayor 7 " in one
    (two,) = norm_texts(["Gan<b>thriv</b> 7"])
    assert two.count("\x01") == 2 and " ganthriv 7 " in two
