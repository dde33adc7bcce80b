"""cliauth: CI OIDC tokens are single-use; the CLI hands off to a browser to log in or step up.

``identity_ci_token_uses`` records every accepted CI OIDC token (by issuer + ``jti``, or
the whole token's digest) until it expires; its primary key is what makes two server
instances on one store unable to both accept it. ``identity_cli_handoffs`` holds the
one-time codes of ``stagewall login --browser`` (PKCE S256 challenge, loopback redirect)
and the step-up requests of ``stagewall mfa step-up --browser`` (bound to the CLI's
session).

Revision ID: cliauth_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "cliauth_0001"
down_revision = None
branch_labels = ("cliauth",)
depends_on = ("identity_0002",)


def upgrade() -> None:
    op.create_table(
        "identity_ci_token_uses",
        sa.Column("token_key", sa.String(64), nullable=False),
        sa.Column("issuer", sa.String(512), nullable=False),
        sa.Column("principal", sa.String(128), nullable=False),
        sa.Column("used_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("session_id", sa.String(32), nullable=True),
        sa.Column("workload", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("token_key", name="pk_identity_ci_token_uses"),
    )
    op.create_index(
        "ix_identity_ci_token_uses_expires_at", "identity_ci_token_uses", ["expires_at"]
    )
    op.create_table(
        "identity_cli_handoffs",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("principal", sa.String(128), nullable=True),
        sa.Column("method", sa.String(16), nullable=True),
        sa.Column("session_id", sa.String(32), nullable=True),
        sa.Column("code_challenge", sa.String(128), nullable=True),
        sa.Column("redirect_uri", sa.String(256), nullable=True),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("approved_at", sa.String(32), nullable=True),
        sa.Column("used_at", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_cli_handoffs"),
        sa.UniqueConstraint("secret_hash", name="uq_identity_cli_handoffs_secret_hash"),
    )


def downgrade() -> None:
    op.drop_table("identity_cli_handoffs")
    op.drop_index("ix_identity_ci_token_uses_expires_at", table_name="identity_ci_token_uses")
    op.drop_table("identity_ci_token_uses")
