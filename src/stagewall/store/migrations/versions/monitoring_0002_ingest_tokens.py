"""monitoring: per-source tokens of the server's ingest endpoint (hashed).

Revision ID: monitoring_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "monitoring_0002"
down_revision = "monitoring_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_ingest_tokens",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("revoked_at", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_monitoring_ingest_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_monitoring_ingest_tokens_token_hash"),
    )
    op.create_index("ix_monitoring_ingest_tokens_source", "monitoring_ingest_tokens", ["source"])


def downgrade() -> None:
    op.drop_index("ix_monitoring_ingest_tokens_source", "monitoring_ingest_tokens")
    op.drop_table("monitoring_ingest_tokens")
