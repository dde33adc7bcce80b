"""Every parser against lines written from the formats' documentation (our own samples)."""

from __future__ import annotations

import json

import pytest

from stagewall.errors import ConfigError
from stagewall.monitoring.events import Event
from stagewall.monitoring.ingest import LineError, parser_for, parser_names, redact_statement


def feed(kind: str, lines: list[str]) -> list[Event]:
    """The events of ``lines`` read as a source of type ``kind`` that trusts its text
    syslog's program names (sshd, sftp, git: tests/monitoring/test_claim_gaps.py reads
    them untrusted)."""
    p = parser_for(kind, year=2026)
    p.trust_programs = kind in ("sshd", "sftp", "git")
    out: list[Event] = []
    for line in lines:
        out += p.feed(line)
    out += p.flush()
    return out


def test_registry_names_every_source_type() -> None:
    assert parser_names() == [
        "cloudtrail",
        "git",
        "github",
        "gitlab",
        "mariadb",
        "postgresql",
        "sftp",
        "sshd",
    ]
    with pytest.raises(ConfigError, match="no log parser for source type 'oracle'"):
        parser_for("oracle")


def test_postgres_stderr_connection_lifecycle_and_failure() -> None:
    evs = feed(
        "postgresql",
        [
            "2026-12-05 02:41:20.123 UTC [1234] LOG:  connection received: host=10.0.0.5 port=52136",
            "2026-12-05 02:41:20.125 UTC [1234] LOG:  connection authorized: user=alice "
            "database=app application_name=psql",
            "2026-12-05 02:41:25.125 UTC [1234] LOG:  disconnection: session time: 0:00:05.000 "
            "user=alice database=app host=10.0.0.5 port=52136",
            "2026-12-05 02:42:00.000 UTC [1240] LOG:  connection received: host=10.0.0.9 port=5000",
            '2026-12-05 02:42:00.010 UTC [1240] FATAL:  password authentication failed for user "bob"',
            "\tConnection matched pg_hba.conf line 95",
            '2026-12-05 02:43:00.000 UTC [1241] FATAL:  no pg_hba.conf entry for host "1.2.3.4", '
            'user "u", database "d", no encryption',
        ],
    )
    assert [(e.class_uid, e.activity_id, e.status, e.user, e.target, e.src_ip) for e in evs] == [
        (3002, 1, "success", "alice", "app", "10.0.0.5"),
        (3002, 2, "success", "alice", "app", "10.0.0.5"),
        (3002, 1, "failure", "bob", "", "10.0.0.9"),
        (3002, 1, "failure", "u", "d", "1.2.3.4"),
    ]
    assert evs[0].time == pytest.approx(1796438480.125)


def test_postgres_pgaudit_stderr_with_user_prefix_redacts_literals() -> None:
    (ev,) = feed(
        "postgresql",
        [
            "2026-12-05 02:41:22.125 UTC [1234] alice@app 10.0.0.5(52136) psql LOG:  AUDIT: "
            "SESSION,1,1,READ,SELECT,TABLE,public.account,"
            "select * from account where password = 'hunter2' and id = 42,<not logged>",
        ],
    )
    assert (ev.class_uid, ev.activity_id, ev.user, ev.target, ev.object, ev.operation) == (
        6005,
        1,
        "alice",
        "app",
        "public.account",
        "SELECT",
    )
    assert "hunter2" not in ev.detail and "42" not in ev.detail
    assert ev.detail == "select * from account where password = '?' and id = ?"


