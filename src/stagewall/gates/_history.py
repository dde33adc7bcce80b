"""A promotion's history as the server sees it: commit objects a client sent, verified.

The server has no clone. ``stagewall gate submit`` sends the raw commit objects of
the change since the stage's last deployment (``git rev-list SHA ^BASE``; the whole
history for a first promotion). The server trusts none of it:

- each object must hash to its id (``sha1("commit <len>\\0" + body)``, or sha256 for
  64-hex repositories), so its author, committer, co-authors and signature are
  exactly what is in the repository;
- the range must be closed: every parent of every commit counted is itself sent,
  is the base, or was counted in a promotion already deployed to this stage. A
  client that leaves out a commit (to hide its author) is refused.

Sending more than needed only adds authors, which can only make approval stricter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path

from sqlalchemy import Connection, select

from stagewall.access._core import load_request
from stagewall.errors import ConfigError, HistoryRejected
from stagewall.gates._git import Commit, check_full_sha, is_full_sha, parse_commit
from stagewall.gates._tables import gate_deployments

MAX_OBJECT_BYTES = 1 << 20


def object_id(raw: bytes, length: int) -> str:
    header = b"commit %d\x00" % len(raw)
    algo = hashlib.sha256 if length == 64 else hashlib.sha1
    return algo(header + raw).hexdigest()


def _parents(raw: bytes) -> list[str]:
    head = raw.split(b"\n\n", 1)[0]
    out = []
    for line in head.split(b"\n"):
        if line.startswith(b"parent "):
            out.append(line[7:].decode("ascii", "replace").strip())
    return out


class SubmittedHistory:
    """The commit-reading interface of :class:`~stagewall.gates._git.Repo`, over sent objects."""

    def __init__(self, objects: Mapping[str, bytes], known: Iterable[str]) -> None:
        self.path = Path("submitted-objects")
        self._objects: dict[str, bytes] = {}
        for sha, raw in objects.items():
            sha = sha.lower()
            if not is_full_sha(sha):
                raise HistoryRejected(f"{sha[:80]!r} is not a full commit id")
            if len(raw) > MAX_OBJECT_BYTES:
                raise HistoryRejected(f"commit object {sha} is larger than 1 MiB")
            if object_id(raw, len(sha)) != sha:
                raise HistoryRejected(
                    f"the object sent as commit {sha} does not hash to that id; "
                    "it is not the commit from the repository"
                )
            self._objects[sha] = raw
        self._known = set(known)

    def resolve(self, rev: str) -> str:
        sha = check_full_sha(rev)
        if sha not in self._objects:
            raise HistoryRejected(f"the commit object of --change {sha} was not sent")
        return sha

    def has_commit(self, sha: str) -> bool:
        return sha in self._objects or sha in self._known

    def is_ancestor(self, older: str, newer: str) -> bool:
        seen: set[str] = set()
        todo = [newer]
        while todo:
            sha = todo.pop()
            if sha == older:
                return True
            if sha in seen or sha not in self._objects:
                continue
            seen.add(sha)
            todo.extend(_parents(self._objects[sha]))
        return False

    def rev_list(self, sha: str, base: str | None, *, cap: int) -> list[str]:
        """The commits reachable from ``sha`` and not from ``base``; refuses an open range."""
        out: list[str] = []
        seen: set[str] = set()
        todo = [sha]
        while todo:
            cur = todo.pop()
            if cur in seen:
                continue
            seen.add(cur)
            out.append(cur)
            if len(out) > cap:
                raise ConfigError(
                    f"the change has more than {cap} commits since the last promotion to "
                    "this stage",
                    hint="raise STAGEWALL_GATES_MAX_COMMITS on the server for the first "
                    "promotion of a long history",
                )
            for parent in _parents(self._objects[cur]):
                if parent == base or parent in seen:
                    continue
                if parent in self._objects:
                    todo.append(parent)
                elif parent not in self._known:
                    raise HistoryRejected(
                        f"commit {parent} (a parent of {cur[:12]}) was not sent, is not the "
                        "stage's last deployed commit and was never counted in a deployment "
                        "to this stage: the history is incomplete, so its authors are unknown"
                    )
        return out

    def commits(self, shas: list[str]) -> list[Commit]:
        return [parse_commit(s, self._objects[s]) for s in shas]


def deployed_commits(conn: Connection, stage: str) -> set[str]:
    """Every commit counted in a promotion that was deployed to ``stage``."""
    ids = {
        r[0]
        for r in conn.execute(
            select(gate_deployments.c.request_id).where(gate_deployments.c.stage == stage)
        )
    }
    out: set[str] = set()
    for rid in ids:
        details = load_request(conn, rid).details
        out.add(str(details.get("sha")))
        out.update(str(c["sha"]) for c in details.get("contributions", []))
    return out


def last_deployed(conn: Connection, stage: str) -> str | None:
    row = conn.execute(
        select(gate_deployments.c.sha)
        .where(gate_deployments.c.stage == stage)
        .order_by(gate_deployments.c.id.desc())
        .limit(1)
    ).first()
    return str(row[0]) if row is not None else None


__all__ = ["SubmittedHistory", "deployed_commits", "last_deployed", "object_id"]
