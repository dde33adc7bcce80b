"""Produce checkpoint_vector.json: a fixed Ed25519 seed -> the exact signed checkpoint text.

Written independently of stagewall's code (only hashlib, base64 and cryptography), so
the test checks stagewall's checkpoint signing against a separate computation.
Run: python tests/audit/vectors/make_checkpoint_vector.py > tests/audit/vectors/checkpoint_vector.json
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SEED = bytes(range(32))
NAME = "example.com/stagewall-test"
# RFC 6962 / certificate-transparency reference tree of 8 leaves.
LEAVES = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
]


def mth(items: list[bytes]) -> bytes:
    if len(items) == 1:
        return hashlib.sha256(b"\x00" + items[0]).digest()
    k = 1
    while k * 2 < len(items):
        k *= 2
    return hashlib.sha256(b"\x01" + mth(items[:k]) + mth(items[k:])).digest()


def main() -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    pub = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id = hashlib.sha256(NAME.encode() + b"\n\x01" + pub).digest()[:4]
    root = mth([bytes.fromhex(h) for h in LEAVES])
    body = f"{NAME}\n8\n{base64.b64encode(root).decode()}\n"
    sig = key.sign(body.encode())
    note = body + "\n" + "\u2014 " + NAME + " " + base64.b64encode(key_id + sig).decode() + "\n"
    vkey = NAME + "+" + key_id.hex() + "+" + base64.b64encode(b"\x01" + pub).decode()
    print(
        json.dumps(
            {
                "seed_hex": SEED.hex(),
                "name": NAME,
                "size": 8,
                "root_hex": root.hex(),
                "vkey": vkey,
                "note": note,
            },
            indent=2,
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
