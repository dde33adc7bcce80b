"""The ASGI app of ``stagewall serve``: the only process that holds secrets and writes the store."""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations,
# which use the local ``state`` inside Depends(guard(state, ...)).

import gc
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from stagewall import __version__
from stagewall.alerts import Alert, Severity
from stagewall.errors import AuthenticatorCloned, StagewallError
from stagewall.identity.actor import Actor
from stagewall.server import (
    _problems,
    _routes_access,
    _routes_audit,
    _routes_cli,
    _routes_evidence,
    _routes_gates,
    _routes_identity,
    _routes_ingest,
    _routes_masking,
    _routes_mfa,
    _routes_oidc,
    _routes_pipeline,
    _routes_reviews,
    _routes_segmentation,
    witnessing,
)
from stagewall.server._auth import guard
from stagewall.server._input import refuse_unstorable_input
from stagewall.server._state import ServerState
from stagewall.server.authz import POLICY
from stagewall.server.scheduler import evidence_health, tasks
from stagewall.server.sweeper import Sweeper, health


def create_app(state: ServerState, *, run_sweeper: bool = True) -> FastAPI:
    """Build the app over ``state``; refuses routes missing from the authorization table."""

    stop_witnessing = witnessing.install(state)  # a witness round after every privileged act

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with _startup_heap_frozen():
            state.ctx.store.set_pooled(True)
            state.ctx.keep_admin_sessions(True)
            sweeper = Sweeper(state) if run_sweeper else None
            if sweeper is not None:
                sweeper.start()
                ingest.start()
            try:
                yield
            finally:
                if sweeper is not None:
                    sweeper.stop()
                state.ci.close()
                ingest.close()
                for close in state.closers:
                    close()
                stop_witnessing()
                state.workers.shutdown(wait=False)
                state.ctx.keep_admin_sessions(False)
                state.ctx.store.set_pooled(False)

    app = FastAPI(
        title="stagewall",
        version=__version__,
        description="The stagewall control plane: identity, access, gates and the audit log.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        # Before every route's own dependencies: NUL bytes, unpaired surrogates and
        # non-UTF-8 bytes in the path, query, form or JSON body are SW101 (400).
        dependencies=[Depends(refuse_unstorable_input)],
    )
    app.add_exception_handler(StagewallError, _problems.on_stagewall_error)

    async def on_cloned(request: Request, exc: Exception) -> Response:
        # A signature counter that went backwards: refuse (below) and alert at once.
        state.ctx.alert(
            Alert(
                kind="identity.passkey.cloned",
                title="a passkey's signature counter went backwards",
                text=f"{exc}. Reset the principal's factors and investigate.",
                severity=Severity.CRITICAL,
                details={"path": request.url.path},
            )
        )
        return await _problems.on_stagewall_error(request, exc)

    app.add_exception_handler(AuthenticatorCloned, on_cloned)
    app.add_exception_handler(RequestValidationError, _problems.on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _problems.on_http_error)

    @app.get("/healthz", name="healthz")
    def healthz() -> dict[str, Any]:
        return {
            "version": __version__,
            "sweeper": health(state),
            "evidence_checks": evidence_health(state),
        }

    @app.get("/api/v1/server/tasks", name="server.tasks")
    def server_tasks(
        actor: Annotated[Actor, Depends(guard(state, "server.tasks"))],
    ) -> dict[str, Any]:
        """Scheduled tasks: the last evidence evaluation, masking job schedules, notifications."""
        return tasks(state)

    _routes_identity.register(app, state)
    _routes_mfa.register(app, state)
    _routes_oidc.register(app, state)
    _routes_cli.register(app, state)
    _routes_access.register(app, state)
    _routes_reviews.register(app, state)
    _routes_gates.register(app, state)
    _routes_pipeline.register(app, state)
    _routes_segmentation.register(app, state)
    _routes_evidence.register(app, state)
    ingest = _routes_ingest.register(app, state)
    app.state.ingest = ingest
    _routes_masking.register(app, state)

    _routes_audit.register(app, state)

    from stagewall import web

    web.register(app, state)
    _check_policy(app)
    return app


_frozen = {"servers": 0}
_frozen_lock = threading.Lock()


@contextmanager
def _startup_heap_frozen() -> Iterator[None]:
    """While the app serves, the objects that exist when it starts (modules, the app,
    the estate, the routes: some 200,000) are left out of the cyclic garbage collector's
    full collections (``gc.freeze``), which otherwise walk all of them about once every
    30 approvals (~90 ms each, ~2.5 ms of CPU per approve -> credentials flow). Unreachable
    cycles are collected first, so nothing that is garbage now is kept; everything is
    handed back to the collector when the last server of this process stops. Objects
    are still freed by reference counting as before; only the walk is spared."""
    with _frozen_lock:
        _frozen["servers"] += 1
        if _frozen["servers"] == 1:
            gc.collect()
            gc.freeze()
    try:
        yield
    finally:
        with _frozen_lock:
            _frozen["servers"] -= 1
            if _frozen["servers"] == 0:
                gc.unfreeze()


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
