"""The request/review/threshold core shared by production access and promotion gates.

A *request kind* (``RequestKind``) supplies its own rules: the threshold for a
request, whether a given principal may review it, and what happens when the
threshold is met. The core owns the rest, identically for every kind:

* requests are immutable rows (never updated or deleted);
* reviews are appended, one per reviewer, with the MFA evidence (method, time);
* a deny from anyone allowed to review ends the request;
* an expired pending request cannot be decided;
* deciding happens under a cross-process lock on the request, and the outcome
  row's primary key makes "decided once" a database fact, so two approvals
  arriving at once from two processes produce exactly one result.
"""

from __future__ import annotations

import enum
import json
import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Connection, bindparam, insert, select, update

from stagewall.access._tables import access_outcomes, access_requests, access_reviews
from stagewall.errors import AccessDenied, UsageError
from stagewall.store import Store

# withdrawn_at of an approval whose row says it stands while the audit log records its
# withdrawal (the row was edited in the store): it counts for nothing.
LOGGED_WITHDRAWAL = "withdrawn (per the audit log; its row was edited)"


def fmt_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(6)


class Decision(enum.StrEnum):
    APPROVE = "approve"
    DENY = "deny"


class Outcome(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"


@dataclass(frozen=True)
class ThresholdRule:
    """How many approvals a request needs, and from which groups (empty: any)."""

    approvals: int
    from_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Request:
    id: str
    kind: str
    requester: str
    subject: str
    reason: str
    ticket: str | None
    requested: timedelta
    created_at: datetime
    expires_at: datetime
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))


@dataclass(frozen=True)
class Review:
    request_id: str
    reviewer: str
    decision: Decision
    reason: str
    mfa_method: str
    mfa_time: str
    created_at: str
    # When the approver withdrew the approval (migration reviewscope_0002): a withdrawn
    # approval counts for nothing, at the threshold, at issuance and at `gate check`.
    withdrawn_at: str | None = None


@dataclass(frozen=True)
class ReviewResult:
    request: Request
    review: Review
    outcome: Outcome
    result_ref: str | None


class RequestKind(Protocol):
    """The rules one kind of request brings to the core."""

    @property
    def name(self) -> str: ...

    def rule(self, request: Request) -> ThresholdRule: ...

    def reviewer_problem(self, request: Request, reviewer: str) -> str | None:
        """Why ``reviewer`` may not review ``request`` (None: they may)."""

    def on_approved(
        self, conn: Connection, request: Request, reviews: Sequence[Review], now: datetime
    ) -> str:
        """Act on a met threshold inside the deciding transaction; return a reference."""


def evaluate(reviews: Sequence[Review], rule: ThresholdRule) -> Outcome:
    """Any deny ends the request; otherwise approved once enough approvals are in."""
    if any(r.decision is Decision.DENY for r in reviews):
        return Outcome.DENIED
    approvals = {
        r.reviewer for r in reviews if r.decision is Decision.APPROVE and r.withdrawn_at is None
    }
    return Outcome.APPROVED if len(approvals) >= rule.approvals else Outcome.PENDING


def insert_request(
    conn: Connection,
    *,
    kind: str,
    requester: str,
    subject: str,
    reason: str,
    ticket: str | None,
    requested: timedelta,
    pending_ttl: timedelta,
    now: datetime,
    details: Mapping[str, Any] | None = None,
) -> Request:
    req = Request(
        id=new_id("r"),
        kind=kind,
        requester=requester,
        subject=subject,
        reason=reason,
        ticket=ticket,
        requested=requested,
        created_at=now,
        expires_at=now + pending_ttl,
        details=details or {},
    )
    conn.execute(
        insert(access_requests).values(
            id=req.id,
            kind=kind,
            requester=requester,
            subject=subject,
            details=json.dumps(dict(req.details), sort_keys=True),
            reason=reason,
            ticket=ticket,
            requested_seconds=int(requested.total_seconds()),
            created_at=fmt_time(now),
            expires_at=fmt_time(req.expires_at),
        )
    )
    return req


def request_from_row(m: Any) -> Request:
    return Request(
        id=m["id"],
        kind=m["kind"],
        requester=m["requester"],
        subject=m["subject"],
        reason=m["reason"],
        ticket=m["ticket"],
        requested=timedelta(seconds=m["requested_seconds"]),
        created_at=parse_time(m["created_at"]),
        expires_at=parse_time(m["expires_at"]),
        details=json.loads(m["details"]),
    )


def load_request(conn: Connection, request_id: str) -> Request:
    row = conn.execute(select(access_requests).where(access_requests.c.id == request_id)).first()
    if row is None:
        raise _no_request(request_id)
    return request_from_row(row._mapping)


def _no_request(request_id: str) -> UsageError:
    return UsageError(
        f"there is no request {request_id!r}",
        hint="`stagewall access grants` and the request command's output show request ids",
    )


