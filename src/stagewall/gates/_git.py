"""Read commits from a git repository with the ``git`` CLI.

Always an argument list, never a shell. Every revision is validated before it is
passed on, so nothing a caller supplies can be read as an option. Replace refs are
ignored (``GIT_NO_REPLACE_OBJECTS``), the repository's fsmonitor hook is disabled,
and shallow clones are refused: a shallow history hides commits, and with them
their authors.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from stagewall.errors import BackendError, CommitNotFull, ConfigError

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_SHORT = re.compile(r"^[0-9a-fA-F]{4,64}$")
_COAUTHOR = re.compile(r"^co-authored-by:\s*(.*?)\s*<([^<>\s]+)>\s*$", re.IGNORECASE | re.MULTILINE)
_PERSON = re.compile(r"^(.*?)\s*<([^<>]*)>\s+\d+\s+[+-]\d{4}$")
DEFAULT_MAX_COMMITS = 10_000
_TIMEOUT = 120


class SigKind:
    SSH = "ssh"
    GPG = "gpg"


@dataclass(frozen=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True)
class Commit:
    """One commit object: who wrote it, who committed it, and its signature (if any)."""

    sha: str
    author: Person
    committer: Person
    coauthors: tuple[Person, ...] = ()
    signature: bytes | None = field(default=None, repr=False)
    payload: bytes = field(default=b"", repr=False)

    @property
    def signature_kind(self) -> str | None:
        if self.signature is None:
            return None
        if self.signature.startswith(b"-----BEGIN SSH SIGNATURE-----"):
            return SigKind.SSH
        if self.signature.startswith(b"-----BEGIN PGP SIGNATURE-----"):
            return SigKind.GPG
        return "unknown"


def is_full_sha(value: str) -> bool:
    return bool(_SHA.match(value))


def check_full_sha(value: str, what: str = "--change") -> str:
    """A full commit id (40 or 64 hex digits) in lower case, or :class:`CommitNotFull`.

    Never a prefix: a commit crafted to share the first digits of another would match.
    """
    v = value.strip().lower()
    if _SHA.match(v):
        return v
    if re.fullmatch(r"[0-9a-f]+", v):
        why = f"it has {len(v)} hex digits, not 40 (SHA-1) or 64 (SHA-256)"
        if len(v) < 40:
            why += ": an abbreviated id could be matched by a commit crafted to share it"
    else:
        why = "it is not a hexadecimal object id (branch and tag names move)"
    raise CommitNotFull(f"{what} {value[:80]!r} is not a full commit SHA: {why}")


class Repo:
    """A git working copy or bare repository at ``path``."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if shutil.which("git") is None:
            raise ConfigError(
                "the git command is not installed; stagewall reads commits with it",
                hint="install git and run the command again",
            )
        if not self.path.is_dir():
            raise ConfigError(f"--repo {self.path}: not a directory")
        inside = self._run(
            "rev-parse", "--is-inside-work-tree", "--is-bare-repository", check=False
        )
        if inside.returncode != 0:
            raise ConfigError(f"--repo {self.path}: not a git repository")
        if self._text("rev-parse", "--is-shallow-repository") == "true":
            raise ConfigError(
                f"--repo {self.path} is a shallow clone, so some commits (and their authors) "
                "are missing",
                hint="fetch the full history (GitHub Actions: fetch-depth: 0; GitLab: "
                "GIT_DEPTH: 0, or `git fetch --unshallow`)",
            )

    def _run(
        self, *args: str, check: bool = True, stdin: bytes | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        env = dict(os.environ)
        env.update(
            {
                "GIT_NO_REPLACE_OBJECTS": "1",
                "GIT_TERMINAL_PROMPT": "0",
                "GIT_OPTIONAL_LOCKS": "0",
                "LC_ALL": "C",
            }
        )
        cmd = ["git", "-c", "core.fsmonitor=false", "-C", str(self.path), *args]
        try:
            proc = subprocess.run(
                cmd, input=stdin, capture_output=True, env=env, timeout=_TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise BackendError(f"git {args[0]} in {self.path} failed: {exc}") from exc
        if check and proc.returncode != 0:
            msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise BackendError(
                f"git {args[0]} in {self.path} failed: {msg[0] if msg else proc.returncode}"
            )
        return proc

    def _text(self, *args: str) -> str:
        return self._run(*args).stdout.decode("utf-8", "replace").strip()

    def resolve(self, rev: str) -> str:
        """The full SHA of commit ``rev`` (a full or abbreviated hex id only)."""
        if not _SHORT.match(rev.strip()):
            raise ConfigError(
                f"--change {rev!r} is not a commit id",
                hint="pass a commit SHA (branch and tag names are not accepted: they move)",
            )
        proc = self._run(
            "rev-parse",
            "--verify",
            "--quiet",
            "--end-of-options",
            f"{rev.strip()}^{{commit}}",
            check=False,
        )
        sha = proc.stdout.decode().strip()
        if proc.returncode != 0 or not _SHA.match(sha):
            raise ConfigError(f"--change {rev}: no such commit in {self.path}")
        return sha

    def has_commit(self, sha: str) -> bool:
        check_full_sha(sha)
        proc = self._run("cat-file", "-e", f"{sha}^{{commit}}", check=False)
        return proc.returncode == 0

    def is_ancestor(self, older: str, newer: str) -> bool:
        check_full_sha(older)
        check_full_sha(newer)
        proc = self._run("merge-base", "--is-ancestor", older, newer, check=False)
        if proc.returncode not in (0, 1):
            raise BackendError(f"git merge-base in {self.path} failed")
        return proc.returncode == 0

    def rev_list(self, sha: str, base: str | None, *, cap: int) -> list[str]:
        """Commits reachable from ``sha`` but not from ``base`` (all if none), newest first.

        More than ``cap`` commits is refused: stagewall cannot vouch for who wrote them.
        """
        check_full_sha(sha)
        args = ["rev-list", f"--max-count={cap + 1}", sha]
        if base is not None:
            args.append(f"^{check_full_sha(base, 'base')}")
        out = self._text(*args).split()
        if len(out) > cap:
            raise ConfigError(
                f"the change has more than {cap} commits since the last promotion to this stage",
                hint="raise STAGEWALL_GATES_MAX_COMMITS for the first promotion of a long "
                "history (every commit's identity is read and checked)",
            )
        return [check_full_sha(s, "rev-list output") for s in out]

    def commit(self, sha: str) -> Commit:
        """Parse one commit object, including its signature and signed payload."""
        raw = self._run("cat-file", "commit", check_full_sha(sha)).stdout
        return parse_commit(sha, raw)

    def raw_commits(self, shas: list[str]) -> dict[str, bytes]:
        """The raw commit objects of ``shas``, read with one ``git cat-file --batch``."""
        return self._raw_objects(shas, b"commit")

    def raw_trees(self, ids: list[str]) -> dict[str, bytes]:
        """The raw tree objects ``ids``, read with one ``git cat-file --batch``."""
        return self._raw_objects(ids, b"tree")

    def _raw_objects(self, shas: list[str], kind: bytes) -> dict[str, bytes]:
        if not shas:
            return {}
        stdin = "".join(check_full_sha(s, kind.decode()) + "\n" for s in shas).encode()
        out = self._run("cat-file", "--batch", stdin=stdin).stdout
        pos, found = 0, {}
        for sha in shas:
            eol = out.index(b"\n", pos)
            header = out[pos:eol].split()
            if len(header) != 3 or header[1] != kind:
                raise BackendError(f"git cat-file: {sha} is not a {kind.decode()} in {self.path}")
            size = int(header[2])
            start = eol + 1
            found[sha] = out[start : start + size]
            pos = start + size + 1
        return found

    def commits(self, shas: list[str]) -> list[Commit]:
        """Parse many commits with one ``git cat-file --batch`` process."""
        raw = self.raw_commits(shas)
        return [parse_commit(sha, raw[sha]) for sha in shas]

    # -- what a commit brings in (submodules, vendored directories) ------------

    def changes(self, shas: list[str]) -> dict[str, list[TreeChange]]:
        """The paths each commit changes: against its parent (the empty tree for a root
        commit); a merge against each parent (``-m``), so what it brings in is listed.
        One ``git diff-tree --stdin`` process for all of them."""
        out: dict[str, list[TreeChange]] = {s: [] for s in shas}
        if not shas:
            return out
        stdin = "".join(check_full_sha(s, "commit") + "\n" for s in shas).encode()
        raw = self._run(
            "diff-tree", "--stdin", "-r", "-z", "--raw", "--root", "-m", "--no-renames",
            stdin=stdin,
        ).stdout  # fmt: skip
        tokens = raw.split(b"\0")
        current: str | None = None
        i = 0
        while i < len(tokens):
            tok = tokens[i].decode("utf-8", "surrogateescape").strip()
            i += 1
            if not tok:
                continue
            if tok.startswith(":"):
                meta = tok[1:].split()
                if current is None or len(meta) < 5 or i >= len(tokens):
                    raise BackendError(f"git diff-tree in {self.path}: unexpected output")
                path = tokens[i].decode("utf-8", "surrogateescape")
                i += 1
                out[current].append(TreeChange(path, meta[0], meta[1], meta[2], meta[3]))
            elif _SHA.match(tok.split()[0]) and tok.split()[0] in out:
                current = tok.split()[0]
            else:
                raise BackendError(f"git diff-tree in {self.path}: unexpected output {tok[:60]!r}")
        return out

    def submodule(self, path: str, at: str) -> Repo | None:
        """The local clone of the submodule at ``path`` (as of commit ``at``), if present.

        Looked up only inside this repository: ``.git/modules/<name>`` (the name from
        ``.gitmodules`` at ``at``, else the path) and the checked-out ``<path>``.
        """
        names = [path]
        cfg = self._run(
            "config", "--blob", f"{check_full_sha(at)}:.gitmodules", "--get-regexp",
            r"^submodule\..*\.path$", check=False,
        )  # fmt: skip
        for line in cfg.stdout.decode("utf-8", "replace").splitlines():
            key, _, value = line.partition(" ")
            if value.strip() == path and key.startswith("submodule.") and key.endswith(".path"):
                names.insert(0, key[len("submodule.") : -len(".path")])
        git_dir = Path(self._text("rev-parse", "--absolute-git-dir"))
        top = self.path.resolve()
        candidates = [git_dir / "modules" / n for n in names] + [top / path]
        for cand in candidates:
            try:
                real = cand.resolve()
            except OSError:
                continue
            inside = real.is_relative_to(git_dir.resolve()) or real.is_relative_to(top)
            if not inside or real in (top, git_dir.resolve()) or not real.is_dir():
                continue
            try:
                return Repo(real)
            except ConfigError:
                continue
        return None


@dataclass(frozen=True)
class TreeChange:
    """One path a commit changed: modes and object ids before and after."""

    path: str
    old_mode: str
    new_mode: str
    old: str
    new: str

    GITLINK = "160000"

    @property
    def is_submodule(self) -> bool:
        return self.new_mode == self.GITLINK or self.old_mode == self.GITLINK


def parse_commit(sha: str, raw: bytes) -> Commit:
    head, sep, message = raw.partition(b"\n\n")
    lines = head.split(b"\n")
    kept: list[bytes] = []
    sig_lines: list[bytes] = []
    authors: list[Person] = []
    committers: list[Person] = []
    in_sig = False
    for line in lines:
        if in_sig and line.startswith(b" "):
            sig_lines.append(line[1:])
            continue
        in_sig = False
        if line.startswith(b"gpgsig ") or line.startswith(b"gpgsig-sha256 "):
            in_sig = True
            sig_lines.append(line.split(b" ", 1)[1])
            continue
        kept.append(line)
        if line.startswith(b"author "):
            authors.append(_person(line[7:], sha))
        elif line.startswith(b"committer "):
            committers.append(_person(line[10:], sha))
    if len(authors) != 1 or len(committers) != 1:
        raise BackendError(
            f"commit {sha} is malformed: it needs exactly one author and one committer line",
            hint="run `git fsck`; stagewall does not guess who wrote a malformed commit",
        )
    text = message.decode("utf-8", "replace")
    coauthors = tuple(Person(m.group(1), m.group(2)) for m in _COAUTHOR.finditer(text))
    signature = b"\n".join(sig_lines) + b"\n" if sig_lines else None
    payload = b"\n".join(kept) + sep + message
    return Commit(sha, authors[0], committers[0], coauthors, signature, payload)


def _person(value: bytes, sha: str) -> Person:
    m = _PERSON.match(value.decode("utf-8", "replace").strip())
    if not m:
        raise BackendError(f"commit {sha}: cannot parse identity line")
    return Person(m.group(1), m.group(2).strip())


def max_commits() -> int:
    raw = os.environ.get("STAGEWALL_GATES_MAX_COMMITS", "")
    if not raw:
        return DEFAULT_MAX_COMMITS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(f"STAGEWALL_GATES_MAX_COMMITS={raw!r} is not a positive number")
    return value
