"""access: requests, reviews, grants, credentials, follow-ups, campaigns; MFA enrolments.

Revision ID: access_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "access_0001"
down_revision = None
branch_labels = ("access",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mfa_enrolments",
        sa.Column("principal", sa.String(128), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("secret_ct", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("last_step", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("principal", name="pk_mfa_enrolments"),
    )
    op.create_table(
        "access_meta",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_access_meta"),
    )
    op.create_table(
        "access_requests",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("requester", sa.String(128), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("ticket", sa.String(256), nullable=True),
        sa.Column("requested_seconds", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_access_requests"),
    )
    op.create_table(
        "access_reviews",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column(
            "request_id",
            sa.String(32),
            sa.ForeignKey("access_requests.id", name="fk_access_reviews_request_id"),
            nullable=False,
        ),
        sa.Column("reviewer", sa.String(128), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("mfa_method", sa.String(16), nullable=False),
        sa.Column("mfa_time", sa.String(32), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_access_reviews"),
        sa.UniqueConstraint("request_id", "reviewer", name="uq_access_reviews_request_reviewer"),
    )
    op.create_table(
        "access_outcomes",
        sa.Column(
            "request_id",
            sa.String(32),
            sa.ForeignKey("access_requests.id", name="fk_access_outcomes_request_id"),
            nullable=False,
        ),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("decided_at", sa.String(32), nullable=False),
        sa.Column("result_ref", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name="pk_access_outcomes"),
    )
    op.create_table(
        "access_grants",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("principal", sa.String(128), nullable=False),
        sa.Column("role", sa.String(128), nullable=False),
        sa.Column("environment", sa.String(128), nullable=False),
        sa.Column("production", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("request_id", sa.String(32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.String(32), nullable=False),
        sa.Column("ends_at", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32), nullable=True),
        sa.Column("revoked_by", sa.String(128), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_access_grants"),
        sa.UniqueConstraint("request_id", name="uq_access_grants_request_id"),
        sa.UniqueConstraint("request_id", name="uq_access_grants_request_id"),
    )
    op.create_index("ix_access_grants_principal", "access_grants", ["principal"])
    op.create_index("ix_access_grants_status", "access_grants", ["status"])
    op.create_table(
        "access_credentials",
        sa.Column(
            "grant_id",
            sa.String(32),
            sa.ForeignKey("access_grants.id", name="fk_access_credentials_grant_id"),
            nullable=False,
        ),
        sa.Column("resource", sa.String(128), nullable=False),
        sa.Column("login", sa.String(63), nullable=False),
        sa.Column("issued_at", sa.String(32), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("verified_at", sa.String(32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("grant_id", "resource", name="pk_access_credentials"),
    )
    op.create_table(
        "access_followups",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column(
            "grant_id",
            sa.String(32),
            sa.ForeignKey("access_grants.id", name="fk_access_followups_grant_id"),
            nullable=False,
        ),
        sa.Column("holder", sa.String(128), nullable=False),
        sa.Column("opened_at", sa.String(32), nullable=False),
        sa.Column("due_at", sa.String(32), nullable=False),
        sa.Column("completed_by", sa.String(128), nullable=True),
        sa.Column("completed_at", sa.String(32), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("mfa_time", sa.String(32), nullable=True),
        sa.Column("overdue_alerted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_access_followups"),
        sa.UniqueConstraint("grant_id", name="uq_access_followups_grant_id"),
        sa.UniqueConstraint("grant_id", name="uq_access_followups_grant_id"),
    )
    op.create_table(
        "access_offboarded",
        sa.Column("vendor", sa.String(128), nullable=False),
        sa.Column("offboarded_at", sa.String(32), nullable=False),
        sa.Column("offboarded_by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("vendor", name="pk_access_offboarded"),
    )
    op.create_table(
        "access_campaigns",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("due", sa.String(32), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("closed_at", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_access_campaigns"),
    )
    op.create_table(
        "access_campaign_items",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column(
            "campaign_id",
            sa.String(32),
            sa.ForeignKey("access_campaigns.id", name="fk_access_campaign_items_campaign_id"),
            nullable=False,
        ),
        sa.Column(
            "grant_id",
            sa.String(32),
            sa.ForeignKey("access_grants.id", name="fk_access_campaign_items_grant_id"),
            nullable=False,
        ),
        sa.Column("principal", sa.String(128), nullable=False),
        sa.Column("role", sa.String(128), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("ends_at", sa.String(32), nullable=False),
        sa.Column("last_activity", sa.String(32), nullable=True),
        sa.Column("outcome", sa.String(16), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_access_campaign_items"),
    )
    op.create_table(
        "access_campaign_decisions",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column(
            "item_id",
            sa.String(32),
            sa.ForeignKey("access_campaign_items.id", name="fk_access_campaign_decisions_item_id"),
            nullable=False,
        ),
        sa.Column("reviewer", sa.String(128), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("mfa_method", sa.String(16), nullable=False),
        sa.Column("mfa_time", sa.String(32), nullable=False),
        sa.Column("decided_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_access_campaign_decisions"),
    )


def downgrade() -> None:
    op.drop_table("access_campaign_decisions")
    op.drop_table("access_campaign_items")
    op.drop_table("access_campaigns")
    op.drop_table("access_offboarded")
    op.drop_table("access_followups")
    op.drop_table("access_credentials")
    op.drop_table("access_grants")
    op.drop_table("access_outcomes")
    op.drop_table("access_reviews")
    op.drop_table("access_requests")
    op.drop_table("access_meta")
    op.drop_table("mfa_enrolments")
