"""The transformers give exactly the outputs recorded from the code before the
text11 speed-ups, on a varied corpus (see data/record_outputs.py): same key and
input, same output, for every transformer the bench exercises."""

from __future__ import annotations

import gzip
import json
from typing import Any

import pytest

from tests.masking.transformers.data import record_outputs as rec


@pytest.fixture(scope="module")
def recorded() -> dict[str, Any]:
    with gzip.open(rec.OUT, "rt", encoding="utf-8") as f:
        return json.load(f)  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def current() -> dict[str, Any]:
    # through JSON, like the recording (tuples become lists)
    return json.loads(json.dumps(rec.outputs(), ensure_ascii=False))  # type: ignore[no-any-return]


def test_corpus_covers_the_hard_cases() -> None:
    c = rec.corpus()
    texts = [t for t in c["text_scrub known"][2] if isinstance(t, str)]
    assert None in c["text_scrub known"][2] and "" in texts
    assert max(map(len, texts)) > 5000  # very long texts
    assert any("İ" in t or "ß" in t for t in texts)  # folding that changes length in .lower()
    assert any("_" in t and "-" in t for t in texts)  # "-_"-joined phrases
    assert any(isinstance(d, dict) for d in c["json_mask scrub"][2])
    assert any(isinstance(d, str) for d in c["json_mask scrub"][2])


@pytest.mark.parametrize("label", sorted(rec.corpus()))
def test_outputs_equal_the_recording(
    label: str, recorded: dict[str, Any], current: dict[str, Any]
) -> None:
    want, got = recorded[label], current[label]
    assert isinstance(got, list), got
    assert len(got) == len(want)
    diff = [i for i, (a, b) in enumerate(zip(want, got, strict=True)) if a != b]
    assert diff == [], (
        label,
        len(diff),
        want[diff[0]] if diff else None,
        got[diff[0]] if diff else None,
    )
