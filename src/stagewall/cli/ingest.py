"""``stagewall ingest``: read a log source into the monitoring log and run the rules."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import IO

import click

from stagewall._suppressed import suppressed_line
from stagewall.alerts import sinks_from_config
from stagewall.cli._common import config_option, db_option, echo_json, format_option, one_line
from stagewall.cli._params import check_path, estate_name, seconds
from stagewall.errors import UnknownLogSource, UsageError
from stagewall.estate import load_estate
from stagewall.monitoring.follow_loop import BATCH, follow_file, follow_stream, follower_for
from stagewall.monitoring.pipeline import IngestContext, IngestReport, ingest_lines
from stagewall.store import open_store


def _chunks(stream: IO[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for line in stream:
        batch.append(line)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    yield batch


class _Totals:
    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.lines = self.events = self.malformed = 0
        self.samples: list[dict[str, object]] = []
        self.findings: list[dict[str, object]] = []
        self.failures: list[str] = []
        self.suppressed: dict[str, dict[str, int]] = {}

    def add(self, r: IngestReport) -> None:
        for rule, per in r.suppressed_by_rule.items():
            mine = self.suppressed.setdefault(rule, {})
            for by, n in per.items():
                mine[by] = mine.get(by, 0) + n
        self.lines += r.lines
        self.events += r.events
        self.malformed += r.malformed
        self.samples += r.malformed_samples[: max(0, 10 - len(self.samples))]
        self.failures += r.alert_failures
        for f in r.findings:
            self.findings.append(f.to_json())
            # A finding names what a log wrote (an unknown login's name, which a client
            # or a database role chooses): escaped, so that it cannot move the cursor,
            # erase this or another line, or reverse the text on the operator's screen.
            if self.fmt == "text" and f.suppressed:
                click.echo(
                    one_line(
                        f"RECORDED [{f.level}] {f.rule}: {f.title}: {f.principal or f.actor} "
                        f"(alert suppressed: {f.suppressed}; kept as evidence)"
                    )
                )
            elif self.fmt == "text":
                who = f.principal or f.actor
                where = f" on {f.resource}" if f.resource else ""
                click.echo(
                    one_line(
                        f"ALERT [{f.level}] {f.rule}: {f.title}: {who}{where} ({f.count} event(s))"
                    )
                )

    def finish(self, source: str) -> None:
        if self.fmt == "json":
            echo_json(
                {
                    "source": source,
                    "lines": self.lines,
                    "events": self.events,
                    "malformed": self.malformed,
                    "malformed_samples": self.samples,
                    "findings": self.findings,
                    "alert_failures": self.failures,
                    "suppressed": sum(sum(p.values()) for p in self.suppressed.values()),
                    "suppressed_by_rule": dict(sorted(self.suppressed.items())),
                }
            )
            return
        if self.suppressed:
            click.echo(f"suppressed by rule: {suppressed_line(self.suppressed)}")
        click.echo(
            f"{source}: {self.lines} line(s), {self.events} event(s) logged, "
            f"{self.malformed} malformed, "
            f"{sum(1 for f in self.findings if not f.get('suppressed'))} alert(s)"
        )
        for s in self.samples:
            click.echo(one_line(f"warning: line {s['line']}: {s['reason']}"), err=True)
        for failure in self.failures:
            click.echo(one_line(f"warning: alert not delivered: {failure}"), err=True)


@click.command("ingest")
@click.argument("source", type=estate_name("log source name"))
@click.option("--from", "from_", required=True, metavar="FILE|-", help="Log file, or - for stdin.")
@click.option("--follow", is_flag=True, help="Keep reading as the file grows (across rotation).")
@click.option(
    "--from-end", is_flag=True, help="With --follow on a new file: skip what is already there."
)
@click.option(
    "--poll",
    type=float,
    default=1.0,
    show_default=True,
    help="With --follow: seconds between polls (0.01 to 3600).",
)
@click.option("--year", type=int, default=None, help="Year of syslog lines without one.")
@config_option
@db_option
@format_option("json")
def ingest_cmd(
    source: str,
    from_: str,
    follow: bool,
    from_end: bool,
    poll: float,
    year: int | None,
    config: str | None,
    db: str | None,
    fmt: str,
) -> None:
    """Read SOURCE (declared under monitoring.sources) into the monitoring log; alert on rules."""
    seconds(poll, "--poll", at_least=0.01, at_most=3600)
    polled = click.get_current_context().get_parameter_source("poll")
    if polled is not click.core.ParameterSource.DEFAULT and not follow:
        raise UsageError(
            "--poll only applies with --follow; without it the file is read once",
            hint="add --follow to keep reading, or drop --poll",
        )
    if from_end and not follow:
        raise UsageError("--from-end only makes sense with --follow")
    if from_ != "-":
        check_path(from_, "--from", dir_okay=False)
    loaded = load_estate(config)
    estate = loaded.estate
    base = loaded.path.parent
    if source not in estate.monitoring.sources:
        known = ", ".join(sorted(estate.monitoring.sources)) or "none declared"
        raise UnknownLogSource(
            f"log source {source!r} is not declared in {loaded.path} (known: {known})"
        )
    path = None if from_ == "-" else Path(from_)
    if path is not None and not follow and not path.is_file():
        raise UsageError(f"--from {from_}: no such file", hint="give a log file, or - for stdin")
    store = open_store(db)
    ctx = IngestContext(
        estate,
        store,
        sinks=sinks_from_config(estate.alerts, base),
        base_dir=base,
        year=year,
    )
    try:
        totals = _Totals(fmt)
        stopping = False

        def _stop(_sig: int, _frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        if follow:
            signal.signal(signal.SIGTERM, _stop)
            signal.signal(signal.SIGINT, _stop)
            if path is None:
                follow_stream(
                    ctx, source, sys.stdin, poll=poll, stop=lambda: stopping, on_report=totals.add
                )
            else:
                follower = follower_for(ctx, source, str(path), from_end=from_end)
                follow_file(
                    ctx, source, follower, poll=poll, stop=lambda: stopping, on_report=totals.add
                )
            totals.finish(source)
            return
        if path is None:
            _run(source, _chunks(sys.stdin), ctx, totals)
        else:
            with path.open("r", encoding="utf-8", errors="surrogateescape") as fh:
                _run(source, _chunks(fh), ctx, totals)
        totals.finish(source)

    finally:
        ctx.close()


def _run(source: str, chunks: Iterator[list[str]], ctx: IngestContext, totals: _Totals) -> None:
    pending: list[str] | None = None
    for chunk in chunks:
        if pending is not None:
            totals.add(ingest_lines(source, pending, ctx))
        pending = chunk
    totals.add(ingest_lines(source, pending or [], ctx, final=True))


COMMANDS = [ingest_cmd]
