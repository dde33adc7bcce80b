"""monitoring: the companion event log (hash-chained like audit_events) and baseline state.

Revision ID: monitoring_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "monitoring_0001"
down_revision = None
branch_labels = ("monitoring",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_events",
        sa.Column("idx", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("time", sa.String(32), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("code", sa.String(128), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("canonical", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("chain_hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("idx", name="pk_monitoring_events"),
    )
    op.create_table(
        "monitoring_state",
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_monitoring_state"),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION stagewall_monitoring_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
            "'stagewall monitoring_events is append-only (% on %)', TG_OP, TG_TABLE_NAME; END $$"
        )
        op.execute(
            "CREATE TRIGGER monitoring_events_append_only BEFORE UPDATE OR DELETE ON "
            "monitoring_events FOR EACH ROW EXECUTE FUNCTION stagewall_monitoring_append_only()"
        )
    elif dialect == "sqlite":
        for name in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER monitoring_events_no_{name.lower()} BEFORE {name} ON "
                "monitoring_events BEGIN SELECT RAISE(ABORT, "
                "'stagewall monitoring_events is append-only'); END"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS monitoring_events_append_only ON monitoring_events")
        op.execute("DROP FUNCTION IF EXISTS stagewall_monitoring_append_only()")
    op.drop_table("monitoring_state")
    op.drop_table("monitoring_events")
