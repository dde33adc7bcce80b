"""Approval of the masking plans that server-run jobs execute.

A masking job reads production with the server's credentials and writes what its plan
says into staging. The plan file is read from the server's disk at every run, so an
edit of it (a personal-data column marked ``keep``) would otherwise reach staging at
the next scheduled run with nobody's consent. A job therefore runs only a plan whose
*canonical hash* (:meth:`Plan.sha256`, independent of YAML layout) an internal person
approved, through the request/review core that access and promotions use:

* an internal person submits the job's current plan (``POST
  /api/v1/masking/jobs/{name}/plan-approvals``): a ``masking_plan`` request for the
  job and hash; the submitter and any ``authors`` named count as authors;
* another internal *person* (never an external, never a service principal, never an
  author, not within a reset factor's quarantine) approves it with step-up MFA; the
  review row is bound to its ``masking.plan.reviewed`` audit event;
* at each run the server computes the plan's hash and looks for an approved request of
  that job and hash whose approving review is still bound to its event, not
  withdrawn, and by someone who may still approve it. Anything else refuses the run
  before anything is read from production (a failed run record and an alert);
* the approver may withdraw their approval (step-up MFA, ``masking.plan.withdrawn``):
  from then on it counts for nothing, also when its row is edited back in the store
  (the withdrawal event outranks the row), so the next run is refused (SW864).

Pinning the hash in ``stagewall.yaml`` was not chosen: the estate file is changed
(and recorded) without anyone's approval, usually by the same people and the same
deployment that change the plan file, so a pin there would move with the plan.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from stagewall.access._core import (
    Decision,
    Outcome,
    Request,
    Review,
    ThresholdRule,
    check_reviewable,
    fmt_time,
    insert_request,
    load_request_state,
    record_review,
    review_row,
    state_of,
    withdraw_locked,
    withdrawable,
)
from stagewall.access._tables import access_outcomes, access_requests, access_reviews
from stagewall.access.binding import (
    bind_row,
    logged_events,
    logged_withdrawals,
    logged_withdrawers,
    review_binding_problem,
    withdrawal_mismatch,
)
from stagewall.audit import EventType, register_event_type
from stagewall.errors import AccessDenied, StagewallError, UsageError
from stagewall.estate import Estate
from stagewall.estate.models import PrincipalKind
from stagewall.identity.accounts import factor_reset_problem
from stagewall.identity.actor import Actor, ActorClass
from stagewall.server._state import ServerState

KIND = "masking_plan"
PENDING_TTL = timedelta(days=7)

PLAN_SUBMITTED = register_event_type(
    EventType(
        "masking.plan.submitted",
        6003,
        "API Activity",
        1,
        "Create",
        "an internal person asked for approval of a masking job's plan (by its hash)",
    )
)
PLAN_REVIEWED = register_event_type(
    EventType(
        "masking.plan.reviewed",
        3005,
        "User Access Management",
        1,
        "Assign Privileges",
        "an internal person approved or denied a masking job's plan hash (step-up MFA)",
    )
)
PLAN_WITHDRAWN = register_event_type(
    EventType(
        "masking.plan.withdrawn",
        3005,
        "User Access Management",
        2,
        "Revoke Privileges",
        "an approver withdrew their approval of a masking job's plan hash (step-up MFA); "
        "it counts for nothing and the job's next run is refused",
    )
)
PLAN_REFUSED = register_event_type(
    EventType(
        "masking.plan.refused",
        6003,
        "API Activity",
        1,
        "Create",
        "a principal tried to submit or review a masking plan it may not",
    )
)


def subject(job: str, sha256: str) -> str:
    """The request's subject: one fixed-length value per (job, plan hash); the job and
    the hash themselves are in the request's details and its events."""
    return "plan:" + hashlib.sha256(f"{job}\n{sha256}".encode()).hexdigest()


def _require_id(request_id: str) -> None:
    """Refuse (SW101) an id no request can have before it reaches the store or the log:
    empty, or with a control character (a NUL byte is an error of PostgreSQL's driver,
    not a row that is absent)."""
    if not request_id.strip() or any(ord(c) < 32 or ord(c) == 127 for c in request_id):
        raise UsageError(
            f"{request_id[:64]!r} is not a masking plan request id",
            hint="copy the id as the server printed it: stagewall mask plan-approvals",
        )


def _person_problem(estate: Estate, who: str) -> str | None:
    p = estate.principals.get(who)
    if p is None:
        return "not a declared principal"
    if not estate.is_internal(who):
        return "only internal, enabled principals approve masking plans (never an external)"
    if p.kind is not PrincipalKind.HUMAN:
        return "a service principal never approves a masking plan; a person does"
    return None


