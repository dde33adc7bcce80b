"""audit_config_change is not evaded by trivial spellings of the same statement.

Each statement below switches pgaudit (or MariaDB's server_audit) off; a spelling
change — a line break, a long comment, a statement in front, a literal setting name,
a Unicode escape, a leading comment — must not make it invisible to the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagewall.estate.loader import parse_estate
from stagewall.monitoring import GrantIndex, IngestContext, ingest_lines
from stagewall.store import Store
from tests.monitoring.conftest import ESTATE, make_estate

T = "2026-12-01 09:00:00.000 UTC"
PG = f"{T} [7] alice@app 10.0.0.5(5000) psql LOG:  AUDIT: "
PAD = "/*" + "x" * 420 + "*/"
LONG_SELECT = "SELECT " + " + ".join(["a"] * 150) + ";"

MARIADB_SOURCE = """
    mdb: {type: mariadb, resource: db-prod}
"""


def rules_fired(tmp_path: Path, source: str, lines: list[str]) -> list[str]:
    store = Store(f"sqlite:///{tmp_path / 'stagewall.db'}")
    store.migrate()
    estate = make_estate()
    if source == "mdb":
        estate = parse_estate(ESTATE.rstrip("\n") + MARIADB_SOURCE).estate
    with IngestContext(estate, store, grants=GrantIndex(())) as ctx:
        report = ingest_lines(source, lines, ctx, final=True)
    return sorted({f.rule for f in report.findings})


@pytest.mark.parametrize(
    "lines",
    [
        # the plain spelling (already caught)
        [PG + "SESSION,1,1,MISC,ALTER SYSTEM,,,ALTER SYSTEM SET pgaudit.log = 'none',<not logged>"],
        # a line break: stderr continues the message on a tab-indented line
        [
            PG + 'SESSION,1,1,MISC,ALTER SYSTEM,,,"ALTER SYSTEM SET',
            "\tpgaudit.log = 'none'\",<not logged>",
        ],
        # a comment longer than the stored statement's 400 characters
        [
            PG
            + f"SESSION,1,1,MISC,ALTER SYSTEM,,,ALTER SYSTEM SET {PAD} pgaudit.log = 'none',<none>"
        ],
        # another statement in front (pgaudit logs the whole query string)
        [
            PG + f'SESSION,1,1,MISC,ALTER SYSTEM,,,"{LONG_SELECT} '
            "ALTER SYSTEM SET pgaudit.log = 'none'\",<not logged>"
        ],
        # the setting's name as a literal, which redaction hides
        [
            PG + "SESSION,1,1,FUNCTION,SELECT,,,"
            "\"SELECT set_config('pgaudit.log', 'none', false)\",<not logged>"
        ],
        [
            PG + "SESSION,1,1,WRITE,UPDATE,,,"
            "UPDATE pg_settings SET setting = 'none' WHERE name = 'pgaudit.log',<not logged>"
        ],
        # a Unicode-escaped identifier
        [
            PG + "SESSION,1,1,MISC,ALTER SYSTEM,,,"
            "ALTER SYSTEM SET U&\"pg\\0061udit.log\" = 'none',<not logged>"
        ],
        [
            PG + "SESSION,1,1,MISC,ALTER SYSTEM,,,"
            '"ALTER SYSTEM SET U&""pg!0061udit.log"" UESCAPE \'!\' = \'none\'",<not logged>'
        ],
    ],
    ids=[
        "plain",
        "line-break",
        "long-comment",
        "statement-in-front",
        "set_config",
        "pg_settings",
        "unicode-escape",
        "uescape",
    ],
)
def test_pgaudit_switched_off_is_alerted_however_spelt(tmp_path: Path, lines: list[str]) -> None:
    assert "audit_config_change" in rules_fired(tmp_path, "pg", lines)


@pytest.mark.parametrize(
    "query",
    [
        "SET GLOBAL server_audit_logging=OFF",
        "/* maintenance */ SET GLOBAL server_audit_logging=OFF",
        "/*!50000 SET GLOBAL general_log=0 */",
        "/*M!100401 SET GLOBAL server_audit_logging=OFF */",
    ],
    ids=["plain", "block-comment", "executable-comment", "mariadb-executable-comment"],
)
def test_mariadb_server_audit_off_behind_a_comment_is_alerted(tmp_path: Path, query: str) -> None:
    line = f"20261201 09:00:00,db1,alice,10.0.0.5,7,12,QUERY,app,'{query}',0"
    assert "audit_config_change" in rules_fired(tmp_path, "mdb", [line])


def test_reading_a_setting_or_a_plain_query_is_not_a_change(tmp_path: Path) -> None:
    lines = [
        PG + "SESSION,1,1,READ,SELECT,,,\"SELECT current_setting('pgaudit.log')\",<not logged>",
        PG + f"SESSION,2,1,READ,SELECT,,,SELECT * FROM t {PAD},<not logged>",
    ]
    assert "audit_config_change" not in rules_fired(tmp_path, "pg", lines)


def test_a_statement_padded_past_1_mb_still_makes_its_event(tmp_path: Path) -> None:
    """A line longer than 1 MB was malformed and dropped: anyone who can run SQL hid a
    statement from every rule by padding it. pgaudit's line is read up to 1 MB."""
    user = f"{T} [9] bob@app 10.0.0.9(5000) psql LOG:  AUDIT: "
    pad = "/*" + "x" * (1 << 20) + "*/"
    lines = [
        user + "SESSION,1,1,READ,SELECT,TABLE,public.account,"
        f'"SELECT * FROM account {pad}",<not logged>',
        PG + f"SESSION,2,1,MISC,ALTER SYSTEM,,,ALTER SYSTEM SET pgaudit.log = 'none' {pad},<none>",
    ]
    fired = rules_fired(tmp_path, "pg", lines)
    assert "external_production_access" in fired
    assert "audit_config_change" in fired


