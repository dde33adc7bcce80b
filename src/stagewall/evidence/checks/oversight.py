"""Checks over vendors, the audit log, scans, alerting, and attested (manual) controls."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from stagewall._suppressed import suppressed_line
from stagewall.audit._quorum import check_cosigned_roots, read_cosigned_notes
from stagewall.audit._verify import verify_store
from stagewall.errors import KeyMissing, StagewallError
from stagewall.evidence._inputs import EvidenceInputs, parse_stamp
from stagewall.evidence._model import CheckResult, CheckStatus, ranges_of
from stagewall.evidence._proofs import ProofMaker
from stagewall.evidence._registry import Check, register
from stagewall.evidence.checks._util import first, plural, when


@register
class VendorAgreements(Check):
    name = "vendors.agreements"
    title = "Vendor NDA and DPA signed before first access; contracts in force"
    proves = (
        "For every vendor: the NDA and the DPA were signed on or before the day its people "
        "first held a grant, that first grant started within the contract, and a vendor whose "
        "contract has ended has no enabled principal and no live grant."
    )
    cannot_prove = "What the signed documents say; the dates are as declared in stagewall.yaml."

    def run(self, inputs: EvidenceInputs) -> CheckResult:
        e = inputs.estate
        if not e.vendors:
            return CheckResult(
                self.name,
                CheckStatus.NOT_APPLICABLE,
                "no vendor is declared",
                why="the estate declares no vendor, so no external party has access",
            )
        today = inputs.at.date()
        items: list[dict[str, Any]] = []
        indexes: list[int] = []
        people: dict[str, list[str]] = {v: [] for v in e.vendors}
        for pid, p in e.principals.items():
            if p.vendor in people:
                people[p.vendor].append(pid)
        first_access: dict[str, date] = {}
        live: dict[str, int] = {v: 0 for v in e.vendors}
        for g in inputs.grants:
            holder = e.principals.get(g["principal"])
            start, end = when(g["starts_at"]), when(g["ends_at"])
            if (
                holder is None
                or holder.vendor is None
                or holder.vendor not in people
                or start is None
                or start > inputs.at
            ):
                continue
            vendor = holder.vendor
            if vendor not in first_access or start.date() < first_access[vendor]:
                first_access[vendor] = start.date()
                indexes += inputs.bound(f"grant:{g['id']}", "access.grant.created")
            if g["status"] == "active" and end is not None and end > inputs.at:
                live[vendor] += 1
        for name, v in sorted(e.vendors.items()):
            seen = first_access.get(name)
            for doc, signed in (("NDA", v.nda_signed), ("DPA", v.dpa_signed)):
                if signed is None and people[name]:
                    items.append({"vendor": name, "problem": f"no {doc} on record"})
                elif signed is not None and seen is not None and signed > seen:
                    items.append(
                        {"vendor": name, "problem": f"{doc} signed {signed}, after access {seen}"}
                    )
            if seen is not None and seen < v.contract_start:
                items.append({"vendor": name, "problem": f"access {seen} before the contract"})
            if v.contract_end < today:
                enabled = [pid for pid in people[name] if not e.principals[pid].disabled]
                if enabled or live[name]:
                    items.append(
                        {
                            "vendor": name,
                            "problem": f"contract ended {v.contract_end} but "
                            f"{len(enabled)} principal(s) enabled, {live[name]} live grant(s)",
                        }
                    )
        figures = {
            "vendors": len(e.vendors),
            "with_access": len(first_access),
            "expired_contracts": sum(1 for v in e.vendors.values() if v.contract_end < today),
            "problems": len(items),
        }
        if items:
            return CheckResult(
                self.name,
                CheckStatus.FAIL,
                f"{plural(len(items), 'vendor problem')}: "
                + first(f"{i['vendor']}: {i['problem']}" for i in items),
                figures,
                ranges_of(indexes),
                items=tuple(items),
            )
        return CheckResult(
            self.name,
            CheckStatus.PASS,
            f"{len(e.vendors)} vendors: NDA and DPA dated on or before first access for all "
            f"{len(first_access)} with access; no expired contract with live access",
            figures,
            ranges_of(indexes),
        )


@register
class AuditLogVerified(Check):
    name = "audit.log_verified"
    title = "The audit log verifies and is covered by signed checkpoints"
    proves = (
        "The hash chain and the RFC 9162 Merkle tree recompute over every event, every stored "
        "checkpoint signature verifies with the log's public key, and signed checkpoints "
        "exist (the events after the newest one are named; a pack signs a fresh one)."
    )
    cannot_prove = (
        "That the operator did not rewrite the whole log and re-sign it with the same key: "
        "only checkpoints held by others (audit.witnessed_checkpoints) catch that."
    )

    def run(self, inputs: EvidenceInputs) -> CheckResult:
        span = inputs.window_events()
        try:
            report = verify_store(inputs.audit, inputs.public_key)
        except KeyMissing as exc:
            return CheckResult(
                self.name,
                CheckStatus.NOT_VERIFIABLE,
                "no public key to check the checkpoint signatures",
                why=exc.message,
            )
        except StagewallError as exc:
            return CheckResult(
                self.name,
                CheckStatus.FAIL,
                f"the audit log does not verify: {exc.message}",
                {"error": exc.code},
            )
        newest = max(report.checkpoints, default=0)
        figures = {
            "events": report.size,
            "root_hash": report.root.hex(),
            "checkpoints": len(report.checkpoints),
            "newest_checkpoint": newest,
            "window_first": span[0] if span else None,
            "window_last": span[1] if span else None,
        }
        events = ranges_of(range(span[0], span[1] + 1)) if span else ()
        if report.size == 0:
            # An empty log verifies trivially: it proves nothing was recorded, not that
            # logging works (`keys init` records the first event of every deployment).
            return CheckResult(
                self.name,
                CheckStatus.NOT_VERIFIABLE,
                "the audit log is empty: nothing was recorded, so nothing is proven",
                figures,
                why="a control plane in use records at least its key creation; an empty log "
                "was never used or was wiped (compare with your witnesses and bundles)",
            )
        if not report.checkpoints:
            return CheckResult(
                self.name,
                CheckStatus.FAIL,
                f"the log is self-consistent ({report.size} events) but no signed checkpoint "
                "exists, so nothing proves it was not rewritten",
                figures,
                events,
            )
        tail = (
            f"; events {newest}..{report.size - 1} await the next checkpoint (a pack signs one)"
            if newest < report.size
            else ""
        )
        return CheckResult(
            self.name,
            CheckStatus.PASS,
            f"{report.size} events verify (chain, tree, {len(report.checkpoints)} signed "
            f"checkpoints, newest at {newest}){tail}",
            figures,
            events,
        )


@register
class WitnessedCheckpoints(Check):
    name = "audit.witnessed_checkpoints"
    title = "Checkpoints cosigned by independent witnesses cover the window"
    proves = (
        "A quorum (audit.witness_quorum) of the configured witnesses, whose keys the operator "
        "does not hold, cosigned (C2SP tlog-cosignature) a checkpoint covering the window's "
        "last event, every stored cosignature verifies, and the log still recomputes every "
        "root a witness cosigned: truncating or rewriting the window would be caught by them."
    )
    cannot_prove = (
        "Anything when no witness is configured; events newer than the last cosignature (they "
        "are named, and fail once older than audit.witness_max_age); that the witnesses are "
        "really independent of the operator (who holds their keys is declared, not measured)."
    )

    def run(self, inputs: EvidenceInputs) -> CheckResult:
        policy = inputs.witness_policy
        if policy is None:
            return CheckResult(
                self.name,
                CheckStatus.NOT_VERIFIABLE,
                "no witness is configured",
                {"witnesses": 0},
                why="no witness key is configured (audit.witnesses in stagewall.yaml, or "
                "--witness-key), so only the operator's own signature covers the log",
            )
        if inputs.public_key is None:
            return CheckResult(
                self.name,
                CheckStatus.NOT_VERIFIABLE,
                "no public key to check the cosigned checkpoints",
                {"witnesses": len(policy.witnesses)},
                why="a cosignature counts only on a checkpoint the log's key signed, and the "
                "log's public key is not available",
            )
        span = inputs.window_events()
        if span is None:
            return CheckResult(
                self.name,
                CheckStatus.NOT_APPLICABLE,
                "no event in the window",
                {"witnesses": len(policy.witnesses)},
                why="the window holds no audit event, so there is nothing to witness",
            )
        needed = span[1] + 1
        figures: dict[str, Any] = {
            "witnesses": len(policy.witnesses),
            "quorum": policy.quorum,
            "window_last": span[1],
        }
        try:
            cosigs = read_cosigned_notes(inputs.newest_cosigned(), inputs.public_key, policy)
            tree = inputs.tree
            if any(c.size > tree.n for c in cosigs):
                tree = ProofMaker(inputs.audit.leaf_hashes())  # the log grew since it was read
            sizes = {c.size for c in cosigs if c.size <= tree.n}
            check_cosigned_roots(cosigs, tree.n, {n: tree.subtree(0, n) for n in sizes})
        except StagewallError as exc:
            return CheckResult(
                self.name,
                CheckStatus.FAIL,
                f"the witnesses contradict the log: {exc.message}",
                {**figures, "error": exc.code},
            )
        newest: dict[str, int] = {}
        for c in cosigs:
            newest[c.witness] = max(newest.get(c.witness, 0), c.size)
        figures["cosignatures"] = len(cosigs)
        figures["newest_cosigned"] = dict(sorted(newest.items()))
        covering = sorted(w for w, n in newest.items() if n >= needed)
        if len(covering) >= policy.quorum:
            covered = sorted(newest.values(), reverse=True)[policy.quorum - 1]
            return CheckResult(
                self.name,
                CheckStatus.PASS,
                f"{plural(len(covering), 'witness', 'witnesses')} ({first(covering)}) cosigned "
                f"the log up to {covered} events, covering the window (quorum {policy.quorum})",
                {**figures, "covered_size": covered},
            )
        ranked = sorted(newest.values(), reverse=True)
        covered = ranked[policy.quorum - 1] if len(ranked) >= policy.quorum else 0
        figures["covered_size"] = covered
        gap = range(covered, needed)
        oldest = parse_stamp(inputs.events[covered].time) if covered < len(inputs.events) else None
        due = inputs.at - policy.max_age
        if oldest is not None and oldest > due:
            return CheckResult(
                self.name,
                CheckStatus.NOT_VERIFIABLE,
                f"events {gap.start}..{gap.stop - 1} await a witness quorum",
                figures,
                ranges_of(gap),
                why=f"the events since {covered} are younger than audit.witness_max_age "
                f"({policy.max_age}); the server sends a checkpoint to the witnesses every "
                "minute, so check again later",
            )
        return CheckResult(
            self.name,
            CheckStatus.FAIL,
            f"events {gap.start}..{gap.stop - 1} of the window were not cosigned by "
            f"{policy.quorum} witness(es) within {policy.max_age}"
            + (
                f" (newest cosigned: {first(f'{w} at {n}' for w, n in newest.items())})"
                if newest
                else " (no cosignature at all)"
            ),
            figures,
            ranges_of(gap),
        )


# How old, at the window's end, the newest scan may be and still count: configuration
# changes weekly; a month-old scan is the oldest that can stand for it (SOC 2 CC7.1 and
# ISO 27001 A.8.8 ask for regular scanning; monthly is the usual minimum).
SCAN_MAX_AGE = timedelta(days=30)


def _scan_suppressions(details: Mapping[str, Any]) -> tuple[int, dict[str, dict[str, int]], str]:
    """How many findings the scan suppressed, per rule and by what, and a sentence.

    A scan recorded before the per-rule counts existed says only its total: the sentence
    then says the rules are unknown, never that nothing was suppressed."""
    try:
        total = int(details.get("suppressed") or 0)
    except (TypeError, ValueError):
        total = 0
    raw = details.get("suppressed_by_rule")
    by_rule: dict[str, dict[str, int]] = {}
    if isinstance(raw, Mapping):
        for rule, by in raw.items():
            if isinstance(by, Mapping):
                counts = {str(k): int(v) for k, v in by.items() if isinstance(v, int) and v > 0}
                if counts:
                    by_rule[str(rule)] = counts
    if not total and not by_rule:
        return 0, {}, "0 findings suppressed"
    if not by_rule:
        return (
            total,
            {},
            (
                f"{plural(total, 'finding')} suppressed (the scan did not record which rules: "
                "scan again with this version)"
            ),
        )
    count = max(total, sum(sum(by.values()) for by in by_rule.values()))
    return count, by_rule, f"{plural(count, 'finding')} suppressed: {suppressed_line(by_rule)}"


@register
class ScanClean(Check):
    name = "scan.no_high_findings"
    title = "The latest configuration scan has no open high finding"
    proves = (
        "The newest `stagewall scan` recorded in the window by a declared scan reporter "
        "(scan.reporters), at most 30 days before the window's end, found no open "
        "(unsuppressed) finding of high severity in the configuration it read."
    )
    cannot_prove = "Configuration the scan did not read; the scanned paths are hashed, not listed."

    def run(self, inputs: EvidenceInputs) -> CheckResult:
        reporters = set(inputs.estate.scan.reporters)
        recorded = [
            (row, d)
            for row, d in inputs.details_of(["scan.run.completed"])
            if inputs.in_window(row)
        ]
        scans = [(row, d) for row, d in recorded if row.actor in reporters]
        others = sorted({row.actor for row, _ in recorded if row.actor not in reporters})
        if not scans:
            why = "no `stagewall scan` with a store was recorded in the window"
            if others:
                why = (
                    f"the window's scans were recorded by {first(others)}, whom "
                    "scan.reporters does not name; declare the CI's scan actor there"
                )
            return CheckResult(
                self.name,
                CheckStatus.NOT_VERIFIABLE,
                "no scan by a declared scan reporter in the window",
                {"scans": 0, "scans_by_undeclared_actors": len(recorded)},
                ranges_of([r.index for r, _ in recorded]),
                why=why,
            )
        row, details = scans[-1]
        age = inputs.at - (parse_stamp(row.time) or inputs.window.start)
        if age > SCAN_MAX_AGE:
            return CheckResult(
                self.name,
                CheckStatus.NOT_VERIFIABLE,
                f"the latest scan (event {row.index}) is {age.days} days older than the "
                "window's end",
                {"scans": len(scans), "latest_scan_event": row.index, "age_days": age.days},
                ranges_of([r.index for r, _ in scans]),
                why=f"the newest declared scan is older than {SCAN_MAX_AGE.days} days at the "
                "window's end, so it says nothing of the configuration now; scan again",
            )
        sev = dict(details.get("counts_by_severity") or {})
        high = int(sev.get("high", 0))
        figures = {
            "scans": len(scans),
            "latest_scan_event": row.index,
            "files_scanned": details.get("files_scanned"),
            "high": high,
            "medium": int(sev.get("medium", 0)),
            "low": int(sev.get("low", 0)),
            "unencrypted_connections": int(
                dict(details.get("counts_by_rule") or {}).get("SW-SCAN-005", 0)
            ),
        }
        if high == 0 and not int(details.get("files_scanned") or 0):
            return CheckResult(
                self.name,
                CheckStatus.NOT_VERIFIABLE,
                f"the latest scan (event {row.index}) read no file",
                figures,
                ranges_of([r.index for r, _ in scans]),
                why="the newest scan of the window read no file, so it found nothing because "
                "it looked at nothing; scan the configuration (stagewall scan PATH)",
            )
        suppressed, by_rule, note = _scan_suppressions(details)
        figures["suppressed"] = suppressed
        figures["suppressed_by_rule"] = by_rule
        status = CheckStatus.FAIL if high else CheckStatus.PASS
        return CheckResult(
            self.name,
            status,
            f"latest scan (event {row.index}): {high} open high, {figures['medium']} medium, "
            f"{figures['low']} low findings in {figures['files_scanned']} files; {note}",
            figures,
            ranges_of([r.index for r, _ in scans]),
        )


def _monitoring_suppressions(
    inputs: EvidenceInputs,
) -> tuple[int, dict[str, dict[str, int]], list[int]]:
    """Findings monitoring.suppress silenced in the window, per rule and per entry, from the
    `monitoring.ingest.batch` events (every rule's: the findings of most rules are not
    recorded one by one when suppressed), and the events that say so."""
    total = 0
    by_rule: dict[str, dict[str, int]] = {}
    cited: list[int] = []
    for row, details in inputs.details_of(["monitoring.ingest.batch"]):
        raw = details.get("suppressed_by_rule")
        if not inputs.in_window(row) or not isinstance(raw, Mapping):
            continue
        for rule, per in raw.items():
            if not isinstance(per, Mapping):
                continue
            for by, n in per.items():
                if isinstance(n, int) and n > 0:
                    got = by_rule.setdefault(str(rule), {})
                    got[str(by)] = got.get(str(by), 0) + n
                    total += n
                    if not cited or cited[-1] != row.index:
                        cited.append(row.index)
    return total, dict(sorted(by_rule.items())), cited


@register
class Alerting(Check):
    name = "monitoring.alerting"
    title = "Alerts reach someone and none was lost in the window"
    proves = (
        "At least one alert sink is configured (break-glass, refused attempts by externals "
        "and unverified revocations alert it) and no alert delivery failed in the window."
    )
    cannot_prove = "That someone read and triaged the alerts."

    def run(self, inputs: EvidenceInputs) -> CheckResult:
        failed = [
            e.index
            for e in inputs.events
            if e.code == "alert.delivery.failed" and inputs.in_window(e)
        ]
        refused = sum(1 for e in inputs.events if e.status == "Failure" and inputs.in_window(e))
        silenced, by_rule, batches = _monitoring_suppressions(inputs)
        figures = {
            "sinks": len(inputs.estate.alerts),
            "delivery_failures": len(failed),
            "refusals_recorded": refused,
            "suppressed_findings": silenced,
            "suppressed_by_rule": by_rule,
        }
        note = (
            f"; {plural(silenced, 'finding')} silenced by monitoring.suppress: "
            + suppressed_line(by_rule)
            if silenced
            else ""
        )
        if not inputs.estate.alerts:
            return CheckResult(
                self.name,
                CheckStatus.FAIL,
                f"no alert sink is configured: break-glass and refused attempts alert nobody{note}",
                figures,
                ranges_of(batches),
            )
        if failed:
            return CheckResult(
                self.name,
                CheckStatus.FAIL,
                f"{plural(len(failed), 'alert')} could not be delivered in the window{note}",
                figures,
                ranges_of(failed + batches),
            )
        return CheckResult(
            self.name,
            CheckStatus.PASS,
            f"{plural(len(inputs.estate.alerts), 'alert sink')}; 0 delivery failures; "
            f"{refused} refused attempts recorded in the window{note}",
            figures,
            ranges_of(batches),
        )


class _Attested(Check):
    """A control only a person can confirm: MANUAL with the newest attestation, if current."""

    max_age = timedelta(days=366)

    def run(self, inputs: EvidenceInputs) -> CheckResult:
        mine = [a for a in inputs.attestations if a.check == self.name and a.on <= inputs.at.date()]
        if not mine:
            return CheckResult(
                self.name,
                CheckStatus.NOT_VERIFIABLE,
                "not attested",
                why="this control needs an attestation by a named internal person "
                "(evidence attestations file); none was given",
            )
        latest = max(mine, key=lambda a: a.on)
        if inputs.at.date() - latest.on > self.max_age:
            return CheckResult(
                self.name,
                CheckStatus.NOT_VERIFIABLE,
                f"the attestation by {latest.by} of {latest.on} is older than a year",
                why="attestations hold for one year; ask for a new one",
            )
        return CheckResult(
            self.name,
            CheckStatus.MANUAL,
            f"attested by {latest.by} on {latest.on}: {latest.statement}",
            {"attested_by": latest.by, "attested_on": latest.on.isoformat()},
            attestation=latest,
        )


@register
class AccessPolicy(_Attested):
    name = "policy.access_control"
    title = "An approved access-control policy covers external parties"
    proves = "A named person confirmed the access-control policy is approved and current."
    cannot_prove = "Anything measurable; the stagewall.yaml rules in force are the measured part."


@register
class SupplierReview(_Attested):
    name = "vendors.periodic_review"
    title = "Suppliers' security is reviewed periodically"
    proves = "A named person confirmed the periodic review of each vendor's security took place."
    cannot_prove = "The quality of the review."


@register
class SourceProtection(_Attested):
    name = "source.repository_protection"
    title = "Source repositories restrict who can write the main branch"
    proves = "A named person confirmed branch protection and repository permissions."
    cannot_prove = (
        "Repository settings are not read by stagewall; the promotion gate measures what "
        "reaches production regardless of them."
    )


__all__ = [
    "AccessPolicy",
    "Alerting",
    "AuditLogVerified",
    "ScanClean",
    "SourceProtection",
    "SupplierReview",
    "VendorAgreements",
    "WitnessedCheckpoints",
]
