"""OIDC relying party against a real OpenID provider (oidc-provider on Node)."""

from __future__ import annotations

import base64
import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from stagewall.errors import (
    AuthenticationFailed,
    ConfigError,
    EmailNotVerified,
    IdentityAmbiguous,
    IdentityProviderError,
)
from stagewall.estate import parse_estate
from stagewall.estate.models import Estate
from stagewall.identity.oidc import (
    LoginStart,
    OidcIdentity,
    OidcRelyingParty,
    OidcSettings,
    principal_for,
)
from tests.identity.conftest import REDIRECT_URI, Client, OidcProvider


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def _settings(provider: OidcProvider, client: Client) -> OidcSettings:
    return OidcSettings(
        issuer=provider.issuer,
        client_id=client.client_id,
        client_secret=client.client_secret,
        redirect_uri=REDIRECT_URI,
    )


@pytest.fixture
def rp(oidc_provider: OidcProvider) -> Iterator[OidcRelyingParty]:
    with OidcRelyingParty(_settings(oidc_provider, oidc_provider.main)) as party:
        yield party


def _login(
    provider: OidcProvider, browser: httpx.Client, rp: OidcRelyingParty, account: str
) -> tuple[LoginStart, dict[str, str]]:
    started = rp.start()
    return started, provider.login(browser, started.url, account)


def _identity(
    provider: OidcProvider, browser: httpx.Client, rp: OidcRelyingParty, account: str
) -> OidcIdentity:
    started, callback = _login(provider, browser, rp, account)
    return rp.finish(
        code=callback["code"], state=callback["state"], started=started, iss=callback["iss"]
    )


ESTATE = """
environments:
  production: {tier: production}
principals:
  alice: {affiliation: internal, emails: [alice@example.test]}
  bob: {affiliation: internal, emails: [bob@example.test]}
  deployer: {affiliation: internal, kind: service, emails: [stranger@elsewhere.test]}
"""


def _estate(text: str = ESTATE) -> Estate:
    return parse_estate(text).estate


# ---- the flow against the real provider -------------------------------------------
def test_login_succeeds_and_maps_the_verified_email_case_folded(
    oidc_provider: OidcProvider, browser: httpx.Client, rp: OidcRelyingParty
) -> None:
    started, callback = _login(oidc_provider, browser, rp, "alice")
    assert "code_challenge_method=S256" in started.url
    assert "code_challenge=" in started.url
    assert started.code_verifier not in started.url
    assert started.state not in repr(started) and started.nonce not in repr(started)
    assert callback["iss"] == oidc_provider.issuer  # RFC 9207
    identity = rp.finish(
        code=callback["code"], state=callback["state"], started=started, iss=callback["iss"]
    )
    assert identity.issuer == oidc_provider.issuer
    assert identity.subject == "alice"
    assert identity.email == "Alice@Example.test"
    assert identity.email_verified is True
    assert identity.name == "Alice Example"
    assert principal_for(_estate(), identity) == "alice"


def test_unverified_email_is_reported_and_never_mapped(
    oidc_provider: OidcProvider, browser: httpx.Client, rp: OidcRelyingParty
) -> None:
    # mallory's provider account carries bob's address, unverified.
    identity = _identity(oidc_provider, browser, rp, "mallory")
    assert identity.email == "bob@example.test"
    assert identity.email_verified is False
    with pytest.raises(EmailNotVerified, match="does not mark the e-mail address") as err:
        principal_for(_estate(), identity)
    assert err.value.code == "SW702"
    # The genuine, verified bob (in a browser of his own) maps.
    with httpx.Client(timeout=10) as bobs_browser:
        assert principal_for(_estate(), _identity(oidc_provider, bobs_browser, rp, "bob")) == "bob"


def test_unknown_email_and_subject_map_to_nobody(
    oidc_provider: OidcProvider, browser: httpx.Client, rp: OidcRelyingParty
) -> None:
    identity = _identity(oidc_provider, browser, rp, "stranger")
    assert identity.email_verified is True
    # Nobody declares the address or the subject.
    unknown = ESTATE.replace(", emails: [stranger@elsewhere.test]", "")
    assert principal_for(_estate(unknown), identity) is None
    # The only principal with that address is a service principal: people only.
    assert principal_for(_estate(), identity) is None


