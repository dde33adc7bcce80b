"""Red team: checks and answers that said PASS/"Yes" while the log or the measured state
said otherwise.

- an external who reached production per the ingested logs (a Detection Finding of
  ``external_production_access`` in the audit log) left ``access.external_production``
  at PASS and the third-party question answered "No";
- a grant held by a principal since removed from stagewall.yaml was not counted;
- ``masking.verified_runs`` read the editable ``masking_runs`` row: a failed
  verification edited to "passed", or a failed run's row deleted, passed, and a later
  verification of the same target that found production values was ignored;
- a database login removed days after its grant ended passed
  ``access.revocation_verified`` (the grant outlived its end);
- a break-glass use whose follow-up row was deleted or marked done in the store without
  the follow-up event passed ``access.break_glass_followup``;
- the test-data question said "Yes" while the staging database is the production server;
- a scan that read no file passed ``scan.no_high_findings`` and "0 unencrypted
  connections" answered the encryption question "Yes".
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stagewall.access import sweep
from stagewall.access._core import fmt_time
from stagewall.alerts import FileAlertSink
from stagewall.audit import AuditEvent, AuditLog, Status
from stagewall.errors import PackInvalid
from stagewall.evidence import CheckResult, CheckStatus, Window, evaluate
from stagewall.evidence.questionnaire import answer_questionnaire, match_question
from stagewall.evidence.questionnaire._answers import Value, answer
from stagewall.evidence.verify import verify_pack
from stagewall.keys import load_public_key
from stagewall.masking.record import Verification, record_verify
from stagewall.monitoring.detect import Finding
from stagewall.monitoring.pipeline import finding_event
from stagewall.scan._audit import SCAN_COMPLETED
from tests.evidence.history import History
from tests.evidence.packs import pack_of, store_sql

EXT = "access.external_production"
APPROVALS = "access.production_approvals"
MASK = "masking.verified_runs"
REVOKE = "access.revocation_verified"
BG = "access.break_glass_followup"
SCAN = "scan.no_high_findings"


def _finding(history: History, rule: str, principal: str, actor: str | None = None) -> int:
    f = Finding(
        rule=rule,
        rule_id="0f6d3c1e-5a4b-4f0e-8d1a-7c2b9e3f4a01",
        title="External identity touched a production resource",
        level="critical",
        description="test",
        time=time.time(),
        actor=actor or principal,
        principal=principal,
        user=principal or "shared_admin",
        src_ip="203.0.113.9",
        resource="prod-db",
        environment="production",
        tier="production",
        source="pg-prod",
        count=1,
        evidence=((7, "2026-12-01T10:00:00.000000Z", "0" * 64),),
    )
    return AuditLog(history.ctx.store).append(finding_event(f))


def _check(history: History, name: str) -> CheckResult:
    return evaluate(history.inputs()).results[name]


# -- an external who reached production per the ingested logs ----------------------------


def test_an_external_seen_in_production_by_monitoring_fails_the_check(
    history: History, tmp_path: Path
) -> None:
    assert evaluate(history.inputs()).results[EXT].status is CheckStatus.PASS
    index = _finding(history, "external_production_access", "dana")
    ev = evaluate(history.inputs())
    r = ev.results[EXT]
    assert r.status is CheckStatus.FAIL, r.summary
    assert "dana" in r.summary
    assert any(e.first <= index <= e.last for e in r.events)
    third = answer("third_party_production_access", ev)
    assert third.value is Value.YES, third.text


def test_an_unknown_login_in_production_without_grant_is_an_external_reaching_it(
    history: History,
) -> None:
    _finding(history, "production_login_without_grant", "", actor="unknown:shared_admin")
    r = evaluate(history.inputs()).results[EXT]
    assert r.status is CheckStatus.FAIL, r.summary
    assert "unknown:shared_admin" in r.summary


def test_an_internal_login_in_production_without_grant_fails_the_approvals(
    history: History,
) -> None:
    _finding(history, "production_login_without_grant", "carol")
    ev = evaluate(history.inputs())
    assert ev.results[EXT].status is CheckStatus.PASS, ev.results[EXT].summary
    r = ev.results[APPROVALS]
    assert r.status is CheckStatus.FAIL, r.summary
    assert any("carol" in str(i.get("problem")) for i in r.items), r.items


def test_a_finding_after_the_window_does_not_count(history: History) -> None:
    before = datetime.now(UTC)
    time.sleep(0.01)
    _finding(history, "external_production_access", "dana")
    window = Window(history.start - timedelta(days=1), before)
    r = evaluate(history.inputs(window=window)).results[EXT]
    assert r.status is CheckStatus.PASS, r.summary


def test_a_production_grant_of_a_principal_removed_from_the_estate_fails(
    history: History,
) -> None:
    text = history.config.read_text("utf-8")
    text = text.replace("  alice: {affiliation: internal, emails: [alice@example.com]}\n", "")
    text = text.replace("members: [alice, bob, carol]", "members: [bob, carol]")
    history.config.write_text(text, "utf-8")
    r = _check(history, EXT)
    assert r.status is CheckStatus.FAIL, r.summary
    assert "alice" in r.summary


# -- masking evidence from the log, not the editable row ---------------------------------


def test_a_failed_verification_edited_to_passed_in_the_store_fails(history: History) -> None:
    run = history.mask(hits=3, verification=Verification.FAILED)
    assert _check(history, MASK).status is CheckStatus.FAIL
    store_sql(
        history,
        (
            "UPDATE masking_runs SET verification = 'passed', record = replace(record,"
            " '\"total_hits\": 3', '\"total_hits\": 0') WHERE run_id = ?",
            (run,),
        ),
    )
    r = _check(history, MASK)
    assert r.status is CheckStatus.FAIL, r.summary
    assert run in r.summary


def test_a_deleted_failed_masking_run_fails(history: History) -> None:
    run = history.mask(hits=3, verification=Verification.FAILED)
    store_sql(history, ("DELETE FROM masking_runs WHERE run_id = ?", (run,)))
    r = _check(history, MASK)
    assert r.status is CheckStatus.FAIL, r.summary
    assert run in r.summary


def test_a_masking_run_whose_verification_was_skipped_fails(history: History) -> None:
    run = history.mask(verification=Verification.SKIPPED)
    r = _check(history, MASK)
    assert r.status is CheckStatus.FAIL, r.summary
    assert run in r.summary


def _verify_again(history: History, run: str, hits: int) -> None:
    """`stagewall mask verify` of the run's target, as it records its result."""
    record_verify(
        history.ctx.store,
        run_id=run,
        plan_sha256="a" * 64,
        key_id="k1",
        target={"backend": "sqlite", "path": "/tmp/staging.db"},
        summary={"total_hits": hits, "failed": bool(hits)},
        passed=not hits,
        actor="alice",
    )


