"""Hand-offs between the CLI and a browser: ``login --browser`` and ``mfa step-up --browser``.

**Login (RFC 8252, native apps; RFC 7636 PKCE).** The CLI listens on a loopback
port (``http://127.0.0.1:PORT/callback``), makes a random ``state`` and a PKCE
verifier, and opens ``/cli/login?redirect_uri=…&state=…&code_challenge=…``. The
person signs in on the web (local account or OIDC) and confirms; the server records a
one-time code bound to the principal, the login method, the S256 challenge and the
redirect URI (table ``identity_cli_handoffs``, kind ``login``, two minutes) and sends
the browser to the loopback URL with the code and the state. The CLI checks the
state and redeems the code with its verifier for a personal token
(:func:`redeem_login`). A code works once, only with the verifier, only for the same
redirect URI; a redirect that is not a loopback address is refused before anything
is stored.

**Step-up.** The CLI's session asks for a step-up request (kind ``step-up``, five
minutes, bound to that session and its principal); the person opens its URL in a
browser signed in as the **same** principal and confirms with a passkey (or a
one-time code). The factor is checked by :func:`stagewall.identity.stepup.verify_step_up`
like every step-up, and the request's session gets the ordinary step-up window
(:func:`stagewall.identity.stepup.open_window_on`).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import delete, insert, select

from stagewall.errors import BrowserLoginRefused, BrowserStepUpRefused, UsageError
from stagewall.identity._codes import fmt, new_id, new_secret, parse, same
from stagewall.identity._codeseal import CLI_LOGIN, CLI_STEP_UP, Sealer, plain, refuse_unkeyed
from stagewall.identity._once import take_keyed
from stagewall.identity._tables import identity_cli_handoffs
from stagewall.identity.actor import LoginMethod
from stagewall.store import Store

LOGIN_TTL = timedelta(minutes=2)
STEP_UP_TTL = timedelta(minutes=5)
LOGIN = "login"
STEP_UP = "step-up"
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")
_VERIFIER = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of ``verifier`` (RFC 7636 §4.2)."""
    raw = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def loopback_redirect(uri: str) -> str:
    """``uri`` if it is ``http://127.0.0.1:PORT/path`` (or ``[::1]``), else UsageError.

    RFC 8252 §7.3: a native app receives the code on a loopback IP literal, never
    ``localhost`` (a name can resolve elsewhere) and never another host."""
    bad = UsageError(
        "redirect_uri must be http://127.0.0.1:PORT/PATH (or http://[::1]:PORT/PATH), the "
        "loopback listener of `stagewall login --browser`",
        hint="start the sign-in from the terminal with `stagewall login --browser`",
    )
    if len(uri) > 256:
        raise bad
    parts = urlsplit(uri)
    try:
        ip = ipaddress.ip_address(parts.hostname or "")
        port = parts.port
    except ValueError:
        raise bad from None
    # The listener's origin goes into the page's CSP (form-action) and the Location of the
    # answer: its host must be the bare IP literal, written as Python writes it. An IPv6
    # zone ("[::1%x; frame-ancestors *]", which ip_address accepts) or any other spelling
    # would be copied into the header as directives of its own.
    literal = f"[{ip}]" if ip.version == 6 else str(ip)
    if (
        parts.scheme != "http"
        or not ip.is_loopback
        or getattr(ip, "scope_id", None)
        or port is None
        or parts.netloc != f"{literal}:{port}"
        or any(c.isspace() or not c.isprintable() for c in uri)
        or parts.username is not None
        or parts.password is not None
        or parts.query
        or parts.fragment
        or not parts.path.startswith("/")
    ):
        raise bad
    return uri


def check_challenge(challenge: str, method: str) -> str:
    if method != "S256" or not _CHALLENGE.match(challenge):
        raise UsageError(
            "code_challenge must be a PKCE S256 challenge (43 base64url characters) with "
            "code_challenge_method=S256"
        )
    return challenge


def approve_login(
    store: Store,
    principal: str,
    method: LoginMethod,
    *,
    challenge: str,
    redirect_uri: str,
    now: datetime,
) -> str:
    """A one-time code for the terminal that started this sign-in (the secret, once)."""
    code = new_secret("swa_")
    sealer = Sealer(store)
    values: dict[str, str | None] = {
        "id": new_id("h"),
        "kind": LOGIN,
        "secret_hash": sealer.lookup(CLI_LOGIN, code),
        "principal": principal,
        "method": method.value,
        "session_id": None,
        "code_challenge": challenge,
        "redirect_uri": redirect_uri,
        "created_at": fmt(now),
        "expires_at": fmt(now + LOGIN_TTL),
        "approved_at": fmt(now),
    }
    with store.transaction() as conn:
        conn.execute(
            insert(identity_cli_handoffs).values(
                **values, row_mac=sealer.seal(CLI_LOGIN, values.values())
            )
        )
    return code


def _fields(row: Any) -> tuple[str | None, ...]:
    """What a hand-off's seal covers: the principal, method or session it is for, the
    PKCE challenge and redirect it is bound to, and its times (in column order)."""
    return (
        row.id,
        row.kind,
        row.secret_hash,
        row.principal,
        row.method,
        row.session_id,
        row.code_challenge,
        row.redirect_uri,
        row.created_at,
        row.expires_at,
        row.approved_at,
    )


