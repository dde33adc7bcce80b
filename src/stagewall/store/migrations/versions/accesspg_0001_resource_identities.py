"""accesspg: the server identity pinned per managed resource on first verified use.

Revision ID: accesspg_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "accesspg_0001"
down_revision = None
branch_labels = ("accesspg",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "accesspg_identities",
        sa.Column("resource", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("server", sa.String(64), nullable=False),
        sa.Column("database_name", sa.String(128), nullable=False),
        sa.Column("database_oid", sa.BigInteger(), nullable=True),
        sa.Column("address", sa.String(64), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("pinned_at", sa.String(32), nullable=False),
        sa.Column("pinned_by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("resource", name="pk_accesspg_identities"),
    )


def downgrade() -> None:
    op.drop_table("accesspg_identities")
