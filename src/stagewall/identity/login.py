"""Local login: password, then the second factor; every checked attempt is an audit event.

A principal whose factor was reset logs in with the password alone and receives an
enrolment-only token: it can enrol a new factor for itself and nothing else.

Failed logins are counted in the store (:mod:`stagewall.identity.attempts`) under three
keys, each with :data:`~stagewall.identity.attempts.MAX_FAILURES` failures in
:data:`~stagewall.identity.attempts.FAILURE_WINDOW`:

* ``<principal>:principal`` — every failed login naming the principal, from anywhere;
* ``<address>:address`` — every failed login from the address (an IPv6 client's /64),
  whatever principal it names (password spraying);
* ``<principal>:factor`` — logins that gave the principal's *right password* and then a
  wrong or missing one-time code.

A spent principal or address key does not lock anybody out: it *guards* the key.
Until its failures expire, a login naming that principal or sent from that address is
checked only if it gives the password and a one-time code together, and it is let in
only if both are right; every other outcome is the same 429 (:class:`LoginGuarded`),
written nowhere, saying nothing about which part was wrong. So one client behind a
shared address (a proxy that is not a trusted proxy, a NAT) who fails on other
principals or on the very same one cannot keep a colleague with the right password and
code out, while a guess at a guarded key must hit the password and the current code at
once: a chance of at most 3 in 10**6 (the TOTP window) times that of a password guess.

A spent factor key refuses the principal everywhere, right code or not, with the same
answer as a wrong one: only someone who knows the password can spend it, the one case
where locking the account is right. Spending it is recorded and alerted.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from stagewall import mfa
from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.errors import (
    LoginGuarded,
    NotAuthenticated,
    RateLimited,
    StagewallError,
    UsageError,
)
from stagewall.estate import Estate
from stagewall.identity import _events as ev
from stagewall.identity.accounts import account_active, check_password
from stagewall.identity.attempts import (
    FAILURE_WINDOW,
    MAX_FAILURES,
    Attempt,
    address_key,
    take,
)
from stagewall.identity.tokens import TokenKind
from stagewall.store import Store

_GENERIC = "the principal, password or one-time code is wrong"
_GENERIC_HINT = (
    "check them and try again; after five wrong one-time codes the account refuses "
    "every code for five minutes"
)
_MINUTES = int(FAILURE_WINDOW.total_seconds() // 60)

Alerter = Callable[[str, str], None]
"""``alert(title, text)``: the server's alert sinks (the library cannot reach them)."""


@dataclass(frozen=True)
class _Try:
    """One login attempt: what was sent and where the server checks it."""

    store: Store
    estate: Estate
    principal: str
    password: str = field(repr=False)
    otp: str | None = field(repr=False)
    now: datetime
    source: str | None
    home: str | os.PathLike[str] | None
    refuse: Callable[[str], None] | None
    alert: Alerter | None


def _record(
    store: Store,
    principal: str,
    ok: bool,
    why: str,
    source: str | None,
    factor: str | None,
    guarded: str | None = None,
) -> None:
    details: dict[str, str | None] = {
        "method": "local",
        "factor": factor,
        "source_address": source,
        "reason": None if ok else why,
    }
    if guarded is not None:
        details["guarded"] = guarded
    AuditLog(store).append(
        AuditEvent(
            ev.LOGIN.code,
            Status.SUCCESS if ok else Status.FAILURE,
            principal[:128] or "unknown",
            f"local login of {principal[:128]!r} {'succeeded' if ok else 'failed'}"
            + ("" if ok else f": {why}"),
            resource=f"principal:{principal[:128]}",
            details=details,
        )
    )


