"""audit: refuse UPDATE and DELETE on audit_events and audit_checkpoints in the database.

Defense in depth: the hash chain, the Merkle tree and signed checkpoints detect any
change; these triggers stop accidental or casual edits before they happen. Someone
with DDL rights can drop them, which verification still catches.

Revision ID: audit_0002
"""

from __future__ import annotations

from alembic import op

revision = "audit_0002"
down_revision = "audit_0001"
branch_labels = None
depends_on = None

_TABLES = ("audit_events", "audit_checkpoints")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION stagewall_audit_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
            "'stagewall audit tables are append-only (% on %)', TG_OP, TG_TABLE_NAME; END $$"
        )
        for table in _TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION stagewall_audit_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION stagewall_audit_append_only()"
            )
    elif dialect == "sqlite":
        for table in _TABLES:
            for op_name in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{op_name.lower()} BEFORE {op_name} ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'stagewall audit tables are append-only'); END"
                )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table in _TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS stagewall_audit_append_only()")
    elif dialect == "sqlite":
        for table in _TABLES:
            for op_name in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op_name}")
