"""Fields a log's writer chooses are claims: recorded, never trusted for attribution.

- A CloudTrail session name is the AssumeRole caller's RoleSessionName: an external
  who can assume a role names the session after an internal person (or varies it to
  dodge per-actor baselines). The role, which the caller cannot choose, is the actor.
- A syslog line's HOSTNAME is written by its sender: a shipper of host A sends lines
  saying host B. The source's own resource (and its declared ``hosts``) is where the
  line is attributed.
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

ROLE = "arn:aws:iam::111122223333:role/vendor-dev"
SSO_ROLE = "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Dev_1a2b"
IDP_ROLE = "arn:aws:iam::111122223333:role/data-si"

CLOUD = """
  carol: {affiliation: external, vendor: acme, identities: {cloud: [arn:aws:iam::111122223333:role/vendor-dev]}}
"""
REPOS = """  git-stg: {environment: staging, kind: host, identifiers: [git-stg-1]}
  repo-prod: {environment: production, kind: repository, identifiers: [platform/payments]}
  repo-stg: {environment: staging, kind: repository, identifiers: [team/app], host: git-stg-1}
"""
SOURCES = """
    trail: {type: cloudtrail, resource: exports,
            session_name_roles: ['arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_*'],
            source_identity_roles: [arn:aws:iam::111122223333:role/data-si]}
    ssh-stg: {type: sshd, resource: bastion-stg, trust_program_names: true}
    relay: {type: sshd, resource: bastion-stg, hosts: [bastion], trust_program_names: true}
    git-stg: {type: git, resource: git-stg, trust_program_names: true}
    git-all: {type: git, resource: git-stg, hosts: [repo-prod], authenticating: true}
    pg-any: {type: postgresql}
