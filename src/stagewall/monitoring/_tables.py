"""Tables of the monitoring domain (migration monitoring_0001)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, LargeBinary, String, Table, Text

from stagewall.store import metadata

# The companion log: chained and hashed exactly like audit_events (see log.py).
monitoring_events = Table(
    "monitoring_events",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("time", String(32), nullable=False),
    Column("source", String(128), nullable=False),
    Column("code", String(128), nullable=False),
    Column("actor", String(256), nullable=False),
    Column("canonical", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("chain_hash", LargeBinary(32), nullable=False),
)

# Baseline and follower state (JSON), one row per key.
monitoring_state = Table(
    "monitoring_state",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("value", Text, nullable=False),
)

# Per-source tokens of the server's ingest endpoint (migration monitoring_0002):
# only the SHA-256 of the secret is stored.
monitoring_ingest_tokens = Table(
    "monitoring_ingest_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("source", String(128), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("revoked_at", String(32), nullable=True),
)

__all__ = ["monitoring_events", "monitoring_ingest_tokens", "monitoring_state"]
