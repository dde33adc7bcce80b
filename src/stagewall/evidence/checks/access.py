"""Checks over production access: who can reach production, approvals, revocation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from stagewall.estate import Estate
from stagewall.evidence._inputs import EvidenceInputs
from stagewall.evidence._model import CheckResult, CheckStatus, ranges_of
from stagewall.evidence._registry import Check, register
from stagewall.evidence.checks._util import (
    CREDENTIAL_REVOKED,
    GRANT_CREATED,
    GRANT_REVOKED,
    REVIEW_RECORDED,
    findings_in_window,
    first,
    grant_events,
    grant_in_window,
    is_production_grant,
    plural,
    suspect_name,
    when,
)

# Monitoring rules whose finding means someone reached production: an external (or an
# unknown login) on a production resource, a production login without a grant.
EXTERNAL_IN_PRODUCTION = "external_production_access"
LOGIN_WITHOUT_GRANT = "production_login_without_grant"


def _silenced(suspect: dict[str, Any]) -> str:
    """A finding whose alert a monitoring.suppress entry silenced shows it."""
    why = suspect.get("suppressed")
    return f"; its alert was suppressed by monitoring.suppress ({why})" if why else ""


def _externals(estate: Estate) -> set[str]:
    return {pid for pid in estate.principals if not estate.is_internal(pid)}


def _production_resources(estate: Estate) -> set[str]:
    return {n for n, r in estate.resources.items() if estate.is_production(r.environment)}


@register
class ExternalProduction(Check):
    name = "access.external_production"
    title = "No external identity can reach production"
    proves = (
        "The set of external (vendor, unknown or disabled) identities and the set of production "
        "roles, grants, database logins and (with pinned identities) production servers do "
        "not intersect: in the estate's eligibility and standing grants, in every grant row "
        "of the window, in every unrevoked credential, and in what monitoring saw: no "
        "Detection Finding of the window records an external or unknown identity on a "
        "production resource."
    )
    cannot_prove = (
        "Access that bypasses stagewall entirely (a password shared outside it, a cloud IAM "
        "binding it does not manage) is invisible to this check unless a monitored log "
        "records it; the scanner covers configuration, not people."
    )

    def run(self, inputs: EvidenceInputs) -> CheckResult:
        e = inputs.estate
        externals = _externals(e)
        prod_resources = _production_resources(e)
        items: list[dict[str, Any]] = []
        for rname, role in sorted(e.roles.items()):
            if not e.is_production(role.environment):
                continue
            for pid in sorted(e.expand(role.eligible) & externals):
                items.append({"principal": pid, "where": f"eligible for production role {rname}"})
        for sg in e.standing_grants:
            if sg.principal in externals and e.role_is_production(sg.role):
                items.append({"principal": sg.principal, "where": f"standing grant of {sg.role}"})
        indexes: list[int] = []
        grants_seen = 0
        for g in inputs.grants:
            # a holder since removed from stagewall.yaml is unknown, so external
            outside = not e.is_internal(g["principal"])
            # an unrevoked login counts whenever its grant ended: it still opens production
            for cred in inputs.credentials_by_grant.get(g["id"], []):
                issued = when(cred["issued_at"])
                if (
                    outside
                    and cred["resource"] in prod_resources
                    and cred["state"] != "revoked"
                    and (issued is None or issued <= inputs.at)
                ):
                    items.append(
                        {
                            "principal": g["principal"],
                            "where": f"login {cred['login']} on {cred['resource']}",
                        }
                    )
            if not grant_in_window(inputs, g):
                continue
            grants_seen += 1
            prod = is_production_grant(inputs, g)
            if prod:
                indexes += grant_events(inputs, g["id"], GRANT_CREATED)
            if outside and prod:
                items.append(
                    {"principal": g["principal"], "where": f"grant {g['id']} of {g['role']}"}
                )
                indexes += grant_events(inputs, g["id"], GRANT_CREATED)
        pinned = inputs.pins
        prod_ids = {pinned[r]: r for r in prod_resources if r in pinned}
        for g in inputs.grants:
            if e.is_internal(g["principal"]) or not grant_in_window(inputs, g):
                continue
            held = e.roles.get(g["role"])
            for res in held.resources if held else []:
                twin = prod_ids.get(pinned.get(res, ""))
                if twin is not None and res != twin:
                    items.append(
                        {
                            "principal": g["principal"],
                            "where": f"grant {g['id']} on {res}, the same server as "
                            f"production {twin}",
                        }
                    )
        # What the monitored logs saw: an external on production, or a login to
        # production without a grant by someone who is not an internal principal.
        seen = 0
        for event, suspect in findings_in_window(
            inputs, EXTERNAL_IN_PRODUCTION, LOGIN_WITHOUT_GRANT
        ):
            name = suspect_name(suspect)
            if suspect["rule"] == LOGIN_WITHOUT_GRANT and e.is_internal(name):
                continue  # an internal's login without a grant: access.production_approvals
            seen += 1
            indexes.append(event.index)
            items.append(
                {
                    "principal": name,
                    "where": f"monitoring finding {suspect['rule']} (audit event "
                    f"{event.index}) on {event.resource or 'a production resource'}"
                    + _silenced(suspect),
                }
            )
        figures = {
            "external_identities": len(externals),
            "monitoring_findings": seen,
            "production_resources": len(prod_resources),
            "production_roles": sum(1 for r in e.roles.values() if e.is_production(r.environment)),
            "grants_in_window": grants_seen,
            "intersections": len(items),
        }
        if items:
            who = sorted({str(i["principal"]) for i in items})
            return CheckResult(
                self.name,
                CheckStatus.FAIL,
                f"{plural(len(who), 'external identity', 'external identities')} can reach "
                f"production: {first(who)}",
                figures,
                ranges_of(indexes),
                items=tuple(items),
            )
        return CheckResult(
            self.name,
            CheckStatus.PASS,
            f"0 of {plural(len(externals), 'external identity', 'external identities')} hold or "
            f"can request any production permission ({len(prod_resources)} production "
            "resources)",
            figures,
            ranges_of(indexes),
        )


def _independent(e: Estate, requester: str, review: dict[str, Any]) -> str | None:
    reviewer = review["reviewer"]
    if reviewer == requester:
        return "approved by the requester"
    if not e.is_internal(reviewer):
        return f"approver {reviewer} is not an internal, enabled principal"
    mine, theirs = e.principals[reviewer].vendor, e.principals.get(requester)
    if mine is not None and theirs is not None and theirs.vendor == mine:
        return f"approver {reviewer} is from the requester's vendor"
    if not review["mfa_method"] or when(review["mfa_time"]) is None:
        return f"approval by {reviewer} carries no MFA evidence"
    return None


@register
class ProductionApprovals(Check):
    name = "access.production_approvals"
    title = "Production grants approved by an independent internal principal with MFA"
    proves = (
        "Every production grant that existed in the window came from a request approved by "
        "enough internal principals who were not the requester nor from the requester's "
        "vendor, each approval carrying MFA evidence, and its grant row is bound to the audit "
        "event that created it. Break-glass grants are counted here and followed up by "
        "access.break_glass_followup."
    )
    cannot_prove = (
        "That the approver looked at the request carefully; that the reason given was true."
    )

    def run(self, inputs: EvidenceInputs) -> CheckResult:
        e = inputs.estate
        items: list[dict[str, Any]] = []
        indexes: list[int] = []
        counts = {"production_grants": 0, "by_request": 0, "break_glass": 0, "approved_ok": 0}
        counts["logins_without_grant"] = 0
        for g in inputs.grants:
            if not grant_in_window(inputs, g) or not is_production_grant(inputs, g):
                continue
            counts["production_grants"] += 1
            created = grant_events(inputs, g["id"], GRANT_CREATED)
            indexes += created
            if not created:
                items.append({"grant": g["id"], "problem": "no audit event created this grant"})
                continue
            if g["source"] == "break_glass":
                counts["break_glass"] += 1
                continue
            if g["source"] != "request" or not g["request_id"]:
                items.append({"grant": g["id"], "problem": f"source {g['source']} (no request)"})
                continue
            counts["by_request"] += 1
            req = inputs.requests.get(g["request_id"])
            if req is None:
                items.append({"grant": g["id"], "problem": "its request is missing"})
                continue
            indexes += inputs.bound(f"request:{req['id']}", REVIEW_RECORDED)
            role = e.roles.get(g["role"])
            rule = e.approval_rules.get(role.approval or "") if role else None
            needed = rule.approvals if rule else 1
            approvals = inputs.approvals_standing_at(req["id"], str(g["created_at"]))
            problems = [
                p
                for r in approvals
                if (p := inputs.approval_problem(r) or _independent(e, req["requester"], r))
            ]
            good = len(approvals) - len(problems)
            if good < needed:
                items.append(
                    {
                        "grant": g["id"],
                        "problem": "; ".join(problems)
                        or f"{good} independent approval(s), {needed} needed",
                    }
                )
            else:
                counts["approved_ok"] += 1
        # The other direction: a production grant the signed log records in the window
        # must have its row; a deleted row would drop the grant from every figure.
        rows = {g["id"] for g in inputs.grants}
        for event, details in inputs.details_of([GRANT_CREATED]):
            grant_id = (event.resource or "").removeprefix("grant:")
            recorded = details.get("production") is True and inputs.in_window(event)
            if recorded and grant_id not in rows:
                counts["production_grants"] += 1
                indexes.append(event.index)
                items.append(
                    {
                        "grant": grant_id,
                        "problem": f"audit event {event.index} records this production "
                        "grant, but it has no row in the store (deleted?)",
                    }
                )
        # What the monitored logs saw: an internal's production login without any grant.
        for event, suspect in findings_in_window(inputs, LOGIN_WITHOUT_GRANT):
            who = suspect_name(suspect)
            if not e.is_internal(who):
                continue  # an external or unknown login: access.external_production
            counts["logins_without_grant"] += 1
            indexes.append(event.index)
            items.append(
                {
                    "grant": f"none ({who})",
                    "problem": f"{who} logged in to {event.resource or 'production'} without "
                    f"a grant (monitoring finding, audit event {event.index})" + _silenced(suspect),
                }
            )
        figures = {**counts, "problems": len(items)}
        if items:
            return CheckResult(
                self.name,
                CheckStatus.FAIL,
                f"{plural(len(items), 'production grant')} without independent MFA approval: "
                f"{first(str(i['grant']) for i in items)}",
                figures,
                ranges_of(indexes),
                items=tuple(items),
            )
        return CheckResult(
            self.name,
            CheckStatus.PASS,
            f"{counts['approved_ok']} of {counts['by_request']} requested production grants "
            f"approved by independent internal principals with MFA; "
            f"{plural(counts['break_glass'], 'break-glass grant')}",
            figures,
            ranges_of(indexes),
        )


# A login must be gone within one sweep of its grant's end: the sweeper runs every
# second in the server and at most every hour (`access sweep --interval`).
REMOVAL_GRACE = timedelta(hours=1)


def _left_over(inputs: EvidenceInputs, g: dict[str, Any]) -> str | None:
    """What a grant that ended before the window left behind at the as-of time: its row
    still active, or a database login not verified removed (None: nothing)."""
    start, end = when(g["starts_at"]), when(g["ends_at"])
    if start is None or end is None or start > inputs.at:
        return None
    bad = [
        c
        for c in inputs.credentials_by_grant.get(g["id"], [])
        if c["state"] != "revoked" or not c["verified_at"]
    ]
    if bad:
        return (
            f"its grant ended before the window ({end:%Y-%m-%dT%H:%M:%SZ}) but login(s) are "
            "not verified removed: "
            + ", ".join(f"{c['login']} on {c['resource']} ({c['state']})" for c in bad)
        )
    if g["status"] == "active" and end < inputs.at:
        return f"still active after its end ({end:%Y-%m-%dT%H:%M:%SZ}, before the window)"
    return None


@register
class RevocationVerified(Check):
    name = "access.revocation_verified"
    title = "Every grant ended and its revocation verified"
    proves = (
        "Every grant whose end fell in the window is marked ended, and every database login "
        "issued for it was removed, within an hour of the grant's end, with a verification "
        "that no session and no login remain; no grant that ended earlier still has a login "
        "or an active row."
    )
    cannot_prove = (
        "Access through resources stagewall issues no credentials for (their removal is "
        "outside stagewall); a login created by hand on the database (the sweeper's orphan "
        "reconciler reports those)."
    )

    def run(self, inputs: EvidenceInputs) -> CheckResult:
        items: list[dict[str, Any]] = []
        indexes: list[int] = []
        ended = with_logins = verified = live = 0
        for g in inputs.grants:
            if not grant_in_window(inputs, g):
                # ended before the window: a login (or the grant) still there outlived it
                leftover = _left_over(inputs, g)
                if leftover is not None:
                    items.append({"grant": g["id"], "problem": leftover})
                continue
            end = when(g["ends_at"])
            revoked = when(g.get("revoked_at"))
            finished = revoked if revoked is not None and end and revoked < end else end
            if finished is None or finished > inputs.at:
                live += 1
                continue
            ended += 1
            indexes += grant_events(inputs, g["id"], GRANT_REVOKED, CREDENTIAL_REVOKED)
            if g["status"] == "active":
                items.append(
                    {"grant": g["id"], "problem": "still active after its end (no sweep ran)"}
                )
            creds = inputs.credentials_by_grant.get(g["id"], [])
            if creds:
                with_logins += 1
            bad = [c for c in creds if c["state"] != "revoked" or not c["verified_at"]]
            late = [
                (c, gone)
                for c in creds
                if c not in bad
                and (gone := when(c["verified_at"])) is not None
                and gone - finished > REMOVAL_GRACE
            ]
            if bad:
                items.append(
                    {
                        "grant": g["id"],
                        "problem": "login(s) not verified removed: "
                        + ", ".join(f"{c['login']} on {c['resource']} ({c['state']})" for c in bad),
                    }
                )
            elif late:
                items.append(
                    {
                        "grant": g["id"],
                        "problem": "login(s) outlived the grant's end "
                        f"{finished:%Y-%m-%dT%H:%M:%SZ}: "
                        + ", ".join(
                            f"{c['login']} on {c['resource']} removed {gone - finished} later"
                            for c, gone in late
                        ),
                    }
                )
            elif creds:
                verified += 1
        figures = {
            "grants_ended": ended,
            "with_logins": with_logins,
            "logins_verified_removed": verified,
            "live_grants": live,
            "problems": len(items),
        }
        if items:
            return CheckResult(
                self.name,
                CheckStatus.FAIL,
                f"{plural(len(items), 'problem')} in ending grants: "
                f"{first(str(i['grant']) for i in items)}",
                figures,
                ranges_of(indexes),
                items=tuple(items),
            )
        return CheckResult(
            self.name,
            CheckStatus.PASS,
            f"{plural(ended, 'grant')} ended in the window; {verified} of {with_logins} with "
            f"database logins had their removal verified; {live} still live",
            figures,
            ranges_of(indexes),
        )


__all__ = ["ExternalProduction", "ProductionApprovals", "RevocationVerified"]