def redeem_login(
    store: Store, code: str, verifier: str, redirect_uri: str, *, now: datetime
) -> tuple[str, LoginMethod]:
    """The principal and login method behind ``code``; burnt on first use, whatever happens."""
    refused = BrowserLoginRefused(
        "the sign-in code is unknown, used, expired, or not this terminal's"
    )
    if not code.startswith("swa_") or len(code) > 128 or not _VERIFIER.match(verifier):
        raise refused
    sealer = Sealer(store)
    row = take_keyed(store, sealer, identity_cli_handoffs, "secret_hash", CLI_LOGIN, code, now)
    if row is None or row.kind != LOGIN or parse(row.expires_at) <= now:
        raise refused
    sealer.check(CLI_LOGIN, row, _fields(row))
    if not same(s256(verifier), str(row.code_challenge)) or not same(
        redirect_uri, str(row.redirect_uri)
    ):
        raise BrowserLoginRefused(
            "the code verifier or the redirect URI does not match the sign-in that made "
            "this code; the code is now spent"
        )
    return str(row.principal), LoginMethod(row.method)


@dataclass(frozen=True)
class StepUpRequest:
    id: str
    secret: str
    expires_at: datetime


def request_step_up(
    store: Store, principal: str, session_id: str, *, now: datetime
) -> StepUpRequest:
    """A step-up request for the CLI session ``session_id`` of ``principal``."""
    req = StepUpRequest(new_id("h"), new_secret("swu_"), now + STEP_UP_TTL)
    sealer = Sealer(store)
    values: dict[str, str | None] = {
        "id": req.id,
        "kind": STEP_UP,
        "secret_hash": sealer.lookup(CLI_STEP_UP, req.secret),
        "principal": principal,
        "method": None,
        "session_id": session_id,
        "code_challenge": None,
        "redirect_uri": None,
        "created_at": fmt(now),
        "expires_at": fmt(req.expires_at),
        "approved_at": None,
    }
    with store.transaction() as conn:
        conn.execute(
            insert(identity_cli_handoffs).values(
                **values, row_mac=sealer.seal(CLI_STEP_UP, values.values())
            )
        )
    return req


@dataclass(frozen=True)
class PendingStepUp:
    id: str
    principal: str
    session_id: str
    expires_at: datetime


def pending_step_up(store: Store, secret: str, principal: str, *, now: datetime) -> PendingStepUp:
    """The open step-up request behind ``secret``, if ``principal`` may confirm it.

    Refused (BrowserStepUpRefused): unknown, used or expired, or made by another
    principal's terminal than the person signed in to the browser."""
    row = None
    sealer = Sealer(store)
    if secret.startswith("swu_") and len(secret) <= 128:
        by_hash = select(identity_cli_handoffs).where(
            identity_cli_handoffs.c.secret_hash == sealer.lookup(CLI_STEP_UP, secret)
        )
        with store.read() as conn:
            row = conn.execute(by_hash).first()
            if row is None:
                unkeyed = identity_cli_handoffs.c.secret_hash == plain(secret)
                refuse_unkeyed(
                    CLI_STEP_UP, conn.execute(select(identity_cli_handoffs).where(unkeyed)).first()
                )
    if row is None or row.kind != STEP_UP or row.used_at is not None:
        raise BrowserStepUpRefused("this step-up request is unknown or was already confirmed")
    if parse(row.expires_at) <= now:
        raise BrowserStepUpRefused("this step-up request expired")
    sealer.check(CLI_STEP_UP, row, _fields(row))
    if row.principal != principal:
        raise BrowserStepUpRefused(
            f"this step-up request belongs to a terminal of {row.principal!r}, and this browser "
            f"is signed in as {principal!r}; nobody steps up for another principal"
        )
    return PendingStepUp(row.id, str(row.principal), str(row.session_id), parse(row.expires_at))


def confirm_step_up(store: Store, secret: str, *, now: datetime) -> None:
    """Burn the request (after its factor was verified); refused if it was confirmed
    already, or if its row no longer matches its seal (SW942)."""
    sealer = Sealer(store)
    table = identity_cli_handoffs
    row = take_keyed(store, sealer, table, "secret_hash", CLI_STEP_UP, secret, now)
    if row is None:
        raise BrowserStepUpRefused("this step-up request was already confirmed")
    sealer.check(CLI_STEP_UP, row, _fields(row))


def step_up_state(store: Store, request_id: str, session_id: str, *, now: datetime) -> str | None:
    """``pending``, ``confirmed`` or ``expired`` for the session that made the request."""
    with store.read() as conn:
        row = conn.execute(
            select(identity_cli_handoffs)
            .where(identity_cli_handoffs.c.id == request_id)
            .where(identity_cli_handoffs.c.kind == STEP_UP)
        ).first()
    if row is None or not same(str(row.session_id), session_id):
        return None
    if row.used_at is not None:
        return "confirmed"
    return "expired" if parse(row.expires_at) <= now else "pending"


def expire(store: Store, *, now: datetime) -> int:
    """Forget hand-offs that ended (codes redeemed or expired, requests past their time)."""
    with store.transaction() as conn:
        return int(
            conn.execute(
                delete(identity_cli_handoffs).where(identity_cli_handoffs.c.expires_at < fmt(now))
            ).rowcount
        )


__all__ = [
    "LOGIN_TTL",
    "STEP_UP_TTL",
    "PendingStepUp",
    "StepUpRequest",
    "approve_login",
    "check_challenge",
    "confirm_step_up",
    "expire",
    "loopback_redirect",
    "pending_step_up",
    "redeem_login",
    "request_step_up",
    "s256",
    "step_up_state",
]
