"""Verify commit signatures against the keys each principal declares in the estate.

A commit's signature is made by whoever created the commit object, so it must
verify against a key declared by the principal the **committer** e-mail maps to.

* SSH signatures: ``ssh-keygen -Y verify`` with an allowed-signers file built from
  the estate's ``identities.ssh_keys`` (namespace ``git``).
* GPG signatures: ``gpg --verify`` (keys come from the keyring in ``GNUPGHOME``); the
  signing key's fingerprint (or its primary key's) must be one of the committer
  principal's ``identities.gpg_keys``. Keyring trust levels play no part.

A missing tool, an unsigned commit, an unknown key or a bad signature refuses the
promotion: nothing unverifiable passes.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from stagewall.errors import AccessDenied, ConfigError
from stagewall.estate import Estate
from stagewall.gates._git import Commit, SigKind
from stagewall.gates.identities import normalise_fingerprint, principal_for_email, ssh_key_blob

_TIMEOUT = 60


def _tool(name: str, kind: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ConfigError(
            f"{name} is not installed, so {kind} commit signatures cannot be verified and "
            "this stage requires signed commits",
            hint=f"install {name} on the host that runs `stagewall serve` (it verifies signatures)",
        )
    return path


def verify_commit(commit: Commit, estate: Estate, stage: str) -> str:
    """The principal whose declared key verifies ``commit``'s signature; else refuse."""
    short = commit.sha[:12]
    if commit.signature is None:
        raise AccessDenied(
            f"commit {short} is not signed and stage {stage!r} requires signed commits",
            hint="sign commits (git config commit.gpgsign true) and submit again",
        )
    # The signer, not the author or committer field, decides who wrote the commit.
    signer = identify_signer(commit, estate)
    if signer is not None:
        return signer
    committer = principal_for_email(estate, commit.committer.email)
    if committer is None:
        raise AccessDenied(
            f"commit {short} is signed, but its committer {commit.committer.email} maps to no "
            "principal, so no declared key can vouch for it",
            hint="declare the committer's e-mail and signing key in stagewall.yaml",
        )
    kind = commit.signature_kind
    if kind == SigKind.SSH:
        _verify_ssh(commit, estate, committer)
    elif kind == SigKind.GPG:
        _verify_gpg(commit, estate, committer)
    else:
        raise AccessDenied(f"commit {short} carries a signature of an unknown kind")
    return committer


