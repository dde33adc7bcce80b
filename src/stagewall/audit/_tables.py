"""The audit tables (declared on the shared store metadata; migrations audit_0001,
auditgates_0001)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, LargeBinary, String, Table, Text

from stagewall.store import metadata

audit_events = Table(
    "audit_events",
    metadata,
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("time", String(32), nullable=False),
    Column("code", String(128), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("actor", String(256), nullable=False),
    Column("resource", String(512), nullable=True, index=True),
    Column("canonical", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Column("chain_hash", LargeBinary(32), nullable=False),
)

audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("frontier", LargeBinary, nullable=False),
    Column("note", Text, nullable=False),
    Column("key_name", String(256), nullable=False),
    Column("created", String(32), nullable=False),
)

audit_cosignatures = Table(
    "audit_cosignatures",
    metadata,
    Column("witness", String(256), primary_key=True),
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("timestamp", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("received", String(32), nullable=False),
)

__all__ = ["audit_checkpoints", "audit_cosignatures", "audit_events"]
