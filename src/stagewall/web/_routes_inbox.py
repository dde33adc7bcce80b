"""The inbox (home page): what waits for the signed-in person, and deciding it.

Every decision calls the same library function as the API route does, as the
signed-in actor and with the factor the person entered; the library decides.
"""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations.

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse

from stagewall.access import complete_follow_up, decide, review_request, withdraw_approval
from stagewall.access._core import parse_time
from stagewall.access.requests import approvers_for, list_requests
from stagewall.errors import StagewallError, UsageError
from stagewall.gates import Gate
from stagewall.identity import stepup
from stagewall.identity._codes import fmt
from stagewall.identity.actor import ActorClass, acting
from stagewall.server import plans
from stagewall.server._gate_rows import gate_row_reporter
from stagewall.server._state import ServerState
from stagewall.web import _queries
from stagewall.web._render import MAX_ASSERTION, Viewer, factor, render, viewer

KINDS = ("access", "promotion", "review", "followup", "plan")
WITHDRAW_KINDS = ("access", "promotion", "plan")
MAX_BATCH = 50
StepFactor = tuple[str | None, dict[str, Any] | None]


@dataclass(frozen=True)
class Outcome:
    item: str
    ok: bool
    text: str


def _facts(state: ServerState, row: dict[str, Any]) -> dict[str, Any]:
    """What an approver needs beside the request itself: vendor, contract, environment, rule."""
    e = state.estate
    requester = str(row["requester"])
    p = e.principals.get(requester)
    role = e.roles.get(str(row["role"]))
    rule = e.approval_rules.get(role.approval) if role and role.approval else None
    end = e.vendor_end(requester)
    return {
        **row,
        "vendor": p.vendor if p else None,
        "internal": e.is_internal(requester),
        "contract_end": end.date().isoformat() if end else None,
        "environment": role.environment if role else "?",
        "access": role.access.value if role else "?",
        "resources": list(role.resources) if role else [],
        "approvals_needed": rule.approvals if rule else 1,
        # A withdrawn approval counts for nothing (shown here from the row; the library
        # decides each review from the log-bound view).
        "approvals_so_far": sum(
            1 for v in row["reviews"] if v["decision"] == "approve" and not v.get("withdrawn")
        ),
    }


def inbox_context(state: ServerState, who: Viewer) -> dict[str, Any]:
    ctx = state.ctx
    me = who.principal
    internal = who.has(ActorClass.INTERNAL)
    to_review = [_facts(state, x) for x in list_requests(ctx, reviewable_by=me)] if internal else []
    promotions: list[dict[str, Any]] = []
    plans_: list[dict[str, Any]] = []
    items: list[dict[str, Any]] = []
    follow_ups: list[dict[str, Any]] = []
    follow_ups_total = 0
    if internal:
        gate = Gate(ctx.store, ctx.loaded, home=str(state.home))
        promotions = _queries.promotions_to_approve(
            ctx, me, state.now(), gate.log, gate_row_reporter(state, gate, me, "approver inbox")
        )
        plans_ = plans.list_requests(state, reviewable_by=me)
        items = _queries.open_review_items(ctx, me)
        now = state.now()
        opened, follow_ups_total = _queries.open_follow_ups(ctx, not_of=me)
        follow_ups = [{**f, "overdue": parse_time(f["due_at"]) < now} for f in opened]
    withdrawable = _queries.withdrawable_approvals(ctx, me, state.now()) if internal else []
    mine = list_requests(ctx, pending_only=True, requester=me)
    return {
        "to_review": to_review,
        "promotions": promotions,
        "plans": plans_,
        "items": items,
        "follow_ups": follow_ups,
        "follow_ups_total": follow_ups_total,
        "withdrawable": withdrawable,
        "mine": [{**x, "approvers": approvers_for(ctx, str(x["role"]), me)} for x in mine],
        "now": state.now(),
        "window_until": _queries.step_up_until(ctx.store, who.actor.session_id, fmt(state.now())),
    }