def test_a_later_verification_that_found_production_values_fails(history: History) -> None:
    run = history.mask()
    assert _check(history, MASK).status is CheckStatus.PASS
    _verify_again(history, run, 5)
    r = _check(history, MASK)
    assert r.status is CheckStatus.FAIL, r.summary
    # a new verification that passes clears it
    _verify_again(history, run, 0)
    assert _check(history, MASK).status is CheckStatus.PASS


# -- a grant that outlived its end ----------------------------------------------------------


def test_a_login_removed_days_after_its_grant_ended_fails(history: History) -> None:
    grant = history.request("carol", "prod-read", "bob")
    history.clock.advance(timedelta(days=3))
    history.set_credential(grant, "revoked")  # verified removed only now, 3 days late
    sweep(history.ctx)
    r = _check(history, REVOKE)
    assert r.status is CheckStatus.FAIL, r.summary
    assert grant in r.summary


# -- break-glass follow-up from the log ------------------------------------------------------


def test_a_break_glass_use_whose_follow_up_row_was_deleted_fails(history: History) -> None:
    assert _check(history, BG).status is CheckStatus.PASS
    grant = history.breakglass("carol", None)
    history.clock.advance(timedelta(days=2))
    store_sql(history, ("DELETE FROM access_followups WHERE grant_id = ?", (grant,)))
    r = _check(history, BG)
    assert r.status is CheckStatus.FAIL, r.summary
    assert grant in r.summary


def test_a_follow_up_marked_done_in_the_store_without_its_event_fails(history: History) -> None:
    grant = history.breakglass("carol", None)
    history.clock.advance(timedelta(hours=2))
    store_sql(
        history,
        (
            "UPDATE access_followups SET completed_by = 'bob', completed_at = opened_at,"
            " note = 'ok' WHERE grant_id = ?",
            (grant,),
        ),
    )
    history.clock.advance(timedelta(days=2))
    r = _check(history, BG)
    assert r.status is CheckStatus.FAIL, r.summary
    assert grant in r.summary


