"""identitybind: the identity-provider account that first signed in as a principal.

``identity_bindings`` gains ``oidc_issuer`` and ``oidc_subject``: the (issuer, subject)
of the first login through the identity provider after the binding was made. A later
login with another subject (a re-created IdP account, or someone else's account that
was given the same e-mail address) is refused until an administrator declares the new
``oidc_subject`` in stagewall.yaml, which retires the old state and with it this pin.
Bindings made before this migration have none: the next IdP login pins its subject.

Revision ID: identitybind_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "identitybind_0002"
down_revision = "identitybind_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("identity_bindings") as batch:
        batch.add_column(sa.Column("oidc_issuer", sa.String(512), nullable=True))
        batch.add_column(sa.Column("oidc_subject", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("identity_bindings") as batch:
        batch.drop_column("oidc_subject")
        batch.drop_column("oidc_issuer")
