"""Any other text file (scripts, Makefiles, Dockerfiles): one entry per code line."""

from __future__ import annotations

from stagewall.scan._model import Entry
from stagewall.scan.readers._base import Kind, Parsed

COMMENT_PREFIXES = ("#", "//", "--", ";", "/*", "*", "rem ", "REM ")


def read_text(text: str, *, urls_only: bool = False) -> Parsed:
    """``urls_only`` (program source): only lines holding a URL are values."""
    parsed = Parsed(Kind.TEXT)
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(COMMENT_PREFIXES):
            continue
        if urls_only and "://" not in stripped:
            continue
        parsed.entries.append(Entry(("",), stripped, number))
    parsed.documents.append(text)
    return parsed
