"""``.env`` files: ``KEY=value`` lines, optional ``export``, quotes and comments."""

from __future__ import annotations

import re

from stagewall.scan._model import Entry
from stagewall.scan.readers._base import Kind, Parsed, ReaderError

_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*[=:]\s*(.*?)\s*$")


def _unquote(raw: str) -> str:
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"":
        return raw[1:-1]
    # unquoted values end at an inline comment
    return re.split(r"\s+#", raw, maxsplit=1)[0]


def read_dotenv(text: str) -> Parsed:
    parsed = Parsed(Kind.DOTENV)
    data: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise ReaderError(f"line {number} is not KEY=value", number)
        key, value = match.group(1), _unquote(match.group(2))
        data[key] = value
        parsed.entries.append(Entry((key,), value, number))
        parsed.lines[(0, key)] = number
    parsed.documents.append(data)
    return parsed
