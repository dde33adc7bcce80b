"""Routes pipelines (and submitters) use: submit, break-glass, report a check, gate check.

The actor is the authenticated caller, never a name in the body: a pipeline is who
its CI OIDC token or pipeline token says, a person is who logged in. A submission
carries the raw commit objects of the change and the tree objects that show what
each commit changed (submodule bumps, vendored paths); the server verifies them all
by hash (``stagewall.gates._history``, ``stagewall.gates._trees``). ``gate check``
signs its attestation with the key only the server holds and returns it.
"""
# No "from __future__ import annotations": FastAPI evaluates the route annotations.

import base64
import binascii
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field

from stagewall.errors import HistoryRejected, UsageError
from stagewall.estate import Estate
from stagewall.gates import Gate, Promotion, check
from stagewall.gates._alerts import alert_break_glass
from stagewall.gates._bringin import MAX_DEPTH
from stagewall.gates._history import Submitted
from stagewall.identity import ci_uses
from stagewall.identity._codes import fmt
from stagewall.identity._events import CI_SESSION_STARTED
from stagewall.identity.actor import Actor, acting
from stagewall.keys import load_signing_key
from stagewall.server._auth import guard, source_address
from stagewall.server._pipeline import refuse_pull_request_run
from stagewall.server._state import ServerState

MAX_COMMITS_SENT = 20_000
MAX_OBJECTS_SENT = 200_000
MAX_HISTORY_CHARS = 64 * 1024 * 1024  # base64 of all commit objects of one submission


class SubmoduleObjects(BaseModel):
    """The objects of one submodule: the commits its bumps bring in, and their trees."""

    model_config = ConfigDict(extra="forbid")

    commits: dict[str, str] = Field(default_factory=dict, max_length=MAX_COMMITS_SENT)
    boundary: dict[str, str] = Field(default_factory=dict, max_length=MAX_COMMITS_SENT)
    trees: dict[str, str] = Field(default_factory=dict, max_length=MAX_OBJECTS_SENT)
    submodules: dict[str, "SubmoduleObjects"] = Field(default_factory=dict, max_length=1000)


class SubmitBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stage: str = Field(min_length=1, max_length=128)
    change: str = Field(min_length=1, max_length=80)
    artifact: str = Field(min_length=1, max_length=80)
    # commit id -> base64 of the raw commit object (``git cat-file commit ID``)
    commits: dict[str, str] = Field(max_length=MAX_COMMITS_SENT)
    # The parents just outside the range (their trees), the tree objects that show what
    # each commit changed, and per submodule path the same for the commits a bump brings
    # in: what ``stagewall gate submit`` sends (gates/_trees.py). Without ``trees`` the
    # submission is refused: the server could not see submodules or vendored paths.
    boundary: dict[str, str] = Field(default_factory=dict, max_length=MAX_COMMITS_SENT)
    trees: dict[str, str] | None = Field(default=None, max_length=MAX_OBJECTS_SENT)
    submodules: dict[str, SubmoduleObjects] = Field(default_factory=dict, max_length=1000)


class BreakGlassBody(SubmitBody):
    reason: str = Field(min_length=1, max_length=2000)
    otp: str = Field(min_length=1, max_length=16)


class ReportBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    change: str = Field(min_length=1, max_length=80)
    stage: str = Field(min_length=1, max_length=128)
    check: str = Field(min_length=1, max_length=128)
    status: str = Field(min_length=1, max_length=8)


class CheckBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    change: str = Field(min_length=1, max_length=80)
    artifact: str = Field(min_length=1, max_length=80)
    stage: str = Field(min_length=1, max_length=128)
    subject_name: str = Field(default="artifact", min_length=1, max_length=200)


def promotion_summary(estate: Estate, p: Promotion) -> dict[str, Any]:
    return {
        "id": p.id,
        "stage": p.stage,
        "environment": p.environment,
        "sha": p.sha,
        "digest": p.digest,
        "submitter": p.submitter,
        "break_glass": p.break_glass,
        "commits": p.commits,
        "base": p.base,
        "authors": p.authorship(estate).as_list(),
        "rules_hash": p.rules_hash,
    }


def _decoded(objects: dict[str, str], what: str) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for sha, text in objects.items():
        try:
            out[sha.lower()] = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise HistoryRejected(f"the object of {what} {sha[:64]} is not base64") from None
    return out


def _size(body: SubmitBody | SubmoduleObjects) -> int:
    parts = [body.commits, body.boundary, body.trees or {}]
    own = sum(len(k) + len(v) for part in parts for k, v in part.items())
    return own + sum(len(p) + _size(sub) for p, sub in body.submodules.items())


def _submitted(body: SubmitBody | SubmoduleObjects, depth: int = 0) -> Submitted:
    """The objects of a submission (its size and submodule nesting bounded), decoded."""
    if depth == 0 and (total := _size(body)) > MAX_HISTORY_CHARS:
        raise HistoryRejected(
            f"the objects sent are {total} characters, more than {MAX_HISTORY_CHARS}",
            hint="promote more often, so that fewer commits separate two promotions",
        )
    if body.submodules and depth >= MAX_DEPTH:
        raise HistoryRejected(f"submodules are followed {MAX_DEPTH} levels deep, no deeper")
    return Submitted(
        commits=_decoded(body.commits, "commit"),
        boundary=_decoded(body.boundary, "commit"),
        trees=None if body.trees is None else _decoded(body.trees, "tree"),
        submodules={
            path[:4096]: _submitted(sub, depth + 1) for path, sub in body.submodules.items()
        },
    )


