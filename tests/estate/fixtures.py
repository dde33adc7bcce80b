from __future__ import annotations

from importlib import resources
from pathlib import Path

EXAMPLE = resources.files("stagewall.estate").joinpath("example.yaml").read_text("utf-8")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path
