"""Benchmark: the schema-name check (``schema_findings``) alone, on a loaded source.

The check runs before any row moves: it reads the schema's names and definitions,
looks their words and e-mail local parts up in the source's name and e-mail
columns, and judges them. ``--url URL`` times it ``--repeat`` times in this process
(the auto plan built once, one warm-up call) and prints JSON: median CPU seconds of
this process and, on PostgreSQL, of the server backend serving the check (read
from ``/proc``: a local server only), median wall seconds, and the number of
findings. ``--trees A B …`` runs that alternately with ``PYTHONPATH`` at each tree's
``src`` (``--rounds`` times) and prints each tree's medians and their ratios to the
first tree's.

    PYTHONPATH=src python bench/schema_check.py --url postgresql://…/pagila --repeat 5
    python bench/schema_check.py --url postgresql://…/pagila --trees /base /head --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any


def _proc_cpu(pid: int) -> float | None:
    """CPU seconds of a local process ``pid`` (user + system), None if unreadable."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(url: str, repeat: int) -> dict[str, Any]:
    from stagewall.masking._schemanames import schema_findings
    from stagewall.masking.db import open_database
    from stagewall.masking.lint import scoped_schema
    from stagewall.masking.planner import build_plan

    plan = build_plan(url).plan
    cpu, server, wall, count = [], [], [], 0
    with open_database(url, role="source") as db:
        schema = scoped_schema(plan, db.introspect())
        pid = int(db.select("SELECT pg_backend_pid()")[0][0]) if db.backend == "postgresql" else 0
        schema_findings(db, plan, schema)  # warm-up: imports, word lists
        for _ in range(repeat):
            s0 = _proc_cpu(pid) if pid else None
            c0, w0 = time.process_time(), time.perf_counter()
            count = len(schema_findings(db, plan, schema))
            cpu.append(time.process_time() - c0)
            wall.append(time.perf_counter() - w0)
            s1 = _proc_cpu(pid) if pid else None
            if s0 is not None and s1 is not None:
                server.append(s1 - s0)
    return {
        "cpu_s": statistics.median(cpu),
        "server_cpu_s": statistics.median(server) if server else None,
        "wall_s": statistics.median(wall),
        "findings": count,
        "repeat": repeat,
    }


def alternate(url: str, trees: list[str], rounds: int, repeat: int) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {t: [] for t in trees}
    for _ in range(rounds):
        for tree in trees:
            env = {**os.environ, "PYTHONPATH": os.path.join(tree, "src")}
            out = subprocess.run(
                [sys.executable, __file__, "--url", url, "--repeat", str(repeat)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            runs[tree].append(json.loads(out))
    result: dict[str, Any] = {"url": url.rsplit("/", 1)[-1], "load": os.getloadavg()}
    first: dict[str, float] = {}
    for tree in trees:
        med = {
            k: statistics.median(r[k] for r in runs[tree])
            for k in ("cpu_s", "server_cpu_s", "wall_s")
            if all(r[k] is not None for r in runs[tree])
        }
        first = first or med
        result[tree] = {
            **{k: round(v, 4) for k, v in med.items()},
            "findings": runs[tree][-1]["findings"],
            **{f"{k}_ratio": round(v / first[k], 3) for k, v in med.items() if first.get(k)},
        }
    return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--trees", nargs="*")
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    if a.trees:
        print(json.dumps(alternate(a.url, a.trees, a.rounds, a.repeat), indent=1))
    else:
        print(json.dumps(measure(a.url, a.repeat)))


if __name__ == "__main__":
    main()
