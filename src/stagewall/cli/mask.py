"""``stagewall mask``: plan, lint, run, verify and list masked copies of a database."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from stagewall.cli._client import Client, server_option
from stagewall.cli._common import config_option, db_option, echo_json, format_option
from stagewall.cli._params import PathParam, estate_name
from stagewall.cli.access import post_review, post_withdrawal, review_options, withdraw_options
from stagewall.errors import (
    EXIT_FINDING,
    EXIT_OK,
    EXIT_USAGE,
    EmptyArgument,
    MaskingJobFailed,
    UsageError,
)

SOURCE_HELP = "Source database URL (sqlite:///f.db, postgresql://u@h:5432/db, mysql://u@h/db)."


@click.group("mask")
def mask() -> None:
    """Masked staging data: classify, plan, run, verify and record (docs/masking.md)."""


# -- plan ----------------------------------------------------------------------------


@mask.command("plan")
@click.option("--source", required=True, help=SOURCE_HELP)
@click.option("--out", "out", required=True, type=PathParam(dir_okay=False), help="Plan file.")
@click.option(
    "--sample",
    default=1000,
    show_default=True,
    type=click.IntRange(min=0),
    help="Rows sampled per table for classification.",
)
@click.option("--schema", "schemas", multiple=True, help="Only these schemas (repeatable).")
@format_option("json")
def plan_cmd(source: str, out: str, sample: int, schemas: tuple[str, ...], fmt: str) -> None:
    """Write a plan listing every column with a transformer or `keep`.

    Exit 1 when the generated plan still has lint errors (it is written anyway,
    for review).
    """
    from stagewall.masking.lint import Severity
    from stagewall.masking.plan import dump_plan
    from stagewall.masking.planner import build_plan

    with _spinner(fmt, "sampling") as tick:
        result = build_plan(source, sample=sample, schemas=schemas or None, progress=tick)
    Path(out).write_text(dump_plan(result.plan), encoding="utf-8")
    plan = result.plan
    columns = [c for t in plan.tables.values() for c in t.columns.values()]
    masked = sum(1 for c in columns if c.transformer != "keep")
    errors = [p for p in result.problems if p.severity is Severity.ERROR]
    if fmt == "json":
        echo_json(
            {
                "plan": out,
                "plan_sha256": plan.sha256(),
                "tables": len(plan.tables),
                "columns": len(columns),
                "masked": masked,
                "sampled_rows": result.sampled_rows,
                "problems": [p.to_json() for p in result.problems],
            }
        )
    else:
        click.echo(
            f"wrote {out}: {len(plan.tables)} tables, {len(columns)} columns, "
            f"{masked} masked, {len(columns) - masked} kept"
        )
        for p in result.problems:
            click.echo(p.render(), err=True)
        click.echo("review the plan like code before `stagewall mask run`")
    sys.exit(EXIT_FINDING if errors else EXIT_OK)


# -- lint ----------------------------------------------------------------------------


@mask.command("lint")
@click.option("--plan", "plan_path", required=True, type=PathParam(dir_okay=False))
@click.option("--source", required=True, help=SOURCE_HELP)
@click.option(
    "--sample",
    default=200,
    show_default=True,
    type=click.IntRange(min=0),
    help="Rows sampled per kept column to re-classify it (0: names only).",
)
@format_option("json")
def lint_cmd(plan_path: str, source: str, sample: int, fmt: str) -> None:
    """Check a plan against the live source. Exit 1 on any error."""
    from stagewall.masking.db import copy_columns, open_database
    from stagewall.masking.lint import Severity, lint_plan, schema_problems, scoped_schema
    from stagewall.masking.plan import load_plan

    plan = load_plan(plan_path)
    samples: dict[tuple[str, str], list[Any]] = {}
    with open_database(source, role="source") as db:
        from stagewall.masking._references import checked

        schema = checked(db, scoped_schema(plan, db.introspect()))
        if sample:
            for table in schema.tables:
                kept = [
                    c.name
                    for c in copy_columns(table)
                    if (cp := plan.column(table.qualified, c.name)) and cp.transformer == "keep"
                ]
                if kept:
                    for col, values in db.sample(table, kept, sample).items():
                        samples[(table.qualified, col)] = values
        in_schema = schema_problems(db, plan, schema)
    problems = lint_plan(plan, schema, samples=samples)
    problems = (
        [p for p in problems if p.severity is Severity.ERROR]
        + in_schema
        + [p for p in problems if p.severity is not Severity.ERROR]
    )
    errors = [p for p in problems if p.severity is Severity.ERROR]
    if fmt == "json":
        echo_json(
            {"plan": plan_path, "ok": not errors, "problems": [p.to_json() for p in problems]}
        )
    else:
        for p in problems:
            click.echo(p.render(), err=True)
        warnings = len(problems) - len(errors)
        click.echo(f"{plan_path}: {len(errors)} errors, {warnings} warnings")
    sys.exit(EXIT_FINDING if errors else EXIT_OK)


# -- run -----------------------------------------------------------------------------


@mask.command("run")
@click.argument("job", required=False, type=estate_name("masking job name"))
@click.option("--plan", "plan_path", default=None, type=PathParam(dir_okay=False))
@click.option("--source", default=None, help=SOURCE_HELP)
@click.option("--target", default=None, help="Target database URL (never the source).")
@click.option("--jobs", default=1, show_default=True, type=click.IntRange(min=1, max=64))
@click.option(
    "--subset",
    "subsets",
    multiple=True,
    help="Subset spec, e.g. 'customers:5%' or 'orders:WHERE …' (repeatable).",
)
@click.option("--replace", is_flag=True, help="Drop the tables an existing target has.")
@click.option("--no-verify", is_flag=True, help="Do not verify the target after the run.")
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="With JOB: wait until the server's run ends (exit 1 if it failed or leaked).",
)
@server_option
@db_option
@format_option("json")
def run_cmd(
    job: str | None,
    plan_path: str | None,
    source: str | None,
    target: str | None,
    jobs: int,
    subsets: tuple[str, ...],
    replace: bool,
    no_verify: bool,
    wait: bool,
    server: str | None,
    db: str | None,
    fmt: str,
) -> None:
    """Stream source → transform → target, verify, and record the run.

    With JOB, ask the stagewall server to run that masking job (declared in its
    stagewall.yaml, with the connection URLs only the server holds); --plan,
    --source and --target are then not used. Without JOB, run here with --plan,
    --source and --target.

    Exit 0 when the target verified clean, 1 when verify found a leak (or the
    server's run failed), 2 on a usage or configuration error (the target is then
    untouched).
    """
    if job is not None:
        if plan_path or source or target or subsets or replace or no_verify or jobs != 1:
            raise UsageError(
                "a server job is configured on the server: JOB takes no --plan, --source, "
                "--target, --subset, --replace, --no-verify or --jobs"
            )
        _run_on_server(job, server, wait, fmt)
        return
    if server is not None:
        raise UsageError("--server needs the JOB to run: stagewall mask run JOB --server URL")
    missing = [
        n for n, v in (("--plan", plan_path), ("--source", source), ("--target", target)) if not v
    ]
    if missing:
        raise UsageError(
            f"missing {', '.join(missing)}",
            hint="run locally with --plan, --source and --target, or name a server JOB",
        )
    plan_path, source, target = str(plan_path), str(source), str(target)
    from stagewall.keys import load_masking_key
    from stagewall.masking import engine
    from stagewall.masking.db import parse_url
    from stagewall.masking.pipeline import run_and_record
    from stagewall.masking.plan import load_plan
    from stagewall.store import open_store

    plan = load_plan(plan_path)
    key = load_masking_key()
    subset_specs = tuple(engine.parse_subset(s) for s in subsets)
    store = open_store(db)  # fail before the run if the record cannot be written
    target_display = parse_url(target, "target").display
    outcome = run_and_record(
        plan,
        source,
        target,
        key,
        store,
        options=engine.RunOptions(jobs=jobs, subset=subset_specs, replace=replace),
        verify_target=not no_verify,
        phase=lambda what: _bar(fmt, what),
    )
    record, index, report, result = (
        outcome.record,
        outcome.audit_index,
        outcome.report,
        outcome.result,
    )
    comparison = dict(record.schema_comparison or {})
    if fmt == "json":
        echo_json(
            {
                **record.to_json(),
                "audit_index": index,
                "verify_report": report.to_json() if report else None,
            }
        )
    else:
        click.echo(
            f"masked {len(record.rows)} tables, {result.total_rows} rows into {target_display} "
            f"in {record.duration_s:.1f}s (run {record.run_id}, audit #{index})"
        )
        if result.objects_created:
            click.echo(
                f"recreated {len(result.objects_created)} views, functions, triggers and comments"
            )
        for what, reason in result.objects_skipped:
            click.echo(f"{what} not recreated: {reason}")
        for what, holds in result.schema_acknowledged:
            click.echo(f"{what} copied as the plan acknowledges (its name holds {holds})")
        for kind in comparison.get("differences", []):
            src_n, tgt_n = comparison["source"][kind], comparison["target"][kind]
            click.echo(
                f"schema: {kind.replace('_', ' ')} {src_n} in the source, {tgt_n} in the copy"
            )
        if report is not None:
            _print_report(report)
        else:
            click.echo("verification skipped (--no-verify)")
    sys.exit(EXIT_FINDING if report is not None and not report.passed else EXIT_OK)


def _run_on_server(job: str, server: str | None, wait: bool, fmt: str) -> None:
    """Start the server's masking job ``job``; with ``wait``, follow it to its end."""
    from urllib.parse import quote

    client = Client(server)
    run = client.request("POST", f"/api/v1/masking/jobs/{quote(job, safe='')}/runs")
    deadline = time.monotonic() + 6 * 3600
    while wait and run["state"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(1.0)
        run = client.request("GET", f"/api/v1/masking/runs/{quote(run['id'], safe='')}")
    failed = run["state"] == "failed" or run.get("verification") == "failed"
    if fmt == "json":
        echo_json(run)
    else:
        click.echo(
            f"masking job {job}: run {run['id']} {run['state']}"
            + (f", verification {run['verification']}" if run.get("verification") else "")
            + (f", {run['total_rows']} rows" if run.get("total_rows") is not None else "")
            + (f" (audit #{run['audit_index']})" if run.get("audit_index") is not None else "")
        )
    if failed:
        raise MaskingJobFailed(
            f"masking job {job} run {run['id']}: "
            + (run.get("error") or "the masked copy did not verify clean")
        )


# -- verify --------------------------------------------------------------------------


@mask.command("verify")
@click.argument("job_names", metavar="[JOB]...", nargs=-1, type=estate_name("masking job name"))
@click.option("--all", "all_jobs", is_flag=True, help="Every masking job of stagewall.yaml.")
@click.option("--plan", "plan_path", type=PathParam(dir_okay=False))
@click.option("--source", help=SOURCE_HELP)
@click.option("--target", help="The masked target database URL.")
@click.option(
    "--subset",
    "is_subset",
    is_flag=True,
    help="The target is a subset: fewer rows than the source are fine.",
)
@config_option
@db_option
@format_option("json")
def verify_cmd(
    job_names: tuple[str, ...],
    all_jobs: bool,
    plan_path: str | None,
    source: str | None,
    target: str | None,
    is_subset: bool,
    config: str | None,
    db: str | None,
    fmt: str,
) -> None:
    """Scan the whole target for source values. Exit 1 on any hit.

    Either one target (--plan, --source, --target), or the masking jobs JOB... of
    stagewall.yaml (--all: every one), each verified and reported in turn with
    the connection URLs of this process's environment. Exit 1 when any fails, 2
    when one could not be verified. Results are recorded in the audit log when a
    store exists.
    """
    from stagewall.keys import load_masking_key
    from stagewall.masking.plan import load_plan

    local = [n for n, v in (("--plan", plan_path), ("--source", source), ("--target", target)) if v]
    if job_names or all_jobs:
        if local:
            raise UsageError(
                f"JOB and --all take their plan and databases from stagewall.yaml: "
                f"drop {', '.join(local)}",
                hint="verify one target with --plan, --source and --target, or name jobs",
            )
        if job_names and all_jobs:
            raise UsageError("give JOB names or --all, not both")
        _verify_jobs(job_names, config, is_subset, db, fmt)
        return
    missing = [n for n in ("--plan", "--source", "--target") if n not in local]
    if missing:
        raise UsageError(
            f"missing {', '.join(missing)}",
            hint="verify one target with --plan, --source and --target, or name masking "
            "JOBs of stagewall.yaml (or --all)",
        )
    plan = load_plan(str(plan_path))
    key = load_masking_key()
    report = _verify_one(plan, str(source), str(target), key, is_subset, db, fmt)
    if fmt == "json":
        echo_json(report.to_json())
    else:
        _print_report(report)
    sys.exit(EXIT_OK if report.passed else EXIT_FINDING)


def _verify_one(
    plan: Any, source: str, target: str, key: Any, is_subset: bool, db: str | None, fmt: str
) -> Any:
    """Verify one target and record the result (when a store exists)."""
    from stagewall.masking.db import parse_url
    from stagewall.masking.pipeline import verify_summary
    from stagewall.masking.record import record_verify
    from stagewall.masking.verify import verify
    from stagewall.paths import configured_store_url
    from stagewall.store import open_store

    with _bar(fmt, "verifying") as bar:
        report = verify(
            plan, source, target, key, subset=is_subset, progress=bar.rows if bar else None
        )
    store_url = configured_store_url(db)
    if store_url is not None:
        record_verify(
            open_store(store_url),
            run_id=report.target_run_id,
            plan_sha256=plan.sha256(),
            key_id=key.key_id,
            target=dict(parse_url(target, "target").identity()),
            summary=verify_summary(report) or {},
            passed=report.passed,
        )
    return report


def _verify_jobs(
    names: tuple[str, ...], config: str | None, is_subset: bool, db: str | None, fmt: str
) -> None:
    """Every named job (or all of them) resolved first, then verified one by one."""
    from stagewall.errors import MaskingJobInvalid, StagewallError
    from stagewall.estate import load_estate
    from stagewall.keys import load_masking_key
    from stagewall.redact import redact
    from stagewall.server.jobs import resolve_job

    loaded = load_estate(config)
    declared = sorted(loaded.estate.masking_jobs)
    if not names:
        if not declared:
            raise UsageError(
                f"{loaded.path} declares no masking jobs: nothing to verify",
                hint="declare them under `masking_jobs:` (docs/server.md#masking-jobs)",
            )
        names = tuple(declared)
    unknown = [n for n in dict.fromkeys(names) if n not in loaded.estate.masking_jobs]
    if unknown:
        raise UsageError(
            f"no masking job named {', '.join(repr(n[:128]) for n in unknown)} in {loaded.path}",
            hint="declared jobs: " + (", ".join(declared) or "none"),
        )
    try:
        prepared = [resolve_job(loaded.estate, Path(loaded.path), n) for n in dict.fromkeys(names)]
    except MaskingJobInvalid as exc:
        raise MaskingJobInvalid(
            exc.message,
            hint="jobs are resolved like on the server: run this where the job's connection "
            "variables are set (usually the server host), or verify one target with "
            "--plan, --source and --target",
        ) from None
    key = load_masking_key()
    results: list[dict[str, Any]] = []
    failed = errored = 0
    for job in prepared:
        if fmt != "json":
            click.echo(f"job {job.name}:")
        try:
            report = _verify_one(job.plan, job.source_url, job.target_url, key, is_subset, db, fmt)
        except StagewallError as exc:
            errored += 1
            message = redact(exc.message)
            results.append({"job": job.name, "passed": False, "error": message})
            if fmt != "json":
                click.echo(f"  not verified: {message}", err=True)
            continue
        failed += 0 if report.passed else 1
        results.append({"job": job.name, "passed": report.passed, "report": report.to_json()})
        if fmt != "json":
            _print_report(report)
    if fmt == "json":
        echo_json({"passed": not (failed or errored), "jobs": results})
    else:
        click.echo(
            f"{len(prepared)} job(s): {len(prepared) - failed - errored} passed, "
            f"{failed} failed, {errored} not verified"
        )
    sys.exit(EXIT_USAGE if errored else EXIT_FINDING if failed else EXIT_OK)


def _print_report(report: Any) -> None:
    for h in report.hits:
        click.echo(f"LEAK {h.table}.{h.column}: {h.hits} source value(s) found", err=True)
    for r in report.row_hits:
        click.echo(
            f"LEAK {r.table}.{r.column}: {r.cells} cell(s) hold their own row's {r.kind}",
            err=True,
        )
    for r in report.word_hits:
        whose = {
            "street": "street's rare name",
            "city": "city's rare name",
            "name": "person's full name",
            "identifier": "customer's identifier",
        }.get(r.kind, f"person's rare {r.kind}")
        click.echo(f"LEAK {r.table}.{r.column}: {r.cells} cell(s) hold a source {whose}", err=True)
    for c in report.counts:
        if not c.ok:
            got = "missing" if c.target_rows is None else f"{c.target_rows} rows"
            click.echo(f"ROWS {c.table}: source {c.source_rows} rows, target {got}", err=True)
    for f in report.fk_problems:
        click.echo(
            f"FK {f.table}({', '.join(f.columns)}) -> {f.ref_table}: {f.orphans} orphan row(s)",
            err=True,
        )
    for n in report.notes:
        click.echo(f"note: {n}", err=True)
    click.echo(
        f"verification {report.outcome.value}: {report.total_hits} hits and "
        f"{sum(r.cells for r in report.row_hits)} own-row hits in "
        f"{report.target_values} target values against {report.sensitive_hashes} source "
        f"hashes, {sum(1 for c in report.counts if not c.ok)} row-count problems, "
        f"{len(report.fk_problems)} foreign-key problems ({report.duration_s:.1f}s)"
    )


# -- runs ----------------------------------------------------------------------------


@mask.command("runs")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1, max=1_000_000))
@db_option
@format_option("json")
def runs_cmd(limit: int, db: str | None, fmt: str) -> None:
    """List recorded masking runs, newest first."""
    from stagewall.masking.record import list_runs
    from stagewall.paths import existing_store_url
    from stagewall.store import open_store

    runs = list_runs(open_store(existing_store_url(db)), limit=limit)  # never an empty new one
    if fmt == "json":
        echo_json(runs)
        return
    if not runs:
        click.echo("no masking runs recorded")
        return
    for r in runs:
        rows = sum((r.get("rows") or {}).values())
        click.echo(
            f"{r['started_at']} {r['run_id'][:12]} {r['status']:<9} verify={r['verification']:<7} "
            f"rows={rows} plan={r['plan_sha256'][:12]} key={r['key_id']} audit#{r['audit_index']}"
        )


