"""Each check's status and figures over a recorded history, and its fail / not-verifiable cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, update

from stagewall.access import request_access, review_request, withdraw_approval
from stagewall.access._core import fmt_time
from stagewall.access._tables import access_grants, access_reviews
from stagewall.errors import ConfigError
from stagewall.evidence import CheckStatus, Window, evaluate, load_attestations
from stagewall.evidence._model import Attestation, expand
from tests.evidence.history import History


def _run(h: History, **extra: object):  # type: ignore[no-untyped-def]
    return evaluate(h.inputs(**extra))


def test_good_history_passes_with_figures(history: History) -> None:
    ev = _run(history)
    s = {n: r.status for n, r in ev.results.items()}
    measured = [
        "access.external_production",
        "access.production_approvals",
        "access.revocation_verified",
        "access.break_glass_followup",
        "access.review_campaigns",
        "gates.production_promotions",
        "masking.verified_runs",
        "vendors.agreements",
        "audit.log_verified",
        "scan.no_high_findings",
        "monitoring.alerting",
    ]
    assert {n: s[n] for n in measured} == {n: CheckStatus.PASS for n in measured}
    ext = ev.get("access.external_production").figures
    assert ext["external_identities"] == 2 and ext["intersections"] == 0
    assert ev.get("access.production_approvals").figures["approved_ok"] == 1
    assert ev.get("access.production_approvals").figures["break_glass"] == 1
    rev = ev.get("access.revocation_verified").figures
    assert rev["grants_ended"] == 3 and rev["logins_verified_removed"] == 1
    camp = ev.get("access.review_campaigns").figures
    assert (camp["revoked"], camp["revocations_executed"]) == (1, 1)
    assert ev.get("gates.production_promotions").figures["independently_approved"] == 1
    assert ev.get("masking.verified_runs").figures["verified_zero_hits"] == 1
    # results rest on real events: the promotion check cites the gate events
    log = history.inputs().audit.events()
    cited = expand(ev.get("gates.production_promotions").events)
    assert {log[i].code for i in cited} == {"gate.deploy.checked", "gate.promotion.approved"}
    cited = expand(ev.get("masking.verified_runs").events)
    assert [log[i].code for i in cited] == ["masking.run.completed", "masking.verify.passed"]


def test_unmeasurable_checks_say_why(history: History) -> None:
    ev = _run(history)
    for name in ("audit.witnessed_checkpoints", "separation.resource_identity"):
        r = ev.get(name)
        assert r.status is CheckStatus.NOT_VERIFIABLE and r.why
    assert "pinned" in (ev.get("separation.resource_identity").why or "")
    assert "witness" in (ev.get("audit.witnessed_checkpoints").why or "")
    assert ev.get("policy.access_control").status is CheckStatus.NOT_VERIFIABLE


def test_pinned_identities_pass_and_fail(history: History) -> None:
    ok = _run(history, pinned_identities={"prod-db": "sysid-1", "staging-db": "sysid-2"})
    assert ok.get("separation.resource_identity").status is CheckStatus.PASS
    bad = _run(history, pinned_identities={"prod-db": "sysid-1", "staging-db": "sysid-1"})
    r = bad.get("separation.resource_identity")
    assert r.status is CheckStatus.FAIL and r.figures["shared"] == 1
    # dana held staging-write on staging-db: the same server as production
    ext = bad.get("access.external_production")
    assert ext.status is CheckStatus.FAIL
    assert any("same server as production prod-db" in i["where"] for i in ext.items)


def test_overdue_break_glass_fails(history: History) -> None:
    history.breakglass("bob", None)
    history.clock.advance(timedelta(hours=25))
    r = _run(history).get("access.break_glass_followup")
    assert r.status is CheckStatus.FAIL
    assert r.figures["uses"] == 2 and r.figures["followed_up_on_time"] == 1
    assert "overdue" in r.items[0]["problem"]


def test_break_glass_pending_is_not_a_failure(history: History) -> None:
    history.breakglass("bob", None)
    r = _run(history).get("access.break_glass_followup")
    assert r.status is CheckStatus.PASS and r.figures["pending"] == 1


def test_unverified_revocation_fails(history: History) -> None:
    gid = history.request("carol", "prod-read", "bob")
    history.set_credential(gid, "revoke_failed")
    history.clock.advance(timedelta(hours=3))
    r = _run(history).get("access.revocation_verified")
    assert r.status is CheckStatus.FAIL
    problems = " ".join(i["problem"] for i in r.items)
    assert "still active after its end" in problems  # no sweep ran
    assert "revoke_failed" in problems


def test_unbound_production_grant_fails_approvals(history: History) -> None:
    """A grant row written straight into the store has no request and no audit event."""
    now = history.clock.now
    with history.ctx.store.transaction() as conn:
        conn.execute(
            insert(access_grants).values(
                id="gforged",
                principal="carol",
                role="prod-read",
                environment="production",
                production=True,
                source="request",
                request_id=None,
                reason="x",
                starts_at=(now - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                ends_at=(now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                status="active",
                created_at=now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            )
        )
    r = _run(history).get("access.production_approvals")
    assert r.status is CheckStatus.FAIL
    assert r.items[0] == {"grant": "gforged", "problem": "no audit event created this grant"}


def test_masking_with_hits_or_unverified_fails(history: History) -> None:
    from stagewall.masking.record import Verification

    history.mask(hits=3, verification=Verification.FAILED)
    history.mask(verification=Verification.SKIPPED)
    r = _run(history).get("masking.verified_runs")
    assert r.status is CheckStatus.FAIL
    assert r.figures["runs"] == 3 and r.figures["hits"] == 3
    assert sorted(i["problem"] for i in r.items) == ["verification failed", "verification skipped"]


def test_no_masking_or_scan_in_window_is_not_verifiable(history: History) -> None:
    later = history.clock.now + timedelta(days=200)
    ev = _run(history, window=Window(later - timedelta(days=10), later))
    assert ev.get("masking.verified_runs").status is CheckStatus.NOT_VERIFIABLE
    assert ev.get("scan.no_high_findings").status is CheckStatus.NOT_VERIFIABLE
    # and no review in the last quarter
    camp = ev.get("access.review_campaigns")
    assert camp.status is CheckStatus.FAIL
    assert "no access review closed in the 92 days" in camp.items[-1]["problem"]


def test_scan_with_high_finding_fails(history: History) -> None:
    history.scan(high=2)
    r = _run(history).get("scan.no_high_findings")
    assert r.status is CheckStatus.FAIL and r.figures["high"] == 2 and r.figures["scans"] == 2


def test_vendor_dates_and_expired_contract(history: History) -> None:
    text = history.config.read_text()
    history.config.write_text(
        text.replace("nda_signed: 2020-01-01", f"nda_signed: {date.today() + timedelta(days=3)}")
        .replace("contract_end: 2099-12-31", f"contract_end: {date.today() - timedelta(days=1)}")
        .replace("contract_start: 2020-01-01", "contract_start: 2019-01-01")
    )
    r = _run(history).get("vendors.agreements")
    assert r.status is CheckStatus.FAIL
    problems = " | ".join(i["problem"] for i in r.items)
    assert "NDA signed" in problems and "after access" in problems
    assert "contract ended" in problems


def test_no_vendor_is_not_applicable(history: History) -> None:
    text = history.config.read_text()
    start = text.index("vendors:")
    end = text.index("principals:")
    cut = text[:start] + text[end:]
    cut = cut.replace(
        "  dana: {affiliation: external, vendor: devshop, emails: [dana@devshop.example]}\n", ""
    )
    cut = cut.replace(
        "  erin: {affiliation: external, vendor: devshop, emails: [erin@devshop.example]}\n", ""
    )
    cut = cut.replace("group:sre, dana, erin", "group:sre")
    history.config.write_text(cut)
    r = _run(history).get("vendors.agreements")
    assert r.status is CheckStatus.NOT_APPLICABLE and r.why


def test_refused_self_approval_leaves_no_deployment(history: History) -> None:
    # carol authors a change and tries to approve it herself: the gate refuses
    sha = history.commit("carol@example.com", 2)
    with pytest.raises(Exception, match="author or committer"):
        history.promote(sha, "carol", 2)
    # the refused approval is recorded, and no deployment happened: still PASS
    assert _run(history).get("gates.production_promotions").status is CheckStatus.PASS


def test_estate_change_makes_an_approver_dependent(history: History) -> None:
    """Approvals are judged against the estate now: carol turned out to work for the vendor."""
    text = history.config.read_text()
    text = text.replace(
        "carol: {affiliation: internal, emails: [carol@example.com]}",
        "carol: {affiliation: external, vendor: devshop, emails: [carol@example.com]}",
    ).replace("members: [alice, bob, carol]", "members: [alice, bob]")
    history.config.write_text(text)
    r = _run(history).get("gates.production_promotions")
    assert r.status is CheckStatus.FAIL
    assert "carol" in r.items[0]["problem"]


def test_manual_attestation(history: History, tmp_path: Path) -> None:
    f = tmp_path / "att.yaml"
    today = history.clock.now.date()
    f.write_text(
        "attestations:\n"
        f"  - {{check: policy.access_control, by: alice, date: {today}, "
        "statement: Access policy v3 approved by the board}\n"
    )
    est = history.inputs().estate
    att = load_attestations(f, est)
    r = _run(history, attestations=att).get("policy.access_control")
    assert r.status is CheckStatus.MANUAL
    assert r.attestation == Attestation("policy.access_control", "alice", today, att[0].statement)
    old = [Attestation("policy.access_control", "alice", today - timedelta(days=400), "x")]
    assert _run(history, attestations=old).get("policy.access_control").status is (
        CheckStatus.NOT_VERIFIABLE
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            "{check: policy.access_control, by: dana, date: 2026-01-01, statement: x}",
            "not an internal",
        ),
        (
            "{check: access.external_production, by: alice, date: 2026-01-01, statement: x}",
            "not an attestable",
        ),
        ("{check: policy.access_control, by: alice, statement: x}", "exactly check, by, date"),
    ],
)
def test_bad_attestations_are_refused(
    history: History, tmp_path: Path, entry: str, message: str
) -> None:
    f = tmp_path / "att.yaml"
    f.write_text(f"attestations:\n  - {entry}\n")
    with pytest.raises(ConfigError, match=message):
        load_attestations(f, history.inputs().estate)


def test_audit_log_check_fails_on_tampering_and_needs_a_key(history: History) -> None:
    from sqlalchemy import text

    from tests.audit.conftest import allow_tampering

    assert _run(history, public_key=None).get("audit.log_verified").status is (
        CheckStatus.NOT_VERIFIABLE
    )
    allow_tampering(history.ctx.store)
    with history.ctx.store.transaction() as conn:
        conn.execute(text("UPDATE audit_events SET canonical = canonical || x'20' WHERE idx = 3"))
    r = _run(history).get("audit.log_verified")
    assert r.status is CheckStatus.FAIL and "does not verify" in r.summary


def test_a_keep_by_the_grants_approver_or_after_the_due_date_fails_the_review(
    history: History,
) -> None:
    """Decisions recorded before stagewall refused them (an old store, a hand edit) do
    not pass as independent reviews."""
    from sqlalchemy import select

    from stagewall.access._tables import (
        access_campaign_decisions,
        access_campaign_items,
        access_campaigns,
    )

    assert _run(history).get("access.review_campaigns").status is CheckStatus.PASS
    dana = history.grants["dana_staging"]  # approved by bob
    with history.ctx.store.transaction() as conn:
        item = conn.execute(
            select(access_campaign_items).where(access_campaign_items.c.grant_id == dana)
        ).one()
        due = conn.execute(
            select(access_campaigns.c.due).where(access_campaigns.c.id == item.campaign_id)
        ).scalar_one()
        # bob (the approver) long before the due date; carol at the due date itself
        for reviewer, at in (("bob", "2000-01-01T00:00:00.000000Z"), ("carol", due)):
            conn.execute(
                insert(access_campaign_decisions).values(
                    item_id=item.id,
                    reviewer=reviewer,
                    decision="keep",
                    note="",
                    mfa_method="totp",
                    mfa_time=at,
                    decided_at=at,
                )
            )
    r = _run(history).get("access.review_campaigns")
    assert r.status is CheckStatus.FAIL
    problems = [i["problem"] for i in r.items]
    assert f"bob kept grant {dana}, which they approved" in problems
    assert f"carol kept grant {dana} after the due date" in problems


def test_an_approval_withdrawn_before_its_use_does_not_count_even_if_the_row_is_cleared(
    history: History,
) -> None:
    """Evidence reads approvals from the table: one withdrawn before the time it was
    used counts for nothing, by its row or by the log's withdrawal event when the
    row's withdrawn_at was cleared in the store; one withdrawn later still counts."""
    req = request_access(
        history.ctx, requester="carol", role="prod-read", duration=timedelta(hours=1), reason="w"
    )
    review_request(history.ctx, req.id, reviewer="bob", approve=True, otp=history.otp("bob"))
    # the log stamps real time, the context this history's faster clock: "before" is
    # earlier than both stamps of the withdrawal, "after" later than both
    before = fmt_time(min(history.clock.now, datetime.now(UTC)))
    withdraw_approval(history.ctx, req.id, reviewer="bob", otp=history.otp("bob"))
    after = fmt_time(history.clock.now + timedelta(seconds=1))
    inputs = history.inputs()
    assert [r["reviewer"] for r in inputs.approvals_standing_at(req.id, before)] == ["bob"]
    assert inputs.approvals_standing_at(req.id, after) == []
    with history.ctx.store.transaction() as conn:
        conn.execute(
            update(access_reviews)
            .where(access_reviews.c.request_id == req.id)
            .values(withdrawn_at=None)
        )
    assert history.inputs().approvals_standing_at(req.id, after) == []