class PlanKind:
    """Rules of ``masking_plan`` requests: one approval by an internal person who is
    not an author of the plan."""

    name = KIND

    def __init__(self, estate: Estate, conn: Connection | None = None) -> None:
        self.estate = estate
        self.conn = conn  # to read the other requests of the same job and plan hash

    def _authors(self, request: Request) -> set[str]:
        """Who submitted or wrote this plan hash: the request's submitter and authors, and
        (given a connection) those of every other request of the same job and hash, so
        that whoever submitted a hash never approves it through someone else's request."""
        out = {request.requester, *request.details.get("authors", [])}
        if self.conn is not None:
            for requester, details in self.conn.execute(
                select(access_requests.c.requester, access_requests.c.details)
                .where(access_requests.c.kind == KIND)
                .where(access_requests.c.subject == request.subject)
            ).all():
                out.add(str(requester))
                out.update(str(a) for a in json.loads(details or "{}").get("authors", []))
        return out

    def rule(self, request: Request) -> ThresholdRule:
        return ThresholdRule(approvals=1)

    def reviewer_problem(self, request: Request, reviewer: str) -> str | None:
        problem = _person_problem(self.estate, reviewer)
        if problem is not None:
            return problem
        if reviewer in self._authors(request):
            return "nobody approves a plan they submitted or wrote"
        job = str(request.details.get("job", ""))
        if job not in self.estate.masking_jobs:
            return f"masking job {job!r} is no longer declared"
        return None

    def on_approved(
        self, conn: Connection, request: Request, reviews: Sequence[Review], now: datetime
    ) -> str:
        return str(request.details.get("plan_sha256"))


def submit(
    state: ServerState,
    actor: Actor,
    name: str,
    *,
    reason: str,
    authors: Sequence[str] = (),
    expected_sha256: str | None = None,
) -> dict[str, Any]:
    """File a request to approve job ``name``'s current plan (its hash read here)."""
    from stagewall.server.jobs import get_job, prepare

    ctx = state.ctx
    estate = state.estate
    get_job(estate, name)
    problem = None
    if not actor.has(ActorClass.INTERNAL):
        problem = "only internal people submit masking plans"
    else:
        problem = _person_problem(estate, actor.principal)
    unknown = sorted(a for a in authors if a not in estate.principals)
    if problem is None and unknown:
        problem = f"unknown author(s) {', '.join(map(repr, unknown))}"
    if problem is not None:
        raise ctx.refuse(
            PLAN_REFUSED.code,
            actor.principal,
            f"{actor.principal!r} may not submit the plan of masking job {name!r}: {problem}",
            resource=f"masking_job:{name}",
            details={"job": name},
        )
    sha = prepare(state, name).plan.sha256()
    if expected_sha256 is not None and expected_sha256 != sha:
        raise UsageError(
            f"the plan of masking job {name!r} on the server has hash {sha}, not "
            f"{expected_sha256[:64]!r}; nothing was submitted",
            hint="compare the plan deployed on the server with the one you reviewed",
        )
    now = ctx.now()
    job = estate.masking_jobs[name]
    with ctx.store.transaction() as conn:
        req = insert_request(
            conn,
            kind=KIND,
            requester=actor.principal,
            subject=subject(name, sha),
            reason=reason,
            ticket=None,
            requested=timedelta(0),
            pending_ttl=PENDING_TTL,
            now=now,
            details={
                "job": name,
                "plan": job.plan,
                "plan_sha256": sha,
                "authors": sorted(set(authors)),
            },
        )
        ctx.record(
            PLAN_SUBMITTED.code,
            actor.principal,
            f"{actor.principal} asked for approval of masking job {name}'s plan {sha[:12]} "
            f"(request {req.id})",
            resource=f"request:{req.id}",
            details={"job": name, "plan_sha256": sha, "reason": reason, **req.details},
            conn=conn,
        )
    return {
        "request": req.id,
        "job": name,
        "plan_sha256": sha,
        "state": "pending",
        "expires_at": fmt_time(req.expires_at),
    }


def _reviewable(
    state: ServerState, kind: PlanKind, request_id: str, reviewer: str, now: datetime
) -> Request:
    """The request if ``reviewer`` may review it now (every check but the factor);
    AccessDenied or UsageError if not."""
    with state.ctx.store.read() as conn:
        request, _earlier = check_reviewable(
            conn, PlanKind(kind.estate, conn), request_id, reviewer, now
        )
    problem = factor_reset_problem(state.ctx.store, reviewer, now)
    if problem is not None:
        raise AccessDenied(f"{reviewer!r} may not review request {request_id}: {problem}")
    return request


