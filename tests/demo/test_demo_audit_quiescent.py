"""The demo's audit step checkpoints a log nothing writes to any more.

A running server writes to the audit log whenever its own work asks (an approval
notification sent from a worker thread, a grant swept). CI on c59be92 failed because
the demo took its checkpoint while its server still ran and the notifier wrote
``server.approval.notified`` right after: verify refused the uncovered event (SW977).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from stagewall.demo._runner import Runner
from tests.cli_helpers import run_cli


def test_the_checkpoint_is_taken_after_the_server_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_call = Runner.__call__
    seen: list[bool] = []
    empty = tmp_path / "empty"
    empty.mkdir()

    def call(self: Runner, *args: str, **kw: Any) -> Any:
        out = real_call(self, *args, **kw)
        if args[:2] == ("audit", "checkpoint"):
            alive = any(t.name == "stagewall-demo-server" for t in threading.enumerate())
            seen.append(alive)
            if alive:
                # what the live server may do at any moment: one more event
                real_call(self, "scan", str(empty), "--format", "json")
        return out

    monkeypatch.setattr(Runner, "__call__", call)
    res = run_cli("demo", "--dir", str(tmp_path / "demo"))
    # (the demo's own outcome first: a step that failed before the audit step never
    # reaches the checkpoint, and its output says why)
    assert res.exit_code == 0, res.stdout + res.stderr
    assert "FAILED" not in res.stdout, res.stdout
    assert seen == [False], seen
