"""Kustomize: inline patches are YAML inside a string, so their values are read too.

``patches[].patch``, ``patchesStrategicMerge[]`` and ``patchesJson6902[].patch`` may
hold a strategic-merge document or a JSON 6902 operation list as a block string.
Each is parsed and its values become entries of the kustomization file, at their
own lines; a JSON 6902 ``value`` is keyed by the last segment of its ``path``
(``/spec/.../env/0/value`` keeps ``value``; ``/data/DATABASE_HOST`` gives
``DATABASE_HOST``). Patch files (``path: patch.yaml``) are ordinary YAML files and
are scanned where they are.
"""

from __future__ import annotations

from typing import Any

from stagewall.scan._model import Entry
from stagewall.scan.readers._base import Parsed, ReaderError
from stagewall.scan.readers.yamlfile import read_yaml

_PATCH_LISTS = frozenset({"patches", "patchesStrategicMerge", "patchesJson6902"})
_NAMES = ("kustomization.yaml", "kustomization.yml", "kustomization")


def is_kustomization(rel_path: str, parsed: Parsed) -> bool:
    name = rel_path.rsplit("/", 1)[-1].lower()
    if name in _NAMES:
        return True
    return any(
        isinstance(d, dict) and d.get("kind") == "Kustomization" and "resources" in d
        for d in parsed.documents
    )


def _is_patch(path: tuple[str, ...]) -> bool:
    if len(path) == 2 and path[0] == "patchesStrategicMerge":
        return True
    return len(path) == 3 and path[0] in _PATCH_LISTS and path[2] == "patch"


def expand_patches(parsed: Parsed) -> None:
    """Replace inline patch strings in ``parsed.entries`` by the values they hold."""
    added: list[Entry] = []
    kept: list[Entry] = []
    for entry in parsed.entries:
        if not _is_patch(entry.path) or "\n" not in entry.value:
            kept.append(entry)
            continue
        try:
            inner = read_yaml(entry.value)
        except ReaderError:
            kept.append(entry)
            continue
        base = entry.line  # the block indicator's line; the patch text starts below it
        prefix = entry.path
        for sub in inner.entries:
            added.append(Entry((*prefix, *sub.path), sub.value, base + sub.line))
        for doc in inner.documents:
            added.extend(_operations(doc, prefix, base, inner))
    # the patch text itself is replaced by its values, each at its own line
    parsed.entries = kept + added


def _operations(doc: Any, prefix: tuple[str, ...], base: int, inner: Parsed) -> list[Entry]:
    """JSON 6902 ``{op, path, value}`` items as entries keyed by their target path."""
    out: list[Entry] = []
    if not isinstance(doc, list):
        return out
    for i, op in enumerate(doc):
        if not isinstance(op, dict) or not isinstance(op.get("path"), str):
            continue
        value = op.get("value")
        if value is None or isinstance(value, (dict, list)):
            continue
        target = tuple(p for p in op["path"].split("/") if p)
        line = base + inner.line_of(0, str(i), "value")
        out.append(Entry((*prefix, *target), str(value), line))
    return out


__all__ = ["expand_patches", "is_kustomization"]
