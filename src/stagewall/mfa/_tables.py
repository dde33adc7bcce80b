"""MFA enrolment table (created by migration access_0001)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, LargeBinary, String, Table

from stagewall.store import metadata

mfa_enrolments = Table(
    "mfa_enrolments",
    metadata,
    Column("principal", String(128), primary_key=True),
    Column("method", String(16), nullable=False),
    Column("secret_ct", LargeBinary, nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("last_step", BigInteger, nullable=True),
)

__all__ = ["mfa_enrolments"]
