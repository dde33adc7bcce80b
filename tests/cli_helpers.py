"""Run the stagewall CLI in-process and capture exit code, stdout and stderr."""

from __future__ import annotations

from dataclasses import dataclass

from click.testing import CliRunner

from stagewall.cli import root


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str


def run_cli(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    runner = CliRunner()
    res = runner.invoke(root, list(args), input=input, env=env, catch_exceptions=False)
    return Result(res.exit_code, res.stdout, res.stderr)
