"""reviewscope: an approver may withdraw an approval before it is used or expires.

``access_reviews`` gains ``withdrawn_at`` and ``withdrawn_reason``. The row stays (the
approval happened, and its audit event binds it); a withdrawn approval counts for
nothing at the threshold, at credential issuance and at ``gate check``.

Revision ID: reviewscope_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "reviewscope_0002"
down_revision = "reviewscope_0001"
branch_labels = None
depends_on = ("binding_0001",)


def upgrade() -> None:
    with op.batch_alter_table("access_reviews") as batch:
        batch.add_column(sa.Column("withdrawn_at", sa.String(32), nullable=True))
        batch.add_column(sa.Column("withdrawn_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("access_reviews") as batch:
        batch.drop_column("withdrawn_reason")
        batch.drop_column("withdrawn_at")
