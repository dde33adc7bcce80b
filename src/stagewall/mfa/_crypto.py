"""Encryption at rest for TOTP secrets: AES-256-GCM with a key file in STAGEWALL_HOME.

The key file ``mfa.key`` (32 random bytes, hex) is created with mode 0600 on
first enrolment and refused when group or others can read it. Each secret is
sealed with a fresh 96-bit nonce and the principal id as associated data, so a
ciphertext copied to another principal's row does not decrypt.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from stagewall.errors import ConfigError, IntegrityError, KeyMissing
from stagewall.paths import ensure_home, home

KEY_FILE = "mfa.key"
_NONCE = 12


def _key_path(home_dir: str | os.PathLike[str] | None) -> Path:
    return home(home_dir) / KEY_FILE


def _read_key(path: Path) -> bytes:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{path} is readable by group or others (mode {oct(mode & 0o777)})",
            hint=f"run `chmod 600 {path}`",
        )
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except ValueError:
        raise ConfigError(f"{path} does not hold a hex key") from None
    if len(key) != 32:
        raise ConfigError(f"{path} must hold a 32-byte key (64 hex digits)")
    return key


def load_key(home_dir: str | os.PathLike[str] | None = None, *, create: bool = False) -> bytes:
    """The MFA encryption key; created (0600) only when ``create`` is set."""
    path = _key_path(home_dir)
    if path.exists():
        return _read_key(path)
    if not create:
        raise KeyMissing(
            f"the MFA key {path} does not exist, so no TOTP secret can be read",
            hint="enrol a principal with `stagewall mfa enroll` (creates the key), or restore "
            "the key file from backup",
        )
    ensure_home(home_dir)
    return create_key_file(path)


def read_or_create_key_file(path: Path) -> bytes:
    """The 32-byte hex key in ``path`` (refused when group or others can read it), made
    (0600, exclusively: two processes never hold different keys) when it is missing."""
    if not path.exists():
        try:
            return create_key_file(path)
        except FileExistsError:  # another process made it first: use that one
            pass
    return _read_key(path)


def create_key_file(path: Path) -> bytes:
    """A new random 32-byte key written (hex, 0600) to ``path``, which must not exist."""
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key.hex() + "\n")
    return key


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"stagewall mfa key id\n" + key).hexdigest()[:16]


def seal(key: bytes, principal: str, secret: str) -> bytes:
    nonce = secrets.token_bytes(_NONCE)
    return nonce + AESGCM(key).encrypt(nonce, secret.encode(), principal.encode())


def open_sealed(key: bytes, principal: str, blob: bytes) -> str:
    try:
        plain = AESGCM(key).decrypt(blob[:_NONCE], blob[_NONCE:], principal.encode())
    except InvalidTag:
        raise IntegrityError(
            f"the stored TOTP secret of {principal!r} does not decrypt with this MFA key",
            hint="the key file or the store row was changed; re-enrol after `stagewall mfa reset`",
        ) from None
    return plain.decode()