"""


def _estate_text() -> str:
    text = ESTATE.replace(
        "  bastion: {environment: production, kind: host, identifiers: [bastion]}\n",
        "  bastion: {environment: production, kind: host, identifiers: [bastion]}\n"
        "  bastion-stg: {environment: staging, kind: host, identifiers: [bastion-stg-1]}\n" + REPOS,
    )
    text = text.replace("principals:\n", "principals:" + CLOUD, 1)
    return text.rstrip("\n") + SOURCES


def ingest(tmp_path: Path, source: str, lines: list[str]) -> IngestReport:
    store = Store(f"sqlite:///{tmp_path / 'stagewall.db'}")
    store.migrate()
    estate = parse_estate(_estate_text()).estate
    with IngestContext(estate, store, grants=GrantIndex(())) as ctx:
        return ingest_lines(source, lines, ctx, final=True)


def events(report: IngestReport, tmp_path: Path) -> list[dict[str, Any]]:
    from stagewall.monitoring.log import MonitorLog

    store = Store(f"sqlite:///{tmp_path / 'stagewall.db'}")
    assert report.first_index is not None and report.last_index is not None
    count = report.last_index - report.first_index + 1
    return MonitorLog(store).documents(report.first_index, count)  # type: ignore[return-value]


def assumed(role: str, session: str, *, source_identity: str = "") -> dict[str, Any]:
    name = role.rsplit("/", 1)[-1]
    context: dict[str, Any] = {
        "sessionIssuer": {
            "type": "Role",
            "principalId": "AROAEXAMPLEROLEID",
            "arn": role,
            "accountId": "111122223333",
            "userName": name,
        }
    }
    if source_identity:
        context["sourceIdentity"] = source_identity
    return {
        "eventTime": "2026-12-01T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "sourceIPAddress": "203.0.113.7",
        "recipientAccountId": "111122223333",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": f"AROAEXAMPLEROLEID:{session}",
            "arn": f"arn:aws:sts::111122223333:assumed-role/{name}/{session}",
            "accountId": "111122223333",
            "sessionContext": context,
        },
        "requestParameters": {"bucketName": "nw-exports", "key": "customers.csv"},
        "additionalEventData": {"bytesTransferredOut": 1000},
    }


def rules(report: IngestReport) -> set[str]:
    return {f.rule for f in report.findings}


# -- CloudTrail ---------------------------------------------------------------------


def test_a_session_named_after_an_internal_person_is_the_role_not_the_person(
    tmp_path: Path,
) -> None:
    """carol (external) may assume vendor-dev; she names her session "alice"."""
    report = ingest(tmp_path, "trail", [json.dumps(assumed(ROLE, "alice"))])
    (doc,) = events(report, tmp_path)
    assert doc["actor"]["user"] == {"name": ROLE, "uid": "carol"}
    assert doc["unmapped"]["affiliation"] == "external"
    assert doc["session"] == {"uid": "alice"}  # recorded, as a claim
    assert doc["unmapped"]["claim"] == "session:alice"
    assert {"session_name_claim", "external_production_access"} <= rules(report)


def test_an_unmapped_role_cannot_borrow_a_person_by_its_session_name(tmp_path: Path) -> None:
    role = "arn:aws:iam::111122223333:role/anything"
    report = ingest(tmp_path, "trail", [json.dumps(assumed(role, "alice"))])
    (doc,) = events(report, tmp_path)
    assert "uid" not in doc["actor"]["user"]
    assert doc["unmapped"]["actor"] == f"unknown:{role}"
    assert "session_name_claim" in rules(report)


def test_varying_the_session_name_does_not_vary_the_actor(tmp_path: Path) -> None:
    lines = [json.dumps(assumed(ROLE, f"run-{i}")) for i in range(3)]
    docs = events(ingest(tmp_path, "trail", lines), tmp_path)
    assert {d["unmapped"]["actor"] for d in docs} == {"carol"}
    assert [d["session"]["uid"] for d in docs] == ["run-0", "run-1", "run-2"]


def test_a_declared_identity_provider_role_names_the_person_by_its_session_name(
    tmp_path: Path,
) -> None:
    report = ingest(tmp_path, "trail", [json.dumps(assumed(SSO_ROLE, "bob"))])
    (doc,) = events(report, tmp_path)
    assert doc["actor"]["user"] == {"name": "bob", "uid": "bob"}
    assert "claim" not in doc["unmapped"]
    assert "session_name_claim" not in rules(report)


def test_a_source_identity_role_names_the_person_and_the_session_name_is_a_claim(
    tmp_path: Path,
) -> None:
    honest = assumed(IDP_ROLE, "bob", source_identity="bob")
    lying = assumed(IDP_ROLE, "alice", source_identity="bob")
    unset = assumed(IDP_ROLE, "alice")  # no source identity: the role
    docs = events(
        ingest(tmp_path, "trail", [json.dumps(r) for r in (honest, lying, unset)]), tmp_path
    )
    assert [d["unmapped"]["actor"] for d in docs] == ["bob", "bob", f"unknown:{IDP_ROLE}"]
    assert [d["unmapped"].get("claim") for d in docs] == [None, "session:alice", "session:alice"]


def test_a_session_role_path_is_read_without_a_session_issuer(tmp_path: Path) -> None:
    rec = assumed(ROLE, "alice")
    del rec["userIdentity"]["sessionContext"]
    (doc,) = events(ingest(tmp_path, "trail", [json.dumps(rec)]), tmp_path)
    assert doc["unmapped"]["actor"] == "carol"
    assert doc["unmapped"]["claim"] == "session:alice"


def test_cloud_session_settings_on_another_source_type_are_refused() -> None:
    with pytest.raises(Exception, match="cloudtrail sources only"):
        parse_estate(ESTATE.rstrip("\n") + "\n    x: {type: sshd, session_name_roles: ['arn:*']}\n")


# -- syslog host names --------------------------------------------------------------

LOGIN = "Dec  1 10:00:00 {host} sshd[42]: Accepted publickey for bob from 203.0.113.9 port 5 ssh2"


def test_a_shipper_cannot_attribute_its_lines_to_another_hosts_resource(tmp_path: Path) -> None:
    """The staging bastion's shipper writes lines saying host "bastion" (production)."""
    report = ingest(tmp_path, "ssh-stg", [LOGIN.format(host="bastion")])
    (doc,) = events(report, tmp_path)
    assert doc["unmapped"]["resource"] == "bastion-stg"
    assert doc["unmapped"]["tier"] == "non-production"
    assert doc["dst_endpoint"] == {"hostname": "bastion"}  # recorded as written
    assert doc["unmapped"]["claim"] == "host:bastion"
    assert "source_host_mismatch" in rules(report)


