"""Benchmark: the masked copy's client CPU per step, in one process, no target.

Reads every table of a source kept by ``bench/copy_phases.py --setup`` as the
engine does (``copy_out`` in batches, masked columns first), holds the batches in
memory, then transforms them with a fresh :class:`Mapper` per round (as a run
does: the column memos start empty) and prints JSON: CPU seconds of reading, of
the whole transform, and per step — the prefix split, each masked column (memo,
decode, transformer, encode) and the join — best of ``--rounds``.

    PYTHONPATH=src python bench/copy_apply.py --state /tmp/c.json --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

sys.path.insert(0, os.path.dirname(__file__))

from masking import plan_for
from stagewall.keys import MaskingKey
from stagewall.masking import _copy, engine
from stagewall.masking._known_rows import known_spec
from stagewall.masking._parallel import fewer_collections
from stagewall.masking.db import open_database
from stagewall.masking.db._pgtext import encode_column
from stagewall.masking.lint import scoped_schema


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--state", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch-rows", type=int, default=5000)
    ap.add_argument("--profile", default="", help="a table: cProfile one round of it (tottime)")
    args = ap.parse_args()
    with open(args.state) as fh:
        src_url = json.load(fh)["source"]
    plan = plan_for(src_url)
    key = MaskingKey("bench", b"\x01" * 32)
    report: dict[str, Any] = {}
    with fewer_collections(), open_database(src_url, role="source") as src:
        schema = scoped_schema(plan, src.introspect(plan.schemas))
        transformers = engine._build_transformers(plan, schema, key, None)
        tables = []
        read_cpu = 0.0
        for t in schema.tables:
            m = _copy.Mapper(t, transformers[t.qualified], known_spec(plan, schema, t))
            names = [m.names[i] for i in m.prefix_order]
            k = len(m.by_index)
            c0 = time.process_time()
            batches = list(src.copy_out(t, names, None, args.batch_rows))
            read_cpu += time.process_time() - c0
            decoders = src.decoders(t, names[:k], as_text=m.raw_text)
            tables.append((t, transformers[t.qualified], decoders, batches))
        report["read_cpu_s"] = round(read_cpu, 3)
        best: dict[str, float] = {}
        for _ in range(args.rounds):
            steps: dict[str, float] = {}
            total = 0.0
            for t, trs, decoders, batches in tables:
                m = _copy.Mapper(t, trs, known_spec(plan, schema, t))
                fields = m._fields

                def timed_fields(
                    idx: int, *a: Any, m: Any = m, f: Any = fields, steps: Any = steps
                ) -> Any:
                    c = time.process_time()
                    try:
                        return f(idx, *a)
                    finally:
                        label = f"{m.table.name}.{m.names[idx]}"
                        steps[label] = steps.get(label, 0.0) + time.process_time() - c

                m._fields = timed_fields  # type: ignore[method-assign]
                c0 = time.process_time()
                for lines in batches:
                    m.apply_prefix_batch(lines, decoders, encode_column)
                spent = time.process_time() - c0
                total += spent
                steps[f"{t.name} (all)"] = spent
            steps["total"] = total
            for k2, v in steps.items():
                best[k2] = min(best.get(k2, v), v)
        report["transform_cpu_s (best)"] = {k2: round(v, 3) for k2, v in best.items()}
        for t, trs, decoders, batches in tables:
            if t.name == args.profile:
                import cProfile
                import pstats

                m = _copy.Mapper(t, trs, known_spec(plan, schema, t))
                prof = cProfile.Profile()
                prof.enable()
                for lines in batches:
                    m.apply_prefix_batch(lines, decoders, encode_column)
                prof.disable()
                pstats.Stats(prof, stream=sys.stderr).sort_stats("tottime").print_stats(30)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
