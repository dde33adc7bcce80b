"""Ingest speed of this tree against an older revision, alternating runs: prints JSON.

Each run ingests the labelled replay month (one simulated day per source per call,
as bench/detection.py does) into a fresh SQLite store in its own process, with
``src/`` of either this tree or ``REV`` (extracted with ``git archive``) first on
the path. Runs alternate (old, new, old, new, ...) so both see the same machine
load; the JSON gives each run and the medians, with the load average.

Usage: python bench/ingest_ab.py [--rev c3149ba] [--runs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_RUN = r"""
import json, os, sys, tempfile, time
sys.path.insert(0, sys.argv[1]); sys.path.insert(1, sys.argv[2])
from stagewall.estate.loader import parse_estate
from stagewall.monitoring import GrantIndex, IngestContext, ingest_lines
from stagewall.store import Store
from tests.monitoring.replay import generate, score
month = generate(7)
chunks = month.day_chunks()
estate = parse_estate(month.estate_yaml).estate
with tempfile.TemporaryDirectory() as tmp:
    store = Store(f"sqlite:///{tmp}/s.db")
    store.migrate()
    ctx = IngestContext(estate, store, grants=GrantIndex(month.grants), year=2026)
    findings = []
    n = 0
    c, w = time.process_time(), time.perf_counter()
    for src, lines in chunks:
        report = ingest_lines(src, lines, ctx)
        n += report.events
        findings += [f.to_json() for f in report.findings]
    cpu, wall = time.process_time() - c, time.perf_counter() - w
    if hasattr(ctx, "close"):
        ctx.close()
    store.dispose()
rules = score(month, findings)
print(json.dumps({
    "events": n,
    "events_per_cpu_s": round(n / cpu),
    "events_per_s": round(n / wall),
    "findings": sorted((f["rule"], f["time"], f["actor"]) for f in findings),
    "recall_1": all(r["recall"] == 1.0 for r in rules.values()),
}))
"""


def _run(src: Path) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", _RUN, str(src), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rev", default="c3149ba", help="the older revision (default: c3149ba)")
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "old.tar"
        subprocess.run(
            ["git", "-C", str(ROOT), "archive", "-o", str(archive), args.rev, "src"], check=True
        )
        with tarfile.open(archive) as tar:
            tar.extractall(Path(tmp) / "old", filter="data")
        old_src, new_src = Path(tmp) / "old" / "src", ROOT / "src"
        runs: dict[str, list[dict[str, object]]] = {"old": [], "new": []}
        for _ in range(args.runs):
            runs["old"].append(_run(old_src))
            runs["new"].append(_run(new_src))
    same = all(r["findings"] == runs["old"][0]["findings"] for r in runs["old"] + runs["new"])

    def med(side: str, key: str) -> float:
        return statistics.median(float(str(r[key])) for r in runs[side])

    print(
        json.dumps(
            {
                "rev": args.rev,
                "load_average_1m": round(os.getloadavg()[0], 2),
                "old_events_per_cpu_s": med("old", "events_per_cpu_s"),
                "new_events_per_cpu_s": med("new", "events_per_cpu_s"),
                "old_events_per_s": med("old", "events_per_s"),
                "new_events_per_s": med("new", "events_per_s"),
                "cpu_speedup": round(
                    med("new", "events_per_cpu_s") / med("old", "events_per_cpu_s"), 3
                ),
                "wall_speedup": round(med("new", "events_per_s") / med("old", "events_per_s"), 3),
                "same_findings": same,
                "recall_1": all(r["recall_1"] for r in runs["old"] + runs["new"]),
                "runs": {
                    k: [{**r, "findings": len(r["findings"])} for r in v]  # type: ignore[arg-type]
                    for k, v in runs.items()
                },
            },
            indent=2,
            sort_keys=True,
        )
    )


if __name__ == "__main__":
    main()
