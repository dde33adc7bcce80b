"""Benchmark `stagewall scan` on a generated corpus; compare with Checkov if available.

Prints JSON. Usage: python bench/scan.py [--files 5000] [--modules 120]
[--terraform-dir DIR ...] [--checkov /tmp/checkov-venv/bin/checkov]
[--checkov-sample N] [--real-only] [--corpus] [--ab REV [--runs N]]

Three Terraform workloads: the generated flat corpus (fast path only), a module-heavy
corpus built from the module-style files in tests/scan/corpus/modules (functions,
conditionals, for expressions, dynamic blocks, policies in jsonencode) and, with
``--terraform-dir``, real checkouts (for example terraform-aws-modules repositories)
copied .tf-only. For each: files/s, the share the fast HCL reader parsed without
python-hcl2, and the ratio to Checkov on the same files in the same run.

``--corpus`` scores the labelled corpus (tests/scan/corpus/expected.yaml): precision
(findings that are labelled true / all findings) and recall (labelled crossings found),
overall and for each round of labels, plus the files per CPU-second of that scan.

``--ab REV`` compares the scan speed of this tree with ``REV``'s ``src/`` (extracted with
``git archive``): runs alternate (old, new, old, ...) in fresh processes, each scanning the
generated corpus (``--files``, serially: one worker) and ``REV``'s labelled corpus, and the
JSON gives the CPU seconds of each run, the medians and the ratio new/old.

Checkov is run from its own virtualenv (never install it into the project's):
``python3 -m venv /tmp/checkov-venv && /tmp/checkov-venv/bin/pip install checkov``.
It is given ``--skip-download`` so it does not wait on the network.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from stagewall.scan import scan_paths

ENVS = ["prod", "staging", "dev"]


def _tf(i: int, env: str) -> str:
    return f'''locals {{
  env = "{env}"
}}
variable "db_host_{i}" {{
  default = "db{i}.{env}.example.internal"
}}
resource "aws_db_instance" "db_{i}" {{
  identifier        = "shop-${{local.env}}-{i}"
  storage_encrypted = {"true" if i % 3 else "false"}
}}
resource "aws_s3_bucket" "b_{i}" {{
  bucket = "assets-{env}-{i}"
}}
resource "aws_security_group" "sg_{i}" {{
  ingress {{
    from_port   = 5432
    to_port     = 5432
    cidr_blocks = ["10.{i % 250}.0.0/16"]
  }}
}}
'''


def _k8s(i: int, env: str) -> str:
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-{i}
  namespace: shop-{env}
spec:
  template:
    spec:
      containers:
        - name: app
          image: shop:{i}
          env:
            - name: DATABASE_URL
              value: postgres://app@db.prod.example.internal/shop?sslmode=disable
---
apiVersion: v1
kind: Service
metadata:
  name: app-{i}
  namespace: shop-{env}
spec:
  ports: [{{port: 80}}]
"""


def make_corpus(root: Path, n: int) -> dict[str, int]:
    rng = random.Random(7)
    counts: dict[str, int] = {}
    for i in range(n):
        env = rng.choice(ENVS)
        kind = i % 6
        d = root / "envs" / env / f"svc{i // 50}"
        d.mkdir(parents=True, exist_ok=True)
        if kind in (0, 1):
            name, text = f"main_{i}.tf", _tf(i, env)
        elif kind == 2:
            name, text = f"k8s_{i}.yaml", _k8s(i, env)
        elif kind == 3:
            name = f"app_{i}.env"
            text = f"DATABASE_URL=postgres://app@db.{env}.example.internal/shop\nCACHE=redis://cache.{env}.example.internal:6379\n"
        elif kind == 4:
            name = f"config_{i}.json"
            text = json.dumps(
                {
                    "api": {
                        "base_url": f"https://api.{env}.example.com",
                        "timeout": 5,
                        "tls": i % 2 == 0,
                    }
                }
            )
        else:
            name = f"settings_{i}.toml"
            text = f'[db]\nhost = "db.{env}.example.internal"\nport = 5432\nsslmode = "require"\n'
        (d / name).write_text(text)
        ext = name.rsplit(".", 1)[-1]
        counts[ext] = counts.get(ext, 0) + 1
    return counts


MODULE_SOURCE = Path(__file__).resolve().parents[1] / "tests" / "scan" / "corpus" / "modules"


