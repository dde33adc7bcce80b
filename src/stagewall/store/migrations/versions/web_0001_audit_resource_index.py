"""web: an index on the audit events' resource, so the page listing one grant's, request's
or promotion's events reads only those (100,000 events and more).

Revision ID: web_0001
"""

from __future__ import annotations

from alembic import op

revision = "web_0001"
down_revision = None
branch_labels = ("web",)
depends_on = ("audit_0001",)


def upgrade() -> None:
    op.create_index("ix_audit_events_resource", "audit_events", ["resource"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_resource", table_name="audit_events")
