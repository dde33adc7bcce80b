"""The ``stagewall`` command line: thin modules that parse, call the library, print.

The registry below maps each top-level command to the module that defines it;
modules are imported only when their command runs, so ``stagewall scan`` does not
pay for importing the masking engine. Each module exposes
``COMMANDS: list[click.Command]``; a test checks the registry against them.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from stagewall import __version__
from stagewall.cli._common import run_guarded
from stagewall.errors import EXIT_USAGE

# command name -> module under stagewall.cli
REGISTRY: dict[str, str] = {
    "access": "access",
    "account": "login",
    "answer": "evidence",
    "audit": "audit",
    "check": "estate",
    "demo": "demo",
    "evidence": "evidence",
    "gate": "gate",
    "ingest": "ingest",
    "init": "estate",
    "keys": "keys",
    "login": "login",
    "logout": "login",
    "mask": "mask",
    "mfa": "mfa",
    "probe": "probe",
    "review": "review",
    "scan": "scan",
    "schema": "estate",
    "serve": "server",
    "server": "server",
    "vendor": "vendor",
    "whoami": "login",
    "witness": "witness",
}


def load_command(name: str) -> click.Command | None:
    module_name = REGISTRY.get(name)
    if module_name is None:
        return None
    module = importlib.import_module(f"{__name__}.{module_name}")
    for command in getattr(module, "COMMANDS", []):
        if command.name == name:
            return command  # type: ignore[no-any-return]
    raise RuntimeError(f"stagewall.cli.{module_name} does not define command {name!r}")


class _Root(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(REGISTRY)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        return run_guarded(super().main, *args, **kwargs)


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="stagewall")
def root() -> None:
    """stagewall keeps outsourced developers on the staging side of the wall.

    Exit codes: 0 success, 1 a check found a problem, 2 usage or configuration error.
    """
    from stagewall.paths import use_estate

    use_estate(None)  # each invocation starts from its own --config (or the default)


def main() -> None:
    """Console-script entry point."""
    try:
        root.main(prog_name="stagewall")
    except SystemExit:
        raise
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        click.echo("interrupted", err=True)
        sys.exit(EXIT_USAGE)
