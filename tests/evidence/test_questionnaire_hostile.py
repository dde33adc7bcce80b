"""Red team: a customer's questionnaire is untrusted input.

A 5 KB .xlsx with one stray cell at XFD1048576 made `answer` walk 17 billion cells (over
90 s and 2.4 GB, still going); a 1 MB CSV with one row of a million commas padded every
other row to that width (MemoryError); a CSV field over the csv module's limit traced
back (_csv.Error). Each is now refused with a message saying what to fix.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from stagewall.errors import EvidenceError
from stagewall.evidence import evaluate
from stagewall.evidence.questionnaire import _files as qfiles
from stagewall.evidence.questionnaire import answer_questionnaire
from tests.evidence.history import History

HEADER = "Question,Answer,Comment\nAre access reviews performed at least quarterly?,,\n"


def test_hostile_questionnaires_are_refused(
    history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ev = evaluate(history.inputs())

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws["A1"], ws["B1"] = "Question", "Answer"
    ws["A2"] = "Are access reviews performed at least quarterly?"
    ws["XFD1048576"] = "stray"
    wide = tmp_path / "wide.xlsx"
    wb.save(wide)
    assert wide.stat().st_size < 10_000
    with pytest.raises(EvidenceError, match="spans 1048576 rows and 16384 columns; a quest"):
        answer_questionnaire(str(wide), ev, tmp_path / "o.xlsx")

    csv_wide = tmp_path / "wide.csv"
    csv_wide.write_text(HEADER + "," * 100_000 + "\n" + "x\n" * 60_000)
    with pytest.raises(EvidenceError, match="spans 60003 rows and 100001 columns"):
        answer_questionnaire(str(csv_wide), ev, tmp_path / "o.csv")

    field = tmp_path / "field.csv"
    field.write_text(HEADER + '"' + "a" * 200_000 + '",,\n')
    with pytest.raises(EvidenceError, match="is not a readable CSV: field larger than"):
        answer_questionnaire(str(field), ev, tmp_path / "o.csv")

    # (raising=False: on code without the bound this still runs, and fails)
    monkeypatch.setattr(qfiles, "MAX_QUESTIONNAIRE_BYTES", 1000, raising=False)
    big = tmp_path / "big.csv"
    big.write_text(HEADER + "Q?,,\n" * 500)
    with pytest.raises(EvidenceError, match=r"holds \d+ bytes, more than the 1000"):
        answer_questionnaire(str(big), ev, tmp_path / "o.csv")


def test_a_real_sized_questionnaire_is_answered(history: History, tmp_path: Path) -> None:
    src = tmp_path / "q.csv"
    src.write_text(HEADER + "Do you encrypt data at rest?,,\n" * 300)
    filled = answer_questionnaire(str(src), evaluate(history.inputs()), tmp_path / "o.csv")
    assert len(filled) == 301
