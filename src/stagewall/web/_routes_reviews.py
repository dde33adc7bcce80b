"""Access-review campaigns: start, progress, per-item decisions (in the inbox), close, report."""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations.

from datetime import date
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, Response

from stagewall.access import campaign_report, close_campaign, render_html, start_campaign
from stagewall.errors import StagewallError, UsageError
from stagewall.identity.actor import acting
from stagewall.server._problems import status_for
from stagewall.server._state import ServerState
from stagewall.web import _queries
from stagewall.web._render import Viewer, render, viewer


def _progress(ctx: Any, camp: dict[str, Any]) -> dict[str, Any]:
    items = campaign_report(ctx, camp["id"])["items"]
    decided = sum(1 for i in items if i["outcome"] is not None)
    return {**camp, "total": len(items), "decided": decided}


def _grants_of(started: dict[str, Any]) -> int:
    return sum(k["count"] for k in started.get("kinds", []) if k["kind"] == "grant")


def register(r: FastAPI, state: ServerState) -> None:
    ctx = state.ctx

    def page(
        request: Request, who: Viewer, *, message: str = "", info: str = "", status: int = 200
    ) -> HTMLResponse:
        rows = [_progress(ctx, c) for c in _queries.campaigns(ctx)]
        return render(
            request,
            "reviews.html",
            who=who,
            status=status,
            campaigns=rows,
            message=message,
            info=info,
            today=state.now().date().isoformat(),
        )

    @r.get("/reviews", name="web.reviews", response_class=HTMLResponse)
    def reviews(
        request: Request, who: Annotated[Viewer, Depends(viewer(state, "web.reviews"))]
    ) -> HTMLResponse:
        return page(request, who)

    @r.post("/reviews", name="web.review.start", response_class=HTMLResponse)
    def start(
        request: Request,
        who: Annotated[Viewer, Depends(viewer(state, "web.review.start"))],
        name: Annotated[str, Form(max_length=256)] = "",
        due: Annotated[str, Form(max_length=32)] = "",
    ) -> HTMLResponse:
        try:
            try:
                when = date.fromisoformat(due)
            except ValueError:
                raise UsageError(f"due date {due!r} is not a date; use YYYY-MM-DD") from None
            with acting(who.actor):
                got = start_campaign(ctx, name=name, due=when, actor=who.principal)
        except StagewallError as exc:
            return page(request, who, message=exc.message, status=status_for(exc))
        return page(
            request,
            who,
            info=f"Campaign {got['id']} started with {got['items']} item(s) "
            f"({_grants_of(got)} grant(s), the rest tokens, memberships and logins).",
        )

    @r.get("/reviews/{campaign_id}", name="web.review.report", response_class=HTMLResponse)
    def report(
        request: Request,
        campaign_id: str,
        who: Annotated[Viewer, Depends(viewer(state, "web.review.report"))],
    ) -> HTMLResponse:
        rep = campaign_report(ctx, campaign_id)
        decided = sum(1 for i in rep["items"] if i["outcome"] is not None)
        return render(
            request, "review.html", who=who, rep=rep, decided=decided, total=len(rep["items"])
        )

    @r.get("/reviews/{campaign_id}/report.html", name="web.review.download")
    def download(
        campaign_id: str,
        who: Annotated[Viewer, Depends(viewer(state, "web.review.download"))],
    ) -> Response:
        body = render_html(campaign_report(ctx, campaign_id))
        return Response(
            body,
            media_type="text/html; charset=utf-8",
            headers={
                "content-disposition": f'attachment; filename="review-{campaign_id[:32]}.html"',
                "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'",
                "cache-control": "no-store",
            },
        )

    @r.get("/reviews/{campaign_id}/report.pdf", name="web.review.pdf")
    def download_pdf(
        campaign_id: str,
        who: Annotated[Viewer, Depends(viewer(state, "web.review.pdf"))],
    ) -> Response:
        from stagewall.evidence._report import render_pdf

        body = render_pdf(render_html(campaign_report(ctx, campaign_id)))
        return Response(
            body,
            media_type="application/pdf",
            headers={
                "content-disposition": f'attachment; filename="review-{campaign_id[:32]}.pdf"',
                "cache-control": "no-store",
            },
        )

    @r.post("/reviews/{campaign_id}/close", name="web.review.close", response_class=HTMLResponse)
    def close(
        request: Request,
        campaign_id: str,
        who: Annotated[Viewer, Depends(viewer(state, "web.review.close"))],
    ) -> HTMLResponse:
        try:
            with acting(who.actor):
                close_campaign(ctx, campaign_id, actor=who.principal)
        except StagewallError as exc:
            return page(request, who, message=exc.message, status=status_for(exc))
        return page(request, who, info=f"Campaign {campaign_id} closed.")