# -- plan approvals (clients of the server) -----------------------------------------


def _plan_sha256(text: str) -> str:
    """--sha256: the plan's canonical hash, checked before credentials are read."""
    value = text.strip().lower()
    if not value:
        raise EmptyArgument(
            "--sha256 is empty", hint="pass the hash `stagewall mask plan --format json` printed"
        )
    if not re.fullmatch(r"[0-9a-f]{64}", value):
        raise UsageError(
            f"--sha256 {text[:80]!r} is not a plan hash (64 hexadecimal characters)",
            hint="pass the plan_sha256 `stagewall mask plan --format json` printed",
        )
    return value


@mask.command("approve-plan")
@click.argument("job", type=estate_name("masking job name"))
@click.option(
    "--sha256", "sha256", required=True, help="The plan hash you reviewed (refused if it differs)."
)
@click.option("--reason", required=True, help="What changed and why.")
@click.option(
    "--author",
    "authors",
    multiple=True,
    type=estate_name("principal name"),
    help="Who wrote the change besides you (repeatable): none of them may approve it.",
)
@server_option
@format_option("json")
def approve_plan_cmd(
    job: str, sha256: str, reason: str, authors: tuple[str, ...], server: str | None, fmt: str
) -> None:
    """Ask for approval of the plan server job JOB runs (as deployed on the server).

    Another internal person approves it with `stagewall mask review-plan`; until then
    the job refuses to run this plan.
    """
    from urllib.parse import quote

    sha = _plan_sha256(sha256)
    got = Client(server).request(
        "POST",
        f"/api/v1/masking/jobs/{quote(job, safe='')}/plan-approvals",
        json_body={"reason": reason, "plan_sha256": sha, "authors": list(authors)},
    )
    if fmt == "json":
        echo_json(got)
        return
    click.echo(
        f"request {got['request']}: plan {got['plan_sha256'][:12]} of masking job {got['job']} "
        f"pending until {got['expires_at']}"
    )


