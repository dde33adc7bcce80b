"""Where ingest's CPU goes, stage by stage, over the labelled replay month: prints JSON.

Each stage runs alone over the whole month, on the output of the stage before it
(prepared outside the timed region), and is timed with ``time.process_time``:

- ``lines``: strip, UTF-8 check and the SHA-256 of every raw line;
- ``parse``: the source's parser (regex / csv / json) to events, per source type too;
- ``enrich``: estate mapping (principal, resource, network, grant) and baselines
  (working hours, first-seen, volume, gaps);
- ``encode``: the canonical OCSF bytes of every event (with its ISO time);
- ``hash``: leaf and chain SHA-256;
- ``store``: the monitoring log's append into a fresh SQLite store (encoding and
  hashing included, in the CLI's 5000-event batches, one transaction each), minus
  the ``encode`` and ``hash`` stages measured alone: what the database costs;
- ``rules``: the detector over the enriched events;
- ``whole``: the pipeline (``ingest_lines``, one simulated day per source per call).

``us_per_event`` is CPU microseconds per stored event; ``per_call_us`` is what the
whole pipeline costs beyond the sum of the stages, per call (audit anchor, state).

Usage: python bench/ingest_stages.py [--seed 7]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from binascii import hexlify
from pathlib import Path
from typing import Any

from stagewall.audit._chain import GENESIS
from stagewall.estate.loader import parse_estate
from stagewall.monitoring import GrantIndex, IngestContext, ingest_lines
from stagewall.monitoring._canonical import canonical
from stagewall.monitoring.detect import Detector
from stagewall.monitoring.events import Event, iso
from stagewall.monitoring.ingest import parser_for
from stagewall.monitoring.log import _LEAF_PREFIX, MonitorLog
from stagewall.monitoring.pipeline import CHUNK, _valid_text
from stagewall.monitoring.rules import load_rules
from stagewall.store import Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _cpu(fn: Any) -> tuple[Any, float]:
    c0 = time.process_time()
    out = fn()
    return out, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    from tests.monitoring.replay import SOURCES, generate

    month = generate(args.seed)
    chunks = month.day_chunks()
    estate = parse_estate(month.estate_yaml).estate
    sources = estate.monitoring.sources

    def lines_stage() -> list[tuple[str, list[str]]]:
        sha = hashlib.sha256
        out = []
        for src, lines in chunks:
            seen = []
            for line in lines:
                text = line.rstrip("\r\n")
                seen.append(text if text.isascii() else _valid_text(text))
                sha(text.encode("utf-8", "surrogateescape")).hexdigest()
            out.append((src, seen))
        return out

    texts, t_lines = _cpu(lines_stage)

    per_type: dict[str, float] = {}
    parsed: list[tuple[str, list[Event]]] = []
    parsers = {s: parser_for(k, year=2026) for s, k in SOURCES.items()}
    for s, p in parsers.items():
        p.configure(sources[s])  # as the pipeline does (CloudTrail's declared roles)
    for src, lines in texts:
        p = parsers[src]
        c0 = time.process_time()
        evs = [e for line in lines for e in p.feed(line)]
        per_type[SOURCES[src]] = per_type.get(SOURCES[src], 0.0) + time.process_time() - c0
        for e in evs:
            e.source, e.product = src, SOURCES[src]
        parsed.append((src, evs))
    t_parse = sum(per_type.values())
    n_parsed = {k: 0 for k in per_type}
    for src, evs in parsed:
        n_parsed[SOURCES[src]] += len(evs)

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'stages.db'}")
        store.migrate()
        ctx = IngestContext(estate, store, grants=GrantIndex(month.grants), year=2026)

        def enrich_stage() -> list[Event]:
            out: list[Event] = []
            for src, evs in parsed:
                out += ctx._enrich(src, sources[src], evs)
            return out

        events, t_enrich = _cpu(enrich_stage)
        n = len(events)

        def encode_stage() -> list[bytes]:
            prev = "0" * 64
            return [canonical(ev, i, prev, iso(ev.time)) for i, ev in enumerate(events)]

        raws, t_encode = _cpu(encode_stage)

        def hash_stage() -> None:  # as MonitorLog.append does it
            sha = hashlib.sha256
            leaf_of = _LEAF_PREFIX.copy
            prev = GENESIS
            for raw in raws:
                h = leaf_of()
                h.update(raw)
                leaf = h.digest()
                prev = sha(prev + leaf).digest()
                hexlify(prev).decode()

        _, t_hash = _cpu(hash_stage)

        log = MonitorLog(ctx.store)

        def store_stage() -> None:
            for i in range(0, n, CHUNK):
                with ctx.store.transaction() as conn:
                    log.append(events[i : i + CHUNK], conn=conn)

        _, t_append = _cpu(store_stage)
        ctx.close()
        store.dispose()

        detector = Detector(load_rules(), estate.monitoring.rules, estate.monitoring.suppress)
        _, t_rules = _cpu(lambda: detector.process(events))

        store2 = Store(f"sqlite:///{Path(tmp) / 'whole.db'}")
        store2.migrate()
        ctx2 = IngestContext(estate, store2, grants=GrantIndex(month.grants), year=2026)
        w0 = time.perf_counter()
        stored, t_whole = _cpu(lambda: sum(ingest_lines(s, ls, ctx2).events for s, ls in chunks))
        wall = time.perf_counter() - w0
        ctx2.close()
        store2.dispose()

    def us(seconds: float) -> float:
        return round(seconds / n * 1e6, 2)

    t_store = t_append - t_encode - t_hash
    stages = {
        "lines": t_lines,
        "parse": t_parse,
        "enrich": t_enrich,
        "encode": t_encode,
        "hash": t_hash,
        "store": t_store,
        "rules": t_rules,
    }
    out = {
        "events": n,
        "stored": stored,
        "calls": len(chunks),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "us_per_event": {k: us(v) for k, v in stages.items()},
        "parse_us_per_event_by_type": {
            k: round(v / max(n_parsed[k], 1) * 1e6, 2) for k, v in sorted(per_type.items())
        },
        "sum_of_stages_us": us(sum(stages.values())),
        "whole_us_per_event": us(t_whole),
        "per_call_us": round((t_whole - sum(stages.values())) / len(chunks) * 1e6),
        "whole_events_per_cpu_s": round(stored / t_whole),
        "whole_events_per_s": round(stored / wall),
    }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
