"""A git repository as a witness: each checkpoint becomes a commit in the auditor's repo.

The file at ``path`` on ``branch`` holds the newest *cosigned* checkpoint: the log's
signed note (C2SP tlog-checkpoint) with one more signature line, a C2SP
tlog-cosignature/v1 by the git witness's Ed25519 key. Why that and not an SSH commit
signature (``gpg.format=ssh``): the signature covers exactly the checkpoint bytes and
a timestamp, verifies with the same code and key format as every other witness (no
``ssh-keygen -Y verify`` or allowed-signers file on the auditor's side), and counts
in the quorum unchanged; the commit history supplies the order, and the repository,
which refuses non-fast-forward pushes and deletions, is what the operator cannot
rewrite.

Before committing, the previous committed checkpoint is read back from the
repository and the new one must extend it: never smaller, and an RFC 9162
consistency proof from the old root to the new one must verify. Otherwise nothing
is committed and :class:`~stagewall.errors.WitnessConflict` is raised.

Every round works in a fresh temporary bare repository (``git fetch --depth 1`` of the
branch, plumbing commands to build the commit, a plain ``git push``): nothing of the
witness's state lives on the server.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from stagewall.audit._checkpoint import Checkpoint, verify_checkpoint
from stagewall.audit._cosignature import (
    Cosignature,
    WitnessPublicKey,
    WitnessSigningKey,
    verify_cosignature_line,
)
from stagewall.audit._log import StoredCheckpoint
from stagewall.audit._merkle import consistency_proof, verify_consistency
from stagewall.errors import ConfigError, GitWitnessFailed, WitnessConflict
from stagewall.keys import PublicKey
from stagewall.redact import redact

_log = logging.getLogger("stagewall.audit.witness.git")
_REF = "refs/stagewall/witness"


@dataclass(frozen=True)
class GitWitness:
    """A configured git witness: its verifier key, the repository, branch and file."""

    key: WitnessPublicKey
    repository: str
    branch: str = "main"
    path: str = "checkpoint.txt"
    signing_key_file: Path | None = field(default=None, compare=False)
    timeout: float = 30.0

    @property
    def name(self) -> str:
        return self.key.name

    def signing_key(self) -> WitnessSigningKey:
        """The witness's private key (only the log's server holds it)."""
        if self.signing_key_file is None:
            raise ConfigError(f"git witness {self.name} has no signing_key_file")
        try:
            text = self.signing_key_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"git witness {self.name}: cannot read signing_key_file "
                f"{self.signing_key_file}: {exc.strerror}",
                hint="create it with `stagewall witness init DIR --name NAME` (witness.key)",
            ) from None
        key = WitnessSigningKey.from_text(text, source=str(self.signing_key_file))
        if key.public != self.key:
            raise ConfigError(
                f"git witness {self.name}: signing_key_file {self.signing_key_file} does "
                "not belong to the configured public_key",
                hint="use the witness.pub printed next to that key as public_key",
            )
        return key


def _git(
    args: Sequence[str],
    git_dir: Path,
    *,
    timeout: float,
    data: bytes | None = None,
    env: dict[str, str] | None = None,
    what: str,
) -> str:
    full = {
        **os.environ,
        "GIT_DIR": str(git_dir),
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
        **(env or {}),
    }
    try:
        done = subprocess.run(
            ["git", *args],
            input=data,
            capture_output=True,
            timeout=timeout,
            env=full,
            check=False,
        )
    except FileNotFoundError:
        raise GitWitnessFailed(
            "git is not installed on the server", hint="install git (2.20 or newer)"
        ) from None
    except subprocess.TimeoutExpired:
        raise GitWitnessFailed(f"{what}: git {args[0]} took longer than {timeout:g}s") from None
    if done.returncode != 0:
        err = [x.strip() for x in done.stderr.decode("utf-8", "replace").splitlines()]
        tail = redact(" / ".join([x for x in err if x][-3:]))[:400]
        raise GitWitnessFailed(f"{what}: git {args[0]} failed: {tail}")
    return done.stdout.decode("utf-8", "replace")


class _Checkout:
    """A throwaway bare repository holding the witness branch's head (if any)."""

    def __init__(self, witness: GitWitness, directory: Path) -> None:
        self.w = witness
        self.dir = directory
        self.what = f"git witness {witness.name} ({redact(witness.repository)})"
        self.run("init", "--bare", "-q", str(directory))
        self.head: str | None = None

    def run(self, *args: str, data: bytes | None = None, env: dict[str, str] | None = None) -> str:
        return _git(args, self.dir, timeout=self.w.timeout, data=data, env=env, what=self.what)

    def fetch(self) -> str | None:
        listed = self.run("ls-remote", "--", self.w.repository, f"refs/heads/{self.w.branch}")
        if not listed.strip():
            return None  # a new, empty repository or branch: the first commit starts it
        self.run(
            "fetch", "-q", "--no-tags", "--depth", "1", "--",
            self.w.repository, f"+refs/heads/{self.w.branch}:{_REF}",
        )  # fmt: skip
        self.head = self.run("rev-parse", "--verify", f"{_REF}^{{commit}}").strip()
        return self.head

    def committed(self) -> str | None:
        """The checkpoint file at the fetched head, or None."""
        if self.head is None:
            return None
        names = self.run("ls-tree", "--name-only", self.head, "--", self.w.path)
        if not names.strip():
            return None
        return self.run("cat-file", "blob", f"{self.head}:{self.w.path}")

    def commit(self, text: str, message: str, when: datetime) -> str:
        blob = self.run("hash-object", "-w", "--stdin", data=text.encode()).strip()
        index = {"GIT_INDEX_FILE": str(self.dir / "witness.index")}
        if self.head is not None:
            self.run("read-tree", self.head, env=index)
        self.run("update-index", "--add", "--cacheinfo", f"100644,{blob},{self.w.path}", env=index)
        tree = self.run("write-tree", env=index).strip()
        stamp = f"{int(when.timestamp())} +0000"
        ident = {
            "GIT_AUTHOR_NAME": "stagewall",
            "GIT_AUTHOR_EMAIL": "stagewall@localhost",
            "GIT_COMMITTER_NAME": "stagewall",
            "GIT_COMMITTER_EMAIL": "stagewall@localhost",
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
        }
        parent = ["-p", self.head] if self.head else []
        commit = self.run(
            "commit-tree", "--no-gpg-sign", tree, *parent, "-m", message, env=ident
        ).strip()
        # No force: the auditor's repository refuses anything but a fast-forward.
        try:
            self.run("push", "-q", "--", self.w.repository, f"{commit}:refs/heads/{self.w.branch}")
        except GitWitnessFailed as exc:
            if any(w in exc.message for w in ("rejected", "fetch first", "non-fast-forward")):
                raise _Overtaken(exc.message) from None
            raise
        return commit


