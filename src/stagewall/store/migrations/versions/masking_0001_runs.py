"""masking: one row per masking run (the A.8.11 evidence index; the audit log holds the record).

Revision ID: masking_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "masking_0001"
down_revision = None
branch_labels = ("masking",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "masking_runs",
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("verification", sa.String(16), nullable=False),
        sa.Column("started_at", sa.String(32), nullable=False),
        sa.Column("finished_at", sa.String(32), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("plan_sha256", sa.String(64), nullable=False),
        sa.Column("key_id", sa.String(128), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("target", sa.Text(), nullable=False),
        sa.Column("total_rows", sa.BigInteger(), nullable=False),
        sa.Column("audit_index", sa.BigInteger(), nullable=True),
        sa.Column("record", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_masking_runs"),
    )
    op.create_index("ix_masking_runs_started_at", "masking_runs", ["started_at"])


def downgrade() -> None:
    op.drop_index("ix_masking_runs_started_at", table_name="masking_runs")
    op.drop_table("masking_runs")
