"""reviewscope: access-review items for every standing access path, not only grants.

``access_campaign_items`` gains ``kind`` (``grant`` for every row written before this
migration; also ``pipeline_token``, ``api_token``, ``admin``, ``auditor`` and
``pending_login``), ``subject`` (the token id or the resource of a login awaiting
revocation) and ``finding`` (why a revoke outcome could not be carried out, e.g. a
``server.admins`` entry that only an edit of stagewall.yaml removes). ``grant_id`` and
``ends_at`` become optional: a token or an estate membership has no grant, and a
membership has no end.

Revision ID: reviewscope_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "reviewscope_0001"
down_revision = None
branch_labels = ("reviewscope",)
depends_on = ("access_0002",)


def upgrade() -> None:
    with op.batch_alter_table("access_campaign_items") as batch:
        batch.add_column(sa.Column("kind", sa.String(24), nullable=False, server_default="grant"))
        batch.add_column(sa.Column("subject", sa.String(160), nullable=True))
        batch.add_column(sa.Column("finding", sa.Text(), nullable=True))
        batch.alter_column("grant_id", existing_type=sa.String(32), nullable=True)
        batch.alter_column("ends_at", existing_type=sa.String(32), nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("access_campaign_items") as batch:
        batch.alter_column("ends_at", existing_type=sa.String(32), nullable=False)
        batch.alter_column("grant_id", existing_type=sa.String(32), nullable=False)
        batch.drop_column("finding")
        batch.drop_column("subject")
        batch.drop_column("kind")