def review_from_row(r: Any, prefix: str = "") -> Review:
    """The review of an ``access_reviews`` row (columns named ``prefix`` + column name)."""
    m = r._mapping
    return Review(
        request_id=m[prefix + "request_id"],
        reviewer=m[prefix + "reviewer"],
        decision=Decision(m[prefix + "decision"]),
        reason=m[prefix + "reason"],
        mfa_method=m[prefix + "mfa_method"],
        mfa_time=m[prefix + "mfa_time"],
        created_at=m[prefix + "created_at"],
        withdrawn_at=m.get(prefix + "withdrawn_at"),
    )


def load_reviews(conn: Connection, request_id: str) -> list[Review]:
    rows = conn.execute(
        select(access_reviews)
        .where(access_reviews.c.request_id == request_id)
        .order_by(access_reviews.c.id)
    ).all()
    return [review_from_row(r) for r in rows]


def state_of(
    recorded: tuple[str, str | None] | None, request: Request, now: datetime
) -> tuple[Outcome, str | None]:
    """The request's state from its recorded outcome row (None: none recorded yet)."""
    if recorded is not None:
        return Outcome(recorded[0]), recorded[1]
    if now >= request.expires_at:
        return Outcome.EXPIRED, None
    return Outcome.PENDING, None


def outcome_of(conn: Connection, request: Request, now: datetime) -> tuple[Outcome, str | None]:
    row = conn.execute(
        select(access_outcomes.c.outcome, access_outcomes.c.result_ref).where(
            access_outcomes.c.request_id == request.id
        )
    ).first()
    return state_of((row[0], row[1]) if row is not None else None, request, now)


def review_row(request_id: str, reviewer: str) -> ColumnElement[bool]:
    """The WHERE clause of one review row (one review per reviewer and request)."""
    return (access_reviews.c.request_id == request_id) & (access_reviews.c.reviewer == reviewer)


_REVIEW_COLUMNS = (
    "request_id",
    "reviewer",
    "decision",
    "reason",
    "mfa_method",
    "mfa_time",
    "created_at",
    "withdrawn_at",
)
# A request, its recorded outcome (if any) and its reviews (in insertion order) in one
# statement: one row per review, or one row with NULL review columns when there is none.
_REQUEST_STATE = (
    select(
        access_requests,
        access_outcomes.c.outcome.label("o_outcome"),
        access_outcomes.c.result_ref.label("o_result_ref"),
        access_reviews.c.id.label("v_id"),
        *(access_reviews.c[name].label(f"v_{name}") for name in _REVIEW_COLUMNS),
    )
    .select_from(
        access_requests.outerjoin(
            access_outcomes, access_outcomes.c.request_id == access_requests.c.id
        ).outerjoin(access_reviews, access_reviews.c.request_id == access_requests.c.id)
    )
    .where(access_requests.c.id == bindparam("request_id"))
    .order_by(access_reviews.c.id)
)


def load_request_state(
    conn: Connection, request_id: str
) -> tuple[Request, tuple[str, str | None] | None, list[Review]]:
    """:func:`load_request`, its recorded outcome (as :func:`state_of` takes it) and
    :func:`load_reviews`, read in one statement (so from one snapshot)."""
    rows = conn.execute(_REQUEST_STATE, {"request_id": request_id}).all()
    if not rows:
        raise _no_request(request_id)
    m = rows[0]._mapping
    request = request_from_row(m)
    recorded = (m["o_outcome"], m["o_result_ref"]) if m["o_outcome"] is not None else None
    reviews = [review_from_row(r, "v_") for r in rows if r.v_id is not None]
    return request, recorded, reviews


def check_reviewable(
    conn: Connection, kind: RequestKind, request_id: str, reviewer: str, now: datetime
) -> tuple[Request, list[Review]]:
    """The request and its reviews if ``reviewer`` may review it now; AccessDenied if not.

    Called before the MFA check (so a refusal decidable without the code burns none)
    and again by :func:`record_review` under the request's lock.
    """
    request, recorded, earlier = load_request_state(conn, request_id)
    if request.kind != kind.name:
        raise UsageError(f"request {request_id} is a {request.kind} request, not {kind.name}")
    state, _ref = state_of(recorded, request, now)
    if state is Outcome.EXPIRED:
        raise AccessDenied(
            f"request {request_id} expired at {fmt_time(request.expires_at)} without a decision",
            hint="the requester submits a new request",
        )
    if state is not Outcome.PENDING:
        raise AccessDenied(f"request {request_id} is already {state.value}")
    problem = kind.reviewer_problem(request, reviewer)
    if problem is not None:
        raise AccessDenied(f"{reviewer!r} may not review request {request_id}: {problem}")
    if any(r.reviewer == reviewer for r in earlier):
        raise AccessDenied(f"{reviewer!r} has already reviewed request {request_id}")
    return request, earlier


