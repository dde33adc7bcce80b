"""More fields a log's writer (or a client) chooses, which must stay claims.

- Failed logins naming many user names from one client (password spraying), or one
  name failing from many clients or on many hosts, are alerted as such; the names
  are the client's and are recorded as claims, never as a principal.
- An HTTP access log's user on a 2xx response is what the web server wrote: a proxy
  may log a client-sent header or a basic-auth user it never checked. It is the actor
  only where the source is declared ``authenticating``.
- A hosted git audit log (GitHub, GitLab) naming a repository its source is not
  declared for is a claim, as for plain git servers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from stagewall.estate.loader import parse_estate
from stagewall.monitoring import GrantIndex, IngestContext, IngestReport, ingest_lines
from stagewall.store import Store
from tests.monitoring.conftest import ESTATE
from tests.monitoring.test_attribution_claims import events

REPOS = """  git-stg: {environment: staging, kind: host, identifiers: [git-stg-1]}
  repo-prod: {environment: production, kind: repository, identifiers: [platform/payments]}
  repo-stg: {environment: staging, kind: repository, identifiers: [team/app], host: git-stg-1}
  db-two: {environment: production, kind: postgresql, host: db2.prod, database: app}
"""
SOURCES = """
    pg-two: {type: postgresql, resource: db-two}
    git-proxy: {type: git, resource: git-stg, hosts: [repo-prod]}
    git-auth: {type: git, resource: git-stg, hosts: [repo-prod], authenticating: true}
    gh-org: {type: github, hosts: [repo-prod]}
    gh-other: {type: github}
    gl-org: {type: gitlab, hosts: [repo-prod]}
    gl-other: {type: gitlab}
    ssh-untrusted: {type: sshd, resource: bastion}
    ssh-trusted: {type: sshd, resource: bastion, trust_program_names: true}
    git-trusted: {type: git, resource: git-stg, trust_program_names: true}
    files: {type: sftp, resource: bastion}
    files-trusted: {type: sftp, resource: bastion, trust_program_names: true}
"""


def estate_text() -> str:
    text = ESTATE.replace(
        "ssh: {type: sshd, resource: bastion}",
        "ssh: {type: sshd, resource: bastion, trust_program_names: true}",
    )
    text = text.replace(
        "  bastion: {environment: production, kind: host, identifiers: [bastion]}\n",
        "  bastion: {environment: production, kind: host, identifiers: [bastion]}\n" + REPOS,
    )
    return text.rstrip("\n") + SOURCES


def run(tmp_path: Path, batches: list[tuple[str, list[str]]]) -> list[IngestReport]:
    store = Store(f"sqlite:///{tmp_path / 'stagewall.db'}")
    store.migrate()
    estate = parse_estate(estate_text()).estate
    with IngestContext(estate, store, grants=GrantIndex(())) as ctx:
        return [ingest_lines(source, lines, ctx, final=True) for source, lines in batches]


def ingest(tmp_path: Path, source: str, lines: list[str]) -> IngestReport:
    return run(tmp_path, [(source, lines)])[0]


def rules(*reports: IngestReport) -> set[str]:
    return {f.rule for r in reports for f in r.findings}


def findings(rule: str, *reports: IngestReport) -> list[dict[str, Any]]:
    return [f.to_json() for r in reports for f in r.findings if f.rule == rule]


# -- 1. claimed names: spraying, and one name from everywhere ---------------------------

SSH_FAIL = (
    "Dec  1 {h:02d}:{m:02d}:00 {host} sshd[{pid}]: Failed password for {user} from {ip} port 5 ssh2"
)
PG_FAIL = '2026-12-01 10:{m:02d}:00.000 UTC [{pid}] FATAL:  password authentication failed for user "{user}"'


def test_one_client_trying_many_names_is_a_spray_with_the_names_as_claims(tmp_path: Path) -> None:
    """One try each for ten names (alice, bob among them): under the burst threshold."""
    names = ["alice", "bob", "admin", "root", "oracle", "test", "guest", "ubuntu", "pi", "git"]
    lines = [
        SSH_FAIL.format(h=10, m=i, host="bastion", pid=100 + i, user=u, ip="198.51.100.7")
        for i, u in enumerate(names)
    ]
    report = ingest(tmp_path, "ssh", lines)
    assert "failed_login_burst" not in rules(report)
    (spray,) = findings("failed_login_spray", report)
    assert spray["src_ip"] == "198.51.100.7"
    assert spray["count"] == 10
    assert spray["principal"] == "" and spray["user"] == ""
    assert spray["actor"] == "unknown"  # never alice or bob
    assert sorted(spray["claims"]) == sorted(f"user:{n}" for n in names)


def test_fewer_names_than_the_threshold_are_no_spray(tmp_path: Path) -> None:
    lines = [
        SSH_FAIL.format(h=10, m=i, host="bastion", pid=100 + i, user=f"u{i}", ip="198.51.100.7")
        for i in range(9)
    ]
    assert "failed_login_spray" not in rules(ingest(tmp_path, "ssh", lines))


def test_names_spread_over_more_than_the_window_are_no_spray(tmp_path: Path) -> None:
    # one every 7 minutes: 63 minutes from the first to the tenth, 9 in any hour
    lines = [
        SSH_FAIL.format(
            h=10 + i * 7 // 60,
            m=i * 7 % 60,
            host="bastion",
            pid=100 + i,
            user=f"u{i}",
            ip="198.51.100.7",
        )
        for i in range(10)
    ]
    assert "failed_login_spray" not in rules(ingest(tmp_path, "ssh", lines))


def test_one_name_failing_from_many_clients_is_alerted_as_a_claim(tmp_path: Path) -> None:
    """alice's name from ten addresses (a distributed guess): one try each."""
    lines = [
        SSH_FAIL.format(h=10, m=i, host="bastion", pid=100 + i, user="alice", ip=f"203.0.113.{i}")
        for i in range(10)
    ]
    report = ingest(tmp_path, "ssh", lines)
    (f,) = findings("failed_login_name_many_clients", report)
    assert f["principal"] == "" and f["actor"] == "unknown:alice"
    assert f["user"] == "alice"
    assert f["claims"] == ["user:alice"]


