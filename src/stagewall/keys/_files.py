"""Key files in STAGEWALL_HOME: the audit signing key and the masking keyring.

Files (all created with mode 0600, refused when group/other can access them):

* ``audit_signing.key`` -- Ed25519 signing key in the C2SP/Go note private key
  text form ``PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>``;
* ``audit_signing.pub`` -- the verifier key (C2SP vkey)
  ``<name>+<hex key id>+<base64(0x01 || pubkey)>``;
* ``masking_keys.json`` -- ``{"current": key_id,
  "keys": [{"key_id", "secret" (base64), "created"}]}``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import secrets
import stat
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from stagewall.errors import ConfigError, KeyMissing, reason_of
from stagewall.keys import MaskingKey
from stagewall.paths import ensure_home, home

SIGNING_KEY_FILE = "audit_signing.key"
PUBLIC_KEY_FILE = "audit_signing.pub"
MASKING_KEYRING_FILE = "masking_keys.json"
ALG_ED25519 = 0x01
_NAME = re.compile(r"^[^\s+]+$")
_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_key_name(name: str) -> str:
    if not name or not _NAME.match(name):
        raise ConfigError(
            f"key name {name!r} is not valid",
            hint="a key name is non-empty, without spaces or '+', e.g. example.com/audit",
        )
    return name


def key_hash(name: str, public: bytes) -> bytes:
    """C2SP signed-note key id: first 4 bytes of SHA-256(name || 0x0A || 0x01 || pubkey)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_ED25519]) + public).digest()[:4]


@dataclass(frozen=True)
class PublicKey:
    """An Ed25519 verifier key; ``name`` is None when it came from a bare PEM file."""

    name: str | None
    raw: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.raw) != 32:
            raise ConfigError("an Ed25519 public key is 32 bytes")

    def key_hash(self, name: str | None = None) -> bytes:
        use = name if name is not None else self.name
        if use is None:
            raise ConfigError("this public key has no name; a key id needs one")
        return key_hash(use, self.raw)

    def vkey(self) -> str:
        if self.name is None:
            raise ConfigError("this public key has no name, so no vkey text can be written")
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.raw).decode()
        return f"{self.name}+{self.key_hash().hex()}+{encoded}"

    def pem(self) -> str:
        key = Ed25519PublicKey.from_public_bytes(self.raw)
        return key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def verify(self, signature: bytes, message: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, message)
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 signing key with its C2SP key name. The seed never appears in repr."""

    name: str
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.seed) != 32:
            raise ConfigError("an Ed25519 seed is 32 bytes")

    @property
    def public(self) -> PublicKey:
        raw = (
            Ed25519PrivateKey.from_private_bytes(self.seed)
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
        return PublicKey(self.name, raw)

    def sign(self, message: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.seed).sign(message)

    def to_text(self) -> str:
        encoded = base64.b64encode(bytes([ALG_ED25519]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.public.key_hash().hex()}+{encoded}\n"

    @classmethod
    def from_text(cls, text: str, *, source: str = "signing key") -> SigningKey:
        name, hexid, seed = split_private_text(text, ALG_ED25519, source=source)
        key = cls(name, seed)
        if key.public.key_hash().hex() != hexid.lower():
            raise ConfigError(f"{source}: the key id does not match the key")
        return key


def split_private_text(text: str, alg: int, *, source: str) -> tuple[str, str, bytes]:
    """(name, hex key id, seed) of ``PRIVATE+KEY+<name>+<id>+base64(alg || seed)``."""
    parts = text.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise ConfigError(f"{source} is not a signing key (expected PRIVATE+KEY+<name>+<id>+<key>)")
    name, hexid, encoded = parts[2:]
    try:
        blob = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise ConfigError(f"{source}: the key is not valid base64") from exc
    if len(blob) != 33 or blob[0] != alg:
        raise ConfigError(f"{source}: not an Ed25519 key of type 0x{alg:02x}")
    return name, hexid, blob[1:]


def parse_public_key(text: str, *, source: str = "public key") -> PublicKey:
    """A vkey line (``name+hexid+base64``) or a PEM SubjectPublicKeyInfo Ed25519 key."""
    stripped = text.strip()
    if stripped.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(stripped.encode())
        except ValueError as exc:
            raise ConfigError(f"{source} is not a valid PEM public key") from exc
        if not isinstance(key, Ed25519PublicKey):
            raise ConfigError(f"{source} is not an Ed25519 public key")
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return PublicKey(None, raw)
    lines = [ln for ln in stripped.splitlines() if ln.strip()]
    parts = lines[0].split("+", 2) if lines else []
    if len(parts) != 3:
        raise ConfigError(
            f"{source} is neither a vkey (<name>+<hex id>+<base64 key>) nor a PEM public key"
        )
    name, hexid, encoded = parts
    check_key_name(name)
    try:
        blob = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise ConfigError(f"{source}: the key is not valid base64") from exc
    if len(blob) != 33 or blob[0] != ALG_ED25519:
        raise ConfigError(f"{source}: not an Ed25519 vkey")
    pub = PublicKey(name, blob[1:])
    if pub.key_hash().hex() != hexid.lower():
        raise ConfigError(f"{source}: the key id {hexid} does not match the key")
    return pub


def check_private_file(path: Path) -> None:
    """Refuse a key file that group or other users can access."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise ConfigError(
            f"key file {path} has mode {mode:04o}: group or other users can access it",
            hint=f"run `chmod 600 {path}` (and check who may have copied it)",
        )


