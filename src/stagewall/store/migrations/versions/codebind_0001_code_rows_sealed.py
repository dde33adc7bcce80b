"""codebind: one-time code rows are keyed and sealed with the server's token key.

Invitation links (``identity_invitations.token_hash``), device codes and their user
codes (``identity_device_codes.device_hash``, ``user_code``), CLI hand-offs
(``identity_cli_handoffs.secret_hash``) and started OIDC logins
(``identity_oidc_logins.state_hash``, ``binding_hash``) become HMAC-SHA256 digests under
the server's token key (``token.key`` in the state directory, never in the store), each
kind under its own label, instead of a plain SHA-256 (a user code: instead of the code
itself, so ``user_code`` widens to 64 characters). The four tables gain ``row_mac``: an
HMAC under the same key over the fields that confer a right (who an invitation is for
and who made it, the principal and method a device code or a hand-off was approved for,
the session a step-up is for, the expiry). A row someone wrote or edited in the store
without the key is refused (SW941, SW942).

Existing rows hold plain digests, which cannot be rekeyed without the codes: every one
is marked ``legacy`` and every outstanding one ends now (fail closed). Using such a
code says what to do (SW943): an admin makes a new invitation, people sign in again.
The downgrade drops the column and the device codes (their user codes no longer fit);
invitations and hand-offs made since are unknown to the old code (their digests are
keyed): an admin makes new invitations.

Revision ID: codebind_0001
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "codebind_0001"
down_revision = None
branch_labels = ("codebind",)
depends_on = ("identity_0001", "identity_0002", "cliauth_0001", "devicereq_0001", "oidcseal_0001")

_TABLES = (
    "identity_invitations",
    "identity_device_codes",
    "identity_cli_handoffs",
    "identity_oidc_logins",
)


def upgrade() -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    for name in _TABLES:
        with op.batch_alter_table(name) as batch:
            batch.add_column(
                sa.Column("row_mac", sa.String(64), nullable=False, server_default="legacy")
            )
        table = sa.table(name, sa.column("expires_at", sa.String), sa.column("confirmed_at"))
        live = sa.update(table).where(table.c.expires_at > now)
        if name == "identity_invitations":  # a confirmed one made its account: history
            live = live.where(table.c.confirmed_at.is_(None))
        op.execute(live.values(expires_at=now))
        # only the old rows are "legacy": a row written from now on names its MAC
        with op.batch_alter_table(name) as batch:
            batch.alter_column(
                "row_mac", existing_type=sa.String(64), existing_nullable=False, server_default=None
            )
    with op.batch_alter_table("identity_device_codes") as batch:
        batch.alter_column(
            "user_code", existing_type=sa.String(16), type_=sa.String(64), existing_nullable=False
        )


def downgrade() -> None:
    op.execute(sa.delete(sa.table("identity_device_codes")))
    with op.batch_alter_table("identity_device_codes") as batch:
        batch.alter_column(
            "user_code", existing_type=sa.String(64), type_=sa.String(16), existing_nullable=False
        )
    for name in _TABLES:
        with op.batch_alter_table(name) as batch:
            batch.drop_column("row_mac")
