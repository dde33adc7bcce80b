"""oidcseal: the OIDC login's nonce and PKCE verifier are no longer stored.

``identity_oidc_logins`` loses ``nonce`` and ``code_verifier``: both are now derived
from the login's binding secret (a cookie on the browser that started the login; the
row holds only its digest) and its state, so someone who can read the store cannot
finish a login in progress. Logins started before the upgrade (at most 10 minutes
old) are deleted with the columns: their browsers start the login again. The downgrade
adds the columns back, empty (a login started since is refused by the old code).

Revision ID: oidcseal_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "oidcseal_0001"
down_revision = None
branch_labels = ("oidcseal",)
depends_on = ("identity_0002",)

_LOGINS = sa.table("identity_oidc_logins")


def upgrade() -> None:
    op.execute(sa.delete(_LOGINS))
    with op.batch_alter_table("identity_oidc_logins") as batch:
        batch.drop_column("code_verifier")
        batch.drop_column("nonce")


def downgrade() -> None:
    op.execute(sa.delete(_LOGINS))
    with op.batch_alter_table("identity_oidc_logins") as batch:
        batch.add_column(sa.Column("nonce", sa.String(128), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("code_verifier", sa.String(128), nullable=False, server_default="")
        )
