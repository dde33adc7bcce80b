"""Ending grants with proof: manual revoke, expiry, review decisions, vendor offboarding.

``end_grant`` marks the grant ended, removes every login it holds through the
issuer (NOLOGIN, kill sessions, drop) and records the measured result. A login
whose removal cannot be verified (PostgreSQL down, a session that survives, an
object that could not be quarantined) stays ``revoke_pending``: the grants
listing shows it, an alert goes out at once and every sweep retries it until it
verifies. Objects the holder left behind (now owned by the quarantine role) and
the SECURITY DEFINER functions and triggers disabled are in the audit event and
raise a critical alert. A failing alert sink never blocks any of this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, insert, select, update

from stagewall.access import _events as ev
from stagewall.access._context import AccessContext
from stagewall.access._core import fmt_time
from stagewall.access._tables import access_credentials, access_grants, access_offboarded
from stagewall.access.grants import GrantStatus, credential_rows, load_grant
from stagewall.access.issuers import RevocationProof
from stagewall.alerts import Alert, Severity
from stagewall.audit import Status
from stagewall.errors import AccessDenied, IdentityRefused, StagewallError, UsageError
from stagewall.identity._codes import fmt
from stagewall.identity._codeseal import DENIED_MAC
from stagewall.identity._tables import (
    identity_cli_handoffs,
    identity_device_codes,
    identity_invitations,
    identity_step_up_windows,
    identity_tokens,
)
from stagewall.identity.tokens import revoke_on


@dataclass(frozen=True)
class RevokeReport:
    grant_id: str
    ended_now: bool
    proofs: tuple[RevocationProof, ...] = field(default_factory=tuple)

    @property
    def verified(self) -> bool:
        return all(p.verified for p in self.proofs)

    def as_dict(self) -> dict[str, Any]:
        return {
            "grant": self.grant_id,
            "ended_now": self.ended_now,
            "verified": self.verified,
            "logins": [p.as_dict() for p in self.proofs],
        }


def _identity_problem(ctx: AccessContext, resource: str, actor: str) -> str | None:
    """Why the resource must not be touched now (it is not the server it was pinned to)."""
    from stagewall.access.identity import verify_resource

    try:
        ident = ctx.issuer(resource).identity()
    except StagewallError:
        return None  # unreachable: the revocation itself fails and stays pending
    try:
        verify_resource(ctx, resource, ident, actor=actor, purpose="revocation", overlap=False)
    except IdentityRefused as exc:
        return exc.message
    return None


def _revoke_login(
    ctx: AccessContext, resource: str, login: str, refused: str | None = None
) -> RevocationProof:
    if refused is not None:
        # Revoking on another server would "verify" a login that was never there.
        return RevocationProof(login, False, 0, -1, True, True, error=refused)
    try:
        return ctx.issuer(resource).revoke(login)
    except StagewallError as exc:
        return RevocationProof(login, False, 0, -1, True, True, error=exc.message)


def end_grant(
    ctx: AccessContext, grant_id: str, *, actor: str, reason: str, status: GrantStatus
) -> RevokeReport:
    """End a grant (idempotent) and remove its logins; retries unverified removals."""
    return _remove(ctx, grant_id, actor=actor, reason=reason, status=status, only=None)


def revoke_logins(
    ctx: AccessContext, grant_id: str, resources: set[str], *, actor: str, reason: str
) -> RevokeReport:
    """Remove the grant's logins on ``resources`` only (the grant stays as it is), with
    the same proof, events and alerts as :func:`end_grant`; retried until verified."""
    return _remove(ctx, grant_id, actor=actor, reason=reason, status=None, only=resources)


def _remove(
    ctx: AccessContext,
    grant_id: str,
    *,
    actor: str,
    reason: str,
    status: GrantStatus | None,
    only: set[str] | None,
) -> RevokeReport:
    failed: list[RevocationProof] = []
    left: list[RevocationProof] = []

    def wanted(cred: Mapping[str, Any]) -> bool:
        return cred["state"] != "revoked" and (only is None or cred["resource"] in only)

    with ctx.store.read() as conn:
        pending = {c["resource"] for c in credential_rows(conn, grant_id) if wanted(c)}
    refused = {res: _identity_problem(ctx, res, actor) for res in sorted(pending)}
    with ctx.store.transaction() as conn:
        ctx.store.lock(conn, f"stagewall.grant.{grant_id}")
        grant = load_grant(conn, grant_id)
        ended_now = status is not None and grant.status is GrantStatus.ACTIVE
        now = ctx.now()
        if ended_now and status is not None:
            conn.execute(
                update(access_grants)
                .where(access_grants.c.id == grant_id)
                .values(
                    status=status.value,
                    revoked_at=fmt_time(now),
                    revoked_by=actor,
                    revoke_reason=reason,
                )
            )
            ctx.record(
                ev.GRANT_REVOKED.code,
                actor,
                f"grant {grant_id} ({grant.role} of {grant.principal}) ended: {reason}",
                resource=f"grant:{grant_id}",
                details={"status": status.value, "reason": reason, "principal": grant.principal},
                conn=conn,
            )
        proofs: list[RevocationProof] = []
        for cred in credential_rows(conn, grant_id):
            if not wanted(cred):
                continue
            proof = _revoke_login(
                ctx, cred["resource"], cred["login"], refused.get(cred["resource"])
            )
            proofs.append(proof)
            conn.execute(
                update(access_credentials)
                .where(access_credentials.c.grant_id == grant_id)
                .where(access_credentials.c.resource == cred["resource"])
                .values(
                    state="revoked" if proof.verified else "revoke_pending",
                    verified_at=fmt_time(ctx.now()) if proof.verified else None,
                    last_error=proof.error,
                )
            )
            ctx.record(
                ev.CREDENTIAL_REVOKED.code,
                actor,
                f"login {cred['login']} on {cred['resource']}: "
                + (
                    "removed, verified: no session, no login, no owned object, no membership"
                    if proof.verified
                    else "NOT verified; revoke pending"
                )
                + (f"; {len(proof.objects)} object(s) quarantined" if proof.objects else "")
                + (f" ({reason})" if only is not None else ""),
                status=Status.SUCCESS if proof.verified else Status.FAILURE,
                resource=f"grant:{grant_id}",
                details={
                    **proof.as_dict(),
                    "resource": cred["resource"],
                    **({"reason": reason} if only is not None else {}),
                },
                conn=conn,
            )
            if not proof.verified:
                failed.append(proof)
            if proof.objects or proof.disabled:
                left.append(proof)
    for proof in left:
        ctx.alert(
            Alert(
                kind="access.revocation.objects_quarantined",
                title=f"{proof.login} left {len(proof.objects)} object(s) behind",
                text=f"grant {grant_id}: objects moved to the quarantine role: "
                + "; ".join(proof.objects[:20])
                + (f"; disabled: {'; '.join(proof.disabled[:20])}" if proof.disabled else ""),
                severity=Severity.CRITICAL,
                details={"grant": grant_id, **proof.as_dict()},
            )
        )
    for proof in failed:
        ctx.alert(
            Alert(
                kind="access.revocation.failed",
                title=f"revocation of {proof.login} not verified",
                text=f"grant {grant_id}: {proof.error or 'sessions or login remain'}; "
                "`stagewall access sweep` retries",
                severity=Severity.CRITICAL,
                details={"grant": grant_id, **proof.as_dict()},
            )
        )
    return RevokeReport(grant_id, ended_now, tuple(proofs))


def _may_act(ctx: AccessContext, actor: str, holder: str | None = None) -> str | None:
    if actor == holder and actor in ctx.estate.principals:
        return None
    if not ctx.estate.is_internal(actor):
        return f"{actor!r} is not an internal, enabled principal"
    return None


def revoke_grant(
    ctx: AccessContext,
    grant_id: str,
    *,
    actor: str,
    reason: str,
    otp: str | None = None,
    webauthn: str | Mapping[str, Any] | None = None,
) -> RevokeReport:
    """Manual revoke by the holder or an internal principal, MFA-checked."""
    if not reason.strip():
        raise UsageError("a reason is required (--reason TEXT)")
    with ctx.store.read() as conn:
        grant = load_grant(conn, grant_id)
    problem = _may_act(ctx, actor, grant.principal)
    if problem is not None:
        raise ctx.refuse(
            ev.GRANT_REVOKED.code,
            actor,
            f"revoke of {grant_id} refused: {problem}",
            resource=f"grant:{grant_id}",
        )
    if grant.status is not GrantStatus.ACTIVE:
        # Decided before the MFA check, so "nothing to revoke" burns no code.
        with ctx.store.read() as conn:
            pending = [c for c in credential_rows(conn, grant_id) if c["state"] != "revoked"]
        if not pending:
            raise UsageError(f"grant {grant_id} is already {grant.status.value}")
    ctx.step_up(actor, otp, webauthn, purpose=f"revoke {grant_id}")
    return end_grant(ctx, grant_id, actor=actor, reason=reason, status=GrantStatus.REVOKED)


@dataclass(frozen=True)
class OffboardReport:
    vendor: str
    principals: tuple[str, ...]
    grants: tuple[RevokeReport, ...]
    undeclared: tuple[str, ...] = ()
    """Holders of stored grants no longer in stagewall.yaml; their grants were ended too."""

    @property
    def verified(self) -> bool:
        return all(g.verified for g in self.grants)

    def as_dict(self) -> dict[str, Any]:
        return {
            "vendor": self.vendor,
            "principals": list(self.principals),
            "undeclared_principals": list(self.undeclared),
            "verified": self.verified,
            "grants": [g.as_dict() for g in self.grants],
        }


def offboard_vendor(
    ctx: AccessContext,
    vendor: str,
    *,
    actor: str,
    otp: str | None = None,
    webauthn: str | Mapping[str, Any] | None = None,
) -> OffboardReport:
    """Revoke every grant of the vendor's principals, kill their sessions, block new grants."""
    if vendor not in ctx.estate.vendors:
        known = ", ".join(sorted(ctx.estate.vendors)) or "none"
        raise UsageError(f"vendor {vendor!r} is not declared (declared: {known})")
    if not ctx.estate.is_internal(actor):
        raise ctx.refuse(
            ev.VENDOR_OFFBOARDED.code,
            actor,
            f"offboarding of {vendor} refused: {actor!r} is not an internal, enabled principal",
            resource=f"vendor:{vendor}",
            loud=True,
        )
    ctx.step_up(actor, otp, webauthn, purpose=f"offboard {vendor}")
    people = tuple(sorted(pid for pid, p in ctx.estate.principals.items() if p.vendor == vendor))
    with ctx.store.transaction() as conn:
        ctx.store.lock(conn, f"stagewall.vendor.{vendor}")
        if (
            conn.execute(
                select(access_offboarded.c.vendor).where(access_offboarded.c.vendor == vendor)
            ).first()
            is None
        ):
            conn.execute(
                insert(access_offboarded).values(
                    vendor=vendor, offboarded_at=fmt_time(ctx.now()), offboarded_by=actor
                )
            )
        ctx.record(
            ev.VENDOR_OFFBOARDED.code,
            actor,
            f"vendor {vendor} offboarded by {actor}: all grants of {len(people)} principal(s) end",
            resource=f"vendor:{vendor}",
            details={"principals": list(people)},
            conn=conn,
        )
        # From the store, not only the file: a principal removed from stagewall.yaml keeps
        # its grants and logins until they are ended, and nothing says whose they were, so
        # grants of principals the estate no longer declares end too.
        rows = conn.execute(select(access_grants.c.id, access_grants.c.principal)).all()
        ids = [str(gid) for gid, who in rows if who in people or who not in ctx.estate.principals]
        undeclared = sorted({str(w) for _, w in rows if w not in ctx.estate.principals})
        # Their logins end with the vendor: a session kept would still submit promotions
        # and read what their principals may read (the server also refuses them per request).
        revoke_on(
            conn,
            identity_tokens.c.principal.in_(people),
            now=ctx.now(),
            by=actor,
            audit=ctx.audit,
            why=f"revoked: vendor {vendor} offboarded",
        )
        conn.execute(
            delete(identity_step_up_windows).where(identity_step_up_windows.c.principal.in_(people))
        )
        # Sign-ins in flight die with them: an invitation link not yet used, a device code
        # or a `login --browser` hand-off approved but not yet redeemed (the server also
        # refuses each of these for an offboarded vendor's person when it is used).
        stamp = fmt(ctx.now())
        conn.execute(
            update(identity_invitations)
            .where(identity_invitations.c.principal.in_(people))
            .where(identity_invitations.c.confirmed_at.is_(None))
            .values(expires_at=stamp)
        )
        conn.execute(
            update(identity_device_codes)
            .where(identity_device_codes.c.principal.in_(people))
            .where(identity_device_codes.c.redeemed.is_(False))
            .where(identity_device_codes.c.denied_at.is_(None))
            .values(denied_at=stamp, row_mac=DENIED_MAC)
        )
        conn.execute(
            update(identity_cli_handoffs)
            .where(identity_cli_handoffs.c.principal.in_(people))
            .where(identity_cli_handoffs.c.used_at.is_(None))
            .values(expires_at=stamp)
        )
    reports = []
    for gid in ids:
        rep = end_grant(
            ctx, gid, actor=actor, reason=f"vendor {vendor} offboarded", status=GrantStatus.REVOKED
        )
        if rep.ended_now or rep.proofs:
            reports.append(rep)
    return OffboardReport(vendor, people, tuple(reports), tuple(undeclared))


__all__ = [
    "AccessDenied",
    "OffboardReport",
    "RevokeReport",
    "end_grant",
    "offboard_vendor",
    "revoke_grant",
]
