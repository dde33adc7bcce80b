"""Residual gaps left open by the last masking round (each test failed before its fix).

- A JSON leaf holding a source name written with look-alike letters (Cyrillic
  U+0430 for Latin ``a``) passed verify: only top-level text was read as Latin.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.survivors import survivors_anywhere
from tests.masking.test_leak_traps import _execute
from tests.masking.test_redteam_maskresid import _people_and_notes


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


# ---- look-alike letters inside JSON leaves --------------------------------------------

LOOK_ALIKE_LEAVES = [
    pytest.param({"who": "G\u0430nthriv"}, id="cyrillic-a-surname-leaf"),
    pytest.param({"note": ["ok", {"by": "Gw\u0435ndolyn Qu\u0456spe"}]}, id="nested-leaf"),
    pytest.param(["N\u03bfrdm\u0430nn", 3], id="array-leaf"),
]


@pytest.mark.parametrize("doc", LOOK_ALIKE_LEAVES)
def test_a_name_in_look_alike_letters_inside_a_json_leaf_fails_verify(
    make: Callable[[], str], doc: object
) -> None:
    """A clean run verifies; a person's name written with look-alike letters in a
    leaf of a JSON document (it passed: leaves were not read as Latin) is a hit."""
    src, plan = _people_and_notes(make)
    tgt = make()
    run(plan, src, tgt, KEY, RunOptions())
    assert verify(plan, src, tgt, KEY).passed
    text = json.dumps(doc, ensure_ascii=False)
    _execute(tgt, [("UPDATE notes SET body = ? WHERE id = 1", [(text,)])])
    report = verify(plan, src, tgt, KEY)
    assert not report.passed
    assert {(h.table.rsplit(".", 1)[-1], h.column) for h in report.hits} == {("notes", "body")}
    # the independent checker (which reads look-alike letters as Latin) agrees
    names = {"first_name": "name", "last_name": "name"}
    found = survivors_anywhere(src, tgt, "people", names, {"notes": ["body", "tag"]})
    assert found == {"notes.body": 1}, found
