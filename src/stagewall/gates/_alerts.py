"""The loud part of break-glass: an alert to every sink in the estate's ``alerts:``."""

from __future__ import annotations

import dataclasses

from stagewall.alerts import Alert, AlertDispatcher, Severity, sinks_from_config
from stagewall.audit import Status
from stagewall.gates import _events as ev
from stagewall.gates.promotions import Gate, Promotion
from stagewall.redact import redact, redact_tree


def alert_break_glass(gate: Gate, promo: Promotion) -> list[str]:
    """Send the alert; return delivery failures (also recorded in the audit log)."""
    sinks = sinks_from_config(gate.estate.alerts, base_dir=gate.loaded.path.parent)
    alert = Alert(
        kind="gate.break_glass",
        title=f"BREAK-GLASS promotion to {promo.stage} by {promo.submitter}",
        text=(
            f"{promo.submitter} promoted {promo.sha[:12]} ({promo.digest}) to {promo.stage} "
            f"without approval: {promo.reason}. A follow-up review by another internal person "
            f"is due within 24 hours: stagewall gate approve {promo.id}"
        ),
        severity=Severity.CRITICAL,
        details={
            "promotion": promo.id,
            "stage": promo.stage,
            "sha": promo.sha,
            "digest": promo.digest,
        },
    )
    alert = dataclasses.replace(
        alert,
        title=redact(alert.title),
        text=redact(alert.text),
        details=redact_tree(dict(alert.details)),
    )
    failures = [f"{f.sink}: {f.error}" for f in AlertDispatcher(sinks).send(alert)]
    if not sinks:
        failures.append("no alert sinks are configured (alerts: in stagewall.yaml)")
    gate.log.append(
        ev.event(
            ev.BREAK_GLASS.code,
            Status.FAILURE if failures else Status.SUCCESS,
            promo.submitter,
            f"break-glass alert for {promo.id}: "
            + ("not delivered everywhere" if failures else f"sent to {len(sinks)} sink(s)"),
            f"promotion:{promo.id}",
            {"promotion": promo.id, "severity": "critical", "alert_failures": failures},
        )
    )
    return failures


def alert_unbound(
    gate: Gate,
    actor: str,
    promotion: str,
    problems: list[str],
    *,
    found_by: str = "gate check",
    held_back: int = 0,
) -> None:
    """A promotion or approval row has no creating event: record it and alert loudly.

    ``found_by``: the reader that found it (``gate check`` refuses it; a listing shows
    the promotion as unverified); ``held_back``: reports the caller's rate limit held
    back since its last one (said in this one, so nothing is silently lost)."""
    text = (
        f"promotion {promotion}: rows not bound to their audit events were refused "
        f"({found_by}): " + "; ".join(problems)
    )
    if held_back:
        text += f". {held_back} more report(s) were not made (rate limit)."
    details: dict[str, object] = {
        "promotion": promotion,
        "problems": problems,
        "severity": "critical",
    }
    if found_by != "gate check":
        details |= {"found_by": found_by, "reports_held_back": held_back}
    gate.log.append(
        ev.event(
            ev.ROW_UNBOUND.code,
            Status.FAILURE,
            actor,
            text,
            f"promotion:{promotion}",
            details,
        )
    )
    sinks = sinks_from_config(gate.estate.alerts, base_dir=gate.loaded.path.parent)
    AlertDispatcher(sinks).send(
        Alert(
            kind="gate.row.unbound",
            title=f"promotion {promotion}: state not bound to the audit log",
            text=text,
            severity=Severity.CRITICAL,
            details={"promotion": promotion, "problems": problems, "found_by": found_by},
        )
    )
