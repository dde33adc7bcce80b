"""Generate the DSSE/in-toto known-answer vector for promotion attestations.

Independent of stagewall's code: PAE, canonical JSON and Ed25519 signing are done
here with the standard library and ``cryptography`` only. Run it from the repo root:

    .venv/bin/python tests/gates/vectors/make_dsse_vector.py > tests/gates/vectors/dsse_promotion.json
"""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

SEED = bytes(range(32))
PAYLOAD_TYPE = "application/vnd.in-toto+json"

STATEMENT = {
    "_type": "https://in-toto.io/Statement/v1",
    "subject": [{"name": "shop.tar.gz", "digest": {"sha256": "ab" * 32}}],
    "predicateType": "https://stagewall.dev/promotion/v1",
    "predicate": {
        "stage": "production",
        "environment": "production",
        "sha": "0123456789abcdef0123456789abcdef01234567",
        "digest": "sha256:" + "ab" * 32,
        "promotion": "r000000000001",
        "submitter": "dana",
        "break_glass": False,
        "authors": [{"principal": "dana", "affiliation": "external"}],
        "commits": 1,
        "base": None,
        "approvals": [
            {
                "approver": "alice",
                "time": "2026-11-21T12:00:00.000000Z",
                "mfa": {"method": "totp", "time": "2026-11-21T12:00:00.000000Z"},
            }
        ],
        "checks": [
            {
                "name": "tests",
                "status": "pass",
                "reporter": "ci-bot",
                "time": "2026-11-21T11:00:00.000000Z",
            }
        ],
        "deployer": "deploy-bot",
        "time": "2026-11-21T12:30:00.000000Z",
        "rules_hash": "sha256:" + "cd" * 32,
    },
}


def canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def main() -> None:
    key = Ed25519PrivateKey.from_private_bytes(SEED)
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    body = canonical(STATEMENT)
    t = PAYLOAD_TYPE.encode()
    pae = (
        b"DSSEv1 " + str(len(t)).encode() + b" " + t + b" " + str(len(body)).encode() + b" " + body
    )
    envelope = {
        "payload": base64.b64encode(body).decode(),
        "payloadType": PAYLOAD_TYPE,
        "signatures": [
            {
                "keyid": hashlib.sha256(public).hexdigest(),
                "sig": base64.b64encode(key.sign(pae)).decode(),
            }
        ],
    }
    out = {
        "seed_hex": SEED.hex(),
        "public_hex": public.hex(),
        "statement": STATEMENT,
        "pae_sha256": hashlib.sha256(pae).hexdigest(),
        "envelope": (canonical(envelope) + b"\n").decode(),
    }
    print(json.dumps(out, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
