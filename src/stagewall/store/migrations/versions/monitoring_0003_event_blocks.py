"""monitoring: the companion log stored in blocks (one row per append batch, not per event).

The events, their canonical bytes, leaf hashes and chain are unchanged; only the
storage shape is: one row holds a run of consecutive events (their canonical bytes
joined by newlines, which canonical JSON never contains), their 32-byte leaf hashes
concatenated, and the chain hash after the last one. Existing rows are copied into
blocks of up to 1024 events (the stored leaf hashes and the last chain hash carried
over), then the per-event table is dropped. The downgrade recomputes the per-event
chain hashes from the leaves.

Revision ID: monitoring_0003
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "monitoring_0003"
down_revision = "monitoring_0002"
branch_labels = None
depends_on = None

_COPY_BLOCK = 1024
_GENESIS = hashlib.sha256(b"stagewall audit log v1 genesis").digest()


def _append_only(table: str) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            "CREATE OR REPLACE FUNCTION stagewall_monitoring_append_only() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION "
            "'stagewall monitoring log is append-only (% on %)', TG_OP, TG_TABLE_NAME; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION stagewall_monitoring_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION stagewall_monitoring_append_only()"
        )
    elif dialect == "sqlite":
        for name in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{name.lower()} BEFORE {name} ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'stagewall monitoring log is append-only'); END"
            )


def _drop_triggers(table: str) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table}")
    elif dialect == "sqlite":
        for name in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{name}")


def _bytes(value: object) -> bytes:
    return value if isinstance(value, bytes) else bytes(value)  # type: ignore[call-overload]


def upgrade() -> None:
    blocks = op.create_table(
        "monitoring_blocks",
        sa.Column("first_idx", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("events", sa.LargeBinary(), nullable=False),
        sa.Column("leaves", sa.LargeBinary(), nullable=False),
        sa.Column("head", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("first_idx", name="pk_monitoring_blocks"),
    )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Already compact JSON written once and read rarely: no pglz pass per insert.
        op.execute("ALTER TABLE monitoring_blocks ALTER COLUMN events SET STORAGE EXTERNAL")
    old = sa.table(
        "monitoring_events",
        sa.column("idx", sa.BigInteger()),
        sa.column("canonical", sa.LargeBinary()),
        sa.column("leaf_hash", sa.LargeBinary()),
        sa.column("chain_hash", sa.LargeBinary()),
    )
    start = 0
    while True:
        rows = bind.execute(
            sa.select(old.c.idx, old.c.canonical, old.c.leaf_hash, old.c.chain_hash)
            .where(old.c.idx >= start)
            .order_by(old.c.idx)
            .limit(_COPY_BLOCK)
        ).all()
        if not rows:
            break
        # A gap in the old indexes stays a gap (verification names it); blocks never span one.
        run: list[tuple[int, bytes, bytes, bytes]] = []
        for idx, raw, leaf, chain in rows:
            if run and idx != run[-1][0] + 1:
                _copy(bind, blocks, run)
                run = []
            run.append((int(idx), _bytes(raw), _bytes(leaf), _bytes(chain)))
        _copy(bind, blocks, run)
        start = int(rows[-1][0]) + 1
    _drop_triggers("monitoring_events")
    op.drop_table("monitoring_events")
    _append_only("monitoring_blocks")


def _copy(
    bind: sa.Connection, blocks: sa.Table, run: list[tuple[int, bytes, bytes, bytes]]
) -> None:
    if run:
        bind.execute(
            blocks.insert(),
            {
                "first_idx": run[0][0],
                "count": len(run),
                "events": b"\n".join(r[1] for r in run),
                "leaves": b"".join(r[2] for r in run),
                "head": run[-1][3],
            },
        )


def downgrade() -> None:
    events = op.create_table(
        "monitoring_events",
        sa.Column("idx", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("time", sa.String(32), nullable=False),
        sa.Column("source", sa.String(128), nullable=False),
        sa.Column("code", sa.String(128), nullable=False),
        sa.Column("actor", sa.String(256), nullable=False),
        sa.Column("canonical", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("chain_hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("idx", name="pk_monitoring_events"),
    )
    import json

    bind = op.get_bind()
    blocks = sa.table(
        "monitoring_blocks",
        sa.column("first_idx", sa.BigInteger()),
        sa.column("events", sa.LargeBinary()),
        sa.column("leaves", sa.LargeBinary()),
    )
    prev = _GENESIS
    for first, raw_block, leaf_block in bind.execute(
        sa.select(blocks.c.first_idx, blocks.c.events, blocks.c.leaves).order_by(blocks.c.first_idx)
    ):
        leaves = _bytes(leaf_block)
        rows = []
        for i, raw in enumerate(_bytes(raw_block).split(b"\n")):
            leaf = leaves[32 * i : 32 * i + 32]
            prev = hashlib.sha256(prev + leaf).digest()
            doc = json.loads(raw)
            extra = doc.get("unmapped", {})
            rows.append(
                {
                    "idx": int(first) + i,
                    "time": doc.get("time", ""),
                    "source": str(extra.get("log_name", ""))[:128],
                    "code": doc.get("metadata", {}).get("event_code", ""),
                    "actor": str(extra.get("actor", ""))[:256],
                    "canonical": raw,
                    "leaf_hash": leaf,
                    "chain_hash": prev,
                }
            )
        if rows:
            bind.execute(events.insert(), rows)
    _drop_triggers("monitoring_blocks")
    op.drop_table("monitoring_blocks")
    dialect = bind.dialect.name
    if dialect == "postgresql":
        op.execute(
            "CREATE TRIGGER monitoring_events_append_only BEFORE UPDATE OR DELETE ON "
            "monitoring_events FOR EACH ROW EXECUTE FUNCTION stagewall_monitoring_append_only()"
        )
    elif dialect == "sqlite":
        for name in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER monitoring_events_no_{name.lower()} BEFORE {name} ON "
                "monitoring_events BEGIN SELECT RAISE(ABORT, "
                "'stagewall monitoring_events is append-only'); END"
            )
