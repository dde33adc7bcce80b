"""Checks over follow-ups and access reviews: break-glass follow-up, review campaigns."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from stagewall.access._standing import MEMBERSHIPS, TOKEN_KINDS, ItemKind, item_resource
from stagewall.evidence._inputs import EventRow, EvidenceInputs, parse_stamp
from stagewall.evidence._model import CheckResult, CheckStatus, ranges_of
from stagewall.evidence._registry import Check, register
from stagewall.evidence.checks._util import (
    CREDENTIAL_REVOKED,
    GRANT_REVOKED,
    first,
    grant_events,
    plural,
    when,
)

FOLLOW_UP_WITHIN = timedelta(hours=24)
QUARTER = timedelta(days=92)
BREAK_GLASS_USED = "access.breakglass.used"
FOLLOWUP_COMPLETED = "access.followup.completed"
CAMPAIGN_CLOSED = "access.campaign.closed"


def _late(used: EventRow | None, done: EventRow) -> bool:
    """The follow-up event came more than 24 hours after the break-glass event."""
    start, end = parse_stamp(used.time) if used else None, parse_stamp(done.time)
    return start is not None and end is not None and end - start > FOLLOW_UP_WITHIN


@register
class BreakGlassFollowUp(Check):
    name = "access.break_glass_followup"
    title = "Break-glass uses followed up within 24 hours"
    proves = (
        "Every break-glass grant and every break-glass promotion opened in the window was "
        "reviewed by another internal principal within 24 hours; one still open but not yet "
        "due is reported as pending. Grant uses and their follow-ups are read from the log: "
        "a use without its follow-up row, or a follow-up done in the store without its "
        "event, fails."
    )
    cannot_prove = "That the follow-up review found what the emergency access was used for."

    def run(self, inputs: EvidenceInputs) -> CheckResult:
        e = inputs.estate
        items: list[dict[str, Any]] = []
        indexes: list[int] = []
        uses = on_time = pending = 0
        # The log says which break-glass uses happened and which follow-ups were done;
        # a follow-up row deleted, or marked done in the store without its event, fails.
        used = {
            (ev.resource or "").removeprefix("grant:"): ev
            for ev in inputs.events
            if ev.code == BREAK_GLASS_USED and ev.status == "Success" and inputs.in_window(ev)
        }
        rows = {str(fu["grant_id"]): fu for fu in inputs.followups}
        for grant_id in sorted(set(used) - set(rows)):
            uses += 1
            indexes.append(used[grant_id].index)
            items.append(
                {
                    "use": grant_id,
                    "problem": f"audit event {used[grant_id].index} records this break-glass "
                    "use, but it has no follow-up in the store (deleted?)",
                }
            )
        for fu in inputs.followups:
            opened = when(fu["opened_at"])
            if (opened is None or not inputs.window.contains(opened)) and fu[
                "grant_id"
            ] not in used:
                continue
            if opened is None:
                items.append({"use": fu["grant_id"], "problem": "its follow-up has no open time"})
                continue
            uses += 1
            indexes += grant_events(inputs, fu["grant_id"], BREAK_GLASS_USED, FOLLOWUP_COMPLETED)
            done = when(fu["completed_at"])
            due = opened + FOLLOW_UP_WITHIN
            recorded = [
                ev
                for ev in inputs.by_resource.get(f"grant:{fu['grant_id']}", [])
                if ev.code == FOLLOWUP_COMPLETED and ev.status == "Success" and inputs.until_at(ev)
            ]
            if done is not None and done <= inputs.at and not recorded:
                items.append(
                    {
                        "use": fu["grant_id"],
                        "problem": f"follow-up marked done by {fu['completed_by']} in the store, "
                        "but no access.followup.completed event records it (edited?)",
                    }
                )
                continue
            if done is None or done > inputs.at:
                if due < inputs.at:
                    items.append(
                        {"use": fu["grant_id"], "problem": f"follow-up overdue since {due}"}
                    )
                else:
                    pending += 1
            elif done > due or _late(used.get(fu["grant_id"]), recorded[0]):
                items.append({"use": fu["grant_id"], "problem": f"followed up late ({done})"})
            elif (
                fu["completed_by"] == fu["holder"]
                or not e.is_internal(fu["completed_by"] or "")
                or recorded[0].actor != fu["completed_by"]
            ):
                items.append(
                    {
                        "use": fu["grant_id"],
                        "problem": f"followed up by {fu['completed_by']} (event by "
                        f"{recorded[0].actor})",
                    }
                )
            else:
                on_time += 1
        reviews = inputs.reviews_by_request
        for p in inputs.promotions:
            opened = when(p["created_at"])
            if not p["break_glass"] or opened is None or not inputs.window.contains(opened):
                continue
            uses += 1
            res = f"promotion:{p['request_id']}"
            indexes += inputs.bound(res, "gate.followup.reviewed")
            indexes += [
                ev.index
                for ev in inputs.by_resource.get(f"stage:{p['stage']}/{p['sha']}", [])
                if ev.code == "gate.promotion.break_glass"
            ]
            due = when(p["followup_due"]) or opened + FOLLOW_UP_WITHIN
            # a follow-up counts when the log records it, by another internal person
            logged: dict[str, str] = {}
            for ev in inputs.by_resource.get(res, []):
                followed = ev.code == "gate.followup.reviewed" and ev.status == "Success"
                if followed and inputs.until_at(ev):
                    logged.setdefault(ev.actor, ev.time)
            others = [
                r for r in reviews.get(p["request_id"], []) if r["reviewer"] != p["submitter"]
            ]
            unlogged = sorted({str(r["reviewer"]) for r in others if r["reviewer"] not in logged})
            if unlogged:
                items.append(
                    {
                        "use": p["request_id"],
                        "problem": f"follow-up by {', '.join(unlogged)} in the store, but no "
                        "gate.followup.reviewed event records it (edited?)",
                    }
                )
                continue
            # when: the log's time of the follow-up event, not the row's editable time
            done_at = [
                t
                for r in others
                if e.is_internal(r["reviewer"]) and (t := when(logged[r["reviewer"]])) is not None
            ]
            if not done_at or min(done_at) > inputs.at:
                if due < inputs.at:
                    items.append({"use": p["request_id"], "problem": "promotion not followed up"})
                else:
                    pending += 1
            elif min(done_at) > due:
                items.append({"use": p["request_id"], "problem": "promotion followed up late"})
            else:
                on_time += 1
        figures = {"uses": uses, "followed_up_on_time": on_time, "pending": pending}
        figures["problems"] = len(items)
        if items:
            return CheckResult(
                self.name,
                CheckStatus.FAIL,
                f"{plural(len(items), 'break-glass use')} not followed up within 24 h: "
                f"{first(str(i['use']) for i in items)}",
                figures,
                ranges_of(indexes),
                items=tuple(items),
            )
        return CheckResult(
            self.name,
            CheckStatus.PASS,
            f"{plural(uses, 'break-glass use')} in the window; {on_time} followed up within "
            f"24 h, {pending} pending and not yet due",
            figures,
            ranges_of(indexes),
        )


def _closed_in_log(inputs: EvidenceInputs, campaign: dict[str, Any]) -> bool:
    """A successful ``access.campaign.closed`` event of ``campaign`` up to the as-of time."""
    return any(
        ev.code == CAMPAIGN_CLOSED and ev.status == "Success" and inputs.until_at(ev)
        for ev in inputs.by_resource.get(f"campaign:{campaign['id']}", [])
    )


def _decision_problem(
    inputs: EvidenceInputs,
    grants: dict[str, dict[str, Any]],
    campaign: dict[str, Any],
    item: dict[str, Any],
    decision: dict[str, Any],
) -> str | None:
    """Why a campaign decision does not count as an independent review (None: it does):
    a holder deciding on their own grant, or a keep by one of the grant's approvers or
    after the campaign's due date (decisions recorded before stagewall refused those)."""
    who = decision["reviewer"]
    if who == item["principal"]:
        return f"{who} decided own grant"
    if decision["decision"] != "keep":
        return None
    request_id = (grants.get(item["grant_id"]) or {}).get("request_id")
    approvers = {
        r["reviewer"]
        for r in inputs.reviews_by_request.get(request_id or "", [])
        if r["decision"] == "approve"
    }
    if who in approvers:
        return f"{who} kept grant {item['grant_id']}, which they approved"
    if decision["decided_at"] >= campaign["due"]:
        what = f"grant {item['grant_id']}" if item["grant_id"] else item_resource(item)
        return f"{who} kept {what} after the due date"
    return None