def test_one_name_failing_on_many_resources_is_alerted(tmp_path: Path) -> None:
    """alice's name refused by ssh on the bastion, and by two PostgreSQL servers (whose
    lines name no host): three places the name was tried, from one client each."""
    ssh = [SSH_FAIL.format(h=10, m=0, host="bastion", pid=1, user="alice", ip="203.0.113.1")]
    pg = [PG_FAIL.format(m=1, pid=2, user="alice")]
    pg2 = [PG_FAIL.format(m=2, pid=3, user="alice")]
    reports = run(tmp_path, [("ssh", ssh), ("pg", pg), ("pg-two", pg2)])
    (f,) = findings("failed_login_name_many_targets", *reports)
    assert f["principal"] == "" and f["actor"] == "unknown:alice"
    assert f["claims"] == ["user:alice"]
    assert f["count"] == 3


def test_one_name_failing_twice_on_one_resource_is_no_spread(tmp_path: Path) -> None:
    pg = [PG_FAIL.format(m=m, pid=m, user="alice") for m in range(5)]
    reports = run(tmp_path, [("pg", pg)])
    assert "failed_login_name_many_targets" not in rules(*reports)


# -- 2. an access log's user is the proxy's word, unless the source authenticates -------

GIT_HTTP = (
    '203.0.113.9 - {user} [01/Dec/2026:10:00:00 +0000] "POST /{repo}.git/git-upload-pack '
    'HTTP/1.1" {status} 5000 "-" "git/2.39.2"'
)


def test_an_access_log_user_on_a_200_is_a_claim_unless_the_source_authenticates(
    tmp_path: Path,
) -> None:
    """A proxy logging an X-Remote-User header the client sent: "alice" on a 200."""
    line = GIT_HTTP.format(user="alice", repo="platform/payments", status=200)
    report = ingest(tmp_path, "git-proxy", [line])
    (doc,) = events(report, tmp_path)
    assert doc["actor"]["user"] == {"name": "alice"}  # recorded as written
    assert doc["unmapped"]["actor"] == "unknown:alice"
    assert doc["unmapped"]["claim"] == "user:alice"
    assert doc["unmapped"]["resource"] == "repo-prod"
    ok = tmp_path / "ok"
    ok.mkdir()
    (doc,) = events(ingest(ok, "git-auth", [line]), ok)
    assert doc["actor"]["user"] == {"name": "alice", "uid": "alice"}
    assert "claim" not in doc["unmapped"]


