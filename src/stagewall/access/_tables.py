"""Tables of the access domain (migration access_0001). Times are UTC ISO 8601 text."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from stagewall.store import metadata

access_meta = Table(
    "access_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", String(256), nullable=False),
)

# Immutable once written: nothing in stagewall updates or deletes these rows.
access_requests = Table(
    "access_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("requester", String(128), nullable=False),
    Column("subject", String(128), nullable=False),
    Column("details", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("ticket", String(256), nullable=True),
    Column("requested_seconds", Integer, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
)

access_reviews = Table(
    "access_reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(32), ForeignKey("access_requests.id"), nullable=False),
    Column("reviewer", String(128), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("mfa_method", String(16), nullable=False),
    Column("mfa_time", String(32), nullable=False),
    Column("created_at", String(32), nullable=False),
    # The audit event that recorded the review (migration binding_0001): an approval
    # without its event counts for nothing (stagewall.access.binding).
    Column("audit_index", BigInteger, nullable=True),
    Column("audit_leaf", String(64), nullable=True),
    # Withdrawal by the approver (migration reviewscope_0002): the row stays, counts for
    # nothing; the withdrawal is its own audit event (access.review.withdrawn or
    # gate.approval.withdrawn). A withdrawal is final: the same person cannot approve again.
    Column("withdrawn_at", String(32), nullable=True),
    Column("withdrawn_reason", Text, nullable=True),
    UniqueConstraint("request_id", "reviewer", name="uq_access_reviews_request_reviewer"),
)

# One row per decided request; the primary key makes "decided once" a database fact.
access_outcomes = Table(
    "access_outcomes",
    metadata,
    Column("request_id", String(32), ForeignKey("access_requests.id"), primary_key=True),
    Column("outcome", String(16), nullable=False),
    Column("decided_at", String(32), nullable=False),
    Column("result_ref", String(64), nullable=True),
)

access_grants = Table(
    "access_grants",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("principal", String(128), nullable=False, index=True),
    Column("role", String(128), nullable=False),
    Column("environment", String(128), nullable=False),
    Column("production", Boolean, nullable=False),
    Column("source", String(16), nullable=False),
    Column("request_id", String(32), nullable=True, unique=True),
    Column("reason", Text, nullable=False),
    Column("starts_at", String(32), nullable=False),
    Column("ends_at", String(32), nullable=False),
    Column("status", String(16), nullable=False, index=True),
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32), nullable=True),
    Column("revoked_by", String(128), nullable=True),
    Column("revoke_reason", Text, nullable=True),
    # The audit event that created the row (migration access_0002): a row without a
    # matching event confers nothing (stagewall.access.binding).
    Column("audit_index", BigInteger, nullable=True),
    Column("audit_leaf", String(64), nullable=True),
)

# One row per (grant, resource): the primary key makes issuance happen at most once.
access_credentials = Table(
    "access_credentials",
    metadata,
    Column("grant_id", String(32), ForeignKey("access_grants.id"), primary_key=True),
    Column("resource", String(128), primary_key=True),
    Column("login", String(63), nullable=False),
    Column("issued_at", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("verified_at", String(32), nullable=True),
    Column("last_error", Text, nullable=True),
)

access_followups = Table(
    "access_followups",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("grant_id", String(32), ForeignKey("access_grants.id"), nullable=False, unique=True),
    Column("holder", String(128), nullable=False),
    Column("opened_at", String(32), nullable=False),
    Column("due_at", String(32), nullable=False),
    Column("completed_by", String(128), nullable=True),
    Column("completed_at", String(32), nullable=True),
    Column("note", Text, nullable=True),
    Column("mfa_time", String(32), nullable=True),
    Column("overdue_alerted", Boolean, nullable=False, default=False),
)

access_offboarded = Table(
    "access_offboarded",
    metadata,
    Column("vendor", String(128), primary_key=True),
    Column("offboarded_at", String(32), nullable=False),
    Column("offboarded_by", String(128), nullable=False),
)

access_campaigns = Table(
    "access_campaigns",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("due", String(32), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("closed_at", String(32), nullable=True),
)

access_campaign_items = Table(
    "access_campaign_items",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("campaign_id", String(32), ForeignKey("access_campaigns.id"), nullable=False),
    # Migration reviewscope_0001: items beyond grants (tokens, server.admins/auditors,
    # logins of ended grants awaiting revocation) have no grant, memberships no end.
    Column("grant_id", String(32), ForeignKey("access_grants.id"), nullable=True),
    Column("principal", String(128), nullable=False),
    Column("role", String(128), nullable=False),
    Column("source", String(16), nullable=False),
    Column("ends_at", String(32), nullable=True),
    Column("last_activity", String(32), nullable=True),
    Column("outcome", String(16), nullable=True),
    Column("kind", String(24), nullable=False, server_default="grant"),
    Column("subject", String(160), nullable=True),
    Column("finding", Text, nullable=True),
)

access_campaign_decisions = Table(
    "access_campaign_decisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", String(32), ForeignKey("access_campaign_items.id"), nullable=False),
    Column("reviewer", String(128), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("note", Text, nullable=False),
    Column("mfa_method", String(16), nullable=False),
    Column("mfa_time", String(32), nullable=False),
    Column("decided_at", String(32), nullable=False),
)

__all__ = [
    "access_campaign_decisions",
    "access_campaign_items",
    "access_campaigns",
    "access_credentials",
    "access_followups",
    "access_grants",
    "access_meta",
    "access_offboarded",
    "access_outcomes",
    "access_requests",
    "access_reviews",
]
