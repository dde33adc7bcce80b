"""Step-up: one function decides whether a privileged act has a fresh second factor.

Every privileged library function (approve/deny, revoke, break-glass, production
credentials, review decisions, offboarding, MFA reset, gate approval, invitations)
calls :func:`verify_step_up` with the principal acting and one of

* a TOTP code (``str``): checked and its time step burned (``stagewall.mfa``);
* a WebAuthn assertion (AuthenticationResponseJSON, ``Mapping`` or JSON text): checked
  against a challenge issued to this very session or token, single-use;
* nothing: then the calling session or token must hold an open *step-up window*,
  opened by :func:`open_window` (``POST /api/v1/step-up``) at most
  ``server.step_up_window_seconds`` (120 s) ago, for batches of decisions.

A window's row carries ``row_mac``, an HMAC under the server's token key over its
session, principal, factor and times (stepupbind_0001): a row someone wrote or edited in
the store without the key counts as no window (``StepUpWindowRefused``, SW869) and is
reported (``identity.token.row_refused``, through the actor's ``row_report``).

It returns a :class:`~stagewall.identity.actor.StepUp` (factor, verified_at, age,
window) or raises. Inside a server request the verified step-up is attached to the
current actor, so every audit event the act writes names the factor and its age.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select

from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.errors import AccessDenied, StepUpRequired, StepUpWindowRefused, UsageError
from stagewall.estate.models import ServerSettings
from stagewall.identity import passkeys
from stagewall.identity._codes import fmt, parse, same
from stagewall.identity._events import STEP_UP
from stagewall.identity._seal import LEGACY_MAC, RefusedRow, row_mac, token_key
from stagewall.identity._tables import identity_step_up_windows
from stagewall.identity.actor import StepUp, current_actor, set_current_actor
from stagewall.store import Store

TOTP = "totp"
WEBAUTHN = passkeys.FACTOR
Factor = str | Mapping[str, Any] | None
"""A TOTP code, a WebAuthn AuthenticationResponseJSON, or None (use the open window)."""

_WINDOW_LABEL = "step-up window"
_TABLE = "identity_step_up_windows"
_log = logging.getLogger("stagewall.identity")

_HOW = (
    "send your one-time code as `otp`, or a passkey assertion as `webauthn` (options from "
    "POST /api/v1/mfa/webauthn/assertion/options), or open a step-up window with "
    "POST /api/v1/step-up first"
)


def factor_of(otp: str | None, webauthn: str | Mapping[str, Any] | None) -> Factor:
    """The one factor a request carries (``otp`` or ``webauthn``, never both)."""
    if otp and webauthn:
        raise UsageError("give either otp or webauthn, not both")
    if webauthn is not None and not isinstance(webauthn, (str, Mapping)):
        raise UsageError("webauthn must be an AuthenticationResponseJSON object")
    return otp or webauthn or None


def window_not_enough(act: str) -> StepUpRequired:
    """The refusal of an act that needs a factor sent with its request, none was sent.

    For the acts by which a session or token held during someone's step-up window would
    outlive it or weaken the account: approving a terminal login, adding or removing a
    second factor, creating an invitation. The window does not count for them."""
    return StepUpRequired(
        f"to {act} needs a fresh second factor sent with the request (a one-time code "
        "or a passkey); an open step-up window is not enough",
        hint="send your current one-time code as `otp`, or a passkey assertion as `webauthn`",
    )


def _session_for(principal: str) -> str | None:
    actor = current_actor()
    if actor is None or actor.principal != principal or not actor.session_id:
        return None
    return actor.session_id


def _attach(principal: str, step: StepUp) -> None:
    actor = current_actor()
    if actor is not None and actor.principal == principal:
        set_current_actor(actor.with_step_up(step))


def _check_factor(
    store: Store,
    principal: str,
    factor: str | Mapping[str, Any],
    *,
    purpose: str,
    now: datetime,
    settings: ServerSettings,
    home: str | os.PathLike[str] | None,
) -> StepUp:
    # Imported here: the accounts and mfa modules import this package's actor module.
    from stagewall import mfa
    from stagewall.identity.attempts import attempt

    with attempt(store, f"{principal}:step-up", now=now) as slots:
        try:
            if isinstance(factor, str) and not factor.lstrip().startswith("{"):
                mfa.verify(
                    store,
                    principal,
                    factor,
                    home=home,
                    now=now,
                    purpose=purpose,
                    on_burn=slots.give_back_in,  # one transaction fewer per step-up
                )
                return StepUp(TOTP, now)
            session = _session_for(principal)
            if session is None:
                raise StepUpRequired(
                    "a passkey step-up needs a server session of the principal acting",
                    hint="use the server (stagewall login) or give a one-time code",
                )
            passkeys.verify_assertion(
                store, settings, principal, factor, session_id=session, now=now, purpose=purpose
            )
            return StepUp(WEBAUTHN, now)
        except AccessDenied as exc:
            if not isinstance(exc, StepUpRequired):
                slots.failed()
            raise


def verify_step_up(
    store: Store,
    principal: str,
    factor: Factor,
    *,
    purpose: str,
    now: datetime,
    settings: ServerSettings,
    home: str | os.PathLike[str] | None = None,
) -> StepUp:
    """Verify ``principal``'s step-up for ``purpose`` at ``now``; a StepUp or an error.

    Raises StepUpRequired (SW721) with nothing given and no open window,
    StepUpRefused (SW841, AuthenticatorCloned SW842) for a refused passkey and
    AccessDenied for a wrong or reused code. Never returns on failure.
    """
    if factor is not None and factor != "":
        step = _check_factor(
            store, principal, factor, purpose=purpose, now=now, settings=settings, home=home
        )
        _attach(principal, step)
        return step
    session = _session_for(principal)
    row = None
    if session is not None:
        with store.read() as conn:
            row = conn.execute(
                select(identity_step_up_windows).where(
                    identity_step_up_windows.c.session_id == session
                )
            ).first()
    if row is not None:
        _refuse_unsealed(store, row, purpose)
    if row is None or row.principal != principal or parse(row.expires_at) <= now:
        raise StepUpRequired(
            f"{purpose or 'this act'} needs a fresh second factor of {principal!r}: "
            "none was given and no step-up window is open on this login",
            hint=_HOW,
        )
    verified = parse(row.verified_at)
    step = StepUp(row.factor, verified, age=now - verified, window=True)
    _attach(principal, step)
    return step


def _window_mac(store: Store, row: Any) -> str:
    fields = (row.session_id, row.principal, row.factor, row.verified_at, row.expires_at)
    return row_mac(token_key(store), _WINDOW_LABEL, (str(f) for f in fields))


def window_sealed(store: Store, row: Any) -> bool:
    """Whether the ``identity_step_up_windows`` row ``row`` is sealed by this server."""
    return same(str(row.row_mac), _window_mac(store, row))


def _refuse_unsealed(store: Store, row: Any, purpose: str) -> None:
    """Return if the window ``row`` is sealed by this server; else it counts as no window:
    StepUpWindowRefused (SW869), after the actor's ``row_report`` (or the log) heard of
    it. A row the stepupbind_0001 upgrade marked (none survive it) is simply no window."""
    if window_sealed(store, row):
        return
    how = "use the factor in the request or open a new window with POST /api/v1/step-up"
    if row.row_mac == LEGACY_MAC:
        raise StepUpRequired(f"{purpose or 'this act'} needs a fresh second factor: {how}")
    exc = StepUpWindowRefused(
        f"the step-up window of this login ({row.session_id}) was not opened by this server "
        "(its store row is not sealed with the server's key, or was changed since); it "
        f"counts as no window, so {purpose or 'this act'} needs a fresh second factor"
    )
    refused = RefusedRow(_TABLE, str(row.session_id), str(row.principal), exc.code, exc.message)
    actor = current_actor()
    if actor is not None and actor.row_report is not None:
        actor.row_report(refused)
    else:
        _log.warning(
            "step-up window row %s of %r refused: %s", row.session_id, row.principal, exc.code
        )
    raise exc


def window_seconds(settings: ServerSettings) -> int:
    """The step-up window's length; UsageError when this server disabled windows."""
    seconds = settings.step_up_window_seconds
    if seconds <= 0:
        raise UsageError(
            "step-up windows are disabled on this server (server.step_up_window_seconds: 0)",
            hint="give otp or webauthn with each privileged request",
        )
    return int(seconds)


