"""identitybind: a principal's sign-in state remembers the declaration it was made for.

``identity_bindings`` holds, per principal, the identity attributes of its declaration
in stagewall.yaml (kind, affiliation, vendor, name, e-mail addresses, OIDC subject)
as they were when its account, first invitation, identity-provider login or pipeline
token was made. At start and on every reload the server retires the sign-in state of a
principal whose declaration no longer has those attributes: the same name declared for
someone else, even between two reloads it never saw. State made before this migration
is bound at the first start after it, to the declaration then in force.

Revision ID: identitybind_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "identitybind_0001"
down_revision = None
branch_labels = ("identitybind",)
depends_on = ("identity_0002",)


def upgrade() -> None:
    op.create_table(
        "identity_bindings",
        sa.Column("principal", sa.String(128), nullable=False),
        sa.Column("declaration", sa.Text(), nullable=False),
        sa.Column("bound_at", sa.String(32), nullable=False),
        sa.Column("how", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("principal", name="pk_identity_bindings"),
    )


def downgrade() -> None:
    op.drop_table("identity_bindings")
