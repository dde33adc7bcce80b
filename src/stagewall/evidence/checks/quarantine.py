"""The 24 h quarantine of a new factor (a reset, or a first factor through an invitation).

What the server enforces (``stagewall.identity.accounts.quarantine_until`` and its
callers), restated over the audit log's own events and times, never the store's rows:

* two events start a quarantine of :data:`RESET_QUARANTINE` for ``principal:<name>``:
  another person's ``mfa.reset`` of its factor, and ``identity.invitation.accepted``
  (its first factor enrolled through an invitation) unless the host's operator made
  the link (``invited_by: server-operator``, which starts none: whoever runs
  ``stagewall server invite`` holds the store and every key already);
* during it the principal approves nothing: the acts in :data:`QUARANTINED_ACTS`, and a
  campaign decision other than ``revoke`` (revoking stays open: it only takes access
  away).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from stagewall.estate.models import HOST_OPERATOR
from stagewall.evidence._inputs import EventRow, EvidenceInputs
from stagewall.evidence._model import CheckResult, CheckStatus, ranges_of
from stagewall.evidence._registry import Check, register
from stagewall.evidence.checks._util import REVIEW_RECORDED, first, plural, when
from stagewall.identity.accounts import RESET_QUARANTINE

MFA_RESET = "mfa.reset"
INVITATION_ACCEPTED = "identity.invitation.accepted"
CAMPAIGN_DECIDED = "access.campaign.decided"
# Every act the server refuses to a quarantined principal (factor_reset_problem's callers).
QUARANTINED_ACTS = (
    REVIEW_RECORDED,
    CAMPAIGN_DECIDED,  # a "keep"; a "revoke" is allowed (see _allowed)
    "access.breakglass.used",
    "access.followup.completed",
    "gate.promotion.approved",
    "gate.promotion.break_glass",
    "gate.followup.reviewed",
    "masking.plan.reviewed",
    "identity.invitation.created",
    MFA_RESET,
)
STARTS = (MFA_RESET, INVITATION_ACCEPTED)
_WHY = {MFA_RESET: "the reset of its MFA factor", INVITATION_ACCEPTED: "its invitation"}


def _allowed(code: str, details: dict[str, Any]) -> bool:
    """Revoking in an access review stays open during the quarantine; anything else
    (a keep, or a decision the event does not name) is an approval."""
    return code == CAMPAIGN_DECIDED and details.get("decision") == "revoke"


@register
class MfaResetQuarantine(Check):
    name = "access.mfa_reset_quarantine"
    title = "Nobody approved or acted with privilege within 24 h of a new MFA factor"
    proves = (
        "No approval (access request, promotion, masking plan), access-review keep, "
        "break-glass use, follow-up review, invitation or MFA reset recorded in the window "
        "was made by a principal within 24 h after another person reset that principal's "
        "MFA factor or after its first factor was enrolled through an invitation that "
        "someone other than the server's host operator created (read from the audit log's "
        "`mfa.reset` and `identity.invitation.accepted` events and the acts' own events, "
        "not from the store)."
    )
    cannot_prove = (
        "That the person who asked for the reset, or opened the invitation, was the "
        "principal; factors enrolled while signed in through the identity provider, and "
        "invitations made on the server host (`server-operator`), which the server does "
        "not quarantine."
    )

    def run(self, inputs: EvidenceInputs) -> CheckResult:
        starts: dict[str, list[tuple[datetime, int, str]]] = {}
        counted = {MFA_RESET: 0, INVITATION_ACCEPTED: 0, HOST_OPERATOR: 0}
        acts: list[EventRow] = []
        allowed = 0
        # only these two need their details (a log holds many reviews: not parsed here)
        detailed = {
            ev.index: details
            for ev, details in inputs.details_of([INVITATION_ACCEPTED, CAMPAIGN_DECIDED])
        }
        wanted = {*STARTS, *QUARANTINED_ACTS}
        for ev in inputs.events:
            if ev.code not in wanted or ev.status != "Success" or not inputs.until_at(ev):
                continue
            details = detailed.get(ev.index, {})
            if ev.code in STARTS and (ev.resource or "").startswith("principal:"):
                at = when(ev.time)
                if ev.code == INVITATION_ACCEPTED and details.get("invited_by") == HOST_OPERATOR:
                    counted[HOST_OPERATOR] += inputs.in_window(ev)
                elif at is not None:
                    who = (ev.resource or "").removeprefix("principal:")
                    starts.setdefault(who, []).append((at, ev.index, ev.code))
                    counted[ev.code] += inputs.in_window(ev)
            if ev.code in QUARANTINED_ACTS and inputs.in_window(ev):
                if _allowed(ev.code, details):
                    allowed += 1
                else:
                    acts.append(ev)
        items: list[dict[str, Any]] = []
        indexes: list[int] = []
        for act in acts:
            done = when(act.time)
            for at, start_index, code in starts.get(act.actor, []):
                if done is None or act.index < start_index:
                    continue
                if at <= done < at + RESET_QUARANTINE:
                    indexes += [start_index, act.index]
                    items.append(
                        {
                            "principal": act.actor,
                            "problem": f"{act.code} (audit event {act.index}) "
                            f"{_hours(done - at)} after {_WHY[code]} (audit event {start_index})",
                        }
                    )
                    break
        figures = {
            "resets": counted[MFA_RESET],
            "invitations": counted[INVITATION_ACCEPTED],
            "invitations_by_host_operator": counted[HOST_OPERATOR],
            "acts": len(acts),
            "revokes_allowed": allowed,
            "problems": len(items),
        }
        if items:
            return CheckResult(
                self.name,
                CheckStatus.FAIL,
                f"{plural(len(items), 'act')} within 24 h of the actor's MFA factor reset or "
                f"invitation: {first(str(i['principal']) for i in items)}",
                figures,
                ranges_of(indexes),
                items=tuple(items),
            )
        return CheckResult(
            self.name,
            CheckStatus.PASS,
            f"{plural(counted[MFA_RESET], 'MFA factor reset')} and "
            f"{plural(counted[INVITATION_ACCEPTED], 'quarantining invitation')} "
            f"({counted[HOST_OPERATOR]} more by the host operator, which the server does not "
            "quarantine) in the window; none followed by an approval or privileged act of the "
            "principal within 24 h",
            figures,
            ranges_of([i for v in starts.values() for _, i, _ in v]),
        )


def _hours(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min"


__all__ = ["QUARANTINED_ACTS", "MfaResetQuarantine"]