def make_module_corpus(root: Path, copies: int) -> int:
    """``copies`` renamed copies of each module-style file (module-heavy Terraform)."""
    sources = sorted(MODULE_SOURCE.rglob("*.tf"))
    for i in range(copies):
        for src in sources:
            target = root / f"module{i}" / src.relative_to(MODULE_SOURCE)
            target.parent.mkdir(parents=True, exist_ok=True)
            text = src.read_text("utf-8").replace('"this"', f'"this{i}"')
            target.write_text(text.replace(".this[", f".this{i}["), "utf-8")
    return copies * len(sources)


def copy_terraform(sources: list[Path], root: Path) -> int:
    count = 0
    for n, source in enumerate(sources):
        for path in source.rglob("*.tf"):
            if ".terraform" in path.parts:
                continue
            target = root / f"src{n}" / path.relative_to(source)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
            count += 1
    return count


def fast_path_share(root: Path) -> tuple[float, float]:
    """The share of .tf files the fast HCL reader parses without python-hcl2, and its
    files per CPU-second (the reader alone, texts already in memory)."""
    from stagewall.scan.readers import _hcl

    texts = []
    for path in root.rglob("*.tf"):
        try:
            texts.append(path.read_text("utf-8"))
        except UnicodeDecodeError:
            texts.append("")
    fast = 0
    cpu0 = time.process_time()
    for text in texts:
        try:
            _hcl.loads(text)
            fast += 1
        except (_hcl.Unsupported, RecursionError):
            pass
    cpu = time.process_time() - cpu0
    return round(fast / max(1, len(texts)), 3), round(len(texts) / max(cpu, 1e-9), 1)


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def sample_dirs(root: Path, limit: int) -> Path:
    """A copy of whole directories of ``root`` (sorted, deterministic) with about
    ``limit`` .tf files: Checkov reads a directory's module calls, so directories are
    never split."""
    target = root.parent / (root.name + "-sample")
    by_dir: dict[Path, list[Path]] = {}
    for path in sorted(root.rglob("*.tf")):
        by_dir.setdefault(path.parent, []).append(path)
    taken = 0
    for directory in sorted(by_dir):
        if taken >= limit:
            break
        for path in by_dir[directory]:
            dest = target / path.relative_to(root)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, dest)
            taken += 1
    return target


def measure_terraform(root: Path, checkov: str, checkov_sample: int = 0) -> dict[str, object]:
    """files/s of the library (in-process) and the CLI, and the Checkov ratio.

    With ``checkov_sample`` Checkov runs on about that many files (whole directories)
    and stagewall on the same sample, so the ratio stays same-files, same-run, while a
    slow Checkov does not make the bench run for an hour."""
    if checkov_sample:
        full = measure_terraform(root, "", 0)
        sample = sample_dirs(root, checkov_sample)
        try:
            full["checkov_on_sample"] = measure_terraform(sample, checkov, 0)
        finally:
            shutil.rmtree(sample, ignore_errors=True)
        return full
    cpu0 = _cpu()
    start = time.perf_counter()
    result = scan_paths([root])
    wall = time.perf_counter() - start
    cpu = _cpu() - cpu0
    share, reader_rate = fast_path_share(root)
    out: dict[str, object] = {
        "files": result.stats.files_scanned,
        "wall_seconds": round(wall, 3),
        "files_per_second": round(result.stats.files_scanned / wall, 1),
        # CPU seconds of this process and its scan workers: what a loaded machine
        # does not distort (files/s per core)
        "files_per_cpu_second": round(result.stats.files_scanned / max(cpu, 1e-9), 1),
        "load_average": os.getloadavg()[0],
        "fast_path_share": share,
        "fast_reader_files_per_cpu_second": reader_rate,
        "parse_errors": sum(1 for f in result.active if f.rule_id == "SW-SCAN-012"),
    }
    cli = Path(sys.executable).parent / "stagewall"
    start = time.perf_counter()
    subprocess.run(
        [str(cli), "scan", str(root), "--format", "json", "--out", os.devnull],
        check=False, capture_output=True,
    )  # fmt: skip
    cli_wall = time.perf_counter() - start
    out["cli_wall_seconds"] = round(cli_wall, 3)
    if not checkov:
        pass
    elif shutil.which(checkov) or Path(checkov).exists():
        took = run_checkov(checkov, root)
        out["checkov_wall_seconds"] = round(took, 3) if isinstance(took, float) else took
        if isinstance(took, float):
            out["speedup_cli_vs_checkov"] = round(took / cli_wall, 1)
            out["speedup_library_vs_checkov"] = round(took / wall, 1)
    else:
        out["checkov"] = f"not installed at {checkov}"
    return out


