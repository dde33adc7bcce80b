"""ingestonce: a log shipper's retried post is answered again, not ingested twice.

Adds ``monitoring_ingest_posts``: per log source, the ``Idempotency-Key`` of each post
taken in the last day, the SHA-256 of its body and the answer it got. A post repeated
with the same key and body gets the stored answer (nothing stored, counted or alerted
again); the same key with another body is refused (SW978). Rows older than a day are
pruned as posts arrive. Posts without the header are taken as before.

Revision ID: ingestonce_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ingestonce_0001"
down_revision = None
branch_labels = ("ingestonce",)
depends_on = ("monitoring_0003",)


def upgrade() -> None:
    op.create_table(
        "monitoring_ingest_posts",
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("post_key", sa.String(128), nullable=False),
        sa.Column("body_digest", sa.String(64), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("taken_at", sa.Float(), nullable=False),
        sa.Column("row_mac", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("source", "post_key", name="pk_monitoring_ingest_posts"),
    )
    op.create_index("ix_monitoring_ingest_posts_taken_at", "monitoring_ingest_posts", ["taken_at"])


def downgrade() -> None:
    op.drop_index("ix_monitoring_ingest_posts_taken_at", table_name="monitoring_ingest_posts")
    op.drop_table("monitoring_ingest_posts")
