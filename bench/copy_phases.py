"""Benchmark: where ``mask run``'s time goes, phase by phase, without free text.

Generates the ``bench/masking.py`` dataset once into a kept source database
(``--setup``), then runs ``engine.run`` into fresh targets and prints JSON: wall and
CPU seconds (this process and its forked workers) of each phase of the run —
introspection, the plan's lint, the schema-name check (``check_schema``), building
the transformers, the target probe, creating the tables, the copy, the keys — and,
with ``--profile N``, the top ``N`` functions of the coordinator under cProfile
(the forked workers are not profiled; ``--jobs 1`` copies in this process).

    python bench/copy_phases.py --setup /tmp/c.json --rows 300000
    PYTHONPATH=src python bench/copy_phases.py --state /tmp/c.json --repeat 3
    PYTHONPATH=src python bench/copy_phases.py --state /tmp/c.json --jobs 1 --profile 40
    python bench/copy_phases.py --state /tmp/c.json --drop
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
import uuid
from collections import defaultdict
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

import psycopg

from masking import cpu_seconds, generate, plan_for
from stagewall.keys import MaskingKey
from stagewall.masking import engine
from stagewall.masking.engine import RunOptions, run

ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"

# (owner, attribute, phase label): the wall/CPU of its calls is the phase's
PHASES: list[tuple[Any, str, str]] = [
    (engine, "check_plan", "lint (plan)"),
    (engine, "check_documents", "documents check"),
    (engine, "check_schema", "schema names check (SW520)"),
    (engine, "_build_transformers", "build transformers"),
    (engine, "_probe_target", "probe target"),
    (engine, "_create", "create tables"),
    (engine, "_copy_all", "copy rows"),
    (engine, "recompute_fulltext", "full text"),
    (engine, "_derived_objects", "derived objects"),
]


START = [0.0]
TIMELINE: list[tuple[str, float, float]] = []


def _timed(owner: Any, name: str, label: str, spent: dict[str, list[float]]) -> None:
    f = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        t, c = time.perf_counter(), cpu_seconds()
        try:
            return f(*args, **kwargs)
        finally:
            spent[label][0] += time.perf_counter() - t
            spent[label][1] += cpu_seconds() - c
            TIMELINE.append((label, t - START[0], time.perf_counter() - START[0]))

    setattr(owner, name, timed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--setup", help="generate a source and write its state to this file")
    ap.add_argument("--state", help="a state file written by --setup")
    ap.add_argument("--drop", action="store_true", help="drop the state's source database")
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--batch-rows", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--profile", type=int, default=0, help="print the top N functions")
    ap.add_argument("--db-prefix", default="sw_phases", help="prefix of the databases it creates")
    args = ap.parse_args()
    base = ADMIN.rsplit("/", 1)[0]
    if args.setup:
        name = f"{args.db_prefix}_{uuid.uuid4().hex[:8]}_src"
        with psycopg.connect(ADMIN, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"'.encode())
        src = f"{base}/{name}"
        sizes = generate(src, args.rows)
        with open(args.setup, "w") as fh:
            json.dump({"source": src, "sizes": sizes}, fh)
        print(json.dumps({"source": src, "sizes": sizes}))
        return
    with open(args.state) as fh:
        state = json.load(fh)
    src = state["source"]
    if args.drop:
        with psycopg.connect(ADMIN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{src.rsplit("/", 1)[1]}" WITH (FORCE)'.encode())
        return
    spent: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for owner, attr, label in PHASES:
        _timed(owner, attr, label, spent)
    from stagewall.masking.db import _postgres

    _timed(_postgres.PostgresDatabase, "introspect", "introspect", spent)
    _timed(_postgres.PostgresDatabase, "export_snapshot", "export snapshot", spent)
    _timed(_postgres.PostgresDatabase, "finish_tables", "keys (finish_tables)", spent)
    key = MaskingKey("bench", b"\x01" * 32)
    plan = plan_for(src)
    opts = RunOptions(jobs=args.jobs, batch_rows=args.batch_rows)
    runs: list[dict[str, Any]] = []
    prof = cProfile.Profile() if args.profile else None
    for _ in range(args.repeat):
        spent.clear()
        TIMELINE.clear()
        name = f"{args.db_prefix}_{uuid.uuid4().hex[:8]}_tgt"
        with psycopg.connect(ADMIN, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"'.encode())
        try:
            t, c0 = time.perf_counter(), cpu_seconds()
            START[0] = t
            if prof is not None:
                prof.enable()
            run(plan, src, f"{base}/{name}", key, opts)
            if prof is not None:
                prof.disable()
            total = (time.perf_counter() - t, cpu_seconds() - c0)
        finally:
            with psycopg.connect(ADMIN, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
        one = {k: [round(v[0], 3), round(v[1], 3)] for k, v in spent.items()}
        one["total"] = [round(total[0], 3), round(total[1], 3)]
        one["timeline"] = [f"{a:.3f}-{b:.3f} {k}" for k, a, b in TIMELINE]  # type: ignore[assignment]
        runs.append(one)
    labels = [k for k in runs[0] if k != "timeline"]
    report = {
        "rows": sum(state["sizes"].values()),
        "jobs": args.jobs,
        "phases [wall s, cpu s] (median)": {
            k: [
                round(statistics.median(r[k][0] for r in runs), 3),
                round(statistics.median(r[k][1] for r in runs), 3),
            ]
            for k in labels
        },
        "runs": runs,
    }
    print(json.dumps(report, indent=2))
    if prof is not None:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(args.profile)
        print(out.getvalue())


if __name__ == "__main__":
    main()
