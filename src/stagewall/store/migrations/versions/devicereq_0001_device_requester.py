"""devicereq: a device code records the terminal that asked for it, and can be denied.

``identity_device_codes`` gains ``client_address`` (what the server saw),
``client_user_agent``, ``client_hostname`` (what the CLI claims) and ``denied_at``.
The approval page shows the first three so a person sent someone else's code (RFC 8628
§5.4, remote phishing) can see it is not theirs and deny it. Codes made before this
migration have none: the page says the requester is unknown.

Revision ID: devicereq_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "devicereq_0001"
down_revision = None
branch_labels = ("devicereq",)
depends_on = ("identity_0002",)


def upgrade() -> None:
    with op.batch_alter_table("identity_device_codes") as batch:
        batch.add_column(sa.Column("client_address", sa.String(64), nullable=True))
        batch.add_column(sa.Column("client_user_agent", sa.String(256), nullable=True))
        batch.add_column(sa.Column("client_hostname", sa.String(255), nullable=True))
        batch.add_column(sa.Column("denied_at", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("identity_device_codes") as batch:
        batch.drop_column("denied_at")
        batch.drop_column("client_hostname")
        batch.drop_column("client_user_agent")
        batch.drop_column("client_address")