def test_postgres_pgaudit_classes_map_to_activities() -> None:
    base = "2026-12-05 02:41:22.125 UTC [7] LOG:  AUDIT: "
    evs = feed(
        "postgresql",
        [
            base + "OBJECT,2,1,WRITE,UPDATE,TABLE,public.account,update account set x = 1,<none>",
            base + "SESSION,3,1,WRITE,DELETE,TABLE,public.account,delete from account,<none>",
            base + "SESSION,4,1,DDL,DROP TABLE,TABLE,public.t,drop table t,<none>",
            base + "SESSION,5,1,DDL,CREATE TABLE,TABLE,public.t,create table t (a int),<none>",
            base + "SESSION,6,1,MISC,ALTER SYSTEM,,,ALTER SYSTEM SET pgaudit.log = 'none',<none>",
        ],
    )
    assert [(e.activity_id, e.operation) for e in evs] == [
        (2, "UPDATE"),
        (7, "DELETE"),
        (7, "DROP TABLE"),
        (6, "CREATE TABLE"),
        (4, "ALTER SYSTEM"),
    ]


def test_postgres_csvlog_record_spanning_lines() -> None:
    first = (
        '2026-12-05 02:41:22.125 UTC,"alice","app",99,"10.0.0.5:5000",6571a.63,3,"SELECT",'
        '2026-12-05 02:41:20 UTC,3/4,0,LOG,00000,"AUDIT: SESSION,1,1,READ,SELECT,TABLE,'
        'public.t,""select *'
    )
    second = 'from t"",<not logged>",,,,,,,,,"psql","client backend",,0'
    (ev,) = feed("postgresql", [first, second])
    assert (ev.user, ev.target, ev.object, ev.src_ip) == ("alice", "app", "public.t", "10.0.0.5")
    assert ev.detail == "select * from t"


def test_postgres_jsonlog() -> None:
    line = json.dumps(
        {
            "timestamp": "2026-12-05 02:41:20.125 UTC",
            "user": "alice",
            "dbname": "app",
            "pid": 5,
            "remote_host": "10.0.0.5",
            "remote_port": 4000,
            "error_severity": "LOG",
            "message": "connection authorized: user=alice database=app application_name=psql",
        }
    )
    (ev,) = feed("postgresql", [line])
    assert (ev.activity_id, ev.user, ev.target, ev.src_ip) == (1, "alice", "app", "10.0.0.5")


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("garbage", "not a PostgreSQL log line"),
        ("{not json", "not a jsonlog record"),
        ("2026-12-05 02:41:20.123 UTC no pid here", "stderr line without a"),
        ('2026-12-05 02:41:20.123 UTC,"a","b",1', "a csvlog record with 4 fields"),
        ("2026-12-05 02:41:20.123 UTC [1] LOG:  AUDIT: NOPE", "a pgaudit line"),
    ],
)
def test_postgres_malformed_lines_raise_line_error(line: str, reason: str) -> None:
    with pytest.raises(LineError, match=reason):
        parser_for("postgresql").feed(line)


def test_mariadb_server_audit_records() -> None:
    evs = feed(
        "mariadb",
        [
            "20261205 10:00:00,db1,alice,10.0.0.5,42,0,CONNECT,shop,,0",
            "20261205 10:00:01,db1,alice,10.0.0.5,42,7,QUERY,shop,'SELECT * FROM t WHERE name=\\'Bob\\'',0",
            "20261205 10:00:01,db1,alice,10.0.0.5,42,7,READ,shop,t,",
            "20261205 10:00:02,db1,alice,10.0.0.5:3411,42,8,WRITE,shop,t,",
            "20261205 10:00:03,db1,alice,10.0.0.5,42,0,DISCONNECT,shop,,0",
            "20261205 10:00:04,db1,mallory,203.0.113.7,43,0,FAILED_CONNECT,,,1045",
            "20261205 10:00:05,db1,root,localhost,44,9,QUERY,,'SET PASSWORD FOR a = *****',0",
        ],
    )
    got = [
        (e.class_uid, e.activity_id, e.status, e.user, e.target, e.object, e.operation) for e in evs
    ]
    assert got == [
        (3002, 1, "success", "alice", "shop", "", "connect"),
        (6005, 1, "success", "alice", "shop", "", "SELECT"),
        (6005, 1, "success", "alice", "shop", "t", "READ"),
        (6005, 5, "success", "alice", "shop", "t", "WRITE"),
        (3002, 2, "success", "alice", "shop", "", "disconnect"),
        (3002, 1, "failure", "mallory", "", "", "connect"),
        (6005, 4, "success", "root", "", "", "SET"),
    ]
    assert evs[1].detail == "SELECT * FROM t WHERE name='?'"
    assert evs[3].src_ip == "10.0.0.5"
    assert evs[5].detail == "error 1045"


