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

It also carries the **tree objects** that show what each commit changed, the commit
objects of the range's boundary parents (for their trees), and, per submodule path,
the same again for the submodule commits a bump brings in (:mod:`stagewall.gates._trees`).
Each object must hash to its id; a tree or a parent that is needed and not sent is
refused. So the server sees submodule bumps and vendored directories exactly as a
clone would, and applies the same authorship rules (:mod:`stagewall.gates._bringin`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, select

from stagewall.access._core import load_request
from stagewall.audit import AuditLog
from stagewall.errors import ConfigError, HistoryRejected
from stagewall.gates._bound import bound_deployments, promotion_row_problem
from stagewall.gates._git import Commit, TreeChange, check_full_sha, is_full_sha, parse_commit
from stagewall.gates._tables import gate_deployments
from stagewall.gates._trees import commit_changes, object_id, parents_of

MAX_OBJECT_BYTES = 1 << 20


@dataclass(frozen=True)
class Submitted:
    """The objects a client sent for one repository (the superproject or a submodule)."""

    commits: Mapping[str, bytes]
    boundary: Mapping[str, bytes] = field(default_factory=dict)
    trees: Mapping[str, bytes] | None = None
    submodules: Mapping[str, Submitted] = field(default_factory=dict)


def _verified(objects: Mapping[str, bytes], kind: bytes) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    what = kind.decode()
    for sha, raw in objects.items():
        sha = sha.lower()
        if not is_full_sha(sha):
            raise HistoryRejected(f"{sha[:80]!r} is not a full {what} id")
        if len(raw) > MAX_OBJECT_BYTES:
            raise HistoryRejected(f"{what} object {sha} is larger than 1 MiB")
        if object_id(kind, raw, len(sha)) != sha:
            raise HistoryRejected(
                f"the object sent as {what} {sha} does not hash to that id; "
                f"it is not the {what} from the repository"
            )
        out[sha] = raw
    return out


class SubmittedHistory:
    """The commit-reading interface of :class:`~stagewall.gates._git.Repo`, over sent objects."""

    def __init__(self, objects: Mapping[str, bytes] | Submitted, known: Iterable[str] = ()) -> None:
        sent = objects if isinstance(objects, Submitted) else Submitted(objects)
        self.path = Path("submitted-objects")
        self._objects = _verified(sent.commits, b"commit")
        self._boundary = _verified(sent.boundary, b"commit")
        self._trees = None if sent.trees is None else _verified(sent.trees, b"tree")
        self._subs = dict(sent.submodules)
        self._known = set(known)

    def resolve(self, rev: str) -> str:
        sha = check_full_sha(rev)
        if sha not in self._objects:
            raise HistoryRejected(f"the commit object of --change {sha} was not sent")
        return sha

    def has_commit(self, sha: str) -> bool:
        return sha in self._objects or sha in self._known or sha in self._boundary

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
            todo.extend(parents_of(self._objects[sha]))
        return False

    def rev_list(self, sha: str, base: str | None, *, cap: int) -> list[str]:
        """The commits reachable from ``sha`` and not from ``base``; refuses an open range."""
        if sha not in self._objects:
            raise HistoryRejected(f"the object of commit {sha} was not sent")
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
            for parent in parents_of(self._objects[cur]):
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

    def _commit(self, sha: str) -> bytes | None:
        return self._objects.get(sha) or self._boundary.get(sha)

    def _read(self, ids: list[str]) -> Mapping[str, bytes]:
        if self._trees is None:
            raise HistoryRejected(
                "the submission carries no tree objects, so the server cannot see which "
                "submodules and vendored directories its commits change",
                hint="submit with a current `stagewall gate submit`, which sends them",
            )
        missing = [i for i in ids if i not in self._trees]
        if missing:
            raise HistoryRejected(
                f"tree object {missing[0]} was not sent: what the commits change cannot be "
                "verified, so their authors are unknown",
                hint="submit with `stagewall gate submit`, which sends every tree it needs",
            )
        return self._trees

    def changes(self, shas: list[str]) -> dict[str, list[TreeChange]]:
        """What each commit changed, from the hash-verified tree objects sent."""
        return commit_changes(shas, self._commit, self._read)

    def submodule(self, path: str, at: str) -> SubmittedHistory | None:
        """The objects sent for the submodule at ``path`` (None: none were sent, and the
        bump counts as written by an unknown external)."""
        sent = self._subs.get(path)
        return SubmittedHistory(sent) if sent is not None else None


def _deployments(conn: Connection, stage: str, log: AuditLog) -> list[Row[Any]]:
    """The deployments to ``stage`` bound to their gate check event, oldest first.

    A row without its event counts for nothing: it cannot end the range of the next
    submission (which would hide the authors of the commits behind it)."""
    rows = conn.execute(
        select(gate_deployments)
        .where(gate_deployments.c.stage == stage)
        .order_by(gate_deployments.c.id)
    ).all()
    return bound_deployments(log, conn, list(rows))


def deployed_commits(
    conn: Connection, stage: str, log: AuditLog
) -> tuple[set[str], dict[str, str]]:
    """Every commit counted in a promotion that was deployed to ``stage``, and, per
    deployed promotion whose rows are not what its submission event recorded, why.

    A client may leave these commits out of the next submission to ``stage``; which
    commits they are is read from the promotion's request row, so a row edited in the
    store (a commit added to it) would hide that commit and its authors. Such a
    promotion's commits are not counted: the client must send them."""
    ids = sorted({r.request_id for r in _deployments(conn, stage, log)})
    out: set[str] = set()
    unbound: dict[str, str] = {}
    for rid in ids:
        problem = promotion_row_problem(log, conn, rid)
        if problem is not None:
            unbound[rid] = problem
            continue
        details = load_request(conn, rid).details
        out.add(str(details.get("sha")))
        out.update(str(c["sha"]) for c in details.get("contributions", []))
    return out, unbound


def last_deployed(conn: Connection, stage: str, log: AuditLog) -> str | None:
    rows = _deployments(conn, stage, log)
    return str(rows[-1].sha) if rows else None


__all__ = ["Submitted", "SubmittedHistory", "deployed_commits", "last_deployed", "object_id"]