def register(r: FastAPI, state: ServerState) -> None:
    ctx = state.ctx

    def page(
        request: Request, who: Viewer, outcomes: list[Outcome] | None = None, status: int = 200
    ) -> HTMLResponse:
        return render(
            request,
            "inbox.html",
            who=who,
            status=status,
            outcomes=outcomes or [],
            **inbox_context(state, who),
        )

    @r.get("/", name="web.inbox", response_class=HTMLResponse)
    def inbox(
        request: Request, who: Annotated[Viewer, Depends(viewer(state, "web.inbox"))]
    ) -> HTMLResponse:
        return page(request, who)

    def one(who: Viewer, item: str, approve: bool, reason: str, step: StepFactor) -> str:
        kind, _, ident = item.partition(":")
        me = who.principal
        otp, webauthn = step
        if kind == "access":
            res = review_request(
                ctx, ident, reviewer=me, approve=approve, otp=otp, reason=reason, webauthn=webauthn
            )
            grant = f" (grant {res.result_ref})" if res.result_ref else ""
            return f"request {ident}: {res.outcome.value}{grant}"
        if kind == "promotion":
            if not approve:
                raise UsageError(
                    "a promotion is not denied here: it simply stays unapproved",
                    hint="leave it pending; it expires, or its submitter withdraws it",
                )
            p, state_ = _queries.gate(ctx).approve(
                ident, approver=me, otp=otp, reason=reason, webauthn=webauthn, now=state.now()
            )
            return f"promotion {p.id} of {p.sha[:12]}: {state_.value}"
        if kind == "plan":
            got = plans.review(
                state,
                ident,
                reviewer=me,
                approve=approve,
                otp=otp,
                webauthn=webauthn,
                reason=reason,
            )
            return (
                f"plan {str(got['plan_sha256'])[:12]} of masking job {got['job']}: {got['outcome']}"
            )
        if kind == "review":
            got = decide(
                ctx, ident, reviewer=me, keep=approve, otp=otp, note=reason, webauthn=webauthn
            )
            return f"review item {ident}: {got.get('outcome') or ('keep' if approve else 'revoke')}"
        if kind == "followup":
            if not approve:
                raise UsageError("a follow-up is completed, not denied; write what you found")
            fu = complete_follow_up(
                ctx, ident, reviewer=me, otp=otp, note=reason, webauthn=webauthn
            )
            return f"follow-up {fu.id}: completed"
        raise UsageError(f"unknown inbox item {item!r}")

    @r.post("/withdraw", name="web.withdraw", response_class=HTMLResponse)
    def withdraw(
        request: Request,
        who: Annotated[Viewer, Depends(viewer(state, "web.withdraw"))],
        kind: Annotated[str, Form(max_length=16)],
        approval: Annotated[str, Form(max_length=80)],
        otp: Annotated[str, Form(max_length=16)] = "",
        webauthn: Annotated[str, Form(max_length=MAX_ASSERTION)] = "",
        reason: Annotated[str, Form(max_length=4000)] = "",
    ) -> HTMLResponse:
        """Withdraw your own approval (``kind`` access, promotion or plan, ``approval``
        the request's id): the same library call as the API's, with the factor sent with
        the form (the library decides)."""
        ident = approval.strip()
        if kind not in WITHDRAW_KINDS or not ident:
            raise UsageError("pick one of your approvals to withdraw")
        item = f"{kind} {ident}"
        otp_, webauthn_ = factor(otp, webauthn)
        me = who.principal
        with acting(who.actor):
            try:
                if kind == "access":
                    got = withdraw_approval(
                        ctx, ident, reviewer=me, otp=otp_, reason=reason, webauthn=webauthn_
                    )
                    ended = f"; grant {got['grant']} ends" if got.get("grant") else ""
                    text = f"your approval of request {ident} is withdrawn{ended}"
                elif kind == "plan":
                    got = plans.withdraw(
                        state, ident, reviewer=me, otp=otp_, webauthn=webauthn_, reason=reason
                    )
                    text = (
                        f"your approval of plan {str(got['plan_sha256'])[:12]} of masking job "
                        f"{got['job']} is withdrawn; its next run is refused"
                    )
                else:
                    _queries.gate(ctx).withdraw(
                        ident,
                        approver=me,
                        otp=otp_,
                        reason=reason,
                        webauthn=webauthn_,
                        now=state.now(),
                    )
                    text = f"your approval of promotion {ident} is withdrawn"
                outcome = Outcome(item, True, text)
            except StagewallError as exc:
                outcome = Outcome(item, False, exc.message)
        return page(request, who, [outcome], 200 if outcome.ok else 400)

    @r.post("/decide", name="web.decide", response_class=HTMLResponse)
    def decide_items(
        request: Request,
        who: Annotated[Viewer, Depends(viewer(state, "web.decide"))],
        item: Annotated[list[str], Form(max_length=MAX_BATCH)],
        decision: Annotated[str, Form(max_length=16)],
        otp: Annotated[str, Form(max_length=16)] = "",
        webauthn: Annotated[str, Form(max_length=MAX_ASSERTION)] = "",
        reason: Annotated[str, Form(max_length=4000)] = "",
    ) -> HTMLResponse:
        if decision not in ("approve", "deny"):
            raise UsageError("decision must be approve or deny")
        items = list(dict.fromkeys(i.strip() for i in item if i.strip()))
        if not items or any(len(i) > 80 or i.partition(":")[0] not in KINDS for i in items):
            raise UsageError("pick inbox items to decide")
        approve = decision == "approve"
        step = factor(otp, webauthn)
        outcomes: list[Outcome] = []
        with acting(who.actor):
            try:
                if len(items) > 1 and (step[0] or step[1]):
                    # One factor check opens this session's step-up window; every decision
                    # of the batch then verifies against that window (the library decides).
                    stepup.open_window(
                        ctx.store,
                        who.principal,
                        stepup.factor_of(*step) or "",
                        now=state.now(),
                        settings=state.settings,
                        home=ctx.home,
                    )
                    step = (None, None)
            except StagewallError as exc:
                outcomes.append(Outcome("step-up", False, exc.message))
            for it in items:
                try:
                    if outcomes and not outcomes[-1].ok:
                        raise UsageError("not tried: an earlier decision in this batch failed")
                    outcomes.append(Outcome(it, True, one(who, it, approve, reason, step)))
                except StagewallError as exc:
                    outcomes.append(Outcome(it, False, exc.message))
        status = 200 if all(o.ok for o in outcomes) else 400
        return page(request, who, outcomes, status)
