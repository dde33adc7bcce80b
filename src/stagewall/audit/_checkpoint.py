"""Checkpoints in the C2SP tlog-checkpoint format, signed as C2SP signed notes.

Body (what is signed, including the final newline)::

    <origin>
    <tree size>
    <base64 root hash>

then a blank line and one signature line per signer::

    — <key name> <base64(4-byte key id || 64-byte Ed25519 signature)>
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from stagewall.errors import SignatureInvalid
from stagewall.keys import PublicKey, SigningKey

_EM_DASH = "\u2014"
_SIG_LINE = re.compile(r"^\u2014 (\S+) ([A-Za-z0-9+/=]+)$")
MAX_NOTE_BYTES = 1 << 20


class CheckpointInvalid(SignatureInvalid):
    """A checkpoint is malformed or its signature does not verify."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes

    def body(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\n"


@dataclass(frozen=True)
class NoteSignature:
    name: str
    key_id: bytes
    signature: bytes


def sign_checkpoint(cp: Checkpoint, key: SigningKey) -> str:
    """The signed note text for ``cp`` (origin must be the key's name)."""
    body = cp.body()
    sig = key.sign(body.encode())
    blob = base64.b64encode(key.public.key_hash() + sig).decode()
    return f"{body}\n{_EM_DASH} {key.name} {blob}\n"


def parse_note(text: str, *, source: str = "checkpoint") -> tuple[Checkpoint, list[NoteSignature]]:
    """Parse (not verify) a signed checkpoint note."""
    if len(text.encode("utf-8", "surrogatepass")) > MAX_NOTE_BYTES:
        raise CheckpointInvalid(f"{source} is larger than {MAX_NOTE_BYTES} bytes")
    split = text.rfind("\n\n")
    if split < 0:
        raise CheckpointInvalid(f"{source} is not a signed note (no blank line before signatures)")
    body, sig_text = text[: split + 1], text[split + 2 :]
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise CheckpointInvalid(f"{source} body needs origin, tree size and root hash lines")
    origin, size_text, root_text = lines[0], lines[1], lines[2]
    if not origin or not re.fullmatch(r"0|[1-9][0-9]{0,19}", size_text):
        raise CheckpointInvalid(f"{source} has an invalid origin or tree size line")
    try:
        root = base64.b64decode(root_text, validate=True)
    except binascii.Error:
        root = b""
    if len(root) != 32:
        raise CheckpointInvalid(f"{source} root hash line is not a base64 SHA-256 hash")
    sigs: list[NoteSignature] = []
    if not sig_text.endswith("\n"):
        raise CheckpointInvalid(f"{source} does not end with a newline")
    for line in sig_text[:-1].split("\n"):
        m = _SIG_LINE.match(line)
        if not m:
            raise CheckpointInvalid(f"{source} has a malformed signature line: {line[:80]!r}")
        try:
            blob = base64.b64decode(m.group(2), validate=True)
        except binascii.Error:
            blob = b""
        if len(blob) < 5:
            raise CheckpointInvalid(f"{source} has a signature line with an invalid signature")
        sigs.append(NoteSignature(m.group(1), blob[:4], blob[4:]))
    cp = Checkpoint(origin, int(size_text), root)
    if not body.startswith(cp.body()):
        raise CheckpointInvalid(f"{source} body is not in canonical form")
    return cp, sigs


def verify_checkpoint(text: str, key: PublicKey, *, source: str = "checkpoint") -> Checkpoint:
    """Parse ``text`` and check it carries a valid signature by ``key``; else raise."""
    cp, sigs = parse_note(text, source=source)
    body = text[: text.rfind("\n\n") + 1].encode()
    for sig in sigs:
        if key.name is not None and sig.name != key.name:
            continue
        if sig.key_id != key.key_hash(sig.name):
            continue
        if key.verify(sig.signature, body):
            return cp
        raise CheckpointInvalid(
            f"{source}: the signature by {sig.name} does not verify (tree size {cp.size})",
            hint="the checkpoint was altered or signed by a different key",
        )
    raise CheckpointInvalid(
        f"{source} is not signed by the expected key"
        + (f" {key.name}" if key.name else "")
        + f" (tree size {cp.size})",
        hint="check that you use the log's public key (`stagewall keys export-public`)",
    )


__all__ = [
    "Checkpoint",
    "CheckpointInvalid",
    "NoteSignature",
    "parse_note",
    "sign_checkpoint",
    "verify_checkpoint",
]
