"""The ASGI app of ``stagewall serve``: the only process that holds secrets and writes the store."""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations,
# which use the local ``state`` inside Depends(guard(state, ...)).

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from stagewall import __version__
from stagewall.audit import AuditLog
from stagewall.errors import StagewallError
from stagewall.identity.actor import Actor
from stagewall.server import (
    _problems,
    _routes_access,
    _routes_gates,
    _routes_identity,
    _routes_pipeline,
    _routes_reviews,
)
from stagewall.server._auth import guard
from stagewall.server._state import ServerState
from stagewall.server.authz import POLICY
from stagewall.server.sweeper import Sweeper, health


def create_app(state: ServerState, *, run_sweeper: bool = True) -> FastAPI:
    """Build the app over ``state``; refuses routes missing from the authorization table."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        sweeper = Sweeper(state) if run_sweeper else None
        if sweeper is not None:
            sweeper.start()
        try:
            yield
        finally:
            if sweeper is not None:
                sweeper.stop()
            state.ci.close()

    app = FastAPI(
        title="stagewall",
        version=__version__,
        description="The stagewall control plane: identity, access, gates and the audit log.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.add_exception_handler(StagewallError, _problems.on_stagewall_error)
    app.add_exception_handler(RequestValidationError, _problems.on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _problems.on_http_error)

    @app.get("/healthz", name="healthz")
    def healthz() -> dict[str, Any]:
        return {"version": __version__, "sweeper": health(state)}

    _routes_identity.register(app, state)
    _routes_access.register(app, state)
    _routes_reviews.register(app, state)
    _routes_gates.register(app, state)
    _routes_pipeline.register(app, state)

    log = AuditLog(state.ctx.store, home=state.home)

    @app.get("/api/v1/audit/events", name="audit.events")
    def audit_events(
        actor: Annotated[Actor, Depends(guard(state, "audit.events"))],
        start: int = 0,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        limit = max(1, min(limit, 1000))
        return [
            {
                "index": e.index,
                "time": e.time,
                "code": e.code,
                "status": e.status.value,
                "actor": e.actor,
                "resource": e.resource,
                "message": e.message,
                "details": dict(e.details),
            }
            for e in log.events(max(start, 0), limit)
        ]

    @app.get("/api/v1/audit/checkpoints", name="audit.checkpoints")
    def audit_checkpoints(
        actor: Annotated[Actor, Depends(guard(state, "audit.checkpoints"))],
    ) -> list[dict[str, Any]]:
        return [
            {"size": c.size, "root": c.root.hex(), "created_at": c.created, "note": c.note}
            for c in log.checkpoints()
        ]

    @app.get("/api/v1/evidence/checks", name="evidence.checks")
    def evidence_checks(
        actor: Annotated[Actor, Depends(guard(state, "evidence.checks"))],
    ) -> dict[str, Any]:
        """Every control check computed now from the store, the log and the estate."""
        from stagewall.evidence import EvidenceInputs, evaluate, make_window

        inputs = EvidenceInputs(
            store=state.ctx.store,
            audit=AuditLog(state.ctx.store, home=state.home),
            estate=state.estate,
            window=make_window(None, state.now()),
        )
        return evaluate(inputs).to_json()

    _check_policy(app)
    return app


def _check_policy(app: FastAPI) -> None:
    names = {r.name for r in app.routes if isinstance(r, APIRoute)}
    names |= {"openapi"}
    missing = sorted(n for n in names if n not in POLICY)
    stale = sorted(n for n in POLICY if n not in names)
    if missing or stale:
        raise RuntimeError(
            f"the authorization table and the routes differ: missing {missing}, stale {stale}"
        )


__all__ = ["create_app"]