@mask.command("review-plan")
@review_options
def review_plan_cmd(
    request_id: str,
    approve: bool | None,
    otp: str | None,
    reason: str,
    server: str | None,
    fmt: str,
) -> None:
    """Approve or deny a masking plan request as yourself (step-up MFA)."""
    from urllib.parse import quote

    path = f"/api/v1/masking/plan-approvals/{quote(request_id, safe='')}/reviews"
    got = post_review(server, path, approve, otp, reason)
    if fmt == "json":
        echo_json(got)
        return
    click.echo(
        f"request {got['request']}: plan {str(got['plan_sha256'])[:12]} of masking job "
        f"{got['job']} {got['outcome']}"
    )


@mask.command("withdraw-plan-approval")
@withdraw_options
def withdraw_plan_cmd(
    request_id: str, otp: str | None, reason: str, server: str | None, fmt: str
) -> None:
    """Withdraw your own approval of a masking plan (step-up MFA): the job's next run of
    that plan is refused (SW864) until it is approved again."""
    from urllib.parse import quote

    path = f"/api/v1/masking/plan-approvals/{quote(request_id, safe='')}/reviews/withdrawal"
    got = post_withdrawal(server, path, otp, reason)
    if fmt == "json":
        echo_json(got)
        return
    click.echo(
        f"approval of plan {str(got['plan_sha256'])[:12]} of masking job {got['job']} "
        f"(request {got['request']}) withdrawn; its next run is refused"
    )


