"""The local commands: evidence checks / pack / verify and answer."""

from __future__ import annotations

import json
import zipfile
from datetime import timedelta
from pathlib import Path

from stagewall.keys import load_public_key
from tests.cli_helpers import run_cli
from tests.evidence.history import History


def _args(h: History) -> list[str]:
    return ["--config", str(h.config), "--db", h.db]


def test_checks_json_and_text(history: History) -> None:
    at = (history.clock.now + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    r = run_cli("evidence", "checks", *_args(history), "--at", at, "--format", "json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    by = {c["check"]: c for c in data["checks"]}
    assert by["access.external_production"]["status"] == "PASS"
    assert by["audit.witnessed_checkpoints"]["why"]
    r = run_cli("evidence", "checks", *_args(history), "--at", at)
    assert r.exit_code == 0
    assert "pass  access.external_production: 0 of 2 external identities" in r.stdout
    assert "why: no witness key is configured" in r.stdout


def test_checks_exit_1_on_a_failure(history: History) -> None:
    history.scan(high=1)
    at = (history.clock.now + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    r = run_cli("evidence", "checks", *_args(history), "--at", at)
    assert r.exit_code == 1 and "FAIL  scan.no_high_findings" in r.stdout


def test_pack_verify_and_tamper(history: History, tmp_path: Path) -> None:
    day = history.clock.now.date()
    out = tmp_path / "pack.zip"
    r = run_cli(
        "evidence",
        "pack",
        *_args(history),
        "--from",
        str(day - timedelta(days=1)),
        "--to",
        str(day + timedelta(days=1)),
        "--out",
        str(out),
        "--no-pdf",
    )
    assert r.exit_code == 0, r.stderr
    assert "wrote" in r.stdout and out.is_file()
    pub = tmp_path / "audit.pub"
    pub.write_text(load_public_key().vkey() + "\n")
    r = run_cli("evidence", "verify", str(out), "--public-key", str(pub))
    assert r.exit_code == 0, r.stderr
    assert "population rows bound to their events" in r.stdout
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(out) as zin, zipfile.ZipFile(bad, "w") as zout:
        for n in zin.namelist():
            data = zin.read(n)
            if n == "populations/masking_runs.csv":
                data = data.replace(b"passed", b"passeD")
            zout.writestr(n, data)
    r = run_cli("evidence", "verify", str(bad), "--public-key", str(pub), "--format", "json")
    assert r.exit_code == 1
    assert json.loads(r.stdout)["error"] == "SW800"
    # With --format json the error on stderr is an RFC 9457 problem object.
    problem = json.loads(r.stderr)
    assert problem["code"] == "SW800"
    assert "populations/masking_runs.csv was altered" in problem["detail"]


def test_bad_input_is_a_clear_usage_error(history: History, tmp_path: Path) -> None:
    r = run_cli(
        "evidence",
        "pack",
        *_args(history),
        "--from",
        "2026-13-01",
        "--to",
        "2026-12-01",
        "--out",
        str(tmp_path / "p.zip"),
    )
    assert r.exit_code == 2 and "--from '2026-13-01' is not a date" in r.stderr
    r = run_cli(
        "evidence",
        "pack",
        *_args(history),
        "--from",
        "2026-12-02",
        "--to",
        "2026-12-01",
        "--out",
        str(tmp_path / "p.zip"),
    )
    assert r.exit_code == 2 and "starts (2026-12-02) after it ends" in r.stderr
    r = run_cli("evidence", "verify", str(tmp_path / "missing.zip"))
    assert r.exit_code == 2 and "does not exist" in r.stderr
    r = run_cli("answer", *_args(history), "--questionnaire", "caiq-v4", "--out", "x.txt")
    assert r.exit_code == 2 and "must end in .xlsx or .csv" in r.stderr
    r = run_cli(
        "evidence",
        "checks",
        "--config",
        str(history.config),
        "--db",
        f"sqlite:///{tmp_path / 'none' / 'x.db'}",
    )
    assert r.exit_code == 2 and "Traceback" not in r.stderr


def test_answer_builtin_and_customer_file(history: History, tmp_path: Path) -> None:
    out = tmp_path / "answers.xlsx"
    r = run_cli("answer", *_args(history), "--questionnaire", "sig-lite", "--out", str(out))
    assert r.exit_code == 0, r.stderr
    assert "10 answered, 0 flagged" in r.stdout
    src = tmp_path / "q.csv"
    src.write_text(
        "Question,Answer,Comments\nWho is your CEO?,,\nIs MFA enforced for admin access?,,\n"
    )
    r = run_cli(
        "answer", *_args(history), "--questionnaire", str(src), "--out", str(tmp_path / "a.csv")
    )
    assert r.exit_code == 0, r.stderr
    assert "1 answered, 1 flagged for a human" in r.stdout and "Who is your CEO?" in r.stdout
