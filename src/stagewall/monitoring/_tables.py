"""Tables of the monitoring domain (migration monitoring_0001)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Integer, LargeBinary, String, Table, Text

from stagewall.store import metadata

# The companion log, one row per block of consecutive events (migration monitoring_0003):
# their canonical bytes joined by newlines, their 32-byte leaf hashes concatenated and
# the chain hash after the last one. Hashed and chained per event like audit_events
# (see log.py); only the primary key is indexed (the log is read by index only).
monitoring_blocks = Table(
    "monitoring_blocks",
    metadata,
    Column("first_idx", BigInteger, primary_key=True, autoincrement=False),
    Column("count", Integer, nullable=False),
    Column("events", LargeBinary, nullable=False),
    Column("leaves", LargeBinary, nullable=False),
    Column("head", LargeBinary(32), nullable=False),
)

# Baseline and follower state (JSON), one row per key.
monitoring_state = Table(
    "monitoring_state",
    metadata,
    Column("key", String(128), primary_key=True),
    Column("value", Text, nullable=False),
)

# Per-source tokens of the server's ingest endpoint (migrations monitoring_0002,
# tokenbind_0001): only an HMAC of the secret under the server's token key is stored.
monitoring_ingest_tokens = Table(
    "monitoring_ingest_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("source", String(128), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", String(32), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("revoked_at", String(32), nullable=True),
    # tokenbind_0001: HMAC under the server's token key over id, digest, source,
    # creation (identity._seal); "revoked" once revoked, "legacy" for older rows
    Column("row_mac", String(64), nullable=False),
)

# instances_0001: per source, the time (epoch seconds) of its newest ingested event,
# from whichever server instance ingested it, and the ``last_event`` of the silence
# already alerted (one alert per silence, whichever instance leads the sweeper).
monitoring_source_seen = Table(
    "monitoring_source_seen",
    metadata,
    Column("source", String(128), primary_key=True),
    Column("last_event", Float, nullable=True),
    Column("alerted_last", Float, nullable=True),
)

# ingestonce_0001: per source, the Idempotency-Key of each post taken in the last day,
# the SHA-256 of its body (and of whether it was JSON) and the answer it got, so that a
# shipper retrying a post whose answer it lost gets that answer again instead of the
# lines being stored, counted and alerted twice (see _once.py).
monitoring_ingest_posts = Table(
    "monitoring_ingest_posts",
    metadata,
    Column("source", String(128), primary_key=True),
    Column("post_key", String(128), primary_key=True),
    Column("body_digest", String(64), nullable=False),
    Column("answer", Text, nullable=True),
    Column("taken_at", Float, nullable=False, index=True),
    # HMAC under the server's token key over source, key, digest and answer
    Column("row_mac", String(64), nullable=True),
)

__all__ = [
    "monitoring_blocks",
    "monitoring_ingest_posts",
    "monitoring_ingest_tokens",
    "monitoring_source_seen",
    "monitoring_state",
]
