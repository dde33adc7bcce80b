"""Answers computed from the checks: Yes/No/Partial, a paragraph from the figures,
provenance (check ids, evidence hashes, as-of time) and a confidence label."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stagewall.evidence._model import CheckResult, CheckStatus, Evaluation, fmt_utc


class Value(enum.StrEnum):
    YES = "Yes"
    NO = "No"
    PARTIAL = "Partial"


class Confidence(enum.StrEnum):
    MEASURED = "measured"  # computed from the store, the log or a scan
    ATTESTED = "attested"  # a named person's attestation
    DOCUMENT = "document"  # only the declared configuration (stagewall.yaml) backs it


@dataclass(frozen=True)
class Answer:
    topic: str
    value: Value
    text: str
    checks: tuple[str, ...]
    evidence: tuple[str, ...]
    as_of: str
    confidence: Confidence

    def provenance(self) -> str:
        pairs = ", ".join(
            f"{c} ({h[:19]}…)" for c, h in zip(self.checks, self.evidence, strict=True)
        )
        return f"as of {self.as_of}; checks: {pairs}"

    def to_json(self) -> dict[str, Any]:
        return {
            "topic": self.topic,
            "answer": self.value.value,
            "text": self.text,
            "checks": list(self.checks),
            "evidence": list(self.evidence),
            "as_of": self.as_of,
            "confidence": self.confidence.value,
        }


def _confidence(results: list[CheckResult]) -> Confidence:
    statuses = {r.status for r in results}
    if CheckStatus.NOT_VERIFIABLE in statuses:
        return Confidence.DOCUMENT
    if CheckStatus.MANUAL in statuses:
        return Confidence.ATTESTED
    return Confidence.MEASURED


def _all(results: list[CheckResult], status: CheckStatus) -> bool:
    return all(r.status is status for r in results)


def _any(results: list[CheckResult], status: CheckStatus) -> bool:
    return any(r.status is status for r in results)


def _days(ev: Evaluation) -> int:
    return max(1, round((ev.window.end - ev.window.start).total_seconds() / 86400))


Composer = Callable[[Evaluation], tuple[Value, str, list[str]]]


def _third_party(ev: Evaluation) -> tuple[Value, str, list[str]]:
    ext, bg = ev.get("access.external_production"), ev.get("access.break_glass_followup")
    f, b = ext.figures, bg.figures
    lead = (
        f"As of {fmt_utc(ev.at)}, {f['intersections']} of {f['external_identities']} external "
        f"identities hold or can request any production permission "
        f"({f['production_resources']} production resources)."
    )
    tail = (
        f" {b['uses']} break-glass use(s) by internal staff in the last {_days(ev)} days, "
        f"{b['followed_up_on_time']} followed up within 24 hours."
    )
    if ext.status is CheckStatus.FAIL:
        return Value.YES, f"Yes. {lead} {ext.summary}.{tail}", [ext.check, bg.check]
    return (
        Value.NO,
        f"No. {lead} Externals work only outside production.{tail}",
        [
            ext.check,
            bg.check,
        ],
    )


def _sod(ev: Evaluation) -> tuple[Value, str, list[str]]:
    pr, ap = ev.get("gates.production_promotions"), ev.get("access.production_approvals")
    rs = [pr, ap]
    if pr.status is CheckStatus.NOT_VERIFIABLE:
        return (
            Value.PARTIAL,
            f"Partially. Production access needs independent approval ({ap.summary}); {pr.why}",
            [pr.check, ap.check],
        )
    f = pr.figures
    text = (
        f"In the last {_days(ev)} days {f['production_deployments']} production deployments "
        f"were made; {f['independently_approved']} were approved, with MFA, by an internal "
        f"person who neither submitted nor authored the change, and {f['break_glass']} were "
        f"emergency changes reviewed afterwards. Production access: {ap.summary}."
    )
    if _any(rs, CheckStatus.FAIL):
        failing = pr.summary if pr.status is CheckStatus.FAIL else ap.summary
        return (
            Value.PARTIAL,
            f"Partially. {text} Exceptions: {failing}.",
            [pr.check, ap.check],
        )
    return Value.YES, f"Yes. {text}", [pr.check, ap.check]


def _mfa(ev: Evaluation) -> tuple[Value, str, list[str]]:
    ap, pr = ev.get("access.production_approvals"), ev.get("gates.production_promotions")
    q = ev.get("access.mfa_reset_quarantine")
    text = (
        "stagewall requires a TOTP second factor for every approval of production access, "
        "every break-glass use, every issue of production credentials and every approval of "
        "a production deployment, and a reset factor approves nothing for 24 h. Measured: "
        f"{ap.summary}; {pr.summary}; {q.summary}."
    )
    checks = [ap.check, pr.check, q.check]
    if _any([ap, pr, q], CheckStatus.FAIL):
        return Value.PARTIAL, f"Partially. {text}", checks
    return Value.YES, f"Yes. {text}", checks


def _reviews(ev: Evaluation) -> tuple[Value, str, list[str]]:
    r = ev.get("access.review_campaigns")
    if r.status is CheckStatus.PASS:
        return Value.YES, f"Yes, at least quarterly. {r.summary}.", [r.check]
    return Value.PARTIAL, f"Partially. {r.summary}.", [r.check]


def _test_data(ev: Evaluation) -> tuple[Value, str, list[str]]:
    m, s = ev.get("masking.verified_runs"), ev.get("separation.resource_identity")
    if s.status is CheckStatus.FAIL:
        # a non-production resource that is a production server holds production data
        # whatever the masking runs did
        return (
            Value.PARTIAL,
            f"Partially. Resource separation: {s.summary}. Masking: {m.summary}.",
            [m.check, s.check],
        )
    if m.status is CheckStatus.PASS:
        return (
            Value.YES,
            (
                "Yes. Production data reaches non-production only as a masked copy whose "
                f"verification found no production value. {m.summary}. "
                f"Resource separation: {s.summary}."
            ),
            [m.check, s.check],
        )
    if m.status is CheckStatus.FAIL:
        return Value.PARTIAL, f"Partially. {m.summary}.", [m.check, s.check]
    return Value.PARTIAL, f"Partially. {m.why}", [m.check, s.check]


def _logging(ev: Evaluation) -> tuple[Value, str, list[str]]:
    a, m = ev.get("audit.log_verified"), ev.get("monitoring.alerting")
    text = (
        "Every access request, approval, grant, revocation, data copy and promotion is recorded "
        f"in a hash-chained, Merkle-tree audit log with signed checkpoints. {a.summary}. "
        f"Alerting: {m.summary}."
    )
    if a.status is CheckStatus.PASS and m.status is CheckStatus.PASS:
        return Value.YES, f"Yes. {text}", [a.check, m.check]
    return Value.PARTIAL, f"Partially. {text}", [a.check, m.check]


def _transit(ev: Evaluation) -> tuple[Value, str, list[str]]:
    s = ev.get("scan.no_high_findings")
    if s.status is CheckStatus.NOT_VERIFIABLE:
        return Value.PARTIAL, f"Partially: not measured. {s.why}", [s.check]
    n = int(s.figures.get("unencrypted_connections") or 0)
    if n == 0:
        return (
            Value.YES,
            (
                f"Yes. The latest configuration scan found 0 unencrypted connections "
                f"(TLS disabled or plain-text URLs) in {s.figures.get('files_scanned')} files."
            ),
            [s.check],
        )
    return (
        Value.PARTIAL,
        f"Partially. The latest scan found {n} unencrypted connection(s).",
        [s.check],
    )


def _vendors(ev: Evaluation) -> tuple[Value, str, list[str]]:
    v = ev.get("vendors.agreements")
    if v.status is CheckStatus.PASS:
        return Value.YES, f"Yes. {v.summary}.", [v.check]
    if v.status is CheckStatus.NOT_APPLICABLE:
        return Value.YES, f"Yes; not applicable: {v.why}.", [v.check]
    return Value.PARTIAL, f"Partially. {v.summary}.", [v.check]


def _alerting(ev: Evaluation) -> tuple[Value, str, list[str]]:
    m, b = ev.get("monitoring.alerting"), ev.get("access.break_glass_followup")
    text = (
        "Break-glass use, refused attempts by external identities and unverified revocations "
        f"raise alerts at once. {m.summary}. {b.summary}."
    )
    if m.status is CheckStatus.PASS and b.status is CheckStatus.PASS:
        return Value.YES, f"Yes. {text}", [m.check, b.check]
    return Value.PARTIAL, f"Partially. {text}", [m.check, b.check]


def _separation(ev: Evaluation) -> tuple[Value, str, list[str]]:
    x, s, sc = (
        ev.get("access.external_production"),
        ev.get("separation.resource_identity"),
        ev.get("scan.no_high_findings"),
    )
    rs = [x, s, sc]
    text = f"{x.summary}. {s.summary}. Configuration scan: {sc.summary}."
    if _all(rs, CheckStatus.PASS):
        return Value.YES, f"Yes. {text}", [x.check, s.check, sc.check]
    return Value.PARTIAL, f"Partially. {text}", [x.check, s.check, sc.check]


COMPOSERS: dict[str, Composer] = {
    "third_party_production_access": _third_party,
    "deployment_separation_of_duties": _sod,
    "mfa": _mfa,
    "access_reviews": _reviews,
    "test_data": _test_data,
    "logging_monitoring": _logging,
    "encryption_in_transit": _transit,
    "vendor_contracts": _vendors,
    "incident_alerting": _alerting,
    "environment_separation": _separation,
}


# Checks over a population of events in the window, and the figure that counts it.
# An answer resting only on such checks, each of which saw no event, observed nothing:
# "0 of 0 approved with MFA" is true of any configuration.
POPULATIONS = {
    "access.production_approvals": ("production_grants", "production grant"),
    "gates.production_promotions": ("production_deployments", "production deployment"),
    "access.break_glass_followup": ("uses", "break-glass use"),
    "access.mfa_reset_quarantine": ("acts", "approval or privileged act"),
}


def _unobserved(results: list[CheckResult]) -> list[str] | None:
    """The kinds of event none of which occurred, when every one of ``results`` is a
    population check that saw none; else None."""
    kinds: list[str] = []
    for r in results:
        counted = POPULATIONS.get(r.check)
        if counted is None or r.status is not CheckStatus.PASS:
            return None
        if int(r.figures.get(counted[0]) or 0) != 0:
            return None
        kinds.append(counted[1])
    return kinds or None


def answer(topic: str, ev: Evaluation) -> Answer:
    value, text, checks = COMPOSERS[topic](ev)
    results = [ev.get(c) for c in checks]
    confidence = _confidence(results)
    unobserved = _unobserved(results)
    if unobserved is not None:
        confidence = Confidence.DOCUMENT
        text += (
            f" No {' and no '.join(unobserved)} occurred in the window, so nothing was "
            "observed in operation: this answer rests on the configuration."
        )
    return Answer(
        topic=topic,
        value=value,
        text=text,
        checks=tuple(checks),
        evidence=tuple(r.evidence_hash() for r in results),
        as_of=fmt_utc(ev.at),
        confidence=confidence,
    )


__all__ = ["COMPOSERS", "Answer", "Confidence", "Value", "answer"]
