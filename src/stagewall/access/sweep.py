"""The sweep: expiry, re-checking live grants against the estate, retries, orphans.

Safe to run in several processes at once: every grant is ended under the
store lock of that grant (PostgreSQL advisory lock / SQLite write lock) and
``end_grant`` is idempotent; an orphan login is re-checked under the same lock
before it is removed, so a login being issued right now is never mistaken for
an orphan.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from stagewall.access import _events as ev
from stagewall.access._context import AccessContext
from stagewall.access._core import fmt_time
from stagewall.access._policy import Source, eligibility_problem, hold_problem, tier_problem
from stagewall.access._tables import access_credentials, access_followups, access_grants
from stagewall.access.grants import (
    Grant,
    GrantStatus,
    _row_to_grant,
    materialise_standing,
    standing_grant_id,
    unbound_problems,
)
from stagewall.access.issuers import CredentialIssuer, CredentialSpec, ManagedLogin
from stagewall.access.revoke import end_grant, revoke_logins
from stagewall.alerts import Alert, Severity
from stagewall.audit import Status
from stagewall.errors import StagewallError

SWEEP_PARALLEL = 8  # grants ended at once on a PostgreSQL store


@dataclass
class SweepReport:
    expired: list[str] = field(default_factory=list)
    invalidated: list[str] = field(default_factory=list)
    retried: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    unattributed: list[str] = field(default_factory=list)
    unverified: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    overdue_follow_ups: list[str] = field(default_factory=list)
    # logins removed because their grant's role no longer covers their resource
    uncovered: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unverified and not self.errors and not self.unattributed

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "ok": self.ok}


def _live_standing_ids(ctx: AccessContext) -> set[str]:
    return {
        standing_grant_id(sg.principal, sg.role, sg.expires.isoformat())
        for sg in ctx.estate.standing_grants
    }


def _sweep_grants(ctx: AccessContext, report: SweepReport) -> None:
    now = ctx.now()
    with ctx.store.read() as conn:
        active_rows = conn.execute(
            select(access_grants).where(access_grants.c.status == GrantStatus.ACTIVE.value)
        ).all()
        active = [_row_to_grant(r._mapping) for r in active_rows]
        retry_ids = {
            str(g)
            for g in conn.execute(
                select(access_credentials.c.grant_id)
                .join(access_grants, access_grants.c.id == access_credentials.c.grant_id)
                .where(access_credentials.c.state != "revoked")
                .where(access_grants.c.status != GrantStatus.ACTIVE.value)
            ).scalars()
        }
        off = ctx.offboarded(conn)
        issued: dict[str, set[str]] = {}
        for gid, res in conn.execute(
            select(access_credentials.c.grant_id, access_credentials.c.resource)
            .join(access_grants, access_grants.c.id == access_credentials.c.grant_id)
            .where(access_grants.c.status == GrantStatus.ACTIVE.value)
            .where(access_credentials.c.state != "revoked")
        ).all():
            issued.setdefault(str(gid), set()).add(str(res))
    standing = _live_standing_ids(ctx)
    with ctx.store.read() as conn:
        # Every live grant's binding, checked in a few statements (not a few per grant).
        unbound = unbound_problems(ctx, conn, active_rows)

    _lock_out_expired(ctx, active, now)

    def one(g: Grant) -> None:
        try:
            _sweep_one(ctx, g, now, standing, off, report, unbound)
            if g.id in issued:
                _sweep_uncovered(ctx, g, issued[g.id], report)
        except StagewallError as exc:
            report.errors.append(f"grant {g.id}: {exc.message}")

    # Grants end independently (each under its own store lock, end_grant idempotent), so
    # on PostgreSQL many expiring at once end in parallel: the last session of a burst
    # is killed in about the time of one revocation, not of all of them in a row. SQLite
    # has one writer, so there they end one after the other.
    if ctx.store.backend == "postgresql" and len(active) > 1:
        with ThreadPoolExecutor(max_workers=SWEEP_PARALLEL, thread_name_prefix="sw-sweep") as pool:
            list(pool.map(one, active))
    else:
        for g in active:
            one(g)
    _reconcile_groups(ctx, active, issued, report)
    for gid in sorted(retry_ids):
        try:
            rep = end_grant(
                ctx, gid, actor="stagewall.sweep", reason="retry", status=GrantStatus.REVOKED
            )
        except StagewallError as exc:
            report.errors.append(f"grant {gid}: {exc.message}")
            continue
        report.retried.append(gid)
        report.unverified += [p.login for p in rep.proofs if not p.verified]


def _reconcile_groups(
    ctx: AccessContext, active: list[Grant], issued: dict[str, set[str]], report: SweepReport
) -> None:
    """A role changed in the estate (narrowed from write to read, a schema taken away)
    reaches the logins already issued for it at the next sweep, not at the role's next
    issuance: the group of each role with issued logins is brought to what the role
    declares now (once per declaration and process: no statement when nothing changed)."""
    done: set[tuple[str, str]] = set()
    instance = ctx.instance_id()
    for g in active:
        role = ctx.estate.roles.get(g.role)
        if role is None or g.id not in issued:
            continue
        covered = set(ctx.credential_resources(g.role))
        for res in sorted(issued[g.id] & covered):
            if (res, g.role) in done:
                continue
            done.add((res, g.role))
            try:
                reconcile = getattr(ctx.issuer(res), "reconcile", None)
                if reconcile is None:
                    continue
                reconcile(
                    CredentialSpec.of(
                        grant_id=g.id,
                        instance_id=instance,
                        resource=res,
                        role_name=g.role,
                        role=role,
                        valid_until=g.ends_at,
                    )
                )
            except StagewallError as exc:
                report.errors.append(f"{res}: role {g.role}: {exc.message}")


def _lock_out_expired(ctx: AccessContext, active: list[Grant], now: datetime) -> None:
    """End the sessions of every expired grant at once, before the full revocations.

    A burst of grants ending together (a shift, a batch of approvals) would otherwise
    wait for each complete revocation in turn, each holding the audit log's lock. Only
    resources that are still the server they were pinned to are touched. Failures are
    left to the full revocation that follows, which reports and retries them.
    """
    from stagewall.access.grants import credential_rows
    from stagewall.access.revoke import _identity_problem

    expired = [g for g in active if now >= g.ends_at]
    if not expired:
        return
    with ctx.store.read() as conn:
        logins = [
            (str(c["resource"]), str(c["login"]))
            for g in expired
            for c in credential_rows(conn, g.id)
            if c["state"] != "revoked"
        ]
    safe = {
        res
        for res in {r for r, _ in logins}
        if _identity_problem(ctx, res, "stagewall.sweep") is None
    }

    def lock_out(item: tuple[str, str]) -> None:
        res, login = item
        try:
            fn = getattr(ctx.issuer(res), "lock_out", None)
            if fn is not None:
                fn(login)
        except StagewallError:
            return  # the full revocation below reports it and keeps it pending

    todo = [x for x in logins if x[0] in safe]
    if len(todo) == 1:
        lock_out(todo[0])
    elif todo:
        with ThreadPoolExecutor(max_workers=SWEEP_PARALLEL, thread_name_prefix="sw-lock") as pool:
            list(pool.map(lock_out, todo))


def _sweep_one(
    ctx: AccessContext,
    g: Grant,
    now: datetime,
    standing: set[str],
    off: set[str],
    report: SweepReport,
    unbound: dict[str, str],
) -> None:
    status, reason = GrantStatus.EXPIRED, ""
    if g.id in unbound:
        reason = f"not bound to its audit event: {unbound[g.id]}"
        status = GrantStatus.REVOKED
        ctx.refuse(
            ev.GRANT_UNBOUND.code,
            "stagewall.sweep",
            f"grant {g.id} ({g.role} of {g.principal}) {reason}; revoking it",
            resource=f"grant:{g.id}",
            details={"grant": g.id, "principal": g.principal, "role": g.role},
            loud=True,
        )
    elif now >= g.ends_at:
        reason = f"expired at {fmt_time(g.ends_at)}"
    else:
        problem = (
            hold_problem(ctx.estate, g.principal, g.role, source=g.source, now=now, offboarded=off)
            or tier_problem(ctx.estate, g.role, granted_production=g.production)
            or eligibility_problem(ctx.estate, g.principal, g.role, source=g.source)
        )
        if problem is None and g.source is Source.STANDING and g.id not in standing:
            reason = "the standing grant was removed from stagewall.yaml"
        elif problem is not None:
            reason = f"no longer allowed: {problem.text}"
            if problem.invariant:
                ctx.alert(
                    Alert(
                        kind="access.invariant.violated",
                        title=f"grant {g.id} breaks the production invariant",
                        text=f"grant {g.id} ({g.role} of {g.principal}): {problem.text}; "
                        "revoking it now",
                        severity=Severity.CRITICAL,
                        details={"grant": g.id},
                    )
                )
        status = GrantStatus.REVOKED
    if not reason:
        return
    rep = end_grant(ctx, g.id, actor="stagewall.sweep", reason=reason, status=status)
    (report.expired if status is GrantStatus.EXPIRED else report.invalidated).append(g.id)
    report.unverified += [p.login for p in rep.proofs if not p.verified]


def _sweep_uncovered(
    ctx: AccessContext, g: Grant, resources: set[str], report: SweepReport
) -> None:
    """Remove a live grant's logins on resources its role no longer names.

    A login is issued for a resource of the role as the estate declared it then. When
    the resource leaves the role (the role narrowed, or the resource moved to another
    environment, production included), the grant may still be allowed, but the login
    is not: an external's staging login would otherwise outlive its database's move to
    production for as long as the grant runs (a standing grant: up to a year).
    """
    role = ctx.estate.roles.get(g.role)
    if role is None or g.status is not GrantStatus.ACTIVE:
        return  # the grant itself ends (hold_problem): every login goes with it
    stale = {res for res in resources if res not in role.resources}
    if not stale:
        return
    with ctx.store.read() as conn:
        still = conn.execute(
            select(access_grants.c.status).where(access_grants.c.id == g.id)
        ).scalar()
    if still != GrantStatus.ACTIVE.value:
        return  # ended in this sweep: its logins went with it
    estate = ctx.estate
    for res in sorted(stale):
        env = estate.environment_of_resource(res)
        where = f"environment {env!r}" if env is not None else "no environment (undeclared)"
        production = env is None or estate.is_production(env)
        reason = (
            f"role {g.role!r} no longer covers resource {res!r} (now in {where}"
            + (", production" if production else "")
            + ")"
        )
        if production and not estate.is_internal(g.principal):
            ctx.alert(
                Alert(
                    kind="access.invariant.violated",
                    title=f"grant {g.id} holds a login on production resource {res}",
                    text=f"grant {g.id} ({g.role} of {g.principal}): {reason}; externals never "
                    "hold production access; removing the login now",
                    severity=Severity.CRITICAL,
                    details={"grant": g.id, "resource": res, "principal": g.principal},
                )
            )
        rep = revoke_logins(ctx, g.id, {res}, actor="stagewall.sweep", reason=reason)
        report.uncovered += [p.login for p in rep.proofs]
        report.unverified += [p.login for p in rep.proofs if not p.verified]


def _explained(ctx: AccessContext, grant_id: str | None, login: str) -> bool:
    """Whether a live grant with an issued credential explains ``login`` (under its lock)."""
    if grant_id is None:
        return False
    with ctx.store.transaction() as conn:
        ctx.store.lock(conn, f"stagewall.grant.{grant_id}")
        row = conn.execute(
            select(access_grants.c.status, access_credentials.c.state)
            .join(access_credentials, access_credentials.c.grant_id == access_grants.c.id)
            .where(access_grants.c.id == grant_id)
            .where(access_credentials.c.login == login)
        ).first()
    return row is not None and row[0] == GrantStatus.ACTIVE.value and row[1] == "issued"


def _issued_live(ctx: AccessContext) -> set[tuple[str, str]]:
    """(grant id, login) of every issued credential of an active grant, in one read.

    A login found here is explained; only the others are re-checked one by one under
    their grant's lock (:func:`_explained`), so a login being issued right now is
    never taken for an orphan, and a sweep costs no lock per live login.
    """
    with ctx.store.read() as conn:
        rows = conn.execute(
            select(access_credentials.c.grant_id, access_credentials.c.login)
            .join(access_grants, access_grants.c.id == access_credentials.c.grant_id)
            .where(access_grants.c.status == GrantStatus.ACTIVE.value)
            .where(access_credentials.c.state == "issued")
        ).all()
    return {(str(r[0]), str(r[1])) for r in rows}


def _sweep_orphans(ctx: AccessContext, report: SweepReport) -> None:
    resources = sorted({res for role in ctx.estate.roles for res in ctx.credential_resources(role)})
    mine = ctx.instance_id()
    live = _issued_live(ctx) if resources else set()
    for res in resources:
        try:
            issuer = ctx.issuer(res)
            logins = issuer.managed_logins()
        except StagewallError as exc:
            report.errors.append(f"{res}: {exc.message}")
            continue
        for ml in logins:
            try:
                _sweep_orphan(ctx, issuer, res, mine, ml, report, live)
            except StagewallError as exc:
                report.errors.append(f"{res}: login {ml.login}: {exc.message}")


def _sweep_orphan(
    ctx: AccessContext,
    issuer: CredentialIssuer,
    res: str,
    mine: str,
    ml: ManagedLogin,
    report: SweepReport,
    live: set[tuple[str, str]],
) -> None:
    if ml.instance_id is not None and ml.instance_id != mine:
        return  # another stagewall deployment's login
    if ml.instance_id is None or ml.grant_id is None or not issuer.is_stagewall_login(ml.login):
        # Carries the marker but no marker comment of ours (or a name stagewall never
        # gives): it cannot be attributed, so it is never dropped, only reported.
        report.unattributed.append(ml.login)
        if (res, ml.login) in ctx.alerted_unattributed:
            return
        ctx.alerted_unattributed.add((res, ml.login))
        ctx.alert(
            Alert(
                kind="access.orphan.unattributed",
                title=f"unattributed role {ml.login} carries the stagewall marker on {res}",
                text=f"role {ml.login} is a member of the stagewall marker role but no grant "
                "of this deployment names it; stagewall does not touch it. Find out who made "
                "it and remove it by hand.",
                severity=Severity.CRITICAL,
                details={"resource": res, "login": ml.login},
            )
        )
        return
    if (ml.grant_id, ml.login) in live or _explained(ctx, ml.grant_id, ml.login):
        return
    proof = issuer.revoke(ml.login)
    ctx.record(
        ev.ORPHAN_REVOKED.code,
        "stagewall.sweep",
        f"orphan login {ml.login} on {res} (grant {ml.grant_id}) removed"
        + ("" if proof.verified else "; NOT verified"),
        status=Status.SUCCESS if proof.verified else Status.FAILURE,
        resource=f"resource:{res}",
        details={**proof.as_dict(), "grant": ml.grant_id},
    )
    report.orphans.append(ml.login)
    if not proof.verified:
        report.unverified.append(ml.login)
        ctx.alert(
            Alert(
                kind="access.revocation.failed",
                title=f"orphan login {ml.login} could not be removed",
                text=proof.error or "sessions, login, owned objects or memberships remain",
                severity=Severity.CRITICAL,
                details=proof.as_dict(),
            )
        )


def _sweep_follow_ups(ctx: AccessContext, report: SweepReport) -> None:
    now = fmt_time(ctx.now())
    with ctx.store.transaction() as conn:
        rows = conn.execute(
            select(
                access_followups.c.id,
                access_followups.c.holder,
                access_followups.c.due_at,
                access_followups.c.overdue_alerted,
            )
            .where(access_followups.c.completed_at.is_(None))
            .where(access_followups.c.due_at < now)
        ).all()
        fresh = [r for r in rows if not r[3]]
        if fresh:
            conn.execute(
                update(access_followups)
                .where(access_followups.c.id.in_([r[0] for r in fresh]))
                .values(overdue_alerted=True)
            )
    report.overdue_follow_ups = [str(r[0]) for r in rows]
    for fid, holder, due, _ in fresh:
        ctx.alert(
            Alert(
                kind="access.followup.overdue",
                title=f"break-glass follow-up {fid} is overdue",
                text=f"the break-glass of {holder} was due for review at {due}",
                severity=Severity.CRITICAL,
                details={"follow_up": fid},
            )
        )


def sweep(ctx: AccessContext) -> SweepReport:
    """One pass: standing grants, expiry, estate re-check, retries, orphans, follow-ups."""
    report = SweepReport()
    materialise_standing(ctx)
    _sweep_grants(ctx, report)
    _sweep_orphans(ctx, report)
    _sweep_follow_ups(ctx, report)
    return report


def sweep_loop(
    ctx: AccessContext,
    *,
    interval: float,
    max_iterations: int | None = None,
    stop: threading.Event | None = None,
) -> list[SweepReport]:
    """Sweep every ``interval`` seconds until ``stop`` is set or ``max_iterations`` ran."""
    reports: list[SweepReport] = []
    stop = stop or threading.Event()
    n = 0
    while not stop.is_set():
        started = time.monotonic()
        reports.append(sweep(ctx))
        del reports[:-10]
        n += 1
        if max_iterations is not None and n >= max_iterations:
            break
        stop.wait(max(0.0, interval - (time.monotonic() - started)))
    return reports
