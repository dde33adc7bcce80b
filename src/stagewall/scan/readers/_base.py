"""What a reader hands to the rules: entries with lines, plus structured documents."""

from __future__ import annotations

import bisect
import enum
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

from stagewall.scan._model import Entry

LinePath = tuple[str | int, ...]


class Kind(enum.Enum):
    TERRAFORM = "terraform"
    TFVARS = "tfvars"
    TFPLAN = "terraform-plan"
    KUBERNETES = "kubernetes"
    COMPOSE = "docker-compose"
    DOTENV = "dotenv"
    YAML = "yaml"
    JSON = "json"
    TOML = "toml"
    INI = "ini"
    GITHUB_ACTIONS = "github-actions"
    GITLAB_CI = "gitlab-ci"
    TEXT = "text"


class ReaderError(Exception):
    """The file does not parse. ``line`` is 1-based when known."""

    def __init__(self, message: str, line: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.line = max(1, line)


@dataclass
class Parsed:
    """A parsed file. ``documents`` are plain Python values; ``lines`` maps
    ``(document index, *key path)`` to the 1-based line of that node."""

    kind: Kind
    entries: list[Entry] = field(default_factory=list)
    documents: list[Any] = field(default_factory=list)
    lines: dict[LinePath, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def line_of(self, *path: str | int) -> int:
        probe: LinePath = tuple(path)
        while probe:
            found = self.lines.get(probe)
            if found is not None:
                return found
            probe = probe[:-1]
        return 1


class LineFinder:
    """Find the line of a substring in raw text, scanning forward from a cursor so
    that repeated values map to successive occurrences.

    Linear overall: a value that is not in the text as written (``\\u`` escapes, folded
    YAML) would otherwise cost a search of the whole file each time, so searches past
    a window ahead of the cursor draw on a budget of a few passes over the text; once
    it is spent, a value not found near the cursor keeps the cursor's line.
    """

    _WINDOW = 4096
    _PASSES = 8

    def __init__(self, text: str) -> None:
        self.text = text
        # where each line starts, from the line lengths (no loop over the text in Python)
        self._starts = [0, *accumulate(len(line) + 1 for line in text.split("\n")[:-1])]
        self._cursor = 0
        self._budget = self._PASSES * (len(text) + 1)

    def line_at(self, offset: int) -> int:
        return bisect.bisect_right(self._starts, offset)

    def _search(self, needle: str, start: int, end: int | None = None) -> int:
        stop = len(self.text) if end is None else min(end, len(self.text))
        if end is None:
            if self._budget <= 0:
                return -1
            self._budget -= max(0, stop - start)
        return self.text.find(needle, start, stop)

    def find(self, needle: str, *, from_start: bool = False) -> int:
        if not needle:
            return self.line_at(self._cursor)
        start = 0 if from_start else self._cursor
        window = start + self._WINDOW + 2 * len(needle)
        pos = self.text.find(needle, start, window)
        if pos < 0:
            pos = self._search(needle, start)
        if pos < 0 and not from_start:
            pos = self._search(needle, 0)
        if pos < 0:
            return self.line_at(self._cursor)
        self._cursor = pos
        return self.line_at(pos)


def scalar_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def flatten(
    value: Any, path: tuple[str, ...], finder: LineFinder, out: list[Entry], depth: int = 0
) -> None:
    """Entries for every scalar of a JSON-like value, lines found by text search."""
    if depth > 64:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            finder.find(str(key))
            flatten(item, (*path, str(key)), finder, out, depth + 1)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            flatten(item, (*path, str(i)), finder, out, depth + 1)
    else:
        text = scalar_text(value)
        line = finder.find(text) if isinstance(value, str) else finder.find("", from_start=False)
        out.append(Entry(path, text, line))