def test_a_production_shipper_cannot_hide_behind_a_staging_host_name(tmp_path: Path) -> None:
    """The reverse: production lines saying a staging host would dodge the production rules."""
    report = ingest(tmp_path, "ssh", [LOGIN.format(host="bastion-stg-1")])
    (doc,) = events(report, tmp_path)
    assert doc["unmapped"]["resource"] == "bastion"
    assert {"source_host_mismatch", "external_production_access"} <= rules(report)


def test_declared_hosts_and_the_own_resource_are_attributed(tmp_path: Path) -> None:
    lines = [LOGIN.format(host=h) for h in ("bastion", "bastion-stg-1", "unlisted-vm")]
    report = ingest(tmp_path, "relay", lines)
    docs = events(report, tmp_path)
    assert [d["unmapped"]["resource"] for d in docs] == ["bastion", "bastion-stg", "bastion-stg"]
    assert all("claim" not in d["unmapped"] for d in docs)
    assert "source_host_mismatch" not in rules(report)


# -- journald: the program is the process's, not the name it gives itself ------------


def test_a_local_user_logging_as_sshd_through_journald_is_not_sshd() -> None:
    """``logger -t sshd "Accepted publickey for alice ..."`` by any local user: journald
    keeps SYSLOG_IDENTIFIER=sshd as sent, and _COMM=logger from the process."""
    from stagewall.monitoring.ingest import parser_for

    def record(comm: str) -> str:
        return json.dumps(
            {
                "__REALTIME_TIMESTAMP": "1796119200000000",
                "_HOSTNAME": "bastion",
                "SYSLOG_IDENTIFIER": "sshd",
                "_COMM": comm,
                "_PID": "4242",
                "MESSAGE": "Accepted publickey for alice from 203.0.113.9 port 5 ssh2",
            }
        )

    (forged,) = parser_for("sshd").feed(record("logger"))  # recorded, as a claim
    assert (forged.class_uid, forged.operation) == (6003, "program_forgery")
    assert forged.claim == "program:sshd"
    assert [e.user for e in parser_for("sshd").feed(record("sshd-session"))] == ["alice"]


# -- git: the repository a line names is the shipper's choice -------------------------

GIT_HTTP = (
    '203.0.113.9 - {user} [01/Dec/2026:10:00:00 +0000] "POST /{repo}.git/git-upload-pack '
    'HTTP/1.1" {status} 5000 "-" "git/2.39.2"'
)


def test_a_git_shipper_cannot_attribute_its_lines_to_a_repository_served_elsewhere(
    tmp_path: Path,
) -> None:
    """The staging git server's shipper sends a fetch naming the production repository."""
    line = GIT_HTTP.format(user="bob", repo="platform/payments", status=200)
    report = ingest(tmp_path, "git-stg", [line])
    (doc,) = events(report, tmp_path)
    assert doc["unmapped"]["resource"] == "git-stg"
    assert doc["unmapped"]["tier"] == "non-production"
    assert doc["resources"] == [{"name": "platform/payments"}]  # recorded as written
    assert doc["unmapped"]["claim"] == "repository:platform/payments"
    assert "source_host_mismatch" in rules(report)
    assert "external_production_access" not in rules(report)


def test_a_git_daemon_line_naming_a_repository_served_elsewhere_is_a_claim(
    tmp_path: Path,
) -> None:
    lines = [
        "Dec  1 10:00:00 git-stg-1 git-daemon[7]: Connection from 203.0.113.9:5000",
        "Dec  1 10:00:00 git-stg-1 git-daemon[7]: Request upload-pack for '/platform/payments.git'",
    ]
    (doc,) = events(ingest(tmp_path, "git-stg", lines), tmp_path)
    assert doc["unmapped"]["resource"] == "git-stg"
    assert doc["unmapped"]["claim"] == "repository:platform/payments"


