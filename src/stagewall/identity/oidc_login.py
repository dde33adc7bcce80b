"""Browser login through the company's OpenID provider, with the login state server-side.

:func:`begin` starts an authorization-code + PKCE login (``oidc.OidcRelyingParty``) and
stores its state's digest in the store, together with the digest of a random *binding*
secret that the server sets as a cookie on the browser that started the login (both
digests HMACs under the server's token key, the row sealed:
:mod:`stagewall.identity._codeseal`). The nonce and PKCE verifier are derived from the
binding secret and the state (``oidc.derived_secrets``) and never stored: someone who
reads the store cannot finish a login in progress. :func:`complete` takes the callback's
``code`` and ``state`` and that cookie, burns the stored login (single use, 10 minutes),
verifies the ID token, maps it to exactly one declared principal and returns it. A
callback from another browser (login CSRF, a victim made to finish an attacker's login)
lacks the binding cookie and is refused. The first login pins its (issuer, subject) to
the principal (:func:`stagewall.identity.bindings.pin_subject`): another provider
account with the same e-mail address is refused. Every refusal is an ``identity.login``
failure event (OCSF Authentication 3002) and raises OidcLoginRefused (SW844).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, insert

from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.errors import (
    CodeFromBeforeUpgrade,
    CodeRowAltered,
    CodeRowForged,
    ConfigError,
    OidcLoginRefused,
    OidcNotConfigured,
    StagewallError,
)
from stagewall.estate import Estate
from stagewall.estate.models import OidcLoginSettings, ServerSettings
from stagewall.identity import _events as ev
from stagewall.identity import bindings
from stagewall.identity._codes import fmt, new_id, new_secret, parse, same
from stagewall.identity._codeseal import OIDC_BINDING, OIDC_STATE, Sealer
from stagewall.identity._once import take_keyed
from stagewall.identity._tables import identity_oidc_logins
from stagewall.identity.attempts import address_key, attempt
from stagewall.identity.oidc import (
    LoginStart,
    OidcRelyingParty,
    OidcSettings,
    derived_secrets,
    principal_for,
)
from stagewall.store import Store

CALLBACK_PATH = "/api/v1/oidc/callback"


@dataclass(frozen=True, repr=False)
class Started:
    """Where to send the browser, and the binding secret to set as its cookie."""

    url: str
    binding: str
    expires_at: datetime


def settings_for(server: ServerSettings) -> OidcLoginSettings:
    if server.oidc is None:
        raise OidcNotConfigured("OIDC login is not configured on this server (server.oidc)")
    return server.oidc


def client_secret(conf: OidcLoginSettings, base: Path) -> str | None:
    """The client secret from the file or environment variable the config names."""
    if conf.client_secret_env:
        value = os.environ.get(conf.client_secret_env, "").strip()
        if not value:
            raise ConfigError(
                f"server.oidc.client_secret_env names {conf.client_secret_env}, which is unset"
            )
        return value
    if conf.client_secret_file:
        path = Path(conf.client_secret_file)
        path = path if path.is_absolute() else base / path
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"cannot read the OIDC client secret file {path}: {exc.strerror}"
            ) from None
        if not value:
            raise ConfigError(f"the OIDC client secret file {path} is empty")
        return value
    return None  # a public client: PKCE only


def relying_party_settings(server: ServerSettings, base: Path) -> OidcSettings:
    conf = settings_for(server)
    redirect = conf.redirect_uri or server.public_url.rstrip("/") + CALLBACK_PATH
    return OidcSettings(
        issuer=conf.issuer,
        client_id=conf.client_id,
        client_secret=client_secret(conf, base),
        redirect_uri=redirect,
        scopes=tuple(conf.scopes),
    )


def record(
    store: Store,
    principal: str | None,
    ok: bool,
    why: str,
    *,
    source: str | None,
    subject: str | None = None,
) -> None:
    """An ``identity.login`` event (Authentication 3002) for an OIDC login attempt."""
    who = (principal or "unknown")[:128]
    AuditLog(store).append(
        AuditEvent(
            ev.LOGIN.code,
            Status.SUCCESS if ok else Status.FAILURE,
            who,
            f"oidc login of {who!r} {'succeeded' if ok else 'failed'}" + ("" if ok else f": {why}"),
            resource=f"principal:{who}",
            details={
                "method": "oidc",
                "subject": (subject or "")[:255] or None,
                "source_address": source,
                "reason": None if ok else why,
            },
        )
    )


def begin(store: Store, rp: OidcRelyingParty, *, now: datetime, ttl: timedelta) -> Started:
    """Start a login: store its state and binding digests; return URL and binding."""
    binding = new_secret("")
    # The nonce and PKCE verifier are derived from the binding secret and the state, and
    # only digests of those two are stored: a store reader cannot finish the login.
    started = rp.start(bound_to=binding)
    expires = now + ttl
    sealer = Sealer(store)
    values = {
        "id": new_id("ol"),
        "state_hash": sealer.lookup(OIDC_STATE, started.state),
        "binding_hash": sealer.lookup(OIDC_BINDING, binding),
        "created_at": fmt(now),
        "expires_at": fmt(expires),
    }
    with store.transaction() as conn:
        conn.execute(
            delete(identity_oidc_logins).where(
                identity_oidc_logins.c.expires_at < fmt(now - timedelta(days=1))
            )
        )
        conn.execute(
            insert(identity_oidc_logins).values(
                **values, row_mac=sealer.seal(OIDC_STATE, values.values())
            )
        )
    return Started(started.url, binding, expires)


def complete(
    store: Store,
    estate: Estate,
    rp: OidcRelyingParty,
    *,
    code: str,
    state: str,
    binding: str,
    iss: str | None,
    error: str | None,
    now: datetime,
    source: str | None,
    refuse: Callable[[str], None] | None = None,
) -> str:
    """Finish a login; the principal, or OidcLoginRefused (recorded) for anything off.

    ``refuse(principal)`` (the server's offboarding check) runs before the login is
    recorded: what it raises is recorded as the login's failure, never as a success."""
    subject: str | None = None
    key = f"{address_key(source)}:oidc-login"
    with attempt(store, key, now=now, reserve=False) as slots:
        try:
            if error:
                raise OidcLoginRefused(
                    f"the identity provider returned an error instead of a login: {error[:64]}"
                )
            started = _take(store, state, binding, now)
            identity = rp.finish(code=code, state=state, started=started, iss=iss)
            subject = identity.subject
            principal = principal_for(estate, identity)
            if principal is None:
                raise OidcLoginRefused(
                    "this identity-provider account is not declared for any principal "
                    "(unknown subject and no matching verified e-mail address)",
                    hint="ask an admin to declare your e-mail or oidc_subject in stagewall.yaml",
                )
            # the declaration this name has now, and the IdP account that signs in as it
            bindings.pin_subject(
                store, estate, principal, issuer=identity.issuer, subject=subject, now=now
            )
        except (OidcLoginRefused, CodeRowForged, CodeRowAltered, CodeFromBeforeUpgrade) as exc:
            # recorded; a forged, edited or pre-upgrade login row keeps its own code
            record(store, None, False, exc.message, source=source, subject=subject)
            slots.failed()
            raise
        except StagewallError as exc:
            record(store, None, False, exc.message, source=source, subject=subject)
            slots.failed()
            raise OidcLoginRefused(exc.message, hint=exc.hint) from None
    if refuse is not None:
        try:
            refuse(principal)
        except StagewallError as exc:
            record(store, principal, False, exc.message, source=source, subject=subject)
            raise
    record(store, principal, True, "", source=source, subject=subject)
    return principal


def _take(store: Store, state: str, binding: str, now: datetime) -> LoginStart:
    """Burn the stored login this callback's ``state`` names; refuse anything else."""
    if not state or len(state) > 512:
        raise OidcLoginRefused("the callback carries no valid state")
    sealer = Sealer(store)
    row = take_keyed(store, sealer, identity_oidc_logins, "state_hash", OIDC_STATE, state, now)
    if row is None:
        raise OidcLoginRefused(
            "the state does not match a login started here, or that login was already "
            "finished (a forged, replayed or foreign callback)"
        )
    if parse(row.expires_at) <= now:
        raise OidcLoginRefused("the login took too long; start it again")
    sealer.check(
        OIDC_STATE, row, (row.id, row.state_hash, row.binding_hash, row.created_at, row.expires_at)
    )
    if not binding or not same(sealer.lookup(OIDC_BINDING, binding), row.binding_hash):
        raise OidcLoginRefused(
            "this browser did not start the login (the login cookie is missing or wrong)",
            hint="start the login again in this browser",
        )
    nonce, verifier = derived_secrets(binding, state)
    return LoginStart(
        url="",
        state=state,
        nonce=nonce,
        code_verifier=verifier,
        created_at=parse(row.created_at),
    )


__all__ = [
    "CALLBACK_PATH",
    "Started",
    "begin",
    "client_secret",
    "complete",
    "record",
    "relying_party_settings",
    "settings_for",
]
