"""``withdraw(only_run=...)``: a superseded run's copy is withdrawn only while the
target's completion marker is still that run's; once another run wrote its marker,
the target is left to it (a stale worker must not drop the next run's copy)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from stagewall.masking.db import Marker, MarkerStatus, open_database, parse_url
from stagewall.masking.engine import withdraw


def _target(tmp: Path, run_id: str) -> str:
    path = tmp / "target.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT)")
        db.execute("INSERT INTO people VALUES (1, 'x')")
    url = f"sqlite:///{path}"
    with open_database(parse_url(url, "target"), role="target", read_only=False) as tgt:
        tgt.write_marker(
            Marker(run_id, MarkerStatus.COMPLETE, "sha", "key", "2026-01-01", None, "{}")
        )
    return url


def _state(url: str) -> tuple[list[str], MarkerStatus | None]:
    with open_database(parse_url(url, "target"), role="target", read_only=True) as tgt:
        marker = tgt.read_marker()
    path = url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as db:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    return [n for n in names if n == "people"], marker.status if marker else None


def test_another_runs_copy_is_left_and_its_own_is_withdrawn(tmp_path: Path) -> None:
    url = _target(tmp_path, "mr_next")
    assert withdraw(url, only_run="mr_stale") is False
    assert _state(url) == (["people"], MarkerStatus.COMPLETE)
    assert withdraw(url, only_run="mr_next") is True
    assert _state(url) == ([], MarkerStatus.FAILED)
