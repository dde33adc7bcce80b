"""Another row's rare surname glued to other letters: initials, a tag, a camelCase
key (``jmganthriv``, ``#ganthrivwedding``, ``GanthrivFamily``,
``{"ganthrivAccount": 1}``) in an unrelated row's note or JSON (the first two tests
and the parallel one failed before the fix).

The rare-name-word search took a word to be a run of letters with no letter beside
it (glued to digits counted: ``test_redteam_gluednames.py``), so these were no
word: the copy kept them and verify passed while the independent checker found them.
Now a rare word of six letters or more counts inside a longer run of letters when
the letters left beside it are at most three (initials), a known word or name, or
parted from it by a case change; a longer dictionary word holding one, a run
whose rest is unknown, and shorter words stay as they are, so verify stays quiet.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.masking.integration.helpers import BACKENDS, url_maker
from tests.masking.rarewords import (
    N,
    copies_clean,
    surname_checker,
    surname_copies_clean_in_parallel,
    surname_fails_once_planted,
    surname_source,
)
from tests.masking.survivors import _rows as rows_of

# other rows' notes and documents naming B (Ana Ganthriv) glued to other letters
NOTES = [
    "jmganthriv asked for a refund",
    "photos tagged #ganthrivwedding",
    "GanthrivFamily trip booked",
    "login anaganthriv locked",
]
DOCS: list[Any] = [{"theme": "dark", "ganthrivAccount": 1}, {"login": "jmGanthriv"}]
DOCS += [{"tags": ["#ganthrivwedding", "Ana"]}, [{"kind": "list"}, {"GanthrivFamily": "yes"}]]


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def test_another_rows_rare_surname_glued_to_letters_is_seen(make: Callable[[], str]) -> None:
    """A clean copy verifies; B's surname then written glued to other letters inside
    other rows' notes and documents of the target makes verify fail with each cell
    counted as the checker counts it, as a surname, never shown. Before: verify
    passed and the checker found 4 cells per column."""
    surname_fails_once_planted(make, NOTES, DOCS)


def test_the_auto_plan_copies_surnames_glued_to_letters_clean(make: Callable[[], str]) -> None:
    """The same notes and documents in the source, through the unedited auto plan: the
    scrubbers replace the surname's letters and keep the rest (the initials, the tag's
    ``#`` and ``wedding``, the key's ``Account``); verify passes and the checker finds
    nothing. Before: the copy kept them (4 cells per column)."""
    src, tgt = make(), make()
    cols = surname_source(src, dict(enumerate(NOTES, 1)), dict(enumerate(DOCS, 1)))
    copies_clean(src, tgt, cols, surname_checker)
    notes = [r[0] for r in rows_of(tgt, "SELECT notes FROM customers WHERE id <= 4 ORDER BY id")]
    assert notes[0].startswith("jm") and notes[0].endswith(" asked for a refund"), notes
    assert notes[1].startswith("photos tagged #") and notes[1].endswith("wedding"), notes
    assert notes[2].endswith("Family trip booked") and notes[3].startswith("login ana"), notes


@pytest.mark.postgres
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_parallel_copies_replace_surnames_glued_to_letters(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """``mask run --jobs 2`` with forked or spawned workers replaces them too."""
    surname_copies_clean_in_parallel(request, monkeypatch, method, NOTES, DOCS)


def test_which_runs_of_letters_hold_a_rare_word() -> None:
    """Inside a longer run of letters a rare word of six letters or more counts when
    what is left beside it is at most three letters, a known word or name, or parted
    by a case change (a camelCase key); not when the rest is an unknown run, the run
    is a dictionary word itself, the word is shorter than six letters, or the column's
    values are generated. The copy's spans are the word's letters alone."""
    from stagewall.masking._namewords import GIVEN, SURNAME, cells_holding, spans

    words = {"ganthriv": SURNAME, "quillona": GIVEN, "zorv": SURNAME, "erstan": SURNAME}
    hits: list[object] = [
        "jmganthriv",
        "ganthrivjm",
        "anaganthriv",
        "GanthrivFamily",
        "#ganthrivwedding",
        "ganthrivmaria",
        "GanthrivXq",
        {"ganthrivAccount": 1},
        "x7jmganthriv",
    ]
    assert cells_holding(hits, words) == {SURNAME: len(hits)}
    assert cells_holding(["quillonasmith"], words) == {GIVEN: 1}
    misses: list[object] = [
        "ganthrivxyzzy",  # (an unknown rest of five letters, no case change)
        "xyzzyganthriv",
        "understanding",  # (a dictionary word holding ``erstan``)
        "zorvjm",  # (four letters: too short to be sought glued to letters)
        "4qdkqyxganthrivqqqq",
    ]
    assert cells_holding(misses, words) == {}
    assert cells_holding(hits, words, glued=False) == {}  # (a generated column)
    texts = ["met jmGanthriv, GanthrivFamily", "#ganthrivwedding", "xyzzyganthriv"]
    assert spans(texts, words) == [[(6, 14), (16, 24)], [(1, 9)], []]


def test_an_initial_and_a_dictionary_word_is_not_sought_glued_to_letters() -> None:
    """A rare word that is one letter beside a word of no one in particular (the
    ``username`` pseudonym's shape, ``t`` ``horn``) is not sought inside longer runs:
    the copy writes such runs itself (Pagila's ``thorn66``)."""
    from stagewall.masking._namewords import SURNAME, _common, cells_holding

    words = {"twilliams": SURNAME}
    assert "williams" in _common()
    assert cells_holding(["jmtwilliams", "twilliamsjm"], words) == {}


def test_rows_own_and_other_text_unchanged_without_a_glued_name(make: Callable[[], str]) -> None:
    """Notes holding no rare word (C's common surname ``House`` glued: ``households``)
    are copied as they were."""
    src, tgt = make(), make()
    note = "the households of jmhouse asked"
    cols = surname_source(src, {1: note}, {})
    copies_clean(src, tgt, cols, surname_checker)
    assert rows_of(tgt, "SELECT notes FROM customers WHERE id = 1") == [(note,)]
    assert len(rows_of(tgt, f"SELECT id FROM customers WHERE id <= {N}")) == N
