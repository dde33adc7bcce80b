"""The ``stagewall`` command line: thin modules that parse, call the library, print.

Each module in this package (other than ``_``-prefixed helpers) exposes
``COMMANDS: list[click.Command]``; they are registered on the root group here.
Duplicate command names are refused at import time.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from typing import Any

import click

from stagewall import __version__
from stagewall.cli._common import run_guarded
from stagewall.errors import EXIT_USAGE


class _Root(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:
        return run_guarded(super().main, *args, **kwargs)


@click.group(cls=_Root, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="stagewall")
def root() -> None:
    """stagewall keeps outsourced developers on the staging side of the wall.

    Exit codes: 0 success, 1 a check found a problem, 2 usage or configuration error.
    """


def _register() -> None:
    seen: dict[str, str] = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", []):
            name = command.name or ""
            if name in seen:
                raise RuntimeError(
                    f"CLI command {name!r} is defined twice ({seen[name]} and {info.name})"
                )
            seen[name] = info.name
            root.add_command(command)


_register()


def main() -> None:
    """Console-script entry point."""
    try:
        root.main(prog_name="stagewall")
    except SystemExit:
        raise
    except KeyboardInterrupt:  # pragma: no cover - interactive only
        click.echo("interrupted", err=True)
        sys.exit(EXIT_USAGE)
