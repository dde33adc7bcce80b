"""Local accounts: argon2 passwords plus a mandatory TOTP factor, created by invitation.

An invitation is a one-time link an admin creates for a declared, enabled, human
principal; it expires (24 h by default) and is recorded in the audit log. Opening it,
the invited person sets a password and receives a TOTP secret (shown once); the
account exists only after they prove the factor with a code. Nobody else ever sees
the password, and the invitation cannot be used twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, bindparam, delete, func, insert, literal, select, update

from stagewall import mfa
from stagewall.alerts import Alert, Severity
from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.audit._tables import audit_events
from stagewall.errors import AccessDenied, InvitationReplayed, NotAuthenticated, UsageError
from stagewall.estate import Estate
from stagewall.estate.models import HOST_OPERATOR, PrincipalKind
from stagewall.identity import _events as ev
from stagewall.identity import bindings, passkeys
from stagewall.identity._codes import fmt, new_id, new_secret, parse, same
from stagewall.identity._codeseal import INVITATION, Sealer, plain, refuse_unkeyed
from stagewall.identity._seal import RefusedRow, RowReport
from stagewall.identity._tables import (
    identity_accounts,
    identity_factor_resets,
    identity_invitations,
)
from stagewall.store import Store

_log = logging.getLogger("stagewall.identity")

INVITATION_TTL = timedelta(hours=24)
MIN_PASSWORD = 12
RESET_QUARANTINE = timedelta(hours=24)

_hasher = PasswordHasher()
# A fixed hash to verify against when the account does not exist, so a login for an
# unknown principal costs the same time as one with a wrong password.
_DUMMY_HASH = _hasher.hash("stagewall-no-such-account")


@dataclass(frozen=True)
class Invitation:
    id: str
    principal: str
    token: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True)
class Accepted:
    principal: str
    totp_secret: str = field(repr=False)
    totp_uri: str = field(repr=False)
    invitation: str = ""
    invited_by: str = ""
    quarantined_until: datetime | None = None

    def alert(self) -> Alert:
        """Raised at once: whoever held the link now holds ``principal``'s first factor."""
        until = fmt(self.quarantined_until) if self.quarantined_until else "?"
        return Alert(
            kind="identity.invitation.accepted",
            title=f"Invitation for {self.principal} (made by {self.invited_by}) was accepted",
            text=(
                f"The invitation {self.invitation} that {self.invited_by} created for "
                f"{self.principal} was opened: a password was set and a first MFA factor "
                f"enrolled. {self.principal} may approve nothing until {until}. If "
                f"{self.principal} did not do this, whoever held the link now holds the "
                "account: reset its factor and find out who opened the link."
            ),
            severity=Severity.CRITICAL,
            details={
                "principal": self.principal,
                "invitation": self.invitation,
                "invited_by": self.invited_by,
                "quarantined_until": until,
            },
        )


def _human(estate: Estate, principal: str) -> None:
    p = estate.principals.get(principal)
    if p is None:
        raise UsageError(
            f"principal {principal!r} is not declared in stagewall.yaml",
            hint="declare the person under principals: first",
        )
    if p.disabled:
        raise AccessDenied(f"principal {principal!r} is disabled")
    if p.kind is not PrincipalKind.HUMAN:
        raise UsageError(
            f"principal {principal!r} is a {p.kind.value} principal; local accounts are for "
            "people (pipelines authenticate with their CI OIDC token)"
        )


def _no_factor_yet(store: Store, principal: str) -> None:
    """An invitation enrols the first factor of a person who has none, never one more.

    Whoever holds the link (the admin who made it, anyone it was forwarded to) sets the
    password and receives the TOTP secret; next to a passkey the person already has, that
    would be a second way in that the person never made."""
    if mfa.is_enrolled(store, principal) or passkeys.has_passkey(store, principal):
        raise AccessDenied(
            f"principal {principal!r} already has a second factor; an invitation cannot "
            "add another one",
            hint="the person adds a factor while signed in as themselves; a lost factor "
            "is reset by another internal person (stagewall mfa reset)",
        )


