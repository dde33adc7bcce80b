"""What the checks read: explicit inputs, and the store's rows loaded once per evaluation.

Library entry points take these inputs explicitly (store, audit log, estate, time
window, public key, attestations, pinned resource identities), so the CLI and the
server call the same functions with what they hold.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, NamedTuple

from sqlalchemy import func, select

from stagewall.access._tables import (
    access_campaign_decisions,
    access_campaign_items,
    access_campaigns,
    access_credentials,
    access_followups,
    access_grants,
    access_requests,
    access_reviews,
)
from stagewall.access.binding import review_binding_problem
from stagewall.access.identity import all_pins
from stagewall.audit import AuditLog, WitnessEndpoint, WitnessPolicy, WitnessPublicKey
from stagewall.audit._tables import audit_cosignatures, audit_events
from stagewall.errors import KeyMissing
from stagewall.estate import Estate
from stagewall.evidence._model import Attestation, Window
from stagewall.evidence._proofs import ProofMaker
from stagewall.gates._tables import gate_deployments, gate_promotions
from stagewall.identity._tables import identity_tokens
from stagewall.keys import PublicKey
from stagewall.masking.record import masking_runs
from stagewall.store import Store


def parse_stamp(text: str | None) -> datetime | None:
    """Store and audit times (``...%fZ`` or ``...%SZ``) as aware UTC datetimes."""
    if not text:
        return None
    if text.endswith("Z"):
        try:
            return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
        except ValueError:
            pass
    for fmt in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    return datetime.fromisoformat(text).astimezone(UTC)


# The events that record an approval row: an access review, a promotion approval or a
# break-glass promotion's follow-up (review_binding_problem checks actor, subject and
# decision against the row).
_APPROVAL_CODES = ("access.review.recorded", "gate.promotion.approved", "gate.followup.reviewed")

# Where a withdrawal of an approval of request/promotion ID is logged, and its code.
_WITHDRAWALS = (("request:", "access.review.withdrawn"), ("promotion:", "gate.approval.withdrawn"))


class EventRow(NamedTuple):
    """Index columns of one event; ``time`` is the log's own UTC text (sortable).

    A tuple, not a dataclass: a log of 10^5 events builds 10^5 of them per evaluation.
    """

    index: int  # type: ignore[assignment]  # shadows tuple.index, which nothing here calls
    time: str
    code: str
    status: str
    actor: str
    resource: str | None


def _mfa_mismatch(row: Mapping[str, Any], details: Mapping[str, Any]) -> str | None:
    """Why the row's MFA evidence is not the one its audit event recorded (None: same)."""
    mfa = details.get("mfa")
    logged = mfa if isinstance(mfa, Mapping) else {}
    if (logged.get("method"), logged.get("time")) != (row.get("mfa_method"), row.get("mfa_time")):
        return "its MFA evidence differs from what its audit event recorded (edited?)"
    return None


