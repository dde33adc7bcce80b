"""A software WebAuthn authenticator for tests: P-256 key, "none" attestation.

It builds exactly what a browser hands the server: clientDataJSON, the CBOR
attestation object with authenticator data (flags UP, UV, AT), and ECDSA-signed
assertions.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP = 0x01
UV = 0x04
AT = 0x40
AAGUID = bytes.fromhex("5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class SoftAuthenticator:
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    counter: int = 0
    transports: tuple[str, ...] = ("internal", "hybrid")

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    @staticmethod
    def _client_data(kind: str, challenge: bytes, origin: str) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": b64url(challenge),
                "origin": origin,
                "crossOrigin": False,
            }
        ).encode()

    def register(
        self,
        *,
        challenge: bytes,
        rp_id: str,
        origin: str,
        flags: int = UP | UV | AT,
        kind: str = "webauthn.create",
    ) -> str:
        """The JSON a browser posts after navigator.credentials.create()."""
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([flags])
            + struct.pack(">I", self.counter)
            + AAGUID
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self._cose_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps(
            {
                "id": b64url(self.credential_id),
                "rawId": b64url(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(self._client_data(kind, challenge, origin)),
                    "attestationObject": b64url(attestation),
                    "transports": list(self.transports),
                },
                "clientExtensionResults": {},
                "authenticatorAttachment": "platform",
            }
        )

    def assert_(
        self,
        *,
        challenge: bytes,
        rp_id: str,
        origin: str,
        flags: int = UP | UV,
        bump: int = 1,
        user_handle: bytes = b"user-1",
    ) -> str:
        """The JSON a browser posts after navigator.credentials.get()."""
        self.counter += bump
        auth_data = (
            hashlib.sha256(rp_id.encode()).digest()
            + bytes([flags])
            + struct.pack(">I", self.counter)
        )
        client_data = self._client_data("webauthn.get", challenge, origin)
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return json.dumps(
            {
                "id": b64url(self.credential_id),
                "rawId": b64url(self.credential_id),
                "type": "public-key",
                "response": {
                    "clientDataJSON": b64url(client_data),
                    "authenticatorData": b64url(auth_data),
                    "signature": b64url(signature),
                    "userHandle": b64url(user_handle),
                },
                "clientExtensionResults": {},
                "authenticatorAttachment": "platform",
            }
        )
