"""Benchmark: ``mask verify`` alone, on a masked copy kept between runs (A/B of two trees).

``--setup`` generates the benchmark's dataset (``bench/masking.py``'s generator and
plan), masks it once and writes the database URLs, the plan choice and the key to a
state file; ``--state FILE`` then runs ``verify`` over that copy ``--repeat`` times and
prints JSON (wall seconds, rows/s, CPU seconds of this process and its forked
workers, PostgreSQL servers not counted). Run it alternately with ``PYTHONPATH``
pointing at two source trees to compare them on the same data; ``--drop`` removes
the databases.

    python bench/verify_ab.py --setup /tmp/v.json --rows 100000 --free-text
    PYTHONPATH=src python bench/verify_ab.py --state /tmp/v.json --jobs 2
    python bench/verify_ab.py --drop /tmp/v.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import uuid

import psycopg

sys.path.insert(0, os.path.dirname(__file__))

from masking import generate, plan_for
from stagewall.keys import MaskingKey
from stagewall.masking.engine import RunOptions, run


def _cpu() -> float:
    me, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--setup", metavar="FILE")
    ap.add_argument("--state", metavar="FILE")
    ap.add_argument("--drop", metavar="FILE")
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--free-text", action="store_true")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--admin", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--db-prefix", default="sw_vbench", help="prefix of the databases it creates")
    args = ap.parse_args()
    base = args.admin.rsplit("/", 1)[0]
    if args.setup:
        tag = uuid.uuid4().hex[:8]
        urls = []
        for role in ("src", "tgt"):
            name = f"{args.db_prefix}_{tag}_{role}"
            with psycopg.connect(args.admin, autocommit=True) as c:
                c.execute(f'CREATE DATABASE "{name}"'.encode())
            urls.append(f"{base}/{name}")
        sizes = generate(urls[0], args.rows, args.free_text)
        key = os.urandom(32)
        plan = plan_for(urls[0], "realistic", args.free_text)
        run(plan, urls[0], urls[1], MaskingKey("bench", key), RunOptions(jobs=2, batch_rows=5000))
        state = {
            "src": urls[0],
            "tgt": urls[1],
            "key": key.hex(),
            "free_text": args.free_text,
            "rows": sum(sizes.values()),
        }
        with open(args.setup, "w") as f:
            json.dump(state, f)
        print(json.dumps(state))
        return
    if args.drop:
        with open(args.drop) as f:
            state = json.load(f)
        with psycopg.connect(args.admin, autocommit=True) as c:
            for url in (state["src"], state["tgt"]):
                name = url.rsplit("/", 1)[1]
                c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())
        return
    with open(args.state) as f:
        state = json.load(f)
    from stagewall.masking.verify import verify

    plan = plan_for(state["src"], "realistic", state["free_text"])
    key = MaskingKey("bench", bytes.fromhex(state["key"]))
    runs = []
    for _ in range(max(1, args.repeat)):
        t0, c0 = time.perf_counter(), _cpu()
        result = verify(plan, state["src"], state["tgt"], key, jobs=args.jobs)
        wall, cpu = time.perf_counter() - t0, _cpu() - c0
        runs.append(
            {
                "seconds": round(wall, 2),
                "rows_per_s": round(state["rows"] / wall),
                "cpu_seconds": round(cpu, 2),
                "cpu_s_per_100k_rows": round(cpu * 100_000 / state["rows"], 2),
                "passed": result.passed,
            }
        )
    print(json.dumps({"tree": os.environ.get("PYTHONPATH", ""), "runs": runs}))


if __name__ == "__main__":
    main()
