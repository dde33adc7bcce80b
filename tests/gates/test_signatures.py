"""Signed commits: SSH and GPG signatures verified against keys declared per principal."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from stagewall.estate import load_estate
from stagewall.gates._git import Repo
from stagewall.gates._signatures import identify_signer
from tests.gates.conftest import ESTATE, World, digest, make_world

ART = digest("signed")


def _ssh_key(path: Path) -> str:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", str(path)], check=True
    )
    return path.with_suffix(".pub").read_text().strip()


def _signed_world(tmp_path: Path, dana_key: str = "", bob_gpg: str = "") -> World:
    text = (
        ESTATE.replace(
            "dana: {affiliation: external, vendor: devshop, emails: [dana@devshop.example]}",
            "dana:\n    affiliation: external\n    vendor: devshop\n    emails: [dana@devshop.example]\n"
            f'    identities: {{ssh_keys: ["{dana_key}"]}}',
        )
        .replace(
            "bob: {affiliation: internal, emails: [bob@example.com]}",
            f'bob: {{affiliation: internal, emails: [bob@example.com], identities: {{gpg_keys: ["{bob_gpg}"]}}}}',
        )
        .replace(
            "    checks: [tests]\n  - name: production",
            "    checks: [tests]\n    require_signed_commits: true\n  - name: production",
        )
    )
    return make_world(tmp_path, text)


def _ssh_sign(key: Path) -> list[str]:
    return ["-c", "gpg.format=ssh", "-c", f"user.signingkey={key}", "-c", "commit.gpgsign=true"]


def _submit(w: World, sha: str) -> tuple[int, str]:
    r = w.gate(
        "submit",
        "--repo",
        str(w.repo),
        "--change",
        sha,
        "--artifact",
        ART,
        "--to",
        "staging",
        "--as",
        "dana",
    )
    return r.exit_code, r.stderr + r.stdout


@pytest.fixture
def keys(tmp_path: Path) -> dict[str, Path]:
    d = tmp_path / "keys"
    d.mkdir()
    out = {}
    for who in ("dana", "bob"):
        _ssh_key(d / who)
        out[who] = d / who
    return out


def test_ssh_signed_commit_with_declared_key_passes(tmp_path: Path, keys: dict[str, Path]) -> None:
    w = _signed_world(tmp_path, keys["dana"].with_suffix(".pub").read_text().strip())
    sha = w.commit("dana@devshop.example", sign=_ssh_sign(keys["dana"]))
    code, out = _submit(w, sha)
    assert code == 0, out
    assert "touched by dana [external]" in out


def test_unsigned_commit_is_refused(tmp_path: Path, keys: dict[str, Path]) -> None:
    w = _signed_world(tmp_path, keys["dana"].with_suffix(".pub").read_text().strip())
    w.commit("dana@devshop.example", sign=_ssh_sign(keys["dana"]))
    sha = w.commit("dana@devshop.example")
    code, out = _submit(w, sha)
    assert code == 1
    assert f"commit {sha[:12]} is not signed and stage 'staging' requires signed commits" in out


def test_signature_by_someone_elses_key_is_refused(tmp_path: Path, keys: dict[str, Path]) -> None:
    w = _signed_world(tmp_path, keys["dana"].with_suffix(".pub").read_text().strip())
    sha = w.commit("dana@devshop.example", sign=_ssh_sign(keys["bob"]))
    code, out = _submit(w, sha)
    assert code == 1
    assert "does not verify against any key declared for its committer dana" in out


def test_the_signer_not_the_committer_field_decides_who_wrote_it(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    """Issue 12: a vendor signing as someone else is still the vendor."""
    w = _signed_world(tmp_path, keys["dana"].with_suffix(".pub").read_text().strip())
    sha = w.commit("bob@example.com", sign=_ssh_sign(keys["dana"]))
    code, out = _submit(w, sha)
    assert code == 0, out
    assert "dana [external]" in out


def test_signed_commit_by_an_unknown_key_is_refused(tmp_path: Path, keys: dict[str, Path]) -> None:
    w = _signed_world(tmp_path, keys["dana"].with_suffix(".pub").read_text().strip())
    sha = w.commit("mallory@nowhere.example", sign=_ssh_sign(keys["bob"]))  # bob's key: undeclared
    code, out = _submit(w, sha)
    assert code == 1
    assert "committer mallory@nowhere.example maps to no principal" in out


def test_missing_ssh_keygen_fails_closed(
    tmp_path: Path, keys: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    w = _signed_world(tmp_path, keys["dana"].with_suffix(".pub").read_text().strip())
    sha = w.commit("dana@devshop.example", sign=_ssh_sign(keys["dana"]))
    bindir = tmp_path / "bin"
    bindir.mkdir()
    os.symlink(shutil.which("git") or "/usr/bin/git", bindir / "git")
    monkeypatch.setenv("PATH", str(bindir))
    code, out = _submit(w, sha)
    assert code == 2
    assert "ssh-keygen is not installed" in out


def _gpg_key(email: str) -> str:
    subprocess.run(
        [
            "gpg",
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            f"T <{email}>",
            "ed25519",
            "sign",
            "never",
        ],
        check=True,
        capture_output=True,
    )
    out = subprocess.run(
        ["gpg", "--with-colons", "--list-keys", email], check=True, capture_output=True, text=True
    ).stdout
    return next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))


def test_gpg_signed_commit(tmp_path: Path, gnupghome: Path) -> None:
    fpr = _gpg_key("bob@example.com")
    other = _gpg_key("other@example.com")
    w = _signed_world(tmp_path, "ssh-ed25519 AAAA", fpr)
    sign = ["-c", "gpg.program=gpg", "-c", f"user.signingkey={fpr}", "-c", "commit.gpgsign=true"]
    sha = w.commit("dana@devshop.example", "bob@example.com", sign=sign)
    code, out = _submit(w, sha)
    assert code == 0, out
    assert "touched by bob [internal]" in out
    sign_other = [
        "-c",
        "gpg.program=gpg",
        "-c",
        f"user.signingkey={other}",
        "-c",
        "commit.gpgsign=true",
    ]
    sha2 = w.commit("dana@devshop.example", "bob@example.com", sign=sign_other)
    code, out = _submit(w, sha2)
    assert code == 1
    assert "GPG-signed by a key that is not declared for its committer bob" in out
    estate = load_estate(w.config).estate
    repo = Repo(w.repo)
    assert identify_signer(repo.commit(sha), estate) == "bob"
    assert identify_signer(repo.commit(sha2), estate) is None


def test_declared_key_unmasks_a_second_email_on_unsigned_stages(
    tmp_path: Path, keys: dict[str, Path]
) -> None:
    alice_key = keys["bob"]  # any key; declared for alice below
    text = ESTATE.replace(
        "alice: {affiliation: internal, emails: [alice@example.com, alice@home.example]}",
        "alice:\n    affiliation: internal\n    emails: [alice@example.com]\n"
        f'    identities: {{ssh_keys: ["{alice_key.with_suffix(".pub").read_text().strip()}"]}}',
    )
    w = make_world(tmp_path, text)
    sha = w.commit("ghost@nowhere.example", sign=_ssh_sign(alice_key))
    r = w.gate(
        "submit",
        "--repo",
        str(w.repo),
        "--change",
        sha,
        "--artifact",
        ART,
        "--to",
        "staging",
        "--as",
        "dana",
    )
    assert r.exit_code == 0, r.stderr
    assert "touched by alice [internal]" in r.stdout
    assert "unmapped ghost@nowhere.example" in r.stdout
