"""The audit log (search, checkpoints, verifiable bundle), the estate, and the tables."""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations.

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response

from stagewall.access import GrantStatus, grants_page
from stagewall.access._core import fmt_time
from stagewall.access.requests import list_requests
from stagewall.audit import AuditLog
from stagewall.audit._bundle import export_archive
from stagewall.errors import KeyMissing, UsageError
from stagewall.estate import estate_violations
from stagewall.evidence._diagram import estate_svg
from stagewall.keys import load_public_key, load_signing_key
from stagewall.server._state import ServerState
from stagewall.web import _queries
from stagewall.web._render import Viewer, render, viewer

TABLE_PAGE = 100


@dataclass(frozen=True)
class ObservationWindow:
    """An auditor's observation window: UTC dates, both inclusive; either may be open."""

    start: str = ""
    end: str = ""

    @classmethod
    def parse(cls, start: str, end: str) -> "ObservationWindow":
        days = []
        for what, text in (("from", start.strip()), ("to", end.strip())):
            try:
                days.append(date.fromisoformat(text) if text else None)
            except ValueError:
                raise UsageError(
                    f"the window's {what!r} date {text!r} is not a date",
                    hint="use YYYY-MM-DD (UTC), e.g. 2026-09-01",
                ) from None
        first, last = days
        if first and last and first > last:
            raise UsageError(
                f"the window starts ({first}) after it ends ({last})",
                hint="swap the dates",
            )
        return cls(first.isoformat() if first else "", last.isoformat() if last else "")

    @property
    def until(self) -> str:
        """Exclusive upper bound: the day after ``end``."""
        return (date.fromisoformat(self.end) + timedelta(days=1)).isoformat() if self.end else ""


_SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"