# -- answers that claim more than the checks show --------------------------------------------


def test_test_data_is_not_yes_while_staging_is_the_production_server(
    history: History, tmp_path: Path
) -> None:
    pins = {"prod-db": "postgresql:7001", "staging-db": "postgresql:7001"}
    ev = evaluate(history.inputs(pinned_identities=pins))
    assert ev.results[MASK].status is CheckStatus.PASS
    assert ev.results["separation.resource_identity"].status is CheckStatus.FAIL
    a = answer("test_data", ev)
    assert a.value is not Value.YES, a.text
    answers = answer_questionnaire("caiq-v4", ev, tmp_path / "a.csv")
    test_data = [x for x in answers if x.answer is not None and x.answer.topic == "test_data"]
    assert test_data and all(x.answer.value is not Value.YES for x in test_data)  # type: ignore[union-attr]


def test_a_scan_that_read_no_file_proves_nothing(history: History) -> None:
    AuditLog(history.ctx.store).append(
        AuditEvent(
            SCAN_COMPLETED.code,
            Status.SUCCESS,
            "os:ci",
            "scan of 0 files: 0 findings",
            details={
                "counts_by_rule": {},
                "counts_by_severity": {"high": 0, "medium": 0, "low": 0},
                "suppressed": 0,
                "files_scanned": 0,
                "files_skipped": 0,
                "paths_sha256": "0" * 64,
                "estate_used": True,
            },
        )
    )
    ev = evaluate(history.inputs())
    r = ev.results[SCAN]
    assert r.status is CheckStatus.NOT_VERIFIABLE, r.summary
    assert r.why and "no file" in r.why
    assert answer("encryption_in_transit", ev).value is not Value.YES


# -- the pack: a masking run the log records must be in its population -------------------


def test_a_pack_missing_a_masking_run_the_log_records_does_not_verify(
    history: History, tmp_path: Path
) -> None:
    run = history.mask(hits=3, verification=Verification.FAILED)
    verify_pack(pack_of(history, tmp_path, "before.zip"), public_key=load_public_key())
    store_sql(history, ("DELETE FROM masking_runs WHERE run_id = ?", (run,)))
    pack = pack_of(history, tmp_path, "after.zip")
    with pytest.raises(PackInvalid, match=run):
        verify_pack(pack, public_key=load_public_key())


def test_a_login_still_present_of_a_grant_that_ended_before_the_window_fails(
    history: History,
) -> None:
    grant = history.request("carol", "prod-read", "bob")
    history.set_credential(grant, "active")  # never removed
    history.clock.advance(timedelta(days=10))
    now = history.clock.now
    window = Window(now - timedelta(days=1), now)
    r = evaluate(history.inputs(window=window)).results[REVOKE]
    assert r.status is CheckStatus.FAIL, r.summary
    assert grant in r.summary


def test_an_external_login_on_production_of_a_grant_ended_before_the_window_fails(
    history: History,
) -> None:
    history.set_credential(history.grants["dana_staging"], "active")  # on prod-db, live
    history.clock.advance(timedelta(days=10))
    now = history.clock.now
    window = Window(now - timedelta(days=1), now)
    r = evaluate(history.inputs(window=window)).results[EXT]
    assert r.status is CheckStatus.FAIL, r.summary
    assert "dana" in r.summary


@pytest.mark.parametrize(
    "text",
    [
        "Are contractors prevented from accessing production systems?",
        "Is vendor access to the production environment restricted or blocked?",
        "Can you confirm that external developers do not have access to production?",
        "Is production data used in test environments without masking?",
    ],
)
def test_a_question_worded_the_other_way_round_goes_to_a_human(text: str) -> None:
    m = match_question(text)
    assert m.topic is None, m


def test_an_external_reaching_production_is_never_answered_yes_to_prevented(
    history: History, tmp_path: Path
) -> None:
    """The third-party answer is "Yes" when externals CAN reach production; a customer's
    question asking whether they are prevented must not receive that "Yes"."""
    _finding(history, "external_production_access", "dana")
    ev = evaluate(history.inputs())
    sheet = tmp_path / "customer.csv"
    sheet.write_text(
        "Question,Answer,Comment\nAre contractors prevented from accessing production systems?,,\n",
        "utf-8",
    )
    [filled] = answer_questionnaire(str(sheet), ev, tmp_path / "out.csv")
    assert filled.answer is None, filled


