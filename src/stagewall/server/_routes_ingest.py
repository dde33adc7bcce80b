"""The ingest endpoint: log shippers post lines of their one source.

``POST /api/v1/ingest/{source}`` with ``Authorization: Bearer swi_...`` (a token
made on the server host by ``stagewall server ingest-token create SOURCE``). The
body is newline-delimited log lines (any content type), or with
``Content-Type: application/json`` a JSON array of lines (strings) or of events
(objects, for the JSON sources). Each body is complete: a record still open at
its end (an unterminated JSON document) counts as malformed. The answer is what the
shipper needs to know of its post: lines, events, malformed lines (numbered within
this body, with the reason, never the content) and where the events were stored —
nothing of detection (findings, suppressions, alert delivery). A person's login token
is refused here, and an ingest token anywhere else.
"""
# No "from __future__ import annotations": FastAPI evaluates the route annotations.

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from stagewall.alerts.sinks import sinks_from_config
from stagewall.audit import AuditLog
from stagewall.errors import (
    IngestBodyTooLarge,
    IngestRateLimited,
    IngestSourceMismatch,
    IngestTokenInvalid,
    IngestTooManyLines,
    MonitoringError,
    StagewallError,
)
from stagewall.estate import Estate
from stagewall.identity.actor import Actor, ActorClass, LoginMethod, acting
from stagewall.identity.tokens import CI_SESSION_PREFIX, PIPELINE_PREFIX, TOKEN_PREFIX
from stagewall.monitoring._once import key_of, post_key
from stagewall.monitoring.detect import Finding
from stagewall.monitoring.pipeline import IngestContext, IngestReport, check_gaps, ingest_lines
from stagewall.monitoring.tokens import resolve_ingest_token
from stagewall.server._auth import guard, source_address
from stagewall.server._events import REQUEST_REFUSED
from stagewall.server._pipeline import looks_like_jwt
from stagewall.server._starts import Bucket
from stagewall.server._state import ServerState
from stagewall.server._token_rows import row_reporter
from stagewall.server.authz import allowed

_log = logging.getLogger(__name__)

ROUTE = "monitoring.ingest"
MAX_BODY = 8 << 20  # bytes per request
LINES_PER_SECOND = 50_000.0  # per token, sustained
LINE_BURST = 200_000.0  # per token, at once
REQUESTS_PER_SECOND = 20.0
REQUEST_BURST = 40.0
GAP_CHECK_EVERY = 60.0  # seconds between checks for silent sources (sweeper leader only)
MAX_CONCURRENT = 2  # posts read and ingested at once (the others wait, holding no thread)


@dataclass
class IngestLimits:
    max_body: int = MAX_BODY
    lines_per_second: float = LINES_PER_SECOND
    line_burst: float = LINE_BURST
    requests_per_second: float = REQUESTS_PER_SECOND
    request_burst: float = REQUEST_BURST
    # lines per request: no more than a token may send at once (its line burst)
    max_lines: int = int(LINE_BURST)