def test_wrong_audience_is_refused(
    oidc_provider: OidcProvider, browser: httpx.Client, rp: OidcRelyingParty
) -> None:
    """A genuine ID token issued to another client is refused (token endpoint swapped)."""
    started, callback = _login(oidc_provider, browser, rp, "alice")
    tokens = _exchange(oidc_provider, oidc_provider.main, callback["code"], started)
    other = _settings(oidc_provider, oidc_provider.other)
    with (
        _answering(oidc_provider, tokens) as http,
        OidcRelyingParty(other, http=http) as wrong,
    ):
        other_start = dataclasses.replace(wrong.start(), nonce=started.nonce)
        with pytest.raises(AuthenticationFailed, match="meant for audience") as err:
            wrong.finish(
                code="x", state=other_start.state, started=other_start, iss=wrong.settings.issuer
            )
    assert oidc_provider.main.client_id in err.value.message
    assert err.value.code == "SW700"


def test_expired_id_token_is_refused(oidc_provider: OidcProvider, browser: httpx.Client) -> None:
    """The short-lived client's ID tokens live one second; five minutes later they are dead."""
    clock = FakeClock()
    short = _settings(oidc_provider, oidc_provider.short_lived)
    with OidcRelyingParty(short, clock=clock) as party:
        started, callback = _login(oidc_provider, browser, party, "alice")
        clock.now += timedelta(minutes=5)
        with pytest.raises(AuthenticationFailed, match="expired at"):
            party.finish(
                code=callback["code"], state=callback["state"], started=started, iss=callback["iss"]
            )
    # Same delay, ordinary ID token lifetime (10 min): accepted.
    clock = FakeClock()
    with OidcRelyingParty(_settings(oidc_provider, oidc_provider.main), clock=clock) as party:
        started, callback = _login(oidc_provider, browser, party, "alice")
        clock.now += timedelta(minutes=5)
        assert party.finish(
            code=callback["code"], state=callback["state"], started=started, iss=callback["iss"]
        )


def test_tampered_state_is_refused(
    oidc_provider: OidcProvider, browser: httpx.Client, rp: OidcRelyingParty
) -> None:
    started, callback = _login(oidc_provider, browser, rp, "alice")
    for state in (callback["state"] + "x", "", callback["state"][:-1]):
        with pytest.raises(AuthenticationFailed, match="state returned by the identity provider"):
            rp.finish(code=callback["code"], state=state, started=started, iss=callback["iss"])
    # The state of another login does not fit either.
    other_start = rp.start()
    with pytest.raises(AuthenticationFailed, match="state"):
        rp.finish(
            code=callback["code"], state=other_start.state, started=started, iss=callback["iss"]
        )


def test_authorization_response_from_another_issuer_is_refused(
    oidc_provider: OidcProvider, browser: httpx.Client, rp: OidcRelyingParty
) -> None:
    started, callback = _login(oidc_provider, browser, rp, "alice")
    with pytest.raises(AuthenticationFailed, match=r"comes from issuer 'https://evil\.example'"):
        rp.finish(
            code=callback["code"],
            state=callback["state"],
            started=started,
            iss="https://evil.example",
        )


def test_replayed_code_is_refused(
    oidc_provider: OidcProvider, browser: httpx.Client, rp: OidcRelyingParty
) -> None:
    started, callback = _login(oidc_provider, browser, rp, "alice")
    assert rp.finish(
        code=callback["code"], state=callback["state"], started=started, iss=callback["iss"]
    ).subject
    with pytest.raises(AuthenticationFailed, match="refused the authorization code"):
        rp.finish(
            code=callback["code"], state=callback["state"], started=started, iss=callback["iss"]
        )