def open_window(
    store: Store,
    principal: str,
    factor: str | Mapping[str, Any],
    *,
    now: datetime,
    settings: ServerSettings,
    home: str | os.PathLike[str] | None = None,
) -> tuple[StepUp, datetime]:
    """Verify a factor and open a step-up window on the current session; (step, expiry)."""
    if not factor:
        raise UsageError("opening a step-up window needs otp or webauthn")
    session = _session_for(principal)
    if session is None:
        raise StepUpRequired("a step-up window belongs to a server session or token")
    window_seconds(settings)  # refused before a factor is spent
    step = _check_factor(
        store, principal, factor, purpose="step-up window", now=now, settings=settings, home=home
    )
    until = open_window_on(store, principal, session, step, now=now, settings=settings)
    _attach(principal, step)
    return step, until


def open_window_on(
    store: Store,
    principal: str,
    session: str,
    step: StepUp,
    *,
    now: datetime,
    settings: ServerSettings,
    how: str = "",
) -> datetime:
    """Open the step-up window of ``session`` for a factor **already verified** (``step``).

    Used by :func:`open_window` for the calling session, and for a CLI session whose
    person confirmed the step-up in a browser (the factor was checked there by
    :func:`verify_step_up`). Returns the window's end."""
    seconds = window_seconds(settings)
    until = now + timedelta(seconds=seconds)
    with store.transaction() as conn:
        conn.execute(
            delete(identity_step_up_windows).where(
                (identity_step_up_windows.c.session_id == session)
                | (identity_step_up_windows.c.expires_at < fmt(now))
            )
        )
        values = {
            "session_id": session,
            "principal": principal,
            "factor": step.factor,
            "verified_at": fmt(step.verified_at),
            "expires_at": fmt(until),
        }
        mac = row_mac(token_key(store), _WINDOW_LABEL, values.values())
        conn.execute(insert(identity_step_up_windows).values(**values, row_mac=mac))
        AuditLog(store).append(
            AuditEvent(
                STEP_UP.code,
                Status.SUCCESS,
                principal,
                f"{principal} opened a {seconds}-second step-up window with {step.factor}{how}",
                resource=f"principal:{principal}",
                details={"factor": step.factor, "session": session, "expires_at": fmt(until)},
            ),
            conn=conn,
        )
    return until


def close_windows_on(conn: Connection, principal: str) -> int:
    """Close every step-up window of ``principal`` in the caller's transaction."""
    return int(
        conn.execute(
            delete(identity_step_up_windows).where(
                identity_step_up_windows.c.principal == principal
            )
        ).rowcount
    )


def close_windows(store: Store, principal: str) -> int:
    """Close every step-up window of ``principal`` (logout everywhere, factor reset)."""
    with store.transaction() as conn:
        return close_windows_on(conn, principal)


__all__ = [
    "TOTP",
    "WEBAUTHN",
    "Factor",
    "StepUp",
    "close_windows",
    "close_windows_on",
    "factor_of",
    "open_window",
    "open_window_on",
    "verify_step_up",
    "window_sealed",
    "window_seconds",
]