def create_invitation(
    store: Store, estate: Estate, principal: str, *, created_by: str, now: datetime
) -> Invitation:
    """A one-time link for ``principal`` to create a local account (audited)."""
    _human(estate, principal)
    with store.read() as conn:
        exists = conn.execute(
            select(identity_accounts.c.principal).where(identity_accounts.c.principal == principal)
        ).first()
    if exists is not None:
        raise UsageError(
            f"principal {principal!r} already has a local account",
            hint="a lost factor is reset by another internal person (stagewall mfa reset)",
        )
    _no_factor_yet(store, principal)
    token = new_secret("swi_")
    inv = Invitation(new_id("i"), principal, token, now + INVITATION_TTL)
    sealer = Sealer(store)
    values = {
        "id": inv.id,
        "token_hash": sealer.lookup(INVITATION, token),
        "principal": principal,
        "created_by": created_by,
        "created_at": fmt(now),
        "expires_at": fmt(inv.expires_at),
    }
    with store.transaction() as conn:
        # the person this name is declared for now: another declaration later retires it
        bindings.bind_on(conn, estate, principal, now=now, how="invitation")
        conn.execute(
            insert(identity_invitations).values(
                **values, row_mac=sealer.seal(INVITATION, values.values())
            )
        )
        AuditLog(store).append(
            AuditEvent(
                ev.INVITATION_CREATED.code,
                Status.SUCCESS,
                created_by,
                f"{created_by} invited {principal} to create a local account "
                f"(link {inv.id}, expires {fmt(inv.expires_at)})",
                resource=f"principal:{principal}",
                details={"invitation": inv.id, "expires_at": fmt(inv.expires_at)},
            ),
            conn=conn,
        )
    return inv


_INVITATION_BY_HASH = select(identity_invitations).where(
    identity_invitations.c.token_hash == bindparam("hash")
)


def _invitation_fields(row: Any) -> tuple[str, ...]:
    """What an invitation's seal covers: whose it is, who made it, when it ends."""
    return (row.id, row.token_hash, row.principal, row.created_by, row.created_at, row.expires_at)


# The events that record an invitation spent (opened, then confirmed): read by the
# resource index (principal:NAME) with the code compared as an expression, as
# stagewall.audit.first_recorded does; few per person.
_SPENT_IN_LOG = select(audit_events.c.code, audit_events.c.canonical).where(
    audit_events.c.resource == bindparam("resource"),
    (audit_events.c.code + literal("")).in_([ev.INVITATION_ACCEPTED.code, ev.ACCOUNT_CREATED.code]),
)


def _spent_in_log(store: Store, row: Any) -> dict[str, bool]:
    """Which steps of the invitation ``row`` the audit log records done: opened
    (``identity.invitation.accepted``) and confirmed (``identity.account.created``)."""
    with store.read() as conn:
        found = conn.execute(_SPENT_IN_LOG, {"resource": f"principal:{row.principal}"}).all()
    done = {ev.INVITATION_ACCEPTED.code: False, ev.ACCOUNT_CREATED.code: False}
    for code, raw in found:
        try:
            details = json.loads(bytes(raw)).get("unmapped", {})
        except (ValueError, AttributeError):
            continue  # not an event of ours: the chain check reports it
        if isinstance(details, dict) and details.get("invitation") == row.id:
            done[str(code)] = True
    return done


def _refuse_replayed(store: Store, row: Any, report: RowReport | None) -> None:
    """Return unless the log records a step of the invitation ``row`` that its store row
    says is not done: then the row was set back (to enrol a factor again with a link
    that was already used), InvitationReplayed (SW948), reported first."""
    spent = _spent_in_log(store, row)
    step = (
        "opened"
        if row.accepted_at is None and spent[ev.INVITATION_ACCEPTED.code]
        else "confirmed"
        if row.confirmed_at is None and spent[ev.ACCOUNT_CREATED.code]
        else None
    )
    if step is None:
        return
    exc = InvitationReplayed(
        f"the invitation link {row.id} for {row.principal} was already {step} (the audit "
        "log records it), but its store row says it was not: the row was set back in the "
        "store, so the link is refused and enrols nothing"
    )
    if report is not None:
        report(
            RefusedRow(
                "identity_invitations", str(row.id), str(row.principal), exc.code, exc.message
            )
        )
    else:
        _log.warning("invitation row %s of %r refused: %s", row.id, row.principal, exc.code)
    raise exc


