"""The README's demo command and quickstart run exactly as written."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGEWALL = Path(sys.executable).with_name("stagewall")


def _quickstart_commands() -> list[tuple[list[str], int]]:
    text = ROOT.joinpath("README.md").read_text("utf-8")
    section = text[text.index("## Quickstart") : text.index("## Documentation")]
    commands = []
    for block in re.findall(r"```console\n(.*?)```", section, flags=re.S):
        for line in block.splitlines():
            if not line.startswith("$ "):
                continue
            command, _, comment = line[2:].partition("#")
            expected = re.search(r"exits (\d)", comment)
            commands.append((shlex.split(command), int(expected.group(1)) if expected else 0))
    return commands


def _readme_demo_command() -> list[str]:
    text = ROOT.joinpath("README.md").read_text("utf-8")
    line = next(ln for ln in text.splitlines() if "stagewall demo" in ln and "pip install" in ln)
    return shlex.split(line.split("&&", 1)[1])


@pytest.mark.slow
def test_readme_demo_and_quickstart(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STAGEWALL_")}
    env["PATH"] = f"{STAGEWALL.parent}{os.pathsep}{env.get('PATH', '')}"
    env["NO_COLOR"] = "1"
    demo = _readme_demo_command()
    assert demo[:2] == ["stagewall", "demo"]
    done = subprocess.run(demo, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "done:" in done.stdout
    commands = _quickstart_commands()
    assert len(commands) >= 10, "the quickstart lost its commands"
    for argv, expected in commands:
        assert argv[0] == "stagewall"
        done = subprocess.run(
            argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == expected, (
            f"`{shlex.join(argv)}` exited {done.returncode}, README says {expected}:\n"
            f"{done.stdout}\n{done.stderr}"
        )
        assert "Traceback" not in done.stderr
