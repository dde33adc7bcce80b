"""TOTP enrolment and verification with replay protection.

* ``enroll`` creates a random base32 secret, stores it sealed (AES-GCM), and
  returns it once with its ``otpauth://`` URI. A principal enrols once; a new
  secret needs ``reset`` by another enrolled internal principal.
* ``verify`` accepts the code of the current 30-second step or one step either
  side, compared in constant time, and atomically records the matched step as
  used: ``UPDATE ... WHERE last_step < step`` succeeds in exactly one of any
  number of concurrent verifications, so a code can never be used twice.

Codes and secrets never reach logs, errors or the audit log; the audit records
method, time and outcome.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyotp
from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from stagewall.audit import AuditEvent, AuditLog, EventType, Status, register_event_type
from stagewall.audit._tables import audit_events
from stagewall.errors import AccessDenied, ConfigError, FactorNotBound, UsageError
from stagewall.estate import Estate
from stagewall.identity.actor import StepUp, current_actor, set_current_actor
from stagewall.mfa._crypto import key_id, load_key, open_sealed, seal
from stagewall.mfa._tables import mfa_enrolments
from stagewall.store import Store

METHOD = "totp"
STEP_SECONDS = 30
WINDOW = 1
_CODE = re.compile(r"[0-9]{6}")

EV_ENROLLED = register_event_type(
    EventType("mfa.enrolled", 3001, "Account Change", 10, "MFA Factor Enable", "TOTP enrolled")
)
EV_RESET = register_event_type(
    EventType("mfa.reset", 3001, "Account Change", 11, "MFA Factor Disable", "TOTP removed")
)
EV_VERIFIED = register_event_type(
    EventType("mfa.verified", 3002, "Authentication", 99, "MFA Check", "a TOTP code was checked")
)


@dataclass(frozen=True)
class Enrolment:
    """Shown once: the secret and its provisioning URI."""

    principal: str
    secret: str = field(repr=False)
    uri: str = field(repr=False)
    key_id: str


@dataclass(frozen=True)
class MfaEvidence:
    """What a review records: method and time of the check, never the code."""

    principal: str
    method: str
    time: str
    step: int

    def as_dict(self) -> dict[str, str | int]:
        return {"method": self.method, "time": self.time, "step": self.step}


def _now_text(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def is_enrolled(store: Store, principal: str) -> bool:
    with store.read() as conn:
        row = conn.execute(
            select(mfa_enrolments.c.principal).where(mfa_enrolments.c.principal == principal)
        ).first()
    return row is not None


def enroll(
    store: Store,
    estate: Estate,
    principal: str,
    *,
    home: str | os.PathLike[str] | None = None,
    issuer: str = "stagewall",
    now: datetime | None = None,
    conn: Connection | None = None,
) -> Enrolment:
    """Enrol ``principal`` (declared, not disabled) for TOTP; refused if already enrolled.

    With ``conn`` the rows and their audit event are written in the caller's transaction
    (an invitation's acceptance: the factor and the quarantine come together or not at all).
    """
    p = estate.principals.get(principal)
    if p is None:
        raise ConfigError(
            f"principal {principal!r} is not declared in the estate file",
            hint="add it under principals: in stagewall.yaml first",
        )
    if p.disabled:
        raise AccessDenied(f"principal {principal!r} is disabled and cannot enrol MFA")
    key = load_key(home, create=True)
    secret = pyotp.random_base32()
    sealed = seal(key, principal, secret)
    when = _now_text(now or datetime.now(UTC))
    log = AuditLog(store)
    try:
        with store.transaction() if conn is None else nullcontext(conn) as tx:
            tx.execute(
                insert(mfa_enrolments).values(
                    principal=principal,
                    method=METHOD,
                    secret_ct=sealed,
                    key_id=key_id(key),
                    created_at=when,
                    last_step=None,
                )
            )
            log.append(
                AuditEvent(
                    EV_ENROLLED.code,
                    Status.SUCCESS,
                    principal,
                    f"{principal} enrolled TOTP",
                    resource=f"principal:{principal}",
                    # binds the row to this event: a sealed secret put back from an
                    # older backup (a factor since reset) does not match (see verify)
                    details={
                        "method": METHOD,
                        "key_id": key_id(key),
                        "sealed_sha256": _digest(sealed),
                    },
                ),
                conn=tx,
            )
    except SAIntegrityError:
        raise AccessDenied(
            f"principal {principal!r} is already enrolled",
            hint="to replace the secret, another enrolled internal principal runs "
            f"`stagewall mfa reset {principal} --as THEM --otp CODE`",
        ) from None
    uri = pyotp.TOTP(secret).provisioning_uri(name=principal, issuer_name=issuer)
    return Enrolment(principal, secret, uri, key_id(key))


def _digest(sealed: bytes) -> str:
    return hashlib.sha256(sealed).hexdigest()


# What removes a TOTP factor: a reset by another person, or the account's retirement.
_REMOVED = ("mfa.reset", "identity.account.retired")
_FACTOR_EVENTS = (
    select(audit_events.c.idx, audit_events.c.code)
    .where(audit_events.c.resource == bindparam("resource"))
    .where(audit_events.c.code.in_((EV_ENROLLED.code, *_REMOVED)))
    .where(audit_events.c.status == Status.SUCCESS.value)
    .order_by(audit_events.c.idx.desc())
)


def _unbound_enrolment(store: Store, principal: str, sealed: bytes) -> str | None:
    """Why ``principal``'s enrolment row is not the one the log last recorded (None: it is).

    The log, not the row, is the authority: the newest successful ``mfa.enrolled`` event
    must come after every reset or retirement, and (for enrolments that record it) name
    the SHA-256 of exactly this sealed secret. A row put back from an older backup, or
    another sealed secret of the same principal copied in, is refused.
    """
    log = AuditLog(store)
    with store.read() as conn:
        enrolled: int | None = None
        for idx, code in conn.execute(_FACTOR_EVENTS, {"resource": f"principal:{principal}"}):
            if code != EV_ENROLLED.code:
                return (
                    f"audit event #{idx} ({code}) removed this factor and no enrolment "
                    "was recorded since"
                )
            enrolled = int(idx)
            break
        if enrolled is None:
            return "the log records no enrolment of this factor"
        event = log.event_ref(enrolled, conn=conn)
    if event is None or event.code != EV_ENROLLED.code:
        return f"audit event #{enrolled} (its enrolment) is missing or was altered"
    recorded = event.details.get("sealed_sha256")
    if recorded is None:
        return _digestless(store, enrolled)
    if recorded != _digest(sealed):
        return f"it is not the factor audit event #{enrolled} enrolled"
    return None


# The enrolments before ``idx``, newest first: one that records the digest means this
# server recorded it by then.
_EARLIER_ENROLMENTS = (
    select(audit_events.c.idx, audit_events.c.canonical)
    .where(audit_events.c.code == EV_ENROLLED.code)
    .where(audit_events.c.idx < bindparam("idx"))
    .order_by(audit_events.c.idx.desc())
)


def _digestless(store: Store, enrolled: int) -> str | None:
    """Why the enrolment event #``enrolled``, which records no digest of its sealed
    secret, is not the server's (None: it may be, an enrolment from before the digest).

    The server records the digest in every enrolment since it learnt to: a digest-less
    enrolment *after* one that records it was not written by this server but appended
    to the log by someone writing the store, to vouch for an old sealed secret of the
    principal put back in the row (a phone lost before a reset). Enrolments from before
    the digest stay accepted (refusing them would lock every such person out of signing
    in); people re-enrol to bind theirs (docs/mfa.md)."""
    with store.read() as conn:
        for idx, raw in conn.execute(_EARLIER_ENROLMENTS, {"idx": enrolled}):
            if "sealed_sha256" in json.loads(bytes(raw)).get("unmapped", {}):
                return (
                    f"its enrolment, audit event #{enrolled}, records no digest of the sealed "
                    f"secret, which this server has recorded since audit event #{idx}"
                )
    return None


def _record_failure(store: Store, principal: str, reason: str) -> None:
    AuditLog(store).append(
        AuditEvent(
            EV_VERIFIED.code,
            Status.FAILURE,
            principal,
            f"MFA check for {principal} failed: {reason}",
            resource=f"principal:{principal}",
            details={"method": METHOD, "reason": reason},
        )
    )


# Built once (every step-up runs them; building costs more than running them).
_SEALED = select(mfa_enrolments.c.secret_ct, mfa_enrolments.c.last_step).where(
    mfa_enrolments.c.principal == bindparam("principal")
)
_BURN = (
    update(mfa_enrolments)
    .where(mfa_enrolments.c.principal == bindparam("who"))
    .where(
        (mfa_enrolments.c.last_step.is_(None)) | (mfa_enrolments.c.last_step < bindparam("step"))
    )
    .values(last_step=bindparam("step"))
)


def verify(
    store: Store,
    principal: str,
    code: str,
    *,
    home: str | os.PathLike[str] | None = None,
    now: datetime | None = None,
    purpose: str = "",
    on_burn: Callable[[Connection], None] | None = None,
) -> MfaEvidence:
    """Check ``code`` for ``principal`` and burn its time step; AccessDenied otherwise.

    ``on_burn`` runs inside the transaction that burns the step, only when it did (so
    what it writes commits with the burn, or not at all)."""
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise UsageError("the one-time code must be exactly 6 digits (--otp 123456)")
    at = now or datetime.now(UTC)
    with store.read() as conn:
        row = conn.execute(_SEALED, {"principal": principal}).first()
    if row is None:
        _record_failure(store, principal, "not enrolled")
        raise AccessDenied(
            f"principal {principal!r} has no MFA enrolment",
            hint=f"run `stagewall mfa enroll {principal}` and add the secret to an authenticator",
        )
    secret = open_sealed(load_key(home), principal, bytes(row[0]))
    unbound = _unbound_enrolment(store, principal, bytes(row[0]))
    if unbound is not None:
        _record_failure(store, principal, "enrolment not bound to the audit log")
        raise FactorNotBound(
            f"the TOTP enrolment of {principal!r} in the store is refused: {unbound} (the "
            "row was put back from an older backup or written in the store)"
        )
    totp = pyotp.TOTP(secret)
    current = totp.timecode(at)
    matched: int | None = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            matched = step
    if matched is None:
        _record_failure(store, principal, "wrong code")
        raise AccessDenied(f"the one-time code for {principal!r} is wrong or expired")
    when = _now_text(at)
    with store.transaction() as conn:
        used = conn.execute(_BURN, {"who": principal, "step": matched}).rowcount
        if used == 1:
            if on_burn is not None:
                on_burn(conn)
            AuditLog(store).append(
                AuditEvent(
                    EV_VERIFIED.code,
                    Status.SUCCESS,
                    principal,
                    f"MFA check for {principal} passed" + (f" ({purpose})" if purpose else ""),
                    resource=f"principal:{principal}",
                    details={"method": METHOD, "purpose": purpose},
                ),
                conn=conn,
            )
    if used != 1:
        _record_failure(store, principal, "code already used")
        raise AccessDenied(
            f"this one-time code for {principal!r} was already used",
            hint="wait for the next code from the authenticator (every 30 seconds)",
        )
    _note_step_up(principal, at)
    return MfaEvidence(principal, METHOD, when, matched)


def _note_step_up(principal: str, at: datetime) -> None:
    """Inside a server request, later audit events of it carry the verified factor."""
    actor = current_actor()
    if actor is not None and actor.principal == principal:
        set_current_actor(actor.with_step_up(StepUp(METHOD, at)))


def reset(
    store: Store,
    estate: Estate,
    principal: str,
    *,
    actor: str,
    code: str | None = None,
    home: str | os.PathLike[str] | None = None,
    now: datetime | None = None,
    webauthn: str | Mapping[str, Any] | None = None,
) -> None:
    """Remove ``principal``'s factors (TOTP and passkeys); ``actor`` steps up, another internal.

    ``actor`` proves a fresh second factor of its own (code, passkey or open window).
    """
    if actor == principal:
        raise AccessDenied("a principal cannot reset its own MFA enrolment")
    if not estate.is_internal(actor):
        raise AccessDenied(f"{actor!r} is not an internal, enabled principal; only they reset MFA")
    from stagewall.identity import passkeys, stepup
    from stagewall.identity._codes import fmt
    from stagewall.identity.accounts import (
        RESET_QUARANTINE,
        factor_reset_problem,
        record_factor_reset_on,
    )
    from stagewall.identity.tokens import revoke_all_on

    # A principal whose own factor was just reset (perhaps taken over by whoever asked for
    # it) does not reset others: that would spread the takeover past the quarantine.
    when = now or datetime.now(UTC)
    quarantined = factor_reset_problem(store, actor, when)
    if quarantined is not None:
        raise AccessDenied(quarantined, hint="another internal person resets the factor")
    has_totp = is_enrolled(store, principal)
    if not has_totp and not passkeys.has_passkey(store, principal):
        raise UsageError(f"principal {principal!r} is not enrolled, so there is nothing to reset")
    stepup.verify_step_up(
        store,
        actor,
        stepup.factor_of(code, webauthn),
        purpose=f"mfa reset of {principal}",
        now=when,
        settings=estate.server,
        home=home,
    )
    # One transaction: the factors go, the quarantine row and the revocation of every
    # login and step-up window come, and the audit event is written, or none of it is.
    # A crash between separate steps would leave a reset principal with live tokens or
    # without the quarantine.
    with store.transaction() as conn:
        removed = passkeys.remove_all(conn, principal)
        gone = conn.execute(
            mfa_enrolments.delete().where(mfa_enrolments.c.principal == principal)
        ).rowcount
        if gone != 1 and not removed:
            raise UsageError(f"principal {principal!r} is not enrolled")
        stepup.close_windows_on(conn, principal)
        record_factor_reset_on(conn, principal, reset_by=actor, now=when)
        revoked = revoke_all_on(conn, principal, now=when, audit=AuditLog(store), by=actor)
        AuditLog(store).append(
            AuditEvent(
                EV_RESET.code,
                Status.SUCCESS,
                actor,
                f"{actor} reset the MFA enrolment of {principal}",
                resource=f"principal:{principal}",
                details={
                    "method": METHOD,
                    "code_factor_removed": gone == 1,
                    "passkeys_removed": removed,
                    "logins_revoked": revoked,
                    "quarantined_until": fmt(when + RESET_QUARANTINE),
                },
            ),
            conn=conn,
        )