def _verify_ssh(commit: Commit, estate: Estate, principal: str) -> None:
    tool = _tool("ssh-keygen", "SSH")
    p = estate.principals[principal]
    blobs = [b for b in (ssh_key_blob(k) for k in p.identities.ssh_keys) if b]
    if not blobs:
        raise AccessDenied(
            f"commit {commit.sha[:12]} is SSH-signed but {principal} declares no SSH key",
            hint=f"add the public key to principals.{principal}.identities.ssh_keys",
        )
    with tempfile.TemporaryDirectory(prefix="sw-ssh-") as tmp:
        allowed = Path(tmp) / "allowed_signers"
        allowed.write_text(
            "".join(f'{principal} namespaces="git" {b}\n' for b in blobs), encoding="utf-8"
        )
        sig = Path(tmp) / "commit.sig"
        sig.write_bytes(commit.signature or b"")
        cmd = [
            tool,
            "-Y",
            "verify",
            "-f",
            str(allowed),
            "-I",
            principal,
            "-n",
            "git",
            "-s",
            str(sig),
        ]
        try:
            proc = subprocess.run(
                cmd, input=commit.payload, capture_output=True, timeout=_TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ConfigError(f"ssh-keygen could not run: {exc}") from exc
    if proc.returncode != 0:
        raise AccessDenied(
            f"commit {commit.sha[:12]}: the SSH signature does not verify against any key "
            f"declared for its committer {principal}",
            hint="the commit was signed with another key, or changed after signing",
        )


def _gpg_signers(commit: Commit, tool: str) -> set[str]:
    """Fingerprints (key and primary) of a good GPG signature on ``commit``; empty if none."""
    with tempfile.TemporaryDirectory(prefix="sw-gpg-") as tmp:
        sig = Path(tmp) / "commit.sig"
        data = Path(tmp) / "commit.payload"
        sig.write_bytes(commit.signature or b"")
        data.write_bytes(commit.payload)
        cmd = [tool, "--batch", "--no-tty", "--status-fd", "1", "--verify", str(sig), str(data)]
        try:
            proc = subprocess.run(cmd, capture_output=True, timeout=_TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ConfigError(f"gpg could not run: {exc}") from exc
    status = proc.stdout.decode("utf-8", "replace").splitlines()
    good = any(line.startswith("[GNUPG:] GOODSIG ") for line in status)
    fprs: set[str] = set()
    for line in status:
        if line.startswith("[GNUPG:] VALIDSIG "):
            fields = line.split()
            fprs.add(fields[2].upper())
            if len(fields) > 11:
                fprs.add(fields[11].upper())
    return fprs if proc.returncode == 0 and good else set()


def _verify_gpg(commit: Commit, estate: Estate, principal: str) -> None:
    tool = _tool("gpg", "GPG")
    p = estate.principals[principal]
    wanted = {normalise_fingerprint(f) for f in p.identities.gpg_keys}
    if not wanted:
        raise AccessDenied(
            f"commit {commit.sha[:12]} is GPG-signed but {principal} declares no GPG key",
            hint=f"add the key fingerprint to principals.{principal}.identities.gpg_keys",
        )
    fprs = _gpg_signers(commit, tool)
    if not fprs:
        raise AccessDenied(
            f"commit {commit.sha[:12]}: the GPG signature does not verify",
            hint="the signer's public key must be in the GNUPGHOME keyring, and the commit "
            "unchanged since signing",
        )
    if not fprs & wanted:
        raise AccessDenied(
            f"commit {commit.sha[:12]} is GPG-signed by a key that is not declared for its "
            f"committer {principal}",
            hint=f"if the key is theirs, add it to principals.{principal}.identities.gpg_keys",
        )


def identify_signer(commit: Commit, estate: Estate) -> str | None:
    """The principal whose declared key made ``commit``'s signature, if one verifiably did.

    Used on stages that do not require signed commits, to catch a principal committing
    under a second, undeclared e-mail but signing with their declared key. Never
    raises: an unverifiable signature simply identifies no one.
    """
    kind = commit.signature_kind
    try:
        if kind == SigKind.SSH and shutil.which("ssh-keygen"):
            return _find_ssh_signer(commit, estate)
        gpg = shutil.which("gpg")
        if kind == SigKind.GPG and gpg:
            fprs = _gpg_signers(commit, gpg)
            for pid, p in sorted(estate.principals.items()):
                if fprs & {normalise_fingerprint(f) for f in p.identities.gpg_keys}:
                    return pid
    except (ConfigError, OSError, subprocess.SubprocessError):
        return None
    return None


def _find_ssh_signer(commit: Commit, estate: Estate) -> str | None:
    lines = [
        f'{pid} namespaces="git" {b}\n'
        for pid, p in sorted(estate.principals.items())
        for b in (ssh_key_blob(k) for k in p.identities.ssh_keys)
        if b
    ]
    if not lines:
        return None
    with tempfile.TemporaryDirectory(prefix="sw-ssh-") as tmp:
        allowed = Path(tmp) / "allowed_signers"
        allowed.write_text("".join(lines), encoding="utf-8")
        sig = Path(tmp) / "commit.sig"
        sig.write_bytes(commit.signature or b"")
        found = subprocess.run(
            ["ssh-keygen", "-Y", "find-principals", "-f", str(allowed), "-s", str(sig)],
            capture_output=True,
            timeout=_TIMEOUT,
            check=False,
        )
        if found.returncode != 0:
            return None
        for pid in found.stdout.decode("utf-8", "replace").split():
            ok = subprocess.run(
                [
                    "ssh-keygen",
                    "-Y",
                    "verify",
                    "-f",
                    str(allowed),
                    "-I",
                    pid,
                    "-n",
                    "git",
                    "-s",
                    str(sig),
                ],
                input=commit.payload,
                capture_output=True,
                timeout=_TIMEOUT,
                check=False,
            )
            if ok.returncode == 0:
                return pid
    return None
