"""Promotion values and approver rules, shared by submit/approve and ``gate check``.

A promotion is a request of kind ``promotion`` in the request/review/threshold core
shared with production access (``stagewall.access._core``). :class:`PromotionKind`
is what promotions bring to that core: their threshold and who may review them.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select

from stagewall.access._core import Request, Review, ThresholdRule
from stagewall.access._tables import access_offboarded, access_requests
from stagewall.access.binding import logged_offboarded
from stagewall.errors import ConfigError, UsageError
from stagewall.estate import Estate, PrincipalKind, Stage
from stagewall.gates.identities import Authorship, Contribution, resolve

KIND = "promotion"
PENDING_TTL = timedelta(days=14)
FOLLOWUP_WINDOW = timedelta(hours=24)
BREAK_GLASS_TTL = timedelta(days=365)
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


def now_utc() -> datetime:
    return datetime.now(UTC)


def check_digest(value: str) -> str:
    v = value.strip()
    if not _DIGEST.match(v):
        raise UsageError(
            f"--artifact {value!r} is not sha256:<64 lower-case hex digits>",
            hint="pass the artifact's digest, e.g. sha256:$(sha256sum app.tar | cut -c1-64)",
        )
    return v


# The columns of a promotion's request row that its submission event pins by digest.
_REQUEST_FIELDS = (
    "id",
    "kind",
    "requester",
    "subject",
    "details",
    "reason",
    "ticket",
    "requested_seconds",
    "created_at",
    "expires_at",
)


def request_digest(conn: Connection, request_id: str) -> str | None:
    """``sha256:`` of the promotion's request row as stored (None: there is no row).

    The submission event records it, and ``gate check`` compares: the row holds what the
    promotion is judged by (its submitter, its authors, whether signatures were verified,
    when it was submitted), so a row edited in the store must not count."""
    row = conn.execute(select(access_requests).where(access_requests.c.id == request_id)).first()
    if row is None:
        return None
    values = {name: row._mapping[name] for name in _REQUEST_FIELDS}
    body = json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest()


def find_stage(estate: Estate, name: str) -> tuple[int, Stage]:
    for i, s in enumerate(estate.stages):
        if s.name == name:
            return i, s
    known = ", ".join(s.name for s in estate.stages) or "none declared"
    raise ConfigError(
        f"there is no stage {name!r} in the estate file (stages: {known})",
        hint="declare it under stages: in stagewall.yaml",
    )


def reporter_problem(estate: Estate, stage: Stage, reporter: str) -> str | None:
    """Why ``reporter`` may not report ``stage``'s checks now (None: they may).

    Only an internal, enabled service principal (CI) reports checks; where the stage
    declares ``check_reporters``, only one it names."""
    p = estate.principals.get(reporter)
    if (
        p is None
        or p.disabled
        or p.kind is not PrincipalKind.SERVICE
        or not estate.is_internal(reporter)
    ):
        return f"{reporter!r} may not report checks: only internal service principals (CI) can"
    if stage.check_reporters is not None and reporter not in estate.expand(stage.check_reporters):
        named = ", ".join(stage.check_reporters) or "nobody"
        return (
            f"{reporter!r} may not report checks of stage {stage.name!r}: its "
            f"check_reporters are {named}"
        )
    return None


@dataclass(frozen=True)
class Promotion:
    """A submitted promotion, as stored."""

    id: str
    stage: str
    environment: str
    sha: str
    digest: str
    submitter: str
    break_glass: bool
    reason: str
    created_at: datetime
    base: str | None
    commits: int
    contributions: tuple[Contribution, ...]
    rules_hash: str
    signed_verified: bool

    @classmethod
    def from_request(cls, req: Request) -> Promotion:
        d = req.details
        return cls(
            id=req.id,
            stage=str(d["stage"]),
            environment=str(d["environment"]),
            sha=str(d["sha"]),
            digest=str(d["digest"]),
            submitter=req.requester,
            break_glass=bool(d["break_glass"]),
            reason=req.reason,
            created_at=req.created_at,
            base=d.get("base"),
            commits=int(d["commits"]),
            contributions=tuple(Contribution.from_dict(c) for c in d["contributions"]),
            rules_hash=str(d["rules_hash"]),
            signed_verified=bool(d.get("signed_verified", False)),
        )

    def authorship(self, estate: Estate) -> Authorship:
        return resolve(estate, self.contributions)


class PromotionKind:
    """The rules promotions bring to the request/review core."""

    name = KIND

    def __init__(self, estate: Estate) -> None:
        self.estate = estate

    def stage(self, promo: Promotion) -> Stage:
        return find_stage(self.estate, promo.stage)[1]

    def rule(self, request: Request) -> ThresholdRule:
        promo = Promotion.from_request(request)
        if promo.break_glass:
            return ThresholdRule(1)
        st = self.stage(promo)
        rule = self.estate.approval_rules.get(st.approval or "")
        if rule is None:
            return ThresholdRule(1)
        return ThresholdRule(rule.approvals, tuple(rule.from_groups))

    def reviewer_problem(self, request: Request, reviewer: str) -> str | None:
        return approver_problem(self.estate, Promotion.from_request(request), reviewer)

    def on_approved(
        self, conn: Connection, request: Request, reviews: Sequence[Review], now: datetime
    ) -> str:
        return request.id


def submitter_problem(
    estate: Estate, conn: Connection, promo: Promotion, now: datetime
) -> str | None:
    """Why a promotion no longer counts because of who submitted it (None: it counts).

    A vendor's people hold their pending promotions like their grants: offboarding the
    vendor (often after an incident) or the end of its contract ends them, so a change
    in flight does not ship on the word of someone who is gone. An internal person may
    submit the change again and vouch for it."""
    p = estate.principals.get(promo.submitter)
    if p is None or p.vendor is None:
        return None
    v = estate.vendors.get(p.vendor)
    why: str | None = None
    if v is None:
        why = f"its vendor {p.vendor!r} is no longer declared"
    elif conn.execute(
        select(access_offboarded.c.vendor).where(access_offboarded.c.vendor == p.vendor)
    ).first() is not None or p.vendor in logged_offboarded(conn):
        why = f"vendor {p.vendor!r} has been offboarded"
    elif not v.contract_start <= now.date() <= v.contract_end:
        why = f"the contract with vendor {p.vendor!r} runs {v.contract_start} to {v.contract_end}"
    if why is None:
        return None
    return (
        f"submitted by {promo.submitter!r}, and {why}: a vendor's pending promotions end "
        "with it (an internal person may submit the change again)"
    )


def approver_problem(estate: Estate, promo: Promotion, approver: str) -> str | None:
    """Why ``approver`` may not approve ``promo`` under the estate as it is now (None: may)."""
    p = estate.principals.get(approver)
    if p is None:
        return "not a declared principal (unknown identities count as external)"
    if p.disabled:
        return "the principal is disabled"
    if not estate.is_internal(approver):
        return f"external principal (vendor {p.vendor}); approvers are internal"
    if p.kind is not PrincipalKind.HUMAN:
        return "a service principal; approvals come from people"
    if approver == promo.submitter:
        return (
            "submitted this promotion (self-approval)"
            if not promo.break_glass
            else "invoked this break-glass"
        )
    who = promo.authorship(estate)
    for a in who.authors:
        if a.principal == approver:
            by_role: dict[str, list[str]] = {}
            for ident in a.identities:
                role, _, email = ident.partition(":")
                by_role.setdefault(role, []).append(email)
            parts = [f"{role} ({', '.join(sorted(set(e)))})" for role, e in sorted(by_role.items())]
            return (
                f"{' and '.join(parts)} of commits in this change; an author or committer "
                "cannot approve their own change"
            )
    if p.vendor is not None and p.vendor in who.vendors:
        return f"from vendor {p.vendor}, like an author of the change"
    if not promo.break_glass:
        st = find_stage(estate, promo.stage)[1]
        rule = estate.approval_rules.get(st.approval or "")
        in_group = rule is None or any(
            approver in estate.group_members(g) for g in rule.from_groups
        )
        if rule is not None and rule.from_groups and not in_group:
            return f"not in approver group(s) {', '.join(rule.from_groups)}"
    return None
