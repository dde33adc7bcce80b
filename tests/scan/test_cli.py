"""``stagewall scan`` exit codes, formats, baselines and bad input."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_helpers import run_cli

from .helpers import ESTATE, FIXTURES


def _tree(tmp_path: Path, content: str) -> Path:
    target = tmp_path / "repo" / "envs" / "staging"
    target.mkdir(parents=True)
    (target / "app.env").write_text(content)
    return tmp_path / "repo"


def test_clean_tree_exits_0(tmp_path: Path) -> None:
    repo = _tree(
        tmp_path,
        "DATABASE_URL=postgres://app@db.staging.example.internal/shop?sslmode=verify-full\n",
    )
    res = run_cli("scan", str(repo))
    assert res.exit_code == 0, res.stdout
    assert "findings: 0" in res.stdout
    assert "estate: not used" in res.stdout


def test_findings_exit_1_and_fail_on(tmp_path: Path) -> None:
    repo = _tree(tmp_path, "URL=http://api.staging.example.com/\n")  # medium
    assert run_cli("scan", str(repo)).exit_code == 1
    assert run_cli("scan", str(repo), "--fail-on", "high").exit_code == 0
    assert run_cli("scan", str(repo), "--fail-on", "low").exit_code == 1


def test_low_findings_do_not_fail_by_default(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "broken.yaml").write_text("a: [1, 2\n")
    res = run_cli("scan", str(repo), "--format", "json")
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert doc["counts"]["by_rule"] == {"SW-SCAN-012": 1}
    assert doc["findings"][0]["file"] == "broken.yaml"


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    res = run_cli("scan", str(tmp_path / "nope"))
    assert res.exit_code == 2
    assert "nope: no such file or directory" in res.stderr


def test_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    res = run_cli("scan", str(tmp_path), "--format", "xml")
    assert res.exit_code == 2
    assert "'xml' is not one of" in res.stderr


def test_bad_baseline_file(tmp_path: Path) -> None:
    repo = _tree(tmp_path, "X=1\n")
    bad = tmp_path / "baseline.json"
    bad.write_text("{not json")
    res = run_cli("scan", str(repo), "--baseline", str(bad))
    assert res.exit_code == 2
    assert "the baseline file is not valid JSON (line 1" in res.stderr
    bad.write_text('{"version": 7}')
    res = run_cli("scan", str(repo), "--baseline", str(bad))
    assert res.exit_code == 2
    assert "not a stagewall scan baseline" in res.stderr
    res = run_cli("scan", str(repo), "--baseline", str(tmp_path / "missing.json"))
    assert res.exit_code == 2
    assert "the baseline file does not exist" in res.stderr


def test_baseline_round_trip(tmp_path: Path) -> None:
    repo = _tree(tmp_path, "URL=http://api.staging.example.com/\n")
    baseline = tmp_path / "baseline.json"
    assert run_cli("scan", str(repo), "--write-baseline", str(baseline)).exit_code == 1
    res = run_cli("scan", str(repo), "--baseline", str(baseline), "--format", "json")
    assert res.exit_code == 0
    doc = json.loads(res.stdout)
    assert doc["findings"] == []
    assert doc["suppressed"][0]["suppression"]["kind"] == "baseline"
    # the fingerprint survives a line shift
    (repo / "envs" / "staging" / "app.env").write_text(
        "# header\n\nURL=http://api.staging.example.com/\n"
    )
    assert run_cli("scan", str(repo), "--baseline", str(baseline)).exit_code == 0


def test_estate_config_and_out_file(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    res = run_cli(
        "scan",
        str(FIXTURES / "sw001"),
        "--config",
        str(ESTATE),
        "--format",
        "json",
        "--out",
        str(out),
    )
    assert res.exit_code == 1
    assert res.stdout == ""
    doc = json.loads(out.read_text())
    assert doc["estate_used"] is True
    assert doc["counts"]["by_rule"]["SW-SCAN-001"] >= 6


def test_junit_output(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    repo = _tree(tmp_path, "URL=http://api.staging.example.com/\n")
    res = run_cli("scan", str(repo), "--format", "junit")
    suite = ET.fromstring(res.stdout).find("testsuite")
    assert suite is not None and suite.get("failures") == "1"


def test_audit_summary_recorded_when_store_configured(
    tmp_path: Path, sqlite_store_url: str
) -> None:
    from stagewall.audit import AuditLog
    from stagewall.store import open_store

    repo = _tree(tmp_path, "URL=http://api.staging.example.com/\n")
    res = run_cli("scan", str(repo), "--db", sqlite_store_url)
    assert res.exit_code == 1
    store = open_store(sqlite_store_url)
    events = AuditLog(store).events()
    store.engine.dispose()
    assert [e.code for e in events] == ["scan.run.completed"]
    details = dict(events[0].details)
    assert details["counts_by_rule"] == {"SW-SCAN-005": 1}
    assert details["files_scanned"] == 1
    assert len(details["paths_sha256"]) == 64
    assert "api.staging" not in json.dumps(details)


def test_single_file_keeps_its_path_conventions(tmp_path: Path, monkeypatch: object) -> None:
    import pytest

    repo = _tree(tmp_path, "URL=postgres://a@db.prod.example.internal/x?sslmode=verify-full\n")
    mp = pytest.MonkeyPatch()
    try:
        mp.chdir(repo)
        res = run_cli("scan", "envs/staging/app.env", "--format", "json")
    finally:
        mp.undo()
    doc = json.loads(res.stdout)
    assert [(f["file"], f["environment"], f["rule"]) for f in doc["findings"]] == [
        ("envs/staging/app.env", "staging", "SW-SCAN-001")
    ]


def test_rewriting_a_baseline_keeps_accepted_findings(tmp_path: Path) -> None:
    repo = _tree(tmp_path, "URL=http://api.staging.example.com/\n")
    first, second = tmp_path / "b1.json", tmp_path / "b2.json"
    run_cli("scan", str(repo), "--write-baseline", str(first))
    res = run_cli("scan", str(repo), "--baseline", str(first), "--write-baseline", str(second))
    assert res.exit_code == 0
    assert len(json.loads(second.read_text())["findings"]) == 1


def test_unwritable_store_is_an_error_not_silence(tmp_path: Path) -> None:
    repo = _tree(tmp_path, "X=1\n")
    res = run_cli("scan", str(repo), "--db", f"sqlite:///{tmp_path}/missing-dir/sub/store.db")
    assert res.exit_code == 2
    assert "error[SW600]" in res.stderr and "unable to open database file" in res.stderr


def test_exclude_globs(tmp_path: Path) -> None:
    repo = _tree(tmp_path, "URL=http://api.staging.example.com/\n")
    (repo / "templates").mkdir()
    (repo / "templates" / "x.env").write_text("URL=http://api.staging.example.com/\n")
    doc = json.loads(run_cli("scan", str(repo), "--format", "json").stdout)
    assert doc["files_scanned"] == 2
    res = run_cli(
        "scan", str(repo), "--format", "json", "--exclude", "templates", "--exclude", "**/app.env"
    )
    assert res.exit_code == 0
    assert json.loads(res.stdout)["files_scanned"] == 0


def test_docs_example_output_is_real(tmp_path: Path) -> None:
    import pytest

    docs = (Path(__file__).resolve().parents[2] / "docs" / "scan.md").read_text("utf-8")
    example = docs.split("$ stagewall scan .", 1)[1].split("```", 1)[0].splitlines()[1:]
    repo = tmp_path / "repo"
    (repo / "envs" / "staging").mkdir(parents=True)
    estate = Path(__file__).resolve().parents[2] / "src" / "stagewall" / "estate" / "example.yaml"
    (repo / "stagewall.yaml").write_text(estate.read_text("utf-8"))
    (repo / "envs" / "staging" / "app.env").write_text(
        "DATABASE_URL=postgres://app@db.prod.example.internal:5432/shop?sslmode=require\n"
    )
    (repo / "logo.png").write_bytes(b"\x00\x01")
    mp = pytest.MonkeyPatch()
    try:
        mp.chdir(repo)
        res = run_cli("scan", ".")
    finally:
        mp.undo()
    assert res.exit_code == 1
    assert res.stdout.splitlines() == example
