"""``stagewall init``, ``stagewall schema``, ``stagewall check``."""

from __future__ import annotations

import importlib
import json
import sys
from importlib import resources
from pathlib import Path

import click

from stagewall.cli._common import config_option, db_option, echo_json, format_option
from stagewall.cli._params import PathParam
from stagewall.errors import EXIT_FINDING, ConfigError, reason_of
from stagewall.estate import (
    Estate,
    estate_violations,
    estate_warnings,
    load_estate,
    state_checks,
)
from stagewall.estate.invariants import Violation
from stagewall.estate.record import record_check

_STATE_CHECK_MODULES = ("stagewall.access", "stagewall.gates")


def example_estate_text() -> str:
    return resources.files("stagewall.estate").joinpath("example.yaml").read_text("utf-8")


@click.command("init")
@click.option(
    "--out",
    "out",
    type=PathParam(dir_okay=False),
    default="stagewall.yaml",
    show_default=True,
    help="Where to write the example estate file.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init_cmd(out: str, force: bool) -> None:
    """Write a commented example stagewall.yaml to start from."""
    path = Path(out)
    if path.exists() and not force:
        raise ConfigError(
            f"{path} already exists; not overwriting it",
            hint="pass --force to overwrite, or --out to write somewhere else",
        )
    try:
        path.write_text(example_estate_text(), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot write {path}: {reason_of(exc)}",
            hint="pass --out with a path in a directory that exists and that you can write",
        ) from None
    click.echo(f"wrote {path}; edit it, then run `stagewall check --config {path}`")


@click.command("schema")
def schema_cmd() -> None:
    """Print the JSON Schema of stagewall.yaml."""
    schema = Estate.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "stagewall.yaml"
    click.echo(json.dumps(schema, indent=2, sort_keys=True))


@click.command("check")
@config_option
@db_option
@format_option("json")
@click.option(
    "--live",
    is_flag=True,
    help="Also connect to every PostgreSQL/MySQL resource, read its server identity and "
    "prove each (non-production, production) pair is not the same server or database.",
)
def check_cmd(config: str | None, db: str | None, fmt: str, live: bool) -> None:
    """Validate the estate file and check every invariant.

    Exit 0 when all hold, 1 naming each violation, 2 when the file is invalid.
    Warnings (weaknesses that break no invariant) are printed and do not change the exit.
    """
    loaded = load_estate(config)
    # Domains that add store-backed checks register them when imported.
    for module in _STATE_CHECK_MODULES:
        importlib.import_module(module)
    violations: list[Violation] = estate_violations(loaded)
    for _name, check in sorted(state_checks().items()):
        violations.extend(check(loaded, db))
    separation = None
    if live:
        from stagewall.access.live import live_check

        separation = live_check(loaded.estate, db)
        violations.extend(separation.violations)
    warnings = estate_warnings(loaded)
    record_check(loaded, violations, db)
    if fmt == "json":
        echo_json(
            {
                "config": str(loaded.path),
                "ok": not violations,
                "violations": [v.as_dict() for v in violations],
                "warnings": [w.as_dict() for w in warnings],
                **({"live": separation.as_dict()} if separation is not None else {}),
            }
        )
    else:
        e = loaded.estate
        summary = (
            f"{loaded.path}: {len(e.environments)} environments, {len(e.resources)} resources, "
            f"{len(e.principals)} principals, {len(e.roles)} roles, {len(e.stages)} stages"
        )
        click.echo(summary)
        for pair in separation.pairs if separation is not None else []:
            click.echo(f"{pair.non_production} vs {pair.production}: {pair.statement()}")
        for v in violations:
            click.echo(f"{v.where}: {v.severity.value}: {v.rule}: {v.message}")
        for w in warnings:
            click.echo(f"{w.where}: warning: {w.rule}: {w.message}")
        click.echo("all invariants hold" if not violations else f"{len(violations)} violation(s)")
    if violations:
        sys.exit(EXIT_FINDING)


COMMANDS = [init_cmd, schema_cmd, check_cmd]
