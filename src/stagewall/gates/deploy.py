"""``gate check``: may this exact commit and artifact be deployed to this stage now?

Allowed only when a promotion of the same (stage, SHA, digest) exists and

* the change reached the previous stage with the same artifact digest (no skipping);
* every check the stage requires has reported, and its latest report is ``pass``
  (a failure reported after the approval blocks);
* enough approvals were recorded *after* the submission, each by a principal who
  is still eligible under the estate as it is now (internal, a person, not the
  submitter, not an author/committer/co-author/signer, not from an author's vendor,
  in the rule's groups);
* the stage's wait time has passed since the change reached the previous stage
  (for the first stage: since submission);
* the promotion row and every approval row are bound to the audit events that
  created them (a row written straight into the store is refused and alerted);
* the deployer (the authenticated pipeline) is one of the stage's deployers, when it names any.

A break-glass promotion skips approvals, the wait and the previous stage, but not a
failed check. An allowed check records the deployment and returns a signed
attestation; a refused one is recorded too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from stagewall.access._core import Decision, fmt_time, load_request, load_reviews, parse_time
from stagewall.access.binding import bind_row, logged_withdrawals, withdrawal_mismatch
from stagewall.audit import Status
from stagewall.errors import AccessDenied, GateRowUnbound, StagewallError, UsageError
from stagewall.estate import PrincipalKind, format_duration
from stagewall.gates import _events as ev
from stagewall.gates._alerts import alert_unbound
from stagewall.gates._bound import bound_deployments, check_problems
from stagewall.gates._git import check_full_sha
from stagewall.gates._model import reporter_problem, submitter_problem
from stagewall.gates._standing import unbound_rows
from stagewall.gates._tables import gate_checks, gate_deployments, gate_promotions
from stagewall.gates.attestation import sign_envelope, statement
from stagewall.gates.promotions import (
    Gate,
    Promotion,
    approver_problem,
    check_digest,
    find_stage,
    now_utc,
)
from stagewall.keys import SigningKey


def _no_hook(_promotion: Promotion) -> None:
    """Between the decision and its re-check under the write (tests replace it)."""


_after_decision: Callable[[Promotion], None] = _no_hook


@dataclass(frozen=True)
class Allowed:
    promotion: Promotion
    predicate: dict[str, Any]
    envelope: bytes


def check(
    gate: Gate,
    *,
    change: str,
    artifact: str,
    stage: str,
    deployer: str | None,
    key: SigningKey,
    subject_name: str = "artifact",
    now: datetime | None = None,
    write: Callable[[bytes], object] | None = None,
) -> Allowed:
    """Decide, sign the attestation and record the deployment.

    ``write`` receives the signed attestation *before* "deployment allowed" is
    recorded: if it fails, nothing is recorded (the artifact first, then the event).
    """
    now = now or now_utc()
    actor = deployer or "pipeline"
    rules_hash = gate.rules(actor, now)
    idx, st = find_stage(gate.estate, stage)
    sha = check_full_sha(change)
    digest = check_digest(artifact)
    if st.deployers and deployer is None:
        raise UsageError(
            f"stage {stage!r} names its deployers ({', '.join(st.deployers)}); run gate check "
            "from a pipeline authenticated as one of them"
        )
    resource = f"stage:{stage}/{sha}"
    to_alert: list[tuple[str, list[str]]] = []
    try:
        if deployer is not None:
            _check_deployer(gate, stage, st.deployers, deployer)
        with gate.store.read() as conn:
            candidates = _candidates(conn, stage, sha, digest)
            reasons: list[str] = []
            for promo in candidates:
                unbound = unbound_rows(gate.log, conn, promo.id)
                if unbound:
                    to_alert.append((promo.id, unbound))
                    reasons.append(f"{promo.id}: " + "; ".join(unbound))
                    continue
                problems, facts = _evaluate(gate, conn, promo, idx, now)
                if facts["unbound"]:
                    to_alert.append((promo.id, facts["unbound"]))
                if not problems:
                    break
                reasons.append(f"{promo.id}: " + "; ".join(problems))
            else:
                text = f"deployment of {sha[:12]} to {stage} refused: " + " | ".join(reasons)
                # Rows the log does not back were involved: say so with its own code.
                raise GateRowUnbound(text) if to_alert else AccessDenied(text)
    except StagewallError as exc:
        raise ev.refuse(
            gate.log, ev.CHECKED.code, actor, exc, resource, {"sha": sha, "digest": digest}
        ) from None
    finally:
        # After the read transaction: each unbound row is recorded and alerted.
        for promotion, problems in to_alert:
            alert_unbound(gate, actor, promotion, problems)
    _after_decision(promo)
    # Decide again under the write that records the deployment, with the promotion's
    # request locked (the lock a withdrawal takes): an approval withdrawn, or a row
    # changed, since the read above counts for nothing, not once.
    try:
        with gate.store.transaction() as conn:
            gate.store.lock(conn, f"stagewall.request.{promo.id}")
            problems = unbound_rows(gate.log, conn, promo.id)
            if not problems:
                problems, facts = _evaluate(gate, conn, promo, idx, now)
            if problems:
                raise AccessDenied(
                    f"deployment of {sha[:12]} to {stage} refused: {promo.id} changed while "
                    "it was decided: " + "; ".join(problems),
                    hint="nothing was recorded; run gate check again",
                )
            predicate = {
                "stage": stage,
                "environment": st.environment,
                "sha": sha,
                "digest": digest,
                "promotion": promo.id,
                "submitter": promo.submitter,
                "break_glass": promo.break_glass,
                "authors": [
                    {
                        "principal": a.principal,
                        "affiliation": "internal" if a.internal else "external",
                    }
                    | ({} if a.principal else {"identity": a.identities[0]})
                    for a in promo.authorship(gate.estate).authors
                ],
                "commits": promo.commits,
                "base": promo.base,
                "approvals": facts["approvals"],
                "checks": facts["checks"],
                "deployer": deployer,
                "time": fmt_time(now),
                "rules_hash": rules_hash,
            }
            if promo.break_glass:
                predicate["break_glass_reason"] = promo.reason
            envelope = sign_envelope(statement(subject_name, digest, predicate), key)
            if write is not None:
                try:
                    write(envelope)
                except OSError as exc:
                    raise UsageError(
                        f"cannot write the attestation: {exc.strerror or exc}"
                        + (f": {exc.filename}" if exc.filename else ""),
                        hint="choose an --out path in an existing, writable directory; "
                        "the deployment was not recorded",
                    ) from None
            row_id = conn.execute(
                insert(gate_deployments)
                .values(
                    stage=stage,
                    sha=sha,
                    digest=digest,
                    request_id=promo.id,
                    deployer=deployer,
                    created_at=fmt_time(now),
                )
                .returning(gate_deployments.c.id)
            ).scalar_one()
            ref = gate.log.append_refs(
                [
                    gate.sealed(
                        ev.CHECKED.code,
                        Status.SUCCESS,
                        actor,
                        f"deployment of {sha[:12]} to {stage} allowed ({promo.id})",
                        resource,
                        {
                            "promotion": promo.id,
                            "stage": stage,
                            "sha": sha,
                            "digest": digest,
                            "deployer": deployer,
                            "rules_hash": rules_hash,
                            "approvals": [a["approver"] for a in facts["approvals"]],
                            "break_glass": promo.break_glass,
                        },
                    )
                ],
                conn=conn,
            )[0]
            bind_row(conn, gate_deployments, gate_deployments.c.id == row_id, ref)
    except StagewallError as exc:
        raise ev.refuse(
            gate.log, ev.CHECKED.code, actor, exc, resource, {"sha": sha, "digest": digest}
        ) from None
    return Allowed(promo, predicate, envelope)


def _check_deployer(gate: Gate, stage: str, deployers: list[str], deployer: str) -> None:
    p = gate.estate.principals.get(deployer)
    if (
        p is None
        or p.disabled
        or p.kind is not PrincipalKind.SERVICE
        or not gate.estate.is_internal(deployer)
    ):
        raise AccessDenied(
            f"{deployer!r} is not an internal, enabled service principal; it may not deploy"
        )
    if deployers and deployer not in deployers:
        raise AccessDenied(
            f"{deployer!r} may not deploy to {stage} (deployers: {', '.join(deployers)})"
        )


def _candidates(conn: Connection, stage: str, sha: str, digest: str) -> list[Promotion]:
    rows = conn.execute(
        select(gate_promotions.c.request_id, gate_promotions.c.sha, gate_promotions.c.digest)
        .where(gate_promotions.c.stage == stage)
        .order_by(gate_promotions.c.created_at.desc())
    ).all()
    exact = [r[0] for r in rows if r[1] == sha and r[2] == digest]
    if exact:
        return [Promotion.from_request(load_request(conn, rid)) for rid in exact]
    same_sha = [r for r in rows if r[1] == sha]
    if same_sha:
        raise AccessDenied(
            f"artifact mismatch: the promotion of {sha[:12]} to {stage} covers artifact "
            f"{same_sha[0][2]}, not {digest}",
            hint="deploy the artifact that was submitted and approved, or submit this one",
        )
    same_digest = [r for r in rows if r[2] == digest]
    if same_digest:
        raise AccessDenied(
            f"the promotion of artifact {digest[:19]}… to {stage} covers commit "
            f"{same_digest[0][1][:12]}, not {sha[:12]}: approvals are bound to the exact commit",
            hint="submit the new commit; it needs its own approval",
        )
    raise AccessDenied(
        f"no promotion of {sha[:12]} with artifact {digest[:19]}… to {stage} was submitted; "
        "approvals are bound to the exact commit and artifact, so a new commit (a push after "
        "approval) or another artifact needs a new submission and approval",
        hint=f"run `stagewall gate submit --change {sha} --artifact {digest} --to {stage}`",
    )


def _evaluate(
    gate: Gate, conn: Connection, promo: Promotion, idx: int, now: datetime
) -> tuple[list[str], dict[str, Any]]:
    estate = gate.estate
    st = estate.stages[idx]
    problems: list[str] = []
    unbound: list[str] = []
    facts: dict[str, Any] = {"approvals": [], "checks": [], "unbound": unbound}
    since = promo.created_at
    if idx > 0 and not promo.break_glass:
        prev = estate.stages[idx - 1].name
        found = conn.execute(
            select(gate_deployments)
            .where(
                (gate_deployments.c.stage == prev)
                & (gate_deployments.c.sha == promo.sha)
                & (gate_deployments.c.digest == promo.digest)
            )
            .order_by(gate_deployments.c.id)
        ).all()
        # Only a deployment bound to its allowed gate check counts as reaching ``prev``.
        rows = bound_deployments(gate.log, conn, list(found))
        if not rows:
            shown = (
                f" ({len(found)} deployment row(s) without their gate check event do not count)"
                if found
                else ""
            )
            problems.append(f"skipped stage: never promoted to {prev!r} with this artifact{shown}")
        else:
            since = parse_time(rows[0].created_at)
    gone = submitter_problem(estate, conn, promo, now)
    if gone is not None:
        problems.append(gone)
    if estate.signed_commits_required(st) and not promo.signed_verified:
        problems.append("the stage now requires signed commits; submit again so they are verified")
    reports = conn.execute(
        select(gate_checks)
        .where((gate_checks.c.sha == promo.sha) & (gate_checks.c.stage == st.name))
        .order_by(gate_checks.c.id)
    ).all()
    not_bound = check_problems(gate.log, conn, list(reports))
    # The latest report of each check that is bound to its event counts; a newer row
    # without its event (inserted or edited in the store) refuses and is alerted.
    latest = {r.name: r for r in reports if r.id not in not_bound}
    for sent in reports:
        why = not_bound.get(sent.id)
        newest = latest.get(sent.name)
        if why is not None and sent.name in st.checks and sent.id > (newest.id if newest else 0):
            problem = f"report of check {sent.name!r} (row {sent.id}): {why}"
            unbound.append(problem)
            problems.append(problem)
    for name in st.checks:
        r = latest.get(name)
        if r is None:
            if not promo.break_glass:
                problems.append(f"check {name!r} has not reported")
            continue
        facts["checks"].append(
            {"name": name, "status": r.status, "reporter": r.reporter, "time": r.created_at}
        )
        if r.status != "pass":
            problems.append(f"check {name!r} failed (reported by {r.reporter} at {r.created_at})")
        elif (who := reporter_problem(estate, st, r.reporter)) is not None:
            problems.append(f"check {name!r} passed, but its report does not count: {who}")
    rule = estate.approval_rules.get(st.approval or "")
    reviews = load_reviews(conn, promo.id)
    withdrawn = logged_withdrawals(gate.log, conn, ev.WITHDRAWN.code, [f"promotion:{promo.id}"])
    if promo.break_glass:
        facts["approvals"] = [_approval(v) for v in reviews if v.decision is Decision.APPROVE]
        return problems, facts
    if rule is not None:
        valid: list[dict[str, Any]] = []
        discounted: list[str] = []
        for v in reviews:
            if v.decision is Decision.DENY:
                problems.append(f"denied by {v.reviewer}")
                continue
            mismatch = withdrawal_mismatch(
                {"reviewer": v.reviewer, "withdrawn_at": v.withdrawn_at},
                withdrawn.get((f"promotion:{promo.id}", v.reviewer)),
            )
            if mismatch is not None:
                problem = f"approval by {v.reviewer}: {mismatch}"
                unbound.append(problem)
                discounted.append(problem)
                continue
            if v.withdrawn_at is not None:
                discounted.append(f"approval by {v.reviewer} was withdrawn at {v.withdrawn_at}")
                continue
            approved_at = parse_time(v.created_at)
            if approved_at < promo.created_at:
                discounted.append(f"approval by {v.reviewer} predates the submission")
                continue
            if now >= approved_at + st.approval_valid_for:
                discounted.append(
                    f"approval by {v.reviewer} expired at "
                    f"{fmt_time(approved_at + st.approval_valid_for)} (approvals of stage "
                    f"{st.name!r} count for {format_duration(st.approval_valid_for)}): submit "
                    "the change again for a fresh approval"
                )
                continue
            why = approver_problem(estate, promo, v.reviewer)
            if why is not None:
                discounted.append(f"approval by {v.reviewer} no longer counts: {why}")
                continue
            valid.append(_approval(v))
        facts["approvals"] = valid
        if len(valid) < rule.approvals:
            groups = f" from {', '.join(rule.from_groups)}" if rule.from_groups else ""
            problems.extend(discounted)
            problems.append(
                f"needs {rule.approvals} approval(s){groups} by internal people who did not write "
                f"the change, has {len(valid)}"
            )
    if st.wait is not None and now < since + st.wait:
        problems.append(f"wait time: deployable from {fmt_time(since + st.wait)}")
    return problems, facts


def _approval(v: Any) -> dict[str, Any]:
    return {
        "approver": v.reviewer,
        "time": v.created_at,
        "mfa": {"method": v.mfa_method, "time": v.mfa_time},
    }


__all__ = ["Allowed", "check"]
