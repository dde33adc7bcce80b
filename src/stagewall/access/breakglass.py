"""Break-glass: immediate, short, loud, and followed up by someone else within 24 hours."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from stagewall.access import _events as ev
from stagewall.access._context import AccessContext
from stagewall.access._core import fmt_time, new_id, parse_time
from stagewall.access._policy import Source, hold_problem
from stagewall.access._rules import outside_groups
from stagewall.access._tables import access_followups, access_grants
from stagewall.access.grants import Grant, GrantRefused, create_grant, load_grant
from stagewall.alerts import Alert, Severity
from stagewall.errors import AccessDenied, BackendError, UsageError
from stagewall.estate import LoadedEstate, Violation
from stagewall.estate.models import BREAK_GLASS_CAP
from stagewall.identity.accounts import factor_reset_problem
from stagewall.paths import configured_store_url
from stagewall.store import open_store

FOLLOW_UP_WITHIN = timedelta(hours=24)


@dataclass(frozen=True)
class FollowUp:
    id: str
    grant_id: str
    holder: str
    opened_at: str
    due_at: str
    completed_by: str | None
    completed_at: str | None
    note: str | None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _followup(m: Any) -> FollowUp:
    return FollowUp(
        m["id"],
        m["grant_id"],
        m["holder"],
        m["opened_at"],
        m["due_at"],
        m["completed_by"],
        m["completed_at"],
        m["note"],
    )


def repeat_problem(ctx: AccessContext, conn: Connection, principal: str, role: str) -> str | None:
    """Why ``principal`` may not break glass again yet (None: nothing open).

    Break-glass replaces the approval only once: until another internal person has
    completed the follow-up of the last one, the next hour of production goes through
    a request and its approval. Chaining break-glass grants would otherwise keep
    production for a day on nobody's approval, one unreviewed hour at a time, and a
    new break-glass while one's own is still live would only stretch it past its cap.
    """
    now = fmt_time(ctx.now())
    open_fu = conn.execute(
        select(access_followups.c.id, access_followups.c.due_at)
        .where(access_followups.c.holder == principal)
        .where(access_followups.c.completed_at.is_(None))
        .order_by(access_followups.c.opened_at)
    ).first()
    if open_fu is not None:
        return (
            f"the follow-up {open_fu.id} of {principal}'s earlier break-glass is still open "
            f"(due {open_fu.due_at}); another internal person completes it first "
            f"(`stagewall access follow-up {open_fu.id}`), or request the role for approval"
        )
    live = conn.execute(
        select(access_grants.c.id, access_grants.c.ends_at)
        .where(access_grants.c.principal == principal)
        .where(access_grants.c.role == role)
        .where(access_grants.c.source == Source.BREAK_GLASS.value)
        .where(access_grants.c.status == "active")
        .where(access_grants.c.ends_at > now)
    ).first()
    if live is not None:
        return (
            f"{principal} already holds break-glass grant {live.id} of {role!r} until "
            f"{live.ends_at}; break-glass is never extended (request the role for approval)"
        )
    return None


def break_glass_problem(
    ctx: AccessContext, principal: str, role: str, *, offboarded: Any = None
) -> str | None:
    """Why ``principal`` may not break glass into ``role`` now (None: may, given a step-up)."""
    if offboarded is None:
        with ctx.store.read() as conn:
            offboarded = ctx.offboarded(conn)
    problem = hold_problem(
        ctx.estate, principal, role, source=Source.BREAK_GLASS, now=ctx.now(), offboarded=offboarded
    )
    if problem is not None:
        return problem.text
    if principal not in ctx.estate.eligible_for(role):
        return f"{principal!r} is not eligible for role {role!r}"
    # Breaking glass approves one's own production access: a factor reset in the last
    # 24 hours (perhaps talked out of a colleague) must not give production at once.
    quarantined = factor_reset_problem(ctx.store, principal, ctx.now())
    if quarantined is not None:
        return quarantined
    with ctx.store.read() as conn:
        return repeat_problem(ctx, conn, principal, role)


def break_glass(
    ctx: AccessContext,
    *,
    principal: str,
    role: str,
    reason: str,
    otp: str | None = None,
    duration: timedelta = BREAK_GLASS_CAP,
    webauthn: str | Mapping[str, Any] | None = None,
    ticket: str | None = None,
) -> tuple[Grant, FollowUp]:
    """Grant ``role`` at once (≤ 1 h), alert, and open the mandatory follow-up review.

    ``ticket``: the incident's ticket, when there is one (recorded with the reason)."""
    if not reason.strip():
        raise UsageError("a reason is required (--reason TEXT)")
    if role not in ctx.estate.roles:
        raise UsageError(f"role {role!r} is not declared")
    if duration <= timedelta(0) or duration > BREAK_GLASS_CAP:
        raise UsageError(f"break-glass lasts at most {BREAK_GLASS_CAP}")
    if ticket is not None and len(ticket) > 256:
        raise UsageError("the ticket is longer than 256 characters")
    now = ctx.now()
    details: dict[str, Any] = {"role": role, "reason": reason}
    if ticket:
        details["ticket"] = ticket
    with ctx.store.read() as conn:
        off = ctx.offboarded(conn)
    problem_text = break_glass_problem(ctx, principal, role, offboarded=off) or ""
    if problem_text:
        raise ctx.refuse(
            ev.BREAK_GLASS.code,
            principal,
            f"break-glass for {role!r} by {principal!r} refused: {problem_text}",
            resource=f"role:{role}",
            details=details,
            loud=True,
        )
    ctx.step_up(principal, otp, webauthn, purpose=f"break-glass {role}")
    try:
        with ctx.store.transaction() as conn:
            # Again under a lock per person: two break-glass calls at once make one grant.
            ctx.store.lock(conn, f"stagewall.breakglass.{principal}")
            again = repeat_problem(ctx, conn, principal, role)
            if again is not None:
                raise GrantRefused(
                    f"break-glass for {role!r} by {principal!r} refused: {again}",
                    invariant=False,
                )
            grant = create_grant(
                ctx,
                conn,
                principal=principal,
                role=role,
                source=Source.BREAK_GLASS,
                start=now,
                wanted_end=now + duration,
                reason=reason,
                actor=principal,
            )
            fu = FollowUp(
                new_id("f"),
                grant.id,
                principal,
                fmt_time(now),
                fmt_time(now + FOLLOW_UP_WITHIN),
                None,
                None,
                None,
            )
            conn.execute(
                insert(access_followups).values(
                    id=fu.id,
                    grant_id=grant.id,
                    holder=principal,
                    opened_at=fu.opened_at,
                    due_at=fu.due_at,
                    overdue_alerted=False,
                )
            )
            ctx.record(
                ev.BREAK_GLASS.code,
                principal,
                f"BREAK-GLASS: {principal} took {role} until {fmt_time(grant.ends_at)}: {reason}",
                resource=f"grant:{grant.id}",
                details={**details, "grant": grant.id, "follow_up": fu.id, "due": fu.due_at},
                conn=conn,
            )
    except GrantRefused as exc:
        raise ctx.refuse(ev.BREAK_GLASS.code, principal, exc.message, loud=True) from None
    ctx.alert(
        Alert(
            kind="access.breakglass.used",
            title=f"BREAK-GLASS: {principal} took {role}",
            text=f"{principal} used break-glass on {role} until {fmt_time(grant.ends_at)}: "
            f"{reason}\nFollow-up {fu.id} must be completed by another internal principal "
            f"before {fu.due_at}: stagewall access follow-up {fu.id} --as REVIEWER --otp CODE",
            severity=Severity.CRITICAL,
            details={"grant": grant.id, "follow_up": fu.id, "role": role, "principal": principal},
        )
    )
    return grant, fu


