"""Approver notifications: every request that becomes pending reaches its approvers once.

The leader looks each tick for pending access requests, promotions and masking plan
approvals not yet notified, claims each (``server_slots``, task ``notify.pending``) so it is sent
once per store whichever server leads, and hands the sending to a worker thread
so a slow webhook never delays the sweep. The message goes to the estate's alert
sinks (webhook, Slack, file) naming the eligible approvers, and as an e-mail
addressed to those approvers' declared addresses through each SMTP sink. It links
to ``{server.public_url}/requests/{id}`` and carries no secret; who was notified is
an audit event (``server.approval.notified``).
"""

from __future__ import annotations

import dataclasses
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa

from stagewall.access._core import Request, fmt_time, request_from_row
from stagewall.access._events import ALERT_FAILED
from stagewall.access._tables import access_outcomes, access_requests
from stagewall.alerts import Alert, AlertDispatcher, AlertSink, Severity, SmtpAlertSink
from stagewall.alerts.sinks import sinks_from_config
from stagewall.audit import EventType, Status, register_event_type
from stagewall.estate import format_duration
from stagewall.estate.models import SmtpSink
from stagewall.redact import redact, redact_tree
from stagewall.server._state import ServerState
from stagewall.server._tables import slots
from stagewall.server.slots import claim_many

_log = logging.getLogger("stagewall.server.notify")
TASK = "notify.pending"

NOTIFIED = register_event_type(
    EventType(
        "server.approval.notified",
        6003,
        "API Activity",
        99,
        "Other",
        "the eligible approvers of a pending request or promotion were notified",
    )
)


def link(state: ServerState, request_id: str) -> str:
    return f"{state.settings.public_url.rstrip('/')}/requests/{request_id}"


def approvers(state: ServerState, req: Request) -> list[str]:
    """Internal people who may review ``req`` now (the same rules the review applies)."""
    from stagewall.access.reviews import AccessKind
    from stagewall.gates._model import PromotionKind
    from stagewall.server.plans import KIND as PLAN_KIND
    from stagewall.server.plans import PlanKind

    estate = state.estate
    kind: Any
    if req.kind == "access":
        kind = AccessKind(state.ctx)
    elif req.kind == PLAN_KIND:
        with state.ctx.store.read() as conn:  # the hash's other submitters and authors
            kind = PlanKind(estate, conn)
            return sorted(p for p in estate.principals if kind.reviewer_problem(req, p) is None)
    else:
        kind = PromotionKind(estate)
    rule = kind.rule(req)
    pool = (
        set().union(*(estate.group_members(g) for g in rule.from_groups))
        if rule.from_groups
        else set(estate.principals)
    )
    return sorted(p for p in pool if kind.reviewer_problem(req, p) is None)


REASON_LIMIT = 300
_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,15})://")


def quoted_reason(text: str) -> str:
    """The requester's reason as one quoted line whose links no client makes clickable.

    The reason is the requester's own text (an external developer's, often). Left as it
    was, its line breaks let it write lines of the message itself — a "Review it:" link
    to a look-alike login page above the real one — and its URLs became links in the
    approvers' mail and chat. Line breaks and other control characters become spaces,
    ``scheme://`` becomes ``scheme[:]//`` (still readable), and it is cut at 300
    characters; the request page shows it whole.
    """
    flat = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    if len(flat) > REASON_LIMIT:
        flat = flat[:REASON_LIMIT] + "…"
    return '"' + _SCHEME.sub(r"\1[:]//", flat) + '"'