# -- padding, comments and the 1 MB bound --------------------------------------------

MB_PAD = "/*" + "x" * (1 << 20) + "*/"


def test_a_statement_past_1_mb_is_reported_as_not_inspected(tmp_path: Path) -> None:
    """A 1 MB comment in front of ALTER SYSTEM pushed the setting past what is read:
    no rule fired. What is not read whole is reported (statement_not_inspected)."""
    lines = [
        PG + f"SESSION,2,1,MISC,ALTER SYSTEM,,,\"{MB_PAD} ALTER SYSTEM SET pgaudit.log = 'none'"
        '",<not logged>'
    ]
    assert "statement_not_inspected" in rules_fired(tmp_path, "pg", lines)


def test_a_multi_line_statement_past_1_mb_is_reported_as_not_inspected(tmp_path: Path) -> None:
    chunk = "\t-- " + "y" * 200_000
    lines = [
        PG + 'SESSION,2,1,MISC,ALTER SYSTEM,,,"ALTER SYSTEM SET',
        *[chunk] * 6,
        "\tpgaudit.log = 'none'\",<not logged>",
    ]
    assert "statement_not_inspected" in rules_fired(tmp_path, "pg", lines)


CSV_HEAD = (
    '2026-12-01 09:00:00.000 UTC,"alice","app",7,"10.0.0.5:5000",6571a.63,3,"ALTER SYSTEM",'
    '2026-12-01 08:59:00 UTC,3/4,0,LOG,00000,"AUDIT: SESSION,2,1,MISC,ALTER SYSTEM,,,'
)
CSV_TAIL = ',<not logged>",,,,,,,,,"psql","client backend",,0'


def _jsonlog(message: str) -> str:
    import json

    return json.dumps(
        {
            "timestamp": "2026-12-01 09:00:00.000 UTC",
            "user": "alice",
            "dbname": "app",
            "pid": 7,
            "remote_host": "10.0.0.5",
            "remote_port": 5000,
            "session_id": "6571a.63",
            "error_severity": "LOG",
            "message": message,
            "application_name": "psql",
        }
    )


@pytest.mark.parametrize(
    "lines",
    [
        # csvlog, one line
        [CSV_HEAD + f'""{MB_PAD} ALTER SYSTEM SET pgaudit.log = \'none\'""' + CSV_TAIL],
        # csvlog, a record spanning lines
        [
            CSV_HEAD + '""ALTER SYSTEM SET',
            *["-- " + "y" * 200_000] * 6,
            "pgaudit.log = 'none'\"\"" + CSV_TAIL,
        ],
        # jsonlog
        [
            _jsonlog(
                f'AUDIT: SESSION,2,1,MISC,ALTER SYSTEM,,,"{MB_PAD} ALTER SYSTEM SET '
                "pgaudit.log = 'none'\",<not logged>"
            )
        ],
    ],
    ids=["csvlog", "csvlog-lines", "jsonlog"],
)
def test_a_csvlog_or_jsonlog_statement_past_1_mb_is_reported_as_not_inspected(
    tmp_path: Path, lines: list[str]
) -> None:
    """Only the stderr format's long statements were reported; a csvlog or jsonlog record
    past 1 MB was counted as malformed and raised nothing."""
    store = Store(f"sqlite:///{tmp_path / 'stagewall.db'}")
    store.migrate()
    with IngestContext(make_estate(), store, grants=GrantIndex(())) as ctx:
        report = ingest_lines("pg", [*lines, PG_OK], ctx, final=True)
    fired = {f.rule for f in report.findings}
    assert "statement_not_inspected" in fired
    assert report.events >= 2
    notes = [f for f in report.findings if f.rule == "statement_not_inspected"]
    assert {f.actor for f in notes} == {"alice"}


