"""Shared JOSE plumbing: discovery, a JWKS cache with rotation, signed-JWT checks.

Only asymmetric signatures are accepted: a token signed with ``none`` or an HMAC
algorithm (whose "key" would be a public value or a shared secret) is refused before
any key is looked at. Messages name the claim and the issuer, never the token.
"""

from __future__ import annotations

import base64
import hmac
import json
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from stagewall._net import is_loopback
from stagewall.errors import AuthenticationFailed, ConfigError, IdentityProviderError

ASYMMETRIC_ALGORITHMS: tuple[str, ...] = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
MAX_TOKEN_BYTES = 16_384
JWKS_MAX_AGE_S = 3600.0
JWKS_MIN_REFETCH_S = 10.0
HTTP_TIMEOUT_S = 10.0

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def require_secure_url(url: str, what: str) -> None:
    """``https://`` everywhere; plain ``http://`` only on a loopback address (tests, dev)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and is_loopback(parts.hostname):
        return
    raise ConfigError(
        f"{what} {url!r} is not an https:// URL",
        hint="identity providers and token issuers must be reached over TLS "
        "(plain http is accepted only on a loopback address)",
    )


def get_json(http: httpx.Client, url: str, what: str) -> dict[str, Any]:
    """GET ``url`` and return its JSON object, or raise IdentityProviderError."""
    try:
        response = http.get(url, headers={"Accept": "application/json"}, timeout=HTTP_TIMEOUT_S)
    except httpx.HTTPError as exc:
        raise IdentityProviderError(
            f"cannot fetch the {what} from {url}: {type(exc).__name__}"
        ) from None
    if response.status_code != 200:
        raise IdentityProviderError(
            f"the {what} at {url} answered HTTP {response.status_code}, expected 200"
        )
    try:
        data = response.json()
    except ValueError:
        raise IdentityProviderError(f"the {what} at {url} is not JSON") from None
    if not isinstance(data, dict):
        raise IdentityProviderError(f"the {what} at {url} is not a JSON object")
    return data


def discovery_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def fetch_discovery(http: httpx.Client, issuer: str, what: str) -> dict[str, Any]:
    """The issuer's OpenID discovery document; its ``issuer`` must equal ``issuer`` exactly."""
    doc = get_json(http, discovery_url(issuer), f"{what} discovery document")
    if doc.get("issuer") != issuer:
        raise IdentityProviderError(
            f"the discovery document of {issuer} names issuer {doc.get('issuer')!r}; "
            "it must be exactly the configured issuer",
            hint="configure the issuer exactly as the provider spells it "
            "(scheme, host, path and trailing slash)",
        )
    return doc


