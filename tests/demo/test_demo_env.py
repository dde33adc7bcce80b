"""The demo works on its own world, whatever server the user's environment names."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import run_cli


def test_demo_ignores_the_users_server_and_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A user of a real deployment has these set; the demo must not send its audit-log
    # reads (or anything else) there, nor fail because that server is out of reach.
    monkeypatch.setenv("STAGEWALL_SERVER", "http://127.0.0.1:1")
    monkeypatch.setenv("STAGEWALL_TOKEN", "users-own-token")
    res = run_cli("demo", "--dir", str(tmp_path / "demo"))
    assert res.exit_code == 0, res.stdout + res.stderr
    assert "FAILED" not in res.stdout
    assert "127.0.0.1:1" not in res.stdout + res.stderr
