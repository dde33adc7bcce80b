"""The evidence page: every control check now, the questionnaire answers, the pack."""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations.

from datetime import timedelta
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse

from stagewall.evidence.questionnaire import QUESTION_SETS, builtin_answers
from stagewall.server._state import ServerState
from stagewall.web._render import Viewer, render, viewer


def register(r: FastAPI, state: ServerState) -> None:
    @r.get("/evidence", name="web.evidence", response_class=HTMLResponse)
    def evidence(
        request: Request,
        who: Annotated[Viewer, Depends(viewer(state, "web.evidence"))],
        questionnaire: Annotated[str, Query(max_length=32)] = "caiq-v4",
    ) -> HTMLResponse:
        """The same evaluation the API serves (shared for a minute), as a page."""
        ev = state.evaluation()
        chosen = questionnaire if questionnaire in QUESTION_SETS else "caiq-v4"
        today = state.now().date()
        return render(
            request,
            "evidence.html",
            who=who,
            evaluation=ev,
            counts=ev.counts(),
            results=sorted(ev.results.values(), key=lambda c: (c.status.value, c.check)),
            sets=sorted(QUESTION_SETS),
            questionnaire=chosen,
            answers=builtin_answers(chosen, ev),
            may_pack=who.may("evidence.pack"),
            pack_from=(today - timedelta(days=90)).isoformat(),
            pack_to=today.isoformat(),
        )
