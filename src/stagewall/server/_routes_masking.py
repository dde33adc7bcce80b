"""Routes of masking jobs: list them and their runs, start a run (it runs in the background)."""
# No "from __future__ import annotations": FastAPI evaluates the route annotations.

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Path, Query

from stagewall.identity.actor import Actor, acting
from stagewall.server import jobs
from stagewall.server._auth import guard
from stagewall.server._state import ServerState

JobName = Annotated[str, Path(min_length=1, max_length=128)]


def register(r: FastAPI, state: ServerState) -> None:
    @r.get("/api/v1/masking/jobs", name="masking.job.list")
    def job_list(
        actor: Annotated[Actor, Depends(guard(state, "masking.job.list"))],
    ) -> list[dict[str, Any]]:
        return jobs.list_jobs(state)

    @r.post("/api/v1/masking/jobs/{name}/runs", name="masking.job.start", status_code=202)
    def job_start(
        name: JobName,
        actor: Annotated[Actor, Depends(guard(state, "masking.job.start"))],
    ) -> dict[str, Any]:
        with acting(actor):
            jobs.authorize(state, actor, name)
            return jobs.start(state, name, triggered_by=actor.principal, trigger="api")

    @r.get("/api/v1/masking/jobs/{name}/runs", name="masking.job.runs")
    def job_runs(
        name: JobName,
        actor: Annotated[Actor, Depends(guard(state, "masking.job.runs"))],
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> list[dict[str, Any]]:
        jobs.get_job(state.estate, name)
        return jobs.list_runs(state, name, limit)

    @r.get("/api/v1/masking/runs/{run_id}", name="masking.run.show")
    def run_show(
        run_id: Annotated[str, Path(min_length=1, max_length=64)],
        actor: Annotated[Actor, Depends(guard(state, "masking.run.show"))],
    ) -> dict[str, Any]:
        return jobs.get_run(state, run_id)
