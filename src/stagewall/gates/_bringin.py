"""What a change brings in besides its own commits: submodule bumps and vendored code.

Merge commits need nothing extra: the commit range is every commit reachable from
the change and not from the last promoted one, so the commits a merge brings in
are in it, and their authors count like any other.

* **Submodule pointer changes.** A commit that moves a gitlink from ``old`` to
  ``new`` brings in the submodule's commits ``old..new`` (all of ``new``'s history
  for a new submodule). They are read from the submodule's local clone
  (``.git/modules/<name>`` or the checked-out path) and contribute authors,
  committers, co-authors and signers exactly like the superproject's commits,
  recursively. When that history is not available locally, the bump counts as
  written by an unknown external (``submodule:<path>@<sha>``): fail closed.
* **Vendored directories** declared in ``vendored:`` of ``stagewall.yaml``: a
  commit that touches one counts its vendor (or, with no vendor, an unknown third
  party) as an author, whoever committed it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from stagewall.estate.models import VendoredDirectory
from stagewall.gates._git import Commit, TreeChange, max_commits
from stagewall.gates.identities import Contribution, Role

MAX_DEPTH = 3
ZERO = "0" * 40

PerCommit = Callable[[Commit], list[Contribution]]


class History(Protocol):
    """What is read of a repository: a local clone (``Repo``), the objects a client
    submitted (``SubmittedHistory``), or the client recording what it sends."""

    def has_commit(self, sha: str) -> bool: ...
    def is_ancestor(self, older: str, newer: str) -> bool: ...
    def rev_list(self, sha: str, base: str | None, *, cap: int) -> list[str]: ...
    def commits(self, shas: list[str]) -> list[Commit]: ...
    def changes(self, shas: list[str]) -> dict[str, list[TreeChange]]: ...
    def submodule(self, path: str, at: str) -> History | None: ...


def vendored_label(path: str) -> str:
    return f"vendored:{path}"


def submodule_label(path: str, sha: str) -> str:
    return f"submodule:{path}@{sha[:12]}"


def _touches(change: TreeChange, directory: str) -> bool:
    return change.path == directory or change.path.startswith(directory + "/")


def brought_in(
    git: History,
    shas: list[str],
    vendored: Sequence[VendoredDirectory],
    per_commit: PerCommit,
    *,
    depth: int = 0,
) -> list[Contribution]:
    """The contributions ``shas`` bring in through submodules and vendored directories."""
    out: list[Contribution] = []
    for sha, changes in git.changes(shas).items():
        if depth == 0:
            for v in vendored:
                if any(_touches(c, v.path) for c in changes):
                    out.append(Contribution(sha, Role.VENDORED, vendored_label(v.path)))
        for change in changes:
            if change.new_mode == TreeChange.GITLINK:
                out.extend(_submodule(git, sha, change, vendored, per_commit, depth))
    return out


def _submodule(
    git: History,
    sha: str,
    change: TreeChange,
    vendored: Sequence[VendoredDirectory],
    per_commit: PerCommit,
    depth: int,
) -> list[Contribution]:
    unknown = [Contribution(sha, Role.SUBMODULE, submodule_label(change.path, change.new))]
    if depth >= MAX_DEPTH:
        return unknown
    sub = git.submodule(change.path, sha)
    if sub is None or not sub.has_commit(change.new):
        return unknown
    base: str | None = None
    # A pointer moved to an unrelated history (or backwards), or a new submodule:
    # everything ``new`` has counts.
    if (
        change.old_mode == TreeChange.GITLINK
        and change.old != ZERO
        and sub.has_commit(change.old)
        and sub.is_ancestor(change.old, change.new)
    ):
        base = change.old
    commits = sub.rev_list(change.new, base, cap=max_commits())
    out: list[Contribution] = []
    for c in sub.commits(commits):
        # Recorded against the superproject commit that brought it in, naming the
        # submodule commit, so the promotion's record shows where each author came from.
        for contribution in per_commit(c):
            out.append(
                Contribution(
                    sha,
                    contribution.role,
                    contribution.email,
                    contribution.principal,
                )
            )
    out.extend(brought_in(sub, commits, vendored, per_commit, depth=depth + 1))
    return out


__all__ = ["MAX_DEPTH", "History", "brought_in", "submodule_label", "vendored_label"]
