"""Passkeys in the store: registration and assertion ceremonies bound to one session.

Only public data is stored (credential id, COSE public key, signature counter,
AAGUID, transports). Challenges are kept server-side: random, single-use, valid for
:data:`CHALLENGE_TTL`, and bound to the principal *and* the session or token that
asked for them, so an assertion made for one login is worthless to another.
The challenge is consumed before the response is checked: a failed attempt burns it.
Each challenge row carries ``row_mac`` under the server's token key (stepupbind_0001):
a challenge someone wrote or edited in the store is refused (SW871) and reported.
Burning a challenge appends ``identity.webauthn.challenge_used`` in the same
transaction: a spent row set back to unused in the store (its old seal still verifies)
is refused (SW947) and reported, since the log, not ``used_at``, says it was spent.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, literal, select, update
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from stagewall.audit import (
    AuditEvent,
    AuditLog,
    EventType,
    Status,
    first_recorded,
    register_event_type,
)
from stagewall.audit._tables import audit_events
from stagewall.errors import (
    AuthenticationFailed,
    AuthenticatorCloned,
    ChallengeReplayed,
    ChallengeRowRefused,
    FactorNotBound,
    FactorRegistrationRefused,
    PasskeyFromBeforeDigest,
    StagewallError,
    StepUpRefused,
    UsageError,
    WebauthnNotConfigured,
)
from stagewall.estate.models import ServerSettings, WebauthnSettings
from stagewall.identity import webauthn as wa
from stagewall.identity._codes import fmt, new_id, parse, same
from stagewall.identity._seal import RefusedRow, row_mac, token_key
from stagewall.identity._tables import (
    identity_webauthn_challenges,
    identity_webauthn_credentials,
)
from stagewall.identity.actor import current_actor
from stagewall.store import Store

FACTOR = "webauthn"
CHALLENGE_TTL = timedelta(minutes=5)
_CHALLENGE_LABEL = "webauthn challenge"
_SPENT_PREFIX = "webauthn-challenge:"  # resource of a challenge's challenge_used event
_log = logging.getLogger("stagewall.identity")
REGISTRATION = "registration"
ASSERTION = "assertion"
MAX_PER_PRINCIPAL = 10

EV_REGISTERED = register_event_type(
    EventType(
        "identity.webauthn.registered",
        3001,
        "Account Change",
        10,
        "MFA Factor Enable",
        "a passkey or security key was registered",
    )
)
EV_REMOVED = register_event_type(
    EventType(
        "identity.webauthn.removed",
        3001,
        "Account Change",
        11,
        "MFA Factor Disable",
        "a passkey or security key was removed by its owner",
    )
)
EV_CHALLENGE_USED = register_event_type(
    EventType(
        "identity.webauthn.challenge_used",
        3002,
        "Authentication",
        99,
        "Other",
        "a WebAuthn challenge was spent (whatever the response): the record that keeps it "
        "spent if its store row is later set back to unused",
    )
)
EV_ASSERTION = register_event_type(
    EventType(
        "identity.webauthn.assertion",
        3002,
        "Authentication",
        99,
        "MFA Check",
        "a passkey assertion was checked",
    )
)


@dataclass(frozen=True)
class Passkey:
    """A registered credential as listed to its owner (public data only)."""

    id: str
    name: str
    created_at: str
    last_used_at: str | None
    sign_count: int
    aaguid: str
    backed_up: bool
    suspended_at: str | None = None


def relying_party(settings: ServerSettings) -> WebauthnSettings:
    """The configured relying party, or SW840: WebAuthn is never used with a guessed RP."""
    if settings.webauthn is None:
        raise WebauthnNotConfigured(
            "WebAuthn is not configured on this server (server.webauthn is missing)"
        )
    return settings.webauthn


def user_handle(principal: str) -> bytes:
    """The WebAuthn user id of a principal: stable, opaque, not the name itself."""
    return hashlib.sha256(b"stagewall-webauthn-user\x00" + principal.encode()).digest()[:16]


def _origin(rp: WebauthnSettings) -> str | list[str]:
    return rp.origins[0] if len(rp.origins) == 1 else list(rp.origins)


def _rows(store: Store, principal: str) -> list[Any]:
    with store.read() as conn:
        return list(
            conn.execute(
                select(identity_webauthn_credentials)
                .where(identity_webauthn_credentials.c.principal == principal)
                .order_by(identity_webauthn_credentials.c.created_at)
            )
        )


def has_passkey(store: Store, principal: str) -> bool:
    return bool(_rows(store, principal))


def list_passkeys(store: Store, principal: str) -> list[Passkey]:
    return [
        Passkey(
            r.id,
            r.name,
            r.created_at,
            r.last_used_at,
            r.sign_count,
            r.aaguid,
            bool(r.backed_up),
            r.suspended_at,
        )
        for r in _rows(store, principal)
    ]


def remove(store: Store, principal: str, passkey_id: str, *, keep_one: bool) -> None:
    """Delete one of ``principal``'s own passkeys (the caller has stepped up).

    ``keep_one``: refuse to remove the principal's last factor.
    """
    rows = _rows(store, principal)
    mine = [r for r in rows if r.id == passkey_id]
    if not mine:
        raise UsageError(f"you have no passkey {passkey_id!r}")
    if keep_one and len(rows) == 1:
        raise FactorRegistrationRefused(
            "this is your only second factor; register another before removing it",
            hint="register a new passkey (or have TOTP) first",
        )
    with store.transaction() as conn:
        conn.execute(
            delete(identity_webauthn_credentials)
            .where(identity_webauthn_credentials.c.id == passkey_id)
            .where(identity_webauthn_credentials.c.principal == principal)
        )
        AuditLog(store).append(
            AuditEvent(
                EV_REMOVED.code,
                Status.SUCCESS,
                principal,
                f"{principal} removed passkey {mine[0].name!r}",
                resource=f"principal:{principal}",
                details={"passkey": passkey_id, "name": mine[0].name},
            ),
            conn=conn,
        )


def remove_own(
    store: Store,
    principal: str,
    passkey_id: str,
    *,
    otp: str | None,
    webauthn: str | Mapping[str, Any] | None,
    now: datetime,
    settings: ServerSettings,
    home: str | os.PathLike[str] | None = None,
) -> None:
    """``principal`` removes one of their own passkeys (the API's DELETE and the web page).

    Refused, recorded and before any code is used: a passkey that is not theirs, and
    their last second factor (no other passkey and no TOTP). Then the step-up (a code,
    a passkey sent with the request, never the open window), then ``remove``.
    """
    from stagewall.identity.stepup import factor_of, verify_step_up, window_not_enough
    from stagewall.mfa import is_enrolled

    passkey_id = passkey_id[:64]
    rows = _rows(store, principal)
    problem: StagewallError | None = None
    if not any(r.id == passkey_id for r in rows):
        problem = UsageError(
            f"you have no passkey {passkey_id!r}",
            hint="your passkeys are listed on /security (GET /api/v1/mfa/webauthn/credentials)",
        )
    elif len(rows) == 1 and not is_enrolled(store, principal):
        problem = FactorRegistrationRefused(
            "this is your only second factor; register another before removing it",
            hint="register a new passkey (or have TOTP) first",
        )
    if problem is not None:
        AuditLog(store).append(
            AuditEvent(
                EV_REMOVED.code,
                Status.FAILURE,
                principal,
                f"{principal} may not remove passkey {passkey_id!r}: {problem.message}",
                resource=f"principal:{principal}",
                details={"passkey": passkey_id, "error_code": problem.code},
            )
        )
        raise problem
    factor = factor_of(otp, webauthn)
    if factor is None:
        # a factor sent now, never an open window: a session held by someone else for
        # those 120 s must not strip the person's other passkeys
        raise window_not_enough(f"remove passkey {passkey_id}")
    verify_step_up(
        store,
        principal,
        factor,
        purpose=f"remove passkey {passkey_id}",
        now=now,
        settings=settings,
        home=home,
    )
    remove(store, principal, passkey_id, keep_one=not is_enrolled(store, principal))


def remove_all(conn: Connection, principal: str) -> int:
    """Delete every passkey of ``principal`` (factor reset, in the caller's transaction)."""
    return int(
        conn.execute(
            delete(identity_webauthn_credentials).where(
                identity_webauthn_credentials.c.principal == principal
            )
        ).rowcount
    )


def _save_challenge(
    store: Store, challenge: bytes, *, purpose: str, principal: str, session_id: str, now: datetime
) -> None:
    with store.transaction() as conn:
        # Expired challenges are garbage: drop them as new ones are made.
        conn.execute(
            delete(identity_webauthn_challenges).where(
                identity_webauthn_challenges.c.expires_at < fmt(now - CHALLENGE_TTL)
            )
        )
        row = _Row(
            id=new_id("wc"),
            challenge_hash=hashlib.sha256(challenge).hexdigest(),
            challenge=challenge,
            purpose=purpose,
            principal=principal,
            session_id=session_id,
            created_at=fmt(now),
            expires_at=fmt(now + CHALLENGE_TTL),
        )
        mac = _challenge_mac(store, row)
        conn.execute(insert(identity_webauthn_challenges).values(**asdict(row), row_mac=mac))


@dataclass(frozen=True)
class _Row:
    id: str
    challenge_hash: str
    challenge: bytes
    purpose: str
    principal: str
    session_id: str
    created_at: str
    expires_at: str


def _challenge_mac(store: Store, row: Any) -> str:
    """The seal of a challenge row: everything but ``used_at`` (the challenge as hex)."""
    fields = (row.id, row.challenge_hash, bytes(row.challenge).hex(), row.purpose)
    times = (row.principal, row.session_id, row.created_at, row.expires_at)
    return row_mac(token_key(store), _CHALLENGE_LABEL, (str(f) for f in (*fields, *times)))


def _refuse_unsealed(store: Store, row: Any) -> None:
    """Return if the challenge ``row`` is sealed by this server; else report it (the
    actor's ``row_report``, or the log) and raise ChallengeRowRefused (SW871)."""
    if same(str(row.row_mac), _challenge_mac(store, row)):
        return
    exc = ChallengeRowRefused(
        f"the store row of this passkey challenge ({row.id}) was not made by this server "
        "(it is not sealed with the server's key, or was changed since); it is refused"
    )
    _report(store, row, exc)
    raise exc


def _report(store: Store, row: Any, exc: StagewallError) -> None:
    """Hand a refused challenge ``row`` to the actor's ``row_report`` (or the log)."""
    refused = RefusedRow(
        "identity_webauthn_challenges", str(row.id), str(row.principal), exc.code, exc.message
    )
    actor = current_actor()
    if actor is not None and actor.row_report is not None:
        actor.row_report(refused)
    else:
        _log.warning("webauthn challenge row %s of %r refused: %s", row.id, row.principal, exc.code)


def _resource(challenge_id: str) -> str:
    """The resource of a challenge's ``identity.webauthn.challenge_used`` event."""
    return f"{_SPENT_PREFIX}{challenge_id}"


def _take_challenge(store: Store, wanted: str, now: datetime) -> Any | None:
    """The challenge row whose digest is ``wanted``, burned at ``now``; None if absent or
    already used.

    The burn and the ``identity.webauthn.challenge_used`` event that records it are one
    transaction: ``used_at`` alone is a store value, and a row set back to unused (with
    the seal it had before, which the insider read) would answer a captured assertion
    again within its five minutes. A row that the log records spent is refused, SW947,
    and reported; a row not sealed by this server, SW871 (no event is written for it)."""
    t = identity_webauthn_challenges
    with store.transaction() as conn:
        row = conn.execute(select(t).where(t.c.challenge_hash == wanted)).first()
        if row is None:
            return None
        burned = conn.execute(
            update(t).where(t.c.id == row.id).where(t.c.used_at.is_(None)).values(used_at=fmt(now))
        ).rowcount
        if burned != 1:
            return None
        sealed = same(str(row.row_mac), _challenge_mac(store, row))
        spent = (
            conn.execute(
                select(first_recorded(EV_CHALLENGE_USED.code, literal(_resource(row.id))))
            ).scalar()
            if sealed
            else None
        )
        if sealed and spent is None:
            AuditLog(store).append(
                AuditEvent(
                    EV_CHALLENGE_USED.code,
                    Status.SUCCESS,
                    str(row.principal),
                    f"passkey {row.purpose} challenge {row.id} of {row.principal} was spent",
                    resource=_resource(row.id),
                    details={"challenge": row.id, "purpose": row.purpose},
                ),
                conn=conn,
            )
    if not sealed:
        _refuse_unsealed(store, row)
    if spent is not None:
        exc = ChallengeReplayed(
            f"the passkey challenge {row.id} was already used (the audit log records it "
            f"spent at event {spent}), but its store row says unused: it was set back in "
            "the store, so the response is refused"
        )
        _report(store, row, exc)
        raise exc
    return row


def _b64url_decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return b""


def _challenge_of(response_json: str) -> bytes:
    """The challenge the client signed over (read from clientDataJSON; verified later)."""
    try:
        data = json.loads(response_json)
        client = json.loads(_b64url_decode(data["response"]["clientDataJSON"]))
        value = client["challenge"]
    except (ValueError, KeyError, TypeError):
        return b""
    return _b64url_decode(value) if isinstance(value, str) else b""


def _consume_challenge(
    store: Store,
    response_json: str,
    *,
    purpose: str,
    principal: str,
    session_id: str,
    now: datetime,
    error: type[StepUpRefused] | type[FactorRegistrationRefused],
) -> bytes:
    """Burn the challenge this response answers; refuse unknown, used, expired, foreign ones."""
    challenge = _challenge_of(response_json)
    wanted = hashlib.sha256(challenge).hexdigest() if challenge else ""
    # Burned whatever follows: a wrong response costs the challenge.
    row = _take_challenge(store, wanted, now)
    ok = (
        row is not None
        and row.purpose == purpose
        and row.principal == principal
        and row.session_id == session_id
        and parse(row.expires_at) > now
    )
    if not ok or row is None:
        raise error(
            "the passkey response answers no open challenge of this session "
            "(unknown, already used, expired, or issued to another login)"
        )
    return bytes(row.challenge)


def _as_json(response: str | Mapping[str, Any]) -> str:
    if isinstance(response, str):
        return response
    try:
        return json.dumps(dict(response))
    except (TypeError, ValueError):
        raise UsageError("the passkey response is not JSON") from None


# -- registration ------------------------------------------------------------


def registration_options(
    store: Store, settings: ServerSettings, principal: str, *, session_id: str, now: datetime
) -> str:
    """PublicKeyCredentialCreationOptions JSON for ``principal``, challenge kept server-side."""
    rp = relying_party(settings)
    rows = _rows(store, principal)
    if len(rows) >= MAX_PER_PRINCIPAL:
        raise FactorRegistrationRefused(
            f"{principal!r} already has {MAX_PER_PRINCIPAL} passkeys registered"
        )
    options, challenge = wa.registration_options(
        rp_id=rp.rp_id,
        rp_name=rp.rp_name,
        user_id=user_handle(principal),
        user_name=principal,
        exclude_credential_ids=[bytes(r.credential_id) for r in rows],
    )
    _save_challenge(
        store, challenge, purpose=REGISTRATION, principal=principal, session_id=session_id, now=now
    )
    return options


def register(
    store: Store,
    settings: ServerSettings,
    principal: str,
    response: str | Mapping[str, Any],
    *,
    name: str,
    session_id: str,
    now: datetime,
) -> Passkey:
    """Verify a registration response for the challenge of this session; store the passkey."""
    rp = relying_party(settings)
    name = name.strip()
    if not name or len(name) > 64:
        raise UsageError("a passkey name of 1 to 64 characters is required")
    response_json = _as_json(response)
    challenge = _consume_challenge(
        store,
        response_json,
        purpose=REGISTRATION,
        principal=principal,
        session_id=session_id,
        now=now,
        error=FactorRegistrationRefused,
    )
    try:
        cred = wa.verify_registration(
            response_json=response_json, challenge=challenge, rp_id=rp.rp_id, origin=_origin(rp)
        )
    except AuthenticationFailed as exc:
        raise FactorRegistrationRefused(exc.message, hint=exc.hint) from None
    pid = new_id("pk")
    try:
        with store.transaction() as conn:
            conn.execute(
                insert(identity_webauthn_credentials).values(
                    id=pid,
                    credential_id=cred.credential_id,
                    principal=principal,
                    name=name,
                    user_handle=user_handle(principal),
                    public_key=cred.public_key,
                    sign_count=cred.sign_count,
                    aaguid=str(cred.aaguid),
                    transports=",".join(cred.transports)[:256],
                    backed_up=cred.backed_up,
                    created_at=fmt(now),
                )
            )
            AuditLog(store).append(
                AuditEvent(
                    EV_REGISTERED.code,
                    Status.SUCCESS,
                    principal,
                    f"{principal} registered passkey {name!r}",
                    resource=f"principal:{principal}",
                    details={
                        "passkey": pid,
                        "aaguid": str(cred.aaguid),
                        "name": name,
                        # binds the row to this event (see _unbound_passkey)
                        "public_key_sha256": _key_digest(cred.credential_id, cred.public_key),
                    },
                ),
                conn=conn,
            )
    except SAIntegrityError:
        raise FactorRegistrationRefused("this authenticator is already registered") from None
    return Passkey(pid, name, fmt(now), None, cred.sign_count, str(cred.aaguid), cred.backed_up)


# -- assertion ---------------------------------------------------------------


def assertion_options(
    store: Store, settings: ServerSettings, principal: str, *, session_id: str, now: datetime
) -> str:
    """PublicKeyCredentialRequestOptions JSON listing only ``principal``'s own passkeys."""
    rp = relying_party(settings)
    ids = [bytes(r.credential_id) for r in _rows(store, principal)]
    if not ids:
        raise StepUpRefused(
            f"{principal!r} has no passkey registered",
            hint="register one (POST /api/v1/mfa/webauthn/registration/options) or use TOTP",
        )
    options, challenge = wa.authentication_options(rp_id=rp.rp_id, credential_ids=ids)
    _save_challenge(
        store, challenge, purpose=ASSERTION, principal=principal, session_id=session_id, now=now
    )
    return options


def _refuse(store: Store, principal: str, reason: str, purpose: str) -> None:
    AuditLog(store).append(
        AuditEvent(
            EV_ASSERTION.code,
            Status.FAILURE,
            principal,
            f"passkey check for {principal} failed: {reason}",
            resource=f"principal:{principal}",
            details={"method": FACTOR, "reason": reason, "purpose": purpose},
        )
    )


def _suspend(store: Store, passkey_id: str, now: datetime) -> None:
    """Suspend a passkey caught signing with a counter that did not increase: a clone
    that jumps its counter ahead is refused as well (it stays a factor on record)."""
    t = identity_webauthn_credentials
    with store.transaction() as conn:
        conn.execute(
            update(t)
            .where(t.c.id == passkey_id)
            .where(t.c.suspended_at.is_(None))
            .values(suspended_at=fmt(now))
        )


def _key_digest(credential_id: bytes, public_key: bytes) -> str:
    return hashlib.sha256(
        len(credential_id).to_bytes(4, "big") + credential_id + public_key
    ).hexdigest()


# What removes every factor of a principal: a reset by another person, or retirement.
_FACTORS_REMOVED = ("mfa.reset", "identity.account.retired")
_PASSKEY_EVENTS = (
    select(audit_events.c.idx)
    .where(audit_events.c.resource == bindparam("resource"))
    .where(audit_events.c.code.in_((EV_REGISTERED.code, EV_REMOVED.code, *_FACTORS_REMOVED)))
    .where(audit_events.c.status == Status.SUCCESS.value)
)


# What _unbound_passkey says of a passkey whose registration event records no digest.
_NO_DIGEST = "its registration records no digest of its key"


def _unbound_passkey(store: Store, principal: str, row: Any) -> str | None:
    """Why passkey ``row`` is not one the log registered to ``principal`` (None: it is).

    A passkey row holds only a public key, so anyone who can write the store could add
    their own authenticator as someone else's factor. The log is the authority: the
    newest successful event about this passkey (or about all of the principal's
    factors) must be its ``identity.webauthn.registered`` event for ``principal`` and,
    name exactly this credential and public key (:data:`_NO_DIGEST` when it records
    none: registered before the digest was recorded, or such an event appended to the
    log; any key would pass, so the caller refuses it, SW949).
    """
    log = AuditLog(store)
    with store.read() as conn:
        indexes = [
            int(i)
            for i in conn.execute(_PASSKEY_EVENTS, {"resource": f"principal:{principal}"}).scalars()
        ]
        events = log.events_ref(indexes, conn=conn)
    for idx in sorted(events, reverse=True):
        event = events[idx]
        if event.code in _FACTORS_REMOVED:
            return f"audit event #{idx} ({event.code}) removed {principal}'s factors since"
        if event.details.get("passkey") != row.id:
            continue
        if event.code == EV_REMOVED.code:
            return f"audit event #{idx} records that it was removed"
        recorded = event.details.get("public_key_sha256")
        if recorded is None:
            return _NO_DIGEST
        if recorded != _key_digest(bytes(row.credential_id), bytes(row.public_key)):
            return f"it is not the passkey audit event #{idx} registered"
        return None
    return f"the log records no registration of it for {principal}"


def verify_assertion(
    store: Store,
    settings: ServerSettings,
    principal: str,
    response: str | Mapping[str, Any],
    *,
    session_id: str,
    now: datetime,
    purpose: str = "",
) -> str:
    """Check an assertion by one of ``principal``'s passkeys for this session; its id or SW841.

    The signature counter is stored with a compare-and-set, so two concurrent uses of
    one assertion cannot both pass; a counter that does not increase is SW842 and
    suspends the passkey (every later assertion by it is refused, SW841).
    """
    rp = relying_party(settings)
    response_json = _as_json(response)
    try:
        challenge = _consume_challenge(
            store,
            response_json,
            purpose=ASSERTION,
            principal=principal,
            session_id=session_id,
            now=now,
            error=StepUpRefused,
        )
    except StepUpRefused as exc:
        _refuse(store, principal, "no open challenge", purpose)
        raise exc from None
    try:
        raw_id = _b64url_decode(str(json.loads(response_json).get("rawId", "")))
    except (ValueError, AttributeError):
        raw_id = b""
    with store.read() as conn:
        row = conn.execute(
            select(identity_webauthn_credentials).where(
                identity_webauthn_credentials.c.credential_id == raw_id
            )
        ).first()
    if row is None or row.principal != principal:
        _refuse(store, principal, "credential is not one of this principal's passkeys", purpose)
        raise StepUpRefused(
            "the passkey used is not registered to you",
            hint="use one of your own passkeys (listed in the assertion options)",
        )
    unbound = _unbound_passkey(store, principal, row)
    if unbound == _NO_DIGEST:
        _refuse(store, principal, "passkey registered without the digest of its key", purpose)
        raise PasskeyFromBeforeDigest(
            f"passkey {row.id} of {principal!r} was registered before stagewall recorded "
            "each passkey's key in the audit log, so a key changed in the store could not "
            "be told from it: it is refused; register it again"
        )
    if unbound is not None:
        _refuse(store, principal, "passkey not bound to the audit log", purpose)
        raise FactorNotBound(
            f"passkey {row.id} of {principal!r} in the store is refused: {unbound} (the row "
            "was written in the store or put back from an older backup)"
        )
    if row.suspended_at is not None:
        _refuse(store, principal, "passkey suspended", purpose)
        raise StepUpRefused(
            f"passkey {row.id} of {principal!r} is suspended since {row.suspended_at}: its "
            "signature counter went backwards (a cloned authenticator?)",
            hint="use another factor, or ask another person to reset your factors",
        )
    cred = wa.WebauthnCredential(
        credential_id=bytes(row.credential_id),
        public_key=bytes(row.public_key),
        sign_count=int(row.sign_count),
        aaguid=row.aaguid,
        transports=tuple(t for t in row.transports.split(",") if t),
    )
    try:
        new_count = wa.verify_authentication(
            response_json=response_json,
            challenge=challenge,
            rp_id=rp.rp_id,
            origin=_origin(rp),
            credential=cred,
        )
    except AuthenticationFailed as exc:
        cloned = "counter" in exc.message
        if cloned:
            _suspend(store, row.id, now)
        _refuse(store, principal, "signature counter regressed" if cloned else "bad", purpose)
        if cloned:
            raise AuthenticatorCloned(
                f"passkey {row.id} of {principal!r}: {exc.message}; it is suspended"
            ) from None
        raise StepUpRefused(exc.message, hint=exc.hint) from None
    with store.transaction() as conn:
        done = conn.execute(
            update(identity_webauthn_credentials)
            .where(identity_webauthn_credentials.c.id == row.id)
            .where(identity_webauthn_credentials.c.sign_count == row.sign_count)
            .values(sign_count=new_count, last_used_at=fmt(now))
        ).rowcount
        if done == 1:
            AuditLog(store).append(
                AuditEvent(
                    EV_ASSERTION.code,
                    Status.SUCCESS,
                    principal,
                    f"passkey check for {principal} passed" + (f" ({purpose})" if purpose else ""),
                    resource=f"principal:{principal}",
                    details={"method": FACTOR, "passkey": row.id, "purpose": purpose},
                ),
                conn=conn,
            )
    if done != 1:
        _suspend(store, row.id, now)
        _refuse(store, principal, "signature counter raced", purpose)
        raise AuthenticatorCloned(
            f"passkey {row.id} of {principal!r} signed twice with one counter at once; the "
            "second use is refused and the passkey suspended"
        )
    return str(row.id)


__all__ = [
    "CHALLENGE_TTL",
    "FACTOR",
    "Passkey",
    "assertion_options",
    "has_passkey",
    "list_passkeys",
    "register",
    "registration_options",
    "relying_party",
    "remove",
    "remove_all",
    "verify_assertion",
]
