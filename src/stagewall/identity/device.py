"""OAuth 2.0 device authorization grant (RFC 8628) for ``stagewall login``.

The CLI asks for a device code, shows the user code and the verification URL,
and polls. The person opens the URL in a browser, logs in there (password and
second factor, or the IdP) and approves the code; the next poll receives a
personal API token. Device codes are stored as digests, expire after 10 minutes,
are redeemed once, and polling faster than the interval is answered ``slow_down``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from stagewall.identity._codes import (
    digest,
    fmt,
    new_id,
    new_secret,
    new_user_code,
    normalise_user_code,
    parse,
)
from stagewall.identity._tables import identity_device_codes
from stagewall.identity.actor import LoginMethod
from stagewall.store import Store

DEVICE_TTL = timedelta(minutes=10)
INTERVAL_S = 2
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"


class PollResult(enum.StrEnum):
    PENDING = "authorization_pending"
    SLOW_DOWN = "slow_down"
    EXPIRED = "expired_token"
    DENIED = "access_denied"
    APPROVED = "approved"


@dataclass(frozen=True)
class DeviceCode:
    device_code: str = field(repr=False)
    user_code: str
    expires_at: datetime


@dataclass(frozen=True)
class Poll:
    result: PollResult
    principal: str | None = None
    method: LoginMethod | None = None


def start(store: Store, *, now: datetime) -> DeviceCode:
    code = DeviceCode(new_secret("swd_"), new_user_code(), now + DEVICE_TTL)
    with store.transaction() as conn:
        conn.execute(
            insert(identity_device_codes).values(
                id=new_id("d"),
                device_hash=digest(code.device_code),
                user_code=code.user_code,
                created_at=fmt(now),
                expires_at=fmt(code.expires_at),
                redeemed=False,
            )
        )
    return code


def pending_user_code(store: Store, user_code: str, *, now: datetime) -> str | None:
    """The normalised ``user_code`` if it waits for approval, else None."""
    norm = normalise_user_code(user_code)
    if not norm:
        return None
    with store.read() as conn:
        row = conn.execute(
            select(identity_device_codes).where(identity_device_codes.c.user_code == norm)
        ).first()
    if row is None or row.approved_at is not None or parse(row.expires_at) <= now:
        return None
    return norm


def approve(
    store: Store, user_code: str, principal: str, method: LoginMethod, *, now: datetime
) -> bool:
    norm = normalise_user_code(user_code)
    with store.transaction() as conn:
        done = conn.execute(
            update(identity_device_codes)
            .where(identity_device_codes.c.user_code == norm)
            .where(identity_device_codes.c.approved_at.is_(None))
            .where(identity_device_codes.c.expires_at > fmt(now))
            .values(principal=principal, method=method.value, approved_at=fmt(now))
        ).rowcount
    return done == 1


def poll(store: Store, device_code: str, *, now: datetime) -> Poll:
    with store.transaction() as conn:
        row = conn.execute(
            select(identity_device_codes).where(
                identity_device_codes.c.device_hash == digest(device_code)
            )
        ).first()
        if row is None or row.redeemed:
            return Poll(PollResult.DENIED)
        if parse(row.expires_at) <= now:
            return Poll(PollResult.EXPIRED)
        last = row.last_poll
        conn.execute(
            update(identity_device_codes)
            .where(identity_device_codes.c.id == row.id)
            .values(last_poll=fmt(now))
        )
        if row.approved_at is None:
            if last is not None and (now - parse(last)).total_seconds() < INTERVAL_S - 0.5:
                return Poll(PollResult.SLOW_DOWN)
            return Poll(PollResult.PENDING)
        done = conn.execute(
            update(identity_device_codes)
            .where(identity_device_codes.c.id == row.id)
            .where(identity_device_codes.c.redeemed.is_(False))
            .values(redeemed=True)
        ).rowcount
    if done != 1:
        return Poll(PollResult.DENIED)
    return Poll(PollResult.APPROVED, str(row.principal), LoginMethod(row.method))


__all__ = [
    "GRANT_TYPE",
    "INTERVAL_S",
    "DeviceCode",
    "Poll",
    "PollResult",
    "approve",
    "poll",
    "start",
]