def review_problem(state: ServerState, request_id: str, reviewer: str) -> str | None:
    """Why ``reviewer`` may not review plan request ``request_id`` now (None: they may,
    given their factor): the checks :func:`review` makes before the step-up, for a page
    to say why it offers no decision."""
    _require_id(request_id)
    try:
        _reviewable(state, PlanKind(state.estate), request_id, reviewer, state.ctx.now())
    except (AccessDenied, UsageError) as exc:
        return exc.message
    return None


def review(
    state: ServerState,
    request_id: str,
    *,
    reviewer: str,
    approve: bool,
    otp: str | None = None,
    webauthn: str | Mapping[str, Any] | None = None,
    reason: str = "",
) -> dict[str, Any]:
    """Approve or deny a plan request: step-up MFA, audited, the review bound to its event."""
    _require_id(request_id)
    ctx = state.ctx
    kind = PlanKind(state.estate)
    now = ctx.now()
    resource = f"request:{request_id}"
    try:
        request = _reviewable(state, kind, request_id, reviewer, now)
    except (AccessDenied, UsageError) as exc:
        external = not state.estate.is_internal(reviewer)
        raise ctx.refuse(
            PLAN_REFUSED.code, reviewer, exc.message, resource=resource, loud=external
        ) from None
    evidence = ctx.step_up(reviewer, otp, webauthn, purpose=f"review {request_id}")
    decision = Decision.APPROVE if approve else Decision.DENY
    try:
        with ctx.store.transaction() as conn:
            result = record_review(
                ctx.store,
                conn,
                PlanKind(state.estate, conn),
                request_id=request_id,
                reviewer=reviewer,
                decision=decision,
                reason=reason,
                mfa_method=evidence.method,
                mfa_time=evidence.time,
                now=now,
                withdrawn_in_log=lambda c: logged_withdrawers(
                    ctx.audit, c, PLAN_WITHDRAWN.code, resource
                ),
            )
            job = request.details.get("job")
            sha = request.details.get("plan_sha256")
            ref = ctx.record(
                PLAN_REVIEWED.code,
                reviewer,
                f"{reviewer} {decision.value}d masking job {job}'s plan {str(sha)[:12]} "
                f"(request {request_id}); now {result.outcome.value}",
                resource=resource,
                details={
                    "decision": decision.value,
                    "reason": reason,
                    "mfa": evidence.as_dict(),
                    "outcome": result.outcome.value,
                    "job": job,
                    "plan_sha256": sha,
                },
                conn=conn,
            )
            bind_row(conn, access_reviews, review_row(request_id, reviewer), ref)
    except AccessDenied as exc:
        raise ctx.refuse(PLAN_REFUSED.code, reviewer, exc.message, resource=resource) from None
    return {
        "request": request_id,
        "job": job,
        "plan_sha256": sha,
        "outcome": result.outcome.value,
    }


