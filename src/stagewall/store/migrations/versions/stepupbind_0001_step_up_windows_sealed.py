"""stepupbind: step-up window rows are sealed with the server's token key.

``identity_step_up_windows`` gains ``row_mac``: an HMAC-SHA256 under the server's token
key (``token.key`` in the state directory, never in the store) over the session, the
principal, the factor and both times of the window. A window row someone wrote or
edited in the store without the key counts as no window (SW869) and is recorded and
alerted (``identity.token.row_refused``), so a store writer cannot skip the second
factor of a privileged act.

Existing rows cannot be sealed by a migration (it does not hold the key): every open
step-up window ends now (fail closed; each lasts two minutes at most). People step up
again (``POST /api/v1/step-up`` or a factor with the act). The downgrade drops the
column and ends the windows opened since.

Revision ID: stepupbind_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "stepupbind_0001"
down_revision = None
branch_labels = ("stepupbind",)
depends_on = ("identity_0002",)

_TABLE = "identity_step_up_windows"


def upgrade() -> None:
    op.execute(sa.delete(sa.table(_TABLE)))
    with op.batch_alter_table(_TABLE) as batch:
        # "legacy" only for a row an old server writes during the upgrade: no window
        batch.add_column(
            sa.Column("row_mac", sa.String(64), nullable=False, server_default="legacy")
        )
    with op.batch_alter_table(_TABLE) as batch:
        batch.alter_column(
            "row_mac", existing_type=sa.String(64), existing_nullable=False, server_default=None
        )


def downgrade() -> None:
    op.execute(sa.delete(sa.table(_TABLE)))
    with op.batch_alter_table(_TABLE) as batch:
        batch.drop_column("row_mac")