def _spent(
    store: Store, key: str, principal: str, source: str | None, alert: Alerter | None
) -> None:
    """Record (and for a factor key, alert) that this failure spent ``key``'s budget."""
    name, kind = key.rsplit(":", 1)
    if kind == "factor":
        what = (
            f"{MAX_FAILURES} logins of {name!r} gave the right password and a wrong or no "
            f"one-time code within {_MINUTES} minutes: someone may know the password; "
            f"{name!r} cannot log in with a password until they are {_MINUTES} minutes old"
        )
    else:
        who = f"address {name}" if kind == "address" else f"principal {name!r}"
        what = (
            f"{MAX_FAILURES} failed logins for {who} within {_MINUTES} minutes: until they "
            f"expire, a login for {who} is checked only with its password and one-time "
            "code together"
        )
    AuditLog(store).append(
        AuditEvent(
            ev.LOGIN_GUARDED.code,
            Status.FAILURE,
            principal[:128] or "unknown",
            what,
            resource=f"{'address' if kind == 'address' else 'principal'}:{name}",
            details={"key": kind, "source_address": source, "failures": MAX_FAILURES},
        )
    )
    if alert is not None and kind == "factor":
        alert(f"repeated wrong one-time codes after the right password for {name}", what)


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
    alert: Alerter | None = None,
) -> TokenKind:
    """The kind of token the login earns; NotAuthenticated (audited) otherwise, or
    LoginGuarded (429) while the principal or address has spent its failures and the
    login does not carry the right password and one-time code (see the module's doc).

    ``refuse(principal)`` (the server's offboarding check) runs once the password and
    code are right and before the login is recorded: a StagewallError it raises is
    recorded as the login's failure (with its message as the reason) and raised, so a
    refused login never appears as a successful one. ``alert`` hears of a spent
    second-factor budget."""
    if not principal or not password:
        raise UsageError("give a principal and a password")
    t = _Try(store, estate, principal, password, otp, now, source, home, refuse, alert)
    keys = (f"{principal[:128]}:principal", f"{address_key(source)}:address")
    try:
        slots = take(store, keys, now=now)
    except RateLimited as spent:
        return _guarded(t, spent)
    try:
        return _login(t, slots)
    finally:
        slots.end()


def _refused(t: _Try, factor: str) -> None:
    if t.refuse is None:
        return
    try:
        t.refuse(t.principal)
    except StagewallError as exc:
        _record(t.store, t.principal, False, exc.message, t.source, factor)
        raise


def _second_factor(t: _Try) -> tuple[str | None, bool]:
    """After the right password: (None, _) if ``otp`` is right, else (why, counted) —
    counted is False when the factor key was already spent and nothing was checked."""
    try:
        code = take(t.store, (f"{t.principal[:128]}:factor",), now=t.now)
    except RateLimited:
        return (
            f"one-time codes are not checked: {MAX_FAILURES} were wrong or missing after "
            f"the right password within {_MINUTES} minutes",
            False,
        )
    why: str | None = None
    try:
        if not t.otp:
            why = "no one-time code"
        else:
            try:
                mfa.verify(
                    t.store,
                    t.principal,
                    t.otp,
                    home=t.home,
                    now=t.now,
                    purpose="login",
                    on_burn=code.give_back_in,
                )
            except StagewallError:
                why = "wrong one-time code"
        if why is not None:
            code.failed()
    finally:
        code.end()
    if code.counted and code.filled:
        _spent(t.store, next(iter(code.filled)), t.principal, t.source, t.alert)
    return why, True


def _login(t: _Try, slots: Attempt) -> TokenKind:
    def fail(why: str) -> NotAuthenticated:
        slots.failed()
        _record(t.store, t.principal, False, why, t.source, None)
        for key in sorted(slots.filled):
            _spent(t.store, key, t.principal, t.source, t.alert)
        return NotAuthenticated(_GENERIC, hint=_GENERIC_HINT)

    p = t.estate.principals.get(t.principal)
    password_ok = check_password(t.store, t.principal, t.password)
    if p is None or p.disabled or not password_ok:
        raise fail("bad principal or password")
    if not mfa.is_enrolled(t.store, t.principal):
        if not account_active(t.store, t.principal):
            raise fail("the account was never confirmed")
        _refused(t, "none (enrolment only)")
        _record(t.store, t.principal, True, "", t.source, "none (enrolment only)")
        return TokenKind.ENROL
    why, _ = _second_factor(t)
    if why is not None:
        raise fail(why)
    _refused(t, "totp")
    _record(t.store, t.principal, True, "", t.source, "totp")
    return TokenKind.API


def _guarded(t: _Try, spent: RateLimited) -> TokenKind:
    """A login while its principal or address key is spent: let in only with the right
    password and code; every other outcome is one answer that writes nothing (a flood
    of guesses adds no row) — except a wrong code after the right password, which only
    someone knowing the password can send and the factor key bounds."""
    guarded = spent.message.split(";", 1)[0]
    refusal = LoginGuarded(
        f"{guarded} within {_MINUTES} minutes: until they expire, only a login that gives "
        "the right password and one-time code together is checked"
    )
    if not t.otp:
        raise refusal
    p = t.estate.principals.get(t.principal)
    password_ok = check_password(t.store, t.principal, t.password)  # the same work either way
    if p is None or p.disabled or not password_ok or not mfa.is_enrolled(t.store, t.principal):
        raise refusal
    why, counted = _second_factor(t)
    if why is not None:
        if counted:
            _record(t.store, t.principal, False, f"{why} ({guarded})", t.source, None, guarded)
        raise refusal
    _refused(t, "totp")
    _record(t.store, t.principal, True, "", t.source, "totp", guarded)
    return TokenKind.API


__all__ = ["Alerter", "password_login"]
