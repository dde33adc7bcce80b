"""server: a heartbeat per masking job run.

``server_job_runs`` gains ``heartbeat_at``: the server process that queued a run
refreshes it every few seconds while the run is queued or running. A run whose
heartbeat is older than a minute belongs to a process that stopped; it is marked
failed and no longer blocks its target (before, any run queued less than 12 hours
ago blocked, and one queued longer ago did not, however healthy). Rows written
before this migration have none: their ``queued_at`` stands in for it.

Revision ID: server_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "server_0002"
down_revision = "server_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("server_job_runs") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("server_job_runs") as batch:
        batch.drop_column("heartbeat_at")
