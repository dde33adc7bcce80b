"""C2SP tlog-cosignature v1 (Ed25519): witness keys, cosigning and verification.

A cosignature is a signed-note signature line on a checkpoint::

    — <witness name> base64(key id[4] || timestamp[8, big-endian] || ed25519 sig[64])

The key id is ``SHA-256(name || "\\n" || 0x04 || public key)[:4]``; the signed
message is ``"cosignature/v1\\n" + "time <timestamp>\\n" + <checkpoint body>``.
Semantically a cosignature says: as of ``timestamp``, the largest consistent tree
the witness has seen for this origin has this root.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field

from stagewall.audit._checkpoint import Checkpoint, CheckpointInvalid
from stagewall.errors import ConfigError
from stagewall.keys import PublicKey, SigningKey
from stagewall.keys._files import split_private_text

ALG_COSIGNATURE_V1 = 0x04
_EM_DASH = "\u2014"
_NAME = re.compile(r"^[^\s+]+$")
_SIG_LINE = re.compile(r"^\u2014 (\S+) ([A-Za-z0-9+/=]+)$")
MAX_TIMESTAMP = 2**63 - 1


def _check_name(name: str) -> str:
    if not name or not _NAME.match(name):
        raise ConfigError(
            f"witness name {name!r} is not valid",
            hint="a witness name is non-empty, without spaces or '+', e.g. witness.example.com/w1",
        )
    return name


def cosigner_key_id(name: str, public: bytes) -> bytes:
    """The 4-byte key id of an Ed25519 cosignature/v1 key."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([ALG_COSIGNATURE_V1]) + public).digest()[:4]


def signed_message(body: str, timestamp: int) -> bytes:
    """The bytes a cosignature/v1 signs (``body`` is the checkpoint note body)."""
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


@dataclass(frozen=True)
class WitnessPublicKey:
    """A witness's verifier key (vkey ``<name>+<hex id>+base64(0x04 || key)``)."""

    name: str
    raw: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if len(self.raw) != 32:
            raise ConfigError("an Ed25519 witness public key is 32 bytes")

    @property
    def key_id(self) -> bytes:
        return cosigner_key_id(self.name, self.raw)

    def vkey(self) -> str:
        encoded = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + self.raw).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    def verify(self, signature: bytes, message: bytes) -> bool:
        return PublicKey(None, self.raw).verify(signature, message)


def parse_witness_key(text: str, *, source: str = "witness key") -> WitnessPublicKey:
    """A cosignature/v1 vkey: ``name+hexid+base64(0x04 || 32-byte key)``."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise ConfigError(
            f"{source} is not a witness vkey (expected <name>+<hex id>+<base64 key>)",
            hint="use the key printed by `stagewall witness init` or `stagewall witness key`",
        )
    name, hexid, encoded = parts
    _check_name(name)
    try:
        blob = base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise ConfigError(f"{source}: the key is not valid base64") from exc
    if len(blob) != 33 or blob[0] != ALG_COSIGNATURE_V1:
        raise ConfigError(
            f"{source}: not an Ed25519 cosignature/v1 key (type byte 0x04)",
            hint="a log's checkpoint key (type 0x01) cannot be used as a witness key",
        )
    key = WitnessPublicKey(name, blob[1:])
    if key.key_id.hex() != hexid.lower():
        raise ConfigError(f"{source}: the key id {hexid} does not match the key")
    return key


@dataclass(frozen=True)
class WitnessSigningKey:
    """A witness's Ed25519 signing key. The seed never appears in repr."""

    name: str
    seed: bytes = field(repr=False)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if len(self.seed) != 32:
            raise ConfigError("an Ed25519 seed is 32 bytes")

    @property
    def public(self) -> WitnessPublicKey:
        return WitnessPublicKey(self.name, SigningKey(self.name, self.seed).public.raw)

    def to_text(self) -> str:
        encoded = base64.b64encode(bytes([ALG_COSIGNATURE_V1]) + self.seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.public.key_id.hex()}+{encoded}\n"

    @classmethod
    def from_text(cls, text: str, *, source: str = "witness key") -> WitnessSigningKey:
        name, hexid, seed = split_private_text(text, ALG_COSIGNATURE_V1, source=source)
        key = cls(name, seed)
        if key.public.key_id.hex() != hexid.lower():
            raise ConfigError(f"{source}: the key id does not match the key")
        return key

    def cosign(self, body: str, timestamp: int) -> str:
        """The cosignature line (with its newline) for the checkpoint ``body``."""
        if not 0 <= timestamp <= MAX_TIMESTAMP:
            raise ConfigError("a cosignature timestamp is 0..2^63-1")
        sig = SigningKey(self.name, self.seed).sign(signed_message(body, timestamp))
        blob = self.public.key_id + timestamp.to_bytes(8, "big") + sig
        return f"{_EM_DASH} {self.name} {base64.b64encode(blob).decode()}\n"


@dataclass(frozen=True)
class Cosignature:
    """A verified cosignature of one checkpoint by one witness."""

    witness: str
    checkpoint: Checkpoint
    timestamp: int
    line: str

    @property
    def size(self) -> int:
        return self.checkpoint.size

    @property
    def root(self) -> bytes:
        return self.checkpoint.root


def verify_cosignature_line(
    line: str, body: str, checkpoint: Checkpoint, key: WitnessPublicKey, *, source: str
) -> Cosignature | None:
    """The cosignature if ``line`` is by ``key``; None if it is another signer's line.

    A line that names ``key`` (name and key id) but does not verify raises: it is a
    forged or altered cosignature, never something to skip.
    """
    m = _SIG_LINE.match(line.rstrip("\n"))
    if m is None:
        raise CheckpointInvalid(f"{source}: malformed signature line {line[:80]!r}")
    if m.group(1) != key.name:
        return None
    try:
        blob = base64.b64decode(m.group(2), validate=True)
    except binascii.Error:
        blob = b""
    if len(blob) < 4 or blob[:4] != key.key_id:
        return None
    if len(blob) != 4 + 8 + 64:
        raise CheckpointInvalid(f"{source}: the cosignature by {key.name} has the wrong length")
    timestamp = int.from_bytes(blob[4:12], "big")
    if timestamp > MAX_TIMESTAMP or not key.verify(blob[12:], signed_message(body, timestamp)):
        raise CheckpointInvalid(
            f"{source}: the cosignature by witness {key.name} does not verify "
            f"(tree size {checkpoint.size})",
            hint="the checkpoint or the cosignature was altered",
        )
    return Cosignature(key.name, checkpoint, timestamp, line.rstrip("\n") + "\n")


__all__ = [
    "ALG_COSIGNATURE_V1",
    "Cosignature",
    "WitnessPublicKey",
    "WitnessSigningKey",
    "cosigner_key_id",
    "parse_witness_key",
    "signed_message",
    "verify_cosignature_line",
]