class _Overtaken(GitWitnessFailed):
    """The branch moved between fetch and push (another server committed first)."""


def read_committed_note(witness: GitWitness) -> str | None:
    """The cosigned checkpoint the repository holds now (None: nothing committed yet)."""
    with tempfile.TemporaryDirectory(prefix="stagewall-gitwitness-") as tmp:
        checkout = _Checkout(witness, Path(tmp) / "repo.git")
        checkout.fetch()
        return checkout.committed()


def _check_extends(
    witness: GitWitness, old: Checkpoint, cp: StoredCheckpoint, leaves: Sequence[bytes]
) -> None:
    if old.size > cp.size:
        raise WitnessConflict(
            f"git witness {witness.name} holds a checkpoint of {old.size} events but the log "
            f"has only {cp.size}: events {cp.size}..{old.size - 1} were removed (truncated)"
        )
    proof = consistency_proof(old.size, list(leaves)) if 0 < old.size < cp.size else []
    if not verify_consistency(old.size, cp.size, old.root, cp.root, proof):
        raise WitnessConflict(
            f"git witness {witness.name} refused checkpoint {cp.size}: it is not an extension "
            f"of the checkpoint of {old.size} events committed before (history rewritten)"
        )


def commit_checkpoint(
    witness: GitWitness,
    cp: StoredCheckpoint,
    leaves: Sequence[bytes],
    log_key: PublicKey,
    *,
    now: datetime | None = None,
) -> Cosignature:
    """Cosign ``cp`` and commit it to the witness repository, if it extends the last one.

    ``leaves`` are the log's leaf hashes up to ``cp.size`` (for the consistency proof);
    ``log_key`` verifies the checkpoint already committed.
    """
    signer = witness.signing_key()
    moment = now or datetime.now(UTC)
    checkpoint = verify_checkpoint(cp.note, log_key, source="the new checkpoint")
    body = cp.note[: cp.note.rfind("\n\n") + 1]
    line = signer.cosign(body, int(moment.timestamp()))
    cosig = verify_cosignature_line(
        line, body, checkpoint, witness.key, source=f"git witness {witness.name}"
    )
    if cosig is None:  # the key checked above is the configured one
        raise GitWitnessFailed(f"git witness {witness.name} could not cosign")
    message = (
        f"checkpoint {checkpoint.origin} size {cp.size}\n\n"
        f"root {cp.root.hex()}\ncosigned by {witness.name} at {cosig.timestamp}\n"
    )
    for attempt in range(3):  # another server may commit between our fetch and push
        with tempfile.TemporaryDirectory(prefix="stagewall-gitwitness-") as tmp:
            checkout = _Checkout(witness, Path(tmp) / "repo.git")
            checkout.fetch()
            previous = checkout.committed()
            if previous is not None:
                source = f"git witness {witness.name} {witness.path}"
                old = verify_checkpoint(previous, log_key, source=source)
                _check_extends(witness, old, cp, leaves)
            try:
                checkout.commit(cp.note + line, message, moment)
            except _Overtaken:
                if attempt == 2:
                    raise
                continue
        break
    _log.info("git witness %s: committed checkpoint %d", witness.name, cp.size)
    return cosig


__all__ = ["GitWitness", "commit_checkpoint", "read_committed_note"]