def _read_private(path: Path, what: str) -> str:
    if not path.exists():
        raise KeyMissing(f"no {what} at {path}")
    check_private_file(path)
    return path.read_text(encoding="utf-8")


def _write_new(path: Path, text: str, mode: int = 0o600) -> None:
    """Create ``path`` exclusively with ``mode`` (never follows or replaces a file)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, mode)


def _create_complete(path: Path, text: str, mode: int = 0o600) -> bool:
    """Atomically create ``path`` with its full content; False if it already exists.

    The content is written to a temporary file first and then hard-linked into
    place, so a concurrent reader never sees a half-written key file and a
    concurrent ``init`` never overwrites one.
    """
    tmp = path.with_name(f".{path.name}.tmp{secrets.token_hex(4)}")
    _write_new(tmp, text, mode)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink()
    return True


def _replace_private(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + f".tmp{secrets.token_hex(4)}")
    _write_new(tmp, text)
    os.replace(tmp, path)


# (path, the file's text) -> the key parsed from it: every AuditLog made for one act (an
# MFA check, a login) looks the key up, and parsing it and deriving its public key for
# the key-id check cost ~50 us each time. The file is still checked and read on every
# call, so a key removed, made readable to others, replaced or rewritten is seen at once.
_signing_keys: dict[tuple[Path, str], SigningKey] = {}


def load_signing_key(home_dir: str | os.PathLike[str] | None = None) -> SigningKey:
    path = home(home_dir) / SIGNING_KEY_FILE
    text = _read_private(path, "audit signing key")
    key = _signing_keys.get((path, text))
    if key is None:
        key = SigningKey.from_text(text, source=str(path))
        if len(_signing_keys) >= 64:  # a process sees very few keys; stay bounded anyway
            _signing_keys.clear()
        _signing_keys[(path, text)] = key
    return key


def load_public_key(
    home_dir: str | os.PathLike[str] | None = None, *, path: str | os.PathLike[str] | None = None
) -> PublicKey:
    """The audit verifier key from ``path`` or from STAGEWALL_HOME."""
    file = Path(path) if path is not None else home(home_dir) / PUBLIC_KEY_FILE
    if not file.exists():
        if path is None and (home(home_dir) / SIGNING_KEY_FILE).exists():
            return load_signing_key(home_dir).public
        raise KeyMissing(f"no public key at {file}")
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"public key {file} is not a readable text file: {reason_of(exc)}",
            hint="pass the file written by `stagewall keys export-public`",
        ) from None
    return parse_public_key(text, source=str(file))


def _read_keyring(path: Path) -> dict[str, Any]:
    text = _read_private(path, "masking keyring")
    try:
        data = json.loads(text)
        keys = data["keys"]
        current = data["current"]
        if not isinstance(keys, list) or not isinstance(current, str):
            raise TypeError
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"masking keyring {path} is not valid") from exc
    return dict(data)


def load_masking_key(
    home_dir: str | os.PathLike[str] | None = None, key_id: str | None = None
) -> MaskingKey:
    """The current masking key (or the one named ``key_id``)."""
    path = home(home_dir) / MASKING_KEYRING_FILE
    data = _read_keyring(path)
    want = key_id if key_id is not None else data["current"]
    for entry in data["keys"]:
        if isinstance(entry, dict) and entry.get("key_id") == want:
            try:
                secret = base64.b64decode(entry["secret"], validate=True)
            except (binascii.Error, KeyError, TypeError) as exc:
                raise ConfigError(f"masking keyring {path}: key {want} is not valid") from exc
            if len(secret) != 32:
                raise ConfigError(f"masking keyring {path}: key {want} is not 32 bytes")
            return MaskingKey(want, secret)
    raise KeyMissing(
        f"masking key {want!r} is not in {path}",
        hint="use a key id listed by `stagewall keys list` or run `stagewall keys init`",
    )


def masking_key_ids(home_dir: str | os.PathLike[str] | None = None) -> tuple[list[str], str]:
    """All masking key ids (oldest first) and the current one."""
    data = _read_keyring(home(home_dir) / MASKING_KEYRING_FILE)
    ids = [str(e.get("key_id")) for e in data["keys"] if isinstance(e, dict)]
    return ids, str(data["current"])


def _new_masking_entry() -> dict[str, str]:
    now = datetime.now(UTC)
    return {
        "key_id": f"mk-{now:%Y%m%d}-{secrets.token_hex(4)}",
        "secret": base64.b64encode(secrets.token_bytes(32)).decode(),
        "created": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


@dataclass(frozen=True)
class InitResult:
    """What ``init_keys`` did."""

    home: Path
    signing_created: bool
    masking_created: bool
    rotated_to: str | None
    key_name: str
    current_masking_key: str


def init_keys(
    home_dir: str | os.PathLike[str] | None = None,
    *,
    name: str | None = None,
    rotate_masking: bool = False,
) -> InitResult:
    """Create missing keys; never overwrite. ``rotate_masking`` adds and selects a new key."""
    base = ensure_home(home_dir)
    sk_path = base / SIGNING_KEY_FILE
    pub_path = base / PUBLIC_KEY_FILE
    ring_path = base / MASKING_KEYRING_FILE

    signing_created = False
    if sk_path.exists():
        signing = load_signing_key(base)
        if name is not None and name != signing.name:
            raise ConfigError(
                f"the signing key in {sk_path} is named {signing.name!r}, not {name!r}",
                hint="the key name is fixed once created; drop --name",
            )
    else:
        key_name = check_key_name(
            name if name is not None else f"stagewall.audit/{secrets.token_hex(6)}"
        )
        signing = SigningKey(key_name, secrets.token_bytes(32))
        signing_created = _create_complete(sk_path, signing.to_text())
        if not signing_created:  # another init won the race; use its key
            signing = load_signing_key(base)
    if not pub_path.exists():
        _create_complete(pub_path, signing.public.vkey() + "\n", mode=0o644)

    masking_created = False
    rotated: str | None = None
    if ring_path.exists():
        data = _read_keyring(ring_path)
        if rotate_masking:
            entry = _new_masking_entry()
            data["keys"].append(entry)
            data["current"] = entry["key_id"]
            _replace_private(ring_path, json.dumps(data, indent=2) + "\n")
            rotated = entry["key_id"]
    else:
        entry = _new_masking_entry()
        data = {"current": entry["key_id"], "keys": [entry]}
        masking_created = _create_complete(ring_path, json.dumps(data, indent=2) + "\n")
        if not masking_created:
            data = _read_keyring(ring_path)
    return InitResult(
        home=base,
        signing_created=signing_created,
        masking_created=masking_created,
        rotated_to=rotated,
        key_name=signing.name,
        current_masking_key=str(data["current"]),
    )


__all__ = [
    "MASKING_KEYRING_FILE",
    "PUBLIC_KEY_FILE",
    "SIGNING_KEY_FILE",
    "InitResult",
    "PublicKey",
    "SigningKey",
    "check_private_file",
    "init_keys",
    "key_hash",
    "load_masking_key",
    "load_public_key",
    "load_signing_key",
    "masking_key_ids",
    "parse_public_key",
    "split_private_text",
]