def test_mariadb_malformed() -> None:
    with pytest.raises(LineError, match="3 fields"):
        parser_for("mariadb").feed("a,b,c")
    with pytest.raises(LineError, match="not a server_audit timestamp"):
        parser_for("mariadb").feed("yesterday,db1,a,h,1,0,CONNECT,,,0")


def test_sshd_syslog_and_journald_lines() -> None:
    evs = feed(
        "sshd",
        [
            "Dec  5 02:41:20 bastion sshd[12346]: Accepted publickey for alice from 10.0.0.5 "
            "port 43201 ssh2: ED25519 SHA256:abcdEFGH",
            "2026-12-05T02:41:21.000000+00:00 bastion sshd[12360]: Accepted password for bob "
            "from 10.0.0.6 port 43202 ssh2",
            "Dec  5 02:41:22 bastion sshd[12350]: Failed password for invalid user admin from "
            "203.0.113.7 port 22234 ssh2",
            "Dec  5 02:41:23 bastion sshd[12351]: Invalid user oracle from 203.0.113.8 port 1",
            "Dec  5 02:41:24 bastion sshd[12352]: error: maximum authentication attempts exceeded "
            "for root from 203.0.113.9 port 2 ssh2 [preauth]",
            "Dec  5 02:41:25 bastion sshd[12353]: User carl from 10.0.0.7 not allowed because "
            "not listed in AllowUsers",
            "Dec  5 02:45:00 bastion sshd[12346]: Disconnected from user alice 10.0.0.5 port 43201",
            "Dec  5 02:45:01 bastion CRON[99]: pam_unix(cron:session): session opened for user root",
            json.dumps(
                {
                    "MESSAGE": "Failed publickey for dave from 10.0.0.8 port 9 ssh2: RSA "
                    "SHA256:zzz",
                    "__REALTIME_TIMESTAMP": "1796438480000000",
                    "_HOSTNAME": "staging1",
                    "SYSLOG_IDENTIFIER": "sshd",
                    "_PID": "77",
                    "_COMM": "sshd",
                    "_EXE": "/usr/sbin/sshd",
                    "_UID": "0",
                }
            ),
        ],
    )
    got = [(e.activity_id, e.status, e.user, e.src_ip, e.host, e.operation) for e in evs]
    assert got == [
        (1, "success", "alice", "10.0.0.5", "bastion", "login"),
        (1, "success", "bob", "10.0.0.6", "bastion", "login"),
        (1, "failure", "admin", "203.0.113.7", "bastion", "invalid_user"),
        (1, "failure", "oracle", "203.0.113.8", "bastion", "invalid_user"),
        (1, "failure", "root", "203.0.113.9", "bastion", "max_attempts"),
        (1, "failure", "carl", "10.0.0.7", "bastion", "not_allowed"),
        (2, "success", "alice", "10.0.0.5", "bastion", "logout"),
        (1, "failure", "dave", "10.0.0.8", "staging1", "login"),
    ]
    assert evs[0].detail == "publickey ED25519 SHA256:abcdEFGH"
    assert evs[-1].detail == "publickey RSA SHA256:zzz"
    with pytest.raises(LineError, match="not a syslog line"):
        parser_for("sshd").feed("random text")


