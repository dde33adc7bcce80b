"""Local login: password, then the second factor; every attempt is an audit event.

A principal whose factor was reset logs in with the password alone and receives an
enrolment-only token: it can enrol a new factor for itself and nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import datetime

from stagewall import mfa
from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.errors import NotAuthenticated, StagewallError, UsageError
from stagewall.estate import Estate
from stagewall.identity import _events as ev
from stagewall.identity.accounts import account_active, check_password
from stagewall.identity.attempts import Attempt, attempt
from stagewall.identity.tokens import TokenKind
from stagewall.store import Store

_GENERIC = "the principal, password or one-time code is wrong"


def _record(
    store: Store, principal: str, ok: bool, why: str, source: str | None, factor: str | None
) -> None:
    AuditLog(store).append(
        AuditEvent(
            ev.LOGIN.code,
            Status.SUCCESS if ok else Status.FAILURE,
            principal[:128] or "unknown",
            f"local login of {principal[:128]!r} {'succeeded' if ok else 'failed'}"
            + ("" if ok else f": {why}"),
            resource=f"principal:{principal[:128]}",
            details={
                "method": "local",
                "factor": factor,
                "source_address": source,
                "reason": None if ok else why,
            },
        )
    )


def password_login(
    store: Store,
    estate: Estate,
    principal: str,
    password: str,
    otp: str | None,
    *,
    now: datetime,
    source: str | None,
    home: str | os.PathLike[str] | None,
    refuse: Callable[[str], None] | None = None,
) -> TokenKind:
    """The kind of token the login earns; NotAuthenticated (audited) otherwise.

    ``refuse(principal)`` (the server's offboarding check) runs once the password and
    code are right and before the login is recorded: a StagewallError it raises is
    recorded as the login's failure (with its message as the reason) and raised, so a
    refused login never appears as a successful one."""
    if not principal or not password:
        raise UsageError("give a principal and a password")
    keys = (f"{principal[:128]}:principal", f"{source}:address")
    with attempt(store, *keys, now=now) as slots:
        return _login(store, estate, principal, password, otp, slots, now, source, home, refuse)


def _refused(
    store: Store,
    principal: str,
    source: str | None,
    factor: str,
    refuse: Callable[[str], None] | None,
) -> None:
    if refuse is None:
        return
    try:
        refuse(principal)
    except StagewallError as exc:
        _record(store, principal, False, exc.message, source, factor)
        raise


def _login(
    store: Store,
    estate: Estate,
    principal: str,
    password: str,
    otp: str | None,
    slots: Attempt,
    now: datetime,
    source: str | None,
    home: str | os.PathLike[str] | None,
    refuse: Callable[[str], None] | None = None,
) -> TokenKind:
    def fail(why: str) -> NotAuthenticated:
        slots.failed()
        _record(store, principal, False, why, source, None)
        return NotAuthenticated(_GENERIC, hint="check them and try again")

    p = estate.principals.get(principal)
    password_ok = check_password(store, principal, password)
    if p is None or p.disabled or not password_ok:
        raise fail("bad principal or password")
    if not mfa.is_enrolled(store, principal):
        if not account_active(store, principal):
            raise fail("the account was never confirmed")
        _refused(store, principal, source, "none (enrolment only)", refuse)
        _record(store, principal, True, "", source, "none (enrolment only)")
        return TokenKind.ENROL
    if not otp:
        raise fail("no one-time code")
    try:
        mfa.verify(store, principal, otp, home=home, now=now, purpose="login")
    except StagewallError:
        raise fail("wrong one-time code") from None
    _refused(store, principal, source, "totp", refuse)
    _record(store, principal, True, "", source, "totp")
    return TokenKind.API


__all__ = ["password_login"]
