"""Route of the segmentation probe: a probe agent on a non-production host reports."""
# No "from __future__ import annotations": FastAPI evaluates the route annotations.

from typing import Annotated, Any

from fastapi import Depends, FastAPI
from pydantic import BaseModel, ConfigDict, Field

from stagewall.identity.actor import Actor, acting
from stagewall.segmentation.probe import MAX_TARGETS, ProbeReport, record_probe
from stagewall.server._auth import guard
from stagewall.server._state import ServerState


class ResultBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resource: str = Field(min_length=1, max_length=128)
    host: str = Field(min_length=1, max_length=255)
    port: int = Field(ge=1, le=65535)
    reach: str = Field(min_length=1, max_length=16)
    address: str | None = Field(default=None, max_length=64)


class ProbeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    environment: str = Field(min_length=1, max_length=128)
    probe_host: str = Field(min_length=1, max_length=255)
    time: str = Field(min_length=1, max_length=40)
    segmented: bool | None = None  # recomputed by the server, never trusted
    results: list[ResultBody] = Field(max_length=MAX_TARGETS)
    not_probed: list[str] = Field(default_factory=list, max_length=MAX_TARGETS)


def register(r: FastAPI, state: ServerState) -> None:
    @r.post("/api/v1/segmentation/probes", name="segmentation.probe", status_code=201)
    def report(
        body: ProbeBody, actor: Annotated[Actor, Depends(guard(state, "segmentation.probe"))]
    ) -> dict[str, Any]:
        rep = ProbeReport.from_dict(body.model_dump())
        with acting(actor):
            record_probe(
                state.ctx.audit, state.estate, rep, actor=actor.principal, alert=state.ctx.alert
            )
        return {"recorded": True, "segmented": rep.segmented}
