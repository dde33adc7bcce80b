"""Routes of masking jobs: list them and their runs, start a run (it runs in the background)."""
# No "from __future__ import annotations": FastAPI evaluates the route annotations.

from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from stagewall.identity.actor import Actor, acting
from stagewall.server import jobs, plans
from stagewall.server._auth import guard
from stagewall.server._routes_access import WithdrawBody
from stagewall.server._state import ServerState
from stagewall.server._stepup import Privileged

JobName = Annotated[str, Path(min_length=1, max_length=128)]
RequestId = Annotated[str, Path(min_length=1, max_length=64)]
_WITHDRAW = {"reason", "otp", "webauthn"}  # the fields of a withdrawal plans.withdraw takes


class JobRun(BaseModel):
    """One run of a masking job (never a connection URL)."""

    id: str
    job: str
    state: str  # queued | running | completed | failed
    trigger: str  # api | schedule
    triggered_by: str
    queued_at: str
    started_at: str | None
    finished_at: str | None
    masking_run: str | None
    audit_index: int | None
    verification: str | None
    total_rows: int | None
    error: str | None


class Job(BaseModel):
    """A declared masking job: resource names and environments, never a URL."""

    name: str
    source: str
    source_environment: str | None
    target: str
    target_environment: str | None
    plan: str
    schedule: str | None
    next_run: str | None
    run_by: list[str]
    verify: bool
    description: str
    last_run: JobRun | None


class PlanSubmitBody(BaseModel):
    """Ask for approval of the job's plan as deployed on the server (by its hash)."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000)
    plan_sha256: str | None = Field(
        default=None,
        pattern=r"^[0-9a-f]{64}$",
        description="The plan's canonical hash you reviewed (`stagewall mask plan --format "
        "json` prints it); refused if the server's plan has another.",
    )
    authors: list[str] = Field(
        default_factory=list,
        max_length=50,
        description="Who wrote the change (besides you): none of them may approve it.",
    )


class PlanReviewBody(Privileged):
    approve: bool
    reason: str = Field(default="", max_length=2000)


def register(r: FastAPI, state: ServerState) -> None:
    @r.post(
        "/api/v1/masking/jobs/{name}/plan-approvals", name="masking.plan.submit", status_code=201
    )
    def plan_submit(
        name: JobName,
        body: PlanSubmitBody,
        actor: Annotated[Actor, Depends(guard(state, "masking.plan.submit"))],
    ) -> dict[str, Any]:
        with acting(actor):
            return plans.submit(
                state,
                actor,
                name,
                reason=body.reason,
                authors=body.authors,
                expected_sha256=body.plan_sha256,
            )

    @r.get("/api/v1/masking/plan-approvals", name="masking.plan.list")
    def plan_list(
        actor: Annotated[Actor, Depends(guard(state, "masking.plan.list"))],
        job: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
        state_: Annotated[Literal["pending"] | None, Query(alias="state")] = None,
    ) -> list[dict[str, Any]]:
        return plans.list_requests(state, job=job, pending_only=state_ == "pending")

    @r.post("/api/v1/masking/plan-approvals/{request_id}/reviews", name="masking.plan.review")
    def plan_review(
        request_id: Annotated[str, Path(min_length=1, max_length=64)],
        body: PlanReviewBody,
        actor: Annotated[Actor, Depends(guard(state, "masking.plan.review"))],
    ) -> dict[str, Any]:
        with acting(actor):
            return plans.review(
                state,
                request_id,
                reviewer=actor.principal,
                approve=body.approve,
                otp=body.otp,
                webauthn=body.webauthn,
                reason=body.reason,
            )

    @r.post(
        "/api/v1/masking/plan-approvals/{request_id}/reviews/withdrawal",
        name="masking.plan.withdraw",
    )
    def plan_withdraw(
        request_id: RequestId,
        body: WithdrawBody,
        actor: Annotated[Actor, Depends(guard(state, "masking.plan.withdraw"))],
    ) -> dict[str, Any]:
        """Withdraw your own approval of a plan: the job's next run is refused (SW864)."""
        with acting(actor):
            return plans.withdraw(
                state, request_id, reviewer=actor.principal, **body.model_dump(include=_WITHDRAW)
            )

    @r.get("/api/v1/masking/jobs", name="masking.job.list")
    def job_list(
        actor: Annotated[Actor, Depends(guard(state, "masking.job.list"))],
    ) -> list[Job]:
        return [Job.model_validate(j) for j in jobs.list_jobs(state)]

    @r.post("/api/v1/masking/jobs/{name}/runs", name="masking.job.start", status_code=202)
    def job_start(
        name: JobName,
        actor: Annotated[Actor, Depends(guard(state, "masking.job.start"))],
    ) -> JobRun:
        with acting(actor):
            jobs.authorize(state, actor, name)
            return JobRun.model_validate(
                jobs.start(state, name, triggered_by=actor.principal, trigger="api")
            )

    @r.get("/api/v1/masking/jobs/{name}/runs", name="masking.job.runs")
    def job_runs(
        name: JobName,
        actor: Annotated[Actor, Depends(guard(state, "masking.job.runs"))],
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> list[JobRun]:
        jobs.get_job(state.estate, name)
        return [JobRun.model_validate(r) for r in jobs.list_runs(state, name, limit)]

    @r.get("/api/v1/masking/runs/{run_id}", name="masking.run.show")
    def run_show(
        run_id: Annotated[str, Path(min_length=1, max_length=64)],
        actor: Annotated[Actor, Depends(guard(state, "masking.run.show"))],
    ) -> JobRun:
        return JobRun.model_validate(jobs.get_run(state, run_id))
