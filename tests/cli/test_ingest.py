"""``stagewall ingest``: a file, stdin, JSON output, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_helpers import run_cli
from tests.monitoring.conftest import ESTATE

LINES = (
    "2026-12-01 09:00:00.000 UTC [1] LOG:  connection received: host=100.80.0.1 port=5000\n"
    "2026-12-01 09:00:00.001 UTC [1] LOG:  connection authorized: user=bob database=app\n"
    "not a log line\n"
)


def _setup(tmp_path: Path) -> tuple[Path, str]:
    cfg = tmp_path / "stagewall.yaml"
    cfg.write_text(ESTATE + "alerts:\n  - {type: file, path: alerts.jsonl}\n")
    return cfg, f"sqlite:///{tmp_path / 'sw.db'}"


def test_ingest_a_file_prints_alerts_and_a_summary(tmp_path: Path) -> None:
    cfg, db = _setup(tmp_path)
    log = tmp_path / "pg.log"
    log.write_text(LINES)
    res = run_cli("ingest", "pg", "--from", str(log), "--config", str(cfg), "--db", db)
    assert res.exit_code == 0, res.stderr
    assert "ALERT [critical] external_production_access" in res.stdout
    assert "pg: 3 line(s), 1 event(s) logged, 1 malformed, 2 alert(s)" in res.stdout
    assert "warning: line 3: not a PostgreSQL log line" in res.stderr
    alerts = (tmp_path / "alerts.jsonl").read_text().splitlines()
    assert len(alerts) == 2


def test_ingest_stdin_as_json(tmp_path: Path) -> None:
    cfg, db = _setup(tmp_path)
    res = run_cli(
        "ingest",
        "pg",
        "--from",
        "-",
        "--config",
        str(cfg),
        "--db",
        db,
        "--format",
        "json",
        input=LINES,
    )
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert (out["lines"], out["events"], out["malformed"]) == (3, 1, 1)
    assert {f["rule"] for f in out["findings"]} == {
        "external_production_access",
        "production_login_without_grant",
    }


def test_unknown_source_and_missing_file_are_clear_errors(tmp_path: Path) -> None:
    cfg, db = _setup(tmp_path)
    res = run_cli("ingest", "mysql", "--from", "-", "--config", str(cfg), "--db", db)
    assert res.exit_code == 2
    assert "error[SW821]: log source 'mysql' is not declared in" in res.stderr
    assert "known: gh, pg, pg-stg, s3, ssh" in res.stderr
    res = run_cli(
        "ingest", "pg", "--from", str(tmp_path / "nope.log"), "--config", str(cfg), "--db", db
    )
    assert res.exit_code == 2
    assert "error[SW101]: --from" in res.stderr and "no such file" in res.stderr
    res = run_cli("ingest", "pg", "--from", "-", "--from-end", "--config", str(cfg), "--db", db)
    assert res.exit_code == 2 and "--from-end only makes sense with --follow" in res.stderr


def test_ingest_counts_suppressed_findings_per_rule_and_entry(tmp_path: Path) -> None:
    """A suppression written for one rule cannot silence another rule's findings unseen:
    the summary (text and JSON) counts them per rule and per monitoring.suppress entry."""
    cfg, db = _setup(tmp_path)
    cfg.write_text(
        ESTATE
        + "  suppress:\n"
        + "    - {rule: production_login_without_grant, principal: bob, reason: pen test}\n"
        + "    - {rule: external_production_access, principal: bob, reason: vendor window}\n"
        + "alerts:\n  - {type: file, path: alerts.jsonl}\n"
    )
    log = tmp_path / "pg.log"
    log.write_text(LINES)
    args = ("ingest", "pg", "--from", str(log), "--config", str(cfg), "--db", db)
    res = run_cli(*args)
    assert res.exit_code == 0, res.stderr
    assert (
        "suppressed by rule: external_production_access 1 (monitoring.suppress[1] "
        "(vendor window) 1), production_login_without_grant 1 (monitoring.suppress[0] "
        "(pen test) 1)"
    ) in res.stdout
    log.write_text(LINES.replace("09:00:00", "10:30:00"))  # later: past the dedup window
    out = json.loads(run_cli(*args, "--format", "json").stdout)
    assert out["suppressed"] == 2
    assert out["suppressed_by_rule"] == {
        "external_production_access": {"monitoring.suppress[1] (vendor window)": 1},
        "production_login_without_grant": {"monitoring.suppress[0] (pen test)": 1},
    }
