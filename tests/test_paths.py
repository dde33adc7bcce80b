"""Where stagewall keeps its state: bad locations are clear errors, not tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import run_cli


def test_stagewall_home_pointing_at_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12: STAGEWALL_HOME pointing at a file printed a traceback."""
    afile = tmp_path / "not-a-dir"
    afile.write_text("x")
    monkeypatch.setenv("STAGEWALL_HOME", str(afile))
    r = run_cli("keys", "init")
    assert r.exit_code == 2
    assert f"error[SW100]: the stagewall state directory {afile} is a file" in r.stderr
    assert "Traceback" not in r.stderr
    r = run_cli("audit", "tail")
    assert r.exit_code == 2 and "is a file, not a directory" in r.stderr
