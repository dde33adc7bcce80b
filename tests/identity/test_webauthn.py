"""Passkeys: a real registration and assertion from a software authenticator,
verified through py_webauthn, and the ways they must fail."""

from __future__ import annotations

import base64
import dataclasses
import json

import pytest

from stagewall.errors import AuthenticationFailed, ConfigError
from stagewall.identity.webauthn import (
    WebauthnCredential,
    authentication_options,
    registration_options,
    verify_authentication,
    verify_registration,
)
from tests.identity.softauthn import AAGUID, AT, UP, SoftAuthenticator, b64url

RP_ID = "stagewall.example.com"
ORIGIN = "https://stagewall.example.com"


def _register(auth: SoftAuthenticator, **kw: object) -> WebauthnCredential:
    _, challenge = registration_options(
        rp_id=RP_ID,
        rp_name="Stagewall",
        user_id=b"user-1",
        user_name="alice",
        exclude_credential_ids=[],
    )
    response = auth.register(challenge=challenge, rp_id=RP_ID, origin=ORIGIN, **kw)  # type: ignore[arg-type]
    return verify_registration(
        response_json=response, challenge=challenge, rp_id=RP_ID, origin=ORIGIN
    )


def _assert(auth: SoftAuthenticator, credential: WebauthnCredential, **kw: object) -> int:
    _, challenge = authentication_options(rp_id=RP_ID, credential_ids=[credential.credential_id])
    response = auth.assert_(challenge=challenge, rp_id=RP_ID, origin=ORIGIN, **kw)  # type: ignore[arg-type]
    return verify_authentication(
        response_json=response,
        challenge=challenge,
        rp_id=RP_ID,
        origin=ORIGIN,
        credential=credential,
    )


def test_options_require_user_verification_and_exclude_known_credentials() -> None:
    options_json, challenge = registration_options(
        rp_id=RP_ID,
        rp_name="Stagewall",
        user_id=b"user-1",
        user_name="alice",
        exclude_credential_ids=[b"\x01" * 16],
    )
    options = json.loads(options_json)
    assert len(challenge) >= 16
    assert options["challenge"] == b64url(challenge)
    assert options["rp"] == {"name": "Stagewall", "id": RP_ID}
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["excludeCredentials"] == [{"id": b64url(b"\x01" * 16), "type": "public-key"}]
    assert options["attestation"] == "none"

    req_json, req_challenge = authentication_options(rp_id=RP_ID, credential_ids=[b"\x02" * 16])
    req = json.loads(req_json)
    assert req["userVerification"] == "required"
    assert req["allowCredentials"][0]["id"] == b64url(b"\x02" * 16)
    assert req_challenge != challenge


def test_registration_and_assertion_round_trip() -> None:
    auth = SoftAuthenticator()
    credential = _register(auth)
    assert credential.credential_id == auth.credential_id
    assert credential.aaguid == str(__import__("uuid").UUID(bytes=AAGUID))
    assert credential.sign_count == 0
    assert credential.transports == ("hybrid", "internal")
    assert _assert(auth, credential) == 1
    stored = dataclasses.replace(credential, sign_count=1)
    assert _assert(auth, stored, bump=5) == 6


def test_registration_without_user_verification_is_refused() -> None:
    with pytest.raises(AuthenticationFailed, match="passkey registration was refused") as err:
        _register(SoftAuthenticator(), flags=UP | AT)
    assert "verify you" in err.value.hint


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("origin", "https://evil.example.com", "origin"),
        ("origin", "http://stagewall.example.com", "origin"),
        ("rp_id", "evil.example.com", "RP ID"),
        ("challenge", b"\x00" * 32, "challenge"),
    ],
)
def test_registration_for_another_origin_rp_or_challenge_is_refused(
    field: str, value: object, message: str
) -> None:
    auth = SoftAuthenticator()
    _, challenge = registration_options(
        rp_id=RP_ID,
        rp_name="Stagewall",
        user_id=b"u",
        user_name="alice",
        exclude_credential_ids=[],
    )
    made = {"challenge": challenge, "rp_id": RP_ID, "origin": ORIGIN, field: value}
    response = auth.register(**made)  # type: ignore[arg-type]
    with pytest.raises(AuthenticationFailed, match=message):
        verify_registration(response_json=response, challenge=challenge, rp_id=RP_ID, origin=ORIGIN)


