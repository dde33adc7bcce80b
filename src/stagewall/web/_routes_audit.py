"""The audit log (search, checkpoints, verifiable bundle), the estate, and the tables."""
# No "from __future__ import annotations": FastAPI must evaluate the route annotations.

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response

from stagewall.access import GrantStatus, grants_page
from stagewall.access._core import Outcome, fmt_time
from stagewall.access.requests import list_requests
from stagewall.audit import MAX_INDEX, AuditLog
from stagewall.audit._bundle import export_archive
from stagewall.errors import KeyMissing, UsageError
from stagewall.estate import estate_violations
from stagewall.evidence._diagram import estate_svg
from stagewall.gates import Gate
from stagewall.gates._listing import PROMOTION_STATES, promotions_page
from stagewall.keys import load_public_key, load_signing_key
from stagewall.server._gate_rows import gate_row_reporter
from stagewall.server._state import ServerState
from stagewall.web import _queries
from stagewall.web._render import Viewer, render, viewer
from stagewall.web._routes_access import reachable_roles

TABLE_PAGE = 100
BREAK_GLASS_ROWS = 200


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


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")
REQUEST_STATES = tuple(o.value for o in Outcome)


@dataclass(frozen=True)
class Filters:
    """A table's filters from the query string, checked against stagewall.yaml (a bad
    value is a clear 400 naming what is allowed, never a 500 or an empty table)."""

    window: ObservationWindow
    principal: str = ""
    role: str = ""
    environment: str = ""

    @classmethod
    def parse(
        cls,
        state: ServerState,
        start: str,
        end: str,
        *,
        principal: str = "",
        role: str = "",
        environment: str = "",
        everyone: bool = True,
    ) -> "Filters":
        """``everyone``: the viewer sees every row and every name, so an environment
        stagewall.yaml does not declare is refused, naming those it does. For anyone
        else an environment is checked only as a name (like the principal and role):
        the answer (their own rows, or none) never tells whether it exists."""
        e = state.estate
        principal, role, environment = principal.strip(), role.strip(), environment.strip()
        # Names are not checked against today's stagewall.yaml: the tables keep the rows
        # of people and roles that have since left it.
        checked = [("principal", principal), ("role", role)]
        if not everyone:
            checked.append(("environment", environment))
        for what, value in checked:
            if value and not _NAME.match(value):
                raise UsageError(
                    f"the {what} filter {value[:80]!r} is not a name",
                    hint="letters, digits and . _ @ - only; leave it empty for all",
                )
        if everyone and environment and environment not in e.environments:
            raise UsageError(
                f"there is no environment {environment!r}",
                hint="environments: " + ", ".join(sorted(e.environments)),
            )
        return cls(ObservationWindow.parse(start, end), principal, role, environment)

    def roles(self, state: ServerState) -> list[str] | None:
        """The roles the role and environment filters leave (None: no such filter)."""
        if not self.role and not self.environment:
            return None
        return [
            n
            for n, r in state.estate.roles.items()
            if (not self.role or n == self.role)
            and (not self.environment or r.environment == self.environment)
        ]

    def query(self, **more: str) -> str:
        """These filters as a query string (for the pager's links)."""
        values = {
            "principal": self.principal,
            "role": self.role,
            "environment": self.environment,
            "from": self.window.start,
            "to": self.window.end,
            **more,
        }
        return urlencode({k: v for k, v in values.items() if v})


def _choices(state: ServerState, who: Viewer, shown: Iterable[str] = ()) -> dict[str, list[str]]:
    """The roles and environments of the filters' menus: all of stagewall.yaml's for
    internal people and auditors; for others only those they can reach, plus the roles
    of their own rows ``shown`` (names the table shows them anyway)."""
    e = state.estate
    if who.sees_everyone:
        return {"roles": sorted(e.roles), "environments": sorted(e.environments)}
    roles = reachable_roles(state, who) | set(shown)
    envs = {e.roles[n].environment for n in roles if n in e.roles}
    return {"roles": sorted(roles), "environments": sorted(envs)}


_SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'"


def register(r: FastAPI, state: ServerState) -> None:
    ctx = state.ctx

    @r.get("/audit", name="web.audit", response_class=HTMLResponse)
    def audit(
        request: Request,
        who: Annotated[Viewer, Depends(viewer(state, "web.audit"))],
        type: Annotated[str, Query(max_length=128)] = "",
        actor: Annotated[str, Query(max_length=256)] = "",
        before: Annotated[int | None, Query(ge=0, le=MAX_INDEX)] = None,
        start: Annotated[str, Query(alias="from", max_length=10)] = "",
        end: Annotated[str, Query(alias="to", max_length=10)] = "",
        of: Annotated[str, Query(max_length=200)] = "",
    ) -> HTMLResponse:
        window = ObservationWindow.parse(start, end)
        if of:
            obj = _queries.audit_object(ctx, of)
            return render(
                request,
                "audit_object.html",
                who=who,
                obj=obj,
                found=_queries.object_events(ctx.store, obj),
                limit=_queries.MAX_OBJECT_EVENTS,
            )
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
        role: Annotated[str, Query(max_length=128)] = "",
        environment: Annotated[str, Query(max_length=128)] = "",
        start: Annotated[str, Query(alias="from", max_length=10)] = "",
        end: Annotated[str, Query(alias="to", max_length=10)] = "",
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
                raise UsageError(
                    f"unknown grant status {status!r}",
                    hint="use live, " + ", ".join(s.value for s in GrantStatus),
                ) from None
        f = Filters.parse(
            state,
            start,
            end,
            role=role,
            environment=environment,
            principal=principal,
            everyone=who.sees_everyone,
        )
        got = grants_page(
            ctx,
            principal=f.principal or None,
            status=wanted,
            live_only=status == "live",
            offset=page * TABLE_PAGE,
            limit=TABLE_PAGE,
            role=f.role or None,
            environment=f.environment or None,
            since=f.window.start,
            until=f.window.until,
        )
        return render(
            request,
            "grants.html",
            who=who,
            rows=got.grants,
            total=got.total,
            page=page,
            pages=max(1, -(-got.total // TABLE_PAGE)),
            f=f,
            statuses=["live", *(s.value for s in GrantStatus)],
            choices=_choices(state, who, (g.role for g in got.grants)),
            status_filter=status,
            query=f.query(status=status),
            now=now,
        )

    @r.get("/requests", name="web.requests", response_class=HTMLResponse)
    def requests(
        request: Request,
        who: Annotated[Viewer, Depends(viewer(state, "web.requests"))],
        status: Annotated[str, Query(max_length=16)] = "",
        requester: Annotated[str, Query(max_length=128)] = "",
        role: Annotated[str, Query(max_length=128)] = "",
        environment: Annotated[str, Query(max_length=128)] = "",
        start: Annotated[str, Query(alias="from", max_length=10)] = "",
        end: Annotated[str, Query(alias="to", max_length=10)] = "",
    ) -> HTMLResponse:
        if status and status not in REQUEST_STATES:
            raise UsageError(
                f"unknown request status {status!r}", hint="use " + ", ".join(REQUEST_STATES)
            )
        if not who.sees_everyone:
            requester = who.principal
        f = Filters.parse(
            state,
            start,
            end,
            role=role,
            environment=environment,
            principal=requester,
            everyone=who.sees_everyone,
        )
        rows = list_requests(
            ctx,
            requester=f.principal or None,
            newest=TABLE_PAGE,
            state=status or None,
            roles=f.roles(state),
            since=f.window.start,
            until=f.window.until,
        )
        rows.reverse()
        return render(
            request,
            "requests.html",
            who=who,
            rows=rows,
            limit=TABLE_PAGE,
            f=f,
            statuses=REQUEST_STATES,
            choices=_choices(state, who, (str(x["role"]) for x in rows)),
            status_filter=status,
        )

    @r.get("/break-glass", name="web.breakglass", response_class=HTMLResponse)
    def breakglass(
        request: Request,
        who: Annotated[Viewer, Depends(viewer(state, "web.breakglass"))],
        start: Annotated[str, Query(alias="from", max_length=10)] = "",
        end: Annotated[str, Query(alias="to", max_length=10)] = "",
        holder: Annotated[str, Query(max_length=128)] = "",
        status: Annotated[str, Query(max_length=16)] = "",
    ) -> HTMLResponse:
        """Every break-glass use in the window with its follow-up (due within 24 h)."""
        if status and status not in _queries.FOLLOW_UP_STATES:
            raise UsageError(
                f"unknown follow-up status {status!r}",
                hint="use " + ", ".join(_queries.FOLLOW_UP_STATES),
            )
        f = Filters.parse(state, start, end, principal=holder)
        now = fmt_time(state.now())
        rows = _queries.follow_ups(
            ctx,
            since=f.window.start,
            until=f.window.until,
            holder=f.principal,
            status=status,
            now=now,
            limit=BREAK_GLASS_ROWS,
        )
        return render(
            request,
            "breakglass.html",
            limit=BREAK_GLASS_ROWS,
            who=who,
            rows=rows,
            window=f.window,
            f=f,
            statuses=_queries.FOLLOW_UP_STATES,
            status_filter=status,
            now_text=now,
        )

    @r.get("/vendors", name="web.vendors", response_class=HTMLResponse)
    def vendors(
        request: Request,
        who: Annotated[Viewer, Depends(viewer(state, "web.vendors"))],
        contract: Annotated[str, Query(max_length=16)] = "",
        name: Annotated[str, Query(max_length=128)] = "",
    ) -> HTMLResponse:
        """Vendors from stagewall.yaml with their people and agreements."""
        if contract not in ("", "current", "ended"):
            raise UsageError(f"unknown contract filter {contract!r}", hint="use current or ended")
        estate_now = state.estate
        people: dict[str, list[str]] = {}
        for person, p in estate_now.principals.items():
            if p.vendor:
                people.setdefault(p.vendor, []).append(person)
        today = state.now().date()
        rows = [
            (n, v)
            for n, v in sorted(estate_now.vendors.items())
            if (not name or name.lower() in n.lower())
            and (not contract or (v.contract_end < today) == (contract == "ended"))
        ]
        return render(
            request,
            "vendors.html",
            who=who,
            vendors=rows,
            people=people,
            today=today,
            contract=contract,
            name_filter=name,
            total=len(estate_now.vendors),
        )

    @r.get("/promotions", name="web.promotions", response_class=HTMLResponse)
    def promotions(
        request: Request,
        who: Annotated[Viewer, Depends(viewer(state, "web.promotions"))],
        status: Annotated[str, Query(max_length=16)] = "",
        stage: Annotated[str, Query(max_length=128)] = "",
        submitter: Annotated[str, Query(max_length=128)] = "",
        start: Annotated[str, Query(alias="from", max_length=10)] = "",
        end: Annotated[str, Query(alias="to", max_length=10)] = "",
    ) -> HTMLResponse:
        stages = [st.name for st in state.estate.stages]
        if stage and stage not in stages:
            raise UsageError(
                f"there is no stage {stage!r}", hint="stages: " + (", ".join(stages) or "none")
            )
        if not who.sees_everyone:
            submitter = who.principal  # an external sees what they submitted (as the API)
        f = Filters.parse(state, start, end, principal=submitter)
        gate = Gate(ctx.store, ctx.loaded, home=str(state.home))
        rows, total = promotions_page(
            ctx.store,
            gate.log,
            state.estate,
            state.now(),
            stage=stage or None,
            submitter=f.principal or None,
            state=status or None,
            since=f.window.start,
            until=f.window.until,
            limit=TABLE_PAGE,
            report=gate_row_reporter(state, gate, who.principal, "web promotions page"),
        )
        return render(
            request,
            "promotions.html",
            who=who,
            rows=rows,
            total=total,
            f=f,
            stages=stages,
            stage=stage,
            statuses=PROMOTION_STATES,
            status_filter=status,
        )
