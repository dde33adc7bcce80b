"""``stagewall probe``: prove production is not reachable from this non-production host."""

from __future__ import annotations

import sys
from datetime import timedelta

import click

from stagewall.cli._client import Client, server_option
from stagewall.cli._common import config_option, echo_json, format_option
from stagewall.cli._params import duration, estate_name
from stagewall.errors import EXIT_FINDING
from stagewall.estate import load_estate


@click.command("probe")
@click.option(
    "--from",
    "environment",
    required=True,
    type=estate_name("environment name"),
    help="The declared non-production environment this host belongs to.",
)
@click.option(
    "--timeout", default="2s", show_default=True, help="Per connection attempt (at most 10s)."
)
@click.option(
    "--report/--no-report",
    default=True,
    show_default=True,
    help="Send the result to the stagewall server (as your token's principal).",
)
@config_option
@server_option
@format_option("json")
def probe_cmd(
    environment: str,
    timeout: str,
    report: bool,
    config: str | None,
    server: str | None,
    fmt: str,
) -> None:
    """Try each declared production endpoint once from here; exit 1 if any is reachable.

    Only the host:port pairs of production resources in stagewall.yaml are tried, one
    TCP connection attempt per address, nothing sent. The report goes to the server,
    which records it in the audit log; `stagewall check --live` shows the newest one.
    """
    from stagewall.segmentation import run_probe
    from stagewall.segmentation.probe import MAX_TIMEOUT

    at_most = timedelta(seconds=MAX_TIMEOUT)
    seconds = duration(timeout, "--timeout", at_most=at_most).total_seconds()
    loaded = load_estate(config)
    rep = run_probe(loaded.estate, environment=environment, timeout=seconds)
    if report:
        Client(server).request("POST", "/api/v1/segmentation/probes", json_body=rep.as_dict())
    if fmt == "json":
        echo_json({**rep.as_dict(), "reported": report})
    else:
        for r in rep.results:
            t = r.target
            click.echo(f"{t.resource} {t.host}:{t.port}: {r.reach.value}")
        for name in rep.not_probed:
            click.echo(f"{name}: not probed (no host or port declared)")
        click.echo(
            f"production is not reachable from {environment}"
            if rep.segmented
            else f"PRODUCTION IS REACHABLE from {environment}"
        )
    if not rep.segmented:
        sys.exit(EXIT_FINDING)


COMMANDS = [probe_cmd]