def test_assertion_response_used_for_registration_is_refused() -> None:
    auth = SoftAuthenticator()
    _, challenge = registration_options(
        rp_id=RP_ID,
        rp_name="Stagewall",
        user_id=b"u",
        user_name="alice",
        exclude_credential_ids=[],
    )
    response = auth.register(challenge=challenge, rp_id=RP_ID, origin=ORIGIN, kind="webauthn.get")
    with pytest.raises(AuthenticationFailed, match="passkey registration was refused"):
        verify_registration(response_json=response, challenge=challenge, rp_id=RP_ID, origin=ORIGIN)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("origin", "https://stagewall.example.com.evil.test", "origin"),
        ("rp_id", "example.com", "RP ID"),
        ("challenge", b"\x07" * 32, "challenge"),
    ],
)
def test_assertion_for_another_origin_rp_or_challenge_is_refused(
    field: str, value: object, message: str
) -> None:
    auth = SoftAuthenticator()
    credential = _register(auth)
    _, challenge = authentication_options(rp_id=RP_ID, credential_ids=[credential.credential_id])
    made = {"challenge": challenge, "rp_id": RP_ID, "origin": ORIGIN, field: value}
    response = auth.assert_(**made)  # type: ignore[arg-type]
    with pytest.raises(AuthenticationFailed, match=message):
        verify_authentication(
            response_json=response,
            challenge=challenge,
            rp_id=RP_ID,
            origin=ORIGIN,
            credential=credential,
        )


def test_sign_count_that_does_not_increase_is_refused_as_a_clone() -> None:
    auth = SoftAuthenticator()
    credential = _register(auth)
    assert _assert(auth, credential) == 1
    stored = dataclasses.replace(credential, sign_count=1)
    # A clone replays the counter it copied: 1 again, then lower.
    for bump in (0, -1):
        with pytest.raises(AuthenticationFailed, match="may have been cloned") as err:
            _assert(auth, stored, bump=bump)
        assert "revoked" in err.value.hint


def test_authenticators_without_a_counter_stay_at_zero() -> None:
    auth = SoftAuthenticator()
    credential = _register(auth)
    assert _assert(auth, credential, bump=0) == 0
    assert _assert(auth, credential, bump=0) == 0


def test_assertion_without_user_verification_is_refused() -> None:
    auth = SoftAuthenticator()
    credential = _register(auth)
    with pytest.raises(AuthenticationFailed, match=r"[Uu]ser verification"):
        _assert(auth, credential, flags=UP)


def test_assertion_by_another_key_or_credential_is_refused() -> None:
    auth = SoftAuthenticator()
    credential = _register(auth)
    impostor = SoftAuthenticator(credential_id=auth.credential_id)  # same id, other key
    with pytest.raises(AuthenticationFailed, match="passkey check failed"):
        _assert(impostor, credential)
    other = SoftAuthenticator()
    with pytest.raises(AuthenticationFailed, match="another credential than the one expected"):
        _assert(other, credential)


def test_tampered_assertion_is_refused() -> None:
    auth = SoftAuthenticator()
    credential = _register(auth)
    _, challenge = authentication_options(rp_id=RP_ID, credential_ids=[credential.credential_id])
    data = json.loads(auth.assert_(challenge=challenge, rp_id=RP_ID, origin=ORIGIN))
    raw = bytearray(base64.urlsafe_b64decode(data["response"]["authenticatorData"] + "=="))
    raw[-1] ^= 0x40  # raise the counter after signing
    data["response"]["authenticatorData"] = b64url(bytes(raw))
    with pytest.raises(AuthenticationFailed, match="passkey check failed"):
        verify_authentication(
            response_json=json.dumps(data),
            challenge=challenge,
            rp_id=RP_ID,
            origin=ORIGIN,
            credential=credential,
        )
    with pytest.raises(AuthenticationFailed, match="malformed"):
        verify_authentication(
            response_json="{not json",
            challenge=challenge,
            rp_id=RP_ID,
            origin=ORIGIN,
            credential=credential,
        )


def test_bad_configuration_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="bare domain name"):
        registration_options(
            rp_id="https://stagewall.example.com",
            rp_name="S",
            user_id=b"u",
            user_name="a",
            exclude_credential_ids=[],
        )
    with pytest.raises(ConfigError, match="1 to 64 bytes"):
        registration_options(
            rp_id=RP_ID, rp_name="S", user_id=b"", user_name="a", exclude_credential_ids=[]
        )
    with pytest.raises(AuthenticationFailed, match="no passkey is registered"):
        authentication_options(rp_id=RP_ID, credential_ids=[])