def test_code_with_another_logins_verifier_is_refused(
    oidc_provider: OidcProvider, browser: httpx.Client, rp: OidcRelyingParty
) -> None:
    """An injected code (stolen from another login) fails PKCE at the provider."""
    _, callback = _login(oidc_provider, browser, rp, "alice")
    mine = rp.start()
    forged = dataclasses.replace(mine, state=callback["state"])
    with pytest.raises(AuthenticationFailed, match="PKCE verifier"):
        rp.finish(
            code=callback["code"], state=callback["state"], started=forged, iss=callback["iss"]
        )


def test_login_started_more_than_ten_minutes_ago_is_refused(
    oidc_provider: OidcProvider, browser: httpx.Client
) -> None:
    clock = FakeClock()
    with OidcRelyingParty(_settings(oidc_provider, oidc_provider.main), clock=clock) as party:
        started, callback = _login(oidc_provider, browser, party, "alice")
        clock.now += timedelta(minutes=10, seconds=1)
        with pytest.raises(AuthenticationFailed, match="more than 10 minutes ago"):
            party.finish(
                code=callback["code"], state=callback["state"], started=started, iss=callback["iss"]
            )


def test_step_up_max_age_requires_a_fresh_authentication(
    oidc_provider: OidcProvider, browser: httpx.Client
) -> None:
    clock = FakeClock()
    with OidcRelyingParty(_settings(oidc_provider, oidc_provider.main), clock=clock) as party:
        started = party.start(max_age_s=0)
        assert "max_age=0" in started.url
        callback = oidc_provider.login(browser, started.url, "alice")
        identity = party.finish(
            code=callback["code"], state=callback["state"], started=started, iss=callback["iss"]
        )
        assert identity.auth_time is not None
        assert abs((identity.auth_time - datetime.now(UTC)).total_seconds()) < 120

        started = party.start(max_age_s=60)
        callback = oidc_provider.login(browser, started.url, "alice")
        clock.now += timedelta(minutes=5)
        with pytest.raises(AuthenticationFailed, match="older than 60 s"):
            party.finish(
                code=callback["code"], state=callback["state"], started=started, iss=callback["iss"]
            )


