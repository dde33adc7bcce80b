"""Docs that can drift are checked: every command and every error code is documented."""

from __future__ import annotations

from pathlib import Path

import click

from stagewall.cli import root
from stagewall.errors import ALL_ERRORS

ROOT = Path(__file__).resolve().parents[2]


def _docs_text() -> str:
    parts = [ROOT.joinpath("README.md").read_text("utf-8")]
    parts += [p.read_text("utf-8") for p in sorted(ROOT.joinpath("docs").rglob("*.md"))]
    return "\n".join(parts)


def _command_paths(group: click.Group, prefix: str = "stagewall") -> list[str]:
    out: list[str] = []
    ctx = click.Context(group)
    for name in sorted(group.list_commands(ctx)):
        cmd = group.get_command(ctx, name)
        assert cmd is not None, name
        path = f"{prefix} {name}"
        if isinstance(cmd, click.Group):
            out += _command_paths(cmd, path)
        else:
            out.append(path)
    return out


def test_every_command_is_documented() -> None:
    docs = _docs_text()
    paths = _command_paths(root)
    assert "stagewall access review" in paths and "stagewall serve" in paths
    missing = [p for p in paths if p not in docs]
    assert not missing, f"commands not mentioned in README.md or docs/: {missing}"


def test_every_error_code_is_documented() -> None:
    table = ROOT.joinpath("docs", "errors.md").read_text("utf-8")
    missing = [
        f"{e.code} {e.__name__}" for e in ALL_ERRORS if f"| {e.code} | {e.__name__} |" not in table
    ]
    assert not missing, f"error codes missing from docs/errors.md: {missing}"


def test_error_codes_are_unique() -> None:
    codes = [e.code for e in ALL_ERRORS]
    assert len(codes) == len(set(codes))
