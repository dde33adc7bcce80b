"""GitLab CI ``include:``: which files belong to a pipeline, and what they share.

A ``.gitlab-ci.yml`` commonly keeps its jobs in other files (``include: ci/deploy.yml``,
``include: [{local: /ci/*.yml}]``) and its templates in yet others, extended by name.
Scanned one by one, an included file is plain YAML and its jobs are never seen as CI
jobs; a job in the main file that ``extends:`` a template from an included file loses
the template's ``environment:`` and ``script:``.

Before the files are scanned, each root pipeline file's local includes are followed
(recursively, with wildcards, cycle-safe and bounded like GitLab's own limit). Each file
of the graph is then read as GitLab CI, and its jobs are expanded against the merged
document of the whole pipeline (included files first, the including file's keys win),
so ``extends:`` and top-level ``variables:`` resolve across files. Findings stay on the
file and line where a job is written.

``remote:``, ``project:``, ``template:`` and ``component:`` includes live outside the
repository and are not fetched: the scanner works offline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from stagewall.scan._env import glob_regex

MAX_INCLUDES = 150  # GitLab's own limit per pipeline
_MAX_BYTES = 1_000_000
ROOT_NAMES = (".gitlab-ci.yml", ".gitlab-ci.yaml")


@dataclass
class GitlabPipelines:
    """For every file in some pipeline's include graph: the pipeline's merged document."""

    context: dict[str, dict[str, Any]] = field(default_factory=dict)
    not_followed: dict[str, list[str]] = field(default_factory=dict)

    def merged_for(self, rel: str) -> dict[str, Any] | None:
        return self.context.get(rel)


class _Loader(yaml.SafeLoader):
    """Safe YAML that tolerates GitLab's ``!reference [...]`` tags."""


def _reference(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


_Loader.add_constructor("!reference", _reference)


def load_mapping(path: Path) -> dict[str, Any] | None:
    """A YAML file's top-level mapping (safe loader, size-bounded), or None."""
    try:
        if path.stat().st_size > _MAX_BYTES:
            return None
        doc = yaml.load(path.read_text("utf-8", errors="replace"), Loader=_Loader)  # noqa: S506
    except (OSError, yaml.YAMLError, RecursionError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def _entries(include: Any) -> list[tuple[str, str]]:
    """(kind, value) for each item of an ``include:`` value."""
    items = include if isinstance(include, list) else [include]
    out: list[tuple[str, str]] = []
    for item in items:
        if isinstance(item, str):
            kind = "remote" if item.startswith(("http://", "https://")) else "local"
            out.append((kind, item))
        elif isinstance(item, dict):
            for kind in ("local", "remote", "project", "template", "component"):
                value = item.get(kind)
                if isinstance(value, str):
                    out.append((kind, value))
                    break
    return out


def _local_matches(repo: PurePosixPath, pattern: str, files: set[str]) -> list[str]:
    """Scanned files (relative paths) that a local include names; ``*``/``**`` allowed."""
    name = pattern.strip().lstrip("/")
    target = name if str(repo) == "." else f"{repo}/{name}"
    if not any(ch in target for ch in "*?"):
        return [target] if target in files else []
    compiled = glob_regex(target)
    return sorted(f for f in files if compiled.fullmatch(f))


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if key == "include":
            continue
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def find_pipelines(walked: list[tuple[Path, str]]) -> GitlabPipelines:
    """Follow the local includes of every ``.gitlab-ci.yml`` among the scanned files."""
    by_rel = {rel: path for path, rel in walked}
    files = set(by_rel)
    found = GitlabPipelines()
    for rel in sorted(files):
        if PurePosixPath(rel).name not in ROOT_NAMES:
            continue
        repo = PurePosixPath(rel).parent
        members: list[str] = []
        not_followed: list[str] = []
        merged = _collect(rel, repo, by_rel, files, members, not_followed, set())
        for member in members:
            # a file included by two pipelines keeps the first (sorted) one's context
            found.context.setdefault(member, merged)
        if not_followed:
            found.not_followed[rel] = not_followed
    return found


def _collect(
    rel: str,
    repo: PurePosixPath,
    by_rel: dict[str, Path],
    files: set[str],
    members: list[str],
    not_followed: list[str],
    seen: set[str],
) -> dict[str, Any]:
    """The merged document of ``rel`` and everything it includes (depth-first)."""
    if rel in seen or len(seen) >= MAX_INCLUDES:
        return {}
    seen.add(rel)
    members.append(rel)
    doc = load_mapping(by_rel[rel])
    if doc is None:
        return {}
    merged: dict[str, Any] = {}
    for kind, value in _entries(doc.get("include")):
        if kind != "local":
            not_followed.append(f"{kind}: {value}")
            continue
        for target in _local_matches(repo, value, files):
            merged = _deep_merge(
                merged, _collect(target, repo, by_rel, files, members, not_followed, seen)
            )
    return _deep_merge(merged, doc)


__all__ = ["GitlabPipelines", "find_pipelines"]
