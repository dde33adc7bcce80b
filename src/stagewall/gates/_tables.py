"""Tables of the gates domain (migration gates_0001). Times are UTC ISO 8601 text.

A promotion is a request of kind ``promotion`` in the shared request/review core
(``access_requests``/``access_reviews``/``access_outcomes``); ``gate_promotions``
indexes it by stage, commit and artifact. Nothing here is updated or deleted.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from stagewall.store import metadata

gate_promotions = Table(
    "gate_promotions",
    metadata,
    Column("request_id", String(32), primary_key=True),
    Column("stage", String(128), nullable=False),
    Column("sha", String(64), nullable=False),
    Column("digest", String(71), nullable=False),
    Column("submitter", String(128), nullable=False),
    Column("break_glass", Boolean, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("followup_due", String(32), nullable=True),
    # The submission or break-glass event that created the row (migration binding_0001).
    Column("audit_index", BigInteger, nullable=True),
    Column("audit_leaf", String(64), nullable=True),
    Index("ix_gate_promotions_change", "stage", "sha", "digest"),
)

gate_checks = Table(
    "gate_checks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sha", String(64), nullable=False),
    Column("stage", String(128), nullable=False),
    Column("name", String(128), nullable=False),
    Column("status", String(8), nullable=False),
    Column("reporter", String(128), nullable=False),
    Column("created_at", String(32), nullable=False),
    # The report event that created the row (migration gatebind_0001).
    Column("audit_index", BigInteger, nullable=True),
    Column("audit_leaf", String(64), nullable=True),
    Index("ix_gate_checks_change", "sha", "stage"),
)

gate_deployments = Table(
    "gate_deployments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("stage", String(128), nullable=False),
    Column("sha", String(64), nullable=False),
    Column("digest", String(71), nullable=False),
    Column("request_id", String(32), nullable=False),
    Column("deployer", String(128), nullable=True),
    Column("created_at", String(32), nullable=False),
    # The allowed gate check event that created the row (migration gatebind_0001).
    Column("audit_index", BigInteger, nullable=True),
    Column("audit_leaf", String(64), nullable=True),
    Index("ix_gate_deployments_change", "stage", "sha", "digest"),
)

gate_rules = Table(
    "gate_rules",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("hash", String(80), nullable=False),
    Column("document", Text, nullable=False),
    Column("recorded_at", String(32), nullable=False),
)

__all__ = ["gate_checks", "gate_deployments", "gate_promotions", "gate_rules"]
