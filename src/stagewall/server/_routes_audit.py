"""Audit reads through the server: events, checkpoints, inclusion proofs, bundles.

Auditors and internal staff read the log here instead of holding the store. A bundle
is written by the server with a fresh checkpoint signed by the key only it holds; the
reader verifies it offline against the public key they were given out of band
(`stagewall audit verify --bundle DIR --public-key FILE`).
"""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations,
# which use the local ``state`` inside Depends(guard(state, ...)).

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Query
from fastapi.responses import Response

from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.audit._bundle import export_archive
from stagewall.errors import UsageError
from stagewall.identity.actor import Actor
from stagewall.keys import load_signing_key
from stagewall.server._auth import guard
from stagewall.server._events import BUNDLE_EXPORTED
from stagewall.server._state import ServerState

_PAGE_MAX = 1000


def register(r: FastAPI, state: ServerState) -> None:
    log = AuditLog(state.ctx.store, home=state.home)

    @r.get("/api/v1/audit/events", name="audit.events")
    def audit_events(
        actor: Annotated[Actor, Depends(guard(state, "audit.events"))],
        start: Annotated[int, Query(ge=-1_000_000_000, le=1_000_000_000)] = 0,
        limit: Annotated[int, Query(ge=1, le=_PAGE_MAX)] = 100,
    ) -> list[dict[str, Any]]:
        """Events from index ``start`` (negative: counted from the end, like `audit tail`)."""
        size = log.size()
        first = max(size + start, 0) if start < 0 else start
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
            for e in log.events(first, limit)
        ]

    @r.get("/api/v1/audit/checkpoints", name="audit.checkpoints")
    def audit_checkpoints(
        actor: Annotated[Actor, Depends(guard(state, "audit.checkpoints"))],
    ) -> list[dict[str, Any]]:
        return [
            {"size": c.size, "root": c.root.hex(), "created_at": c.created, "note": c.note}
            for c in log.checkpoints()
        ]

    @r.get("/api/v1/audit/proofs/{index}", name="audit.proof")
    def audit_proof(
        actor: Annotated[Actor, Depends(guard(state, "audit.proof"))],
        index: int,
        size: Annotated[int | None, Query(ge=1, le=10**12)] = None,
    ) -> dict[str, Any]:
        """An inclusion proof for event ``index`` (verify with `audit verify-proof`)."""
        current = log.size()
        tree = current if size is None else size
        if not 0 <= index < tree or tree > current:
            raise UsageError(
                f"there is no event {index} in a tree of size {tree} (the log has {current})",
                hint="pick an index below the tree size, and a size no larger than the log",
            )
        proof = log.inclusion_proof(index, tree)
        data = proof.to_json()
        data["event"] = log.events(index, 1)[0].raw.decode("utf-8")
        return data

    @r.get(
        "/api/v1/audit/bundle",
        name="audit.bundle",
        response_class=Response,
        responses={200: {"content": {"application/gzip": {}}}},
    )
    def audit_bundle(actor: Annotated[Actor, Depends(guard(state, "audit.bundle"))]) -> Response:
        """A verifiable bundle (tar.gz) with a fresh checkpoint signed by the server."""
        signer = load_signing_key(state.home)
        data, size = export_archive(log, signing_key=signer, public_key=signer.public)
        log.append(
            AuditEvent(
                BUNDLE_EXPORTED.code,
                Status.SUCCESS,
                actor.principal,
                f"{actor.principal} downloaded an audit bundle of {size} events",
                resource="audit:bundle",
                details={"events": size, "bytes": len(data)},
            )
        )
        return Response(
            data,
            media_type="application/gzip",
            headers={"Content-Disposition": 'attachment; filename="stagewall-audit.tar.gz"'},
        )
