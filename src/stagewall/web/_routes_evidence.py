"""The evidence page: every control check, the questionnaire answers, the pack.

The page never evaluates on the request path (a cold evaluation over 100,000 events
takes seconds): it shows the newest evaluation this server computed (the scheduler's
or an earlier one) with its time, and queues a fresh one on the background evidence
worker when there is none or it is older than ``FRESH_FOR``. With none in memory yet it
shows the statuses of the newest evaluation recorded in the audit log, "evaluating…".
"""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations.

from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse

from stagewall.audit import AuditLog
from stagewall.evidence.questionnaire import QUESTION_SETS, builtin_answers
from stagewall.evidence.record import latest_recorded
from stagewall.server._state import ServerState
from stagewall.web._render import Viewer, render, viewer

FRESH_FOR = timedelta(minutes=10)


def register(r: FastAPI, state: ServerState) -> None:
    @r.get("/evidence", name="web.evidence", response_class=HTMLResponse)
    def evidence(
        request: Request,
        who: Annotated[Viewer, Depends(viewer(state, "web.evidence"))],
        questionnaire: Annotated[str, Query(max_length=32)] = "caiq-v4",
    ) -> HTMLResponse:
        now = state.now()
        got = state.newest_evaluation()
        fresh = got is not None and timedelta(0) <= now - got[0] < FRESH_FOR
        if not fresh:
            state.evaluate_in_background()
        chosen = questionnaire if questionnaire in QUESTION_SETS else "caiq-v4"
        today = now.date()
        common: dict[str, Any] = {
            "evaluating": not fresh,
            "sets": sorted(QUESTION_SETS),
            "questionnaire": chosen,
            "may_pack": who.may("evidence.pack"),
            "pack_from": (today - timedelta(days=90)).isoformat(),
            "pack_to": today.isoformat(),
        }
        if got is None:
            recorded = latest_recorded(AuditLog(state.ctx.store, home=state.home))
            return render(
                request, "evidence.html", who=who, evaluation=None, recorded=recorded, **common
            )
        at, ev = got
        return render(
            request,
            "evidence.html",
            who=who,
            evaluation=ev,
            computed_at=at,
            counts=ev.counts(),
            results=sorted(ev.results.values(), key=lambda c: (c.status.value, c.check)),
            answers=builtin_answers(chosen, ev),
            **common,
        )
