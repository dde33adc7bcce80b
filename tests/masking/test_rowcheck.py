"""verify is sound for the row: the trap database on SQLite, PostgreSQL and MariaDB.

auto plan → run → verify passes and the independent checker (survivors.py, no
code shared with verify) finds nothing; weakened plans and a text_scrub that is
not handed the row's values leave survivors, and verify must then fail and name
the column and kind, agreeing with the checker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from stagewall.keys import MaskingKey
from stagewall.masking import engine
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan
from stagewall.masking.planner import build_plan
from stagewall.masking.transformers import build_transformer
from stagewall.masking.verify import VerifyOutcome, VerifyReport, verify
from tests.masking import trapdb
from tests.masking.integration.helpers import BACKENDS, url_maker
from tests.masking.survivors import survivors

KEY = MaskingKey("rowcheck-key", b"r" * 32)


def _setup(request: pytest.FixtureRequest, tmp_path: Path, backend: str) -> tuple[str, str, Plan]:
    make = url_maker(request, tmp_path, backend)
    src, tgt = make(), make()
    trapdb.build(src)
    result = build_plan(src)
    return src, tgt, result.plan


def _survivors(src: str, tgt: str, plan: Plan) -> dict[str, int]:
    return survivors(src, tgt, "customers", trapdb.SENSITIVE, trapdb.TEXTS, trapdb.REFS, plan=plan)


def _short(table: str) -> str:
    return table.rsplit(".", 1)[-1]


def _by_column(report: VerifyReport) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for h in report.row_hits:
        out.setdefault(f"{_short(h.table)}.{h.column}", []).append(h.cells)
    return out


def _agrees(report: VerifyReport, found: dict[str, int]) -> None:
    """verify names the same columns as the checker; per column, its per-kind cell
    counts bracket the checker's count of cells with any survivor."""
    mine = _by_column(report)
    text_cols = {f"{t}.{c}" for t, cols in trapdb.TEXTS.items() for c in cols}
    assert {c for c in mine if c in text_cols} == set(found), (mine, found)
    for col, n in found.items():
        assert max(mine[col]) <= n <= sum(mine[col]), (col, mine[col], n)


def _with(plan: Plan, table: str, column: str, transformer: str) -> Plan:
    tables = dict(plan.tables)
    q = next(t for t in tables if _short(t) == table)
    cols = dict(tables[q].columns)
    cols[column] = ColumnPlan(transformer=transformer, reason="weakened for the test")
    tables[q] = TablePlan(columns=cols)
    return Plan(schemas=plan.schemas, tables=tables)


