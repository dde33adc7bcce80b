"""The PDF renderer process: a library caller's script runs once, failures are reported."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import stagewall
from stagewall.errors import BackendError
from stagewall.evidence._report import PdfJob

SCRIPT = """\
from pathlib import Path
from stagewall.evidence._report import PdfJob

with Path({log!r}).open("a") as f:
    f.write("ran\\n")  # a side effect at import time, as in an unguarded script
job = PdfJob()
job.render("<html><body><h1>pack</h1></body></html>")
Path({out!r}).write_bytes(job.result())
job.close()
"""


def test_an_unguarded_caller_script_runs_once(tmp_path: Path) -> None:
    log, out = tmp_path / "ran.txt", tmp_path / "out.pdf"
    script = tmp_path / "make_pack.py"
    script.write_text(SCRIPT.format(log=str(log), out=str(out)))
    env = {**os.environ, "PYTHONPATH": str(Path(stagewall.__file__).resolve().parents[1])}
    done = subprocess.run(
        [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert log.read_text() == "ran\n"
    assert out.read_bytes().startswith(b"%PDF")


def test_a_renderer_that_dies_is_a_backend_error() -> None:
    job = PdfJob()
    try:
        job._proc.kill()  # the renderer is gone (OOM killer, a crash)
        job._proc.wait()
        job.render("<html></html>")
        with pytest.raises(BackendError, match="the PDF renderer failed"):
            job.result()
    finally:
        job.close()


def test_result_before_render_is_refused() -> None:
    job = PdfJob()
    try:
        with pytest.raises(BackendError, match="never rendered"):
            job.result()
    finally:
        job.close()
