"""stepupbind: step-up window and WebAuthn challenge rows are sealed with the token key.

``identity_step_up_windows`` and ``identity_webauthn_challenges`` gain ``row_mac``: an
HMAC-SHA256 under the server's token key (``token.key`` in the state directory, never
in the store). A window's seal covers its session, principal, factor and both times; a
challenge's covers its id, challenge and digest, purpose, principal, session and both
times. A row someone wrote or edited in the store without the key counts as no window
(SW869) or is refused as a challenge (SW871), and is recorded and alerted
(``identity.token.row_refused``), so a store writer cannot skip the second factor of a
privileged act nor plant a challenge to replay a captured passkey assertion.

Existing rows cannot be sealed by a migration (it does not hold the key): every open
step-up window (two minutes at most) and every outstanding challenge (five minutes at
most) ends now, fail closed. People step up again (``POST /api/v1/step-up`` or a factor
with the act); a passkey prompt open during the upgrade fails once and is asked again.
The downgrade drops the columns and the rows made since.

Revision ID: stepupbind_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "stepupbind_0001"
down_revision = None
branch_labels = ("stepupbind",)
depends_on = ("identity_0002",)

_TABLES = ("identity_step_up_windows", "identity_webauthn_challenges")


def upgrade() -> None:
    for name in _TABLES:
        op.execute(sa.delete(sa.table(name)))
        with op.batch_alter_table(name) as batch:
            # "legacy" only for a row an old server writes during the upgrade: refused
            batch.add_column(
                sa.Column("row_mac", sa.String(64), nullable=False, server_default="legacy")
            )
        with op.batch_alter_table(name) as batch:
            batch.alter_column(
                "row_mac", existing_type=sa.String(64), existing_nullable=False, server_default=None
            )


def downgrade() -> None:
    for name in _TABLES:
        op.execute(sa.delete(sa.table(name)))
        with op.batch_alter_table(name) as batch:
            batch.drop_column("row_mac")