# ---- forged ID tokens delivered by a swapped token endpoint ------------------------
def _exchange(
    provider: OidcProvider, client: Client, code: str, started: LoginStart
) -> dict[str, Any]:
    response = httpx.post(
        provider.issuer + "/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": started.code_verifier,
        },
        auth=(client.client_id, client.client_secret),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _answering(provider: OidcProvider, tokens: dict[str, Any]) -> httpx.Client:
    """An HTTP client reaching the real provider, except that the token endpoint answers
    ``tokens``: what a network attacker or a confused provider would deliver."""
    real = httpx.HTTPTransport()

    class Swap(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path == "/token":
                return httpx.Response(200, json=tokens)
            return real.handle_request(request)

        def close(self) -> None:
            real.close()

    return httpx.Client(transport=Swap())


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _forged_finish(
    provider: OidcProvider, browser: httpx.Client, rp: OidcRelyingParty, forge: Any
) -> None:
    started, callback = _login(provider, browser, rp, "alice")
    tokens = _exchange(provider, provider.main, callback["code"], started)
    tokens["id_token"] = forge(tokens["id_token"])
    with (
        _answering(provider, tokens) as http,
        OidcRelyingParty(rp.settings, http=http) as party,
    ):
        party.finish(code="x", state=started.state, started=started, iss=party.settings.issuer)


def _claims_of(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return data


def test_unsigned_and_hmac_id_tokens_are_refused(
    oidc_provider: OidcProvider, browser: httpx.Client, rp: OidcRelyingParty
) -> None:
    def alg_none(token: str) -> str:
        return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{token.split('.')[1]}."

    with pytest.raises(AuthenticationFailed, match="algorithm 'none'"):
        _forged_finish(oidc_provider, browser, rp, alg_none)

    def hmac_with_public_key(token: str) -> str:
        # The classic confusion attack: HMAC keyed with something public.
        key = OctKey.import_key(oidc_provider.issuer.encode() * 4)
        return jwt.encode({"alg": "HS256"}, _claims_of(token), key, algorithms=["HS256"])

    with pytest.raises(AuthenticationFailed, match="algorithm 'HS256'"):
        _forged_finish(oidc_provider, browser, rp, hmac_with_public_key)


def test_altered_id_token_is_refused(
    oidc_provider: OidcProvider, browser: httpx.Client, rp: OidcRelyingParty
) -> None:
    def change_subject(token: str) -> str:
        head, _, sig = token.split(".")
        claims = _claims_of(token)
        claims["sub"] = "bob"
        return f"{head}.{_b64(claims)}.{sig}"

    with pytest.raises(AuthenticationFailed, match="signature of the ID token does not verify"):
        _forged_finish(oidc_provider, browser, rp, change_subject)


def test_nonce_of_another_login_is_refused(
    oidc_provider: OidcProvider, browser: httpx.Client, rp: OidcRelyingParty
) -> None:
    started, callback = _login(oidc_provider, browser, rp, "alice")
    tokens = _exchange(oidc_provider, oidc_provider.main, callback["code"], started)
    other = rp.start()
    with (
        _answering(oidc_provider, tokens) as http,
        OidcRelyingParty(rp.settings, http=http) as party,
        pytest.raises(AuthenticationFailed, match="nonce does not match"),
    ):
        party.finish(code="x", state=other.state, started=other, iss=party.settings.issuer)


# ---- configuration and provider failures ---------------------------------------------
def test_issuer_must_match_the_discovery_document_exactly(oidc_provider: OidcProvider) -> None:
    settings = dataclasses.replace(
        _settings(oidc_provider, oidc_provider.main), issuer=oidc_provider.issuer + "/"
    )
    with (
        OidcRelyingParty(settings) as party,
        pytest.raises(IdentityProviderError, match="it must be exactly the configured issuer"),
    ):
        party.start()


def test_unreachable_provider_is_a_clear_error() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = OidcSettings(
        issuer=f"http://127.0.0.1:{port}",
        client_id="c",
        client_secret=None,
        redirect_uri=REDIRECT_URI,
    )
    with OidcRelyingParty(settings) as party, pytest.raises(IdentityProviderError) as err:
        party.start()
    assert "cannot fetch the OIDC provider discovery document" in err.value.message
    assert err.value.code == "SW701"


def test_settings_refuse_plain_http_and_hide_the_secret() -> None:
    with pytest.raises(ConfigError, match="is not an https:// URL"):
        OidcSettings(
            issuer="http://idp.example.com",
            client_id="c",
            client_secret="s3cret",
            redirect_uri="https://sw.example.com/cb",
        )
    with pytest.raises(ConfigError, match="'openid'"):
        OidcSettings(
            issuer="https://idp.example.com",
            client_id="c",
            client_secret=None,
            redirect_uri="https://sw.example.com/cb",
            scopes=("email",),
        )
    settings = OidcSettings(
        issuer="https://idp.example.com",
        client_id="c",
        client_secret="s3cret",
        redirect_uri="https://sw.example.com/cb",
    )
    assert "s3cret" not in repr(settings)


# ---- principal mapping ------------------------------------------------------------------
def _who(
    sub: str = "sub-1", email: str | None = "alice@example.test", verified: bool = True
) -> OidcIdentity:
    return OidcIdentity(
        issuer="https://idp.example.com",
        subject=sub,
        email=email,
        email_verified=verified,
        name=None,
        auth_time=None,
        amr=(),
    )


PINNED = """
environments:
  production: {tier: production}
principals:
  alice: {affiliation: internal, emails: [Alice@Example.TEST], oidc_subject: "00u-alice"}
  bob: {affiliation: internal, emails: [bob@example.test]}
  carol: {affiliation: internal, emails: [shared@example.test]}
  dave: {affiliation: internal, emails: [shared@example.test]}
  erin: {affiliation: internal, emails: [erin@example.test], disabled: true}
"""


def test_declared_subject_wins_over_the_email() -> None:
    estate = _estate(PINNED)
    # Matched on the subject even with an unverified or different address.
    assert principal_for(estate, _who("00u-alice", "x@y.test", verified=False)) == "alice"
    # Alice's address from another account at the provider: refused, not mapped.
    with pytest.raises(AuthenticationFailed, match="pinned to another OIDC subject"):
        principal_for(estate, _who("00u-intruder", "alice@example.test"))


def test_ambiguous_disabled_and_missing_email() -> None:
    estate = _estate(PINNED)
    with pytest.raises(IdentityAmbiguous, match="carol, dave"):
        principal_for(estate, _who(email="SHARED@example.test"))
    with pytest.raises(AuthenticationFailed, match="'erin' is disabled"):
        principal_for(estate, _who(email="erin@example.test"))
    assert principal_for(estate, _who(email=None)) is None
    assert principal_for(estate, _who(email="bob@example.test")) == "bob"
    # No "contains" or prefix matching.
    assert principal_for(estate, _who(email="ob@example.test")) is None
    assert principal_for(estate, _who(email="bob@example.test.evil")) is None


def test_estate_refuses_a_subject_declared_twice_or_on_a_service() -> None:
    from stagewall.errors import ConfigError as Cfg

    twice = PINNED.replace(
        "bob: {affiliation: internal, emails: [bob@example.test]}",
        'bob: {affiliation: internal, oidc_subject: "00u-alice"}',
    )
    with pytest.raises(Cfg, match="same oidc_subject is declared for principal 'alice'"):
        parse_estate(twice)
    service = PINNED.replace(
        "bob: {affiliation: internal, emails: [bob@example.test]}",
        'bob: {affiliation: internal, kind: service, oidc_subject: "x"}',
    )
    with pytest.raises(Cfg, match=r"only a person \(kind: human\) can have an oidc_subject"):
        parse_estate(service)


def test_only_ascii_letters_fold_when_an_email_is_matched() -> None:
    """A verified address that merely case-folds to a declared one is another mailbox.

    ``straße.example`` is a registrable domain of its own, yet ``str.casefold`` turns it
    into ``strasse.example``; the Kelvin sign and the long s fold to ``k`` and ``s``. An
    attacker who verifies such an address at the identity provider must not log in as
    the person who declared the ASCII one."""
    estate = _estate(
        """
environments:
  production: {tier: production}
principals:
  sam: {affiliation: internal, emails: [sam@strasse.example]}
  kate: {affiliation: internal, emails: [Kate@Example.TEST]}
"""
    )
    assert principal_for(estate, _who(email="sam@straße.example")) is None
    assert principal_for(estate, _who(email="\u017fam@strasse.example")) is None
    assert principal_for(estate, _who(email="\u212aate@example.test")) is None
    # ASCII letters still fold either way.
    assert principal_for(estate, _who(email="SAM@Strasse.Example")) == "sam"
    assert principal_for(estate, _who(email="kate@example.test")) == "kate"


def test_a_plain_http_jwks_uri_from_the_provider_is_refused() -> None:
    """The login provider's discovery document cannot send the key fetch over plain http."""
    issuer = "https://idp.example.com"
    fetched: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        fetched.append(str(request.url))
        doc = {
            "issuer": issuer,
            "authorization_endpoint": issuer + "/authorize",
            "token_endpoint": issuer + "/token",
            "jwks_uri": "http://idp.example.com/jwks",
        }
        return httpx.Response(200, json=doc)

    settings = OidcSettings(
        issuer=issuer, client_id="c", client_secret=None, redirect_uri=REDIRECT_URI
    )
    with (
        httpx.Client(transport=httpx.MockTransport(answer)) as http,
        OidcRelyingParty(settings, http=http) as party,
        pytest.raises(IdentityProviderError) as err,
    ):
        party.start()
    assert f"OIDC provider {issuer}" in err.value.message
    assert "jwks_uri 'http://idp.example.com/jwks'" in err.value.message
    assert "not an https:// URL" in err.value.message
    assert fetched == [issuer + "/.well-known/openid-configuration"]
