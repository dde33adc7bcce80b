"""Another row's rare surname inside a longer text or JSON key of an unrelated row
(the first two tests failed before the fix).

Customer B is ``Ana Ganthriv``: a surname no name list knows. Other customers'
notes and JSON documents say ``Met the Ganthriv family``, ``Dinner with the
Ganthrivs and Ana``, ``{"Ganthriv family": 1}``. The whole-target scan's units were
whole values, leaves and keys, and what the detector finds (it does not know the
word); the row-by-row search reads a row's own values (these rows are not B's); and
text_scrub and json_mask replace a row's own values and what the detector finds.
So the copy kept the surname, and verify passed while the independent checker
(``survivors_anywhere`` on B's row) found it in every such cell. Now the source's
rare name words are searched as words in every text of the target, and the copy
learns them first and replaces them in any row (``_namewords``). A surname that
is a common word (``House``), and notes without any name, stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.planner import build_plan
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.rarewords import (
    DOCS,
    NOTES,
    ORDINARY_NOTE,
    N,
    copies_clean,
    surname_checker,
    surname_copies_clean_in_parallel,
    surname_fails_once_planted,
    surname_source,
)
from tests.masking.survivors import _rows as rows_of

# (customers B and C, NOTES and DOCS are rarewords.py's: the glued-word and full-name
# tests use them too)


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def test_another_rows_rare_surname_inside_text_is_seen(make: Callable[[], str]) -> None:
    """A clean copy verifies (C's surname ``House`` in every note is a common word);
    B's surname then written inside other rows' notes and documents of the target
    makes verify fail with each cell counted as the checker counts it, as a surname,
    never shown. Before: verify passed (no hit) and the checker found 4 cells per
    column."""
    surname_fails_once_planted(make, NOTES, DOCS)


def test_the_auto_plan_runs_clean_with_such_a_text(make: Callable[[], str]) -> None:
    """The same notes and documents in the source, through the unedited auto plan:
    the copy learns the source's rare name words first, so text_scrub and json_mask
    replace another row's surname in any row; verify passes and the checker finds
    nothing; a note without any name is copied as it was. Before: the copy kept the
    surname (4 cells per column) and verify passed."""
    src, tgt = make(), make()
    notes = {k + 1: t for k, t in enumerate(NOTES)}
    cols = surname_source(src, notes, {k + 1: d for k, d in enumerate(DOCS)})
    copies_clean(src, tgt, cols, surname_checker)
    kept = rows_of(tgt, f"SELECT notes FROM customers WHERE id > {len(NOTES)} AND id <= {N}")
    assert {r[0] for r in kept} == {ORDINARY_NOTE}


def test_which_name_words_are_rare() -> None:
    """Rare: at least 4 letters, in no name list, no common word, no pseudonym, no
    word the source makes public (a full name's: test_redteam_fullnames.py). A rare
    surname's plural the source makes public is no hit."""
    from stagewall.masking._namewords import GIVEN, NONE, SURNAME, rare, source_words
    from stagewall.masking.transformers import _dicts

    words: dict[str, str] = {}
    source_words("last_name", ["Ganthriv", "House", "Smith", "Ng", "Brönnvik", "Gable"], words)
    source_words("first_name", ["Quillona", "Anna", "Zorvath"], words)
    pseudonym = str(_dicts.last_names()[0])
    source_words("last_name", [pseudonym, "Tesk-Ellidrun"], words)
    got = rare(words, public=["ellidrun", "brand", "gables"])
    assert got == {
        "ganthriv": SURNAME,
        "bronnvik": SURNAME,  # folded: accents off
        "quillona": GIVEN,
        "zorvath": GIVEN,
        "tesk": SURNAME,
        "gable": SURNAME,
        "gables": NONE,
    }


def test_cells_holding_counts_words_not_substrings() -> None:
    """A cell counts when it holds the word (any case, accents, plural, inside JSON
    keys, escaped in JSON text, as UTF-8 bytes, glued to digits, or to up to three
    other letters: ``ganthrivson`` since 2026-12-07, test_redteam_gluedletters.py); a
    run of letters and digits holding other letters too does not count; a cell
    without any name stays clean."""
    from stagewall.masking._namewords import GIVEN, SURNAME, cells_holding

    words = {"ganthriv": SURNAME, "quillona": GIVEN}
    cells: list[object] = [
        "Met the Ganthriv family",
        "the GANTHRIVS came",
        "Gánthriv's",
        {"Ganthriv family": 1},
        [{"x": "Quillona and Ganthriv"}],
        "ganthrivson is a relative",  # (glued to letters: test_redteam_gluedletters.py)
        "ganthriv87 is a login",  # (glued to digits: test_redteam_gluednames.py)
        "4qdkqy4ganthriv@mail.example.org",  # (a random tail's run: no word)
        "Deliver before noon",
        None,
        12345,
        '{"k": "G\\u00e1nthriv"}',
        b"Ganthriv, as bytes",
    ]
    assert cells_holding(cells, words) == {SURNAME: 9, GIVEN: 1}
    assert cells_holding(["Deliver before noon", "Paid by card."], words) == {}


@pytest.mark.postgres
@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_parallel_copies_learn_the_names(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, method: str
) -> None:
    """``mask run --jobs 2`` (PostgreSQL, worker processes forked, or spawned: those
    build their transformers again and are taught the words too) replaces another
    row's rare surname as one process does."""
    surname_copies_clean_in_parallel(request, monkeypatch, method, NOTES, DOCS)


def test_a_stop_during_the_name_pre_pass_stops_before_the_target_is_touched(
    make: Callable[[], str],
) -> None:
    """The copy's pre-pass reads every source name column (a large source: minutes)
    before anything is written; the run's stop check is asked after each batch it
    reads, so a stop there leaves the target untouched. Before: the check was first
    asked after the whole pre-pass, and the third call came mid-copy (a partial copy
    written, then withdrawn)."""
    from stagewall.errors import MaskingRunStopped
    from stagewall.masking.db import parse_url
    from stagewall.masking.engine import _probe_target
    from tests.masking.test_engine_stop import StopAt

    src, tgt = make(), make()
    surname_source(src, dict(enumerate(NOTES, 1)), {})
    plan = build_plan(src).plan
    stop = StopAt(3)
    with pytest.raises(MaskingRunStopped) as err:
        run(plan, src, tgt, KEY, RunOptions(batch_rows=5, stop=stop))
    assert "it had not written to the target" in err.value.message, err.value.message
    assert err.value.run_id is None and stop.calls == 3
    assert _probe_target(parse_url(tgt, "target")) == []  # (SQLite: no file made)
