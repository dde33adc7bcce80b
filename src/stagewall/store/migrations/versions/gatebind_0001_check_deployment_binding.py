"""gatebind: check reports and deployments carry the index and leaf hash of their event.

``gate_checks`` (a pipeline's ``gate report``) and ``gate_deployments`` (an allowed
``gate check``) gain ``audit_index`` and ``audit_leaf``, as approvals and promotions did
in binding_0001. Both confer something: a passing report lets a change through its
stage's checks, a deployment lets it into the next stage and ends the commit range the
next submission is judged by. Rows written before this migration have no event and
count for nothing: report the check again, and deploy to the previous stage again
before promoting further (fail closed).

Revision ID: gatebind_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gatebind_0001"
down_revision = None
branch_labels = ("gatebind",)
depends_on = ("gates_0001",)


def upgrade() -> None:
    for table in ("gate_checks", "gate_deployments"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("audit_index", sa.BigInteger(), nullable=True))
            batch.add_column(sa.Column("audit_leaf", sa.String(64), nullable=True))


def downgrade() -> None:
    for table in ("gate_deployments", "gate_checks"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("audit_leaf")
            batch.drop_column("audit_index")
