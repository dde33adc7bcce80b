"""Promotions: submit a change for a stage, report checks, approve, break glass, list.

The request is immutable (stage, commit SHA, artifact digest, who wrote the change);
reviews are appended with MFA evidence through the request/review core shared with
production access. ``stagewall.gates.deploy`` decides, right before a deployment,
whether the change may go out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select

from stagewall.access._core import (
    Decision,
    Outcome,
    Request,
    Review,
    check_reviewable,
    fmt_time,
    insert_request,
    load_request,
    load_reviews,
    outcome_of,
    record_review,
    review_row,
    withdraw_locked,
    withdrawable,
)
from stagewall.access._tables import access_reviews
from stagewall.access.binding import bind_row, logged_withdrawers
from stagewall.audit import AuditEvent, AuditLog, EventRef, Status
from stagewall.errors import AccessDenied, StagewallError, UsageError
from stagewall.estate import LoadedEstate, PrincipalKind, Stage
from stagewall.gates import _events as ev
from stagewall.gates._bound import bound_deployments
from stagewall.gates._git import Commit, Repo, max_commits
from stagewall.gates._history import (
    Submitted,
    SubmittedHistory,
    deployed_commits,
    last_deployed,
)
from stagewall.gates._model import (
    BREAK_GLASS_TTL,
    FOLLOWUP_WINDOW,
    KIND,
    PENDING_TTL,
    Promotion,
    PromotionKind,
    approver_problem,
    check_digest,
    find_stage,
    now_utc,
    reporter_problem,
    request_digest,
    submitter_problem,
)
from stagewall.gates._seal import sealed
from stagewall.gates._signatures import identify_signer, verify_commit
from stagewall.gates._tables import gate_checks, gate_deployments, gate_promotions
from stagewall.gates.continuity import record_rules
from stagewall.gates.identities import Contribution, Role
from stagewall.identity.accounts import factor_reset_problem
from stagewall.identity.actor import StepUp
from stagewall.identity.stepup import factor_of, verify_step_up
from stagewall.store import Store


class Gate:
    """The gate over one store and one estate; every call records its rules first."""

    def __init__(self, store: Store, loaded: LoadedEstate, *, home: str | None = None) -> None:
        self.store = store
        self.loaded = loaded
        self.estate = loaded.estate
        self.log = AuditLog(store, home=home)
        self.home = home

    def sealed(
        self,
        code: str,
        status: Status,
        actor: str,
        message: str,
        resource: str | None,
        details: Mapping[str, Any],
    ) -> AuditEvent:
        """A gates event carrying the server's seal (gates/_seal.py): the events that
        gate state rests on, which ``gate check`` counts only when sealed."""
        return sealed(
            ev.event(code, status, actor, message, resource, details), self.log.signing_key()
        )

    def rules(self, actor: str, now: datetime) -> str:
        from stagewall.estate.history import record_estate

        record_estate(self.store, self.loaded, now=now, log=self.log)
        return record_rules(self.store, self.log, self.estate, fmt_time(now), actor)

    def _step_up(
        self,
        principal: str,
        otp: str | None,
        webauthn: str | Mapping[str, Any] | None,
        purpose: str,
        now: datetime,
    ) -> StepUp:
        return verify_step_up(
            self.store,
            principal,
            factor_of(otp, webauthn),
            purpose=purpose,
            now=now,
            settings=self.estate.server,
            home=self.home,
        )

    # -- submit ----------------------------------------------------------

    def submit(
        self,
        *,
        repo: str | SubmittedHistory,
        change: str,
        artifact: str,
        stage: str,
        submitter: str,
        break_glass_reason: str | None = None,
        otp: str | None = None,
        now: datetime | None = None,
    ) -> Promotion:
        now = now or now_utc()
        rules_hash = self.rules(submitter, now)
        idx, st = find_stage(self.estate, stage)
        digest = check_digest(artifact)
        bg = break_glass_reason is not None
        code = ev.BREAK_GLASS.code if bg else ev.SUBMITTED.code
        resource = f"stage:{stage}"
        try:
            self._check_submitter(submitter, bg)
            quarantined = factor_reset_problem(self.store, submitter, now) if bg else None
            if quarantined is not None:  # a break-glass approves its own promotion
                raise AccessDenied(quarantined, hint="ask another internal on-call engineer")
            if bg and not (break_glass_reason or "").strip():
                raise UsageError("a break-glass promotion needs --reason")
            git = repo if isinstance(repo, SubmittedHistory) else Repo(repo)
            sha = git.resolve(change)
            resource = f"stage:{stage}/{sha}"
            if not bg and idx > 0:
                self._require_previous(self.estate.stages[idx - 1].name, stage, sha, digest)
            base, commits = self._range(git, stage, sha)
            contributions = self._contributions(git, commits, st)
            # Last: a bad range, an unreadable repository or an unknown signer is
            # decided without the one-time code and must not burn it.
            mfa = None
            if bg:
                # The factor is checked at the real time, whatever ``now`` records.
                mfa = self._step_up(submitter, otp, None, f"break-glass to {stage}", now_utc())
        except StagewallError as exc:
            raise ev.refuse(self.log, code, submitter, exc, resource, {"stage": stage}) from None
        details: dict[str, Any] = {
            "stage": stage,
            "environment": st.environment,
            "sha": sha,
            "digest": digest,
            "repo": str(git.path),
            "base": base,
            "commits": len(commits),
            "contributions": [c.as_dict() for c in contributions],
            "rules_hash": rules_hash,
            "break_glass": bg,
            "signed_verified": self.estate.signed_commits_required(st),
        }
        if mfa is not None:
            details["mfa"] = {"method": mfa.method, "time": mfa.time}
        reason = (break_glass_reason or "").strip() or f"promote {sha[:12]} to {stage}"
        with self.store.transaction() as conn:
            if not bg:
                existing = self._existing(conn, stage, sha, digest, submitter, now)
                if existing is not None:
                    return existing
            req = insert_request(
                conn,
                kind=KIND,
                requester=submitter,
                subject=stage,
                reason=reason,
                ticket=None,
                requested=timedelta(0),
                pending_ttl=BREAK_GLASS_TTL if bg else PENDING_TTL,
                now=now,
                details=details,
            )
            conn.execute(
                insert(gate_promotions).values(
                    request_id=req.id,
                    stage=stage,
                    sha=sha,
                    digest=digest,
                    submitter=submitter,
                    break_glass=bg,
                    created_at=fmt_time(now),
                    followup_due=fmt_time(now + FOLLOWUP_WINDOW) if bg else None,
                )
            )
            promo = Promotion.from_request(req)
            who = promo.authorship(self.estate)
            msg = (
                f"BREAK-GLASS promotion {req.id} of {sha[:12]} to {stage} by {submitter}: {reason}"
                if bg
                else f"{submitter} submitted {sha[:12]} ({digest[:19]}…) for {stage} as {req.id}"
            )
            ref = self.log.append_refs(
                [
                    self.sealed(
                        code,
                        Status.SUCCESS,
                        submitter,
                        msg,
                        resource,
                        {
                            "promotion": req.id,
                            "stage": stage,
                            "sha": sha,
                            "digest": digest,
                            "commits": len(commits),
                            "authors": who.as_list(),
                            "rules_hash": rules_hash,
                            "request_sha256": request_digest(conn, req.id),
                            **(
                                {"severity": "critical", "reason": reason, "mfa": details["mfa"]}
                                if bg
                                else {}
                            ),
                        },
                    )
                ],
                conn=conn,
            )[0]
            bind_row(conn, gate_promotions, gate_promotions.c.request_id == req.id, ref)
        return promo

    def history(
        self, stage: str, objects: Mapping[str, bytes] | Submitted, *, actor: str = "stagewall"
    ) -> SubmittedHistory:
        """The objects a client sent for ``stage``, checked against this store.

        A deployed promotion whose rows the log does not back counts none of its commits
        as already seen (the client must send them); it is recorded and alerted."""
        from stagewall.gates._alerts import alert_unbound

        find_stage(self.estate, stage)
        with self.store.read() as conn:
            known, unbound = deployed_commits(conn, stage, self.log)
        for promotion, problem in unbound.items():
            alert_unbound(self, actor, promotion, [f"deployed promotion row: {problem}"])
        return SubmittedHistory(objects, known)

    def base(self, stage: str) -> str | None:
        """The commit last deployed to ``stage``: the client sends the commits since it."""
        find_stage(self.estate, stage)
        with self.store.read() as conn:
            return last_deployed(conn, stage, self.log)

    def _check_submitter(self, submitter: str, break_glass: bool) -> None:
        p = self.estate.principals.get(submitter)
        if p is None:
            raise AccessDenied(
                f"{submitter!r} is not a principal declared in the estate file",
                hint="log in as a declared principal (stagewall login, or CI OIDC)",
            )
        if p.disabled:
            raise AccessDenied(f"principal {submitter!r} is disabled")
        if break_glass and (
            not self.estate.is_internal(submitter) or p.kind is not PrincipalKind.HUMAN
        ):
            raise AccessDenied(
                f"{submitter!r} may not break glass: only internal people can",
                hint="ask an internal on-call engineer",
            )

    def _require_previous(self, previous: str, stage: str, sha: str, digest: str) -> None:
        with self.store.read() as conn:
            found = conn.execute(
                select(gate_deployments).where(
                    (gate_deployments.c.stage == previous) & (gate_deployments.c.sha == sha)
                )
            ).all()
            # A deployment row without its gate check event counts for nothing.
            rows = [(r.digest,) for r in bound_deployments(self.log, conn, list(found))]
        if any(r[0] == digest for r in rows):
            return
        if rows:
            raise AccessDenied(
                f"change {sha[:12]} reached {previous!r} with another artifact "
                f"({rows[-1][0][:19]}…), not {digest[:19]}…: artifact mismatch",
                hint="promote the artifact that passed the previous stage",
            )
        raise AccessDenied(
            f"change {sha[:12]} with this artifact was never promoted to {previous!r}; "
            f"skipping a stage is refused (the path to {stage!r} goes through {previous!r})",
            hint=f"submit it to {previous!r} first",
        )

    def _range(
        self, git: Repo | SubmittedHistory, stage: str, sha: str
    ) -> tuple[str | None, list[str]]:
        """Commits since the last change promoted to ``stage`` (all ancestors if none)."""
        with self.store.read() as conn:
            base = last_deployed(conn, stage, self.log)
        if base is not None and (not git.has_commit(base) or not git.is_ancestor(base, sha)):
            base = None
        commits = git.rev_list(sha, base, cap=max_commits())
        return base, commits or [sha]

    def _contributions(
        self, git: Repo | SubmittedHistory, shas: list[str], st: Stage
    ) -> list[Contribution]:
        """Every identity in the range, plus what submodule bumps and vendored
        directories bring in (gates/_bringin.py)."""
        from stagewall.gates._bringin import brought_in

        def per_commit(c: Commit) -> list[Contribution]:
            return self._commit_contributions(c, st)

        out: list[Contribution] = []
        for c in git.commits(shas):
            out.extend(per_commit(c))
        # A clone and a submission alike: a submission's tree objects (verified by hash)
        # show its submodule bumps and vendored paths (gates/_trees.py).
        out.extend(brought_in(git, shas, self.estate.vendored, per_commit))
        return out

    def _commit_contributions(self, c: Commit, st: Stage) -> list[Contribution]:
        out: list[Contribution] = []
        out.append(Contribution(c.sha, Role.AUTHOR, c.author.email))
        out.append(Contribution(c.sha, Role.COMMITTER, c.committer.email))
        out.extend(Contribution(c.sha, Role.CO_AUTHOR, p.email) for p in c.coauthors)
        if self.estate.signed_commits_required(st):
            signer: str | None = verify_commit(c, self.estate, st.name)
        else:
            signer = identify_signer(c, self.estate) if c.signature is not None else None
        if signer is not None:
            out.append(Contribution(c.sha, Role.SIGNER, c.committer.email, signer))
        else:
            # No declared key vouches for this commit: whoever wrote it is, for
            # every rule, an external (the author field is only a claim).
            out.append(Contribution(c.sha, Role.SIGNER, f"unverified-signer:{c.sha[:12]}"))
        return out

    def _existing(
        self, conn: Connection, stage: str, sha: str, digest: str, submitter: str, now: datetime
    ) -> Promotion | None:
        row = conn.execute(
            select(gate_promotions.c.request_id)
            .where(
                (gate_promotions.c.stage == stage)
                & (gate_promotions.c.sha == sha)
                & (gate_promotions.c.digest == digest)
                & (gate_promotions.c.submitter == submitter)
                & (gate_promotions.c.break_glass.is_(False))
            )
            .order_by(gate_promotions.c.created_at.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        req = load_request(conn, row[0])
        state, _ref = outcome_of(conn, req, now)
        # Only a still-open promotion is reused; a decided or expired one gets a fresh request.
        return Promotion.from_request(req) if state is Outcome.PENDING else None

    # -- report ----------------------------------------------------------

    def report(
        self,
        *,
        change: str,
        stage: str,
        check: str,
        status: str,
        reporter: str,
        now: datetime | None = None,
    ) -> None:
        from stagewall.gates._git import check_full_sha

        now = now or now_utc()
        self.rules(reporter, now)
        _i, st = find_stage(self.estate, stage)
        sha = check_full_sha(change)
        if status not in ("pass", "fail"):
            raise UsageError(f"--status {status!r}: use pass or fail")
        if check not in st.checks:
            raise UsageError(
                f"stage {stage!r} has no check {check!r} "
                f"(its checks: {', '.join(st.checks) or 'none'})",
                hint="report one of the checks the stage declares in stagewall.yaml",
            )
        resource = f"stage:{stage}/{sha}"
        why = reporter_problem(self.estate, st, reporter)
        if why is not None:
            exc = AccessDenied(
                why,
                hint="report from the CI job, authenticated as its service principal "
                "(CI OIDC or a pipeline token) that the stage's check_reporters name",
            )
            raise ev.refuse(
                self.log, ev.REPORTED.code, reporter, exc, resource, {"check": check}
            ) from None
        with self.store.transaction() as conn:
            row_id = conn.execute(
                insert(gate_checks)
                .values(
                    sha=sha,
                    stage=stage,
                    name=check,
                    status=status,
                    reporter=reporter,
                    created_at=fmt_time(now),
                )
                .returning(gate_checks.c.id)
            ).scalar_one()
            ref = self.log.append_refs(
                [
                    self.sealed(
                        ev.REPORTED.code,
                        Status.SUCCESS,
                        reporter,
                        f"check {check} {status} for {sha[:12]} at {stage}",
                        resource,
                        # "row": one report event binds exactly this row.
                        {
                            "check": check,
                            "status": status,
                            "sha": sha,
                            "stage": stage,
                            "row": row_id,
                        },
                    )
                ],
                conn=conn,
            )[0]
            bind_row(conn, gate_checks, gate_checks.c.id == row_id, ref)

    # -- approve ---------------------------------------------------------

    def approve(
        self,
        promotion_id: str,
        *,
        approver: str,
        otp: str | None = None,
        reason: str = "",
        now: datetime | None = None,
        webauthn: str | Mapping[str, Any] | None = None,
    ) -> tuple[Promotion, Outcome]:
        """Record an approval (or, on a break-glass promotion, its follow-up review)."""
        now = now or now_utc()
        self.rules(approver, now)
        quarantined = factor_reset_problem(self.store, approver, now)
        if quarantined is not None:
            raise AccessDenied(quarantined, hint="another approver must decide this promotion")
        with self.store.read() as conn:
            req = self._load_request(conn, promotion_id)
        promo = Promotion.from_request(req)
        code = ev.FOLLOWED_UP.code if promo.break_glass else ev.APPROVED.code
        resource = f"promotion:{promo.id}"
        kind = PromotionKind(self.estate)
        try:
            if not promo.break_glass and kind.stage(promo).approval is None:
                raise UsageError(f"stage {promo.stage!r} needs no approval; nothing to approve")
            problem = kind.reviewer_problem(req, approver)
            if problem is not None:
                raise AccessDenied(f"{approver!r} may not approve {promo.id}: {problem}")
            # Decided, expired or already reviewed: refused before the code is used.
            with self.store.read() as conn:
                check_reviewable(conn, kind, promo.id, approver, now)
                gone = (
                    None if promo.break_glass else submitter_problem(self.estate, conn, promo, now)
                )
            if gone is not None:
                raise AccessDenied(f"{promo.id} cannot be approved: {gone}")
            mfa = self._step_up(approver, otp, webauthn, f"approve {promo.id}", now)
            with self.store.transaction() as conn:
                result = record_review(
                    self.store,
                    conn,
                    kind,
                    request_id=promo.id,
                    reviewer=approver,
                    decision=Decision.APPROVE,
                    reason=reason,
                    mfa_method=mfa.method,
                    mfa_time=mfa.time,
                    now=now,
                    withdrawn_in_log=lambda c: logged_withdrawers(
                        self.log, c, ev.WITHDRAWN.code, resource
                    ),
                )
                verb = "reviewed break-glass promotion" if promo.break_glass else "approved"
                ref = self._record_decision(
                    conn,
                    code,
                    approver,
                    f"{approver} {verb} {promo.id} ({promo.sha[:12]} to {promo.stage})",
                    resource,
                    {
                        "promotion": promo.id,
                        "sha": promo.sha,
                        "digest": promo.digest,
                        "stage": promo.stage,
                        "outcome": result.outcome.value,
                        # The row's time, pinned: gate check counts the approval from it.
                        "approved_at": fmt_time(now),
                    },
                    mfa,
                    reason,
                )
                bind_row(conn, access_reviews, review_row(promo.id, approver), ref)
        except StagewallError as exc:
            raise ev.refuse(
                self.log, code, approver, exc, resource, {"promotion": promo.id}
            ) from None
        return promo, result.outcome

    def withdraw(
        self,
        promotion_id: str,
        *,
        approver: str,
        otp: str | None = None,
        reason: str = "",
        now: datetime | None = None,
        webauthn: str | Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Withdraw ``approver``'s own approval of a promotion (step-up MFA, audited).

        From then on the approval counts for nothing at ``gate check``: a promotion left
        without enough approvals is refused until someone else approves it."""
        now = now or now_utc()
        resource = f"promotion:{promotion_id}"
        try:
            with self.store.read() as conn:
                if Promotion.from_request(self._load_request(conn, promotion_id)).break_glass:
                    raise UsageError(
                        f"{promotion_id} is a break-glass promotion: its follow-up review is "
                        "not an approval and cannot be withdrawn"
                    )
                withdrawable(conn, promotion_id, approver)
            mfa = self._step_up(approver, otp, webauthn, f"withdraw approval {promotion_id}", now)
            with self.store.transaction() as conn:
                withdraw_locked(self.store, conn, promotion_id, approver, reason=reason, now=now)
                self._record_decision(
                    conn,
                    ev.WITHDRAWN.code,
                    approver,
                    f"{approver} withdrew their approval of {promotion_id}",
                    resource,
                    {"promotion": promotion_id},
                    mfa,
                    reason,
                )
        except StagewallError as exc:
            raise ev.refuse(
                self.log, ev.WITHDRAWN.code, approver, exc, resource, {"promotion": promotion_id}
            ) from None
        return {
            "promotion": promotion_id,
            "withdrawn_by": approver,
            "withdrawn_at": fmt_time(now),
        }

    def _record_decision(
        self,
        conn: Connection,
        code: str,
        approver: str,
        text: str,
        resource: str,
        details: Mapping[str, Any],
        mfa: StepUp,
        reason: str,
    ) -> EventRef:
        """Append ``approver``'s MFA-checked decision event (approval, follow-up review or
        withdrawal) in ``conn``: ``details`` plus the factor used and the reason."""
        return self.log.append_refs(
            [
                self.sealed(
                    code,
                    Status.SUCCESS,
                    approver,
                    text,
                    resource,
                    {**details, "mfa": {"method": mfa.method, "time": mfa.time}, "reason": reason},
                )
            ],
            conn=conn,
        )[0]

    def _load_request(self, conn: Connection, promotion_id: str) -> Request:
        row = conn.execute(
            select(gate_promotions.c.request_id).where(gate_promotions.c.request_id == promotion_id)
        ).first()
        if row is None:
            raise UsageError(
                f"there is no promotion {promotion_id!r}",
                hint="`stagewall gate list` shows promotion ids",
            )
        return load_request(conn, promotion_id)

    def reviews(self, conn: Connection, promotion_id: str) -> list[Review]:
        return load_reviews(conn, promotion_id)

    # -- list ------------------------------------------------------------

    def list(
        self,
        now: datetime | None = None,
        report: Callable[[str, list[str]], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Every promotion with its state, approvals and authors (oldest first), each
        decided as ``gate check`` decides (gates/_standing.py): ``report(promotion,
        problems)`` for each one whose rows the log does not back (listed unverified)."""
        from stagewall.gates._listing import list_promotions

        now = now or now_utc()
        self.rules("stagewall", now)
        return list_promotions(self.store, self.log, self.estate, now, report)


__all__ = [
    "FOLLOWUP_WINDOW",
    "KIND",
    "Gate",
    "Promotion",
    "PromotionKind",
    "approver_problem",
    "check_digest",
    "find_stage",
    "now_utc",
]
