"""High-entropy codes and their stored digests (tokens, invitations, device codes)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

_USER_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"  # RFC 8628 §6.1: no vowels, no look-alikes


def new_secret(prefix: str) -> str:
    """``prefix`` + 256 random bits, URL-safe."""
    return prefix + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two digests or codes."""
    return hmac.compare_digest(a.encode(), b.encode())


def new_user_code() -> str:
    """An 8-letter code a person types (``BCDF-GHJK``): 20^8 ≈ 2^34.6 values."""
    raw = "".join(secrets.choice(_USER_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalise_user_code(text: str) -> str:
    raw = "".join(ch for ch in text.upper() if ch.isalpha())
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else ""


def fmt(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(6)