def _open_invitation(
    store: Store, token: str, now: datetime, report: RowReport | None = None
) -> tuple[str, str, bool, str]:
    """The live invitation behind ``token`` (id, principal, opened?, made by).

    Refused: unknown, used or expired (SW720); a row keyed by the plain SHA-256 of the
    token (SW941) or from before codebind_0001 (SW943); a row whose principal, maker or
    expiry was edited (SW942); a row set back to unopened or unconfirmed while the audit
    log records it opened or confirmed (SW948, handed to ``report``). The expiry is
    looked at before the seal: voiding a link (retire_undeclared) only ever brings its
    expiry forward."""
    sealer = Sealer(store)
    wanted = sealer.lookup(INVITATION, token)
    with store.read() as conn:
        row = conn.execute(_INVITATION_BY_HASH, {"hash": wanted}).first()
        if row is None and len(token) <= 128:
            refuse_unkeyed(
                INVITATION, conn.execute(_INVITATION_BY_HASH, {"hash": plain(token)}).first()
            )
    if (
        row is None
        or not same(str(row.token_hash), wanted)
        or row.confirmed_at is not None
        or parse(row.expires_at) <= now
    ):
        raise NotAuthenticated(
            "this invitation link is unknown, already used or expired",
            hint="ask an admin for a new invitation",
        )
    sealer.check(INVITATION, row, _invitation_fields(row))
    _refuse_replayed(store, row, report)
    return str(row.id), str(row.principal), row.accepted_at is not None, str(row.created_by)


def accept_invitation(
    store: Store,
    estate: Estate,
    token: str,
    password: str,
    *,
    now: datetime,
    home: str | None = None,
    refuse: Callable[[str], None] | None = None,
    report: RowReport | None = None,
) -> Accepted:
    """Set the password and enrol TOTP; the account is usable after :func:`confirm_invitation`.

    ``refuse(principal)`` (the server's offboarding check) raises for a person who may not
    sign in now (an offboarded vendor, outside its contract): the link then creates no
    account and enrols no factor. ``report`` (the server's record-and-alert) hears of a
    link whose row was set back to unused (SW948)."""
    inv_id, principal, accepted, created_by = _open_invitation(store, token, now, report)
    _human(estate, principal)
    if refuse is not None:
        refuse(principal)
    if accepted:
        raise UsageError(
            "this invitation was already opened; confirm it with a code from the authenticator",
            hint="if the secret was lost, ask an admin for a new invitation",
        )
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password must be at least {MIN_PASSWORD} characters long")
    _no_factor_yet(store, principal)
    until = now + RESET_QUARANTINE
    # One transaction: the invitation is spent (its accepted_at starts the quarantine, see
    # quarantine_until), the factor enrolled and the account written, or none of it.
    with store.transaction() as conn:
        done = conn.execute(
            update(identity_invitations)
            .where(identity_invitations.c.id == inv_id)
            .where(identity_invitations.c.accepted_at.is_(None))
            .values(accepted_at=fmt(now))
        ).rowcount
        if done != 1:
            raise UsageError("this invitation was already opened")
        bindings.bind_on(conn, estate, principal, now=now, how="account")
        enrolment = mfa.enroll(store, estate, principal, home=home, now=now, conn=conn)
        conn.execute(delete(identity_accounts).where(identity_accounts.c.principal == principal))
        conn.execute(
            insert(identity_accounts).values(
                principal=principal,
                password_hash=_hasher.hash(password),
                created_at=fmt(now),
                invitation=inv_id,
            )
        )
        AuditLog(store).append(
            AuditEvent(
                ev.INVITATION_ACCEPTED.code,
                Status.SUCCESS,
                principal,
                f"the invitation {inv_id} for {principal} (created by {created_by}) was "
                f"opened and a first factor enrolled; {principal} may approve nothing "
                f"until {fmt(until)}",
                resource=f"principal:{principal}",
                details={
                    "invitation": inv_id,
                    "invited_by": created_by,
                    "quarantined_until": fmt(until),
                },
            ),
            conn=conn,
        )
    return Accepted(principal, enrolment.secret, enrolment.uri, inv_id, created_by, until)


