"""GitHub Actions reusable workflows (``on: workflow_call``) among the scanned files, so
that a caller's ``uses: ./.github/workflows/deploy.yml`` is judged with the jobs it runs.

Read once per scan, before the workers fork (each inherits the map), like the GitLab
include graphs in ``_gitlab.py``."""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Any

from stagewall.scan._gitlab import load_mapping

REUSABLE = "github_reusable_workflows"  # Parsed.extra key: rel path -> workflow document


def _called(doc: dict[Any, Any]) -> bool:
    on = doc.get("on", doc.get(True))  # PyYAML reads a bare ``on`` as true
    if isinstance(on, dict):
        return "workflow_call" in on
    if isinstance(on, list):
        return "workflow_call" in on
    return on == "workflow_call"


def find_reusable(walked: list[tuple[Path, str]]) -> dict[str, dict[Any, Any]]:
    """Every scanned workflow file that can be called, by its path relative to the root."""
    out: dict[str, dict[Any, Any]] = {}
    for path, rel in walked:
        if "/.github/workflows/" not in f"/{rel}" or not rel.endswith((".yml", ".yaml")):
            continue
        doc = load_mapping(path)
        if doc is not None and _called(doc):
            out[rel] = doc
    return out


def callee(caller: str, uses: str, reusable: dict[str, dict[Any, Any]]) -> dict[Any, Any] | None:
    """The document ``uses: ./.github/workflows/x.yml`` in the workflow file ``caller``
    names (relative to the repository that holds ``caller``), if it was scanned."""
    if not uses.startswith("./"):
        return None
    repo = f"/{caller}".rsplit("/.github/workflows/", 1)[0].lstrip("/")
    target = posixpath.normpath(posixpath.join(repo, uses[2:].split("@", 1)[0]))
    return reusable.get(target)


__all__ = ["REUSABLE", "callee", "find_reusable"]
