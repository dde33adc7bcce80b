"""server: masking job runs started by the server, and claimed slots of scheduled tasks.

Revision ID: server_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "server_0001"
down_revision = None
branch_labels = ("server",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "server_job_runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("job", sa.String(128), nullable=False, index=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("triggered_by", sa.String(128), nullable=False),
        sa.Column("queued_at", sa.String(32), nullable=False),
        sa.Column("started_at", sa.String(32), nullable=True),
        sa.Column("finished_at", sa.String(32), nullable=True),
        sa.Column("masking_run_id", sa.String(64), nullable=True),
        sa.Column("audit_index", sa.BigInteger(), nullable=True),
        sa.Column("verification", sa.String(16), nullable=True),
        sa.Column("total_rows", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
    )
    op.create_table(
        "server_slots",
        sa.Column("task", sa.String(160), primary_key=True),
        sa.Column("slot", sa.String(64), primary_key=True),
        sa.Column("claimed_at", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(256), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("server_slots")
    op.drop_table("server_job_runs")
