"""audit: witness cosignatures of checkpoints (C2SP tlog-cosignature), append-only.

Each row is one cosignature: the witness name, the tree size and root it covers,
its timestamp, and the whole cosigned note (checkpoint body, the log's signature
and the witness's line) so it verifies on its own.

Revision ID: auditgates_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "auditgates_0001"
down_revision = "audit_0002"
branch_labels = None
depends_on = None

_TABLE = "audit_cosignatures"


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("witness", sa.String(256), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("received", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("witness", "size", "timestamp", name="pk_audit_cosignatures"),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            f"CREATE TRIGGER {_TABLE}_append_only BEFORE UPDATE OR DELETE ON {_TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION stagewall_audit_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {_TABLE}_no_truncate BEFORE TRUNCATE ON {_TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION stagewall_audit_append_only()"
        )
    elif dialect == "sqlite":
        for op_name in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {_TABLE}_no_{op_name.lower()} BEFORE {op_name} ON {_TABLE} "
                "BEGIN SELECT RAISE(ABORT, 'stagewall audit tables are append-only'); END"
            )


def downgrade() -> None:
    op.drop_table(_TABLE)