def test_a_claimed_access_log_user_builds_no_baseline_and_no_alert_in_its_name(
    tmp_path: Path,
) -> None:
    """bob is external: on an authenticating source his production fetch is alerted in
    his name; through a proxy that did not check it, "bob" is any client's word."""
    line = GIT_HTTP.format(user="bob", repo="platform/payments", status=200)
    report = ingest(tmp_path, "git-proxy", [line])
    assert not [f for f in report.findings if f.principal == "bob"]
    ok = tmp_path / "ok"
    ok.mkdir()
    assert "external_production_access" in rules(ingest(ok, "git-auth", [line]))


def test_authenticating_on_a_source_that_is_no_git_server_is_refused() -> None:
    with pytest.raises(Exception, match="authenticating applies to git sources only"):
        parse_estate(ESTATE.rstrip("\n") + "\n    x: {type: sshd, authenticating: true}\n")


# -- 3. hosted git: the repository is bound to the source --------------------------------


def github(repo: str, actor: str = "alice-gh") -> str:
    return json.dumps(
        {
            "@timestamp": 1796119200000,
            "action": "git.clone",
            "actor": actor,
            "actor_ip": "203.0.113.9",
            "repo": repo,
        }
    )


def gitlab(path: str) -> str:
    return json.dumps(
        {
            "created_at": "2026-12-01T10:00:00Z",
            "author_name": "alice",
            "entity_path": path,
            "ip_address": "203.0.113.9",
            "details": {"action": "git-upload-pack"},
        }
    )


@pytest.mark.parametrize(
    ("source", "line"),
    [("gh-other", github("platform/payments")), ("gl-other", gitlab("platform/payments"))],
)
def test_a_hosted_git_event_naming_a_repository_not_declared_for_its_source_is_a_claim(
    tmp_path: Path, source: str, line: str
) -> None:
    report = ingest(tmp_path, source, [line])
    (doc,) = events(report, tmp_path)
    assert "resource" not in doc["unmapped"]
    assert doc["unmapped"]["tier"] == "unknown"
    assert doc["resources"] == [{"name": "platform/payments"}]  # recorded as written
    assert doc["unmapped"]["claim"] == "repository:platform/payments"
    assert "source_host_mismatch" in rules(report)


@pytest.mark.parametrize(
    ("source", "line"),
    [("gh-org", github("platform/payments")), ("gl-org", gitlab("platform/payments"))],
)
def test_a_hosted_git_event_naming_a_declared_repository_is_attributed(
    tmp_path: Path, source: str, line: str
) -> None:
    report = ingest(tmp_path, source, [line])
    (doc,) = events(report, tmp_path)
    assert doc["unmapped"]["resource"] == "repo-prod"
    assert "claim" not in doc["unmapped"]
    assert "source_host_mismatch" not in rules(report)


def test_a_hosted_git_event_naming_no_declared_repository_is_attributed_to_nothing(
    tmp_path: Path,
) -> None:
    (doc,) = events(ingest(tmp_path, "gh-other", [github("someone/else")]), tmp_path)
    assert "resource" not in doc["unmapped"] and "claim" not in doc["unmapped"]


# -- 4. a text syslog line's program name is the sender's word -------------------------

ACCEPTED = "Accepted publickey for alice from 203.0.113.9 port 5 ssh2"


def test_a_text_syslog_sshd_line_is_not_sshd_unless_the_source_trusts_program_names(
    tmp_path: Path,
) -> None:
    """``logger -i -t sshd "Accepted publickey for alice ..."`` by any local user: in a text
    syslog file it reads exactly like sshd's own line."""
    line = f"Dec  1 10:00:00 bastion sshd[4242]: {ACCEPTED}"
    report = ingest(tmp_path, "ssh-untrusted", [line])
    (doc,) = events(report, tmp_path)
    assert doc["class_uid"] == 6003  # not an Authentication event
    assert doc["actor"]["user"] == {"name": "alice"}  # recorded as written
    assert doc["unmapped"]["actor"] == "unknown:alice"
    assert doc["unmapped"]["claim"] == "program:sshd"
    assert doc["unmapped"]["operation"] == "program_forgery"
    assert "production_login_without_grant" not in rules(report)
    assert "program_name_forgery" in rules(report)  # a claimed logon: alerted
    ok = tmp_path / "ok"
    ok.mkdir()
    (doc,) = events(ingest(ok, "ssh-trusted", [line]), ok)
    assert doc["class_uid"] == 3002
    assert doc["user"] == {"name": "alice", "uid": "alice"}


