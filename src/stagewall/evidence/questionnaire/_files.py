"""Questionnaire files: write a built-in set, or fill a customer's XLSX/CSV in place.

A customer's file keeps its layout: the header row is found by a cell naming the
question column; answers go into its answer (or response) column and the
explanation into its comment column, and both are added to the right when missing.
Unmatched questions are flagged for a human, never guessed.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zipfile import BadZipFile, ZipFile, is_zipfile

from stagewall.errors import EvidenceError
from stagewall.evidence._model import Evaluation
from stagewall.evidence.questionnaire._answers import Answer, answer
from stagewall.evidence.questionnaire._sets import QUESTION_SETS, match_question

UNMATCHED = "NEEDS HUMAN ANSWER"
_HEADER_SCAN = 30
_QUESTION = re.compile(r"\bquestions?\b")


@dataclass(frozen=True)
class Filled:
    row: int
    question: str
    topic: str | None
    answer: Answer | None
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "question": self.question,
            "topic": self.topic,
            "reason": self.reason,
            **(self.answer.to_json() if self.answer else {"answer": None}),
        }


def explanation(a: Answer) -> str:
    return f"{a.text} [confidence: {a.confidence.value}; {a.provenance()}]"


def builtin_answers(name: str, ev: Evaluation) -> list[tuple[str, str, str, Answer]]:
    """(id, question, CAIQ ids, answer) for a built-in set."""
    if name not in QUESTION_SETS:
        raise EvidenceError(
            f"there is no built-in question set {name!r}",
            hint="use " + ", ".join(sorted(QUESTION_SETS)) + ", or a .xlsx/.csv file",
        )
    return [(q.id, q.text, " ".join(q.caiq), answer(q.topic, ev)) for q in QUESTION_SETS[name]]


def write_builtin(name: str, ev: Evaluation, out: Path) -> list[Filled]:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    rows = builtin_answers(name, ev)
    header = [
        "ID",
        "Question",
        "Answer",
        "Explanation",
        "Confidence",
        "Checks",
        "Evidence",
        "As of",
        "CAIQ v4",
    ]
    table = [
        [
            qid,
            text,
            a.value.value,
            a.text,
            a.confidence.value,
            " ".join(a.checks),
            " ".join(a.evidence),
            a.as_of,
            caiq,
        ]
        for qid, text, caiq, a in rows
    ]
    if out.suffix.lower() == ".csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(header)
        w.writerows(table)
        out.write_text(buf.getvalue(), encoding="utf-8")
    else:
        wb = Workbook()
        ws = wb.active
        ws.title = name
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for r in table:
            ws.append(r)
        for col, width in zip("ABCDEFGHI", (10, 50, 9, 90, 11, 40, 40, 21, 18), strict=True):
            ws.column_dimensions[col].width = width
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        wb.save(out)
    return [Filled(i + 2, r[1], r[3].topic, r[3], "built-in") for i, r in enumerate(rows)]


@dataclass(frozen=True)
class _Layout:
    header_row: int  # 1-based
    question: int  # 1-based columns
    answer: int
    comment: int


def _find_layout(rows: list[list[Any]], source: str) -> _Layout:
    for r, row in enumerate(rows[:_HEADER_SCAN], 1):
        cells = [str(v).strip().lower() if v is not None else "" for v in row]
        q = next((i for i, c in enumerate(cells, 1) if _QUESTION.search(c) and len(c) < 40), None)
        if q is None:
            continue
        used = len(cells)
        a = next(
            (i for i, c in enumerate(cells, 1) if i != q and ("answer" in c or "response" in c)),
            None,
        )
        cm = next(
            (
                i
                for i, c in enumerate(cells, 1)
                if i not in (q, a)
                and any(w in c for w in ("comment", "explanation", "notes", "detail", "remark"))
            ),
            None,
        )
        if a is None:
            a = used + 1
            used += 1
        if cm is None:
            cm = used + 1
        return _Layout(r, q, a, cm)
    raise EvidenceError(
        f"{source}: no header cell names a question column in the first {_HEADER_SCAN} rows",
        hint="the questionnaire needs a header row with a 'Question' column",
    )


def _fill(
    rows: list[list[Any]], layout: _Layout, ev: Evaluation, put: Callable[[int, int, str], None]
) -> list[Filled]:
    out: list[Filled] = []
    for r in range(layout.header_row + 1, len(rows) + 1):
        row = rows[r - 1]
        text = row[layout.question - 1] if len(row) >= layout.question else None
        if text is None or not str(text).strip():
            continue
        question = str(text).strip()
        m = match_question(question)
        if m.topic is None:
            put(r, layout.comment, f"{UNMATCHED}: {m.reason}")
            out.append(Filled(r, question, None, None, m.reason))
            continue
        a = answer(m.topic, ev)
        put(r, layout.answer, a.value.value)
        put(r, layout.comment, explanation(a))
        out.append(Filled(r, question, m.topic, a, m.reason))
    return out


# A customer's questionnaire is untrusted input: a few kilobytes can declare a sheet of
# 1048576 x 16384 cells (a stray cell at XFD1048576) or a CSV row of a million commas
# that every other row is padded to. Real ones have hundreds of questions.
MAX_QUESTIONNAIRE_BYTES = 50 << 20  # the file, and an .xlsx's unpacked parts
MAX_ROWS = 50_000
MAX_COLUMNS = 256


def _check_extent(rows: int, columns: int, where: str) -> None:
    if rows > MAX_ROWS or columns > MAX_COLUMNS:
        raise EvidenceError(
            f"{where} spans {rows} rows and {columns} columns; a questionnaire has at most "
            f"{MAX_ROWS} rows and {MAX_COLUMNS} columns",
            hint="delete the stray cells far below or right of the questions (Ctrl+End "
            "shows where the sheet ends) and save it again",
        )


def _check_size(src: Path) -> None:
    size = src.stat().st_size
    if src.suffix.lower() == ".xlsx" and is_zipfile(src):
        with ZipFile(src) as z:
            size = max(size, sum(i.file_size for i in z.infolist()))
    if size > MAX_QUESTIONNAIRE_BYTES:
        raise EvidenceError(
            f"questionnaire {src} holds {size} bytes, more than the "
            f"{MAX_QUESTIONNAIRE_BYTES} a questionnaire may",
            hint="remove what is not questions (images, other sheets) and save it again",
        )


def fill_file(source: str | os.PathLike[str], ev: Evaluation, out: Path) -> list[Filled]:
    """Fill a customer's questionnaire (.xlsx or .csv) into ``out`` (same format as ``out``)."""
    src = Path(source)
    if not src.is_file():
        raise EvidenceError(f"questionnaire {src} does not exist")
    try:
        _check_size(src)
    except (OSError, BadZipFile) as exc:
        raise EvidenceError(f"questionnaire {src} cannot be read: {exc}") from None
    suffix = src.suffix.lower()
    if suffix == ".xlsx":
        return _fill_xlsx(src, ev, out)
    if suffix == ".csv":
        return _fill_csv(src, ev, out)
    raise EvidenceError(
        f"questionnaire {src} is neither .xlsx nor .csv",
        hint="save the questionnaire as .xlsx or .csv, or name a built-in set",
    )


