"""Checks over production changes and test data: promotions, masking, resource identity."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import timedelta
from typing import Any

from stagewall.access._core import Request
from stagewall.access._events import IDENTITY_PINNED
from stagewall.access.identity import LIVE_KINDS
from stagewall.errors import IntegrityError
from stagewall.evidence._inputs import EventRow, EvidenceInputs
from stagewall.evidence._model import CheckResult, CheckStatus, ranges_of
from stagewall.evidence._registry import Check, register
from stagewall.evidence.checks._util import first, plural, when
from stagewall.gates.promotions import Promotion, approver_problem
from stagewall.redact import redact


def _request(row: dict[str, Any]) -> Request:
    created = when(row["created_at"])
    expires = when(row["expires_at"])
    if created is None or expires is None:
        raise IntegrityError(f"request {row['id']} has no valid creation or expiry time")
    return Request(
        id=row["id"],
        kind=row["kind"],
        requester=row["requester"],
        subject=row["subject"],
        reason=row["reason"],
        ticket=row["ticket"],
        requested=timedelta(seconds=int(row["requested_seconds"])),
        created_at=created,
        expires_at=expires,
        details=json.loads(row["details"]),
    )


@register
class ProductionPromotions(Check):
    name = "gates.production_promotions"
    title = "Production promotions approved by a non-author, with a verified attestation"
    proves = (
        "Every deployment to a production stage in the window came from a promotion approved "
        "(after submission, with MFA) by enough internal people who neither submitted it nor "
        "authored, committed or co-authored any of its commits, nor come from an author's "
        "vendor; and each deployment is bound to the signed audit event of the gate check "
        "that issued its attestation."
    )
    cannot_prove = (
        "Deployments that did not ask the gate (a pipeline that skips `gate check`); the "
        "attestation envelopes themselves are held by the pipeline, not the store, so the "
        "audit event of the check stands for them."
    )

    def run(self, inputs: EvidenceInputs) -> CheckResult:
        e = inputs.estate
        prod_stages = {s.name for s in e.stages if e.is_production(s.environment)}
        if not prod_stages:
            return CheckResult(
                self.name,
                CheckStatus.NOT_VERIFIABLE,
                "no production stage is declared",
                why="the estate declares no stage in a production environment, so stagewall "
                "does not see production changes",
            )
        checked: dict[str, list[int]] = defaultdict(list)
        allowed = []  # the successful checks: each one wrote a deployment row
        for row, details in inputs.details_of(["gate.deploy.checked"]):
            if row.status == "Success" and details.get("promotion"):
                checked[str(details["promotion"])].append(row.index)
                allowed.append((row, details))
        items: list[dict[str, Any]] = []
        indexes: list[int] = []
        deployments = ok = emergency = 0
        for d in inputs.deployments:
            at = when(d["created_at"])
            if d["stage"] not in prod_stages or at is None or not inputs.window.contains(at):
                continue
            deployments += 1
            pid = d["request_id"]
            indexes += checked.get(pid, []) + inputs.bound(
                f"promotion:{pid}", "gate.promotion.approved"
            )
            req_row = inputs.requests.get(pid)
            if req_row is None:
                items.append({"promotion": pid, "problem": "its promotion request is missing"})
                continue
            promo = Promotion.from_request(_request(req_row))
            if not checked.get(pid):
                items.append({"promotion": pid, "problem": "no gate check event binds it"})
                continue
            # gate check's own decision: rows the sealed log does not back count for
            # nothing, break-glass or not (SW945)
            unbound = inputs.promotion_unbound(pid, d)
            if unbound:
                items.append(
                    {
                        "promotion": pid,
                        "problem": "rows not bound to their sealed audit events (gate check "
                        "refuses them): " + "; ".join(unbound),
                    }
                )
                continue
            if promo.break_glass:
                emergency += 1
                ok += 1
                continue
            stage = next(s for s in e.stages if s.name == promo.stage)
            rule = e.approval_rules.get(stage.approval or "")
            needed = rule.approvals if rule else 1
            good, problems = 0, []
            for r in inputs.approvals_standing_at(pid, str(d["created_at"])):
                made = when(r["created_at"])
                if made is None or made < promo.created_at:
                    continue
                why = inputs.review_unbound.get(r["id"]) or approver_problem(
                    e, promo, r["reviewer"]
                )
                if why is None and (not r["mfa_method"] or not r["mfa_time"]):
                    why = "no MFA evidence"
                if why is None:
                    good += 1
                else:
                    problems.append(f"{r['reviewer']}: {why}")
            if good < needed:
                items.append(
                    {
                        "promotion": pid,
                        "problem": "; ".join(problems)
                        or f"{good} independent approval(s), {needed} needed",
                    }
                )
            else:
                ok += 1
        # The other direction: a production deployment the signed log records in the
        # window must have its row; a deleted row would drop it from every figure.
        rows = {(d["request_id"], d["sha"], d["digest"]) for d in inputs.deployments}
        for row, details in allowed:
            checked_stage = (row.resource or "").removeprefix("stage:").rsplit("/", 1)[0]
            key = (str(details["promotion"]), details.get("sha"), details.get("digest"))
            if checked_stage in prod_stages and inputs.in_window(row) and key not in rows:
                deployments += 1
                indexes.append(row.index)
                items.append(
                    {
                        "promotion": key[0],
                        "problem": f"audit event {row.index} records this production "
                        "deployment, but it has no row in the store (deleted?)",
                    }
                )
        figures = {
            "production_deployments": deployments,
            "independently_approved": ok - emergency,
            "break_glass": emergency,
            "problems": len(items),
        }
        if items:
            return CheckResult(
                self.name,
                CheckStatus.FAIL,
                f"{plural(len(items), 'production deployment')} without independent approval "
                f"or gate record: {first(str(i['promotion']) for i in items)}",
                figures,
                ranges_of(indexes),
                items=tuple(items),
            )
        return CheckResult(
            self.name,
            CheckStatus.PASS,
            f"{ok - emergency} of {deployments} production deployments approved by a non-author "
            f"with MFA, each bound to its gate check; {emergency} break-glass",
            figures,
            ranges_of(indexes),
        )


_RUN_EVENTS = ("masking.run.completed", "masking.run.failed")
_VERIFY_FAILED = "masking.verify.failed"
_MASKING_EVENTS = (*_RUN_EVENTS, "masking.verify.passed", _VERIFY_FAILED)


@register
class MaskingVerified(Check):
    name = "masking.verified_runs"
    title = "Every masking run verified with 0 hits and recorded"
    proves = (
        "Every completed masking run in the window was verified independently (no source "
        "value of a sensitive column found anywhere in the target) with 0 hits, and no "
        "later verification of it found a hit; the outcome is read from the run's audit "
        "event, every run the log records has its row and every row agrees with its event."
    )
    cannot_prove = (
        "That non-production data came only from masking runs (a copy made outside "
        "stagewall is not recorded); the scanner's database-copy rule looks for such copies "
        "in configuration."
    )

    def run(self, inputs: EvidenceInputs) -> CheckResult:
        items: list[dict[str, Any]] = []
        indexes: list[int] = []
        runs = ok = failed = 0
        hits_total = 0
        # The signed log, not the editable masking_runs row, says how each run ended and
        # what its verification found; the row must agree with its event.
        recorded: dict[str, tuple[EventRow, dict[str, Any]]] = {}
        latest_verify: dict[str, tuple[EventRow, dict[str, Any]]] = {}
        for event, details in inputs.details_of(_MASKING_EVENTS):
            run_id = str(details.get("run_id") or "")
            if event.code in _RUN_EVENTS:
                recorded.setdefault(run_id, (event, details))
            elif run_id:
                latest_verify[run_id] = (event, details)  # in log order: the newest wins
        rows = {str(r["run_id"]): r for r in inputs.masking_runs}
        in_window = {
            run_id
            for run_id, r in rows.items()
            if (started := when(r["started_at"])) is not None and inputs.window.contains(started)
        }
        for run_id, (_event, details) in recorded.items():
            started = when(str(details.get("started_at") or ""))
            if started is not None and inputs.window.contains(started):
                in_window.add(run_id)
        for run_id in sorted(in_window):
            runs += 1
            r = rows.get(run_id)
            found = recorded.get(run_id)
            if found is None:
                items.append({"run": run_id, "problem": "no audit event records it"})
                continue
            event, details = found
            indexes.append(event.index)
            if r is None:
                items.append(
                    {
                        "run": run_id,
                        "problem": f"audit event {event.index} records this run, but it has "
                        "no row in the store (deleted?)",
                    }
                )
                continue
            status, verification = details.get("status"), details.get("verification")
            if (r["status"], r["verification"], r["audit_index"]) != (
                status,
                verification,
                event.index,
            ):
                items.append(
                    {
                        "run": run_id,
                        "problem": f"its store row (status {r['status']}, verification "
                        f"{r['verification']}) differs from audit event {event.index} (status "
                        f"{status}, verification {verification}): edited?",
                    }
                )
                continue
            if status != "completed":
                failed += 1
                continue
            hits = int((details.get("verify") or {}).get("total_hits", 0) or 0)
            hits_total += hits
            later = latest_verify.get(run_id)
            if later is not None:
                indexes.append(later[0].index)
            if verification != "passed":
                items.append({"run": run_id, "problem": f"verification {verification}"})
            elif hits:
                items.append({"run": run_id, "problem": f"{hits} hits"})
            elif later is not None and later[0].code == _VERIFY_FAILED:
                found_hits = int(later[1].get("total_hits", 0) or 0)
                hits_total += found_hits
                items.append(
                    {
                        "run": run_id,
                        "problem": f"its newest verification (audit event {later[0].index}) "
                        f"found {found_hits} hits in the target",
                    }
                )
            else:
                ok += 1
        indexes = [i for i in indexes if i < inputs.log_size]
        figures = {
            "runs": runs,
            "verified_zero_hits": ok,
            "failed_runs": failed,
            "hits": hits_total,
            "problems": len(items),
        }
        if runs == 0:
            return CheckResult(
                self.name,
                CheckStatus.NOT_VERIFIABLE,
                "no masking run in the window",
                figures,
                why="no masking run was recorded in the window, so nothing shows how the "
                "non-production data of the period was made",
            )
        if items:
            return CheckResult(
                self.name,
                CheckStatus.FAIL,
                f"{plural(len(items), 'masking run')} not verified clean: "
                f"{first(str(i['run']) for i in items)}",
                figures,
                ranges_of(indexes),
                items=tuple(items),
            )
        return CheckResult(
            self.name,
            CheckStatus.PASS,
            f"{ok} of {runs - failed} completed masking runs verified with 0 hits "
            f"({failed} failed runs left no complete target)",
            figures,
            ranges_of(indexes),
        )


_JOB_TRIGGERED = "masking.job.triggered"
_PLAN_WITHDRAWN = "masking.plan.withdrawn"


@register
class MaskingPlanApprovals(Check):
    name = "masking.plan_approvals"
    title = "No masking job run went under a plan approval later withdrawn"
    proves = (
        "Every masking job run the server started in the window (its masking.job.triggered "
        "event, which names the plan approval it went under) still stands on that approval "
        "at the as-of time: a run whose approval its approver withdrew (a "
        "masking.plan.withdrawn event of that request) is named with the withdrawal's "
        "time, who withdrew it and why. Read from the signed log, not from the store's "
        "request, review or job rows."
    )
    cannot_prove = (
        "Why the approver withdrew (the reason is theirs); runs started before the server "
        "recorded the approval a run went under (their start names none, and they are "
        "counted as such); masking runs of the CLI, which need no plan approval."
    )

    def run(self, inputs: EvidenceInputs) -> CheckResult:
        withdrawn: dict[str, tuple[EventRow, dict[str, Any]]] = {}
        triggered: list[tuple[EventRow, dict[str, Any]]] = []
        for event, details in inputs.details_of([_JOB_TRIGGERED, _PLAN_WITHDRAWN]):
            if event.status != "Success":
                continue
            if event.code == _PLAN_WITHDRAWN:
                request = (event.resource or "").removeprefix("request:")
                if request and request != event.resource:
                    withdrawn.setdefault(request, (event, details))  # the first counts
            elif inputs.in_window(event):
                triggered.append((event, details))
        items: list[dict[str, Any]] = []
        indexes: list[int] = []
        unnamed = 0
        for event, details in triggered:
            indexes.append(event.index)
            approval = details.get("plan_approval")
            request = str(approval.get("request") or "") if isinstance(approval, dict) else ""
            if not request:
                unnamed += 1
                continue
            found = withdrawn.get(request)
            if found is None:
                continue
            gone, why = found
            indexes.append(gone.index)
            run = str(details.get("run"))
            listed = [
                u
                for u in why.get("runs_under_approval") or []
                if isinstance(u, dict) and str(u.get("run")) == run
            ]
            items.append(
                {
                    "run": run,
                    "job": details.get("job"),
                    "triggered_event": event.index,
                    "triggered_at": event.time,
                    "plan_sha256": details.get("plan_sha256"),
                    "plan_approval": request,
                    "approved_by": approval.get("approved_by") if approval else None,
                    "withdrawn_by": gone.actor,
                    "withdrawn_at": gone.time,
                    "withdrawal_event": gone.index,
                    "reason": redact(str(why.get("reason") or "")),
                    # as the withdrawal recorded it (the run may not have finished then)
                    "masking_run": listed[0].get("masking_run") if listed else None,
                    "started_after_withdrawal": event.index > gone.index,
                }
            )
        figures = {
            "runs": len(triggered),
            "under_withdrawn_approval": len(items),
            "without_named_approval": unnamed,
            "withdrawals": len(withdrawn),
        }
        indexes = [i for i in indexes if i < inputs.log_size]
        if not triggered:
            return CheckResult(
                self.name,
                CheckStatus.NOT_APPLICABLE,
                "no masking job run started in the window",
                figures,
                why="the server started no masking job run in the window, so no run went "
                "under a plan approval",
            )
        named = first(
            f"{i['run']} (request {i['plan_approval']}, withdrawn by {i['withdrawn_by']} at "
            f"{i['withdrawn_at']})"
            for i in items
        )
        status, summary = (
            (
                CheckStatus.FAIL,
                f"{plural(len(items), 'masking job run')} went under a plan "
                f"approval later withdrawn: {named}",
            )
            if items
            else (
                CheckStatus.PASS,
                f"none of {plural(len(triggered), 'masking job run')} "
                f"went under a plan approval later withdrawn ({unnamed} name no approval)",
            )
        )
        return CheckResult(
            self.name, status, summary, figures, ranges_of(indexes), items=tuple(items)
        )


@register
class ResourceIdentity(Check):
    name = "separation.resource_identity"
    title = "No non-production resource shares an identity with a production one"
    proves = (
        "No declared identifier (host, URL, account, bucket) is shared between a production "
        "and a non-production resource, and the identities measured on the live servers "
        "(PostgreSQL system identifier, MySQL server UUID), pinned per resource, differ."
    )
    cannot_prove = "Resources whose identity was never pinned; network paths between tiers."

    def run(self, inputs: EvidenceInputs) -> CheckResult:
        e = inputs.estate
        items: list[dict[str, Any]] = []
        owners: dict[str, set[str]] = defaultdict(set)
        for name, res in e.resources.items():
            for ident in res.all_identifiers():
                owners[ident].add(name)
        for ident, names in sorted(owners.items()):
            tiers = {e.is_production(e.resources[n].environment) for n in names}
            if len(tiers) == 2:
                items.append({"identity": ident, "resources": sorted(names), "source": "declared"})
        pinned = inputs.pins
        by_id: dict[str, set[str]] = defaultdict(set)
        indexes: list[int] = []
        for name, ident in pinned.items():
            if name in e.resources:
                by_id[ident].add(name)
                indexes += inputs.bound(f"resource:{name}", IDENTITY_PINNED.code)
        for ident, names in sorted(by_id.items()):
            tiers = {e.is_production(e.resources[n].environment) for n in names}
            if len(tiers) == 2:
                items.append({"identity": ident, "resources": sorted(names), "source": "pinned"})
        unpinned = sorted(
            n for n, r in e.resources.items() if r.kind in LIVE_KINDS and n not in pinned
        )
        figures = {
            "resources": len(e.resources),
            "pinned": len([n for n in pinned if n in e.resources]),
            "unpinned": len(unpinned),
            "shared": len(items),
        }
        if items:
            return CheckResult(
                self.name,
                CheckStatus.FAIL,
                f"{plural(len(items), 'identity', 'identities')} shared across the wall: "
                + first(f"{i['identity']} ({', '.join(i['resources'])})" for i in items),
                figures,
                ranges_of(indexes),
                items=tuple(items),
            )
        if unpinned and figures["pinned"]:
            return CheckResult(
                self.name,
                CheckStatus.NOT_VERIFIABLE,
                f"{plural(len(unpinned), 'database resource')} not pinned: {first(unpinned)}",
                figures,
                ranges_of(indexes),
                why="their live server identity was never pinned (first verified use, or "
                "`stagewall check --live`), so they could still be the same server as another "
                "resource across the wall",
            )
        if not figures["pinned"]:
            return CheckResult(
                self.name,
                CheckStatus.NOT_VERIFIABLE,
                "declared identifiers do not overlap, but no live identity is pinned",
                figures,
                why="no resource identity has been pinned, so two names could still point at "
                "the same server; only the declared identifiers were compared",
            )
        return CheckResult(
            self.name,
            CheckStatus.PASS,
            f"{figures['pinned']} pinned identities and every declared identifier are distinct "
            "across the wall",
            figures,
            ranges_of(indexes),
        )


__all__ = ["MaskingPlanApprovals", "MaskingVerified", "ProductionPromotions", "ResourceIdentity"]