def run_checkov(checkov: str, directory: Path) -> float | str:
    start = time.perf_counter()
    try:
        subprocess.run(
            [checkov, "-d", str(directory), "--framework", "terraform", "--quiet", "-o", "json",
             "--skip-download"],
            check=False, capture_output=True, timeout=1800,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"checkov failed: {exc}"
    return time.perf_counter() - start


CORPUS = Path(__file__).resolve().parents[1] / "tests" / "scan" / "corpus"


def score_corpus(corpus: Path = CORPUS) -> dict[str, object]:
    """Precision and recall of a scan of the labelled corpus, per round of labels."""
    import yaml

    from stagewall.estate import load_estate

    labels = yaml.safe_load((corpus / "expected.yaml").read_text("utf-8"))
    estate = load_estate(corpus / "stagewall.yaml").estate
    cpu, start = _cpu(), time.perf_counter()
    result = scan_paths([corpus], estate)
    wall, cpu = time.perf_counter() - start, _cpu() - cpu
    found = {(f.rule_id, f.file, f.line) for f in result.active}

    def keys(name: str) -> set[tuple[str, str, int]]:
        return {(i["rule"], i["file"], i["line"]) for i in labels.get(name) or []}

    # every round's list (other_findings_round8...), as tests/scan/test_corpus.py reads them
    true = {k for name in labels if name.startswith("other_findings") for k in keys(name)}
    out: dict[str, object] = {"files": result.stats.files_scanned, "findings": len(found)}
    crossings: set[tuple[str, str, int]] = set()
    for name in sorted(k for k in labels if k.startswith("crossings")):
        crossings |= keys(name)
        found_here = keys(name) & found
        out[f"recall_{name}"] = round(len(found_here) / max(1, len(keys(name))), 3)
        out[f"missed_{name}"] = sorted(f"{r} {f}:{n}" for r, f, n in keys(name) - found)
    true |= crossings
    out["precision"] = round(len(found & true) / max(1, len(found)), 3)
    out["recall"] = round(len(found & crossings) / max(1, len(crossings)), 3)
    out["false_positives"] = sorted(f"{r} {f}:{n}" for r, f, n in found - true)
    out["wall_seconds"] = round(wall, 3)
    out["files_per_cpu_second"] = round(result.stats.files_scanned / max(cpu, 1e-9), 1)
    return out


_AB_RUN = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from stagewall.estate import load_estate
from stagewall.scan import ScanOptions, scan_paths
serial = ScanOptions(workers=1)
out = {}
for name, root, estate in (
    ("generated", Path(sys.argv[2]), None),
    ("labelled", Path(sys.argv[3]), load_estate(Path(sys.argv[3]) / "stagewall.yaml").estate),
):
    cpu = time.process_time()
    result = scan_paths([root], estate, serial)
    out[name + "_cpu_seconds"] = round(time.process_time() - cpu, 3)
    out[name + "_files"] = result.stats.files_scanned
    out[name + "_findings"] = len(result.active)
print(json.dumps(out))
"""


def ab(rev: str, files: int, runs: int) -> dict[str, object]:
    """Scan CPU time of this tree against ``rev``, alternating runs (see the docstring)."""
    import statistics
    import tarfile

    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "old.tar"
        subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "archive",
                "-o",
                str(archive),
                rev,
                "src",
                "tests/scan/corpus",
            ],
            check=True,
        )
        with tarfile.open(archive) as tar:
            tar.extractall(Path(tmp) / "old", filter="data")
        corpus = Path(tmp) / "generated"
        make_corpus(corpus, files)
        sides = {"old": Path(tmp) / "old" / "src", "new": root / "src"}
        labelled = Path(tmp) / "old" / "tests" / "scan" / "corpus"
        found: dict[str, list[dict[str, float]]] = {"old": [], "new": []}
        for _ in range(runs):
            for side, src in sides.items():
                done = subprocess.run(
                    # both sides scan REV's labelled corpus (its estate is one both can read)
                    [sys.executable, "-c", _AB_RUN, str(src), str(corpus), str(labelled)],
                    check=True, capture_output=True, text=True,
                )  # fmt: skip
                found[side].append(json.loads(done.stdout))

    def med(side: str, key: str) -> float:
        return statistics.median(float(r[key]) for r in found[side])

    out: dict[str, object] = {"rev": rev, "load_average_1m": round(os.getloadavg()[0], 2)}
    for name in ("generated", "labelled"):
        key = f"{name}_cpu_seconds"
        out[f"old_{key}_median"], out[f"new_{key}_median"] = med("old", key), med("new", key)
        out[f"{name}_cpu_ratio_new_over_old"] = round(med("new", key) / med("old", key), 3)
    out["runs"] = found
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--modules", type=int, default=120, help="copies of the module corpus")
    parser.add_argument(
        "--terraform-dir", action="append", type=Path, default=[], help="a real checkout"
    )
    parser.add_argument(
        "--checkov", default=os.environ.get("CHECKOV", "/tmp/checkov-venv/bin/checkov")
    )
    parser.add_argument(
        "--checkov-sample",
        type=int,
        default=0,
        help="run Checkov (and stagewall again) on about N files of each --terraform-dir",
    )
    parser.add_argument(
        "--real-only", action="store_true", help="only the --terraform-dir checkouts"
    )
    parser.add_argument(
        "--corpus", action="store_true", help="precision/recall on the labelled corpus"
    )
    parser.add_argument("--ab", metavar="REV", help="scan CPU time against REV's src/")
    parser.add_argument("--runs", type=int, default=3, help="--ab: runs of each side")
    args = parser.parse_args()
    if args.ab:
        print(json.dumps({"scan_ab": ab(args.ab, args.files, args.runs)}, indent=2))
        return
    if args.corpus:
        print(json.dumps({"labelled_corpus": score_corpus()}, indent=2))
        return
    if args.real_only:
        if not args.terraform_dir:
            parser.error("--real-only needs --terraform-dir")
        real_root = Path(tempfile.mkdtemp(prefix="sw-bench-real-"))
        try:
            copy_terraform(args.terraform_dir, real_root)
            result = measure_terraform(real_root, args.checkov, args.checkov_sample)
        finally:
            shutil.rmtree(real_root, ignore_errors=True)
        print(json.dumps({"real_terraform": result}, indent=2))
        return
    root = Path(tempfile.mkdtemp(prefix="sw-bench-"))
    try:
        counts = make_corpus(root, args.files)
        start = time.perf_counter()
        result = scan_paths([root])
        wall = time.perf_counter() - start
        out: dict[str, object] = {
            "files": result.stats.files_scanned,
            "by_extension": counts,
            "findings": len(result.active),
            "wall_seconds": round(wall, 3),
            "files_per_second": round(result.stats.files_scanned / wall, 1),
        }
        tf_root = root.parent / (root.name + "-tf")
        for path in root.rglob("*.tf"):
            target = tf_root / path.relative_to(root)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
        start = time.perf_counter()
        tf_result = scan_paths([tf_root])
        tf_wall = time.perf_counter() - start
        out["terraform_files"] = tf_result.stats.files_scanned
        out["terraform_wall_seconds"] = round(tf_wall, 3)
        cli = Path(sys.executable).parent / "stagewall"
        start = time.perf_counter()
        subprocess.run(
            [str(cli), "scan", str(tf_root), "--format", "json", "--out", os.devnull],
            check=False, capture_output=True,
        )  # fmt: skip
        cli_wall = time.perf_counter() - start
        out["terraform_cli_wall_seconds"] = round(cli_wall, 3)
        if shutil.which(args.checkov) or Path(args.checkov).exists():
            checkov = run_checkov(args.checkov, tf_root)
            out["checkov_wall_seconds"] = (
                round(checkov, 3) if isinstance(checkov, float) else checkov
            )
            if isinstance(checkov, float):
                # both as command-line runs (start-up included), and library vs command
                out["speedup_cli_vs_checkov"] = round(checkov / cli_wall, 1)
                out["speedup_library_vs_checkov"] = round(checkov / tf_wall, 1)
        else:
            out["checkov"] = f"not installed at {args.checkov}"
        shutil.rmtree(tf_root, ignore_errors=True)
        module_root = root.parent / (root.name + "-modules")
        make_module_corpus(module_root, args.modules)
        out["module_heavy_terraform"] = measure_terraform(module_root, args.checkov)
        shutil.rmtree(module_root, ignore_errors=True)
        if args.terraform_dir:
            real_root = root.parent / (root.name + "-real")
            copy_terraform(args.terraform_dir, real_root)
            out["real_terraform"] = measure_terraform(real_root, args.checkov, args.checkov_sample)
            shutil.rmtree(real_root, ignore_errors=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