def complete_follow_up(
    ctx: AccessContext,
    follow_up_id: str,
    *,
    reviewer: str,
    otp: str | None = None,
    note: str,
    webauthn: str | Mapping[str, Any] | None = None,
) -> FollowUp:
    """Another internal principal reviews what the break-glass was used for."""
    if not note.strip():
        raise UsageError("a note on what was reviewed is required (--note TEXT)")
    with ctx.store.read() as conn:
        row = conn.execute(
            select(access_followups).where(access_followups.c.id == follow_up_id)
        ).first()
    if row is None:
        raise UsageError(f"there is no break-glass follow-up {follow_up_id!r}")
    fu = _followup(row._mapping)
    if reviewer == fu.holder or not ctx.estate.is_internal(reviewer):
        why = (
            "the holder cannot review their own break-glass"
            if reviewer == fu.holder
            else ("follow-ups are completed by internal, enabled principals")
        )
        raise ctx.refuse(
            ev.FOLLOWUP_COMPLETED.code,
            reviewer,
            f"follow-up {follow_up_id} refused: {why}",
            loud=True,
        )
    # Signing off a break-glass approves it after the fact: the bar is the approval's.
    with ctx.store.read() as conn:
        role = load_grant(conn, fu.grant_id).role
    groups = outside_groups(ctx.estate, role, reviewer)
    unfit = (
        f"follow-ups are signed off by someone who may approve role {role!r} (group {groups})"
        if groups is not None
        else factor_reset_problem(ctx.store, reviewer, ctx.now())
    )
    if unfit is not None:
        raise ctx.refuse(
            ev.FOLLOWUP_COMPLETED.code,
            reviewer,
            f"follow-up {follow_up_id} refused: {unfit}",
            resource=f"grant:{fu.grant_id}",
        )
    if fu.completed_at is not None:  # before the MFA check: it burns no code
        raise AccessDenied(f"follow-up {follow_up_id} was already completed")
    evidence = ctx.step_up(reviewer, otp, webauthn, purpose=f"follow-up {follow_up_id}")
    with ctx.store.transaction() as conn:
        ctx.store.lock(conn, f"stagewall.followup.{follow_up_id}")
        done = conn.execute(
            update(access_followups)
            .where(access_followups.c.id == follow_up_id)
            .where(access_followups.c.completed_at.is_(None))
            .values(
                completed_by=reviewer,
                completed_at=fmt_time(ctx.now()),
                note=note,
                mfa_time=evidence.time,
            )
        ).rowcount
        if done != 1:
            raise AccessDenied(f"follow-up {follow_up_id} was already completed")
        grant = load_grant(conn, fu.grant_id)
        ctx.record(
            ev.FOLLOWUP_COMPLETED.code,
            reviewer,
            f"{reviewer} completed break-glass follow-up {follow_up_id} of {fu.holder} "
            f"({grant.role})",
            resource=f"grant:{fu.grant_id}",
            details={"note": note, "mfa": evidence.as_dict()},
            conn=conn,
        )
        row = conn.execute(
            select(access_followups).where(access_followups.c.id == follow_up_id)
        ).first()
    if row is None:
        raise BackendError(f"follow-up {follow_up_id} vanished from the store")
    return _followup(row._mapping)


def overdue_follow_ups(store_url: str | None, now_text: str) -> list[FollowUp]:
    url = configured_store_url(store_url)
    if url is None:
        return []
    store = open_store(url)
    try:
        with store.read() as conn:
            rows = conn.execute(
                select(access_followups)
                .where(access_followups.c.completed_at.is_(None))
                .where(access_followups.c.due_at < now_text)
            ).all()
    finally:
        store.dispose()
    return [_followup(r._mapping) for r in rows]


def _state_check(loaded: LoadedEstate, store_url: str | None) -> list[Violation]:
    from datetime import UTC, datetime

    now = fmt_time(datetime.now(UTC))
    out = []
    for fu in overdue_follow_ups(store_url, now):
        late = datetime.now(UTC) - parse_time(fu.due_at)
        out.append(
            Violation(
                "SW-ACC-001",
                f"break-glass follow-up {fu.id} of {fu.holder} (grant {fu.grant_id}) was due "
                f"{fu.due_at} and is {int(late.total_seconds() // 3600)}h overdue; run "
                f"`stagewall access follow-up {fu.id} --as REVIEWER --otp CODE --note TEXT`",
                "store",
            )
        )
    return out
