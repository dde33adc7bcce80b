"""The server's own tables: masking job runs and claimed slots of scheduled tasks."""

from __future__ import annotations

import sqlalchemy as sa

from stagewall.store import metadata

job_runs = sa.Table(
    "server_job_runs",
    metadata,
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
    # the last heartbeat of the server process that queued the run (migration server_0002)
    sa.Column("heartbeat_at", sa.String(32), nullable=True),
)

slots = sa.Table(
    "server_slots",
    metadata,
    sa.Column("task", sa.String(160), primary_key=True),
    sa.Column("slot", sa.String(64), primary_key=True),
    sa.Column("claimed_at", sa.String(32), nullable=False),
    sa.Column("outcome", sa.String(256), nullable=True),
)
