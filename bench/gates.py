"""Gates benchmark: reading who wrote a change, at the 10,000-commit cap.

Usage: python bench/gates.py [--commits 10000]
Builds a throw-away repository with ``git fast-import`` (authors rotating over five
identities), then times rev-list + batch parse (what ``gate submit`` does) against
one ``git cat-file`` process per commit (the naive baseline), in the same process.
Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stagewall.gates._git import Repo

EMAILS = [
    "dana@devshop.example",
    "alice@example.com",
    "bob@example.com",
    "x@y.example",
    "c@d.example",
]


def build(repo: Path, n: int) -> str:
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    lines: list[str] = []
    for i in range(n):
        email = EMAILS[i % len(EMAILS)]
        msg = f"commit {i}\n"
        lines += [
            "commit refs/heads/main",
            f"mark :{i + 1}",
            f"author A <{email}> {1700000000 + i} +0000",
            f"committer C <{email}> {1700000000 + i} +0000",
            f"data {len(msg)}",
            msg.rstrip("\n"),
        ]
        if i:
            lines.append(f"from :{i}")
        lines.append("")
    data = ("\n".join(lines) + "\n").encode()
    subprocess.run(["git", "-C", str(repo), "fast-import", "--quiet"], input=data, check=True)
    return subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "main"], capture_output=True, text=True, check=True
    ).stdout.strip()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--commits", type=int, default=10_000)
    ap.add_argument("--baseline-sample", type=int, default=300)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        head = build(Path(tmp) / "r", args.commits)
        os.environ["STAGEWALL_GATES_MAX_COMMITS"] = str(args.commits)
        repo = Repo(Path(tmp) / "r")
        t0 = time.perf_counter()
        shas = repo.rev_list(head, None, cap=args.commits)
        commits = repo.commits(shas)
        batch = time.perf_counter() - t0
        sample = shas[: args.baseline_sample]
        t0 = time.perf_counter()
        for sha in sample:
            repo.commit(sha)
        naive_per = (time.perf_counter() - t0) / len(sample)
    per_commit_batch = batch / len(commits)
    print(
        json.dumps(
            {
                "commits": len(commits),
                "batch_seconds": round(batch, 3),
                "batch_us_per_commit": round(per_commit_batch * 1e6, 1),
                "naive_us_per_commit": round(naive_per * 1e6, 1),
                "speedup_vs_naive": round(naive_per / per_commit_batch, 1),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
