"""Who is acting: OpenID Connect logins, CI workload identity, passkeys (WebAuthn).

The server (``stagewall serve``) calls these; nothing here trusts a name a client
asserts. Submodules: :mod:`~stagewall.identity.oidc`, :mod:`~stagewall.identity.ci_oidc`,
:mod:`~stagewall.identity.webauthn`.
"""

from stagewall.identity.ci_oidc import (
    CiClaims,
    CiIssuer,
    CiTokenVerifier,
    ci_issuers_from_estate,
    service_principal_for,
)
from stagewall.identity.oidc import (
    LoginStart,
    OidcIdentity,
    OidcRelyingParty,
    OidcSettings,
    principal_for,
)
from stagewall.identity.webauthn import WebauthnCredential

__all__ = [
    "CiClaims",
    "CiIssuer",
    "CiTokenVerifier",
    "LoginStart",
    "OidcIdentity",
    "OidcRelyingParty",
    "OidcSettings",
    "WebauthnCredential",
    "ci_issuers_from_estate",
    "principal_for",
    "service_principal_for",
]
