"""Grants: the single choke point that writes them, listing, standing grants, credentials.

``create_grant`` is the only code that inserts a grant row, and
``issue_credentials`` the only code that creates a database login; both re-check
:func:`stagewall.access._policy.hold_problem` against the current estate, so no
path (request, review, break-glass, standing grant, a row edited in the store)
gets an external principal onto a production role.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, literal, select, union_all

from stagewall.access import _events as ev
from stagewall.access._context import AccessContext
from stagewall.access._core import fmt_time, new_id, parse_time
from stagewall.access._policy import Source, eligibility_problem, hold_problem, tier_problem
from stagewall.access._tables import (
    access_credentials,
    access_grants,
    access_offboarded,
    access_reviews,
)
from stagewall.access.binding import (
    ended_mismatch,
    grant_binding_problem,
    logged_grant_ends,
    logged_offboarded,
    logged_withdrawals,
    review_binding_problem,
    withdrawal_mismatch,
)
from stagewall.access.issuers import CredentialSpec, IssuedCredential
from stagewall.audit import AuditEvent, Status
from stagewall.audit.events import StoredEvent
from stagewall.errors import AccessDenied, StagewallError, UsageError
from stagewall.estate.models import BREAK_GLASS_CAP, PRODUCTION_ROLE_CAP


class GrantStatus(enum.StrEnum):
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class GrantRefused(AccessDenied):
    """The choke point refused a grant; ``invariant`` marks the external→production rule."""

    def __init__(self, message: str, *, invariant: bool) -> None:
        super().__init__(message)
        self.invariant = invariant


@dataclass(frozen=True)
class Grant:
    id: str
    principal: str
    role: str
    environment: str
    production: bool
    source: Source
    request_id: str | None
    reason: str
    starts_at: datetime
    ends_at: datetime
    status: GrantStatus
    revoked_at: str | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None
    revocation: str | None = None
    """``pending`` while a login of the ended grant is not verifiably removed, else
    ``verified``; ``None`` while the grant is active or had no credentials."""

    def live(self, now: datetime) -> bool:
        return self.status is GrantStatus.ACTIVE and self.starts_at <= now < self.ends_at

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "principal": self.principal,
            "role": self.role,
            "environment": self.environment,
            "production": self.production,
            "source": self.source.value,
            "request_id": self.request_id,
            "reason": self.reason,
            "starts_at": fmt_time(self.starts_at),
            "ends_at": fmt_time(self.ends_at),
            "status": self.status.value,
            "revoked_at": self.revoked_at,
            "revoked_by": self.revoked_by,
            "revoke_reason": self.revoke_reason,
            "revocation": self.revocation,
        }


def _row_to_grant(m: Any) -> Grant:
    return Grant(
        id=m["id"],
        principal=m["principal"],
        role=m["role"],
        environment=m["environment"],
        production=bool(m["production"]),
        source=Source(m["source"]),
        request_id=m["request_id"],
        reason=m["reason"],
        starts_at=parse_time(m["starts_at"]),
        ends_at=parse_time(m["ends_at"]),
        status=GrantStatus(m["status"]),
        revoked_at=m["revoked_at"],
        revoked_by=m["revoked_by"],
        revoke_reason=m["revoke_reason"],
    )


# Statements of every approval and issuance, built once (building one costs more than
# running it).
_GRANT_BY_ID = select(access_grants).where(access_grants.c.id == bindparam("grant_id"))
_INSERT_GRANT = insert(access_grants)
_INSERT_CREDENTIAL = insert(access_credentials)


def _grant_row(conn: Connection, grant_id: str) -> Any:
    row = conn.execute(_GRANT_BY_ID, {"grant_id": grant_id}).first()
    if row is None:
        raise UsageError(
            f"there is no grant {grant_id!r}", hint="`stagewall access grants` lists grant ids"
        )
    return row


def load_grant(conn: Connection, grant_id: str) -> Grant:
    return _row_to_grant(_grant_row(conn, grant_id)._mapping)


def grant_end(
    ctx: AccessContext, principal: str, role: str, source: Source, start: datetime, wanted: datetime
) -> datetime:
    """min(requested, role maximum, production/break-glass caps, vendor contract end)."""
    r = ctx.estate.roles[role]
    cap = r.max_duration
    if ctx.estate.role_is_production(role):
        cap = min(cap, PRODUCTION_ROLE_CAP)
    if source is Source.BREAK_GLASS:
        cap = min(cap, BREAK_GLASS_CAP)
    end = min(wanted, start + cap) if source is not Source.STANDING else wanted
    vendor_end = ctx.estate.vendor_end(principal)
    if vendor_end is not None:
        end = min(end, vendor_end)
    return end


def create_grant(
    ctx: AccessContext,
    conn: Connection,
    *,
    principal: str,
    role: str,
    source: Source,
    start: datetime,
    wanted_end: datetime,
    reason: str,
    actor: str,
    request_id: str | None = None,
    grant_id: str | None = None,
) -> Grant:
    """The one place a grant row is written (inside the caller's transaction)."""
    # Only a vendor's principal can be offboarded (hold_problem reads the set for them
    # alone): an internal principal's grant spares the read.
    vendor = getattr(ctx.estate.principals.get(principal), "vendor", None)
    offboarded = ctx.offboarded(conn) if vendor is not None else frozenset[str]()
    problem = hold_problem(
        ctx.estate, principal, role, source=source, now=start, offboarded=offboarded
    )
    if problem is not None:
        raise GrantRefused(
            f"no grant of {role!r} to {principal!r}: {problem.text}", invariant=problem.invariant
        )
    r = ctx.estate.roles[role]
    end = grant_end(ctx, principal, role, source, start, wanted_end)
    if end <= start:
        raise GrantRefused(
            f"no grant of {role!r} to {principal!r}: it would end before it starts", invariant=False
        )
    grant = Grant(
        id=grant_id or new_id("g"),
        principal=principal,
        role=role,
        environment=r.environment,
        production=ctx.estate.role_is_production(role),
        source=source,
        request_id=request_id,
        reason=reason,
        starts_at=start,
        ends_at=end,
        status=GrantStatus.ACTIVE,
    )
    ref = ctx.audit.append_refs(
        [
            AuditEvent(
                ev.GRANT_CREATED.code,
                Status.SUCCESS,
                actor,
                f"grant {grant.id}: {role} to {principal} until {fmt_time(end)} ({source.value})",
                resource=f"grant:{grant.id}",
                details={**grant.as_dict(), "actor": actor},
            )
        ],
        conn=conn,
    )[0]
    conn.execute(
        _INSERT_GRANT,
        {
            "id": grant.id,
            "principal": principal,
            "role": role,
            "environment": grant.environment,
            "production": grant.production,
            "source": source.value,
            "request_id": request_id,
            "reason": reason,
            "starts_at": fmt_time(start),
            "ends_at": fmt_time(end),
            "status": GrantStatus.ACTIVE.value,
            "created_at": fmt_time(ctx.now()),
            "audit_index": ref.index,
            "audit_leaf": ref.leaf_hash.hex(),
        },
    )
    return grant


def standing_grant_id(principal: str, role: str, expires: str) -> str:
    return "s" + hashlib.sha256(f"{principal}\n{role}\n{expires}".encode()).hexdigest()[:12]


def materialise_standing(ctx: AccessContext) -> list[str]:
    """Write the estate's live standing grants as grant rows (once each); returns new ids.

    A standing grant the choke point refuses (production role, external without
    NDA, ...) is recorded as refused and alerts; it never becomes a grant.
    """
    made: list[str] = []
    now = ctx.now()
    for sg in ctx.estate.standing_grants:
        end = datetime.combine(sg.expires, time.max, tzinfo=UTC)
        if end <= now:
            continue
        gid = standing_grant_id(sg.principal, sg.role, sg.expires.isoformat())
        try:
            with ctx.store.transaction() as conn:
                ctx.store.lock(conn, f"stagewall.grant.{gid}")
                exists = conn.execute(
                    select(access_grants.c.id).where(access_grants.c.id == gid)
                ).first()
                if exists is not None:
                    continue
                create_grant(
                    ctx,
                    conn,
                    principal=sg.principal,
                    role=sg.role,
                    source=Source.STANDING,
                    start=now,
                    wanted_end=end,
                    reason=sg.reason or "standing grant in stagewall.yaml",
                    actor="stagewall.yaml",
                    grant_id=gid,
                )
                made.append(gid)
        except GrantRefused as exc:
            ctx.refuse(
                ev.GRANT_REFUSED.code,
                "stagewall.yaml",
                exc.message,
                resource=f"role:{sg.role}",
                details={"principal": sg.principal, "role": sg.role, "source": "standing"},
                loud=True,
            )
    return made


def _with_revocation(rows: Sequence[Any], states: dict[str, set[str]]) -> list[Grant]:
    grants = []
    for r in rows:
        g = _row_to_grant(r._mapping)
        if g.status is not GrantStatus.ACTIVE and g.id in states:
            pending = states[g.id] != {"revoked"}
            g = dataclasses.replace(g, revocation="pending" if pending else "verified")
        grants.append(g)
    return grants


def _credential_states(conn: Connection, grant_ids: Sequence[str] | None) -> dict[str, set[str]]:
    query = select(access_credentials.c.grant_id, access_credentials.c.state)
    if grant_ids is not None:
        query = query.where(access_credentials.c.grant_id.in_(grant_ids))
    states: dict[str, set[str]] = {}
    for gid, state in conn.execute(query).all():
        states.setdefault(str(gid), set()).add(str(state))
    return states


def list_grants(ctx: AccessContext, *, active_only: bool = False) -> list[Grant]:
    materialise_standing(ctx)
    now = ctx.now()
    with ctx.store.read() as conn:
        rows = conn.execute(select(access_grants).order_by(access_grants.c.created_at)).all()
        grants = _with_revocation(rows, _credential_states(conn, None))
    return [g for g in grants if g.live(now)] if active_only else grants


@dataclass(frozen=True)
class GrantPage:
    grants: list[Grant]
    total: int


def grants_page(
    ctx: AccessContext,
    *,
    principal: str | None = None,
    status: GrantStatus | None = None,
    live_only: bool = False,
    offset: int = 0,
    limit: int = 100,
    role: str | None = None,
    environment: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> GrantPage:
    """One page of grants, newest first, filtered in the store (the same rows as list_grants).

    ``since``/``until``: bounds on the creation time (ISO text, ``since`` <= t < ``until``).
    """
    materialise_standing(ctx)
    now = fmt_time(ctx.now())
    conds = []
    if principal is not None:
        conds.append(access_grants.c.principal == principal)
    if role is not None:
        conds.append(access_grants.c.role == role)
    if environment is not None:
        conds.append(access_grants.c.environment == environment)
    if since:
        conds.append(access_grants.c.created_at >= since)
    if until:
        conds.append(access_grants.c.created_at < until)
    if status is not None:
        conds.append(access_grants.c.status == status.value)
    if live_only:
        conds += [
            access_grants.c.status == GrantStatus.ACTIVE.value,
            access_grants.c.starts_at <= now,
            access_grants.c.ends_at > now,
        ]
    with ctx.store.read() as conn:
        total = int(
            conn.execute(select(func.count()).select_from(access_grants).where(*conds)).scalar()
            or 0
        )
        rows = conn.execute(
            select(access_grants)
            .where(*conds)
            .order_by(access_grants.c.created_at.desc(), access_grants.c.id.desc())
            .offset(max(0, offset))
            .limit(max(1, limit))
        ).all()
        states = _credential_states(conn, [str(r._mapping["id"]) for r in rows])
    return GrantPage(_with_revocation(rows, states), total)


def unbound_problem(
    ctx: AccessContext, conn: Connection, grant_id: str, *, row: Any = None
) -> str | None:
    """Why grant ``grant_id``'s row is not bound to its creating audit event (None: it is).

    ``row``: the grant's row as just read in ``conn``, to spare reading it again.
    """
    if row is None:
        row = conn.execute(_GRANT_BY_ID, {"grant_id": grant_id}).first()
    if row is None:
        return f"there is no grant {grant_id!r}"
    return unbound_problems(ctx, conn, [row]).get(str(row.id))


def unbound_problems(ctx: AccessContext, conn: Connection, rows: Sequence[Any]) -> dict[str, str]:
    """:func:`unbound_problem` of many grant rows (as read in ``conn``) in a few
    statements: the reviews and every event they and the grants are bound to are read
    at once; each binding is checked exactly as for one grant. Grant id -> problem."""
    reviews = _reviews_of(conn, rows)
    indexes = [
        int(r.audit_index)
        for r in [*rows, *(v for vs in reviews.values() for v in vs)]
        if r.audit_index is not None
    ]
    events = ctx.audit.events_ref(indexes, conn=conn)
    withdrawn = logged_withdrawals(
        ctx.audit, conn, ev.REVIEW_WITHDRAWN.code, [f"request:{r}" for r in reviews]
    )
    ended = logged_grant_ends(
        ctx.audit, conn, [str(r.id) for r in rows if r.status == GrantStatus.ACTIVE.value]
    )
    found: dict[str, str] = {}
    for row in rows:
        why = _unbound(ctx, conn, row, reviews.get(row.request_id, []), events=events)
        for review in reviews.get(row.request_id, []) if why is None else []:
            key = (f"request:{review.request_id}", str(review.reviewer))
            why = why or withdrawal_mismatch(review._mapping, withdrawn.get(key))
            why = why and f"approval by {review.reviewer}: {why}"
        why = why or ended_mismatch(row._mapping, ended.get(str(row.id)))
        if why is not None:
            found[str(row.id)] = why
    return found


_REVIEWS_BATCH = 500
_REVIEWS_OF = (
    select(access_reviews)
    .where(access_reviews.c.request_id.in_(bindparam("ids", expanding=True)))
    .order_by(access_reviews.c.id)
)


def _reviews_of(conn: Connection, rows: Sequence[Any]) -> dict[str, list[Any]]:
    """The review rows of the grants' requests, by request id, in insertion order."""
    wanted = sorted({str(r.request_id) for r in rows if r.request_id is not None})
    found: dict[str, list[Any]] = {}
    for start in range(0, len(wanted), _REVIEWS_BATCH):
        for review in conn.execute(
            _REVIEWS_OF, {"ids": wanted[start : start + _REVIEWS_BATCH]}
        ).all():
            found.setdefault(str(review.request_id), []).append(review)
    return found


def _unbound(
    ctx: AccessContext,
    conn: Connection,
    row: Any,
    reviews: Sequence[Any],
    *,
    events: Mapping[int, StoredEvent],
) -> str | None:
    problem = grant_binding_problem(ctx.audit, conn, dict(row._mapping), events=events)
    if problem is not None or row.request_id is None:
        return problem
    # The approvals the grant came from must be the ones the log recorded, too.
    for review in reviews:
        why = review_binding_problem(
            ctx.audit, conn, dict(review._mapping), (ev.REVIEW_RECORDED.code,), events=events
        )
        if why is not None:
            return f"approval by {review.reviewer}: {why}"
    return None


def credential_rows(conn: Connection, grant_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(access_credentials).where(access_credentials.c.grant_id == grant_id)
    ).all()
    return [dict(r._mapping) for r in rows]


def _issuing_failed(ctx: AccessContext, holder: str, grant_id: str, exc: StagewallError) -> None:
    ctx.refuse(
        ev.CREDENTIAL_REFUSED.code,
        holder,
        f"issuing failed: {exc.message}",
        resource=f"grant:{grant_id}",
    )


class _FactorRefused(Exception):
    """Carries mfa.verify's own refusal past the issuing refusals (it is recorded already)."""

    def __init__(self, error: StagewallError) -> None:
        super().__init__(error.message)
        self.error = error


# The two further reads of every issuance check in one statement: whether the grant has
# a credentials row already ('c') and the offboarded vendors ('v').
_ISSUED_AND_OFFBOARDED = union_all(
    select(literal("c").label("what"), access_credentials.c.login.label("value")).where(
        access_credentials.c.grant_id == bindparam("grant_id")
    ),
    select(literal("v").label("what"), access_offboarded.c.vendor.label("value")),
)


def _issued_and_offboarded(conn: Connection, grant_id: str) -> tuple[bool, set[str]]:
    """(whether grant ``grant_id`` has a credentials row, the offboarded vendors)."""
    issued = False
    vendors: set[str] = set()
    for what, value in conn.execute(_ISSUED_AND_OFFBOARDED, {"grant_id": grant_id}):
        if what == "c":
            issued = True
        else:
            vendors.add(str(value))
    return issued, vendors | logged_offboarded(conn)


def _withdrawn_approvals(conn: Connection, request_id: str | None) -> list[str]:
    """Approvers of ``request_id`` who withdrew their approval."""
    if request_id is None:
        return []
    return sorted(
        conn.execute(
            select(access_reviews.c.reviewer)
            .where(access_reviews.c.request_id == request_id)
            .where(access_reviews.c.withdrawn_at.is_not(None))
        ).scalars()
    )


def _issuable(
    ctx: AccessContext, conn: Connection, grant_id: str, now: datetime, *, row: Any = None
) -> Grant:
    """The grant, if credentials may be issued for it now; GrantRefused/AccessDenied if not.

    Run once before the MFA check (so a refusal burns no code) and again under the
    grant's lock (so nothing changed in between). ``row``: the grant's row as just read
    (before the MFA check only; under the lock it is always read again).
    """
    if row is None:
        row = _grant_row(conn, grant_id)
    grant = _row_to_grant(row._mapping)
    unbound = unbound_problem(ctx, conn, grant_id, row=row)
    if unbound is not None:
        raise GrantRefused(f"credentials of grant {grant_id} refused: {unbound}", invariant=True)
    if not grant.live(now):
        raise AccessDenied(f"grant {grant_id} is {grant.status.value} or outside its time window")
    withdrawn = _withdrawn_approvals(conn, row._mapping["request_id"])
    if withdrawn:
        raise AccessDenied(
            f"credentials of grant {grant_id} refused: the approval by "
            f"{' and '.join(withdrawn)} was withdrawn",
            hint="file a new request",
        )
    issued, offboarded = _issued_and_offboarded(conn, grant_id)
    if issued:
        raise AccessDenied(
            f"the credentials of grant {grant_id} were already issued; they are shown once",
            hint="ask for a new grant if the password was lost",
        )
    problem = hold_problem(
        ctx.estate,
        grant.principal,
        grant.role,
        source=grant.source,
        now=now,
        offboarded=offboarded,
    )
    problem = (
        problem
        or tier_problem(ctx.estate, grant.role, granted_production=grant.production)
        or eligibility_problem(ctx.estate, grant.principal, grant.role, source=grant.source)
    )
    if problem is not None:
        raise GrantRefused(
            f"credentials of grant {grant_id} refused: {problem.text}",
            invariant=problem.invariant,
        )
    return grant


def issue_credentials(
    ctx: AccessContext,
    grant_id: str,
    *,
    holder: str,
    otp: str | None = None,
    webauthn: str | Mapping[str, Any] | None = None,
) -> list[IssuedCredential]:
    """Create the grant's database logins, exactly once; the passwords exist only in the result."""

    now = ctx.now()
    with ctx.store.read() as conn:
        row = _grant_row(conn, grant_id)
    grant = _row_to_grant(row._mapping)
    if holder != grant.principal:
        raise ctx.refuse(
            ev.CREDENTIAL_REFUSED.code,
            holder,
            f"{holder!r} asked for the credentials of grant {grant_id}, which belongs to "
            f"{grant.principal!r}",
            resource=f"grant:{grant_id}",
            loud=grant.production,
        )
    resources = ctx.credential_resources(grant.role)
    if not resources:
        raise UsageError(
            f"role {grant.role!r} has no postgresql resource with admin_connection_env, so "
            "there are no credentials to issue"
        )
    instance = ctx.instance_id()
    with ExitStack() as held:
        try:
            for res in resources:
                # One admin session per resource for the identity check and the login.
                holding = getattr(ctx.issuer(res), "holding", None)
                if holding is not None:
                    held.enter_context(holding())
        except StagewallError as exc:
            _issuing_failed(ctx, holder, grant_id, exc)
            raise
        return _issue(
            ctx,
            grant,
            resources,
            instance,
            now=now,
            holder=holder,
            otp=otp,
            webauthn=webauthn,
            row=row,
        )


def _issue(
    ctx: AccessContext,
    grant: Grant,
    resources: list[str],
    instance: str,
    *,
    now: datetime,
    holder: str,
    otp: str | None,
    webauthn: str | Mapping[str, Any] | None,
    row: Any = None,
) -> list[IssuedCredential]:
    """issue_credentials once the holder and the resources are known (admin sessions held).

    ``row``: the grant's row as issue_credentials read it, for the check before the
    one-time code (the check under the grant's lock reads it again)."""
    from stagewall.access.identity import verify_resource

    grant_id = grant.id

    # Everything decidable without the one-time code comes first (configuration, the
    # resource's identity, the grant's state), so a failure there never burns the code.
    try:
        for res in resources:
            # Before any login exists: the resource must be the server it was pinned to,
            # and a non-production resource must not be a production server.
            verify_resource(
                ctx, res, ctx.issuer(res).identity(), actor=holder, purpose="credential issuance"
            )
    except AccessDenied:
        raise  # already recorded and alerted
    except StagewallError as exc:
        _issuing_failed(ctx, holder, grant_id, exc)
        raise
    issued: list[IssuedCredential] = []
    refusal: AccessDenied | None = None
    try:
        with ctx.store.read() as conn:
            _issuable(ctx, conn, grant_id, now, row=row)
        if grant.production:
            try:
                ctx.step_up(holder, otp, webauthn, purpose=f"credentials {grant_id}")
            except StagewallError as exc:
                raise _FactorRefused(exc) from None
        with ctx.store.transaction() as conn:
            ctx.store.lock(conn, f"stagewall.grant.{grant_id}")
            grant = _issuable(ctx, conn, grant_id, now)
            role = ctx.estate.roles[grant.role]
            for res in resources:
                issuer = ctx.issuer(res)
                login = issuer.login_for(grant_id)
                conn.execute(
                    _INSERT_CREDENTIAL,
                    {
                        "grant_id": grant_id,
                        "resource": res,
                        "login": login,
                        "issued_at": fmt_time(now),
                        "state": "issued",
                    },
                )
                spec = CredentialSpec.of(
                    grant_id=grant_id,
                    instance_id=instance,
                    resource=res,
                    role_name=grant.role,
                    role=role,
                    valid_until=grant.ends_at,
                )
                issued.append(issuer.issue(spec))
            # The events last, in this same transaction: the audit log's lock (one for
            # the whole store) is then held only until the commit, not while the logins
            # are created on the database servers. Should the append or the commit fail,
            # the logins exist without a credentials row, whose passwords nobody was
            # given; the sweep drops such orphans (as after a failed commit before).
            for cred, res in zip(issued, resources, strict=True):
                ctx.record(
                    ev.CREDENTIAL_ISSUED.code,
                    holder,
                    f"login {cred.login} on {res} for grant {grant_id}, "
                    f"valid until {fmt_time(grant.ends_at)}",
                    resource=f"grant:{grant_id}",
                    details={
                        "login": cred.login,
                        "resource": res,
                        "valid_until": fmt_time(grant.ends_at),
                    },
                    conn=conn,
                )
    except _FactorRefused as exc:
        raise exc.error from None  # mfa.verify recorded the failure itself
    except GrantRefused as exc:
        refusal = exc
    except AccessDenied as exc:
        raise ctx.refuse(
            ev.CREDENTIAL_REFUSED.code,
            holder,
            exc.message,
            resource=f"grant:{grant_id}",
            hint=exc.hint,
        ) from None
    except StagewallError as exc:
        _issuing_failed(ctx, holder, grant_id, exc)
        raise
    if refusal is not None:
        # The estate no longer allows this grant: refuse loudly and end the grant.
        from stagewall.access.revoke import end_grant

        err = ctx.refuse(
            ev.CREDENTIAL_REFUSED.code,
            holder,
            refusal.message,
            resource=f"grant:{grant_id}",
            loud=True,
        )
        end_grant(
            ctx, grant_id, actor="stagewall", reason=refusal.message, status=GrantStatus.REVOKED
        )
        raise err
    return issued
