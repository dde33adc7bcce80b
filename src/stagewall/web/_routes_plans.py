"""The page of one masking plan approval request: what was submitted, the plan itself
(when the server still holds that hash), and the decision or withdrawal forms.

Deciding posts to the inbox's ``/decide`` (item ``plan:ID``) and withdrawing to its
``/withdraw`` (kind ``plan``): the same library calls as the API's
(``server.plans.review``, ``server.plans.withdraw``), with the session's CSRF token and
the factor sent with the form. Internal people and auditors read the page; externals
never (the plan names production's tables and columns).
"""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations.

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Request
from fastapi.responses import HTMLResponse

from stagewall.errors import MaskingPlanRequestUnknown, StagewallError
from stagewall.identity._codes import fmt
from stagewall.identity.actor import ActorClass
from stagewall.server import plans
from stagewall.server._state import ServerState
from stagewall.web import _queries
from stagewall.web._render import Viewer, render, viewer


def plan_rules(state: ServerState, job: str, sha256: str) -> list[dict[str, Any]] | None:
    """The rules of job ``job``'s plan as the server holds it now, one row a column, if
    that plan has hash ``sha256`` (None: the server holds another version now). The
    hash is computed from the very plan whose rules are returned, so an edit of the plan
    file between the request's hash comparison and this read never shows another
    plan's rules under ``sha256``."""
    from stagewall.server.jobs import prepare

    plan = prepare(state, job).plan
    if plan.sha256() != sha256:
        return None
    return [
        {
            "table": table,
            "column": column,
            "transformer": rule.transformer,
            "reason": rule.reason,
        }
        for table, tp in sorted(plan.tables.items())
        for column, rule in sorted(tp.columns.items())
    ]


def register(r: FastAPI, state: ServerState) -> None:
    @r.get("/masking/plans/{request_id}", name="web.plan", response_class=HTMLResponse)
    def plan_page(
        request: Request,
        request_id: Annotated[str, Path(min_length=1, max_length=64)],
        who: Annotated[Viewer, Depends(viewer(state, "web.plan"))],
    ) -> HTMLResponse:
        rows = plans.list_requests(state, request_id=request_id)
        if not rows:
            raise MaskingPlanRequestUnknown(f"there is no masking plan request {request_id!r}")
        row = rows[0]
        me = who.principal
        internal = who.has(ActorClass.INTERNAL)
        problem = None
        if internal and row["state"] == "pending":
            problem = plans.review_problem(state, request_id, me)
        rules: list[dict[str, Any]] = []
        unreadable = ""
        if row["current"]:
            try:
                held = plan_rules(state, str(row["job"]), str(row["plan_sha256"]))
            except StagewallError as exc:
                unreadable = exc.message
            else:
                if held is None:  # edited since the comparison: show no rules at all
                    row["current"] = False
                rules = held or []
        mine = [
            v
            for v in row["reviews"]
            if v["reviewer"] == me and v["decision"] == "approve" and not v["withdrawn"]
        ]
        return render(
            request,
            "plan.html",
            who=who,
            x=row,
            may_decide=internal and row["state"] == "pending" and problem is None,
            problem=problem,
            may_withdraw=internal and bool(mine),
            rules=rules,
            unreadable=unreadable,
            window_until=_queries.step_up_until(
                state.ctx.store, who.actor.session_id, fmt(state.now())
            ),
        )
