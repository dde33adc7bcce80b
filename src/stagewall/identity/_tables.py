"""Tables of the identity domain (migration identity_0001). Times are UTC ISO 8601 text.

Nothing here holds a usable secret: passwords are argon2 hashes, tokens and
invitation/device codes are stored as SHA-256 digests of high-entropy values.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Integer, String, Table, Text

from stagewall.store import metadata

identity_accounts = Table(
    "identity_accounts",
    metadata,
    Column("principal", String(128), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("invitation", String(64), nullable=False),
)

identity_tokens = Table(
    "identity_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("principal", String(128), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("method", String(16), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("revoked_at", String(32), nullable=True),
    Column("source_address", String(64), nullable=True),
    Column("user_agent", String(256), nullable=True),
)

identity_invitations = Table(
    "identity_invitations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("principal", String(128), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("accepted_at", String(32), nullable=True),
    Column("confirmed_at", String(32), nullable=True),
)

identity_device_codes = Table(
    "identity_device_codes",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("device_hash", String(64), nullable=False, unique=True),
    Column("user_code", String(16), nullable=False, unique=True),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("principal", String(128), nullable=True),
    Column("method", String(16), nullable=True),
    Column("approved_at", String(32), nullable=True),
    Column("redeemed", Boolean, nullable=False, default=False),
    Column("last_poll", String(32), nullable=True),
)

identity_factor_resets = Table(
    "identity_factor_resets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("principal", String(128), nullable=False, index=True),
    Column("reset_by", String(128), nullable=False),
    Column("reset_at", String(32), nullable=False),
)

identity_attempts = Table(
    "identity_attempts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", String(256), nullable=False, index=True),
    Column("at", String(32), nullable=False),
)

__all__ = [
    "identity_accounts",
    "identity_attempts",
    "identity_device_codes",
    "identity_factor_resets",
    "identity_invitations",
    "identity_tokens",
]
