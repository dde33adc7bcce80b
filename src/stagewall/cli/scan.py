"""``stagewall scan``: environment-separation scanner (thin: parse, call, print)."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path

import click

from stagewall.cli._common import config_option, db_option
from stagewall.cli._params import PathParam
from stagewall.errors import EXIT_FINDING, EXIT_OK, BackendError, StagewallError, UsageError
from stagewall.estate import load_estate_optional
from stagewall.paths import configured_store_url
from stagewall.scan import (
    ScanOptions,
    Severity,
    SuppressionKind,
    baseline_document,
    load_baseline,
    render,
    scan_paths,
)
from stagewall.scan._audit import record_scan
from stagewall.scan.engine import DEFAULT_FILE_TIME_BUDGET, DEFAULT_MAX_FILE_SIZE

# the largest file scan may be told to read whole (1 TiB): beyond it a size overflows
MAX_FILE_SIZE_LIMIT = 1 << 40


def _finite(ctx: click.Context, param: click.Parameter, value: float) -> float:
    from stagewall.cli._params import seconds

    return seconds(value, "--file-time-budget", at_least=0.1, at_most=3600)


@click.command("scan")
@click.argument("paths", nargs=-1, required=True, type=PathParam(path_type=Path))
@config_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json", "sarif", "junit"]), default="text",
    show_default=True,
    help="Report format.",
)  # fmt: skip
@click.option(
    "--out",
    "out",
    type=PathParam(dir_okay=False, output=True, path_type=Path),
    help="Write the report here.",
)
@click.option(
    "--baseline",
    type=PathParam(dir_okay=False, path_type=Path),
    help="Accept findings listed here.",
)
@click.option(
    "--write-baseline",
    type=PathParam(dir_okay=False, path_type=Path),
    help="Write current findings as a baseline.",
)
@click.option(
    "--fail-on", type=click.Choice(["low", "medium", "high"]), default="medium", show_default=True,
    help="Exit 1 when an unsuppressed finding is at or above this severity.",
)  # fmt: skip
@click.option(
    "--max-file-size",
    type=click.IntRange(min=1, max=MAX_FILE_SIZE_LIMIT),
    default=DEFAULT_MAX_FILE_SIZE,
    show_default=True,
    help="Skip (and count) larger files, in bytes.",
)
@click.option(
    "--file-time-budget",
    type=click.FloatRange(min=0.1, max=3600),
    callback=_finite,
    default=DEFAULT_FILE_TIME_BUDGET,
    show_default=True,
    help="Seconds one file may take; a slower file gets a 'skipped: too slow' finding.",
)
@click.option(
    "--exclude", "exclude", multiple=True, metavar="GLOB",
    help="Skip files or directories whose path (relative to the scanned directory) matches; "
    "repeatable, e.g. --exclude 'tests/**' --exclude '**/*.tpl'.",
)  # fmt: skip
@db_option
def scan_command(
    paths: tuple[Path, ...],
    config: str | None,
    fmt: str,
    out: Path | None,
    baseline: Path | None,
    write_baseline: Path | None,
    fail_on: str,
    max_file_size: int,
    file_time_budget: float,
    exclude: tuple[str, ...],
    db: str | None,
) -> None:
    """Scan configuration for what crosses the wall between production and the rest.

    Exit codes: 0 nothing at or above --fail-on, 1 findings, 2 usage error.
    """
    for path in paths:
        if not path.exists():
            raise UsageError(f"{path}: no such file or directory", hint="check the path to scan")
    loaded = load_estate_optional(config)
    accepted = load_baseline(baseline) if baseline is not None else None
    options = ScanOptions(
        max_file_size=max_file_size,
        baseline=accepted,
        exclude_globs=exclude,
        file_time_budget=file_time_budget,
    )
    result = scan_paths(list(paths), loaded.estate if loaded else None, options)
    result.estate_path = str(loaded.path) if loaded else None
    threshold = Severity.parse(fail_on)
    failed = bool(result.failing(threshold))
    report = render(result, fmt, threshold)
    if out is not None:
        try:
            out.write_text(report, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{out}: cannot write the report: {exc.strerror}") from None
    else:
        click.echo(report, nl=False)
    if write_baseline is not None:
        keep = [
            f
            for f in result.findings
            if f.suppression is None or f.suppression.kind is SuppressionKind.BASELINE
        ]
        try:
            write_baseline.write_text(json.dumps(baseline_document(keep), indent=2) + "\n", "utf-8")
        except OSError as exc:
            raise UsageError(
                f"{write_baseline}: cannot write the baseline: {exc.strerror}"
            ) from None
    url = configured_store_url(db)
    if url is not None:
        try:
            record_scan(result, url, getpass.getuser(), failed)
        except StagewallError:
            raise
        except Exception as exc:
            raise BackendError(
                f"could not record the scan in the audit log: {type(exc).__name__}"
            ) from None
    sys.exit(EXIT_FINDING if failed else EXIT_OK)


COMMANDS: list[click.Command] = [scan_command]
