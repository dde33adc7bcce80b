"""Routes of the evidence checks, the auditor's pack and the questionnaire answers."""
# No "from __future__ import annotations": FastAPI evaluates the route annotations.

import hashlib
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query
from fastapi.responses import Response

from stagewall.evidence.evaluate import make_window, parse_time_arg
from stagewall.evidence.pack import build_pack
from stagewall.evidence.questionnaire import builtin_answers
from stagewall.evidence.record import PACKED
from stagewall.identity.actor import Actor, acting
from stagewall.keys import load_signing_key
from stagewall.server._auth import guard
from stagewall.server._state import ServerState


def register(r: FastAPI, state: ServerState) -> None:
    @r.get("/api/v1/evidence/checks", name="evidence.checks")
    def checks(
        actor: Annotated[Actor, Depends(guard(state, "evidence.checks"))],
    ) -> dict[str, Any]:
        """Every control check computed now from the store, the log and the estate."""
        return state.evaluation().to_json()

    @r.get("/api/v1/evidence/answers", name="evidence.answers")
    def answers(
        actor: Annotated[Actor, Depends(guard(state, "evidence.answers"))],
        questionnaire: Annotated[str, Query(max_length=32, examples=["caiq-v4"])] = "caiq-v4",
    ) -> dict[str, Any]:
        """A built-in question set answered from the checks computed now."""
        ev = state.evaluation()
        return {
            "questionnaire": questionnaire,
            "answers": [
                {"id": qid, "question": text, "caiq": caiq.split(), **a.to_json()}
                for qid, text, caiq, a in builtin_answers(questionnaire, ev)
            ],
        }

    @r.get("/api/v1/evidence/pack", name="evidence.pack")
    def pack(
        actor: Annotated[Actor, Depends(guard(state, "evidence.pack"))],
        start: Annotated[str, Query(alias="from", max_length=40, examples=["2026-09-01"])],
        end: Annotated[str, Query(alias="to", max_length=40, examples=["2026-11-30"])],
        pdf: bool = True,
    ) -> Response:
        """The auditor's pack for a window, signed with the server's audit key (a zip);
        who took it, and its SHA-256, are recorded in the audit log."""
        window = make_window(
            parse_time_arg(start, what="from"), parse_time_arg(end, end_of_day=True, what="to")
        )
        with tempfile.TemporaryDirectory() as tmp:
            res = build_pack(
                state.evidence_inputs(window),
                Path(tmp) / "pack.zip",
                signing_key=load_signing_key(state.home),
                pdf=pdf,
            )
            data = res.path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        with acting(actor):
            state.ctx.record(
                PACKED.code,
                actor.principal,
                f"evidence pack {start}..{end} ({res.events} events, checkpoint "
                f"{res.tree_size}) taken by {actor.principal}",
                details={
                    "window": res.evaluation.window.to_json(),
                    "sha256": digest,
                    "tree_size": res.tree_size,
                    "events": res.events,
                },
            )
        return Response(
            data,
            media_type="application/zip",
            headers={
                "Content-Disposition": 'attachment; filename="stagewall-evidence-pack.zip"',
                "X-Content-SHA256": digest,
            },
        )
