"""Key material kept in STAGEWALL_HOME: the audit signing key and the masking keyring.

This module defines the value types; ``stagewall.keys._files`` reads and writes
them (mode 0600). Secrets never appear in ``repr``, logs, errors or the audit
log: only key ids do.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field


@dataclass(frozen=True)
class MaskingKey:
    """A named secret for deterministic keyed pseudonymisation.

    ``key_id`` is public and recorded with every masking run; ``secret`` never is.
    """

    key_id: str
    secret: bytes = field(repr=False)

    def derive(self, purpose: str) -> bytes:
        """A 32-byte subkey for one purpose (e.g. a transformer name + its params).

        Derived with HMAC-SHA256 so different purposes get independent keys.
        """
        return hmac.new(self.secret, b"stagewall/v1/" + purpose.encode(), hashlib.sha256).digest()


from stagewall.keys._files import (  # noqa: E402  (after MaskingKey, which _files imports)
    InitResult,
    PublicKey,
    SigningKey,
    init_keys,
    load_masking_key,
    load_public_key,
    load_signing_key,
    masking_key_ids,
    parse_public_key,
)

__all__ = [
    "InitResult",
    "MaskingKey",
    "PublicKey",
    "SigningKey",
    "init_keys",
    "load_masking_key",
    "load_public_key",
    "load_signing_key",
    "masking_key_ids",
    "parse_public_key",
]
