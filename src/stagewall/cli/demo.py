"""``stagewall demo``."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from stagewall.cli._params import PathParam
from stagewall.demo import run_demo
from stagewall.errors import EXIT_FINDING


@click.command("demo")
@click.option(
    "--dir",
    "directory",
    type=PathParam(file_okay=False),
    default="./stagewall-demo",
    show_default=True,
    help="Directory to build the demo estate in (new, empty, or made by an earlier demo).",
)
def demo_cmd(directory: str) -> None:
    """Build a small realistic estate and run every capability on it.

    Uses the embedded SQLite store; shows PostgreSQL credentials too when a local
    PostgreSQL server is reachable (set STAGEWALL_DEMO_PG to point at another).
    """
    report = run_demo(Path(directory), echo=click.echo)
    if not report.ok:
        sys.exit(EXIT_FINDING)


COMMANDS = [demo_cmd]