def register(r: FastAPI, state: ServerState) -> None:
    ctx = state.ctx

    @r.get("/audit", name="web.audit", response_class=HTMLResponse)
    def audit(
        request: Request,
        who: Annotated[Viewer, Depends(viewer(state, "web.audit"))],
        type: Annotated[str, Query(max_length=128)] = "",
        actor: Annotated[str, Query(max_length=256)] = "",
        before: Annotated[int | None, Query(ge=0)] = None,
        start: Annotated[str, Query(alias="from", max_length=10)] = "",
        end: Annotated[str, Query(alias="to", max_length=10)] = "",
    ) -> HTMLResponse:
        window = ObservationWindow.parse(start, end)
        page = _queries.audit_page(
            ctx.store,
            code=type.strip(),
            actor=actor.strip(),
            before=before,
            since=window.start,
            until=window.until,
        )
        log = AuditLog(ctx.store, home=state.home)
        checkpoints = log.checkpoints()
        return render(
            request,
            "audit.html",
            who=who,
            page=page,
            type=type,
            actor=actor,
            size=log.size(),
            checkpoint=checkpoints[-1] if checkpoints else None,
            cosigned=_queries.cosignatures(ctx.store),
            window=window,
        )

    @r.post("/audit/bundle", name="web.audit.bundle")
    def bundle(who: Annotated[Viewer, Depends(viewer(state, "web.audit.bundle"))]) -> Response:
        """A zip of the verifiable bundle (the same code as `stagewall audit export`)."""
        try:
            signer = load_signing_key(state.home)
        except KeyMissing:
            signer = None
        public = signer.public if signer is not None else load_public_key(state.home)
        log = AuditLog(ctx.store, home=state.home)
        data, size = export_archive(
            log, signing_key=signer, public_key=public, kind="zip", root="stagewall-audit-{size}"
        )
        name = f"stagewall-audit-{size}.zip"
        return Response(
            data,
            media_type="application/zip",
            headers={
                "content-disposition": f'attachment; filename="{name}"',
                "cache-control": "no-store",
            },
        )

    @r.get("/estate", name="web.estate", response_class=HTMLResponse)
    def estate(
        request: Request, who: Annotated[Viewer, Depends(viewer(state, "web.estate"))]
    ) -> HTMLResponse:
        violations = estate_violations(ctx.loaded, state.now().date())
        return render(request, "estate.html", who=who, estate=state.estate, violations=violations)

    @r.get("/estate.svg", name="web.estate.svg")
    def estate_image(
        who: Annotated[Viewer, Depends(viewer(state, "web.estate.svg"))],
    ) -> Response:
        return Response(
            estate_svg(state.estate),
            media_type="image/svg+xml",
            headers={"content-security-policy": _SVG_CSP, "cache-control": "no-store"},
        )

    @r.get("/grants", name="web.grants", response_class=HTMLResponse)
    def grants(
        request: Request,
        who: Annotated[Viewer, Depends(viewer(state, "web.grants"))],
        principal: Annotated[str, Query(max_length=128)] = "",
        status: Annotated[str, Query(max_length=16)] = "",
        page: Annotated[int, Query(ge=0, le=100000)] = 0,
    ) -> HTMLResponse:
        now = state.now()
        if not who.sees_everyone:
            principal = who.principal
        wanted = None
        if status and status != "live":
            try:
                wanted = GrantStatus(status)
            except ValueError:
                raise UsageError(f"unknown grant status {status!r}") from None
        got = grants_page(
            ctx,
            principal=principal or None,
            status=wanted,
            live_only=status == "live",
            offset=page * TABLE_PAGE,
            limit=TABLE_PAGE,
        )
        return render(
            request,
            "grants.html",
            who=who,
            rows=got.grants,
            total=got.total,
            page=page,
            pages=max(1, -(-got.total // TABLE_PAGE)),
            principal=principal,
            status_filter=status,
            now=now,
        )

    @r.get("/requests", name="web.requests", response_class=HTMLResponse)
    def requests(
        request: Request, who: Annotated[Viewer, Depends(viewer(state, "web.requests"))]
    ) -> HTMLResponse:
        rows = list_requests(
            ctx,
            requester=None if who.sees_everyone else who.principal,
            newest=TABLE_PAGE,
        )
        rows.reverse()
        return render(request, "requests.html", who=who, rows=rows, limit=TABLE_PAGE)

    @r.get("/break-glass", name="web.breakglass", response_class=HTMLResponse)
    def breakglass(
        request: Request,
        who: Annotated[Viewer, Depends(viewer(state, "web.breakglass"))],
        start: Annotated[str, Query(alias="from", max_length=10)] = "",
        end: Annotated[str, Query(alias="to", max_length=10)] = "",
    ) -> HTMLResponse:
        """Every break-glass use in the window with its follow-up (due within 24 h)."""
        window = ObservationWindow.parse(start, end)
        rows = _queries.follow_ups(ctx, since=window.start, until=window.until)
        now = fmt_time(state.now())
        return render(request, "breakglass.html", who=who, rows=rows, window=window, now_text=now)

    @r.get("/vendors", name="web.vendors", response_class=HTMLResponse)
    def vendors(
        request: Request, who: Annotated[Viewer, Depends(viewer(state, "web.vendors"))]
    ) -> HTMLResponse:
        """Vendors from stagewall.yaml with their people and agreements."""
        estate_now = state.estate
        people: dict[str, list[str]] = {}
        for name, p in estate_now.principals.items():
            if p.vendor:
                people.setdefault(p.vendor, []).append(name)
        today = state.now().date()
        return render(
            request,
            "vendors.html",
            who=who,
            vendors=sorted(estate_now.vendors.items()),
            people=people,
            today=today,
        )

    @r.get("/promotions", name="web.promotions", response_class=HTMLResponse)
    def promotions(
        request: Request, who: Annotated[Viewer, Depends(viewer(state, "web.promotions"))]
    ) -> HTMLResponse:
        rows = _queries.gate(ctx).list(state.now())
        rows.reverse()
        return render(request, "promotions.html", who=who, rows=rows[:TABLE_PAGE], total=len(rows))
