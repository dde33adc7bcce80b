"""Fixtures shared by the command-line tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_hostile_sweep import isolated_env


@pytest.fixture
def env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The isolated environment (example estate, no store, unreachable server) in
    ``tmp_path``, which is also the working directory."""
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        yield isolated_env(tmp_path)
    finally:
        os.chdir(cwd)