def _fill_xlsx(src: Path, ev: Evaluation, out: Path) -> list[Filled]:
    from openpyxl import load_workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils.exceptions import InvalidFileException

    if out.suffix.lower() != ".xlsx":
        raise EvidenceError(f"an .xlsx questionnaire is written back as .xlsx, not {out.name}")
    try:
        wb = load_workbook(src)
    except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError) as exc:
        raise EvidenceError(f"questionnaire {src} cannot be read as XLSX: {exc}") from None
    filled: list[Filled] = []
    found = False
    for ws in wb.worksheets:
        _check_extent(ws.max_row, ws.max_column, f"{src.name} sheet {ws.title}")
        rows = [list(r) for r in ws.iter_rows(values_only=True)]
        try:
            layout = _find_layout(rows, f"{src.name} sheet {ws.title}")
        except EvidenceError:
            continue
        found = True
        for col, title in ((layout.answer, "Answer"), (layout.comment, "Explanation")):
            cell = ws.cell(row=layout.header_row, column=col)
            if cell.value is None:
                cell.value = title
                cell.font = Font(bold=True)

        def put(r: int, c: int, v: str, ws: Any = ws) -> None:
            cell = ws.cell(row=r, column=c, value=v)
            cell.alignment = Alignment(wrap_text=True, vertical="top")

        filled += _fill(rows, layout, ev, put)
    if not found:
        raise EvidenceError(
            f"{src.name}: no sheet has a header row with a 'Question' column",
            hint="the questionnaire needs a header row with a 'Question' column",
        )
    wb.save(out)
    return filled


def _fill_csv(src: Path, ev: Evaluation, out: Path) -> list[Filled]:
    try:
        text = src.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise EvidenceError(f"questionnaire {src} cannot be read as UTF-8 CSV: {exc}") from None
    try:
        rows: list[list[Any]] = [list(r) for r in csv.reader(io.StringIO(text))]
    except csv.Error as exc:  # a field over csv's limit, a NUL byte
        raise EvidenceError(f"questionnaire {src} is not a readable CSV: {exc}") from None
    _check_extent(len(rows), max((len(r) for r in rows), default=0), src.name)
    layout = _find_layout(rows, src.name)
    width = max([len(r) for r in rows] + [layout.answer, layout.comment])
    grid = [r + [""] * (width - len(r)) for r in rows]
    for col, title in ((layout.answer, "Answer"), (layout.comment, "Explanation")):
        if not grid[layout.header_row - 1][col - 1]:
            grid[layout.header_row - 1][col - 1] = title

    def put(r: int, c: int, v: str) -> None:
        grid[r - 1][c - 1] = v

    filled = _fill(rows, layout, ev, put)
    if out.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        for r in grid:
            wb.active.append(r)
        wb.save(out)
    else:
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerows(grid)
        out.write_text(buf.getvalue(), encoding="utf-8")
    return filled


__all__ = ["UNMATCHED", "Filled", "builtin_answers", "explanation", "fill_file", "write_builtin"]
