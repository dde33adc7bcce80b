"""instances: state that several server instances on one store must share.

``identity_rate_limits`` holds the failed-attempt slots of logins and step-ups, one row
per key (principal, source address, ...), updated by one upsert per attempt so the
budget is the store's, not each process's. It replaces ``identity_attempts`` (one row
per failure, counted before and written after each attempt, which let concurrent
attempts through uncounted); its rows are expiring counters, so none are carried over.

``monitoring_source_seen`` holds, per log source, the time of its newest ingested
event (from whichever instance ingested it) and the silence already alerted, so the
silent-source check of the sweeper's leader judges every instance's ingestion and
alerts once per silence. The newest times kept so far in the saved baselines
(``monitoring_state``) are carried over.

Revision ID: instances_0001
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "instances_0001"
down_revision = None
branch_labels = ("instances",)
depends_on = ("identity_0002", "monitoring_0003")


def upgrade() -> None:
    op.create_table(
        "identity_rate_limits",
        sa.Column("key", sa.String(256), nullable=False),
        sa.Column("slots", sa.String(256), nullable=False),
        sa.Column("last_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_identity_rate_limits"),
    )
    op.create_index("ix_identity_rate_limits_last_at", "identity_rate_limits", ["last_at"])
    op.drop_index("ix_identity_attempts_key", table_name="identity_attempts")
    op.drop_table("identity_attempts")
    seen = op.create_table(
        "monitoring_source_seen",
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("last_event", sa.Float(), nullable=True),
        sa.Column("alerted_last", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("source", name="pk_monitoring_source_seen"),
    )
    saved = (
        op.get_bind()
        .execute(sa.text("SELECT value FROM monitoring_state WHERE key = 'baselines'"))
        .scalar()
    )
    try:
        last = json.loads(saved or "{}").get("gaps", {}).get("last", {})
        rows = [{"source": str(k)[:128], "last_event": float(v)} for k, v in last.items()]
    except (ValueError, TypeError, AttributeError):
        rows = []  # unreadable saved state: the sources' next events start afresh
    if rows:
        op.bulk_insert(seen, rows)


def downgrade() -> None:
    op.drop_table("monitoring_source_seen")
    op.drop_index("ix_identity_rate_limits_last_at", table_name="identity_rate_limits")
    op.drop_table("identity_rate_limits")
    op.create_table(
        "identity_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(256), nullable=False),
        sa.Column("at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_identity_attempts"),
    )
    op.create_index("ix_identity_attempts_key", "identity_attempts", ["key"])
