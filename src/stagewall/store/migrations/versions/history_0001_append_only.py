"""history: estate_versions and gate_rules are append-only, like the audit tables.

Both tables record history the audit log refers to (``estate.changed`` diffs against
the previous estate_versions row; ``gate.rules.changed`` against gate_rules), so a
changed or deleted row would let someone rewrite what the diffs say. On PostgreSQL
triggers refuse UPDATE, DELETE and TRUNCATE, and ``grant_runtime_role`` gives the
runtime role only SELECT and INSERT on them (it cannot drop the triggers: only the
owner can). SQLite: triggers refuse UPDATE and DELETE (estate_versions had them).

Revision ID: history_0001
"""

from __future__ import annotations

from alembic import op

revision = "history_0001"
down_revision = None
branch_labels = ("history",)
depends_on = ("estate_0001", "gates_0001")

TABLES = ("estate_versions", "gate_rules")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION stagewall_history_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
            "'stagewall history tables are append-only (% on %)', TG_OP, TG_TABLE_NAME; END $$"
        )
        for table in TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION stagewall_history_append_only()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION stagewall_history_append_only()"
            )
    elif dialect == "sqlite":
        for op_name in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER IF NOT EXISTS gate_rules_no_{op_name.lower()} BEFORE {op_name} "
                "ON gate_rules BEGIN SELECT RAISE(ABORT, 'stagewall gate rule history is "
                "append-only'); END"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
        op.execute("DROP FUNCTION IF EXISTS stagewall_history_append_only()")
    elif dialect == "sqlite":
        for op_name in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS gate_rules_no_{op_name}")
