"""OpenID Connect relying party: authorization code flow with PKCE (S256).

The server calls :meth:`OidcRelyingParty.start` when a person clicks "log in",
keeps the returned :class:`LoginStart` server-side (never in a client-readable
cookie), redirects the browser to ``LoginStart.url`` and, on the callback, calls
:meth:`OidcRelyingParty.finish` with the ``code`` and ``state`` query parameters.
``finish`` returns the verified :class:`OidcIdentity` or raises
:class:`~stagewall.errors.AuthenticationFailed`.

Mapping an identity to a principal is a separate step
(:func:`stagewall.identity.principals.principal_for`): this module only reports what
the provider vouched for, including whether the e-mail address is verified.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc.jwk import KeySet

from stagewall.errors import (
    AuthenticationFailed,
    ConfigError,
    EmailNotVerified,
    IdentityAmbiguous,
    IdentityProviderError,
)
from stagewall.estate.models import Estate, PrincipalKind
from stagewall.identity._jose import (
    ASYMMETRIC_ALGORITHMS,
    HTTP_TIMEOUT_S,
    Clock,
    JwksCache,
    check_audience,
    check_times,
    fetch_discovery,
    require_secure_discovered,
    require_secure_url,
    same_secret,
    utcnow,
    verify_signed_jwt,
)

LOGIN_MAX_AGE = timedelta(minutes=10)
_WHAT = "ID token"


@dataclass(frozen=True)
class OidcSettings:
    """The relying party's registration at the identity provider.

    ``client_secret`` is a secret: the server reads it from a file or environment
    variable, never from ``stagewall.yaml``. ``None`` means a public client (PKCE only).
    """

    issuer: str
    client_id: str
    client_secret: str | None
    redirect_uri: str
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    clock_skew_s: int = 60

    def __post_init__(self) -> None:
        require_secure_url(self.issuer, "the OIDC issuer")
        if not self.client_id:
            raise ConfigError("the OIDC client_id is empty")
        if "openid" not in self.scopes:
            raise ConfigError(
                "the OIDC scopes do not include 'openid'",
                hint="add openid to the scopes; without it the provider issues no ID token",
            )
        if not 0 <= self.clock_skew_s <= 300:
            raise ConfigError("the OIDC clock_skew_s must be between 0 and 300 seconds")

    def __repr__(self) -> str:
        secret = "None" if self.client_secret is None else "'***'"
        return (
            f"OidcSettings(issuer={self.issuer!r}, client_id={self.client_id!r}, "
            f"client_secret={secret}, redirect_uri={self.redirect_uri!r}, "
            f"scopes={self.scopes!r}, clock_skew_s={self.clock_skew_s})"
        )


@dataclass(frozen=True, repr=False)
class LoginStart:
    """One login attempt, kept server-side until the callback. Single use.

    ``max_age_s`` is set when :meth:`OidcRelyingParty.start` asked the provider for a
    fresh authentication (step-up); ``finish`` then requires ``auth_time``.
    """

    url: str
    state: str
    nonce: str
    code_verifier: str
    created_at: datetime
    max_age_s: int | None = None

    def __repr__(self) -> str:  # state, nonce and verifier are secrets
        return f"LoginStart(created_at={self.created_at.isoformat()}, max_age_s={self.max_age_s})"


@dataclass(frozen=True)
class OidcIdentity:
    """What the identity provider vouched for. Key principals on (issuer, subject)."""

    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str | None
    auth_time: datetime | None
    amr: tuple[str, ...]
    acr: str | None = None


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def derived_secrets(key: str, state: str) -> tuple[str, str]:
    """The nonce and PKCE verifier of the login ``state``, derived from ``key`` (a secret
    the browser that started the login holds and the server keeps only a digest of):
    HMAC-SHA256 with one label each, 256 bits apiece (43 URL-safe characters, the
    RFC 7636 minimum length). Nothing stored lets anyone else compute them."""

    def mac(label: str) -> str:
        return _b64url(hmac.new(key.encode(), f"{label}\0{state}".encode(), "sha256").digest())

    return mac("stagewall oidc nonce"), mac("stagewall oidc pkce verifier")


class OidcRelyingParty:
    """Authorization code + PKCE relying party for one identity provider and client."""

    def __init__(
        self,
        settings: OidcSettings,
        *,
        http: httpx.Client | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.settings = settings
        self._owns_http = http is None
        self._http = http if http is not None else httpx.Client(timeout=HTTP_TIMEOUT_S)
        self._clock = clock
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._jwks: JwksCache | None = None

    def close(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> OidcRelyingParty:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- provider metadata --------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document (fetched once, then cached)."""
        with self._lock:
            if self._metadata is None:
                doc = fetch_discovery(self._http, self.settings.issuer, "OIDC provider")
                for field in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    value = doc.get(field)
                    if not isinstance(value, str) or not value:
                        raise IdentityProviderError(
                            f"the discovery document of {self.settings.issuer} has no {field}"
                        )
                    require_secure_discovered(value, field, f"OIDC provider {self.settings.issuer}")
                methods = doc.get("code_challenge_methods_supported")
                if isinstance(methods, list) and "S256" not in methods:
                    raise IdentityProviderError(
                        f"the provider {self.settings.issuer} does not support PKCE with S256",
                        hint="enable PKCE (S256) for this client at the identity provider",
                    )
                self._jwks = JwksCache(
                    self._http, doc["jwks_uri"], what=f"OIDC provider {self.settings.issuer}"
                )
                self._metadata = doc
            return self._metadata

    def _algorithms(self) -> tuple[str, ...]:
        offered = self.metadata().get("id_token_signing_alg_values_supported")
        if isinstance(offered, list):
            return tuple(a for a in ASYMMETRIC_ALGORITHMS if a in offered)
        return ("RS256",)

    # ---- the flow -----------------------------------------------------------
    def start(self, *, max_age_s: int | None = None, bound_to: str | None = None) -> LoginStart:
        """A new login: the URL to redirect the browser to, and what to keep server-side.

        ``max_age_s`` asks the provider to re-authenticate a person whose last
        authentication is older than that (step-up); ``finish`` then checks ``auth_time``.
        ``bound_to``: a secret the nonce and verifier are derived from with the state
        (:func:`derived_secrets`), so they need not be kept; else they are random.
        """
        meta = self.metadata()
        state = secrets.token_urlsafe(32)
        if bound_to is not None:
            nonce, verifier = derived_secrets(bound_to, state)
        else:
            nonce, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(64)
        challenge = _b64url(hashlib.sha256(verifier.encode("ascii")).digest())
        params = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": self.settings.redirect_uri,
            "scope": " ".join(self.settings.scopes),
            "state": state,
            "nonce": nonce,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        if max_age_s is not None:
            if max_age_s < 0:
                raise ConfigError("max_age_s must not be negative")
            params["max_age"] = str(max_age_s)
        endpoint: str = meta["authorization_endpoint"]
        sep = "&" if "?" in endpoint else "?"
        return LoginStart(
            url=f"{endpoint}{sep}{urlencode(params)}",
            state=state,
            nonce=nonce,
            code_verifier=verifier,
            created_at=self._clock(),
            max_age_s=max_age_s,
        )

    def finish(
        self, *, code: str, state: str, started: LoginStart, iss: str | None = None
    ) -> OidcIdentity:
        """Exchange ``code`` and verify the ID token; raise AuthenticationFailed if anything is off.

        ``iss`` is the callback's ``iss`` parameter (RFC 9207) when the provider sends
        one; it must then be this provider (defence against IdP mix-up), and it must be
        there when the provider's metadata says it sends it. The caller must
        discard ``started`` whatever the outcome (it is single use).
        """
        now = self._clock()
        if now - started.created_at > LOGIN_MAX_AGE:
            raise AuthenticationFailed(
                "the login was started more than 10 minutes ago",
                hint="start the login again",
            )
        if started.created_at - now > timedelta(seconds=self.settings.clock_skew_s):
            raise AuthenticationFailed("the login start time lies in the future")
        if not state or not same_secret(state, started.state):
            raise AuthenticationFailed(
                "the state returned by the identity provider does not match this login "
                "(possible cross-site request forgery or a login finished in another tab)",
                hint="start the login again from the stagewall login page",
            )
        if iss is None and self.metadata().get("authorization_response_iss_parameter_supported"):
            # RFC 9207 §2.4: this provider always sends iss; a response without it was not
            # made by it for this client as sent (a mix-up, or rewritten on the way).
            raise AuthenticationFailed(
                "the authorization response arrived without the iss parameter, which this "
                "identity provider always sends",
                hint="start the login again from the stagewall login page",
            )
        if iss is not None and iss != self.settings.issuer:
            raise AuthenticationFailed(
                f"the authorization response comes from issuer {iss!r}, "
                f"not from {self.settings.issuer!r}",
                hint="start the login again from the stagewall login page",
            )
        if not code:
            raise AuthenticationFailed("the identity provider returned no authorization code")
        tokens = self._exchange(code, started)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise IdentityProviderError("the token response has no id_token")
        claims = self._verify_id_token(id_token, started, now)
        profile = dict(claims)
        if "email" in self.settings.scopes and "email" not in claims:
            profile.update(self._userinfo(tokens, claims["sub"]))
        return _identity(claims, profile)

    # ---- steps ----------------------------------------------------------------
    def _exchange(self, code: str, started: LoginStart) -> dict[str, Any]:
        meta = self.metadata()
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.settings.redirect_uri,
            "code_verifier": started.code_verifier,
        }
        auth: httpx.BasicAuth | None = None
        secret = self.settings.client_secret
        methods = meta.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if secret is None:
            form["client_id"] = self.settings.client_id
        elif "client_secret_basic" in methods:
            auth = httpx.BasicAuth(self.settings.client_id, secret)
        elif "client_secret_post" in methods:
            form["client_id"] = self.settings.client_id
            form["client_secret"] = secret
        else:
            raise IdentityProviderError(
                "the provider supports neither client_secret_basic nor client_secret_post "
                "for the token endpoint"
            )
        try:
            response = self._http.post(
                meta["token_endpoint"],
                data=form,
                auth=auth if auth is not None else httpx.USE_CLIENT_DEFAULT,
                headers={"Accept": "application/json"},
                timeout=HTTP_TIMEOUT_S,
            )
        except httpx.HTTPError as exc:
            raise IdentityProviderError(
                f"cannot reach the token endpoint: {type(exc).__name__}"
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            if response.status_code in (400, 401) and isinstance(error, str):
                raise AuthenticationFailed(
                    f"the identity provider refused the authorization code ({error}): it is "
                    "expired, already used, issued to another client, or the PKCE verifier "
                    "does not match",
                    hint="start the login again",
                )
            raise IdentityProviderError(
                f"the token endpoint answered HTTP {response.status_code} without a token"
            )
        token_type = body.get("token_type")
        if isinstance(token_type, str) and token_type.lower() != "bearer":
            raise IdentityProviderError(f"the token endpoint returned token_type {token_type!r}")
        return body

    def _keys(self, kid: str | None) -> KeySet:
        self.metadata()
        if self._jwks is None:  # set together with the metadata
            raise IdentityProviderError("the provider's signing keys are not loaded")
        return self._jwks.keys_for(kid)

    def _verify_id_token(self, token: str, started: LoginStart, now: datetime) -> dict[str, Any]:
        _, claims = verify_signed_jwt(token, self._keys, self._algorithms(), _WHAT)
        if claims.get("iss") != self.settings.issuer:
            raise AuthenticationFailed(
                f"the ID token was issued by {claims.get('iss')!r}, "
                f"not by the configured issuer {self.settings.issuer!r}"
            )
        check_audience(claims, self.settings.client_id, _WHAT)
        check_times(claims, now=now, skew_s=self.settings.clock_skew_s, what=_WHAT)
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not same_secret(nonce, started.nonce):
            raise AuthenticationFailed(
                "the ID token's nonce does not match this login (a replayed or injected token)",
                hint="start the login again",
            )
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub or len(sub) > 255:
            raise AuthenticationFailed("the ID token has no valid 'sub' (subject) claim")
        if started.max_age_s is not None:
            auth_time = claims.get("auth_time")
            if isinstance(auth_time, bool) or not isinstance(auth_time, int | float):
                raise AuthenticationFailed(
                    "a fresh login was requested (max_age) but the ID token has no auth_time"
                )
            limit = started.max_age_s + self.settings.clock_skew_s
            if now.timestamp() - auth_time > limit:
                raise AuthenticationFailed(
                    f"the identity provider's last authentication is older than "
                    f"{started.max_age_s} s although a fresh one was requested",
                    hint="log in again at the identity provider",
                )
        return claims

    def _userinfo(self, tokens: dict[str, Any], subject: str) -> dict[str, Any]:
        endpoint = self.metadata().get("userinfo_endpoint")
        access_token = tokens.get("access_token")
        if not isinstance(endpoint, str) or not isinstance(access_token, str):
            return {}
        require_secure_discovered(
            endpoint, "userinfo_endpoint", f"OIDC provider {self.settings.issuer}"
        )
        try:
            response = self._http.get(
                endpoint,
                headers={"Authorization": f"Bearer {access_token}", "Accept": "application/json"},
                timeout=HTTP_TIMEOUT_S,
            )
            data = response.json() if response.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            data = None
        if not isinstance(data, dict):
            raise IdentityProviderError("the userinfo endpoint did not return a JSON object")
        if data.get("sub") != subject:
            raise AuthenticationFailed(
                "the userinfo endpoint describes another subject than the ID token"
            )
        return {k: data[k] for k in ("email", "email_verified", "name") if k in data}


def principal_for(estate: Estate, identity: OidcIdentity) -> str | None:
    """The one principal ``identity`` logs in as, or ``None`` when the estate knows nobody.

    A person whose ``oidc_subject`` is declared is matched on the subject alone. Otherwise
    the e-mail address is matched (only ASCII letters case-folded) against the principals'
    ``emails``, and only when the provider marks it verified. Only people (kind human) log
    in this way; a disabled principal, an address claimed by two principals, or an address
    whose principal is pinned to another subject is refused.
    """
    by_subject = [
        name
        for name, p in estate.principals.items()
        if p.oidc_subject is not None and p.oidc_subject == identity.subject
    ]
    if len(by_subject) > 1:
        raise IdentityAmbiguous(
            f"the OIDC subject of this login is declared for several principals: "
            f"{', '.join(sorted(by_subject))}"
        )
    if by_subject:
        return _usable(estate, by_subject[0])
    if identity.email is None:
        return None
    wanted = _email_key(identity.email)
    by_email = sorted(
        name
        for name, p in estate.principals.items()
        if p.kind is PrincipalKind.HUMAN and any(_email_key(e) == wanted for e in p.emails)
    )
    if not by_email:
        return None
    if not identity.email_verified:
        raise EmailNotVerified(
            f"the identity provider does not mark the e-mail address {identity.email!r} "
            "as verified, so it cannot be used to find the principal"
        )
    if len(by_email) > 1:
        raise IdentityAmbiguous(
            f"the e-mail address {identity.email!r} belongs to several principals: "
            f"{', '.join(by_email)}"
        )
    name = by_email[0]
    if estate.principals[name].oidc_subject is not None:
        raise AuthenticationFailed(
            f"principal {name!r} is pinned to another OIDC subject; this login carries "
            "the same e-mail address but is a different account at the identity provider",
            hint="log in with the account declared for this principal, or update its "
            "oidc_subject in stagewall.yaml",
        )
    return _usable(estate, name)


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _email_key(email: str) -> str:
    """An address compared for login: ASCII letters folded, every other character exact.

    ``str.casefold`` would make ``sam@straße.example`` (a mailbox on a domain of its own,
    which its owner can verify at the provider) the declared ``sam@strasse.example``."""
    return email.strip().translate(_ASCII_LOWER)


def _usable(estate: Estate, name: str) -> str:
    principal = estate.principals[name]
    if principal.kind is not PrincipalKind.HUMAN:
        raise AuthenticationFailed(f"principal {name!r} is not a person and cannot log in")
    if principal.disabled:
        raise AuthenticationFailed(
            f"principal {name!r} is disabled", hint="ask an administrator to re-enable it"
        )
    return name


def _identity(claims: dict[str, Any], profile: dict[str, Any]) -> OidcIdentity:
    email = profile.get("email")
    verified = profile.get("email_verified")
    name = profile.get("name")
    amr = claims.get("amr")
    acr = claims.get("acr")
    auth_time = claims.get("auth_time")
    return OidcIdentity(
        issuer=claims["iss"],
        subject=claims["sub"],
        email=email if isinstance(email, str) and email else None,
        # Some providers send the string "true"; anything else is "not verified".
        email_verified=verified is True or verified == "true",
        name=name if isinstance(name, str) else None,
        auth_time=(
            datetime.fromtimestamp(auth_time, UTC)
            if isinstance(auth_time, int | float) and not isinstance(auth_time, bool)
            else None
        ),
        amr=tuple(a for a in amr if isinstance(a, str)) if isinstance(amr, list) else (),
        acr=acr if isinstance(acr, str) else None,
    )


__all__ = [
    "LOGIN_MAX_AGE",
    "LoginStart",
    "OidcIdentity",
    "OidcRelyingParty",
    "OidcSettings",
    "principal_for",
]
