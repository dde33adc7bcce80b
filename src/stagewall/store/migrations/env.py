"""Alembic environment: always run with a connection handed in by Store.migrate."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only Store.migrate drives Alembic
    raise RuntimeError("stagewall migrations run through stagewall.store.Store.migrate()")

context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
