"""The server's token key and what it makes: keyed token digests and row MACs (tokenbind).

``token.key`` (32 random bytes, hex, mode 0600) lives in the state directory beside the
other server keys, never in the store. A bearer token's row is found by
HMAC-SHA256(key, label || token) and carries ``row_mac``, an HMAC over the fields that
never change while the token is live. Someone who can write the store but does not hold
the key can neither make a row that a token of their choosing finds nor edit one
(principal, scope, expiry, revocation) without the MAC failing. Revoking overwrites
``row_mac`` with :data:`REVOKED_MAC`.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from pathlib import Path

from stagewall.store import Store

KEY_FILE = "token.key"
REVOKED_MAC = "revoked"  # row_mac of a revoked token: no key makes a 64-hex-digit MAC of it
LEGACY_MAC = "legacy"  # row_mac of a token issued before tokenbind_0001 (ended by it)


def token_key(store: Store) -> bytes:
    """The server's token key (``token.key`` in the state directory of ``store``), made
    on first use; cached on the store handle."""
    key = store.token_key
    if key is None:
        from stagewall.mfa._crypto import read_or_create_key_file
        from stagewall.paths import ensure_home

        key = read_or_create_key_file(Path(ensure_home(store.key_home)) / KEY_FILE)
        store.token_key = key
    return key


def keyed_digest(key: bytes, label: str, secret: str) -> str:
    """The stored lookup digest of the bearer secret ``secret`` (64 hex digits)."""
    return hmac.digest(key, f"stagewall {label}\0{secret}".encode(), "sha256").hex()


def row_mac(key: bytes, label: str, fields: Iterable[str]) -> str:
    """The MAC of a token row over ``fields`` (its live, immutable values)."""
    text = "\0".join((f"stagewall {label} row", *fields))
    return hmac.digest(key, text.encode(), "sha256").hex()


__all__ = ["KEY_FILE", "LEGACY_MAC", "REVOKED_MAC", "keyed_digest", "row_mac", "token_key"]
