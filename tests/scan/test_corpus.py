"""The labelled corpus (tests/scan/corpus/): every crossing found, no known false
positive back, nothing unlabelled. Precision and recall are printed (``-s``)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from stagewall.estate import load_estate
from stagewall.scan import ScanResult, scan_paths

CORPUS = Path(__file__).parent / "corpus"
_RAW: dict[str, Any] = yaml.safe_load((CORPUS / "expected.yaml").read_text("utf-8"))
# each red-team round adds its own lists (crossings_round3, non_findings_round3...)
LABELS: dict[str, list[dict[str, Any]]] = {
    kind: [item for key in sorted(_RAW) if key.startswith(kind) for item in _RAW[key] or []]
    for kind in ("crossings", "other_findings", "non_findings")
}


@cache
def _result() -> ScanResult:
    loaded = load_estate(CORPUS / "stagewall.yaml")
    return scan_paths([CORPUS], loaded.estate)


def _found() -> set[tuple[str, str, int]]:
    return {(f.rule_id, f.file, f.line) for f in _result().active}


def _key(item: dict[str, Any]) -> tuple[str, str, int]:
    return (item["rule"], item["file"], item["line"])


@pytest.mark.parametrize("label", LABELS["crossings"], ids=lambda item: item["id"])
def test_labelled_crossing_is_found(label: dict[str, Any]) -> None:
    assert _key(label) in _found(), label.get("note", label["id"])


@pytest.mark.parametrize("label", LABELS["non_findings"], ids=lambda item: item["id"])
def test_known_false_positive_does_not_come_back(label: dict[str, Any]) -> None:
    back = [
        f
        for f in _result().active
        if f.file == label["file"]
        and f.rule_id in label["rules"]
        and ("line" not in label or f.line == label["line"])
    ]
    assert back == []


def test_every_finding_is_labelled_and_says_how_its_environment_was_attributed() -> None:
    labelled = {_key(item) for item in LABELS["crossings"] + LABELS["other_findings"]}
    unlabelled = sorted(_found() - labelled)
    assert unlabelled == []
    assert all(f.environment_reason for f in _result().active)


def test_precision_and_recall() -> None:
    crossings = {_key(item) for item in LABELS["crossings"]}
    true = crossings | {_key(item) for item in LABELS["other_findings"]}
    found = _found()
    precision = len(found & true) / len(found)
    recall = len(found & crossings) / len(crossings)
    print(f"\ncorpus: {len(found)} findings, precision {precision:.2f}, recall {recall:.2f}")
    assert (precision, recall) == (1.0, 1.0)