@mask.command("plan-approvals")
@click.option("--job", default=None, type=estate_name("masking job name"), help="Only this job's.")
@click.option("--pending", is_flag=True, help="Only requests waiting for a review.")
@server_option
@format_option("json")
def plan_approvals_cmd(job: str | None, pending: bool, server: str | None, fmt: str) -> None:
    """List requests to approve masking jobs' plans, with their state and reviews."""
    params = {k: v for k, v in (("job", job), ("state", "pending" if pending else None)) if v}
    rows = Client(server).request("GET", "/api/v1/masking/plan-approvals", params=params)
    if fmt == "json":
        echo_json(rows)
        return
    if not rows:
        click.echo("no plan approval requests")
    for r in rows:
        current = {True: "current", False: "not current", None: "plan unreadable"}[r["current"]]
        reviews = ", ".join(f"{v['reviewer']} {v['decision']}" for v in r["reviews"]) or "-"
        click.echo(
            f"{r['id']}  {r['job']:<16} {r['plan_sha256'][:12]} ({current})  {r['state']:<8} "
            f"by {r['submitter']}  reviews: {reviews}"
        )


# -- progress ------------------------------------------------------------------------


def _interactive(fmt: str) -> bool:
    return fmt == "text" and sys.stdout.isatty()


class _Bar:
    """A rich progress bar fed by the engine (``engine``) or by row counts (``rows``)."""

    def __init__(self, bar: Any, task: Any) -> None:
        self._bar, self._task = bar, task
        self._started = time.monotonic()
        self._done = 0

    def engine(self, p: Any) -> None:
        self._bar.update(
            self._task,
            description=p.table,
            completed=p.rows_done,
            total=p.rows_total,
            rate=f"{p.rows_per_second:,.0f} rows/s",
        )

    def rows(self, table: str, n: int) -> None:
        self._done += n
        rate = self._done / max(time.monotonic() - self._started, 1e-6)
        self._bar.update(
            self._task, description=table, completed=self._done, rate=f"{rate:,.0f} rows/s"
        )


@contextmanager
def _bar(fmt: str, what: str) -> Iterator[_Bar | None]:
    """A progress bar with rows/s on a terminal; ``None`` when stdout is not a TTY."""
    if not _interactive(fmt):
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn(f"{what} [bold]{{task.description}}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f} rows"),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        transient=True,
    ) as progress:
        yield _Bar(progress, progress.add_task("", total=None, rate=""))


@contextmanager
def _spinner(fmt: str, what: str) -> Iterator[Callable[[str], None] | None]:
    if not _interactive(fmt):
        yield None
        return
    from rich.console import Console

    with Console().status(what) as status:

        def tick(table: str) -> None:
            status.update(f"{what} {table}")

        yield tick


COMMANDS = [mask]
