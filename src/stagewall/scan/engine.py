"""Walk the paths, read each file, attribute it, run the rules, apply suppressions.

Nothing found is ever executed: files are read as text and parsed by data parsers.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import os
import stat
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from stagewall.errors import UsageError
from stagewall.estate import Estate
from stagewall.scan._budget import Deadline, TooSlow, decode, interrupt_after
from stagewall.scan._env import EXAMPLE_ENV, EnvModel, glob_regex
from stagewall.scan._gitlab import GitlabPipelines, find_pipelines
from stagewall.scan._model import (
    UNKNOWN_ENV,
    Attribution,
    Finding,
    ScanStats,
    Severity,
    Skipped,
    Suppression,
    SuppressionKind,
    Tier,
)
from stagewall.scan._profiles import profile_documents
from stagewall.scan._refs import ResourceIndex
from stagewall.scan._reusable import REUSABLE, find_reusable
from stagewall.scan._suppress import Ignore, inline_reason, parse_ignores
from stagewall.scan.readers import Kind, Parsed, ReaderError, TerraformContext, read_file
from stagewall.scan.readers.compose import add_env_files
from stagewall.scan.rules import FileContext, FileSummary, Rule, RunContext, all_rules
from stagewall.scan.rules.ci import PIPELINE, job_environments
from stagewall.scan.rules.ci import jobs as ci_jobs
from stagewall.scan.rules.ci import workflow as ci_workflow
from stagewall.scan.rules.meta import FileTooSlow, IgnoreWithoutReason, ParseError

DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024
DEFAULT_FILE_TIME_BUDGET = 20.0
DEFAULT_EXCLUDES = frozenset(
    {
        ".git", ".hg", ".svn", "node_modules", ".venv", "venv", ".terraform", "__pycache__",
        ".hypothesis", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".tox", ".nox", ".stagewall",
    }
)  # fmt: skip


FileResult = tuple[list[Finding], FileSummary, list[Ignore]]


@dataclass(frozen=True)
class ScanOptions:
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    excludes: frozenset[str] = DEFAULT_EXCLUDES
    exclude_globs: tuple[str, ...] = ()
    baseline: dict[str, str] | None = None
    workers: int | None = None  # None: one per CPU (at most 8)
    parallel_threshold: int = 300  # fewer files than this are scanned in-process
    file_time_budget: float = DEFAULT_FILE_TIME_BUDGET  # seconds per file, then "too slow"


@dataclass
class ScanResult:
    roots: list[str]
    estate_used: bool
    estate_path: str | None
    findings: list[Finding]
    stats: ScanStats
    files: list[str] = field(default_factory=list)

    @property
    def active(self) -> list[Finding]:
        return [f for f in self.findings if f.suppression is None]

    @property
    def suppressed(self) -> list[Finding]:
        return [f for f in self.findings if f.suppression is not None]

    def counts_by_rule(self) -> dict[str, int]:
        return dict(sorted(Counter(f.rule_id for f in self.active).items()))

    def suppressed_by_rule(self) -> dict[str, dict[str, int]]:
        """Per rule, how many findings were suppressed and by what (``inline``: a
        ``stagewall:ignore`` comment, ``baseline``: the ``--baseline`` file), so that a
        suppression cannot hide a whole class of findings from the summary."""
        out: dict[str, dict[str, int]] = {}
        for f in self.suppressed:
            by = out.setdefault(f.rule_id, {"inline": 0, "baseline": 0})
            inline = f.suppression is not None and f.suppression.kind is SuppressionKind.INLINE
            by["inline" if inline else "baseline"] += 1
        return dict(sorted(out.items()))

    def counts_by_severity(self) -> dict[str, int]:
        counts = Counter(f.severity.label for f in self.active)
        return {s.label: counts.get(s.label, 0) for s in Severity}

    def failing(self, threshold: Severity) -> list[Finding]:
        return [f for f in self.active if f.severity >= threshold]

    def paths_hash(self) -> str:
        return hashlib.sha256("\n".join(sorted(self.files)).encode("utf-8")).hexdigest()


def _walk(root: Path, options: ScanOptions, stats: ScanStats) -> list[tuple[Path, str]]:
    """(absolute path, path relative to root) of every regular file under root."""
    if root.is_file():
        try:
            shown = root.resolve().relative_to(Path.cwd().resolve()).as_posix()
        except ValueError:
            shown = root.as_posix()
        return [(root, shown)]
    real_root = root.resolve()
    seen: set[tuple[int, int]] = set()
    out: list[tuple[Path, str]] = []
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            st = directory.stat()
        except OSError:
            continue
        if (st.st_dev, st.st_ino) in seen:
            stats.skipped.append(
                Skipped(_rel(directory, root), "directory already visited (symlink loop)")
            )
            continue
        seen.add((st.st_dev, st.st_ino))
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            stats.skipped.append(
                Skipped(_rel(directory, root), f"unreadable directory: {exc.strerror}")
            )
            continue
        for entry in entries:
            path = Path(entry.path)
            if entry.name in options.excludes or _excluded(_rel(path, root), options):
                continue
            try:
                if entry.is_symlink():
                    target = path.resolve()
                    if not target.is_relative_to(real_root):
                        stats.skipped.append(
                            Skipped(_rel(path, root), "symlink out of the scanned tree")
                        )
                        continue
                mode = path.stat().st_mode
            except (OSError, RuntimeError):
                stats.skipped.append(Skipped(_rel(path, root), "broken symlink or unreadable"))
                continue
            if stat.S_ISDIR(mode):
                stack.append(path)
            elif stat.S_ISREG(mode):
                out.append((path, _rel(path, root)))
    return sorted(out, key=lambda item: item[1])


def _excluded(rel: str, options: ScanOptions) -> bool:
    return any(glob_regex(g).match(rel) for g in options.exclude_globs)


_DEPLOYERS = frozenset({"Application", "ApplicationSet", "HelmRelease", "Kustomization"})


def target_namespace(doc: object) -> tuple[str | None, str]:
    """The namespace a manifest lands in: Argo CD ``spec.destination.namespace`` and Flux
    ``spec.targetNamespace`` for deployers (they live in ``argocd``/``flux-system``),
    else ``metadata.namespace``."""
    if not isinstance(doc, dict):
        return None, ""
    spec = doc.get("spec")
    if doc.get("kind") in _DEPLOYERS and isinstance(spec, dict):
        dest = spec.get("destination")
        if isinstance(dest, dict) and isinstance(dest.get("namespace"), str):
            return dest["namespace"], "Argo CD destination namespace"
        if isinstance(spec.get("targetNamespace"), str):
            return spec["targetNamespace"], "Flux target namespace"
    meta = doc.get("metadata")
    ns = meta.get("namespace") if isinstance(meta, dict) else None
    return (ns, "namespace") if isinstance(ns, str) else (None, "")


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


class Scanner:
    def __init__(self, estate: Estate | None, options: ScanOptions | None = None) -> None:
        self.estate = estate
        self.options = options or ScanOptions()
        self.env = EnvModel(estate)
        self.index = ResourceIndex(estate, self.env)
        self.rules: list[Rule] = [cls() for cls in all_rules()]
        self.tf = TerraformContext()
        self.gitlab = GitlabPipelines()
        self.reusable: dict[str, dict[str, object]] = {}

    def _content_attribution(self, parsed: Parsed | None) -> Attribution | None:
        if parsed is not None and parsed.kind is Kind.KUBERNETES:
            found: dict[str | None, Attribution | None] = {}
            for doc in parsed.documents:
                ns, what = target_namespace(doc)
                if ns is not None:
                    att = self.env.attribute_namespace(ns)
                    if att is not None and what != "namespace":
                        att = Attribution(att.environment, att.tier, f"{what} {ns}")
                    found.setdefault(att.environment if att else None, att)
            if len(found) == 1 and None not in found:
                return next(iter(found.values()))
        if parsed is not None and parsed.kind in (Kind.GITHUB_ACTIONS, Kind.GITLAB_CI):
            by_env: dict[str | None, Attribution] = {}
            doc = ci_workflow(parsed)
            for job_id, job, _ in ci_jobs(parsed):
                for att in job_environments(self.env, job, job_id, doc):
                    by_env.setdefault(att.environment, att)
            if len(by_env) == 1:
                return next(iter(by_env.values()))
        return None

    def scan_file(self, path: Path, rel: str, stats: ScanStats) -> FileResult | None:
        try:
            size = path.stat().st_size
            if size > self.options.max_file_size:
                stats.skipped.append(
                    Skipped(rel, f"larger than {self.options.max_file_size} bytes")
                )
                return None
            with path.open("rb") as fh:
                # what stat saw (at least 1 MiB: some files report size 0), plus one byte to
                # notice growth: a read of max_file_size + 1 allocates that much up front,
                # even for a tiny file
                data = fh.read(min(max(size, 1 << 20), self.options.max_file_size) + 1)
            if len(data) > self.options.max_file_size:  # it grew since stat
                stats.skipped.append(
                    Skipped(rel, f"larger than {self.options.max_file_size} bytes")
                )
                return None
        except OSError as exc:
            stats.skipped.append(Skipped(rel, f"unreadable: {exc.strerror}"))
            return None
        text, _ = decode(data)
        if text is None:
            stats.skipped.append(Skipped(rel, "binary"))
            return None
        if text.startswith("\ufeff"):
            text = text[1:]
        stats.files_scanned += 1
        budget = self.options.file_time_budget
        deadline = Deadline(budget)
        try:
            with interrupt_after(budget):
                return self._scan_text(path, rel, text, deadline)
        except TooSlow:
            stats.skipped.append(Skipped(rel, "too slow"))
            attribution = self.env.attribute_path(rel) or UNKNOWN_ENV
            finding = Finding(
                FileTooSlow.id,
                FileTooSlow.severity,
                f"skipped: too slow (over the {budget:g} s per-file budget); "
                "this file's findings are incomplete",
                rel,
                1,
                attribution.label,
                "skipped: too slow",
                anchor="too-slow",
                environment_reason=attribution.reason,
            )
            return [finding], FileSummary(rel, attribution, []), []

    def _scan_text(self, path: Path, rel: str, text: str, deadline: Deadline) -> FileResult:
        findings: list[Finding] = []
        parsed: Parsed | None = None
        try:
            parsed = read_file(path, rel, text, self.tf)
            pipeline = self.gitlab.merged_for(rel)
            if pipeline is not None and parsed.kind in (Kind.YAML, Kind.GITLAB_CI):
                parsed.kind = Kind.GITLAB_CI
                parsed.extra[PIPELINE] = pipeline
            if parsed.kind is Kind.COMPOSE:
                add_env_files(
                    parsed,
                    path,
                    rel,
                    self.tf.env_file,
                    self.env.attribute_path,
                    self.tf.dotenv(path.parent),
                )
            if parsed.kind is Kind.GITHUB_ACTIONS and self.reusable:
                parsed.extra[REUSABLE] = self.reusable
        except ReaderError as exc:
            findings.append(self._parse_error(rel, exc.message, exc.line, exc.message[:120]))
        except RecursionError:
            findings.append(self._parse_error(rel, "nesting too deep to parse", 1, "recursion"))
        except (TooSlow, MemoryError, KeyboardInterrupt):
            raise
        except Exception as exc:  # a reader bug must not stop the scan or hide the file
            findings.append(
                self._parse_error(
                    rel, f"could not read this file: {type(exc).__name__}", 1, type(exc).__name__
                )
            )
        deadline.check()
        refs = [(e, r) for e in (parsed.entries if parsed else []) for r in self.index.refs(e)]
        deadline.check()
        if parsed is not None and parsed.kind in (Kind.GITHUB_ACTIONS, Kind.GITLAB_CI):
            # a pipeline file says where its jobs run; its directory (ci/, .gitlab/) does not
            # (an example or fixture pipeline runs nowhere)
            by_path = self.env.attribute_path(rel)
            attribution = (
                by_path if by_path is EXAMPLE_ENV else self._content_attribution(parsed) or by_path
            )
        else:
            attribution = self.env.attribute_path(rel)
            if attribution is EXAMPLE_ENV and parsed is not None and parsed.kind is Kind.KUBERNETES:
                # kustomize and Argo CD apply a manifest from any directory: the
                # namespace it lands in says more than an examples/ path
                attribution = self._content_attribution(parsed) or attribution
            attribution = attribution or self._content_attribution(parsed)
        if attribution is None and not profile_documents(text, parsed, self.env):
            # (a file with a document per Spring profile is in no one environment)
            envs = {r.attribution.environment for _, r in refs if r.declared}
            if len(envs) == 1 and None not in envs:
                env = envs.pop() or ""
                attribution = Attribution(
                    env, self.env.tier_of(env), f"references only {env} resources"
                )
        attribution = attribution or UNKNOWN_ENV
        findings = [
            Finding(
                f.rule_id,
                f.severity,
                f.message,
                f.file,
                f.line,
                attribution.label,
                f.evidence,
                environment_reason=attribution.reason,
            )
            for f in findings
        ]
        ctx = FileContext(rel, text, parsed, attribution, self.env, self.index, self.estate, refs)
        for rule in self.rules:
            deadline.check()
            try:
                findings.extend(rule.check(ctx))
            except (TooSlow, MemoryError, KeyboardInterrupt):
                raise
            except Exception as exc:  # a rule bug must not hide the rest of the scan
                findings.append(
                    Finding(
                        ParseError.id,
                        ParseError.severity,
                        f"internal error in {rule.id} on this file: {type(exc).__name__}",
                        rel,
                        1,
                        attribution.label,
                        type(exc).__name__,
                        environment_reason=attribution.reason,
                    )
                )
        ignores, bad = parse_ignores(text)
        for item in bad:
            findings.append(
                Finding(
                    IgnoreWithoutReason.id,
                    IgnoreWithoutReason.severity,
                    item.problem,
                    rel,
                    item.line,
                    attribution.label,
                    "stagewall:ignore",
                    anchor=str(item.line),
                    environment_reason=attribution.reason,
                )
            )
        return findings, FileSummary(rel, attribution, refs), ignores

    @staticmethod
    def _parse_error(rel: str, message: str, line: int, evidence: str) -> Finding:
        return Finding(ParseError.id, ParseError.severity, message, rel, line, "unknown", evidence)

    def scan(self, paths: list[Path]) -> ScanResult:
        with _fewer_collections():
            return self._scan(paths)

    def _scan(self, paths: list[Path]) -> ScanResult:
        stats = ScanStats()
        findings: list[Finding] = []
        summaries: list[FileSummary] = []
        ignores: dict[str, list[Ignore]] = {}
        for root in paths:
            if not root.exists():
                raise UsageError(
                    f"{root}: no such file or directory", hint="check the path to scan"
                )
        roots = [str(root) for root in paths]
        walked = [item for root in paths for item in _walk(root, self.options, stats)]
        files = [rel for _, rel in walked]
        # before the workers fork, so each inherits the include graphs
        self.gitlab = find_pipelines(walked)
        self.reusable = find_reusable(walked)
        for (_, rel), result in zip(walked, self._scan_all(walked, stats), strict=True):
            if result is not None:
                file_findings, summary, file_ignores = result
                findings.extend(file_findings)
                summaries.append(summary)
                if file_ignores:
                    ignores[rel] = file_ignores
        run = RunContext(summaries, self.env, self.index, self.estate)
        for rule in self.rules:
            findings.extend(rule.finish(run))
        findings = self._finalise(findings, ignores)
        return ScanResult(roots, self.estate is not None, None, findings, stats, files)

    def _scan_all(
        self, walked: list[tuple[Path, str]], stats: ScanStats
    ) -> list[FileResult | None]:
        """Scan files in order; large trees are split by directory over worker processes
        (fork: the workers inherit this scanner, so nothing is re-loaded)."""
        workers = self.options.workers or min(os.cpu_count() or 1, 8)
        if (
            workers < 2
            or len(walked) < self.options.parallel_threshold
            or "fork" not in multiprocessing.get_all_start_methods()
        ):
            return [self.scan_file(path, rel, stats) for path, rel in walked]
        by_dir: dict[str, list[int]] = {}
        for i, (path, _) in enumerate(walked):
            by_dir.setdefault(str(path.parent), []).append(i)
        chunks: list[list[tuple[int, str, str]]] = [[] for _ in range(workers * 4)]
        for n, indexes in enumerate(sorted(by_dir.values(), key=len, reverse=True)):
            smallest = min(range(len(chunks)), key=lambda c: len(chunks[c])) if n else 0
            chunks[smallest].extend((i, str(walked[i][0]), walked[i][1]) for i in indexes)
        global _WORKER
        _WORKER = self
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                parts = pool.map(_scan_chunk, [c for c in chunks if c])
        finally:
            _WORKER = None
        results: list[FileResult | None] = [None] * len(walked)
        for part, part_stats in parts:
            for i, result in part:
                results[i] = result
            stats.files_scanned += part_stats.files_scanned
            stats.skipped.extend(part_stats.skipped)
        stats.skipped.sort(key=lambda s: (s.file, s.reason))
        return results

    def _finalise(self, findings: list[Finding], ignores: dict[str, list[Ignore]]) -> list[Finding]:
        findings.sort(key=lambda f: (f.file, f.line, f.rule_id, f.anchor, f.message))
        occurrences: Counter[tuple[str, str, str]] = Counter()
        out: list[Finding] = []
        baseline = self.options.baseline or {}
        for f in findings:
            key = (f.rule_id, f.file, f.anchor or f.evidence)
            f = f.with_fingerprint(occurrences[key])
            occurrences[key] += 1
            reason = (
                inline_reason(f, ignores.get(f.file, []))
                if f.rule_id != IgnoreWithoutReason.id
                else None
            )
            if reason is not None:
                f = f.suppressed(Suppression(SuppressionKind.INLINE, reason))
            elif f.fingerprint in baseline:
                f = f.suppressed(Suppression(SuppressionKind.BASELINE, baseline[f.fingerprint]))
            out.append(f)
        return out


_WORKER: Scanner | None = None
_GC_FIRST_THRESHOLD = 20_000


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """A scan allocates millions of small containers (tokens, values, entries) that are
    almost never cyclic; at the default threshold (700) the cyclic collector runs
    thousands of times over the same survivors (~9 % of a Terraform scan's CPU). Its
    first threshold is raised for the scan (workers inherit it) and restored after."""
    first, second, third = gc.get_threshold()
    gc.set_threshold(max(first, _GC_FIRST_THRESHOLD), second, third)
    try:
        yield
    finally:
        gc.set_threshold(first, second, third)


def _scan_chunk(
    chunk: list[tuple[int, str, str]],
) -> tuple[list[tuple[int, FileResult | None]], ScanStats]:
    scanner = _WORKER
    if scanner is None:  # only reachable if a pool is started without a scanner
        raise RuntimeError("scan worker started without a scanner")
    stats = ScanStats()
    return [(i, scanner.scan_file(Path(path), rel, stats)) for i, path, rel in chunk], stats


def scan_paths(
    paths: list[Path], estate: Estate | None = None, options: ScanOptions | None = None
) -> ScanResult:
    """Scan files and directories; raises UsageError for a missing path."""
    return Scanner(estate, options).scan(paths)


__all__ = [
    "DEFAULT_EXCLUDES",
    "DEFAULT_FILE_TIME_BUDGET",
    "DEFAULT_MAX_FILE_SIZE",
    "ScanOptions",
    "ScanResult",
    "Scanner",
    "Tier",
    "scan_paths",
]