# -- access reviews from the log -------------------------------------------------------------


def test_an_access_review_closed_only_in_the_store_does_not_count(history: History) -> None:
    history.clock.advance(timedelta(days=100))
    assert _check(history, "access.review_campaigns").status is CheckStatus.FAIL
    t = fmt_time(history.clock.now - timedelta(days=1))
    store_sql(
        history,
        (
            "INSERT INTO access_campaigns (id, name, due, created_at, closed_at)"
            " VALUES ('cforged', 'Q1 review', ?, ?, ?)",
            (t, t, t),
        ),
    )
    r = _check(history, "access.review_campaigns")
    assert r.status is CheckStatus.FAIL, r.summary
    assert any(i.get("campaign") == "cforged" for i in r.items), r.items


def test_a_break_glass_promotion_followed_up_only_in_the_store_fails(history: History) -> None:
    sha = history.commit("alice@example.com", 7)
    art = "sha256:" + "7" * 64
    promo = history.gate().submit(
        repo=str(history.repo),
        change=sha,
        artifact=art,
        stage="production",
        submitter="carol",
        break_glass_reason="checkout is down",
        otp=history.gate_otp("carol"),
    )
    t = fmt_time(datetime.now(UTC))
    store_sql(
        history,
        (
            "INSERT INTO access_reviews (request_id, reviewer, decision, reason, mfa_method,"
            " mfa_time, created_at) VALUES (?, 'bob', 'approve', 'looked', 'totp', ?, ?)",
            (promo.id, t, t),
        ),
    )
    history.clock.now = datetime.now(UTC) + timedelta(days=2)
    r = _check(history, BG)
    assert r.status is CheckStatus.FAIL, r.summary
    assert promo.id in r.summary


# -- questions whose polarity is reversed without a negation word ----------------------------


@pytest.mark.parametrize(
    "text",
    [
        # SIG/CAIQ-style wordings whose "Yes" is the opposite of stagewall's "Yes"
        "Do you use real customer data in test?",
        "Do you use real customer data in your test environments?",
        "Is live production data copied to development or QA environments?",
        "Are production databases cloned or refreshed into staging for testing?",
        "Can a developer approve their own code change for release to production?",
        "Can MFA be bypassed for administrative access in an emergency?",
        "Is multi-factor authentication optional for remote access?",
        "Can privileged users delete or modify security event logs?",
        "Are legacy protocols such as TLS 1.0 allowed on network connections?",
        "Do any vendors currently lack a signed data processing agreement?",
        "Have there been any security incidents detected in the last 12 months?",
        "Do production and test environments share the same network, kept separate only "
        "by firewall rules?",
        "Are any user access reviews overdue?",
        "Is third-party access to production limited to approved, time-bound grants?",
    ],
)
def test_a_question_reversed_without_a_negation_word_goes_to_a_human(text: str) -> None:
    m = match_question(text)
    assert m.topic is None, m


def test_the_real_data_question_is_not_answered_from_the_masking_check(
    history: History, tmp_path: Path
) -> None:
    ev = evaluate(history.inputs())
    assert answer("test_data", ev).value is Value.YES
    sheet = tmp_path / "customer.csv"
    sheet.write_text("Question,Answer,Comment\nDo you use real customer data in test?,,\n", "utf-8")
    [filled] = answer_questionnaire(str(sheet), ev, tmp_path / "out.csv")
    assert filled.answer is None, filled


# -- approvals from the log, not the editable access_reviews row ---------------------------

_OF_GRANT = "request_id = (SELECT request_id FROM access_grants WHERE id = ?)"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ("reviewer = 'carol'", "written by bob, not carol"),  # who approved, edited
        ("audit_index = NULL, audit_leaf = NULL", "names no audit event"),  # inserted
        ("mfa_method = 'webauthn'", "MFA evidence differs"),
        ("decision = 'approve', audit_leaf = '" + "0" * 64 + "'", "not the event"),
    ],
)
def test_an_approval_row_the_log_does_not_back_does_not_count(
    history: History, change: str, problem: str
) -> None:
    grant = history.request("carol", "prod-read", "bob")
    ev = evaluate(history.inputs())
    assert ev.results[APPROVALS].status is CheckStatus.PASS
    assert answer("mfa", ev).value is Value.YES
    store_sql(history, (f"UPDATE access_reviews SET {change} WHERE {_OF_GRANT}", (grant,)))
    ev = evaluate(history.inputs())
    r = ev.results[APPROVALS]
    assert r.status is CheckStatus.FAIL, r.summary
    [item] = [i for i in r.items if i["grant"] == grant]
    assert problem in str(item["problem"]), item
    for topic in ("mfa", "deployment_separation_of_duties"):
        assert answer(topic, ev).value is not Value.YES, topic


