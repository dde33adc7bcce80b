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

import hmac
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyotp
from sqlalchemy import Connection, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from stagewall.audit import AuditEvent, AuditLog, EventType, Status, register_event_type
from stagewall.errors import AccessDenied, ConfigError, UsageError
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
) -> Enrolment:
    """Enrol ``principal`` (declared, not disabled) for TOTP; refused if already enrolled."""
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
    when = _now_text(now or datetime.now(UTC))
    log = AuditLog(store)
    try:
        with store.transaction() as conn:
            conn.execute(
                insert(mfa_enrolments).values(
                    principal=principal,
                    method=METHOD,
                    secret_ct=seal(key, principal, secret),
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
                    details={"method": METHOD, "key_id": key_id(key)},
                ),
                conn=conn,
            )
    except SAIntegrityError:
        raise AccessDenied(
            f"principal {principal!r} is already enrolled",
            hint="to replace the secret, another enrolled internal principal runs "
            f"`stagewall mfa reset {principal} --as THEM --otp CODE`",
        ) from None
    uri = pyotp.TOTP(secret).provisioning_uri(name=principal, issuer_name=issuer)
    return Enrolment(principal, secret, uri, key_id(key))


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
    from stagewall.identity.accounts import factor_reset_problem

    # A principal whose own factor was just reset (perhaps taken over by whoever asked for
    # it) does not reset others: that would spread the takeover past the quarantine.
    quarantined = factor_reset_problem(store, actor, now or datetime.now(UTC))
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
        now=now or datetime.now(UTC),
        settings=estate.server,
        home=home,
    )
    stepup.close_windows(store, principal)
    with store.transaction() as conn:
        removed = passkeys.remove_all(conn, principal)
        gone = conn.execute(
            mfa_enrolments.delete().where(mfa_enrolments.c.principal == principal)
        ).rowcount
        if gone != 1 and not removed:
            raise UsageError(f"principal {principal!r} is not enrolled")
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
                },
            ),
            conn=conn,
        )