def test_sftp_session_join_and_bytes() -> None:
    evs = feed(
        "sftp",
        [
            "Dec  5 10:00:00 files sshd[500]: session opened for local user gina from [10.0.0.5]",
            'Dec  5 10:00:01 files sshd[500]: open "/data/x.csv" flags READ mode 0666',
            'Dec  5 10:00:09 files sshd[500]: close "/data/x.csv" bytes read 10485760 written 0',
            'Dec  5 10:00:10 files sshd[500]: close "/up/y.bin" bytes read 0 written 2048',
            'Dec  5 10:00:11 files sshd[500]: remove name "/up/old.bin"',
            "Dec  5 10:00:12 files sshd[500]: session closed for local user gina from [10.0.0.5]",
        ],
    )
    assert [(e.class_uid, e.activity_id, e.user, e.src_ip, e.object, e.bytes) for e in evs] == [
        (6006, 2, "gina", "10.0.0.5", "/data/x.csv", 10485760),
        (6006, 1, "gina", "10.0.0.5", "/up/y.bin", 2048),
        (6006, 4, "gina", "10.0.0.5", "/up/old.bin", 0),
    ]


def test_git_daemon_and_smart_http() -> None:
    evs = feed(
        "git",
        [
            "Dec  5 10:00:00 git1 git-daemon[71]: Connection from 10.0.0.5:51234",
            "Dec  5 10:00:00 git1 git-daemon[71]: Request upload-pack for '/srv/git/web.git'",
            '10.0.0.6 - dave [05/Dec/2026:10:00:00 +0000] "GET /api.git/info/refs?service='
            'git-upload-pack HTTP/1.1" 200 312 "-" "git/2.39.2"',
            '10.0.0.6 - dave [05/Dec/2026:10:00:01 +0000] "POST /api.git/git-upload-pack HTTP/1.1" '
            '200 123456 "-" "git/2.39.2"',
            '10.0.0.6 - dave [05/Dec/2026:10:00:02 +0100] "POST /team/api.git/git-receive-pack '
            'HTTP/1.1" 403 10 "-" "git/2.39.2"',
        ],
    )
    got = [(e.activity_id, e.status, e.user, e.src_ip, e.target, e.operation, e.bytes) for e in evs]
    assert got == [
        (2, "success", "", "10.0.0.5", "srv/git/web", "git.fetch", 0),
        (2, "success", "dave", "10.0.0.6", "api", "git.fetch", 123456),
        (3, "failure", "dave", "10.0.0.6", "team/api", "git.push", 10),
    ]


def test_github_audit_log_lines_and_array_document() -> None:
    one = {
        "@timestamp": 1796438480000,
        "action": "git.clone",
        "actor": "octo",
        "actor_ip": "198.51.100.1",
        "org": "acme",
        "repo": "acme/web",
    }
    two = {
        "created_at": "2026-12-05T02:41:21Z",
        "action": "protected_branch.destroy",
        "actor": "octo",
        "repo": "acme/web",
    }
    evs = feed("github", [json.dumps(one), "[", json.dumps(two) + ",", json.dumps(one), "]"])
    assert [(e.class_uid, e.activity_id, e.operation, e.user, e.target) for e in evs] == [
        (6003, 2, "git.clone", "octo", "acme/web"),
        (6003, 4, "protected_branch.destroy", "octo", "acme/web"),
        (6003, 2, "git.clone", "octo", "acme/web"),
    ]
    p = parser_for("github")
    assert p.feed("[") == []
    with pytest.raises(LineError, match="ends inside a JSON document"):
        p.flush()
    with pytest.raises(LineError, match="lack the fields"):
        parser_for("github").feed('{"no_action": 1}')


def test_gitlab_stored_and_streamed_events() -> None:
    stored = {
        "id": 1,
        "author_id": 3,
        "entity_id": 6,
        "entity_type": "Project",
        "details": {
            "author_name": "alice",
            "change": "visibility",
            "from": "private",
            "to": "public",
            "ip_address": "10.0.0.5",
            "entity_path": "g/p",
        },
        "created_at": "2026-12-05T02:41:20.885Z",
    }
    streamed = {
        "author_name": "bob",
        "entity_path": "g/q",
        "event_type": "audit_events_streaming_headers_destroy",
        "ip_address": "10.0.0.6",
        "created_at": "2026-12-05T02:42:00Z",
        "details": {},
    }
    evs = feed("gitlab", [json.dumps(stored), json.dumps(streamed)])
    assert [(e.user, e.target, e.operation, e.src_ip) for e in evs] == [
        ("alice", "g/p", "change:visibility", "10.0.0.5"),
        ("bob", "g/q", "audit_events_streaming_headers_destroy", "10.0.0.6"),
    ]


