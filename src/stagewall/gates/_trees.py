"""What a commit changed, computed from raw tree objects (client and server alike).

The server has no clone, so a submission carries, besides the commit objects, the
**tree objects** needed to diff each commit against each of its parents: starting at
the trees the (hash-verified) commit objects name, only subtrees whose ids differ are
descended into — the pruned walk ``git diff-tree -r`` does. Every tree object must
hash to its id, so a client cannot hide a changed path: a missing tree is refused.
The resulting :class:`~stagewall.gates._git.TreeChange` list holds every changed
gitlink (submodule bump) and every changed path under a vendored directory, and
feeds the same authorship rules as a local clone (:mod:`stagewall.gates._bringin`).

The client runs the very same walk over its clone (:class:`Recorder`), recording the
objects it read, which are exactly the objects the server needs.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from stagewall.errors import HistoryRejected
from stagewall.gates._git import Commit, Repo, TreeChange, parse_commit

TREE = "040000"
ABSENT = "000000"
Reader = Callable[[list[str]], Mapping[str, bytes]]
CommitReader = Callable[[str], bytes | None]


def object_id(kind: bytes, raw: bytes, length: int) -> str:
    """The git object id of ``raw`` (sha1, or sha256 for 64-hex repositories)."""
    algo = hashlib.sha256 if length == 64 else hashlib.sha1
    return algo(b"%s %d\x00" % (kind, len(raw)) + raw).hexdigest()


def parents_of(raw: bytes) -> list[str]:
    return _header(raw, b"parent ")


def tree_of(raw: bytes, sha: str) -> str:
    found = _header(raw, b"tree ")
    if len(found) != 1:
        raise HistoryRejected(f"commit {sha[:12]} names no single tree")
    return found[0]


def _header(raw: bytes, key: bytes) -> list[str]:
    head = raw.split(b"\n\n", 1)[0]
    return [
        line[len(key) :].decode("ascii", "replace").strip()
        for line in head.split(b"\n")
        if line.startswith(key)
    ]


def parse_tree(raw: bytes, hexlen: int, tree_id: str) -> dict[str, tuple[str, str]]:
    """``name -> (mode, id)`` of a raw tree object; modes as six digits (``040000``)."""
    size = hexlen // 2
    out: dict[str, tuple[str, str]] = {}
    i = 0
    try:
        while i < len(raw):
            space = raw.index(b" ", i)
            nul = raw.index(b"\0", space)
            mode = raw[i:space].decode("ascii").zfill(6)
            name = raw[space + 1 : nul].decode("utf-8", "surrogateescape")
            oid = raw[nul + 1 : nul + 1 + size]
            if len(oid) != size or not name or "/" in name:
                raise ValueError(name)
            out[name] = (mode, oid.hex())
            i = nul + 1 + size
    except ValueError:
        raise HistoryRejected(f"tree object {tree_id} is malformed") from None
    return out


def tree_changes(read: Reader, new: str | None, old: str | None, hexlen: int) -> list[TreeChange]:
    """Every non-tree path that differs between trees ``new`` and ``old`` (None: empty),
    descending only into subtrees whose ids differ; one ``read`` per level."""
    zero = "0" * hexlen
    out: list[TreeChange] = []
    level: list[tuple[str, str | None, str | None]] = [("", new, old)]
    while level:
        raw = read(sorted({t for _, a, b in level for t in (a, b) if t}))
        deeper: list[tuple[str, str | None, str | None]] = []
        for prefix, a, b in level:
            now = parse_tree(raw[a], hexlen, a) if a else {}
            was = parse_tree(raw[b], hexlen, b) if b else {}
            for name in sorted(now.keys() | was.keys()):
                mode_new, id_new = now.get(name, (ABSENT, zero))
                mode_old, id_old = was.get(name, (ABSENT, zero))
                if (mode_new, id_new) == (mode_old, id_old):
                    continue
                path = prefix + name
                if TREE in (mode_new, mode_old):
                    deeper.append(
                        (
                            path + "/",
                            id_new if mode_new == TREE else None,
                            id_old if mode_old == TREE else None,
                        )
                    )
                if mode_new == TREE:
                    mode_new, id_new = ABSENT, zero
                if mode_old == TREE:
                    mode_old, id_old = ABSENT, zero
                if (mode_new, mode_old) != (ABSENT, ABSENT):
                    out.append(TreeChange(path, mode_old, mode_new, id_old, id_new))
        level = deeper
    return out


def commit_changes(
    shas: list[str], commit: CommitReader, read: Reader
) -> dict[str, list[TreeChange]]:
    """What each commit changed against each parent (a root commit: against nothing)."""
    out: dict[str, list[TreeChange]] = {}
    for sha in shas:
        raw = commit(sha)
        if raw is None:
            raise HistoryRejected(f"the object of commit {sha} was not sent")
        tree = tree_of(raw, sha)
        parents = parents_of(raw)
        changes: list[TreeChange] = []
        if not parents:
            changes += tree_changes(read, tree, None, len(sha))
        for parent in parents:
            praw = commit(parent)
            if praw is None:
                raise HistoryRejected(
                    f"the object of commit {parent} (a parent of {sha[:12]}) was not sent, so "
                    f"what {sha[:12]} changed cannot be verified",
                    hint="submit with `stagewall gate submit`, which sends it",
                )
            changes += tree_changes(read, tree, tree_of(praw, parent), len(sha))
        out[sha] = changes
    return out


def _b64(objects: Mapping[str, bytes]) -> dict[str, str]:
    return {k: base64.b64encode(v).decode("ascii") for k, v in objects.items()}


class Recorder:
    """A :class:`Repo` stand-in for :func:`~stagewall.gates._bringin.brought_in` on the
    client: reads the clone and records every object a server needs to see the same."""

    def __init__(self, git: Repo, commits: Mapping[str, bytes] | None = None) -> None:
        self.git = git
        self.sent: dict[str, bytes] = dict(commits or {})
        self.boundary: dict[str, bytes] = {}
        self.trees: dict[str, bytes] = {}
        self.subs: dict[str, Recorder] = {}

    def has_commit(self, sha: str) -> bool:
        return self.git.has_commit(sha)

    def is_ancestor(self, older: str, newer: str) -> bool:
        return self.git.is_ancestor(older, newer)

    def rev_list(self, sha: str, base: str | None, *, cap: int) -> list[str]:
        return self.git.rev_list(sha, base, cap=cap)

    def commits(self, shas: list[str]) -> list[Commit]:
        missing = [s for s in shas if s not in self.sent]
        self.sent.update(self.git.raw_commits(missing))
        return [parse_commit(s, self.sent[s]) for s in shas]

    def _commit(self, sha: str) -> bytes | None:
        if sha not in self.sent and sha not in self.boundary:
            self.boundary.update(self.git.raw_commits([sha]))
        return self.sent.get(sha) or self.boundary.get(sha)

    def _read(self, ids: list[str]) -> Mapping[str, bytes]:
        self.trees.update(self.git.raw_trees([i for i in ids if i not in self.trees]))
        return self.trees

    def changes(self, shas: list[str]) -> dict[str, list[TreeChange]]:
        self.commits(shas)
        return commit_changes(shas, self._commit, self._read)

    def submodule(self, path: str, at: str) -> Recorder | None:
        if path not in self.subs:
            sub = self.git.submodule(path, at)
            if sub is None:
                return None
            self.subs[path] = Recorder(sub)
        return self.subs[path]

    def payload(self) -> dict[str, Any]:
        """The JSON a submission carries (commits, boundary commits, trees, submodules)."""
        return {
            "commits": _b64(self.sent),
            "boundary": _b64({k: v for k, v in self.boundary.items() if k not in self.sent}),
            "trees": _b64(self.trees),
            "submodules": {p: r.payload() for p, r in sorted(self.subs.items())},
        }


__all__ = [
    "Recorder",
    "commit_changes",
    "object_id",
    "parents_of",
    "parse_tree",
    "tree_changes",
    "tree_of",
]