def message(state: ServerState, req: Request, who: list[str]) -> Alert:
    from stagewall.server.plans import KIND as PLAN_KIND

    url = link(state, req.id)
    reason = quoted_reason(req.reason)
    if req.kind == PLAN_KIND:
        # the link opens the request's web page (its plan, the decision form); the
        # text also names the command that reviews it
        job = str(req.details.get("job", ""))
        sha = str(req.details.get("plan_sha256", ""))[:12]
        url = f"{state.settings.public_url.rstrip('/')}/masking/plans/{quote(req.id, safe='')}"
        title = f"masking plan {req.id}: plan {sha} of job {job} by {req.requester}"
        what = (
            f"{req.requester} submitted plan {sha} of masking job {job} for approval; "
            f"review it with `stagewall mask review-plan {req.id}`"
        )
    elif req.kind == "access":
        prod = state.estate.role_is_production(req.subject)
        title = f"access request {req.id}: {req.requester} asks for {req.subject}"
        what = (
            f"{req.requester} asks for {req.subject} "
            f"({'production' if prod else 'non-production'}) for "
            f"{format_duration(req.requested)}"
        )
    else:
        sha = str(req.details.get("sha", ""))[:12]
        bg = bool(req.details.get("break_glass"))
        title = (
            f"{'BREAK-GLASS ' if bg else ''}promotion {req.id}: {sha} to {req.subject} "
            f"by {req.requester}"
        )
        what = f"{req.requester} submitted {sha} for stage {req.subject}"
    text = (
        f"{what}\nReview it: {url}\nPending until {fmt_time(req.expires_at)}\n"
        f"Approvers: {', '.join(who) or 'none eligible'}\n"
        f"Reason, in {req.requester}'s words: {reason}"
    )
    return Alert(
        kind="approval.pending",
        title=title,
        text=text,
        severity=Severity.INFO,
        details={
            "request": req.id,
            "type": req.kind,
            "subject": req.subject,
            "requester": req.requester,
            "approvers": who,
            "link": url,
            "pending_until": fmt_time(req.expires_at),
        },
    )


def sinks_for(state: ServerState, who: list[str]) -> list[AlertSink]:
    """The estate's sinks; SMTP ones address the approvers themselves (when they declare
    an e-mail address), not the security team's alert list."""
    estate = state.estate
    base = Path(state.ctx.loaded.path).parent
    emails = sorted(
        {e for p in who if p in estate.principals for e in estate.principals[p].emails[:1]}
    )
    out: list[AlertSink] = []
    for cfg in estate.alerts:
        built = sinks_from_config([cfg], base)
        if isinstance(cfg, SmtpSink) and emails:
            for sink in built:
                if isinstance(sink, SmtpAlertSink):
                    sink.to = list(emails)
        out += built
    return out


def send(state: ServerState, req: Request) -> None:
    """Build and deliver one notification (a worker thread); failures are audited."""
    who = approvers(state, req)
    alert = message(state, req, who)
    alert = dataclasses.replace(
        alert,
        title=redact(alert.title),
        text=redact(alert.text),
        details=redact_tree(dict(alert.details)),
    )
    failures = AlertDispatcher(sinks_for(state, who)).send(alert)
    for f in failures:
        state.ctx.record(
            ALERT_FAILED.code,
            "stagewall",
            f"notification of {req.id} not delivered to {f.sink}: {f.error}",
            status=Status.FAILURE,
            details={"alert": alert.kind, "sink": f.sink, "error": f.error},
        )
    state.ctx.record(
        NOTIFIED.code,
        "stagewall",
        f"approvers of {req.kind} request {req.id} notified: {', '.join(who) or 'none eligible'}",
        status=Status.FAILURE if failures or not who else Status.SUCCESS,
        resource=f"request:{req.id}",
        details={"request": req.id, "approvers": who, "failed_sinks": [f.sink for f in failures]},
    )


def pending_unnotified(state: ServerState, limit: int = 100) -> list[Request]:
    now = fmt_time(state.now())
    with state.ctx.store.read() as conn:
        ids = (
            conn.execute(
                sa.select(access_requests.c.id)
                .where(
                    access_requests.c.expires_at > now,
                    ~sa.exists().where(access_outcomes.c.request_id == access_requests.c.id),
                    ~sa.exists().where(slots.c.task == TASK, slots.c.slot == access_requests.c.id),
                )
                .order_by(access_requests.c.created_at)
                .limit(limit)
            )
            .scalars()
            .all()
        )
        if not ids:
            return []
        rows = conn.execute(
            sa.select(access_requests).where(access_requests.c.id.in_([str(i) for i in ids]))
        ).all()
    found = {str(r.id): request_from_row(r._mapping) for r in rows}
    return [found[str(i)] for i in ids if str(i) in found]


def notify_pending(state: ServerState) -> list[str]:
    """The leader's duty: claim the newly pending requests (in one transaction) and queue
    the notification of each."""
    pending = pending_unnotified(state)
    claimed = set(claim_many(state, TASK, [req.id for req in pending]))
    sent = []
    for req in pending:
        if req.id in claimed:
            state.workers.submit("notify", _send_logged, state, req)
            sent.append(req.id)
    return sent


def _send_logged(state: ServerState, req: Request) -> None:
    try:
        send(state, req)
    except Exception:  # a worker must survive anything one notification hits
        _log.exception("notification of %s failed", req.id)


__all__ = ["NOTIFIED", "approvers", "link", "message", "notify_pending", "send"]
