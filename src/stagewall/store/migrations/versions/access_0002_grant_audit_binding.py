"""access: every grant row carries the index and leaf hash of the audit event that created it.

Revision ID: access_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "access_0002"
down_revision = "access_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("access_grants") as batch:
        batch.add_column(sa.Column("audit_index", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("audit_leaf", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("access_grants") as batch:
        batch.drop_column("audit_leaf")
        batch.drop_column("audit_index")
