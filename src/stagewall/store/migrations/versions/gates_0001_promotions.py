"""gates: promotion index, check reports, deployments, gate-rule snapshots.

Revision ID: gates_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gates_0001"
down_revision = None
branch_labels = ("gates",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "gate_promotions",
        sa.Column("request_id", sa.String(32), nullable=False),
        sa.Column("stage", sa.String(128), nullable=False),
        sa.Column("sha", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(71), nullable=False),
        sa.Column("submitter", sa.String(128), nullable=False),
        sa.Column("break_glass", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("followup_due", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("request_id", name="pk_gate_promotions"),
    )
    op.create_index("ix_gate_promotions_change", "gate_promotions", ["stage", "sha", "digest"])
    op.create_table(
        "gate_checks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sha", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(128), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("reporter", sa.String(128), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gate_checks"),
    )
    op.create_index("ix_gate_checks_change", "gate_checks", ["sha", "stage"])
    op.create_table(
        "gate_deployments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("stage", sa.String(128), nullable=False),
        sa.Column("sha", sa.String(64), nullable=False),
        sa.Column("digest", sa.String(71), nullable=False),
        sa.Column("request_id", sa.String(32), nullable=False),
        sa.Column("deployer", sa.String(128), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gate_deployments"),
    )
    op.create_index("ix_gate_deployments_change", "gate_deployments", ["stage", "sha", "digest"])
    op.create_table(
        "gate_rules",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("hash", sa.String(80), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_gate_rules"),
    )


def downgrade() -> None:
    op.drop_table("gate_rules")
    op.drop_index("ix_gate_deployments_change", table_name="gate_deployments")
    op.drop_table("gate_deployments")
    op.drop_index("ix_gate_checks_change", table_name="gate_checks")
    op.drop_table("gate_checks")
    op.drop_index("ix_gate_promotions_change", table_name="gate_promotions")
    op.drop_table("gate_promotions")