@dataclass
class EvidenceInputs:
    """Everything an evaluation reads. Rows are loaded on first use and cached."""

    store: Store
    audit: AuditLog
    estate: Estate
    window: Window
    public_key: PublicKey | None = None
    attestations: Sequence[Attestation] = ()
    # resource name -> live server identity; None: the store's pins
    pinned_identities: Mapping[str, str] | None = None
    # witness verifier keys the caller pins, on top of the estate's audit.witnesses
    witness_keys: Sequence[WitnessPublicKey] = ()
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def at(self) -> datetime:
        return self.window.end

    def _rows(self, table: Any) -> list[dict[str, Any]]:
        key = table.name
        if key not in self._cache:
            with self.store.read() as conn:
                self._cache[key] = [dict(r._mapping) for r in conn.execute(select(table))]
        rows: list[dict[str, Any]] = self._cache[key]
        return rows

    # -- configured identities and witnesses ----------------------------------
    @cached_property
    def pins(self) -> dict[str, str]:
        """Resource -> server identity (``kind:server``): given, else pinned in the store."""
        if self.pinned_identities is not None:
            return dict(self.pinned_identities)
        return {n: f"{p.kind}:{p.server}" for n, p in sorted(all_pins(self.store).items())}

    @cached_property
    def witness_policy(self) -> WitnessPolicy | None:
        """The estate's witnesses plus the caller's keys; None when there is none."""
        settings = self.estate.audit
        configured = WitnessPolicy.from_settings(settings)
        if not self.witness_keys:
            return configured
        known = {w.name for w in configured.witnesses} if configured else set()
        extra = tuple(WitnessEndpoint(k) for k in self.witness_keys if k.name not in known)
        if configured is None:
            return WitnessPolicy(extra, 1, settings.witness_max_age)
        return WitnessPolicy(configured.witnesses + extra, configured.quorum, configured.max_age)

    def newest_cosigned(self, max_size: int | None = None) -> list[tuple[str, str]]:
        """(source, note) of each witness's newest stored cosignature (of a tree of at most
        ``max_size`` events). The newest suffices: a rewrite or truncation of any older
        part of the log changes the root of every larger tree too."""
        c = audit_cosignatures.c
        query = select(c.witness, func.max(c.size)).group_by(c.witness)
        if max_size is not None:
            query = query.where(c.size <= max_size)
        out: list[tuple[str, str]] = []
        with self.store.read() as conn:
            for witness, size in sorted(conn.execute(query).all()):
                stamp, note = conn.execute(
                    select(c.timestamp, c.note)
                    .where(c.witness == witness, c.size == size)
                    .order_by(c.timestamp.desc())
                    .limit(1)
                ).one()
                out.append((f"cosignature by {witness} of tree size {size} at {stamp}", note))
        return out

    # -- access --------------------------------------------------------------
    @property
    def grants(self) -> list[dict[str, Any]]:
        return self._rows(access_grants)

    @cached_property
    def requests(self) -> dict[str, dict[str, Any]]:
        return {r["id"]: r for r in self._rows(access_requests)}

    @cached_property
    def reviews_by_request(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in self._rows(access_reviews):
            out[r["request_id"]].append(r)
        return out

    @cached_property
    def review_unbound(self) -> dict[Any, str]:
        """Review row id -> why the row is not backed by the audit event that recorded
        it (a row inserted or edited straight in the store); bound rows are absent.
        Each event is read by its index and checked against its leaf hash."""
        rows = self._rows(access_reviews)
        indexes = [int(r["audit_index"]) for r in rows if r.get("audit_index") is not None]
        out: dict[Any, str] = {}
        with self.store.read() as conn:
            events = self.audit.events_ref(indexes, conn=conn)
            for r in rows:
                why = review_binding_problem(self.audit, conn, r, _APPROVAL_CODES, events=events)
                if why is None:
                    why = _mfa_mismatch(r, events[int(r["audit_index"])].details)
                if why is not None:
                    out[r["id"]] = why
        return out

    def approval_problem(self, review: dict[str, Any]) -> str | None:
        """Why the approval ``review`` counts for nothing because the log does not back
        it (None: its audit event records it as stored)."""
        why = self.review_unbound.get(review["id"])
        return None if why is None else f"approval by {review['reviewer']}: {why}"

    def approvals_standing_at(self, request_id: str, at: str) -> list[dict[str, Any]]:
        """The approve reviews of ``request_id`` not withdrawn before ``at`` (the time
        the approval was used: a grant's creation, a deployment). A withdrawal counts
        from its row or from the log's own withdrawal event, so a ``withdrawn_at``
        cleared in the store does not make a withdrawn approval count again. Rows not
        bound to their audit event are included: callers count them as problems
        (:attr:`review_unbound`), never as approvals."""
        return [
            r
            for r in self.reviews_by_request.get(request_id, [])
            if r["decision"] == "approve" and ((gone := self._withdrawn_at(r)) is None or gone > at)
        ]

    def _withdrawn_at(self, review: dict[str, Any]) -> str | None:
        times = [str(review["withdrawn_at"])] if review.get("withdrawn_at") else []
        for prefix, code in _WITHDRAWALS:
            times += [
                e.time
                for e in self.by_resource.get(prefix + str(review["request_id"]), [])
                if e.code == code
                and e.status == "Success"
                and e.actor == review["reviewer"]
                and self.until_at(e)
            ]
        return min(times) if times else None

    @cached_property
    def credentials_by_grant(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in self._rows(access_credentials):
            out[r["grant_id"]].append(r)
        return out

    @property
    def followups(self) -> list[dict[str, Any]]:
        return self._rows(access_followups)

    @property
    def campaigns(self) -> list[dict[str, Any]]:
        return self._rows(access_campaigns)

    @cached_property
    def campaign_items(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in self._rows(access_campaign_items):
            out[r["campaign_id"]].append(r)
        return out

    @cached_property
    def token_states(self) -> dict[str, dict[str, Any]]:
        """Token id -> its revocation and expiry times (never its digest)."""
        with self.store.read() as conn:
            rows = conn.execute(
                select(
                    identity_tokens.c.id, identity_tokens.c.revoked_at, identity_tokens.c.expires_at
                )
            ).all()
        return {r.id: {"revoked_at": r.revoked_at, "expires_at": r.expires_at} for r in rows}

    @cached_property
    def campaign_decisions(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in self._rows(access_campaign_decisions):
            out[r["item_id"]].append(r)
        return out

    # -- gates and masking ---------------------------------------------------
    @property
    def promotions(self) -> list[dict[str, Any]]:
        return self._rows(gate_promotions)

    @property
    def deployments(self) -> list[dict[str, Any]]:
        return self._rows(gate_deployments)

    def promotion_unbound(self, promotion: str, deployment: Mapping[str, Any]) -> list[str]:
        """Why the deployed ``promotion``'s rows are not what their sealed audit events
        recorded — decided by ``gate check``'s own path (gates/_standing.py: the
        promotion and request rows, every approval row, the server's seal on each event)
        — and why the ``deployment`` row is not bound to its allowed gate check. Empty:
        the log backs them all. Without the log's key the seals cannot be checked, and
        that is the problem (fail closed)."""
        from stagewall.gates._bound import deployment_row_problem
        from stagewall.gates._standing import unbound_rows

        key = f"promotion_unbound:{promotion}:{deployment.get('id')}"
        if key not in self._cache:
            try:
                with self.store.read() as conn:
                    found = unbound_rows(self.audit, conn, promotion)
                    why = deployment_row_problem(self.audit, conn, deployment)
                if why is not None:
                    found.append(f"deployment row {deployment.get('id')}: {why}")
            except KeyMissing:
                found = [
                    "the audit log's key is not available here, so the server's seals on the "
                    "promotion's events cannot be checked"
                ]
            self._cache[key] = found
        got: list[str] = self._cache[key]
        return got

    def promotion_counted(self, promotion: str) -> tuple[set[str], dict[str, str]]:
        """(the approvers ``gate check`` counts for ``promotion``, approver -> why each
        other approval of it counts for nothing), decided by gate check's own path
        (gates/_standing.py: each approval row bound to its event, the server's seal on
        that event, the log's withdrawals). Without the log's key no seal can be checked:
        nothing is counted (fail closed)."""
        from stagewall.gates._standing import standing

        key = f"promotion_counted:{promotion}"
        if key not in self._cache:
            approving = sorted(
                {
                    str(r["reviewer"])
                    for r in self.reviews_by_request.get(promotion, [])
                    if r["decision"] == "approve"
                }
            )
            try:
                with self.store.read() as conn:
                    got = standing(self.audit, conn, promotion)
            except KeyMissing:
                why = "the audit log's key is not available here, so its seal cannot be checked"
                self._cache[key] = (set(), dict.fromkeys(approving, why))
            else:
                counted = set(got.approvers)
                reasons: dict[str, str] = {}
                for who in approving:
                    if who in counted:
                        continue
                    said = [
                        p.removeprefix(f"approval by {who}: ")
                        for p in got.problems
                        if p.startswith(f"approval by {who}: ")
                    ]
                    reasons[who] = (
                        "; ".join(said)
                        if said
                        else "withdrawn"
                        if who in got.withdrawn
                        else "not counted by gate check"
                    )
                self._cache[key] = (counted, reasons)
        found: tuple[set[str], dict[str, str]] = self._cache[key]
        return found

    @property
    def masking_runs(self) -> list[dict[str, Any]]:
        return self._rows(masking_runs)

    # -- the audit log -------------------------------------------------------
    @cached_property
    def events(self) -> list[EventRow]:
        """Index columns of every event (the canonical bytes are read only when needed)."""
        with self.store.read() as conn:
            rows = conn.execute(
                select(
                    audit_events.c.idx,
                    audit_events.c.time,
                    audit_events.c.code,
                    audit_events.c.status,
                    audit_events.c.actor,
                    audit_events.c.resource,
                ).order_by(audit_events.c.idx)
            ).all()
        return [EventRow._make(r) for r in rows]

    @cached_property
    def tree(self) -> ProofMaker:
        """The Merkle tree over every event's leaf hash (levels built once, read once)."""
        return ProofMaker(self.audit.leaf_hashes())

    @cached_property
    def _bounds(self) -> tuple[str, str]:
        b = self.window.precise_json()
        return b["from"], b["to"]

    def in_window(self, row: EventRow) -> bool:
        lo, hi = self._bounds
        return lo <= row.time <= hi

    def until_at(self, row: EventRow) -> bool:
        return row.time <= self._bounds[1]

    @property
    def log_size(self) -> int:
        ev = self.events
        return ev[-1].index + 1 if ev else 0

    @cached_property
    def by_resource(self) -> dict[str, list[EventRow]]:
        out: dict[str, list[EventRow]] = defaultdict(list)
        for e in self.events:
            if e.resource:
                out[e.resource].append(e)
        return out

    def bound(self, resource: str, code: str) -> list[int]:
        """Indexes of ``code`` events about ``resource`` (up to the as-of time)."""
        return [
            e.index
            for e in self.by_resource.get(resource, [])
            if e.code == code and self.until_at(e)
        ]

    def window_events(self) -> tuple[int, int] | None:
        """The (first, last) index of events inside the window; times only grow."""
        inside = [e.index for e in self.events if self.in_window(e)]
        return (inside[0], inside[-1]) if inside else None

    def details_of(self, codes: Sequence[str]) -> list[tuple[EventRow, dict[str, Any]]]:
        """Events of ``codes`` up to the as-of time, each with its ``unmapped`` details."""
        wanted = [e for e in self.events if e.code in codes and self.until_at(e)]
        if not wanted:
            return []
        index = {e.index: e for e in wanted}
        with self.store.read() as conn:
            rows = conn.execute(
                select(audit_events.c.idx, audit_events.c.canonical).where(
                    audit_events.c.code.in_(list(codes))
                )
            ).all()
        out = []
        for idx, raw in rows:
            row = index.get(int(idx))
            if row is None:
                continue
            data = bytes(raw) if not isinstance(raw, str) else raw.encode()
            doc = json.loads(data)
            out.append((row, dict(doc.get("unmapped", {}))))
        out.sort(key=lambda p: p[0].index)
        return out


__all__ = ["EventRow", "EvidenceInputs", "parse_stamp"]