def test_cloudtrail_s3_data_and_management_events() -> None:
    doc = {
        "Records": [
            {
                "eventTime": "2026-12-05T02:41:20Z",
                "eventSource": "s3.amazonaws.com",
                "eventName": "GetObject",
                "sourceIPAddress": "10.0.0.5",
                "userIdentity": {
                    "type": "AssumedRole",
                    "principalId": "AROAX:alice",
                    "arn": "arn:aws:sts::1:assumed-role/data/alice",
                },
                "requestParameters": {"bucketName": "exports", "key": "a.csv"},
                "additionalEventData": {"bytesTransferredOut": 1048576},
            },
            {
                "eventTime": "2026-12-05T02:41:21Z",
                "eventSource": "cloudtrail.amazonaws.com",
                "eventName": "StopLogging",
                "sourceIPAddress": "10.0.0.5",
                "errorCode": "AccessDenied",
                "userIdentity": {
                    "type": "IAMUser",
                    "userName": "bob",
                    "arn": "arn:aws:iam::1:user/bob",
                },
                "requestParameters": {"name": "main-trail"},
            },
        ]
    }
    evs = feed("cloudtrail", [json.dumps(doc)])
    # an assumed role's user is the role; the session name (the caller's) is the session
    assert [
        (e.class_uid, e.activity_id, e.status, e.user, e.session, e.target, e.operation, e.bytes)
        for e in evs
    ] == [
        (6005, 1, "success", "arn:aws:iam::1:role/data", "alice", "exports", "GetObject", 1048576),
        (6003, 3, "failure", "bob", "", "main-trail", "StopLogging", 0),
    ]


def test_redact_statement_removes_literals_and_numbers() -> None:
    assert redact_statement("update u set pw = 'x''y', n = 3.5 where id=7") == (
        "update u set pw = '?', n = ? where id=?"
    )
    assert redact_statement("select $$secret$$") == "select '?'"
    assert redact_statement("x" * 500).endswith("...")


def test_git_over_ssh_from_gitolite_and_a_forced_command_wrapper() -> None:
    evs = feed(
        "git",
        [
            "2026-12-05.10:00:00\t4711\tssh\tARGV=alice\tSOC=git-upload-pack 'team/web.git'"
            "\tFROM=10.0.0.5",
            "2026-12-05.10:00:00\t4711\t\tpre_git\tteam/web\talice\tR\tany\trefs/.*",
            "2026-12-05.10:00:01\t4711\t\tEND",
            "2026-12-05.10:00:02\t4712\tssh\tARGV=bob\tSOC=git-receive-pack '/api'"
            "\tFROM=203.0.113.9",
            "Dec  5 10:00:03 git1 git-ssh[77]: user=carol from=10.0.0.7 "
            "command=git-upload-pack 'infra/secrets.git'",
            "Dec  5 10:00:04 git1 git-ssh[78]: user=carol from=10.0.0.7 "
            "command=git upload-archive '/infra/secrets.git'",
            "Dec  5 10:00:05 git1 git-ssh[79]: user=carol from=10.0.0.7 command=bash -i",
            "Dec  5 10:00:06 git1 sshd[80]: Accepted publickey for git from 10.0.0.7 port 1 ssh2",
        ],
    )
    got = [(e.activity_id, e.user, e.src_ip, e.target, e.operation, e.detail) for e in evs]
    assert got == [
        (2, "alice", "10.0.0.5", "team/web", "git.fetch", "gitolite ssh"),
        (3, "bob", "203.0.113.9", "api", "git.push", "gitolite ssh"),
        (2, "carol", "10.0.0.7", "infra/secrets", "git.fetch", "git-ssh"),
        (2, "carol", "10.0.0.7", "infra/secrets", "git.archive", "git-ssh"),
        (2, "carol", "10.0.0.7", "", "ssh.command", "git-ssh: bash"),
    ]
    assert evs[0].time == 1796464800.0  # 2026-12-05T10:00:00Z
    assert evs[2].host == "git1" and evs[2].session == "77"


