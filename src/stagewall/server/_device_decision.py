"""The one decision on a terminal's device code (RFC 8628), whichever door a person uses.

A person approves or denies ``stagewall login``'s code in one of three ways:

* the ``/device`` page while signed in to the web UI (local account or the identity
  provider): ``POST /device/decide`` with the session's CSRF token;
* the ``/device`` page signed out, with a local account's principal, password and
  one-time code in the form (``POST /device``, the page's CSRF cookie);
* ``POST /api/v1/device/approve`` from a session or token.

Each door authenticates the person and then calls :func:`decide`, which alone decides:
approving needs a second factor verified *with this approval* (a one-time code or a
passkey assertion; never an open step-up window, so a stolen session or token cannot
mint itself new tokens), denying needs the authenticated person only (it grants
nothing). Unknown or used codes count against the person's attempts, and the audit
event — naming the terminal that asked, the decider's address, the door and the
factor — is written in the decision's own transaction.
"""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Any

from sqlalchemy.engine import Connection

from stagewall import mfa
from stagewall.audit import Status
from stagewall.errors import NoSecondFactor, StepUpRequired, UsageError
from stagewall.identity import attempts, device, passkeys, stepup
from stagewall.identity._events import DEVICE_APPROVED, DEVICE_DENIED
from stagewall.identity.actor import Actor, StepUp, acting
from stagewall.server._state import ServerState

FRESH = timedelta(seconds=60)
"""A factor this old at most (verified in the approving request itself) approves."""


class Decision(enum.StrEnum):
    APPROVE = "approve"
    DENY = "deny"


def has_factor(state: ServerState, principal: str) -> tuple[bool, bool]:
    """(has a TOTP enrolment, has a passkey) of ``principal``."""
    store = state.ctx.store
    return mfa.is_enrolled(store, principal), passkeys.has_passkey(store, principal)


def fresh_factor(
    state: ServerState,
    actor: Actor,
    otp: str | None,
    webauthn: Any | None,
    *,
    act: str = "approve a terminal login",
) -> StepUp:
    """The step-up sent with the request, verified now (TOTP or passkey, never a window).

    For the acts by which a stolen session or token would outlive itself: approving a
    terminal login (a new token), adding a second factor (a way to step up for good),
    creating an invitation (a new identity). Removing a passkey follows the same rule
    in ``passkeys.remove_own`` (both doors of it call that).
    NoSecondFactor (SW611) when the person has no factor at all (how to enrol in the
    hint); StepUpRequired (SW721) when none was sent; the step-up's own refusal when
    it is wrong."""
    factor = stepup.factor_of(otp, webauthn)
    if factor is None:
        if not any(has_factor(state, actor.principal)):
            raise NoSecondFactor(f"{actor.principal!r} has no second factor, so it cannot {act}")
        raise stepup.window_not_enough(act)
    with acting(actor):
        return state.ctx.step_up(actor.principal, otp, webauthn, purpose=act)


def decide(
    state: ServerState,
    actor: Actor,
    user_code: str,
    decision: Decision,
    *,
    step: StepUp | None,
    via: str,
) -> device.Requester:
    """Approve ``user_code`` for ``actor`` (with ``step``, its factor verified in this
    request) or deny it; who had asked, or an error (nothing decided)."""
    now = state.now()
    if decision is Decision.APPROVE and (
        step is None or step.window or now - step.verified_at > FRESH
    ):
        raise StepUpRequired(
            "approving a terminal login needs a second factor verified with the approval; "
            "an open step-up window is not enough"
        )
    acting_as = actor if step is None else actor.with_step_up(step)
    source = actor.source_address

    def record(conn: Connection, asked: device.Requester) -> None:
        # In the decision's transaction: no event, no decision. It names the terminal
        # that asked (RFC 8628 §5.4: a code someone else sent) and where it was decided.
        details = {
            "method": actor.method.value,
            **asked.details(),
            "decided_from_address": source,
            "decided_via": via,
        }
        where = asked.address or "an unknown address"
        if decision is Decision.DENY:
            state.ctx.record(
                DEVICE_DENIED.code,
                actor.principal,
                f"{actor.principal} denied a terminal login (code {asked.user_code}, asked "
                f"from {where})",
                status=Status.FAILURE,
                resource=f"principal:{actor.principal}",
                details=details,
                conn=conn,
            )
            return
        state.ctx.record(
            DEVICE_APPROVED.code,
            actor.principal,
            f"{actor.principal} signed in a terminal asking from {where} ({actor.method.value})",
            resource=f"principal:{actor.principal}",
            details={**details, "factor": step.factor if step else None},
            conn=conn,
        )

    store = state.ctx.store
    key = f"{actor.principal}:device-decision"
    with acting(acting_as), attempts.attempt(store, key, now=now) as slots:
        if decision is Decision.APPROVE:
            got = device.approve(
                store, user_code, actor.principal, actor.method, now=now, record=record
            )
        else:
            got = device.deny(store, user_code, now=now, record=record)
        if got is None:
            slots.failed()  # nobody pages through codes, signed in or not
            raise UsageError(
                "this terminal code is unknown, already used or expired",
                hint="run `stagewall login` again and enter the new code",
            )
    return got


__all__ = ["FRESH", "Decision", "decide", "fresh_factor", "has_factor"]