def withdrawable(
    conn: Connection, request_id: str, reviewer: str
) -> tuple[Request, tuple[str, str | None] | None]:
    """The request and its recorded outcome if ``reviewer`` has a live approval of it to
    withdraw; AccessDenied if not (checked before the MFA check and again under the lock)."""
    request, recorded, reviews = load_request_state(conn, request_id)
    mine = [r for r in reviews if r.reviewer == reviewer]
    if not mine or mine[0].decision is not Decision.APPROVE:
        raise AccessDenied(
            f"{reviewer!r} has no approval of {request_id} to withdraw",
            hint="only the approver withdraws their own approval",
        )
    if mine[0].withdrawn_at is not None:
        raise AccessDenied(
            f"{reviewer!r} already withdrew their approval of {request_id} "
            f"at {mine[0].withdrawn_at}"
        )
    return request, recorded


def mark_withdrawn(
    conn: Connection, request_id: str, reviewer: str, *, reason: str, now: datetime
) -> None:
    """Mark ``reviewer``'s approval of ``request_id`` withdrawn (the caller holds the lock
    and records the event in the same transaction)."""
    done = conn.execute(
        update(access_reviews)
        .where(review_row(request_id, reviewer))
        .where(access_reviews.c.decision == Decision.APPROVE.value)
        .where(access_reviews.c.withdrawn_at.is_(None))
        .values(withdrawn_at=fmt_time(now), withdrawn_reason=reason)
    ).rowcount
    if done != 1:
        raise AccessDenied(f"{reviewer!r} has no live approval of {request_id} to withdraw")


def withdraw_locked(
    store: Store, conn: Connection, request_id: str, reviewer: str, *, reason: str, now: datetime
) -> tuple[Request, tuple[str, str | None] | None]:
    """In ``conn``'s transaction, under the request's lock: check again that ``reviewer``
    has a live approval of ``request_id`` and mark it withdrawn (:func:`withdrawable`,
    :func:`mark_withdrawn`). The caller records the withdrawal event in ``conn``."""
    store.lock(conn, f"stagewall.request.{request_id}")
    found = withdrawable(conn, request_id, reviewer)
    mark_withdrawn(conn, request_id, reviewer, reason=reason, now=now)
    return found


_INSERT_REVIEW = insert(access_reviews)
_INSERT_OUTCOME = insert(access_outcomes)


def record_review(
    store: Store,
    conn: Connection,
    kind: RequestKind,
    *,
    request_id: str,
    reviewer: str,
    decision: Decision,
    reason: str,
    mfa_method: str,
    mfa_time: str,
    now: datetime,
    withdrawn_in_log: Callable[[Connection], Collection[str]],
) -> ReviewResult:
    """Append one review and decide the request if the threshold is met.

    ``withdrawn_in_log(conn)``: the approvers whose withdrawal of this request's approval
    the audit log records (``binding.logged_withdrawals``). A withdrawal is final and its
    event outranks the row, as at issuance, in the sweep and at ``gate check``: an
    approval whose ``withdrawn_at`` was cleared in the store counts for nothing here too
    (and one marked withdrawn in the row counts for nothing either: fail closed).

    Raises AccessDenied (nothing written) when the review is not allowed.
    """
    store.lock(conn, f"stagewall.request.{request_id}")
    request, earlier = check_reviewable(conn, kind, request_id, reviewer, now)
    logged = set(withdrawn_in_log(conn))
    earlier = [
        replace(r, withdrawn_at=LOGGED_WITHDRAWAL)
        if r.withdrawn_at is None and r.reviewer in logged and r.decision is Decision.APPROVE
        else r
        for r in earlier
    ]
    review = Review(
        request_id=request_id,
        reviewer=reviewer,
        decision=decision,
        reason=reason,
        mfa_method=mfa_method,
        mfa_time=mfa_time,
        created_at=fmt_time(now),
    )
    conn.execute(
        _INSERT_REVIEW,
        {
            "request_id": request_id,
            "reviewer": reviewer,
            "decision": decision.value,
            "reason": reason,
            "mfa_method": mfa_method,
            "mfa_time": mfa_time,
            "created_at": review.created_at,
        },
    )
    reviews = [*earlier, review]
    outcome = evaluate(reviews, kind.rule(request))
    ref: str | None = None
    if outcome is Outcome.APPROVED:
        ref = kind.on_approved(conn, request, reviews, now)
    if outcome is not Outcome.PENDING:
        conn.execute(
            _INSERT_OUTCOME,
            {
                "request_id": request_id,
                "outcome": outcome.value,
                "decided_at": fmt_time(now),
                "result_ref": ref,
            },
        )
    return ReviewResult(request, review, outcome, ref)