def confirm_invitation(
    store: Store,
    token: str,
    code: str,
    *,
    now: datetime,
    home: str | None = None,
    refuse: Callable[[str], None] | None = None,
    report: RowReport | None = None,
) -> str:
    """Prove the new factor; the account becomes usable and the link dies (``refuse`` and
    ``report`` as for :func:`accept_invitation`)."""
    inv_id, principal, accepted, _ = _open_invitation(store, token, now, report)
    if refuse is not None:
        refuse(principal)
    if not accepted:
        raise UsageError("set a password first (open the invitation)")
    mfa.verify(store, principal, code, home=home, now=now, purpose="account confirmation")
    with store.transaction() as conn:
        conn.execute(
            update(identity_invitations)
            .where(identity_invitations.c.id == inv_id)
            .values(confirmed_at=fmt(now))
        )
        AuditLog(store).append(
            AuditEvent(
                ev.ACCOUNT_CREATED.code,
                Status.SUCCESS,
                principal,
                f"{principal} created a local account (invitation {inv_id}) and enrolled TOTP",
                resource=f"principal:{principal}",
                details={"invitation": inv_id, "factor": "totp"},
            ),
            conn=conn,
        )
    return principal


def account_active(store: Store, principal: str) -> bool:
    with store.read() as conn:
        row = conn.execute(
            select(identity_invitations.c.confirmed_at)
            .join(identity_accounts, identity_accounts.c.invitation == identity_invitations.c.id)
            .where(identity_accounts.c.principal == principal)
        ).first()
    return row is not None and row[0] is not None


def check_password(store: Store, principal: str, password: str) -> bool:
    """Verify ``password`` against the account's argon2 hash (constant work if none)."""
    with store.read() as conn:
        row = conn.execute(
            select(identity_accounts.c.password_hash).where(
                identity_accounts.c.principal == principal
            )
        ).first()
    stored = str(row[0]) if row is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return row is not None


def record_factor_reset_on(
    conn: Connection, principal: str, *, reset_by: str, now: datetime
) -> None:
    """The quarantine row of a factor reset, in the reset's own transaction."""
    conn.execute(
        insert(identity_factor_resets).values(
            principal=principal, reset_by=reset_by, reset_at=fmt(now)
        )
    )


def record_factor_reset(store: Store, principal: str, *, reset_by: str, now: datetime) -> None:
    with store.transaction() as conn:
        record_factor_reset_on(conn, principal, reset_by=reset_by, now=now)


_LAST_RESET = (
    select(func.max(identity_factor_resets.c.reset_at))
    .where(identity_factor_resets.c.principal == bindparam("principal"))
    .scalar_subquery()
)
_LAST_INVITED = (
    select(func.max(identity_invitations.c.accepted_at))
    .where(identity_invitations.c.principal == bindparam("principal"))
    .where(identity_invitations.c.accepted_at.is_not(None))
    # the host's operator holds the store and every key already: its links (the
    # first people's) start no quarantine; an admin's, made through the API, do
    .where(identity_invitations.c.created_by != HOST_OPERATOR)
    .scalar_subquery()
)
# Both starts of a quarantine in one round trip (every approval asks).
_QUARANTINE_STARTS = select(_LAST_RESET, _LAST_INVITED)
# The accepted links that claim the host's operator made them: each one's claim counts
# only if its seal (which covers created_by) verifies, so a store writer who renames an
# admin's link to the operator's does not lift the quarantine.
_HOST_INVITED = (
    select(identity_invitations)
    .where(identity_invitations.c.principal == bindparam("principal"))
    .where(identity_invitations.c.accepted_at.is_not(None))
    .where(identity_invitations.c.created_by == HOST_OPERATOR)
)


