"""identity: local accounts, API tokens and sessions, invitations, device codes, resets.

Revision ID: identity_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "identity_0001"
down_revision = None
branch_labels = ("identity",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_accounts",
        sa.Column("principal", sa.String(128), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("invitation", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("principal", name="pk_identity_accounts"),
    )
    op.create_table(
        "identity_tokens",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("principal", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("revoked_at", sa.String(32), nullable=True),
        sa.Column("source_address", sa.String(64), nullable=True),
        sa.Column("user_agent", sa.String(256), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_identity_tokens_token_hash"),
    )
    op.create_index("ix_identity_tokens_principal", "identity_tokens", ["principal"])
    op.create_table(
        "identity_invitations",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("principal", sa.String(128), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("accepted_at", sa.String(32), nullable=True),
        sa.Column("confirmed_at", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_invitations"),
        sa.UniqueConstraint("token_hash", name="uq_identity_invitations_token_hash"),
    )
    op.create_table(
        "identity_device_codes",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("device_hash", sa.String(64), nullable=False),
        sa.Column("user_code", sa.String(16), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("principal", sa.String(128), nullable=True),
        sa.Column("method", sa.String(16), nullable=True),
        sa.Column("approved_at", sa.String(32), nullable=True),
        sa.Column("redeemed", sa.Boolean(), nullable=False),
        sa.Column("last_poll", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_device_codes"),
        sa.UniqueConstraint("device_hash", name="uq_identity_device_codes_device_hash"),
        sa.UniqueConstraint("user_code", name="uq_identity_device_codes_user_code"),
    )
    op.create_table(
        "identity_factor_resets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("principal", sa.String(128), nullable=False),
        sa.Column("reset_by", sa.String(128), nullable=False),
        sa.Column("reset_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identity_factor_resets"),
    )
    op.create_index("ix_identity_factor_resets_principal", "identity_factor_resets", ["principal"])
    op.create_table(
        "identity_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(256), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identity_attempts"),
    )
    op.create_index("ix_identity_attempts_key", "identity_attempts", ["key"])


def downgrade() -> None:
    for name in (
        "identity_attempts",
        "identity_factor_resets",
        "identity_device_codes",
        "identity_invitations",
        "identity_tokens",
        "identity_accounts",
    ):
        op.drop_table(name)
