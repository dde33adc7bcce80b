"""Another row's rare surname glued to digits, a login or a handle: ``ganthriv87``,
``87ganthriv``, ``GANTHRIV2024`` in an unrelated row's note or JSON (the first two
tests and the parallel one failed before the fix).

The rare-name-word search took a word to be a run of letters with no letter or
digit beside it, so these were no word: the copy kept them and verify passed while
the independent checker found them. Now a rare word is also found glued to digits
on either side or both, as long as the run of letters and digits holds no other
letter: a pseudonym e-mail's random tail (``4qdkqy4ganthriv``, ``ganthriv87x``)
stays no word, so verify does not turn noisy.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.rarewords import (
    copies_clean,
    surname_checker,
    surname_copies_clean_in_parallel,
    surname_fails_once_planted,
    surname_source,
)

# other rows' notes and documents naming B (Ana Ganthriv) glued to digits
GLUED = ["ganthriv87", "87ganthriv", "GANTHRIV2024", "gánthriv_1"]
NOTES = [f"account {g} asked for a refund" for g in GLUED]
DOCS: list[Any] = [{"theme": "dark", "ganthriv87": 1}, {"login": "87Ganthriv"}]
DOCS += [{"friends": ["4ganthrivs2", "Ana"]}, [{"kind": "list"}, {"who": "user GANTHRIV99"}]]


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def test_another_rows_rare_surname_glued_to_digits_is_seen(make: Callable[[], str]) -> None:
    """A clean copy verifies; B's surname then written glued to digits inside other
    rows' notes and documents of the target makes verify fail with each cell counted
    as the checker counts it. Before: verify passed and the checker found 4 cells per
    column."""
    surname_fails_once_planted(make, NOTES, DOCS)


def test_the_auto_plan_copies_glued_surnames_clean(make: Callable[[], str]) -> None:
    """The same notes and documents in the source, through the unedited auto plan: the
    scrubbers replace the glued surname (its digits kept); verify passes and the
    checker finds nothing. Before: the copy kept them (4 cells per column)."""
    src, tgt = make(), make()
    cols = surname_source(src, dict(enumerate(NOTES, 1)), dict(enumerate(DOCS, 1)))
    copies_clean(src, tgt, cols, surname_checker)


@pytest.mark.postgres
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_parallel_copies_replace_glued_surnames(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """``mask run --jobs 2`` with forked or spawned workers replaces them too."""
    surname_copies_clean_in_parallel(request, monkeypatch, method, NOTES, DOCS)


def test_glued_means_digits_only() -> None:
    """A rare word glued to digits counts, either side or both, in the plural, in a
    key; glued to other letters (a random tail's run, ``4qdkqy4ganthriv``; a longer
    word) it does not; the spans the copy replaces are the letters alone."""
    from stagewall.masking._namewords import SURNAME, cells_holding, spans

    words = {"ganthriv": SURNAME}
    hits: list[object] = [
        "ganthriv87",
        "87GANTHRIV",
        "4ganthrivs2",
        {"ganthriv87": 1},
        "x 7ganthriv",
    ]
    assert cells_holding(hits, words) == {SURNAME: len(hits)}
    misses = ["4qdkqy4ganthriv", "ganthriv87x", "x87ganthriv"]
    assert cells_holding(misses, words) == {}
    # one initial glued to it as well counts since 2026-12-07, through the rule for
    # other letters (test_redteam_gluedletters.py), not this one
    assert cells_holding(["ganthrivo7", "7aganthriv"], words) == {SURNAME: 2}
    assert spans(["id 87ganthriv99.", "4qdkqy4ganthriv"], words) == [[(5, 13)], []]
    # a column whose values the plan generates (fpe_alnum: random letters beside
    # digits) is searched for the word alone
    assert cells_holding(hits, words, glued=False) == {}
    assert cells_holding(["ganthriv"], words, glued=False) == {SURNAME: 1}


def test_an_initial_glued_to_a_pseudonym_surname_is_no_hit() -> None:
    """The username pseudonym is an initial, a dictionary surname and two digits
    (``thorn66``: t, horn, 66); a rare surname of that shape (Pagila's ``Thorn``) is
    searched as a word, not glued to digits, so the copy's own pseudonyms do not fail
    verify (Pagila's staff.username did, before this exception)."""
    from stagewall.masking._namewords import SURNAME, _common, cells_holding

    assert "horn" in _common()
    words = {"thorn": SURNAME}
    assert cells_holding(["thorn66", "66thorn"], words) == {}
    assert cells_holding(["Thorn called", "the Thorns"], words) == {SURNAME: 2}


def test_a_rare_word_inside_an_e_mail_leaves_the_whole_e_mail_replaced() -> None:
    """The detector finds an e-mail holding a rare surname, glued to digits or not
    (``ana.ganthriv41@…``, ``ana.ganthriv@…``): text_scrub replaces the whole e-mail,
    not the surname alone. Before (the plain word on main; the glued one with the
    first cut of this change, seen as test_redteam_leakjson's e-mail key): the word's
    span won over the e-mail's, ``ana.Smith41@mail.example.org`` was written, the
    rest of the address kept."""
    from stagewall.masking._namewords import SURNAME
    from stagewall.masking.transformers import build_transformer

    scrub = build_transformer("text_scrub", {}, key=KEY, salt="t")
    scrub.learn({"ganthriv": SURNAME})  # type: ignore[attr-defined]
    texts = ["mail ana.ganthriv41@mail.example.org", "mail ana.ganthriv@mail.example.org"]
    for out in scrub.transform(texts):
        assert isinstance(out, str) and out.startswith("mail ")
        assert "mail.example.org" not in out and "ana." not in out, out