_BEYOND_GRANTS = ("access.campaign.decided", "access.campaign.revoked", "access.campaign.finding")


def _not_executed(
    inputs: EvidenceInputs, grants: dict[str, dict[str, Any]], item: dict[str, Any]
) -> str | None:
    """Why a revoke outcome has not taken effect (None: it has), for every item kind.

    A token is gone once revoked (or expired); a ``server.admins``/``server.auditors``
    membership only once stagewall.yaml no longer lists the principal, which stagewall
    cannot do itself; a grant once ended with every login verified removed."""
    kind = ItemKind(item.get("kind") or "grant")
    if kind in TOKEN_KINDS:
        token = inputs.token_states.get(item["subject"] or "")
        gone = token is not None and (
            token["revoked_at"] is not None or (when(token["expires_at"]) or inputs.at) < inputs.at
        )
        return None if gone else f"revocation of {item['role']} {item['subject']} not executed"
    if kind in MEMBERSHIPS:
        server = inputs.estate.server
        listed = inputs.estate.expand(server.admins if kind is ItemKind.ADMIN else server.auditors)
        if item["principal"] in listed:
            return (
                f"{item['principal']} is still listed under {MEMBERSHIPS[kind]} after a review "
                "revoked it (edit stagewall.yaml)"
            )
        return None
    g = grants.get(item["grant_id"])
    creds = inputs.credentials_by_grant.get(item["grant_id"], [])
    if kind is ItemKind.PENDING_LOGIN:
        creds = [cr for cr in creds if cr["resource"] == item["subject"]]
    if g is None or g["status"] == "active" or any(cr["state"] != "revoked" for cr in creds):
        return f"revocation of grant {item['grant_id']} not executed"
    return None