def test_git_over_ssh_wrapper_line_without_a_command_is_malformed() -> None:
    with pytest.raises(LineError, match="command="):
        parser_for("git", year=2026).feed("Dec  5 10:00:03 git1 git-ssh[77]: user=carol")


def test_postgres_stderr_pgaudit_statement_over_several_lines_is_read_whole() -> None:
    base = "2026-12-05 02:41:22.125 UTC [7] LOG:  AUDIT: SESSION,1,1,MISC,ALTER SYSTEM,,,"
    evs = feed(
        "postgresql",
        [
            base + '"ALTER SYSTEM',
            "\tSET pgaudit.log",
            "\t  = 'none'\",<not logged>",
            base + '"ALTER SYSTEM SET',  # cut off by the next record: kept, not dropped
            "2026-12-05 02:41:23.000 UTC [8] LOG:  connection received: host=10.0.0.9 port=1",
            base + '"ALTER SYSTEM SET log_statement',  # the input ends inside it
        ],
    )
    assert [(e.operation, e.detail) for e in evs] == [
        ("ALTER SYSTEM", "ALTER SYSTEM SET pgaudit.log = '?'"),
        ("ALTER SYSTEM", '"ALTER SYSTEM SET'),
        ("ALTER SYSTEM", '"ALTER SYSTEM SET log_statement'),
    ]


def test_settings_hidden_by_redaction_or_truncation_are_named_after_the_statement() -> None:
    base = "2026-12-05 02:41:22.125 UTC [7] LOG:  AUDIT: SESSION,1,1,FUNCTION,SELECT,,,"
    (ev,) = feed(
        "postgresql", [base + "\"SELECT set_config('pgaudit.log', 'none', false)\",<none>"]
    )
    assert ev.detail == "SELECT set_config('?', '?', false) [names: pgaudit.log]"
    (plain,) = feed("postgresql", [base + "select * from t where a = 'x',<none>"])
    assert plain.detail == "select * from t where a = '?'"


CSV_OPEN = '2026-12-05 02:41:22.125 UTC,"alice","app",99,"10.0.0.5:5000",6571a.63,3,"SELECT","x'
CSV_OK = (
    '2026-12-05 02:41:23.000 UTC,"alice","app",99,"10.0.0.5:5000",6571a.63,4,"SELECT",'
    '2026-12-05 02:41:20 UTC,3/4,0,LOG,00000,"connection authorized: user=alice database=app",'
    ",,,,,,,,,,,,,"
)


def test_postgres_csvlog_record_open_at_the_end_of_the_input_is_malformed() -> None:
    p = parser_for("postgresql", year=2026)
    assert p.feed(CSV_OPEN) == []
    with pytest.raises(LineError, match="ends inside a csvlog record"):
        p.flush()
    # nothing of it is carried into the next input
    (ev,) = p.feed(CSV_OK)
    assert (ev.activity_id, ev.user) == (1, "alice")


def test_postgres_csvlog_record_is_bounded_in_bytes_and_joined_once() -> None:
    """An unbalanced quote must not make the next 10,000 lines (of up to 1 MB each)
    continuations of one ever-growing record, joined again on every line: an 8 MB post
    of them cost 12.7 CPU seconds under the ingest lock."""
    p = parser_for("postgresql", year=2026)
    p.feed(CSV_OPEN)
    refused = 0
    for _ in range(3000):
        try:
            p.feed("y" * 800)
        except LineError as exc:
            refused += "csvlog record longer than 1 MB" in str(exc)
    assert refused == 1  # at 1 MB, not after 10,000 lines; the lines after it are junk
    (ev,) = p.feed(CSV_OK)  # the record after it is read on its own
    assert ev.user == "alice"