def test_a_promotion_approval_edited_in_the_store_does_not_count(history: History) -> None:
    promo = history.promotions[-1]
    assert _check(history, "gates.production_promotions").status is CheckStatus.PASS
    store_sql(
        history,
        ("UPDATE access_reviews SET reviewer = 'alice' WHERE request_id = ?", (promo,)),
    )
    r = _check(history, "gates.production_promotions")
    assert r.status is CheckStatus.FAIL, r.summary
    assert any("not alice" in str(i.get("problem")) for i in r.items), r.items


# -- the scan: who recorded it and how old it is --------------------------------------------


def _scan_by(history: History, actor: str, high: int = 0) -> int:
    return AuditLog(history.ctx.store).append(
        AuditEvent(
            SCAN_COMPLETED.code,
            Status.FAILURE if high else Status.SUCCESS,
            actor,
            f"scan of 12 files: {high} findings",
            details={
                "counts_by_severity": {"high": high, "medium": 0, "low": 0},
                "files_scanned": 12,
            },
        )
    )


def test_a_clean_scan_posted_by_an_undeclared_actor_does_not_pass(history: History) -> None:
    history.scan(high=2)  # the CI's own scan (os:ci, declared in scan.reporters) fails
    assert _check(history, SCAN).status is CheckStatus.FAIL
    index = _scan_by(history, "os:mallory")
    r = _check(history, SCAN)
    assert r.status is CheckStatus.FAIL, r.summary
    assert r.figures["latest_scan_event"] != index


def test_only_undeclared_scans_are_not_verifiable(history: History) -> None:
    time.sleep(0.01)
    start = datetime.now(UTC)
    _scan_by(history, "os:mallory")
    window = Window(start, datetime.now(UTC) + timedelta(seconds=1))
    r = evaluate(history.inputs(window=window)).results[SCAN]
    assert r.status is CheckStatus.NOT_VERIFIABLE, r.summary
    assert r.why and "os:mallory" in r.why and "scan.reporters" in r.why


def test_a_scan_older_than_thirty_days_at_the_window_end_is_not_verifiable(
    history: History,
) -> None:
    now = datetime.now(UTC)
    stale = Window(history.start - timedelta(days=1), now + timedelta(days=31))
    r = evaluate(history.inputs(window=stale)).results[SCAN]
    assert r.status is CheckStatus.NOT_VERIFIABLE, r.summary
    assert r.why and "30 days" in r.why
    fresh = Window(history.start - timedelta(days=1), now + timedelta(days=29))
    assert evaluate(history.inputs(window=fresh)).results[SCAN].status is CheckStatus.PASS


# -- the 24 h block after an MFA factor reset, measured from the log ------------------------

QUARANTINE = "access.mfa_reset_quarantine"


def _logged(history: History, code: str, actor: str, resource: str) -> int:
    """An event as the product writes it (here: as a bypass of its refusal would)."""
    return AuditLog(history.ctx.store).append(
        AuditEvent(code, Status.SUCCESS, actor, f"{actor}: {code}", resource=resource)
    )


@pytest.mark.parametrize(
    ("code", "resource"),
    [
        ("access.review.recorded", "request:r1"),
        ("gate.promotion.approved", "promotion:p1"),
        ("access.breakglass.used", "grant:g1"),
        ("access.campaign.decided", "campaign:c1"),
        ("mfa.reset", "principal:carol"),
    ],
)
def test_an_act_within_24_h_of_the_actors_factor_reset_fails(
    history: History, code: str, resource: str
) -> None:
    assert _check(history, QUARANTINE).status is CheckStatus.PASS
    reset = _logged(history, "mfa.reset", "alice", "principal:bob")
    assert _check(history, QUARANTINE).status is CheckStatus.PASS  # the reset alone is fine
    _logged(history, code, "alice", "request:r0")  # the resetter is not quarantined
    assert _check(history, QUARANTINE).status is CheckStatus.PASS
    act = _logged(history, code, "bob", resource)
    ev = evaluate(history.inputs())
    r = ev.results[QUARANTINE]
    assert r.status is CheckStatus.FAIL, r.summary
    assert "bob" in r.summary
    assert any(e.first <= reset <= e.last for e in r.events)
    assert any(e.first <= act <= e.last for e in r.events)
    assert answer("mfa", ev).value is not Value.YES


