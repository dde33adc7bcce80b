"""Run stagewall commands in-process, the way a user would type them."""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from click.testing import CliRunner


@dataclass
class Outcome:
    args: list[str]
    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def command(self) -> str:
        return "stagewall " + shlex.join(self.args)


@dataclass
class StepResult:
    name: str
    ok: bool
    summary: str
    commands: list[str] = field(default_factory=list)


class DemoFailed(Exception):
    def __init__(self, outcome: Outcome, expected: int) -> None:
        super().__init__(
            f"`{outcome.command}` exited {outcome.exit_code}, expected {expected}:\n"
            f"{outcome.stderr.strip() or outcome.stdout.strip()}"
        )
        self.outcome = outcome


class Runner:
    """Invokes the real CLI with the demo's environment and records every command."""

    def __init__(self, env: Mapping[str, str | None]) -> None:
        self.env = dict(env)
        self.commands: list[str] = []
        self._runner = CliRunner()

    def __call__(
        self,
        *args: str,
        expect: int = 0,
        input: str | None = None,
        env: Mapping[str, str | None] | None = None,
    ) -> Outcome:
        from stagewall.cli import root

        res = self._runner.invoke(
            root, list(args), env={**self.env, **(env or {})}, input=input, catch_exceptions=False
        )
        out = Outcome(list(args), res.exit_code, res.stdout, res.stderr)
        self.commands.append(out.command)
        if out.exit_code != expect:
            raise DemoFailed(out, expect)
        return out

    def step(self, name: str, fn: Callable[[], str]) -> StepResult:
        start = len(self.commands)
        summary = fn()
        return StepResult(name, True, summary, self.commands[start:])