class JwksCache:
    """The signing keys of one issuer, cached, refetched when an unknown ``kid`` arrives.

    Refetching is rate-limited (``min_refetch_s``) so a stream of tokens with made-up
    key ids cannot turn into a stream of requests to the issuer.
    """

    def __init__(
        self,
        http: httpx.Client,
        uri: str,
        *,
        what: str,
        max_age_s: float = JWKS_MAX_AGE_S,
        min_refetch_s: float = JWKS_MIN_REFETCH_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        require_secure_url(uri, f"the JWKS URL of {what}")
        self._http = http
        self._uri = uri
        self._what = what
        self._max_age_s = max_age_s
        self._min_refetch_s = min_refetch_s
        self._monotonic = monotonic
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self.fetches = 0

    def _fetch(self) -> None:
        data = get_json(self._http, self._uri, f"JWKS of {self._what}")
        keys = data.get("keys")
        if not isinstance(keys, list):
            raise IdentityProviderError(f"the JWKS of {self._what} at {self._uri} has no keys list")
        usable = [
            k
            for k in keys
            if isinstance(k, dict) and k.get("use", "sig") == "sig" and k.get("kty") != "oct"
        ]
        try:
            self._keys = KeySet.import_key_set({"keys": usable})
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise IdentityProviderError(
                f"the JWKS of {self._what} at {self._uri} holds a key that cannot be read "
                f"({type(exc).__name__})"
            ) from None
        self._fetched_at = self._monotonic()
        self.fetches += 1

    def _find(self, kid: str | None) -> KeySet | None:
        if self._keys is None:
            return None
        if kid is None:
            return self._keys if len(self._keys.keys) == 1 else None
        found = [k for k in self._keys.keys if k.kid == kid]
        return KeySet(found) if found else None

    def keys_for(self, kid: str | None) -> KeySet:
        """The key set to verify a token with key id ``kid``; refetch once if unknown."""
        now = self._monotonic()
        if self._keys is None or now - self._fetched_at > self._max_age_s:
            self._fetch()
        found = self._find(kid)
        if found is None and self._monotonic() - self._fetched_at >= self._min_refetch_s:
            self._fetch()
            found = self._find(kid)
        if found is None:
            shown = "no key id" if kid is None else f"key id {kid!r}"
            raise AuthenticationFailed(
                f"the token is signed with {shown}, which is not among the published "
                f"signing keys of {self._what}",
                hint="the token was not issued by the configured issuer, or its key was "
                "retired; get a fresh token",
            )
        return found


def unverified_claims(token: str, what: str) -> dict[str, Any]:
    """The payload of a token whose signature is not checked yet (to pick its issuer)."""
    parts = token.split(".") if isinstance(token, str) else []
    if len(parts) != 3 or len(token) > MAX_TOKEN_BYTES:
        raise AuthenticationFailed(
            f"the {what} is not a signed JWT (expected three dot-separated parts)"
        )
    return _b64_json(parts[1], what)


def _b64_json(segment: str, what: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise AuthenticationFailed(f"the {what} is not a well-formed JWT") from None
    if not isinstance(value, dict):
        raise AuthenticationFailed(f"the {what} is not a well-formed JWT")
    return value


def verify_signed_jwt(
    token: str, keys: Callable[[str | None], KeySet], algorithms: Iterable[str], what: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Verify a compact JWS and return (header, claims); the claims are not checked yet."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_BYTES:
        raise AuthenticationFailed(f"the {what} is missing or too large")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise AuthenticationFailed(
            f"the {what} is not a signed JWT (expected three dot-separated parts)"
        )
    header = _b64_json(parts[0], what)
    alg = header.get("alg")
    allowed = tuple(algorithms)
    if not isinstance(alg, str) or alg not in allowed:
        raise AuthenticationFailed(
            f"the {what} is signed with algorithm {alg!r}, which is not accepted; "
            f"accepted: {', '.join(allowed)}",
            hint="tokens must carry an asymmetric signature made with the issuer's "
            "published key (never 'none' or a shared-secret HMAC)",
        )
    if header.get("crit") is not None:
        raise AuthenticationFailed(f"the {what} has critical header extensions, not supported")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise AuthenticationFailed(f"the {what} has a malformed key id")
    key_set = keys(kid)
    try:
        obj = jws.deserialize_compact(token, key_set, algorithms=[alg])
    except (JoseError, ValueError, TypeError):
        raise AuthenticationFailed(
            f"the signature of the {what} does not verify",
            hint="the token was altered or not signed by the configured issuer",
        ) from None
    try:
        claims = json.loads(obj.payload)
    except (ValueError, UnicodeDecodeError):
        raise AuthenticationFailed(f"the payload of the {what} is not JSON") from None
    if not isinstance(claims, dict):
        raise AuthenticationFailed(f"the payload of the {what} is not a JSON object")
    return header, claims


def _numeric_time(claims: Mapping[str, Any], name: str, what: str) -> datetime | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AuthenticationFailed(f"the {what} has a non-numeric {name!r} claim")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        raise AuthenticationFailed(f"the {what} has an out-of-range {name!r} claim") from None


def check_times(
    claims: Mapping[str, Any],
    *,
    now: datetime,
    skew_s: int,
    what: str,
    max_age_s: int | None = None,
) -> datetime:
    """Check ``exp`` (required), ``iat`` (required), ``nbf``; return ``iat``."""
    skew = timedelta(seconds=skew_s)
    exp = _numeric_time(claims, "exp", what)
    iat = _numeric_time(claims, "iat", what)
    nbf = _numeric_time(claims, "nbf", what)
    if exp is None:
        raise AuthenticationFailed(f"the {what} has no 'exp' (expiry) claim")
    if iat is None:
        raise AuthenticationFailed(f"the {what} has no 'iat' (issued at) claim")
    if now > exp + skew:
        raise AuthenticationFailed(
            f"the {what} expired at {exp.isoformat()}", hint="get a fresh token and try again"
        )
    if iat > now + skew:
        raise AuthenticationFailed(
            f"the {what} claims to be issued in the future ({iat.isoformat()})",
            hint="check the clocks of the issuer and of the stagewall server (NTP)",
        )
    if nbf is not None and nbf > now + skew:
        raise AuthenticationFailed(f"the {what} is not valid before {nbf.isoformat()}")
    if max_age_s is not None and now - iat > timedelta(seconds=max_age_s + skew_s):
        raise AuthenticationFailed(
            f"the {what} was issued at {iat.isoformat()}, more than {max_age_s} s ago",
            hint="request a fresh token right before calling stagewall",
        )
    return iat


def check_audience(claims: Mapping[str, Any], audience: str, what: str) -> None:
    """``aud`` must contain ``audience``; with several audiences ``azp`` must be it."""
    aud = claims.get("aud")
    auds = [aud] if isinstance(aud, str) else aud
    if not isinstance(auds, list) or not all(isinstance(a, str) for a in auds):
        raise AuthenticationFailed(f"the {what} has no valid 'aud' (audience) claim")
    if audience not in auds:
        raise AuthenticationFailed(
            f"the {what} is meant for audience {', '.join(map(repr, auds))}, not for {audience!r}",
            hint="the token was issued to another client or relying party; "
            "request one for this audience",
        )
    azp = claims.get("azp")
    if (len(auds) > 1 or azp is not None) and azp != audience:
        raise AuthenticationFailed(
            f"the {what} has several audiences and its authorized party (azp) "
            f"{azp!r} is not {audience!r}"
        )


def same_secret(a: str, b: str) -> bool:
    """Constant-time comparison of two strings."""
    return hmac.compare_digest(a.encode("utf-8"), b.encode("utf-8"))
