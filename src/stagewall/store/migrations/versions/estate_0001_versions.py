"""estate: every effective content of stagewall.yaml the control plane acted on.

Revision ID: estate_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "estate_0001"
down_revision = None
branch_labels = ("estate",)
depends_on = None

_TABLE = "estate_versions"


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("hash", sa.String(80), nullable=False),
        sa.Column("file_sha256", sa.String(80), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.String(32), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for op_name in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {_TABLE}_no_{op_name.lower()} BEFORE {op_name} ON {_TABLE} "
                "BEGIN SELECT RAISE(ABORT, 'stagewall estate history is append-only'); END"
            )


def downgrade() -> None:
    op.drop_table(_TABLE)
