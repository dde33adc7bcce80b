"""Any other text file (scripts, Makefiles, Dockerfiles): one entry per code line."""

from __future__ import annotations

import re

from stagewall.scan._model import Entry
from stagewall.scan.readers._base import Kind, Parsed

COMMENT_PREFIXES = ("#", "//", "--", ";", "/*", "*", "rem ", "REM ")
# a quoted literal with a dot and no blank: a host name or address, perhaps
_DOTTED_LITERAL = re.compile(r"""["']([^"'\s/]{0,253}\.[^"'\s/]{1,253})["']""")


def read_text(text: str, *, urls_only: bool = False, literals: bool = False) -> Parsed:
    """``urls_only`` (program source): only lines holding a URL are values; with
    ``literals`` (a settings module) also each quoted literal with a dot."""
    parsed = Parsed(Kind.TEXT)
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(COMMENT_PREFIXES):
            continue
        if urls_only and "://" not in stripped:
            if literals and ("." in stripped):
                for match in _DOTTED_LITERAL.finditer(stripped):
                    parsed.entries.append(Entry(("",), match.group(1), number))
            continue
        parsed.entries.append(Entry(("",), stripped, number))
    parsed.documents.append(text)
    return parsed