@register
class ReviewCampaigns(Check):
    name = "access.review_campaigns"
    title = "Quarterly access reviews completed, revocations executed"
    proves = (
        "An access-review campaign was closed (as its audit event records) within the last "
        "92 days; every campaign due in "
        "the window was closed; no holder decided on their own grant and no approver kept a "
        "grant they approved, nor anyone after the due date; every revoke decision "
        "(and every undecided item) took effect: grants ended with database logins verified "
        "removed, pipeline and personal API tokens revoked, and principals whose "
        "server.admins/server.auditors membership was revoked no longer listed."
    )
    cannot_prove = (
        "That reviewers judged need-to-know well; only that they decided and it took effect."
    )

    def run(self, inputs: EvidenceInputs) -> CheckResult:
        items: list[dict[str, Any]] = []
        indexes: list[int] = []
        grants = {g["id"]: g for g in inputs.grants}
        counts = {"campaigns": 0, "closed": 0, "items": 0, "kept": 0, "revoked": 0}
        counts["revoked_no_answer"] = counts["revocations_executed"] = 0
        last_closed = None
        for c in inputs.campaigns:
            created, due, closed = when(c["created_at"]), when(c["due"]), when(c["closed_at"])
            if created is None or created > inputs.at:
                continue
            if closed is not None and closed <= inputs.at and not _closed_in_log(inputs, c):
                # closed in the store, but the signed log never recorded it
                counts["campaigns"] += 1
                items.append(
                    {
                        "campaign": c["id"],
                        "problem": f"campaign {c['id']} is marked closed in the store, but no "
                        f"{CAMPAIGN_CLOSED} event records it (edited?)",
                    }
                )
                continue
            if closed is not None and closed <= inputs.at:
                last_closed = closed if last_closed is None else max(last_closed, closed)
            else:
                closed = None
            touches = (
                inputs.window.contains(created)
                or (closed is not None and inputs.window.contains(closed))
                or (due is not None and inputs.window.contains(due))
            )
            if not touches:
                continue
            counts["campaigns"] += 1
            indexes += [ev.index for ev in inputs.by_resource.get(f"campaign:{c['id']}", [])]
            if closed is None:
                if due is not None and due < inputs.at:
                    items.append({"campaign": c["id"], "problem": f"not closed, due {c['due']}"})
                continue
            counts["closed"] += 1
            for it in inputs.campaign_items.get(c["id"], []):
                counts["items"] += 1
                outcome = it["outcome"]
                indexes += grant_events(
                    inputs,
                    it["grant_id"],
                    "access.campaign.decided",
                    GRANT_REVOKED,
                    CREDENTIAL_REVOKED,
                )
                if it.get("kind") not in (None, "grant", "pending_login"):
                    for code in _BEYOND_GRANTS:
                        indexes += inputs.bound(item_resource(it), code)
                for d in inputs.campaign_decisions.get(it["id"], []):
                    problem = _decision_problem(inputs, grants, c, it, d)
                    if problem is not None:
                        items.append({"campaign": c["id"], "problem": problem})
                if outcome == "keep":
                    counts["kept"] += 1
                    continue
                counts["revoked" if outcome == "revoke" else "revoked_no_answer"] += 1
                problem = _not_executed(inputs, grants, it)
                if problem is not None:
                    items.append({"campaign": c["id"], "problem": problem})
                else:
                    counts["revocations_executed"] += 1
        recent = last_closed is not None and inputs.at - last_closed <= QUARTER
        if not recent:
            items.append(
                {
                    "campaign": None,
                    "problem": "no access review closed in the 92 days before the as-of time",
                }
            )
        figures: dict[str, Any] = {**counts, "last_closed": last_closed, "problems": len(items)}
        if last_closed is not None:
            figures["last_closed"] = last_closed.strftime("%Y-%m-%dT%H:%M:%SZ")
        if items:
            return CheckResult(
                self.name,
                CheckStatus.FAIL,
                "; ".join(first(str(i["problem"]) for i in items).split(", ")[:3]),
                figures,
                ranges_of(indexes),
                items=tuple(items),
            )
        return CheckResult(
            self.name,
            CheckStatus.PASS,
            f"{plural(counts['closed'], 'access review')} closed in the window "
            f"({counts['items']} items: {counts['kept']} kept, "
            f"{counts['revoked'] + counts['revoked_no_answer']} revoked, "
            f"{counts['revocations_executed']} revocations executed); last closed "
            f"{figures['last_closed']}",
            figures,
            ranges_of(indexes),
        )


__all__ = ["BreakGlassFollowUp", "ReviewCampaigns"]