def _unsealed_host_links(store: Store, rows: list[Any]) -> list[str]:
    """The accepted_at of each of ``rows`` (links naming the host's operator) whose seal
    does not verify: such a claim is not the operator's, the link starts the quarantine."""
    if not rows:
        return []
    sealer = Sealer(store)
    out = []
    for row in rows:
        if not sealer.verifies(INVITATION, row, _invitation_fields(row)):
            _log.warning("invitation row %s names the host operator without its seal", row.id)
            out.append(str(row.accepted_at))
    return out


def quarantine_until(store: Store, principal: str, *, now: datetime) -> tuple[datetime, str] | None:
    """Until when ``principal`` may approve nothing, and why (None: not quarantined).

    Two events start the same quarantine of :data:`RESET_QUARANTINE`: another person
    reset ``principal``'s factor (``"reset"``), or ``principal``'s first factor was
    enrolled through an invitation (``"invitation"``). Either way someone other than the
    person may hold the new factor (who asked for the reset, the admin who made the link,
    anyone it was forwarded to); the alert raised at once and the quarantine give the
    real person and the other admins a day to notice before it can approve anything.
    Nothing lifts or shortens it, for anyone. The host operator's links start none, but
    only when their seal (which covers ``created_by``) verifies.
    """
    with store.read() as conn:
        row = conn.execute(_QUARANTINE_STARTS, {"principal": principal}).one()
        hosts = list(conn.execute(_HOST_INVITED, {"principal": principal}).all())
    starts = [
        (parse(str(at)), why) for at, why in zip(row, ("reset", "invitation"), strict=True) if at
    ]
    starts += [(parse(at), "invitation") for at in _unsealed_host_links(store, hosts)]
    ends = [(start + RESET_QUARANTINE, why) for start, why in starts]
    # The log's own record of each opened link: accepted_at is a store value (moved back
    # or cleared, it would lift the quarantine); the event that opened it is not.
    ends += [(until, "invitation") for until in _logged_quarantines(store, principal)]
    if not ends:
        return None
    until, why = max(ends)
    return (until, why) if until > now else None


def _logged_quarantines(store: Store, principal: str) -> list[datetime]:
    """The ``quarantined_until`` of each ``identity.invitation.accepted`` event of
    ``principal`` whose link was not the host operator's (as the event, not the row,
    names its maker)."""
    with store.read() as conn:
        found = conn.execute(_SPENT_IN_LOG, {"resource": f"principal:{principal}"}).all()
    out: list[datetime] = []
    for code, raw in found:
        if code != ev.INVITATION_ACCEPTED.code:
            continue
        try:
            details = json.loads(bytes(raw)).get("unmapped", {})
            if details.get("invited_by") != HOST_OPERATOR:
                out.append(parse(str(details["quarantined_until"])))
        except (ValueError, AttributeError, KeyError):
            continue  # not an event of ours: the chain check reports it
    return out


def reset_quarantine_until(store: Store, principal: str, *, now: datetime) -> datetime | None:
    """When ``principal`` may approve again (None: not quarantined); see quarantine_until."""
    got = quarantine_until(store, principal, now=now)
    return got[0] if got is not None else None


def factor_reset_problem(store: Store, principal: str, now: datetime) -> str | None:
    """Why ``principal`` may not approve right now: its factor is new (reset or invitation)."""
    got = quarantine_until(store, principal, now=now)
    if got is None:
        return None
    until, why = got
    if why == "invitation":
        return (
            f"{principal!r} enrolled its first MFA factor through an invitation and may "
            f"approve nothing until {fmt(until)}"
        )
    return f"{principal!r} had its MFA factor reset and may approve nothing until {fmt(until)}"


__all__ = [
    "INVITATION_TTL",
    "RESET_QUARANTINE",
    "Accepted",
    "Invitation",
    "accept_invitation",
    "account_active",
    "check_password",
    "confirm_invitation",
    "create_invitation",
    "factor_reset_problem",
    "quarantine_until",
    "record_factor_reset",
    "record_factor_reset_on",
    "reset_quarantine_until",
]