@dataclass
class IngestEndpoint:
    """What the endpoint keeps: one ingest context per loaded estate, rate buckets."""

    state: ServerState
    limits: IngestLimits = field(default_factory=IngestLimits)
    clock: Callable[[], float] = time.monotonic
    _ctx: IngestContext | None = None
    _estate: Estate | None = None
    _buckets: dict[str, tuple[Bucket, Bucket]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    checks: int = 0  # silent-source checks this instance ran (as the sweeper's leader)

    def context(self) -> IngestContext:
        """The ingest context of the current estate (rebuilt when stagewall.yaml changes)."""
        estate = self.state.estate
        with self._lock:
            if self._ctx is None or self._estate is not estate:
                if self._ctx is not None:
                    self._ctx.close()
                base = Path(self.state.ctx.loaded.path).parent
                self._ctx = IngestContext(
                    estate,
                    self.state.ctx.store,
                    audit=AuditLog(self.state.ctx.store, home=self.state.home),
                    sinks=sinks_from_config(estate.alerts, base),
                    base_dir=base,
                )
                self._estate = estate
            return self._ctx

    def admit(self, token_id: str) -> None:
        """Refuse (IngestRateLimited) a token whose request or line budget is spent."""
        now = self.clock()
        lim = self.limits
        with self._lock:
            pair = self._buckets.get(token_id)
            if pair is None:
                if len(self._buckets) > 10_000:
                    self._buckets.clear()
                pair = self._buckets[token_id] = (
                    Bucket(lim.requests_per_second, lim.request_burst, now),
                    Bucket(lim.lines_per_second, lim.line_burst, now),
                )
            requests, lines = pair
            requests.refill(now)
            lines.refill(now)
            wait = max(requests.wait(), lines.wait())
            if wait > 0:
                raise IngestRateLimited(
                    f"ingest token {token_id} is over its rate "
                    f"({lim.requests_per_second:g} requests/s, {lim.lines_per_second:g} lines/s); "
                    f"retry in {wait:.1f}s",
                    retry_after=max(1, math.ceil(wait)),
                )
            requests.level -= 1

    def spend(self, token_id: str, lines: int) -> None:
        with self._lock:
            pair = self._buckets.get(token_id)
            if pair is not None:
                pair[1].level -= lines

    def check_gaps(self, now: float | None = None) -> list[Finding]:
        """Record and alert ``log_source_gap`` for every posting source silent too long.

        Judged from the store (the newest event any instance ingested); a silence is
        claimed there, so it is alerted once whichever instance checks."""
        if not any(s.max_gap for s in self.state.estate.monitoring.sources.values()):
            return []
        return check_gaps(self.context(), now)

    def start(self) -> None:
        """Check for silent sources every minute while this instance leads the sweeper.

        A shipper that stops posting (killed, cut off) sends no line that could reveal
        the gap; this check does.
        """
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="stagewall-gaps", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(GAP_CHECK_EVERY):
            if not self.state.sweep.leader:
                continue
            self.checks += 1
            try:
                self.check_gaps()
            except StagewallError as exc:
                _log.error("the log gap check failed: %s", exc.message)
            except Exception:  # a bug must not end the checks for the server's lifetime
                _log.exception("the log gap check failed")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        with self._lock:
            if self._ctx is not None:
                self._ctx.close()
                self._ctx = None


def _source_actor(request: Request, state: ServerState, source: str, token_id: str) -> Actor:
    return Actor(
        principal=f"log-source:{source}",
        classes=frozenset({ActorClass.LOG_SOURCE}),
        method=LoginMethod.INGEST_TOKEN,
        session_id=token_id,
        source_address=source_address(request, state),
        user_agent=request.headers.get("user-agent"),
    )


def _ingest_actor(state: ServerState, request: Request, source: str) -> Actor:
    header = request.headers.get("authorization", "")
    secret = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if (
        secret.startswith((TOKEN_PREFIX, PIPELINE_PREFIX, CI_SESSION_PREFIX))
        or looks_like_jwt(secret)
        or (not secret and request.cookies)
    ):
        # A person's or a pipeline's login (token, CI OIDC token or browser session):
        # authenticated and refused by the authorization table like any other route a
        # class may not call.
        guard(state, ROUTE)(request)
    state.refresh()
    report = row_reporter(
        state,
        source=source_address(request, state),
        user_agent=request.headers.get("user-agent"),
        secret=secret,
    )
    token = resolve_ingest_token(state.ctx.store, secret, report=report) if secret else None
    if token is None:
        raise IngestTokenInvalid(
            "this endpoint needs a live ingest token (Authorization: Bearer swi_...)"
            if not secret
            else "the ingest token is unknown or revoked"
        )
    if source != token.source:
        message = (
            f"ingest token {token.id} is for log source {token.source!r}, not {source[:128]!r}"
        )
        # A shipper's token aimed at another source is how a compromised shipper would
        # forge someone else's log: recorded and alerted, not only refused.
        with acting(_source_actor(request, state, token.source, token.id)):
            state.ctx.refuse(
                REQUEST_REFUSED.code,
                f"log-source:{token.source}",
                message,
                resource=f"log-source:{source[:128]}",
                details={"ingest_credential": token.id, "route": ROUTE},
                loud=True,
            )
        raise IngestSourceMismatch(message)
    if source not in state.estate.monitoring.sources:
        raise IngestSourceMismatch(
            f"log source {source!r} of ingest token {token.id} is no longer declared "
            "in stagewall.yaml"
        )
    actor = _source_actor(request, state, source, token.id)
    if not allowed(ROUTE, actor.classes):  # the table stays the one gate
        raise IngestSourceMismatch(f"log sources may not call {ROUTE}")
    return actor


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise IngestBodyTooLarge(
            f"the request body has {int(declared)} bytes; the limit is {limit} per request"
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise IngestBodyTooLarge(f"the request body exceeds {limit} bytes per request")
        chunks.append(chunk)
    return b"".join(chunks)


def _too_many(count: int, limit: int) -> IngestTooManyLines:
    return IngestTooManyLines(
        f"the request body has {count} lines; the limit is {limit} lines per request"
    )


def is_json(content_type: str) -> bool:
    """Whether a post's body is a JSON array (by its Content-Type)."""
    return content_type.split(";", 1)[0].strip().lower() == "application/json"


def body_lines(body: bytes, content_type: str, max_lines: int | None = None) -> list[str]:
    """The log lines of a request body (see the module docstring for the forms).

    More than ``max_lines`` lines are refused (IngestTooManyLines) before any is made
    into a line: 8 MiB of ``1,`` is four million of them."""
    json_body = is_json(content_type)
    if max_lines is not None and not json_body:
        count = body.count(b"\n") + (0 if body.endswith(b"\n") or not body else 1)
        if count > max_lines:
            raise _too_many(count, max_lines)
    text = body.decode("utf-8", "surrogateescape")
    if json_body:
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            raise MonitoringError(
                "the body is declared application/json but is not valid JSON",
                hint="send a JSON array of lines or events, or send plain lines as text/plain",
            ) from None
        if not isinstance(value, list):
            raise MonitoringError(
                "a JSON body must be an array of lines (strings) or events (objects)",
                hint="send plain newline-delimited lines as text/plain",
            )
        if max_lines is not None and len(value) > max_lines:
            raise _too_many(len(value), max_lines)
        return [v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for v in value]
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def register(r: FastAPI, state: ServerState) -> IngestEndpoint:
    endpoint = IngestEndpoint(state)
    concurrent = anyio.Semaphore(MAX_CONCURRENT)

    def authenticated(request: Request, source: str) -> Actor:
        return _ingest_actor(state, request, source)

    @r.post("/api/v1/ingest/{source}", name=ROUTE)
    async def ingest(
        source: str,
        request: Request,
        actor: Annotated[Actor, Depends(authenticated)],
    ) -> JSONResponse:
        endpoint.admit(actor.session_id)
        key = key_of(request.headers.get("idempotency-key"))  # refused before the body
        origin = {"via": "api", "ingest_credential": actor.session_id}
        # Ingestion is serialised on one context anyway; the bound keeps waiting posts
        # from holding request threads or many bodies in memory at once.
        async with concurrent:
            body = await _read_body(request, endpoint.limits.max_body)
            kind = request.headers.get("content-type", "")
            once = post_key(key, body, is_json(kind))

            def run() -> IngestReport:
                # In a worker thread, with the parsing of the body: reading 8 MiB of JSON
                # into lines is CPU work that would hold every other request of the
                # server on the event loop.
                lines = body_lines(body, kind, endpoint.limits.max_lines)
                endpoint.spend(actor.session_id, len(lines))
                with acting(actor):
                    return ingest_lines(
                        source, lines, endpoint.context(), final=True, origin=origin, once=once
                    )

            report = await run_in_threadpool(run)
        headers = {"Idempotent-Replayed": "true"} if report.replayed is not None else None
        return JSONResponse(report.answer(), headers=headers)

    return endpoint


__all__ = ["IngestEndpoint", "IngestLimits", "body_lines", "register"]