def test_an_act_before_the_reset_passes(history: History) -> None:
    _logged(history, "access.review.recorded", "bob", "request:r1")
    _logged(history, "mfa.reset", "alice", "principal:bob")
    assert _check(history, QUARANTINE).status is CheckStatus.PASS
    later = Window(history.start - timedelta(days=1), datetime.now(UTC) + timedelta(days=2))
    r = evaluate(history.inputs(window=later)).results[QUARANTINE]
    assert r.status is CheckStatus.PASS, r.summary
    assert r.figures["resets"] == 1


# -- a monitoring suppression silences alerts, never the evidence ---------------------------


def test_a_suppressed_external_login_to_production_still_fails_the_check(
    history: History,
) -> None:
    from stagewall.estate import load_estate
    from stagewall.monitoring import GrantIndex, IngestContext, ingest_lines

    text = history.config.read_text("utf-8").replace(
        "emails: [dana@devshop.example]}",
        "emails: [dana@devshop.example], identities: {logins: [dana]}}",
    )
    history.config.write_text(
        text + "monitoring:\n  sources:\n    pg: {type: postgresql, resource: prod-db}\n"
        "  suppress:\n    - {rule: external_production_access, principal: dana, "
        "reason: vendor maintenance}\n"
        "    - {rule: production_login_without_grant, principal: dana, "
        "reason: vendor maintenance}\n",
        "utf-8",
    )
    estate = load_estate(history.config).estate
    ts = "2026-12-01 09:00:00.000 UTC"
    lines = [
        f"{ts} [1] LOG:  connection received: host=203.0.113.9 port=5000",
        f"{ts} [1] LOG:  connection authorized: user=dana database=shop",
    ]
    alerts = history.root / "alerts.jsonl"
    before = alerts.read_text("utf-8") if alerts.exists() else ""
    ctx = IngestContext(
        estate,
        history.ctx.store,
        grants=GrantIndex(()),
        sinks=[FileAlertSink(alerts)],
    )
    try:
        report = ingest_lines("pg", lines, ctx)
    finally:
        ctx.close()
    assert report.suppressed == 2
    after = alerts.read_text("utf-8") if alerts.exists() else ""
    assert after == before  # the alert stays silenced
    ev = evaluate(history.inputs())
    r = ev.results[EXT]
    assert r.status is CheckStatus.FAIL, r.summary
    assert "dana" in r.summary
    assert any("suppressed" in str(i.get("where")) for i in r.items), r.items
    assert answer("third_party_production_access", ev).value is Value.YES


def test_a_late_promotion_follow_up_backdated_in_the_store_stays_late(history: History) -> None:
    """The follow-up's time is its gate.followup.reviewed event's, not the review row's."""
    sha = history.commit("dana@devshop.example", 8)
    gate = history.gate()
    promo = gate.submit(
        repo=str(history.repo),
        change=sha,
        artifact="sha256:" + "8" * 64,
        stage="production",
        submitter="carol",
        break_glass_reason="checkout is down",
        otp=history.gate_otp("carol"),
    )
    otp = history.otp("alice")  # a code no earlier step of the history used
    gate.approve(promo.id, approver="alice", otp=otp, reason="looked", now=history.clock.now)
    # the insider backdates the promotion three days, and the follow-up row to 1 h after it
    opened = datetime.now(UTC) - timedelta(days=3)
    store_sql(
        history,
        (
            "UPDATE gate_promotions SET created_at = ?, followup_due = ? WHERE request_id = ?",
            (fmt_time(opened), fmt_time(opened + timedelta(hours=24)), promo.id),
        ),
        (
            "UPDATE access_reviews SET created_at = ? WHERE request_id = ?",
            (fmt_time(opened + timedelta(hours=1)), promo.id),
        ),
    )
    window = Window(opened - timedelta(days=1), datetime.now(UTC) + timedelta(seconds=1))
    r = evaluate(history.inputs(window=window)).results[BG]
    assert r.status is CheckStatus.FAIL, r.summary
    assert any(i["use"] == promo.id and "late" in str(i["problem"]) for i in r.items), r.items