def test_json_document_is_parsed_when_its_brackets_close_not_on_every_closing_line() -> None:
    """A JSON source tried to parse its whole buffer on every line ending in } or ]:
    lines that close more than they open kept a document open for ever, each parsed
    again from the start (4 MB of them cost 14 CPU seconds), and one junk line
    swallowed every JSON line after it."""
    event = json.dumps(
        {"action": "git.clone", "actor": "octo", "created_at": "2026-12-05T02:41:21Z"}
    )
    p = parser_for("github")
    refused = 0
    for line in ["[", *['"y"}'] * 50, "junk", event]:
        try:
            got = p.feed(line)
        except LineError:
            refused += 1
            continue
        if line == event:
            assert [e.operation for e in got] == ["git.clone"]
    assert refused == 51  # the '[' record closed by the first '"y"}', then each line alone
    # a pretty-printed document with braces inside strings is read once, whole
    doc = json.dumps(
        {"Records": [{"action": "x}{", "actor": "a", "created_at": "2026-12-05T02:41:21Z"}]},
        indent=2,
    )
    out = []
    for line in doc.splitlines():
        out += p.feed(line)
    assert [e.operation for e in out] == ["x}{"]


def test_postgres_stderr_statement_continuations_are_counted_once() -> None:
    """A multi-line pgaudit statement closes when its quotes balance, counted per line
    as it comes; at 1 MB it is closed with what it has."""
    p = parser_for("postgresql", year=2026)
    base = "2026-12-05 02:41:22.125 UTC [7] LOG:  AUDIT: SESSION,1,1,MISC,ALTER SYSTEM,,,"
    assert p.feed(base + '"ALTER SYSTEM SET') == []
    assert all(p.feed('\t""') == [] for _ in range(100))  # doubled quotes keep it open
    (ev,) = p.feed("\tpgaudit.log = 'none'\",<none>")
    assert ev.detail == "ALTER SYSTEM SET " + '" ' * 100 + "pgaudit.log = '?'"
    p.feed(base + '"SELECT')
    events = []
    for _ in range(600_000):  # 2 bytes a line: past 1 MB
        events += p.feed("\tx")
    assert len(events) == 1 and events[0].operation == "ALTER SYSTEM"


def test_postgres_long_record_with_its_message_whole_is_not_marked_not_inspected() -> None:
    """A csvlog or jsonlog record past 1 MB in a field after the message: the statement
    was read whole; one cut inside the message is marked."""
    audit = "AUDIT: SESSION,1,1,READ,SELECT,TABLE,public.t,select 1,<not logged>"
    csv_head = (
        '2026-12-05 02:41:22.125 UTC,"alice","app",99,"10.0.0.5:5000",6571a.63,3,"SELECT",'
        "2026-12-05 02:41:20 UTC,3/4,0,LOG,00000,"
    )
    pad = "z" * (1 << 20)
    records = [
        csv_head + f'"{audit}",,,,,,,,,"{pad}","client backend",,0',
        json.dumps(
            {
                "timestamp": "2026-12-05 02:41:22.125 UTC",
                "user": "alice",
                "dbname": "app",
                "pid": 99,
                "error_severity": "LOG",
                "message": audit,
                "application_name": pad,
            }
        ),
    ]
    for record in records:
        (ev,) = parser_for("postgresql", year=2026).feed(record)
        assert (ev.user, ev.target, ev.detail) == ("alice", "app", "select ?")
        (cut,) = parser_for("postgresql", year=2026).feed(record.replace(",<not logged>", pad))
        assert cut.detail.endswith("[not inspected: statement longer than 1 MB]")
