"""Which declaration a principal's sign-in state was made for.

A principal is a *name* in stagewall.yaml; the password, factors, passkeys and logins
in the store belong to the *person* the name was declared for when they were made. If
the name is taken out and declared again for someone else, the server must not hand
the new person the old person's way in — even when it never saw the file without the
name (two edits between reloads, a server that was stopped). So when the state is
made (an invitation or the account it creates, a login through the identity
provider, a pipeline token) the server records the identity attributes of the
declaration — :data:`ATTRIBUTES` — and at start and on every reload it retires the
state of a principal whose declaration's attributes differ (see
:func:`stagewall.identity.accounts.retire_undeclared`).

What cannot be told apart: a name declared again with exactly the same attributes
(say ``bob: {affiliation: internal}`` for another Bob). Declare people with their
e-mail address (and ``oidc_subject``) so that another person is another declaration.

The binding also pins the identity-provider account (issuer, subject) of the first
login through the provider (:func:`pin_subject`): a person found by e-mail address
stays that account, so a re-created account or someone else's account given the
same address is refused (OpenID Connect Core §5.7: only ``iss`` and ``sub`` identify
an end-user) until the estate declares the new ``oidc_subject``, which retires the
old state and the pin with it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError as SAIntegrityError

from stagewall.errors import AccessDenied, OidcLoginRefused
from stagewall.estate import Estate
from stagewall.identity._codes import fmt
from stagewall.identity._tables import identity_bindings
from stagewall.store import Store

ATTRIBUTES = ("kind", "affiliation", "vendor", "name", "emails", "oidc_subject")
"""What identifies the person a name is declared for (``disabled``, groups, roles and
other identities may change without making it someone else)."""


def declaration(estate: Estate, principal: str) -> dict[str, Any] | None:
    """The identity attributes of ``principal``'s declaration (None: not declared)."""
    p = estate.principals.get(principal)
    if p is None:
        return None
    return {
        "kind": p.kind.value,
        "affiliation": p.affiliation.value,
        "vendor": p.vendor,
        "name": p.name,
        "emails": sorted({e.strip().lower() for e in p.emails}),
        "oidc_subject": p.oidc_subject,
    }


def _text(attrs: dict[str, Any]) -> str:
    return json.dumps(attrs, sort_keys=True, separators=(",", ":"))


def changed(recorded: str, current: dict[str, Any] | None) -> list[str]:
    """The attributes that differ between a recorded declaration and the current one
    (every attribute when the principal is no longer declared)."""
    try:
        old = json.loads(recorded)
    except ValueError:
        old = None
    if not isinstance(old, dict) or current is None:
        return list(ATTRIBUTES)
    return [a for a in ATTRIBUTES if old.get(a) != current.get(a)]


def recorded(conn: Connection) -> dict[str, str]:
    """Every principal's recorded declaration (canonical JSON)."""
    rows = conn.execute(select(identity_bindings.c.principal, identity_bindings.c.declaration))
    return {str(p): str(d) for p, d in rows}


def bind_on(conn: Connection, estate: Estate, principal: str, *, now: datetime, how: str) -> None:
    """Record ``principal``'s current declaration, in the caller's transaction, unless
    one is recorded; refuse (nothing made) when the recorded one is another person's.

    The refusal only happens when this process acts on a declaration another instance
    (or an older file) disagrees with: the reload that retires the old state runs
    before any request is served on a new file."""
    current = declaration(estate, principal)
    if current is None:
        return
    got = conn.execute(
        select(identity_bindings.c.declaration).where(identity_bindings.c.principal == principal)
    ).scalar()
    if got is None:
        try:
            with conn.begin_nested():  # another instance may bind the same name right now
                conn.execute(
                    insert(identity_bindings).values(
                        principal=principal, declaration=_text(current), bound_at=fmt(now), how=how
                    )
                )
            return
        except SAIntegrityError:
            got = conn.execute(
                select(identity_bindings.c.declaration).where(
                    identity_bindings.c.principal == principal
                )
            ).scalar_one()
    diff = changed(str(got), current)
    if diff:
        raise AccessDenied(
            f"principal {principal!r} is declared in stagewall.yaml with other "
            f"{', '.join(diff)} than when its sign-in state was made",
            hint="every server instance must run the same stagewall.yaml; once it has "
            "reloaded, the old state is retired and the person signs up again",
        )


def bind(store: Store, estate: Estate, principal: str, *, now: datetime, how: str) -> None:
    """:func:`bind_on` in a transaction of its own."""
    with store.transaction() as conn:
        bind_on(conn, estate, principal, now=now, how=how)


def pin_subject(
    store: Store, estate: Estate, principal: str, *, issuer: str, subject: str, now: datetime
) -> None:
    """Bind ``principal`` (:func:`bind_on`) and pin the identity-provider account
    (``issuer``, ``subject``) signing in as it; OidcLoginRefused when another one is pinned.

    The first login through the provider pins its account (``UPDATE … WHERE
    oidc_subject IS NULL``: of two concurrent first logins exactly one pins, the other
    is compared with it). Nothing is pinned or changed on a refusal."""
    t = identity_bindings
    with store.transaction() as conn:
        bind_on(conn, estate, principal, now=now, how="oidc-login")
        pinned = conn.execute(
            update(t)
            .where(t.c.principal == principal)
            .where(t.c.oidc_subject.is_(None))
            .values(oidc_issuer=issuer, oidc_subject=subject)
        ).rowcount
        if pinned == 1:
            return
        row = conn.execute(
            select(t.c.oidc_issuer, t.c.oidc_subject).where(t.c.principal == principal)
        ).first()
    if row is None:  # not declared: nothing to sign in as (fail closed)
        raise OidcLoginRefused(f"principal {principal!r} is not declared in the estate")
    if (row.oidc_issuer, row.oidc_subject) != (issuer, subject):
        raise OidcLoginRefused(
            f"principal {principal!r} signs in through the identity provider as another "
            f"account; this login (subject {subject[:255]!r}) is another account with the "
            "same e-mail address (re-created, or the address was given to someone else)",
            hint="if this account now belongs to the person, an administrator declares its "
            "subject as oidc_subject in stagewall.yaml (this retires the old account's "
            "factors and logins)",
        )


__all__ = [
    "ATTRIBUTES",
    "bind",
    "bind_on",
    "changed",
    "declaration",
    "pin_subject",
    "recorded",
]