def test_repositories_a_git_source_serves_are_attributed(tmp_path: Path) -> None:
    """Served on the source's host (repo-stg's host), or listed in its hosts (repo-prod)."""
    lines = [
        GIT_HTTP.format(user="bob", repo=repo, status=200)
        for repo in ("team/app", "platform/payments", "undeclared/x")
    ]
    report = ingest(tmp_path, "git-all", lines)
    docs = events(report, tmp_path)
    assert [d["unmapped"].get("resource") for d in docs] == ["repo-stg", "repo-prod", None]
    assert all("claim" not in d["unmapped"] for d in docs)
    assert "source_host_mismatch" not in rules(report)
    assert "external_production_access" in rules(report)  # bob, vendor, production repo


# -- failed authentications: the name is what the client sent ---------------------------


def test_an_http_401_user_is_a_claim_not_the_principal(tmp_path: Path) -> None:
    """Anyone can send "bob" (external) as a basic-auth user and be refused: that must not
    raise an alert in bob's name, nor count as bob's activity."""
    lines = [GIT_HTTP.format(user=u, repo="platform/payments", status=401) for u in ("bob", "x")]
    report = ingest(tmp_path, "git-all", lines)
    first, second = events(report, tmp_path)
    assert first["actor"]["user"] == {"name": "bob"}
    assert first["unmapped"]["actor"] == "unknown:bob"
    assert first["unmapped"]["claim"] == "user:bob"
    assert "claim" not in second["unmapped"]  # a name that is no principal
    assert "external_production_access" not in rules(report)
    ok = tmp_path / "ok"
    ok.mkdir()
    line = GIT_HTTP.format(user="bob", repo="platform/payments", status=200)
    (doc,) = events(ingest(ok, "git-all", [line]), ok)
    assert doc["unmapped"]["actor"] == "bob"  # authenticated by the server: bob


@pytest.mark.parametrize(
    ("source", "line"),
    [
        (
            "ssh",
            "Dec  1 03:00:00 bastion sshd[42]: Failed password for bob from 203.0.113.9 "
            "port 5 ssh2",
        ),
        (
            "ssh",
            "Dec  1 03:00:00 bastion sshd[42]: Failed password for invalid user bob from "
            "203.0.113.9 port 5 ssh2",
        ),
        ("ssh", "Dec  1 03:00:00 bastion sshd[42]: Invalid user bob from 203.0.113.9 port 5"),
        (
            "pg",
            '2026-12-01 03:00:00.000 UTC [42] FATAL:  password authentication failed for user "bob"',
        ),
    ],
)
def test_a_failed_authentication_is_not_attributed_to_the_name_it_sent(
    tmp_path: Path, source: str, line: str
) -> None:
    report = ingest(tmp_path, source, [line])
    (doc,) = events(report, tmp_path)
    assert doc["user"]["name"] == "bob"
    assert "uid" not in doc["user"]
    assert doc["unmapped"]["actor"] == "unknown:bob"
    assert doc["unmapped"]["claim"] == "user:bob"
    assert doc["status_id"] == 2
    assert rules(report) & {"external_production_access", "off_hours_activity"} == set()


def test_failed_logins_naming_a_person_still_make_a_burst_and_not_their_baseline(
    tmp_path: Path,
) -> None:
    """Twenty refused tries as alice from one address: a burst, but not alice's network."""
    from stagewall.monitoring import IngestContext

    line = (
        "Dec  1 10:00:{m:02d} bastion sshd[42]: Failed password for alice from 198.51.100.7 "
        "port 5 ssh2"
    )
    store = Store(f"sqlite:///{tmp_path / 'stagewall.db'}")
    store.migrate()
    estate = parse_estate(_estate_text()).estate
    with IngestContext(estate, store, grants=GrantIndex(())) as ctx:
        report = ingest_lines("ssh", [line.format(m=m) for m in range(20)], ctx, final=True)
        seen = dict(ctx.first_seen.nets)
    assert "failed_login_burst" in rules(report)
    assert {f.actor for f in report.findings if f.rule == "failed_login_burst"} == {"unknown:alice"}
    assert "alice" not in seen
