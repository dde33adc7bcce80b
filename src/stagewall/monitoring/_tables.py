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

__all__ = ["monitoring_events", "monitoring_state"]
