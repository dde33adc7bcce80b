"""ingest_lines end to end: mapping, the companion log and its anchors, findings, alerts."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import text

from stagewall.alerts import FileAlertSink
from stagewall.audit import AuditLog, LogBroken
from stagewall.errors import MonitoringError, SigmaRuleInvalid, UnknownLogSource
from stagewall.estate import Estate
from stagewall.monitoring import GrantIndex, GrantWindow, IngestContext, ingest_lines
from stagewall.monitoring.log import MonitorLog
from stagewall.store import Store
from tests.monitoring.conftest import make_estate

# Tuesday 2026-12-01, 10:00 Berlin = 09:00 UTC
T = "2026-12-01 09:00:00.000 UTC"


def pg(pid: int, msg: str, ts: str = T) -> str:
    return f"{ts} [{pid}] LOG:  {msg}"


def login(user: str, db: str = "app", ip: str = "10.0.0.5", pid: int = 1, ts: str = T) -> list[str]:
    return [
        pg(pid, f"connection received: host={ip} port=5000", ts),
        pg(pid, f"connection authorized: user={user} database={db}", ts),
    ]


def test_events_are_mapped_stored_chained_and_anchored(estate: Estate, store: Store) -> None:
    ctx = IngestContext(estate, store, grants=GrantIndex(()))
    report = ingest_lines("pg", [*login("alice_ro"), *login("mallory", pid=2), "junk"], ctx)
    assert (report.lines, report.events, report.malformed) == (5, 2, 1)
    assert report.malformed_samples == [
        {"line": 5, "reason": "not a PostgreSQL log line (stderr, csvlog or jsonlog)"}
    ]
    docs = MonitorLog(store).documents()
    assert [d["unmapped"]["actor"] for d in docs] == ["alice", "unknown:mallory"]
    first = docs[0]
    assert first["class_uid"] == 3002 and first["type_uid"] == 300201
    assert first["user"] == {"name": "alice_ro", "uid": "alice"}
    assert first["unmapped"]["resource"] == "db-prod"
    assert first["unmapped"]["tier"] == "production"
    assert first["unmapped"]["grant_active"] is False
    assert docs[1]["unmapped"]["affiliation"] == "unknown"
    head = MonitorLog(store).verify_anchored()
    assert head.size == 2 and head.chain.hex() == report.head
    batch = [e for e in AuditLog(store).events() if e.code == "monitoring.ingest.batch"]
    assert batch[0].details["monitoring_head"] == report.head


def test_a_rewritten_monitoring_event_is_detected(estate: Estate, store: Store) -> None:
    ctx = IngestContext(estate, store, grants=GrantIndex(()))
    ingest_lines("pg", login("alice") + login("bob", pid=2), ctx)
    with store.transaction() as conn:
        conn.execute(text("DROP TRIGGER monitoring_blocks_no_update"))
        conn.execute(
            text(
                "UPDATE monitoring_blocks SET events = "
                "replace(events, 'alice', 'alicf') WHERE first_idx = 0"
            )
        )
    with pytest.raises(LogBroken, match="index 0"):
        MonitorLog(store).verify_anchored()


def test_a_truncated_monitoring_log_is_caught_by_its_anchor(estate: Estate, store: Store) -> None:
    ctx = IngestContext(estate, store, grants=GrantIndex(()))
    ingest_lines("pg", login("alice"), ctx)
    ingest_lines("pg", login("bob", pid=2), ctx)  # a second batch, a second block
    with store.transaction() as conn:
        conn.execute(text("DROP TRIGGER monitoring_blocks_no_delete"))
        conn.execute(text("DELETE FROM monitoring_blocks WHERE first_idx = 1"))
    with pytest.raises(LogBroken, match="does not match its anchor"):
        MonitorLog(store).verify_anchored()


def test_findings_go_to_the_audit_log_and_the_alert_sinks(
    estate: Estate, store: Store, tmp_path: Path
) -> None:
    sink = tmp_path / "alerts.jsonl"
    ctx = IngestContext(estate, store, sinks=[FileAlertSink(sink)], grants=GrantIndex(()))
    report = ingest_lines("pg", login("bob", ip="100.80.0.1"), ctx)
    rules = sorted(f.rule for f in report.findings)
    assert rules == ["external_production_access", "production_login_without_grant"]
    findings = [e for e in AuditLog(store).events() if e.code == "monitoring.finding.created"]
    assert len(findings) == 2
    doc = findings[0].document()
    assert doc["class_uid"] == 2004 and doc["type_uid"] == 200401
    info = doc["unmapped"]["finding_info"]
    assert info["analytic"]["name"] in rules
    evidence = doc["unmapped"]["evidences"][0]
    stored = MonitorLog(store).documents(evidence["index"], 1)[0]
    assert stored["unmapped"]["actor"] == "bob"
    alerts = [json.loads(line) for line in sink.read_text().splitlines()]
    assert sorted(a["kind"] for a in alerts) == [
        "monitoring.external_production_access",
        "monitoring.production_login_without_grant",
    ]
    assert alerts[0]["severity"] == "critical"


def test_a_login_inside_a_grant_is_quiet_and_outside_it_alerts(store: Store) -> None:
    estate = make_estate()
    t0 = 1796115600.0  # 2026-12-01 09:00 UTC
    grants = GrantIndex([GrantWindow("alice", "production", t0 - 60, t0 + 600)])
    ctx = IngestContext(estate, store, grants=grants)
    inside = ingest_lines("pg", login("alice"), ctx)
    assert inside.findings == []
    later = login("alice", pid=3, ts="2026-12-01 09:30:00.000 UTC")
    outside = ingest_lines("pg", later, ctx)
    assert [f.rule for f in outside.findings] == ["production_login_without_grant"]
    assert outside.findings[0].principal == "alice"


def test_grants_and_issued_logins_are_read_from_the_access_tables(store: Store) -> None:
    estate = make_estate()
    with store.transaction() as conn:
        conn.execute(
            text(
                "INSERT INTO access_grants (id, principal, role, environment, production, source, "
                "reason, starts_at, ends_at, status, created_at) VALUES ('g1', 'alice', 'prod-read', "
                "'production', 1, 'request', 'x', '2026-12-01T08:55:00.000000Z', "
                "'2026-12-01T09:10:00.000000Z', 'expired', '2026-12-01T08:55:00.000000Z')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO access_credentials (grant_id, resource, login, issued_at, state) "
                "VALUES ('g1', 'db-prod', 'sw_alice_1a2b', '2026-12-01T08:55:00.000000Z', 'revoked')"
            )
        )
    ctx = IngestContext(estate, store)
    report = ingest_lines("pg", login("sw_alice_1a2b"), ctx)
    assert report.findings == []
    doc = MonitorLog(store).documents()[0]
    assert doc["unmapped"]["actor"] == "alice" and doc["unmapped"]["grant_active"] is True


def test_unknown_source_is_refused_with_the_known_ones(estate: Estate, store: Store) -> None:
    ctx = IngestContext(estate, store, grants=GrantIndex(()))
    with pytest.raises(UnknownLogSource, match=r"'nope' is not declared .*known: gh, pg, pg-stg"):
        ingest_lines("nope", [], ctx)


def test_suppression_and_rule_settings_from_the_estate(store: Store) -> None:
    estate = make_estate(
        "  rules:\n"
        "    production_login_without_grant: {enabled: false}\n"
        "    failed_login_burst: {threshold: 3, timespan: 1m}\n"
        "  suppress:\n"
        "    - {rule: external_production_access, principal: bob, reason: pen test, "
        "until: 2030-01-01}\n"
    )
    ctx = IngestContext(estate, store, grants=GrantIndex(()))
    r1 = ingest_lines("pg", login("bob"), ctx)
    # silenced, not hidden: the evidence that someone reached production stays recorded
    assert r1.suppressed == 1
    assert [(f.rule, f.suppressed) for f in r1.findings] == [
        ("external_production_access", "pen test")
    ]
    fails = [
        f"Dec  1 09:00:0{i} bastion sshd[9{i}]: Failed password for root from 203.0.113.9 "
        f"port {i} ssh2"
        for i in range(3)
    ]
    ctx2 = IngestContext(estate, store, grants=GrantIndex(()), year=2026)
    r2 = ingest_lines("ssh", fails, ctx2)
    assert [(f.rule, f.count) for f in r2.findings] == [("failed_login_burst", 3)]


def test_unknown_rule_in_settings_is_refused(store: Store) -> None:
    estate = make_estate("  rules:\n    no_such_rule: {enabled: false}\n")
    with pytest.raises(SigmaRuleInvalid, match="names unknown rules: no_such_rule"):
        IngestContext(estate, store, grants=GrantIndex(()))


def test_user_rules_are_loaded_and_evaluated(store: Store, tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "prod_drop.yml").write_text(
        "title: Table dropped on staging\nname: staging_drop\nlogsource: {product: stagewall, "
        "category: datastore}\ndetection:\n  sel:\n    operation|startswith: DROP\n"
        "    tier: non-production\n  condition: sel\nlevel: high\n"
    )
    estate = make_estate("  rules_dir: rules\n")
    ctx = IngestContext(estate, store, grants=GrantIndex(()), base_dir=tmp_path)
    line = pg(5, "AUDIT: SESSION,1,1,DDL,DROP TABLE,TABLE,public.t,drop table t,<none>")
    r = ingest_lines("pg-stg", [*login("alice", db="app", pid=5), line], ctx)
    assert [f.rule for f in r.findings] == ["staging_drop"]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            "title: x\nlogsource: {product: stagewall}\ndetection:\n  s: {nosuchfield: 1}\n"
            "  condition: s\n",
            "unknown field 'nosuchfield'",
        ),
        (
            "title: x\nlogsource: {product: windows}\ndetection:\n  s: {user: a}\n  condition: s\n",
            "logsource product 'windows' is not stagewall",
        ),
        (
            "title: x\nlogsource: {product: stagewall}\ndetection:\n  s: {user: a}\n"
            "  condition: s and\n",
            "not a valid Sigma rule",
        ),
        (
            "title: x\nname: c\ncorrelation: {type: event_count, rules: [failed_login], "
            "group-by: [user], timespan: 5m, condition: {lt: 3}}\n",
            "only gt/gte",
        ),
    ],
)
def test_bad_user_rules_are_refused_with_a_reason(
    store: Store, tmp_path: Path, rule: str, message: str
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.yml").write_text(rule)
    estate = make_estate("  rules_dir: rules\n")
    with pytest.raises(MonitoringError, match=message):
        IngestContext(estate, store, grants=GrantIndex(()), base_dir=tmp_path)


def test_gap_in_a_source_becomes_a_finding(estate: Estate, store: Store) -> None:
    ctx = IngestContext(estate, store, grants=GrantIndex(()))
    ingest_lines("pg", login("app_user"), ctx)
    late = login("app_user", pid=9, ts="2026-12-01 11:30:00.000 UTC")
    r = ingest_lines("pg", late, ctx)
    assert [f.rule for f in r.findings] == ["log_source_gap"]
    assert r.findings[0].resource == "db-prod"
    # state survives a restart: a new context continues from the saved baselines
    ctx2 = IngestContext(estate, store, grants=GrantIndex(()))
    again = login("app_user", pid=10, ts="2026-12-01 14:00:00.000 UTC")
    assert [f.rule for f in ingest_lines("pg", again, ctx2).findings] == ["log_source_gap"]


def test_a_source_without_max_gap_is_not_watched_for_silence(estate: Estate, store: Store) -> None:
    # pg-stg declares no max_gap: hours of silence are no finding, and no newest time
    # is kept for it (only watched sources are observed)
    ctx = IngestContext(estate, store, grants=GrantIndex(()))
    ingest_lines("pg-stg", login("app_user", db="app"), ctx)
    late = login("app_user", pid=9, ts="2026-12-03 11:30:00.000 UTC")
    assert [f.rule for f in ingest_lines("pg-stg", late, ctx).findings] == []
    assert "pg-stg" not in ctx.gaps.last
    ingest_lines("pg", login("app_user"), ctx)  # pg (max_gap 1h) is watched
    assert "pg" in ctx.gaps.last
    ctx.close()


def test_estate_refuses_dangling_monitoring_references() -> None:
    from stagewall.errors import ConfigError

    bad = ESTATE_EXTRA_BAD
    with pytest.raises(ConfigError) as err:
        make_estate(bad)
    text = err.value.message
    assert "monitoring.sources.web.resource" in text and "unknown resource 'nope'" in text


def test_estate_refuses_bad_working_hours_and_time_zones() -> None:
    from stagewall.errors import ConfigError

    with pytest.raises(ConfigError, match="not a working-hours window"):
        make_estate("  working_hours: 'weekdays 9 to 5'\n")
    with pytest.raises(ConfigError, match="not a known time zone"):
        make_estate("  timezone: Mars/Olympus\n")


ESTATE_EXTRA_BAD = "    web: {type: sshd, resource: nope}\n"


def test_a_grant_approved_after_the_context_started_is_seen(store: Store) -> None:
    estate = make_estate()
    ctx = IngestContext(estate, store)  # a long-running server's context
    assert ingest_lines("pg", login("bob", pid=7), ctx).events == 1
    before = ctx.index
    ingest_lines("pg", login("bob", pid=8), ctx)
    assert ctx.index is before  # no grant changed: the index and its caches stay
    with store.transaction() as conn:
        conn.execute(
            text(
                "INSERT INTO access_grants (id, principal, role, environment, production, source, "
                "reason, starts_at, ends_at, status, created_at) VALUES ('g2', 'alice', 'prod-read', "
                "'production', 1, 'request', 'x', '2026-12-01T08:55:00.000000Z', "
                "'2026-12-01T10:00:00.000000Z', 'active', '2026-12-01T08:55:00.000000Z')"
            )
        )
    assert ingest_lines("pg", login("alice"), ctx).findings == []
    assert ctx.index is not before
    # a revocation (an earlier end for the same grant) is seen too
    with store.transaction() as conn:
        conn.execute(
            text(
                "UPDATE access_grants SET revoked_at = '2026-12-01T08:58:00.000000Z' WHERE id = 'g2'"
            )
        )
    found = ingest_lines("pg", login("alice", pid=9), ctx).findings
    assert [f.rule for f in found] == ["production_login_without_grant"]
    ctx.close()


def test_a_context_keeps_one_connection_between_batches_and_releases_it(
    estate: Estate, store: Store
) -> None:
    # Opening and closing a SQLite connection per batch checkpointed and fsynced the
    # WAL every time (most of ingest's wall time); a follower keeps one.
    with IngestContext(estate, store, grants=GrantIndex(())) as ctx:
        pool = ctx.store.engine.pool
        for pid in range(1, 4):
            assert ingest_lines("pg", login("alice", pid=pid), ctx).events == 1
        assert pool.checkedin() == 1  # type: ignore[attr-defined]
        assert pool.checkedout() == 0  # type: ignore[attr-defined]
    assert pool.checkedin() == 0  # type: ignore[attr-defined]
    assert MonitorLog(store).verify_anchored().size == 3


def test_undecodable_bytes_in_a_line_neither_stop_ingest_nor_reach_the_log(
    estate: Estate, store: Store
) -> None:
    # A user name with invalid UTF-8 (which a client can make a database log) once
    # failed the store write, and with it the whole batch and the follower.
    raw = b'2026-12-01 09:00:00.000 UTC [9] FATAL:  password authentication failed for user "\xff\xfeadmin"'
    line = raw.decode("utf-8", "surrogateescape")
    with IngestContext(estate, store, grants=GrantIndex(())) as ctx:
        report = ingest_lines("pg", [line, *login("alice")], ctx)
    assert (report.events, report.malformed) == (2, 0)
    doc = MonitorLog(store).documents()[0]
    assert doc["user"]["name"] == "\ufffd\ufffdadmin"
    assert doc["unmapped"]["raw_sha256"] == hashlib.sha256(raw).hexdigest()
    assert MonitorLog(store).verify_anchored().size == 2


def test_non_ascii_lines_are_hashed_as_utf8_and_lines_numbered_across_calls(
    estate: Estate, store: Store
) -> None:
    line = pg(1, "connection authorized: user=j\u00f6rg database=app")
    with IngestContext(estate, store, grants=GrantIndex(())) as ctx:
        first = ingest_lines("pg", [line + "\r\n", "junk"], ctx)
        empty = ingest_lines("pg", [], ctx)
        last = ingest_lines("pg", ["junk"], ctx)
    assert (first.lines, first.events, first.malformed, first.first_line) == (2, 1, 1, 1)
    assert (empty.lines, empty.first_line) == (0, 3)
    assert (last.lines, last.first_line, last.malformed_samples[0]["line"]) == (1, 3, 3)
    doc = MonitorLog(store).documents()[0]
    assert doc["user"]["name"] == "j\u00f6rg"
    assert doc["unmapped"]["raw_sha256"] == hashlib.sha256(line.encode("utf-8")).hexdigest()
