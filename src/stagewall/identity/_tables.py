"""Tables of the identity domain (identity_0001, identity_0002, cliauth_0001,
devicereq_0001, identitybind_0001/0002, passkeyclone_0001,
tokenbind_0001, codebind_0001); times are UTC ISO 8601 text.

Nothing here holds a usable secret: passwords are argon2 hashes, and login tokens,
invitation links, device and user codes, CLI hand-offs and OIDC login states are stored
as HMAC-SHA256 digests under the server's token key (identity.tokens,
identity._codeseal), each row sealed by ``row_mac``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Integer, LargeBinary, String, Table, Text

from stagewall.store import metadata

identity_accounts = Table(
    "identity_accounts",
    metadata,
    Column("principal", String(128), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("invitation", String(64), nullable=False),
)

identity_tokens = Table(
    "identity_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("principal", String(128), nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("method", String(16), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("revoked_at", String(32), nullable=True),
    Column("source_address", String(64), nullable=True),
    Column("user_agent", String(256), nullable=True),
    # tokenbind_0001: HMAC under the server's token key over the row's live fields
    # (identity.tokens); "revoked" once revoked, "legacy" for rows from before it
    Column("row_mac", String(64), nullable=False),
)

identity_invitations = Table(
    "identity_invitations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("principal", String(128), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("accepted_at", String(32), nullable=True),
    Column("confirmed_at", String(32), nullable=True),
    # codebind_0001: HMAC under the server's token key over the fields that confer a
    # right (identity._codeseal); "legacy" for rows from before it
    Column("row_mac", String(64), nullable=False),
)

identity_device_codes = Table(
    "identity_device_codes",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("device_hash", String(64), nullable=False, unique=True),
    # codebind_0001: the HMAC of the normalised user code, not the code
    Column("user_code", String(64), nullable=False, unique=True),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("principal", String(128), nullable=True),
    Column("method", String(16), nullable=True),
    Column("approved_at", String(32), nullable=True),
    Column("redeemed", Boolean, nullable=False, default=False),
    Column("last_poll", String(32), nullable=True),
    # Who asked (migration devicereq_0001): shown on the approval page, in its events.
    Column("client_address", String(64), nullable=True),
    Column("client_user_agent", String(256), nullable=True),
    Column("client_hostname", String(255), nullable=True),
    Column("denied_at", String(32), nullable=True),
    # codebind_0001: HMAC under the server's token key over the fields that confer a
    # right (identity._codeseal), sealed again on approval; "denied" once denied,
    # "legacy" for rows from before it
    Column("row_mac", String(64), nullable=False),
)

identity_factor_resets = Table(
    "identity_factor_resets",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("principal", String(128), nullable=False, index=True),
    Column("reset_by", String(128), nullable=False),
    Column("reset_at", String(32), nullable=False),
)

# instances_0001: failed-attempt slots per key, shared by every server on the store
# (see stagewall.identity.attempts; replaces identity_attempts).
identity_rate_limits = Table(
    "identity_rate_limits",
    metadata,
    Column("key", String(256), primary_key=True),
    Column("slots", String(256), nullable=False),
    Column("last_at", String(32), nullable=False, index=True),
)

# identity_0002: passkeys (public data only), their challenges, step-up windows, OIDC logins.
identity_webauthn_credentials = Table(
    "identity_webauthn_credentials",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("credential_id", LargeBinary(1023), nullable=False, unique=True),
    Column("principal", String(128), nullable=False, index=True),
    Column("name", String(64), nullable=False),
    Column("user_handle", LargeBinary(64), nullable=False),
    Column("public_key", LargeBinary, nullable=False),
    Column("sign_count", BigInteger, nullable=False),
    Column("aaguid", String(64), nullable=False),
    Column("transports", String(256), nullable=False),
    Column("backed_up", Boolean, nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("last_used_at", String(32), nullable=True),
    # set when its signature counter went backwards (passkeyclone_0001): signs nothing more
    Column("suspended_at", String(32), nullable=True),
)

identity_webauthn_challenges = Table(
    "identity_webauthn_challenges",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("challenge_hash", String(64), nullable=False, unique=True),
    Column("challenge", LargeBinary(64), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("principal", String(128), nullable=False),
    Column("session_id", String(32), nullable=False, index=True),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("used_at", String(32), nullable=True),
    # stepupbind_0001: HMAC under the token key over all but used_at (identity.passkeys)
    Column("row_mac", String(64), nullable=False),
)

identity_step_up_windows = Table(
    "identity_step_up_windows",
    metadata,
    Column("session_id", String(32), primary_key=True),
    Column("principal", String(128), nullable=False),
    Column("factor", String(16), nullable=False),
    Column("verified_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    # stepupbind_0001: HMAC under the token key over the five fields (identity.stepup)
    Column("row_mac", String(64), nullable=False),
)

identity_oidc_logins = Table(
    "identity_oidc_logins",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("state_hash", String(64), nullable=False, unique=True),
    # oidcseal_0001 dropped nonce and code_verifier: both are derived from the binding
    # secret (only its digest is here) and the state, never stored.
    Column("binding_hash", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("used_at", String(32), nullable=True),
    # codebind_0001: HMAC under the server's token key over the fields that confer a
    # right (identity._codeseal); "legacy" for rows from before it
    Column("row_mac", String(64), nullable=False),
)

# cliauth_0001: CI OIDC tokens already accepted (single use), and the hand-offs between
# the CLI and a browser (``login --browser`` codes, ``mfa step-up --browser`` requests).
identity_ci_token_uses = Table(
    "identity_ci_token_uses",
    metadata,
    # SHA-256 of issuer + jti (or of the whole token when it has no jti): the primary
    # key is the unique constraint that lets exactly one server instance accept it.
    Column("token_key", String(64), primary_key=True),
    Column("issuer", String(512), nullable=False),
    Column("principal", String(128), nullable=False),
    Column("used_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False, index=True),
    Column("session_id", String(32), nullable=True),
    Column("workload", Text, nullable=False),
)

identity_cli_handoffs = Table(
    "identity_cli_handoffs",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("kind", String(16), nullable=False),  # "login" | "step-up"
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("principal", String(128), nullable=True),
    Column("method", String(16), nullable=True),
    Column("session_id", String(32), nullable=True),
    Column("code_challenge", String(128), nullable=True),
    Column("redirect_uri", String(256), nullable=True),
    Column("created_at", String(32), nullable=False),
    Column("expires_at", String(32), nullable=False),
    Column("approved_at", String(32), nullable=True),
    Column("used_at", String(32), nullable=True),
    # codebind_0001: HMAC under the server's token key over the fields that confer a
    # right (identity._codeseal); "legacy" for rows from before it
    Column("row_mac", String(64), nullable=False),
)

identity_bindings = Table(
    "identity_bindings",
    metadata,
    # Which declaration in stagewall.yaml a principal's sign-in state was made for
    # (identitybind_0001): its identity attributes as canonical JSON.
    Column("principal", String(128), primary_key=True),
    Column("declaration", Text, nullable=False),
    Column("bound_at", String(32), nullable=False),
    Column("how", String(32), nullable=False),
    # The identity-provider account that first signed in as the principal
    # (identitybind_0002); another subject is refused until the estate declares it.
    Column("oidc_issuer", String(512), nullable=True),
    Column("oidc_subject", String(255), nullable=True),
)

__all__ = [
    "identity_accounts",
    "identity_bindings",
    "identity_ci_token_uses",
    "identity_cli_handoffs",
    "identity_device_codes",
    "identity_factor_resets",
    "identity_invitations",
    "identity_oidc_logins",
    "identity_rate_limits",
    "identity_step_up_windows",
    "identity_tokens",
    "identity_webauthn_challenges",
    "identity_webauthn_credentials",
]