class CiSessionOut(BaseModel):
    token: str
    token_type: str = "Bearer"  # noqa: S105 - the RFC 6750 scheme name
    expires_at: str
    principal: str


def register(r: FastAPI, state: ServerState) -> None:
    @r.post("/api/v1/ci/session", name="ci.session", response_model=CiSessionOut)
    def ci_session(
        request: Request, actor: Annotated[Actor, Depends(guard(state, "ci.session"))]
    ) -> CiSessionOut:
        """Exchange this job's CI OIDC ID token (sent as the bearer token, accepted once)
        for a job session token (``swc_``) valid until the CI token expires, at most an
        hour. The job's later requests carry the session token."""
        burnt = getattr(request.state, "ci_burnt", None)
        if burnt is None:
            raise UsageError(
                "only a CI OIDC ID token can be exchanged for a job session",
                hint="send the platform's ID token as the bearer token; a pipeline token "
                "(swp_) is used directly",
            )
        now = state.now()
        with acting(actor):
            new = ci_uses.exchange(
                state.ctx.store,
                burnt.key,
                burnt.claims,
                principal=actor.principal,
                now=now,
                source_address=source_address(request, state),
                user_agent=request.headers.get("user-agent"),
            )
            state.ctx.record(
                CI_SESSION_STARTED.code,
                actor.principal,
                f"CI job session {new.info.id} started for {actor.principal} "
                f"(until {fmt(new.info.expires_at)})",
                resource=f"principal:{actor.principal}",
                details={"session": new.info.id, "expires_at": fmt(new.info.expires_at)},
            )
        return CiSessionOut(
            token=new.secret, expires_at=fmt(new.info.expires_at), principal=actor.principal
        )

    def gate() -> Gate:
        return Gate(state.ctx.store, state.ctx.loaded, home=str(state.home))

    def submit(body: SubmitBody, actor: Actor, reason: str | None, otp: str | None) -> Promotion:
        g = gate()
        with acting(actor):
            history = g.history(body.stage, _submitted(body), actor=actor.principal)
            return g.submit(
                repo=history,
                change=body.change,
                artifact=body.artifact,
                stage=body.stage,
                submitter=actor.principal,
                break_glass_reason=reason,
                otp=otp,
                now=state.now(),
            )

    @r.get("/api/v1/promotions/base", name="gate.base")
    def base(
        stage: str, actor: Annotated[Actor, Depends(guard(state, "gate.base"))]
    ) -> dict[str, Any]:
        """The commit last deployed to ``stage``: send the commits since it."""
        return {"stage": stage, "base": gate().base(stage)}

    @r.post("/api/v1/promotions", name="gate.submit")
    def submit_route(
        body: SubmitBody, actor: Annotated[Actor, Depends(guard(state, "gate.submit"))]
    ) -> dict[str, Any]:
        p = submit(body, actor, None, None)
        return promotion_summary(state.estate, p)

    @r.post("/api/v1/promotions/break-glass", name="gate.break_glass")
    def break_glass_route(
        body: BreakGlassBody,
        actor: Annotated[Actor, Depends(guard(state, "gate.break_glass"))],
    ) -> dict[str, Any]:
        p = submit(body, actor, body.reason, body.otp)
        with acting(actor):
            failures = alert_break_glass(gate(), p)
        return {**promotion_summary(state.estate, p), "alert_failures": failures}

    @r.post("/api/v1/checks", name="gate.report")
    def report_route(
        body: ReportBody, actor: Annotated[Actor, Depends(guard(state, "gate.report"))]
    ) -> dict[str, Any]:
        with acting(actor):
            refuse_pull_request_run(state, actor, "gate.report", "report a check")
            gate().report(
                change=body.change,
                stage=body.stage,
                check=body.check,
                status=body.status,
                reporter=actor.principal,
                now=state.now(),
            )
        return {
            "change": body.change.lower(),
            "stage": body.stage,
            "check": body.check,
            "status": body.status,
            "reporter": actor.principal,
        }

    @r.post("/api/v1/deployments", name="gate.check")
    def check_route(
        body: CheckBody, actor: Annotated[Actor, Depends(guard(state, "gate.check"))]
    ) -> dict[str, Any]:
        """Decide whether the change may be deployed now; sign and return the attestation."""
        with acting(actor):
            refuse_pull_request_run(state, actor, "gate.check", "ask to deploy")
        key = load_signing_key(state.home)
        with acting(actor):
            allowed = check(
                gate(),
                change=body.change,
                artifact=body.artifact,
                stage=body.stage,
                deployer=actor.principal,
                key=key,
                subject_name=body.subject_name,
                now=state.now(),
            )
        return {
            "allowed": True,
            "promotion": allowed.promotion.id,
            "predicate": allowed.predicate,
            "attestation": base64.b64encode(allowed.envelope).decode("ascii"),
        }


__all__ = ["promotion_summary", "register"]
