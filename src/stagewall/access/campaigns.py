"""Access-review campaigns: snapshot every access path, decide each, revoke the undecided.

* ``start_campaign`` snapshots every live grant (standing and just-in-time) and every
  other standing access path (``stagewall.access._standing``: pipeline and personal API
  tokens, ``server.admins``/``server.auditors`` membership, logins of ended grants
  awaiting removal) with the holder's last recorded activity (their newest audit event).
* ``decide`` records keep/revoke by an internal reviewer who is not the holder,
  MFA-checked; any revoke wins and ends the grant at once. A keep certifies the
  access, so it needs a reviewer who is independent of it (not one of the approvals
  it came from) and who may approve its role now, and it must arrive by the due date.
* ``close_campaign`` after the due date revokes every undecided item (silence
  never keeps access); before it, closing needs every item decided.
* ``campaign_report`` lists every item and every decision (JSON or HTML).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import insert, select, update

from stagewall.access import _events as ev
from stagewall.access._context import AccessContext
from stagewall.access._core import fmt_time, new_id
from stagewall.access._rules import outside_groups
from stagewall.access._standing import (
    ItemKind,
    carry_out,
    item_kind,
    item_resource,
    keep_problem,
    standing_items,
)
from stagewall.access._tables import (
    access_campaign_decisions,
    access_campaign_items,
    access_campaigns,
    access_grants,
    access_reviews,
)
from stagewall.access.grants import GrantStatus, list_grants
from stagewall.access.revoke import end_grant
from stagewall.audit import AuditLog
from stagewall.errors import AccessDenied, UsageError
from stagewall.identity.accounts import factor_reset_problem

KEEP = "keep"
REVOKE = "revoke"
# Outcome of an item nobody decided by the due date (fits the 16-character column).
REVOKE_NO_ANSWER = "revoke_no_answer"


def _campaign(ctx: AccessContext, campaign_id: str) -> dict[str, Any]:
    with ctx.store.read() as conn:
        row = conn.execute(
            select(access_campaigns).where(access_campaigns.c.id == campaign_id)
        ).first()
    if row is None:
        raise UsageError(f"there is no access-review campaign {campaign_id!r}")
    return dict(row._mapping)


def start_campaign(
    ctx: AccessContext, *, name: str, due: date, actor: str = "stagewall"
) -> dict[str, Any]:
    if not name.strip():
        raise UsageError("a campaign name is required (--name TEXT)")
    now = ctx.now()
    if due < now.date():
        raise UsageError(f"the due date {due} is in the past")
    grants = list_grants(ctx, active_only=True)
    cid = new_id("c")
    due_text = fmt_time(datetime.combine(due, time.max, tzinfo=UTC))
    with ctx.store.transaction() as conn:
        conn.execute(
            insert(access_campaigns).values(
                id=cid, name=name, due=due_text, created_at=fmt_time(now)
            )
        )
        values = [
            {
                "kind": ItemKind.GRANT.value,
                "grant_id": g.id,
                "principal": g.principal,
                "role": g.role,
                "source": g.source.value,
                "ends_at": fmt_time(g.ends_at),
                "subject": None,
            }
            for g in grants
        ] + standing_items(ctx, conn)
        kinds: dict[str, int] = {}
        for v in values:
            last = AuditLog(ctx.store).last_activity(v["principal"], conn=conn)
            conn.execute(
                insert(access_campaign_items).values(
                    id=new_id("i"), campaign_id=cid, last_activity=last, outcome=None, **v
                )
            )
            kinds[v["kind"]] = kinds.get(v["kind"], 0) + 1
        ctx.record(
            ev.CAMPAIGN_STARTED.code,
            actor,
            f"access review {cid} ({name}) started with {len(values)} item(s) "
            f"({len(grants)} grant(s)), due {due}",
            resource=f"campaign:{cid}",
            details={
                "name": name,
                "due": due_text,
                "items": len(values),
                "kinds": [{"kind": k, "count": n} for k, n in sorted(kinds.items())],
            },
            conn=conn,
        )
    return {
        **_campaign(ctx, cid),
        "items": len(values),
        "kinds": [{"kind": k, "count": n} for k, n in sorted(kinds.items())],
    }


def _new_outcome(current: str | None, decision: str) -> str:
    """Any revoke wins; an item already revoked for lack of an answer stays so."""
    if current == REVOKE_NO_ANSWER:
        return current
    return REVOKE if REVOKE in (current, decision) else KEEP


def _keep_problem(
    ctx: AccessContext, item: Mapping[str, Any], due: str, reviewer: str
) -> str | None:
    """Why ``reviewer`` may not certify ("keep") ``item`` now (None: they may).

    Keeping access approves it once more, so the bar is the approval's: the reviewer
    may approve the role under the rule ``stagewall.yaml`` gives it now, is not one of
    the approvers the grant came from (nobody certifies their own approval), and the
    campaign is not past its due date (silence by then already means revoke).
    Revoking stays open to every internal reviewer: it only ever takes access away."""
    if fmt_time(ctx.now()) >= due:
        return (
            f"the campaign was due {due}; an item undecided by then is revoked when the "
            "campaign closes, and a late keep cannot overturn that"
        )
    never = keep_problem(ctx, item)
    if never is not None:
        return never
    if item_kind(item) is not ItemKind.GRANT:
        # A token or a membership: any internal reviewer who is not its holder (and whose
        # factor was not just reset) may certify it; it came from no approval.
        return factor_reset_problem(ctx.store, reviewer, ctx.now())
    groups = outside_groups(ctx.estate, item["role"], reviewer)
    if groups is not None:
        return f"keeping role {item['role']!r} needs a reviewer who may approve it (group {groups})"
    with ctx.store.read() as conn:
        approvers = conn.execute(
            select(access_reviews.c.reviewer)
            .select_from(
                access_grants.join(
                    access_reviews, access_reviews.c.request_id == access_grants.c.request_id
                )
            )
            .where(access_grants.c.id == item["grant_id"])
            .where(access_reviews.c.decision == "approve")
        ).scalars()
        if reviewer in set(approvers):
            return (
                f"{reviewer!r} approved grant {item['grant_id']}; its review needs someone "
                "independent of the approval"
            )
    return factor_reset_problem(ctx.store, reviewer, ctx.now())


def decide(
    ctx: AccessContext,
    item_id: str,
    *,
    reviewer: str,
    keep: bool,
    otp: str | None = None,
    note: str = "",
    webauthn: str | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    with ctx.store.read() as conn:
        row = conn.execute(
            select(access_campaign_items).where(access_campaign_items.c.id == item_id)
        ).first()
    if row is None:
        raise UsageError(
            f"there is no review item {item_id!r}",
            hint="`stagewall review report CAMPAIGN` lists items",
        )
    item = dict(row._mapping)
    camp = _campaign(ctx, item["campaign_id"])
    if camp["closed_at"] is not None:
        raise UsageError(f"campaign {camp['id']} is closed")
    if reviewer == item["principal"]:
        raise ctx.refuse(
            ev.CAMPAIGN_DECIDED.code,
            reviewer,
            f"{reviewer!r} cannot review their own access ({item_id})",
            resource=item_resource(item),
        )
    if not ctx.estate.is_internal(reviewer):
        raise ctx.refuse(
            ev.CAMPAIGN_DECIDED.code,
            reviewer,
            f"{reviewer!r} is not an internal, enabled principal; "
            "access reviews are decided by internal reviewers",
            resource=item_resource(item),
            loud=True,
        )
    unkeepable = _keep_problem(ctx, item, camp["due"], reviewer) if keep else None
    if unkeepable is not None:  # keeping access approves it; revoking stays open
        raise ctx.refuse(
            ev.CAMPAIGN_DECIDED.code,
            reviewer,
            f"{reviewer!r} may not keep access ({item_id}): {unkeepable}",
            resource=item_resource(item),
            hint="decide --revoke, or let a reviewer who may keep it decide",
        )
    evidence = ctx.step_up(reviewer, otp, webauthn, purpose=f"review item {item_id}")
    decision = KEEP if keep else REVOKE
    with ctx.store.transaction() as conn:
        ctx.store.lock(conn, f"stagewall.campaign.{item['campaign_id']}")
        # Re-read under the campaign lock: a concurrent decision or close may have landed
        # since the checks above, and a late "keep" must never overwrite a "revoke".
        closed = conn.execute(
            select(access_campaigns.c.closed_at).where(access_campaigns.c.id == camp["id"])
        ).scalar()
        if closed is not None:
            raise UsageError(f"campaign {camp['id']} is closed")
        if keep and fmt_time(ctx.now()) >= camp["due"]:
            raise AccessDenied(f"campaign {camp['id']} was due {camp['due']}; keep refused")
        current = conn.execute(
            select(access_campaign_items.c.outcome).where(access_campaign_items.c.id == item_id)
        ).scalar()
        outcome = _new_outcome(current, decision)
        conn.execute(
            insert(access_campaign_decisions).values(
                item_id=item_id,
                reviewer=reviewer,
                decision=decision,
                note=note,
                mfa_method=evidence.method,
                mfa_time=evidence.time,
                decided_at=fmt_time(ctx.now()),
            )
        )
        conn.execute(
            update(access_campaign_items)
            .where(access_campaign_items.c.id == item_id)
            .values(outcome=outcome)
        )
        ctx.record(
            ev.CAMPAIGN_DECIDED.code,
            reviewer,
            f"{reviewer} decided {decision} on {item['role']} of {item['principal']} ({item_id})",
            resource=item_resource(item),
            details={
                "decision": decision,
                "note": note,
                "mfa": evidence.as_dict(),
                "outcome": outcome,
            },
            conn=conn,
        )
    if outcome != KEEP:
        _carry_out(ctx, item, actor=reviewer, reason=f"access review {item['campaign_id']}: revoke")
    return {"item": item_id, "decision": decision, "outcome": outcome, **_finding(ctx, item_id)}


def _carry_out(ctx: AccessContext, item: Mapping[str, Any], *, actor: str, reason: str) -> None:
    if item_kind(item) is ItemKind.GRANT:
        end_grant(ctx, item["grant_id"], actor=actor, reason=reason, status=GrantStatus.REVOKED)
    else:
        carry_out(ctx, item, actor=actor, reason=reason)


def _finding(ctx: AccessContext, item_id: str) -> dict[str, Any]:
    with ctx.store.read() as conn:
        finding = conn.execute(
            select(access_campaign_items.c.finding).where(access_campaign_items.c.id == item_id)
        ).scalar()
    return {"finding": finding} if finding else {}


def close_campaign(
    ctx: AccessContext, campaign_id: str, *, actor: str = "stagewall"
) -> dict[str, Any]:
    """Close ``campaign_id``; after the due date every undecided item is revoked.

    Three steps, so that a failure half-way never leaves access in place under a
    closed campaign: (1) under the campaign lock, mark every undecided item
    ``revoke_no_answer``; (2) end the grant of every item whose outcome is a
    revoke (idempotent, so a retried close finishes what a failed one started);
    (3) under the lock, mark the campaign closed and record it.
    """
    camp = _campaign(ctx, campaign_id)
    if camp["closed_at"] is not None:
        raise UsageError(f"campaign {campaign_id} is already closed")
    now = fmt_time(ctx.now())
    with ctx.store.transaction() as conn:
        ctx.store.lock(conn, f"stagewall.campaign.{campaign_id}")
        items = [
            dict(r._mapping)
            for r in conn.execute(
                select(access_campaign_items).where(
                    access_campaign_items.c.campaign_id == campaign_id
                )
            ).all()
        ]
        undecided = [i for i in items if i["outcome"] is None]
        if undecided and now < camp["due"]:
            raise AccessDenied(
                f"campaign {campaign_id} is due {camp['due']} and {len(undecided)} item(s) "
                "are undecided",
                hint="decide every item, or close after the due date "
                "(undecided items are then revoked)",
            )
        for item in undecided:
            conn.execute(
                update(access_campaign_items)
                .where(access_campaign_items.c.id == item["id"])
                .where(access_campaign_items.c.outcome.is_(None))
                .values(outcome=REVOKE_NO_ANSWER)
            )
            item["outcome"] = REVOKE_NO_ANSWER
    for item in items:
        if item["outcome"] == REVOKE_NO_ANSWER:
            reason = f"access review {campaign_id}: no decision by the due date"
        elif item["outcome"] == REVOKE:
            reason = f"access review {campaign_id}: revoke"
        else:
            continue
        _carry_out(ctx, item, actor=actor, reason=reason)
    silent = [i for i in items if i["outcome"] == REVOKE_NO_ANSWER]
    with ctx.store.transaction() as conn:
        ctx.store.lock(conn, f"stagewall.campaign.{campaign_id}")
        done = conn.execute(
            update(access_campaigns)
            .where(access_campaigns.c.id == campaign_id)
            .where(access_campaigns.c.closed_at.is_(None))
            .values(closed_at=now)
        ).rowcount
        if done != 1:
            raise UsageError(f"campaign {campaign_id} is already closed")
        ctx.record(
            ev.CAMPAIGN_CLOSED.code,
            actor,
            f"access review {campaign_id} closed; {len(silent)} undecided item(s) revoked",
            resource=f"campaign:{campaign_id}",
            details={
                "revoked_undecided": [i["grant_id"] for i in silent if i["grant_id"]],
                "revoked_undecided_items": [i["id"] for i in silent],
            },
            conn=conn,
        )
    with ctx.store.read() as conn:
        findings = [
            {"item": r.id, "principal": r.principal, "finding": r.finding}
            for r in conn.execute(
                select(access_campaign_items)
                .where(access_campaign_items.c.campaign_id == campaign_id)
                .where(access_campaign_items.c.finding.is_not(None))
            ).all()
        ]
    return {
        "campaign": campaign_id,
        "closed_at": now,
        "revoked_undecided": [i["id"] for i in silent],
        "findings": findings,
    }


def campaign_report(ctx: AccessContext, campaign_id: str) -> dict[str, Any]:
    camp = _campaign(ctx, campaign_id)
    with ctx.store.read() as conn:
        items = [
            dict(r._mapping)
            for r in conn.execute(
                select(access_campaign_items)
                .where(access_campaign_items.c.campaign_id == campaign_id)
                .order_by(access_campaign_items.c.principal, access_campaign_items.c.role)
            ).all()
        ]
        for item in items:
            item["decisions"] = [
                {k: v for k, v in dict(r._mapping).items() if k not in ("id", "item_id")}
                for r in conn.execute(
                    select(access_campaign_decisions)
                    .where(access_campaign_decisions.c.item_id == item["id"])
                    .order_by(access_campaign_decisions.c.id)
                ).all()
            ]
    return {"campaign": camp, "items": items}


def render_html(report: dict[str, Any]) -> str:
    e = html.escape
    camp = report["campaign"]
    rows = []
    for it in report["items"]:
        decisions = (
            "<br>".join(
                e(
                    f"{d['decision']} by {d['reviewer']} at {d['decided_at']} "
                    f"(MFA {d['mfa_method']} {d['mfa_time']}): {d['note']}"
                )
                for d in it["decisions"]
            )
            or "none"
        )
        rows.append(
            "<tr>"
            + "".join(
                f"<td>{e(str(v))}</td>"
                for v in (
                    it["principal"],
                    it.get("kind") or "grant",
                    it["role"] + (f" ({it['subject']})" if it.get("subject") else ""),
                    it["source"],
                    it["ends_at"] or "no end",
                    it["last_activity"] or "no activity recorded",
                    it["outcome"] or "undecided",
                    it.get("finding") or "",
                )
            )
            + f"<td>{decisions}</td></tr>"
        )
    return (
        '<!doctype html><html><head><meta charset="utf-8"><title>Access review '
        f"{e(camp['name'])}</title></head><body><h1>Access review: {e(camp['name'])}</h1>"
        f"<p>Campaign {e(camp['id'])}, started {e(camp['created_at'])}, due {e(camp['due'])}, "
        f"closed {e(camp['closed_at'] or 'not yet')}.</p>"
        '<table border="1"><thead><tr><th>principal</th><th>kind</th><th>role</th>'
        "<th>source</th><th>ends</th>"
        "<th>last activity</th><th>outcome</th><th>finding</th><th>decisions</th></tr>"
        "</thead><tbody>" + "".join(rows) + "</tbody></table></body></html>\n"
    )
