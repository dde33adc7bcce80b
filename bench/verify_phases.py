"""Benchmark: where ``mask verify``'s CPU goes, by phase, on a copy kept by ``verify_ab.py``.

Runs ``verify(jobs=1)`` once to warm up, then once with the CPU seconds
(``time.process_time``) of the phases' functions added up, and prints JSON: the
whole run's CPU seconds and each phase's, per 100 k rows. Phases nest (the
detector's time is inside the source side's), so they do not add up to the total.

    python bench/verify_ab.py --setup /tmp/v.json --rows 100000 --free-text
    PYTHONPATH=src python bench/verify_phases.py --state /tmp/v.json
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from collections import Counter
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

from masking import plan_for
from stagewall.keys import MaskingKey
from stagewall.masking import _gate, _hashscan, _known_rows, _late, _rowcheck, _units
from stagewall.masking import verify as verify_module

SPENT: Counter[str] = Counter()

# (object, attribute, phase): a phase's time is the CPU its function's calls take
PHASES: list[tuple[Any, str, str]] = [
    (_hashscan, "_collect_part", "source side: units of every source value (all of it)"),
    (_hashscan, "transform", "source side: transformers recomputed (text_scrub, json_mask, ...)"),
    (_hashscan, "changed_units", "source side: units of the scrubbers' changed outputs"),
    (_units.Hasher, "_distinct_tokens", "detector on texts (source and target)"),
    (_units.Hasher, "_documents", "JSON documents' units"),
    (_units.Hasher, "hash_many", "keyed hashes of units"),
    (_gate.Gate, "admits", "gate of the detector's texts"),
    (_known_rows.KnownRows, "prepare", "scrubbers' related rows read (KnownRows.prepare)"),
    (_known_rows.KnownRows, "rows", "scrubbers' known values per row (KnownRows.rows)"),
    (_hashscan, "_scan_part", "whole-target scan (all of it)"),
    (_rowcheck, "source_lookups", "row search: source rows' patterns (source_lookups)"),
    (_rowcheck.TableSearch, "add", "row search: target side (all of it)"),
    (_rowcheck, "_candidates", "row search: candidate test"),
    (_late, "resolve", "late tokens of pseudonymisers"),
]


def _timed(owner: Any, name: str, label: str) -> None:
    f = getattr(owner, name)

    @functools.wraps(f)
    def timed(*args: Any, **kwargs: Any) -> Any:
        t = time.process_time()
        try:
            return f(*args, **kwargs)
        finally:
            SPENT[label] += time.process_time() - t

    setattr(owner, name, timed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--state", metavar="FILE", required=True)
    args = ap.parse_args()
    with open(args.state) as f:
        state = json.load(f)
    for owner, name, label in PHASES:
        _timed(owner, name, label)
    plan = plan_for(state["src"], "realistic", state["free_text"])
    key = MaskingKey("bench", bytes.fromhex(state["key"]))
    verify_module.verify(plan, state["src"], state["tgt"], key, jobs=1)
    SPENT.clear()
    t = time.process_time()
    result = verify_module.verify(plan, state["src"], state["tgt"], key, jobs=1)
    total = time.process_time() - t
    per = 100_000 / state["rows"]
    print(
        json.dumps(
            {
                "tree": os.environ.get("PYTHONPATH", ""),
                "rows": state["rows"],
                "free_text": state["free_text"],
                "passed": result.passed,
                "cpu_s_per_100k_rows": round(total * per, 3),
                "phases_cpu_s_per_100k_rows": {
                    label: round(SPENT[label] * per, 3) for _, _, label in PHASES
                },
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
