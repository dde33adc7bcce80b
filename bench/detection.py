"""Detection benchmark over the labelled replay month: prints JSON.

- ingest events/s: the whole pipeline (parse, map to the estate, baselines, append
  to the hash-chained monitoring log in SQLite, rules, findings to the audit log),
  fed one simulated day per source at a time; wall clock and process CPU time;
- parse events/s (parsers only) and rule evaluation events/s (the detector alone
  over already enriched events: incremental, no history re-scan);
- a baseline measured in the same process on the same lines: ``json`` encoding,
  two SHA-256 and a plain SQLite executemany of one row per line (the least any
  durable, hashed ingest must do), and the pipeline's rate as a ratio to it;
- per-rule precision, recall and false alerts per simulated week.

Usage: python bench/detection.py [--seed 7]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stagewall.estate.loader import parse_estate  # noqa: E402
from stagewall.monitoring import GrantIndex, IngestContext, ingest_lines  # noqa: E402
from stagewall.monitoring.detect import Detector  # noqa: E402
from stagewall.monitoring.events import Event  # noqa: E402
from stagewall.monitoring.ingest import parser_for  # noqa: E402
from stagewall.monitoring.rules import load_rules  # noqa: E402
from stagewall.store import Store  # noqa: E402
from tests.monitoring.replay import SOURCES, WEEKS, generate, score  # noqa: E402


def _timed(fn: Any) -> tuple[Any, float, float]:
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    month = generate(args.seed)
    chunks = month.day_chunks()
    all_lines = [line for _src, lines in chunks for line in lines]
    estate = parse_estate(month.estate_yaml).estate

    with tempfile.TemporaryDirectory() as tmp:
        # baseline: encode + hash + insert one row per line, same process, same lines
        def baseline() -> int:
            conn = sqlite3.connect(str(Path(tmp) / "plain.db"))
            conn.execute("CREATE TABLE t (idx INTEGER PRIMARY KEY, raw BLOB, leaf BLOB, ch BLOB)")
            prev = b"\0" * 32
            rows = []
            enc = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode
            for i, line in enumerate(all_lines):
                raw = enc({"i": i, "line": line}).encode()
                leaf = hashlib.sha256(b"\0" + raw).digest()
                prev = hashlib.sha256(prev + leaf).digest()
                rows.append((i, raw, leaf, prev))
            conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
            conn.commit()
            conn.close()
            return len(rows)

        n_base, base_wall, base_cpu = _timed(baseline)

        # parsers only
        def parse_only() -> list[tuple[str, Event]]:
            parsers = {s: parser_for(k, year=2026) for s, k in SOURCES.items()}
            out: list[tuple[str, Event]] = []
            for src, lines in chunks:
                p = parsers[src]
                for line in lines:
                    out += [(src, e) for e in p.feed(line)]
            return out

        parsed, parse_wall, parse_cpu = _timed(parse_only)

        # the whole pipeline
        store = Store(f"sqlite:///{Path(tmp) / 'stagewall.db'}")
        store.migrate()
        ctx = IngestContext(estate, store, grants=GrantIndex(month.grants), year=2026)
        findings: list[dict[str, Any]] = []
        malformed = 0

        def pipeline() -> int:
            nonlocal malformed
            events = 0
            for src, lines in chunks:
                report = ingest_lines(src, lines, ctx)
                events += report.events
                malformed += report.malformed
                findings.extend(f.to_json() for f in report.findings)
            return events

        n_events, ing_wall, ing_cpu = _timed(pipeline)

        # rule evaluation alone, over the enriched events (a fresh detector)
        enriched: list[Event] = []
        for src, ev in parsed:
            ev.source, ev.product = src, SOURCES[src]
            ctx.index.enrich(estate.monitoring.sources[src], ev)
            enriched.append(ev)
        detector = Detector(load_rules(), estate.monitoring.rules, estate.monitoring.suppress)
        _f, det_wall, det_cpu = _timed(lambda: detector.process(enriched))
        store.dispose()

    per_rule = score(month, findings)
    ingest_rate = n_events / ing_wall
    out = {
        "month": {
            "weeks": WEEKS,
            "lines": len(all_lines),
            "events": n_events,
            "malformed": malformed,
            "incidents": len(month.incidents),
            "findings": len(findings),
        },
        "ingest_events_per_s": round(ingest_rate),
        "ingest_events_per_cpu_s": round(n_events / ing_cpu),
        "parse_events_per_s": round(len(parsed) / parse_wall),
        "rule_eval_events_per_s": round(len(enriched) / det_wall),
        "rule_eval_events_per_cpu_s": round(len(enriched) / det_cpu),
        "baseline_rows_per_s": round(n_base / base_wall),
        "ingest_vs_baseline": round(ingest_rate / (n_base / base_wall), 3),
        "rules": per_rule,
        "targets": {
            "ingest_50k_per_s": ingest_rate >= 50_000,
            "recall_1": all(r["recall"] == 1.0 for r in per_rule.values()),
            "max_1_false_alert_per_rule_per_week": all(
                r["false_per_week"] <= 1.0 for r in per_rule.values()
            ),
        },
    }
    print(json.dumps(out, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