PG_OK = f"{T} [8] alice@app 10.0.0.5(5001) psql LOG:  connection authorized: user=alice"


def test_the_rest_of_a_csvlog_record_cut_at_1_mb_is_not_read_as_records(
    tmp_path: Path,
) -> None:
    """A statement's own lines past 1 MB, read afresh after the cut, could be forged
    records (here: bob, external, logging in to production)."""
    forged = (
        '2026-12-01 09:00:01.000 UTC,"bob","app",9,"10.0.0.9:5000",6571a.64,1,"authentication",'
        "2026-12-01 09:00:01 UTC,3/5,0,LOG,00000,"
        '"connection authorized: user=bob database=app",,,,,,,,,,,,,'
    )
    lines = [
        CSV_HEAD + '""ALTER SYSTEM SET',
        *["-- " + "y" * 200_000] * 6,
        forged,
        "pgaudit.log = 'none'\"\"" + CSV_TAIL,
    ]
    store = Store(f"sqlite:///{tmp_path / 'stagewall.db'}")
    store.migrate()
    with IngestContext(make_estate(), store, grants=GrantIndex(())) as ctx:
        report = ingest_lines("pg", [*lines, PG_OK], ctx, final=True)
    # alice's cut ALTER SYSTEM and her login; nothing of the forged line
    assert {f.rule for f in report.findings} == {
        "statement_not_inspected",
        "production_login_without_grant",
    }
    assert {f.actor for f in report.findings} == {"alice"}
    assert (report.events, report.malformed) == (2, 0)


def test_a_long_csvlog_or_jsonlog_record_that_is_not_pgaudit_stays_malformed(
    tmp_path: Path,
) -> None:
    other = CSV_HEAD.replace("LOG,00000", "ERROR,42601")
    lines = [
        other + f'""{MB_PAD}""' + CSV_TAIL,
        _jsonlog("statement: " + MB_PAD),
        '{"timestamp": "' + "x" * (1 << 20) + '"}',
    ]
    store = Store(f"sqlite:///{tmp_path / 'stagewall.db'}")
    store.migrate()
    with IngestContext(make_estate(), store, grants=GrantIndex(())) as ctx:
        report = ingest_lines("pg", lines, ctx, final=True)
    assert (report.events, report.malformed) == (0, 3)


def test_a_statement_within_1_mb_is_not_reported_as_not_inspected(tmp_path: Path) -> None:
    pad = "/*" + "x" * 500_000 + "*/"
    lines = [PG + f"SESSION,2,1,READ,SELECT,,,SELECT * FROM t {pad},<not logged>"]
    assert rules_fired(tmp_path, "pg", lines) == []


def test_the_stored_statement_shows_the_statement_not_its_comments() -> None:
    """Comments (line and nested block ones) are not stored: 400 characters of comment
    in front no longer push the statement out of what rules matching ``detail`` see."""
    from stagewall.monitoring.ingest import parser_for

    lines = [
        PG + 'SESSION,1,1,MISC,ALTER SYSTEM,,,"-- ' + "a" * 300,
        "\t/* outer /* inner " + "b" * 300 + " */ still outer */ ALTER SYSTEM SET",
        "\twork_mem = '1GB'\",<not logged>",
    ]
    p = parser_for("postgresql", year=2026)
    (ev,) = [e for line in lines for e in p.feed(line)] + p.flush()
    assert ev.detail == "ALTER SYSTEM SET work_mem = '?'"


@pytest.mark.parametrize(
    "query",
    [
        "/**/ " * 65 + "SET GLOBAL server_audit_logging=OFF",
        "-- maintenance SET GLOBAL server_audit_logging=OFF",
        "# maintenance SET GLOBAL server_audit_logging=OFF",
        "/* /* */ SET GLOBAL server_audit_logging=OFF",
    ],
    ids=["65-comments", "dash-comment", "hash-comment", "unnested-comment"],
)
def test_mariadb_server_audit_off_behind_any_comment_is_alerted(tmp_path: Path, query: str) -> None:
    """The command word was read after at most 64 comments, and not after a ``-- `` or
    ``#`` comment (whose line break server_audit's log drops): its word was empty, which
    no rule's verb matched."""
    line = f"20261201 09:00:00,db1,alice,10.0.0.5,7,12,QUERY,app,'{query}',0"
    assert "audit_config_change" in rules_fired(tmp_path, "mdb", [line])


def test_a_mariadb_statement_cut_inside_its_leading_comment_is_reported(tmp_path: Path) -> None:
    """server_audit keeps server_audit_query_log_limit bytes (1024 by default): a longer
    comment in front leaves no command to read."""
    line = f"20261201 09:00:00,db1,alice,10.0.0.5,7,12,QUERY,app,'/* {'x' * 1020}',0"
    assert "statement_not_inspected" in rules_fired(tmp_path, "mdb", [line])
