"""binding: approval rows and promotion rows carry the index and leaf hash of their event.

``access_reviews`` (access approvals and promotion approvals, one shared core) and
``gate_promotions`` (submissions and break-glass promotions) gain ``audit_index`` and
``audit_leaf``. Rows written before this migration have none and count for nothing:
``gate check``, credential issuance and the sweeper refuse them (fail closed).

Revision ID: binding_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "binding_0001"
down_revision = None
branch_labels = ("binding",)
depends_on = ("access_0002", "gates_0001")


def upgrade() -> None:
    for table in ("access_reviews", "gate_promotions"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("audit_index", sa.BigInteger(), nullable=True))
            batch.add_column(sa.Column("audit_leaf", sa.String(64), nullable=True))


def downgrade() -> None:
    for table in ("gate_promotions", "access_reviews"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("audit_leaf")
            batch.drop_column("audit_index")