def retire_undeclared(
    store: Store, estate: Estate, *, now: datetime, actor: str = "stagewall.yaml"
) -> list[str]:
    """Retire the sign-in state of every principal ``estate`` no longer declares, or
    declares with other identity attributes than its state was made for.

    A name taken out of stagewall.yaml and declared again later (another person, the
    same name) must not find the old person's password, factors or logins waiting:
    the account row, the TOTP enrolment and passkeys go, step-up windows close,
    tokens are revoked and pending invitations voided, each principal's in one
    transaction with its ``identity.account.retired`` event, whose ``reason`` is
    ``undeclared`` or ``identity-changed`` (then ``changed`` names the attributes; see
    :mod:`stagewall.identity.bindings`). That catches a name removed and declared again
    between two reloads the server never saw, as long as the two declarations differ.
    The server runs this at start and on every reload of the estate; the invitations
    and audit events stay as the record of what was. A principal declared but
    ``disabled`` keeps its state (it is refused on every request and comes back when
    enabled). State made before bindings existed is bound here to the declaration in
    force. Returns the names retired.
    """
    from stagewall.identity import stepup
    from stagewall.identity._tables import (
        identity_bindings,
        identity_tokens,
        identity_webauthn_credentials,
    )
    from stagewall.identity.tokens import revoke_all_on
    from stagewall.mfa._tables import mfa_enrolments

    declared = set(estate.principals)
    with store.read() as conn:
        names: set[str] = set()
        for column in (
            identity_accounts.c.principal,
            mfa_enrolments.c.principal,
            identity_webauthn_credentials.c.principal,
        ):
            names.update(conn.execute(select(column).distinct()).scalars())
        names.update(
            conn.execute(
                select(identity_tokens.c.principal)
                .where(identity_tokens.c.revoked_at.is_(None))
                .distinct()
            ).scalars()
        )
        names.update(
            conn.execute(
                select(identity_invitations.c.principal)
                .where(identity_invitations.c.accepted_at.is_(None))
                .where(identity_invitations.c.expires_at > fmt(now))
                .distinct()
            ).scalars()
        )
        bound = bindings.recorded(conn)
    why: dict[str, tuple[str, list[str]]] = {}
    for name in names | set(bound):
        if name not in declared:
            why[name] = ("undeclared", [])
        elif name in bound:
            diff = bindings.changed(bound[name], bindings.declaration(estate, name))
            if diff:
                why[name] = ("identity-changed", diff)
    retired = sorted(why)
    for principal in retired:
        reason, diff = why[principal]
        with store.transaction() as conn:
            account = conn.execute(
                delete(identity_accounts).where(identity_accounts.c.principal == principal)
            ).rowcount
            totp = conn.execute(
                delete(mfa_enrolments).where(mfa_enrolments.c.principal == principal)
            ).rowcount
            keys = passkeys.remove_all(conn, principal)
            stepup.close_windows_on(conn, principal)
            tokens = revoke_all_on(conn, principal, now=now, audit=AuditLog(store))
            invitations = conn.execute(
                update(identity_invitations)
                .where(identity_invitations.c.principal == principal)
                .where(identity_invitations.c.accepted_at.is_(None))
                .where(identity_invitations.c.expires_at > fmt(now))
                .values(expires_at=fmt(now))
            ).rowcount
            conn.execute(
                delete(identity_bindings).where(identity_bindings.c.principal == principal)
            )
            what = (
                "is no longer declared in the estate"
                if reason == "undeclared"
                else f"is declared with other {', '.join(diff)} (another person?)"
            )
            AuditLog(store).append(
                AuditEvent(
                    ev.ACCOUNT_RETIRED.code,
                    Status.SUCCESS,
                    actor,
                    f"{principal} {what}: its account, factors and logins were retired",
                    resource=f"principal:{principal}",
                    details={
                        "reason": reason,
                        "changed": diff,
                        "account_removed": account == 1,
                        "code_factor_removed": totp == 1,
                        "passkeys_removed": keys,
                        "logins_revoked": tokens,
                        "invitations_voided": invitations,
                    },
                ),
                conn=conn,
            )
    for principal in sorted((names & declared) - set(bound) - set(why)):
        bindings.bind(store, estate, principal, now=now, how="first-seen")
    return retired
