"""identity: passkeys (public keys only), single-use challenges, step-up windows, OIDC logins.

Revision ID: identity_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "identity_0002"
down_revision = "identity_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_webauthn_credentials",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("credential_id", sa.LargeBinary(1023), nullable=False),
        sa.Column("principal", sa.String(128), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("user_handle", sa.LargeBinary(64), nullable=False),
        sa.Column("public_key", sa.LargeBinary(), nullable=False),
        sa.Column("sign_count", sa.BigInteger(), nullable=False),
        sa.Column("aaguid", sa.String(64), nullable=False),
        sa.Column("transports", sa.String(256), nullable=False),
        sa.Column("backed_up", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("last_used_at", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_webauthn_credentials"),
        sa.UniqueConstraint("credential_id", name="uq_identity_webauthn_credentials_credential_id"),
    )
    op.create_index(
        "ix_identity_webauthn_credentials_principal",
        "identity_webauthn_credentials",
        ["principal"],
    )
    op.create_table(
        "identity_webauthn_challenges",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("challenge_hash", sa.String(64), nullable=False),
        sa.Column("challenge", sa.LargeBinary(64), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("principal", sa.String(128), nullable=False),
        sa.Column("session_id", sa.String(32), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("used_at", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_webauthn_challenges"),
        sa.UniqueConstraint(
            "challenge_hash", name="uq_identity_webauthn_challenges_challenge_hash"
        ),
    )
    op.create_index(
        "ix_identity_webauthn_challenges_session_id",
        "identity_webauthn_challenges",
        ["session_id"],
    )
    op.create_table(
        "identity_step_up_windows",
        sa.Column("session_id", sa.String(32), nullable=False),
        sa.Column("principal", sa.String(128), nullable=False),
        sa.Column("factor", sa.String(16), nullable=False),
        sa.Column("verified_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name="pk_identity_step_up_windows"),
    )
    op.create_table(
        "identity_oidc_logins",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("state_hash", sa.String(64), nullable=False),
        sa.Column("nonce", sa.String(128), nullable=False),
        sa.Column("code_verifier", sa.String(128), nullable=False),
        sa.Column("binding_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("expires_at", sa.String(32), nullable=False),
        sa.Column("used_at", sa.String(32), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_oidc_logins"),
        sa.UniqueConstraint("state_hash", name="uq_identity_oidc_logins_state_hash"),
    )


def downgrade() -> None:
    for name in (
        "identity_oidc_logins",
        "identity_step_up_windows",
        "identity_webauthn_challenges",
        "identity_webauthn_credentials",
    ):
        op.drop_table(name)
