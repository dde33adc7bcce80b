"""The lazy command registry matches what the CLI modules define."""

from __future__ import annotations

import importlib
import pkgutil

import stagewall.cli as cli


def test_registry_matches_modules() -> None:
    defined: dict[str, str] = {}
    for info in pkgutil.iter_modules(cli.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"stagewall.cli.{info.name}")
        for command in module.COMMANDS:
            assert command.name not in defined, f"{command.name} defined twice"
            defined[command.name] = info.name
    assert defined == cli.REGISTRY


def test_every_registered_command_loads() -> None:
    for name in cli.REGISTRY:
        command = cli.load_command(name)
        assert command is not None and command.name == name
    assert cli.load_command("nope") is None