def test_an_unproven_failed_login_line_is_recorded_without_an_alert(tmp_path: Path) -> None:
    line = (
        "Dec  1 10:00:00 bastion sshd[4242]: Failed password for bob from 203.0.113.9 port 5 ssh2"
    )
    report = ingest(tmp_path, "ssh-untrusted", [line])
    (doc,) = events(report, tmp_path)
    assert doc["unmapped"]["operation"] == "program_claim"
    assert "uid" not in doc["actor"]["user"]
    assert report.findings == []


def test_a_pidless_sshd_line_is_a_forgery_even_on_a_trusting_source(tmp_path: Path) -> None:
    """``logger -t sshd`` (without -i) writes no PID; sshd always does."""
    report = ingest(tmp_path, "ssh-trusted", [f"Dec  1 10:00:00 bastion sshd: {ACCEPTED}"])
    (doc,) = events(report, tmp_path)
    assert doc["class_uid"] == 6003
    assert doc["unmapped"]["operation"] == "program_forgery"
    assert "program_name_forgery" in rules(report)
    assert "production_login_without_grant" not in rules(report)


def test_a_journald_record_whose_process_is_not_sshd_is_alerted_as_a_forgery(
    tmp_path: Path,
) -> None:
    record = {
        "__REALTIME_TIMESTAMP": "1796119200000000",
        "_HOSTNAME": "bastion",
        "SYSLOG_IDENTIFIER": "sshd",
        "_PID": "4242",
        "MESSAGE": ACCEPTED,
    }
    forged = json.dumps({**record, "_COMM": "logger"})
    real = json.dumps({**record, "_COMM": "sshd-session"})
    report = ingest(tmp_path, "ssh-untrusted", [forged, real])
    first, second = events(report, tmp_path)
    assert first["unmapped"]["operation"] == "program_forgery"
    assert "uid" not in first["actor"]["user"]
    assert second["class_uid"] == 3002 and second["user"]["uid"] == "alice"
    assert "program_name_forgery" in rules(report)


def test_a_git_daemon_or_wrapper_line_from_an_untrusted_tag_is_no_fetch(tmp_path: Path) -> None:
    lines = [
        "Dec  1 10:00:00 git-stg-1 git-daemon[7]: Request upload-pack for '/team/app.git'",
        "Dec  1 10:00:01 git-stg-1 git-ssh[8]: user=bob from=203.0.113.9 "
        "command=git-upload-pack 'team/app.git'",
    ]
    docs = events(ingest(tmp_path, "git-proxy", lines), tmp_path)
    assert [d["unmapped"]["operation"] for d in docs] == ["program_claim", "program_claim"]
    assert all("uid" not in d["actor"]["user"] for d in docs)
    ok = tmp_path / "ok"
    ok.mkdir()
    docs = events(ingest(ok, "git-trusted", lines), ok)
    assert [d["unmapped"]["operation"] for d in docs] == ["git.fetch", "git.fetch"]
    assert docs[1]["actor"]["user"] == {"name": "bob", "uid": "bob"}


def test_an_sftp_session_opened_by_an_untrusted_tag_attributes_nothing(tmp_path: Path) -> None:
    """A forged ``session opened`` for alice on a real session's PID would make the
    real session's downloads alice's."""
    lines = [
        "Dec  1 10:00:00 files sshd[500]: session opened for local user alice from [203.0.113.9]",
        'Dec  1 10:00:01 files sshd[500]: close "/data/x.csv" bytes read 100 written 0',
    ]
    (doc,) = events(ingest(tmp_path, "files", lines), tmp_path)
    assert doc["unmapped"]["operation"] == "program_claim"
    assert "uid" not in doc["actor"]["user"]
    ok = tmp_path / "ok"
    ok.mkdir()
    (doc,) = events(ingest(ok, "files-trusted", lines), ok)
    assert doc["class_uid"] == 6006 and doc["actor"]["user"]["uid"] == "alice"


def test_trust_program_names_on_a_source_without_syslog_is_refused() -> None:
    with pytest.raises(Exception, match="trust_program_names applies to sshd, sftp and git"):
        parse_estate(ESTATE.rstrip("\n") + "\n    x: {type: github, trust_program_names: true}\n")
