"""tokenbind: bearer token rows are keyed and sealed with the server's token key.

``identity_tokens.token_hash`` (sessions, API, enrolment, pipeline and CI job
tokens) and ``monitoring_ingest_tokens.token_hash`` become an HMAC-SHA256 of the token
under the server's token key (``token.key`` in the state directory, never in the store)
instead of a plain SHA-256, and both tables gain ``row_mac``: an HMAC under the same
key over the row's id, digest, principal, kind, method, CSRF secret, creation and
expiry (an ingest token: its id, digest, source, creation and creator), "revoked" once
the token is revoked. A row someone wrote or edited in the store without the key is
refused (SW973, SW974).

Existing rows hold only a plain SHA-256 of their token, which cannot be rekeyed without
the token itself: every one of them is marked ``legacy`` and every live one is revoked
now (fail closed). Presenting such a token says so (SW975): people sign in again,
pipelines get a new token (``stagewall server pipeline-token create``), log shippers
a new ingest token (``stagewall server ingest-token create SOURCE``). The downgrade
drops the column; tokens issued since are then unknown to the old code (their digest
is keyed), so everyone signs in again.

Revision ID: tokenbind_0001
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "tokenbind_0001"
down_revision = None
branch_labels = ("tokenbind",)
depends_on = ("identity_0001", "monitoring_0002")

_TABLES = ("identity_tokens", "monitoring_ingest_tokens")


def upgrade() -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for name in _TABLES:
        with op.batch_alter_table(name) as batch:
            batch.add_column(
                sa.Column("row_mac", sa.String(64), nullable=False, server_default="legacy")
            )
        table = sa.table(name, sa.column("revoked_at", sa.String))
        op.execute(sa.update(table).where(table.c.revoked_at.is_(None)).values(revoked_at=now))
        # only the old rows are "legacy": a row written from now on names its MAC
        with op.batch_alter_table(name) as batch:
            batch.alter_column(
                "row_mac", existing_type=sa.String(64), existing_nullable=False, server_default=None
            )


def downgrade() -> None:
    for name in _TABLES:
        with op.batch_alter_table(name) as batch:
            batch.drop_column("row_mac")
