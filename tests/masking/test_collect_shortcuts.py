"""Verify's source side takes shortcuts that must not change a single hash: a
scrubbed text left as it was keeps its input's units (``_hashscan.changed_units``),
and the detector remembers each text's findings while verify runs
(``classify.remembering``). Both are compared here with the plain way on the
randomised sources of test_gate.py, and a whole verify with and without them."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from stagewall.masking import _hashscan
from stagewall.masking._units import FlatUnits, Hasher
from stagewall.masking.classify import detect_texts, remembering
from stagewall.masking.db import open_database
from stagewall.masking.lint import scoped_schema
from stagewall.masking.verify import verify
from tests.masking.copier import masked_rows
from tests.masking.test_gate import KEY, PLAN, _plant, _source, _write


def _plain(
    hasher: Hasher, values: Any, outputs: Any
) -> tuple[FlatUnits, np.ndarray[Any, Any] | None]:
    return hasher.flat(outputs), None


def _sets(source: str) -> dict[str, Any]:
    # the scrubbers run on every row (late, only on the rows pending hits need, through
    # the same code: test_scrub_late.py)
    with open_database(source, role="source") as db:
        schema = scoped_schema(PLAN, db.introspect())
        db.begin_read()
        sets = _hashscan.collect(PLAN, schema, db, KEY, 37, None, late=False)
    assert sets.gate is not None
    return {
        "sensitive": sets.sensitive.tolist(),
        "legit": {k: v.tolist() for k, v in sets.legit.items()},
        "passed_by": {k: v.tolist() for k, v in sets.passed_by.items()},
        "rows": sets.source_rows,
        "late": sets.late,
        "searched": sets.searched,
        "gate": (sets.gate._keys.tolist(), sets.gate._lengths.tolist()),
    }


@pytest.mark.parametrize("seed", range(6))
def test_source_hashes_equal_the_plain_way(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(seed)
    source, _ = _source(tmp_path / "src.db", rng, 30 + seed * 11)
    fast = _sets(source)
    with remembering():  # and every text's findings remembered across batches and runs
        fast_memo = _sets(source)
        again = _sets(source)
    monkeypatch.setattr(_hashscan, "changed_units", _plain)
    monkeypatch.setattr(_hashscan, "remembering", _no_memo)
    plain = _sets(source)
    assert fast == plain == fast_memo == again


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("jobs", [1, 2])
def test_verify_reports_equal_the_plain_way(
    tmp_path: Path, seed: int, jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(100 + seed)
    source, people = _source(tmp_path / "src.db", rng, 45)
    rows = masked_rows(PLAN, source, KEY)
    _plant(rng, rows, people)
    target = _write(tmp_path / "tgt.db", rows)
    fast = verify(PLAN, source, target, KEY, jobs=jobs).to_json()
    monkeypatch.setattr(_hashscan, "changed_units", _plain)
    monkeypatch.setattr(_hashscan, "remembering", _no_memo)
    plain = verify(PLAN, source, target, KEY, jobs=jobs).to_json()
    for report in (fast, plain):
        report.pop("duration_s")
    assert fast == plain
    assert fast["outcome"] == "failed"  # the planted values are found


def test_changed_units_takes_only_strings_left_as_they_were() -> None:
    # which rows the shortcut takes: strings left exactly as they were
    hasher = _hashscan.hasher_for(KEY)
    values = ["Paid by transfer, no issues so far.", "Call Anna", None, "", b"x", "same"]
    outputs = ["Paid by transfer, no issues so far.", "Call Jane", None, "", b"x", "same "]
    units, kept_rows = _hashscan.changed_units(hasher, values, outputs)
    assert kept_rows is not None
    kept = int(kept_rows.sum())
    assert kept_rows.tolist() == [True, False, False, True, False, False]
    assert kept == 2
    # the other rows' units, at their own row numbers, as the plain way finds them
    plain = hasher.flat(outputs)
    others = ~kept_rows[plain.owner]
    assert sorted(units.pair_keys().tolist()) == sorted(plain.pair_keys()[others].tolist())
    assert {1, 5} <= set(units.owner.tolist()) <= {1, 2, 4, 5}


def _no_memo() -> Any:
    from contextlib import nullcontext

    return nullcontext()


def test_detect_texts_is_the_hashers_detector() -> None:
    # the memo sits behind the detector the hasher calls
    assert _hashscan.hasher_for(KEY)._detect is detect_texts


def test_a_tables_scrubbers_share_one_known_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # people's notes (text_scrub) and doc (json_mask) test the same rows' known
    # values: verify hands both one KnownBatch per batch, as the run does, so the
    # values' probes (Pairs) are built once a batch instead of once per consumer
    from stagewall.masking.transformers import _known

    source, _ = _source(tmp_path / "src.db", random.Random(7), 90)
    given: dict[str, list[Any]] = {}
    built: list[int] = []
    transform, pairs_init = _hashscan.transform, _known.Pairs.__init__

    def spy(tr: Any, values: Any, table: Any, column: str, known: Any = None) -> Any:
        if known is not None and getattr(tr, "wants_known", False):
            given.setdefault(f"{table.name}.{column}", []).append(known)
        return transform(tr, values, table, column, known)

    def counted(self: Any, known: Any) -> None:
        built.append(len(known))
        pairs_init(self, known)

    monkeypatch.setattr(_hashscan, "transform", spy)
    monkeypatch.setattr(_known.Pairs, "__init__", counted)
    shared = _sets(source)
    notes, docs = given["people.notes"], given["people.doc"]
    assert len(notes) == len(docs) == 3  # batches of 37 rows
    for a, b in zip(notes, docs, strict=True):
        assert isinstance(a, _known.KnownBatch)
        assert a is b
    # the single consumer of orders (memo) is handed a plain list, as the run does
    assert not any(isinstance(k, _known.KnownBatch) for k in given["orders.memo"])
    once = len(built)
    # and the hashes are those of one list per consumer, which builds more Pairs
    monkeypatch.setattr(_hashscan, "KnownBatch", list)
    built.clear()
    assert shared == _sets(source)
    assert len(built) > once
