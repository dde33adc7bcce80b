"""Passkeys and security keys (WebAuthn), over the ``webauthn`` package (py_webauthn).

The server generates options, keeps the returned challenge server-side (single use,
short-lived), sends the options JSON to the browser, and verifies the browser's answer
here. User verification (PIN, biometrics) is always required: a passkey is a step-up
factor, so a mere touch is not enough.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from stagewall.errors import AuthenticationFailed, ConfigError

TIMEOUT_MS = 300_000
_MAX_RESPONSE = 65_536


@dataclass(frozen=True)
class WebauthnCredential:
    """What the server stores per registered authenticator (all public; no secret)."""

    credential_id: bytes
    public_key: bytes
    sign_count: int
    aaguid: str
    transports: tuple[str, ...]
    backed_up: bool = False


def _check_rp(rp_id: str) -> None:
    if not rp_id or "/" in rp_id or ":" in rp_id:
        raise ConfigError(
            f"the WebAuthn relying party id {rp_id!r} must be a bare domain name "
            "(e.g. stagewall.example.com), without scheme or port"
        )


def registration_options(
    *,
    rp_id: str,
    rp_name: str,
    user_id: bytes,
    user_name: str,
    exclude_credential_ids: Sequence[bytes],
) -> tuple[str, bytes]:
    """Options JSON for ``navigator.credentials.create()`` and the challenge to keep."""
    _check_rp(rp_id)
    if not 1 <= len(user_id) <= 64:
        raise ConfigError("the WebAuthn user id must be 1 to 64 bytes")
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=rp_name,
        user_id=user_id,
        user_name=user_name,
        user_display_name=user_name,
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[PublicKeyCredentialDescriptor(id=c) for c in exclude_credential_ids],
    )
    return options_to_json(options), options.challenge


def _transports(response_json: str) -> tuple[str, ...]:
    try:
        data = json.loads(response_json)
        found = data["response"].get("transports") or []
    except (ValueError, KeyError, TypeError, AttributeError):
        return ()
    return tuple(sorted({t for t in found if isinstance(t, str)}))


def _bounded(response_json: str, what: str) -> None:
    if not isinstance(response_json, str) or len(response_json) > _MAX_RESPONSE:
        raise AuthenticationFailed(f"the {what} is missing or too large")


def verify_registration(
    *, response_json: str, challenge: bytes, rp_id: str, origin: str | list[str]
) -> WebauthnCredential:
    """Verify a registration (attestation) response; return the credential to store."""
    _check_rp(rp_id)
    _bounded(response_json, "passkey registration response")
    try:
        credential = parse_registration_credential_json(response_json)
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            require_user_presence=True,
            require_user_verification=True,
        )
    except WebAuthnException as exc:
        raise AuthenticationFailed(
            f"the passkey registration was refused: {exc}",
            hint="register the passkey again from the stagewall page; the authenticator must "
            "verify you (PIN or biometrics)",
        ) from None
    return WebauthnCredential(
        credential_id=verified.credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        transports=_transports(response_json),
        backed_up=bool(verified.credential_backed_up),
    )


def authentication_options(*, rp_id: str, credential_ids: Sequence[bytes]) -> tuple[str, bytes]:
    """Options JSON for ``navigator.credentials.get()`` and the challenge to keep."""
    _check_rp(rp_id)
    if not credential_ids:
        raise AuthenticationFailed(
            "no passkey is registered for this principal",
            hint="register a passkey first (while logged in as yourself)",
        )
    options = generate_authentication_options(
        rp_id=rp_id,
        timeout=TIMEOUT_MS,
        allow_credentials=[PublicKeyCredentialDescriptor(id=c) for c in credential_ids],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json(options), options.challenge


def verify_authentication(
    *,
    response_json: str,
    challenge: bytes,
    rp_id: str,
    origin: str | list[str],
    credential: WebauthnCredential,
) -> int:
    """Verify an assertion made with ``credential``; return the new sign count to store.

    A sign count that does not increase (when either count is non-zero) is refused:
    it is the sign of a cloned authenticator.
    """
    _check_rp(rp_id)
    _bounded(response_json, "passkey response")
    try:
        parsed = parse_authentication_credential_json(response_json)
    except WebAuthnException as exc:
        raise AuthenticationFailed(f"the passkey response is malformed: {exc}") from None
    if parsed.raw_id != credential.credential_id:
        raise AuthenticationFailed(
            "the passkey response was made with another credential than the one expected"
        )
    try:
        verified = verify_authentication_response(
            credential=parsed,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            credential_public_key=credential.public_key,
            credential_current_sign_count=credential.sign_count,
            require_user_verification=True,
        )
    except WebAuthnException as exc:
        message = str(exc)
        if "sign count" in message.lower():
            raise AuthenticationFailed(
                "the passkey's signature counter did not increase: the authenticator may "
                "have been cloned",
                hint="the credential should be revoked and the principal asked to register "
                "a new passkey",
            ) from None
        raise AuthenticationFailed(
            f"the passkey check failed: {message}", hint="try again from the stagewall page"
        ) from None
    return verified.new_sign_count


__all__ = [
    "TIMEOUT_MS",
    "WebauthnCredential",
    "authentication_options",
    "registration_options",
    "verify_authentication",
    "verify_registration",
]
