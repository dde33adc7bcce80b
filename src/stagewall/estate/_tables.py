"""Tables of the estate history (migration estate_0001). Append-only; times are UTC text."""

from __future__ import annotations

from sqlalchemy import Column, Integer, String, Table, Text

from stagewall.store import metadata

estate_versions = Table(
    "estate_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("hash", String(80), nullable=False),
    Column("file_sha256", String(80), nullable=False),
    Column("document", Text, nullable=False),
    Column("recorded_at", String(32), nullable=False),
)

__all__ = ["estate_versions"]
