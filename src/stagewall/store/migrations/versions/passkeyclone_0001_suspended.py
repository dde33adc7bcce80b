"""passkeyclone: a passkey whose signature counter went backwards is suspended.

``identity_webauthn_credentials`` gains ``suspended_at``: set when an assertion by the
passkey carries a counter that did not increase (a cloned authenticator). A suspended
passkey signs nothing more, whatever counter it presents later, and still counts as
its owner's factor (no first-factor-only enrolment); a factor reset by someone else
removes it.

Revision ID: passkeyclone_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "passkeyclone_0001"
down_revision = None
branch_labels = ("passkeyclone",)
depends_on = ("identity_0002",)


def upgrade() -> None:
    with op.batch_alter_table("identity_webauthn_credentials") as batch:
        batch.add_column(sa.Column("suspended_at", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("identity_webauthn_credentials") as batch:
        batch.drop_column("suspended_at")