@pytest.mark.parametrize("backend", BACKENDS)
def test_auto_plan_runs_and_verifies_clean(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    src, tgt, plan = _setup(request, tmp_path, backend)
    for t, cols in trapdb.TEXTS.items():
        for c in cols:
            cp = next(p for q, p in plan.tables.items() if _short(q) == t).columns[c]
            assert cp.transformer != "keep", f"{t}.{c} planned as keep"
    engine.run(plan, src, tgt, KEY)
    report = verify(plan, src, tgt, KEY)
    assert report.outcome is VerifyOutcome.PASSED, report.to_json()
    assert report.row_hits == ()
    assert _survivors(src, tgt, plan) == {}


@pytest.mark.parametrize("backend", BACKENDS)
def test_weakened_plan_keeping_notes_fails_verify(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    src, tgt, plan = _setup(request, tmp_path, backend)
    weak = _with(plan, "customers", "notes", "keep")
    engine.run(weak, src, tgt, KEY)
    found = _survivors(src, tgt, weak)
    assert found.get("customers.notes", 0) > 10
    report = verify(weak, src, tgt, KEY)
    assert report.outcome is VerifyOutcome.FAILED
    kinds = {h.kind for h in report.row_hits if h.column == "notes"}
    assert {"name", "street", "phone"} <= kinds, report.to_json()["row_hits"]
    _agrees(report, found)
    text = str(report.to_json())
    assert "Carrasco" not in text and "Calle Mayor" not in text  # counts, never values


class _Blind:
    """text_scrub as it was: it is not handed the row's own values."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name = inner.name

    def transform(self, values: Any) -> list[Any]:
        out: list[Any] = self.inner.transform(values)
        return out


def _blind_factory(name: str, params: Any, *, key: MaskingKey, salt: str = "") -> Any:
    t = build_transformer(name, params, key=key, salt=salt)
    return _Blind(t) if name == "text_scrub" else t


@pytest.mark.parametrize("backend", BACKENDS)
def test_scrub_without_row_values_leaves_survivors_that_verify_reports(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    """The issue's miss: notes kept the row's own names and streets and verify passed.
    A text_scrub that only detects patterns and dictionary names leaves surnames
    such as "Ganthriv" and "Thorvaldsen"; verify must see them."""
    src, tgt, plan = _setup(request, tmp_path, backend)
    engine.run(plan, src, tgt, KEY, engine.RunOptions(transformer_factory=_blind_factory))
    found = _survivors(src, tgt, plan)
    assert found, "the blind scrubber should leave survivors in this database"
    report = verify(plan, src, tgt, KEY)
    assert report.outcome is VerifyOutcome.FAILED
    _agrees(report, found)


def test_verify_pairs_rows_through_a_masked_primary_key(tmp_path: Path) -> None:
    """A masked key (fpe_integer) is paired through the plan's transformer: the
    kept notes still hit their own row, and only their own row."""
    src, tgt = f"sqlite:///{tmp_path / 's.db'}", f"sqlite:///{tmp_path / 't.db'}"
    trapdb.build(src)
    plan = build_plan(src).plan
    plan = _with(plan, "customers", "id", "fpe_integer")
    plan = _with(plan, "orders", "customer_id", "fpe_integer")
    weak = _with(plan, "orders", "note", "keep")
    engine.run(weak, src, tgt, KEY)
    report = verify(weak, src, tgt, KEY)
    assert report.outcome is VerifyOutcome.FAILED
    assert {h.column for h in report.row_hits} == {"note"}
    cells = _by_column(report)["orders.note"]
    # 3 of the 4 order-note templates name the customer; every such order is found
    named = sum(
        1 for i in range(trapdb.N) for k in range(2) if (i + k) % len(trapdb.ORDER_NOTES) != 2
    )
    assert max(cells) == named


@pytest.mark.parametrize("backend", BACKENDS)
def test_parallel_verify_finds_the_same_hits(
    request: pytest.FixtureRequest, tmp_path: Path, backend: str
) -> None:
    """verify(jobs=2) splits tables among forked workers; it reports what jobs=1 does."""
    src, tgt, plan = _setup(request, tmp_path, backend)
    weak = _with(plan, "orders", "note", "keep")
    engine.run(weak, src, tgt, KEY)
    one = verify(weak, src, tgt, KEY)
    two = verify(weak, src, tgt, KEY, jobs=2)
    assert one.row_hits and one.row_hits == two.row_hits
    assert one.hits == two.hits and one.counts == two.counts
    assert two.outcome is VerifyOutcome.FAILED


def test_parallel_verify_reads_each_part_once_and_reports_what_one_job_does(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With jobs=2 the scan and the row by row search read each part of a target
    table once, together, and each table's late hits are resolved as soon as its
    parts are in: every table split in ctid ranges (PostgreSQL), whole-target hits
    (a kept e-mail column) and row hits (a kept note) — the same report as one job,
    field by field."""
    from stagewall.masking import _parallel

    src, tgt, plan = _setup(request, tmp_path, "postgres")
    weak = _with(_with(plan, "orders", "note", "keep"), "customers", "email", "keep")
    engine.run(weak, src, tgt, KEY)
    one = verify(weak, src, tgt, KEY)
    monkeypatch.setattr(_parallel, "SPLIT_MIN_PAGES", 1)
    two = verify(weak, src, tgt, KEY, jobs=2)
    assert one.hits and one.row_hits and one.outcome is VerifyOutcome.FAILED
    for field in ("outcome", "hits", "row_hits", "counts", "fk_problems", "target_values"):
        assert getattr(two, field) == getattr(one, field), field
    assert two.sensitive_hashes == one.sensitive_hashes


def test_parallel_verify_reads_a_tables_related_rows_once_and_reports_what_one_job_does(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With jobs=2 and every table split in ctid ranges, the related rows a table's
    scrubbers need (KnownRows.prepare: the referenced and referencing rows) are read
    once per table, not once per part (each part read them all again), and the
    report is jobs=1's, field by field."""
    from stagewall.masking import _known_rows, _parallel

    src, tgt, plan = _setup(request, tmp_path, "postgres")
    engine.run(plan, src, tgt, KEY)
    one = verify(plan, src, tgt, KEY)
    log = tmp_path / "prepared.log"
    real = _known_rows.KnownRows.prepare

    def counted(self: Any, db: Any, batch_rows: int) -> None:
        real(self, db, batch_rows)
        with log.open("a") as f:  # (forked workers append too)
            f.write(repr(self.spec).replace("\n", " ") + "\n")  # a line per spec

    monkeypatch.setattr(_known_rows.KnownRows, "prepare", counted)
    monkeypatch.setattr(_parallel, "SPLIT_MIN_PAGES", 1)
    two = verify(plan, src, tgt, KEY, jobs=2)
    prepared = log.read_text().splitlines()
    assert prepared and len(prepared) == len(set(prepared)), prepared
    assert one.outcome is VerifyOutcome.PASSED
    for field in ("outcome", "hits", "row_hits", "counts", "fk_problems", "target_values"):
        assert getattr(two, field) == getattr(one, field), field
    assert two.sensitive_hashes == one.sensitive_hashes