def withdraw(
    state: ServerState,
    request_id: str,
    *,
    reviewer: str,
    reason: str = "",
    otp: str | None = None,
    webauthn: str | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Withdraw ``reviewer``'s own approval of a plan (step-up MFA, audited).

    The approval then counts for nothing: the job's next run of that hash is refused
    (SW864) until a new request for it is approved. Only the approver withdraws, only
    once; every refusal that needs no code comes before the MFA check and is recorded."""
    _require_id(request_id)
    ctx = state.ctx
    resource = f"request:{request_id}"
    try:
        with ctx.store.read() as conn:
            request, _outcome = withdrawable(conn, request_id, reviewer)
        if request.kind != KIND:
            raise UsageError(
                f"{request_id} is a {request.kind} request, not a masking plan approval",
                hint="withdraw it with the command of its kind (`stagewall access withdraw`, "
                "`stagewall gate withdraw`)",
            )
    except AccessDenied as exc:
        raise ctx.refuse(
            PLAN_REFUSED.code, reviewer, exc.message, resource=resource, hint=exc.hint
        ) from None
    evidence = ctx.step_up(reviewer, otp, webauthn, purpose=f"withdraw approval {request_id}")
    now = ctx.now()
    job = request.details.get("job")
    sha = request.details.get("plan_sha256")
    with ctx.store.transaction() as conn:
        withdraw_locked(ctx.store, conn, request_id, reviewer, reason=reason, now=now)
        # the runs that ran (or were started) under this approval, for the auditor
        used = runs_under(state, conn, job, request_id)
        named = ", ".join(u["run"] for u in used[:20]) + (" …" if len(used) > 20 else "")
        ctx.record(
            PLAN_WITHDRAWN.code,
            reviewer,
            f"{reviewer} withdrew their approval of masking job {job}'s plan {str(sha)[:12]} "
            f"(request {request_id}); its next run is refused; "
            + (f"{len(used)} run(s) used it: {named}" if used else "no run used it"),
            resource=resource,
            details={
                "reason": reason,
                "mfa": evidence.as_dict(),
                "job": job,
                "plan_sha256": sha,
                "runs_under_approval": used,
            },
            conn=conn,
        )
    return {
        "request": request_id,
        "job": job,
        "plan_sha256": sha,
        "withdrawn_by": reviewer,
        "withdrawn_at": fmt_time(now),
        "runs_under_approval": used,
    }


def list_requests(
    state: ServerState,
    *,
    job: str | None = None,
    pending_only: bool = False,
    request_id: str | None = None,
    reviewable_by: str | None = None,
) -> list[dict[str, Any]]:
    """Plan approval requests, oldest first (``job``: only that job's; ``pending_only``:
    only those waiting for a review; ``request_id``: only that one; ``reviewable_by``:
    only the pending ones that person may review now, by the rules the review applies:
    :class:`PlanKind`, not reviewed yet, no factor reset within the quarantine). Each
    names its plan hash and whether it is the hash of the plan the server holds now
    (None when the job's plan cannot be read or the job is no longer declared)."""
    from stagewall.server.jobs import prepare

    if request_id is not None:
        _require_id(request_id)
    if job is not None:
        from stagewall.server.jobs import get_job

        get_job(state.estate, job)
    now = state.ctx.now()
    if reviewable_by is not None:
        if factor_reset_problem(state.ctx.store, reviewable_by, now) is not None:
            return []
        pending_only = True
    query = select(access_requests.c.id).where(access_requests.c.kind == KIND)
    if request_id is not None:
        query = query.where(access_requests.c.id == request_id)
    if pending_only:  # narrowed in the store (the inbox reads this on every view)
        from stagewall.access.requests import state_condition

        query = query.where(state_condition(Outcome.PENDING, fmt_time(now)))
    query = query.order_by(access_requests.c.created_at, access_requests.c.id)
    rows: list[tuple[Request, Outcome, list[Review]]] = []
    with state.ctx.store.read() as conn:
        kind = PlanKind(state.estate, conn)
        for found in conn.execute(query).scalars().all():
            request, recorded, reviews = load_request_state(conn, found)
            if job is not None and request.details.get("job") != job:
                continue
            outcome = state_of(recorded, request, now)[0]
            if pending_only and outcome is not Outcome.PENDING:
                continue
            if reviewable_by is not None and (
                any(v.reviewer == reviewable_by for v in reviews)
                or kind.reviewer_problem(request, reviewable_by) is not None
            ):
                continue
            rows.append((request, outcome, reviews))
    current: dict[str, str | None] = {}
    for name in {str(r.details.get("job")) for r, _o, _v in rows}:
        try:
            current[name] = prepare(state, name).plan.sha256()
        except StagewallError:  # the plan cannot be read or resolved now: unknown
            current[name] = None
    out: list[dict[str, Any]] = []
    for request, outcome, reviews in rows:
        name = str(request.details.get("job"))
        sha = request.details.get("plan_sha256")
        now_sha = current.get(name)
        out.append(
            {
                "id": request.id,
                "job": name,
                "plan": request.details.get("plan"),
                "plan_sha256": sha,
                "current": None if now_sha is None else now_sha == sha,
                "submitter": request.requester,
                "authors": list(request.details.get("authors", [])),
                "reason": request.reason,
                "state": outcome.value,
                "created_at": fmt_time(request.created_at),
                "pending_until": fmt_time(request.expires_at),
                "reviews": [
                    {
                        "reviewer": v.reviewer,
                        "decision": v.decision.value,
                        "reason": v.reason,
                        "at": v.created_at,
                        "withdrawn": v.withdrawn_at is not None,
                    }
                    for v in reviews
                ],
            }
        )
    return out


def approval_problem(state: ServerState, name: str, sha256: str) -> str | None:
    """Why job ``name`` may not run the plan of hash ``sha256`` (None: it is approved);
    see :func:`approval_of`."""
    problem, _approval = approval_of(state, name, sha256)
    return problem


def approval_of(
    state: ServerState, name: str, sha256: str
) -> tuple[str | None, dict[str, Any] | None]:
    """(why job ``name`` may not run the plan of hash ``sha256``, None) or (None, the
    approval it runs under: ``request``, ``approved_by``, ``review_event``).

    Approved means: a ``masking_plan`` request of that job and hash, decided approved,
    with an approval that is not withdrawn, whose row is bound to the
    ``masking.plan.reviewed`` event that recorded it (same reviewer, request, job and
    hash), by someone who may still approve it (internal person, not an author)."""
    audit = state.ctx.audit
    now = state.ctx.now()
    found: list[str] = []
    with state.ctx.store.read() as conn:
        kind = PlanKind(state.estate, conn)
        ids = conn.execute(
            select(access_requests.c.id)
            .join(access_outcomes, access_outcomes.c.request_id == access_requests.c.id)
            .where(access_requests.c.kind == KIND)
            .where(access_requests.c.subject == subject(name, sha256))
            .where(access_outcomes.c.outcome == Outcome.APPROVED.value)
            .order_by(access_requests.c.created_at.desc())
        ).scalars()
        for request_id in ids:
            request, recorded, _reviews = load_request_state(conn, request_id)
            if state_of(recorded, request, now)[0] is not Outcome.APPROVED:
                continue
            if (request.details.get("job"), request.details.get("plan_sha256")) != (name, sha256):
                found.append(f"request {request_id}: its details name another job or plan")
                continue
            rows = conn.execute(
                select(access_reviews)
                .where(access_reviews.c.request_id == request_id)
                .where(access_reviews.c.decision == Decision.APPROVE.value)
            ).all()
            resource = f"request:{request_id}"
            withdrawn = logged_withdrawals(audit, conn, PLAN_WITHDRAWN.code, [resource])
            for row in rows:
                m = dict(row._mapping)
                who = str(m["reviewer"])
                problem = withdrawal_mismatch(m, withdrawn.get((resource, who)))
                if problem is None and m["withdrawn_at"] is not None:
                    problem = f"{who} withdrew their approval at {m['withdrawn_at']}"
                if problem is None:
                    problem = kind.reviewer_problem(request, who)
                if problem is None:
                    problem = review_binding_problem(audit, conn, m, {PLAN_REVIEWED.code})
                if problem is None:
                    event = audit.event_ref(int(m["audit_index"]), conn=conn)
                    d = event.details if event is not None else {}
                    if d.get("job") != name or d.get("plan_sha256") != sha256:
                        problem = "its audit event approved another job or plan"
                if problem is None:
                    return None, {
                        "request": request_id,
                        "approved_by": who,
                        "review_event": int(m["audit_index"]),
                    }
                found.append(f"request {request_id}: {problem}")
    if found:
        return "no valid approval of this plan hash (" + "; ".join(found[:3]) + ")", None
    return "no internal person approved this plan hash", None


def runs_under(state: ServerState, conn: Connection, job: Any, request_id: str) -> list[Any]:
    """The runs of ``job`` whose start named the approval of request ``request_id``
    (``plan_approval`` of their ``masking.job.triggered`` event), oldest first: what a
    withdrawal of that approval names. Each: the run, its trigger event, its state and
    masking run as the store has them now."""
    from stagewall.server._tables import job_runs
    from stagewall.server.jobs import TRIGGERED

    used = [
        (index, event)
        for index, event in logged_events(
            state.ctx.audit, conn, TRIGGERED.code, [f"masking_job:{job}"]
        )
        if (event.details.get("plan_approval") or {}).get("request") == request_id
    ]
    ids = [str(event.details.get("run")) for _, event in used]
    rows = (
        {r.id: r for r in conn.execute(select(job_runs).where(job_runs.c.id.in_(ids))).all()}
        if ids
        else {}
    )
    out = []
    for index, event in used:
        run = str(event.details.get("run"))
        row = rows.get(run)
        out.append(
            {
                "run": run,
                "triggered_event": index,
                "triggered_by": event.actor,
                "state": row.state if row is not None else None,
                "masking_run": row.masking_run_id if row is not None else None,
                "verification": row.verification if row is not None else None,
            }
        )
    return out


__all__ = [
    "KIND",
    "PLAN_REFUSED",
    "PLAN_REVIEWED",
    "PLAN_SUBMITTED",
    "PLAN_WITHDRAWN",
    "PlanKind",
    "approval_of",
    "approval_problem",
    "list_requests",
    "review",
    "review_problem",
    "runs_under",
    "submit",
    "withdraw",
]
