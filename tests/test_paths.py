"""Where stagewall keeps its state: bad locations are clear errors, not tracebacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cli_helpers import run_cli


def test_stagewall_home_pointing_at_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 12: STAGEWALL_HOME pointing at a file printed a traceback."""
    afile = tmp_path / "not-a-dir"
    afile.write_text("x")
    monkeypatch.setenv("STAGEWALL_HOME", str(afile))
    r = run_cli("keys", "init")
    assert r.exit_code == 2
    assert f"error[SW100]: the stagewall state directory {afile} is a file" in r.stderr
    assert "Traceback" not in r.stderr
    r = run_cli("audit", "tail")
    assert r.exit_code == 2 and "is a file, not a directory" in r.stderr


def _estate_elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """An estate in tmp/estate, the user in tmp/work, no STAGEWALL_HOME."""
    from tests.access.conftest import ESTATE

    estate = tmp_path / "estate"
    work = tmp_path / "work"
    estate.mkdir()
    work.mkdir()
    values = {"db": "app", "extra_eligible": "", "prod_rule": "one-sre", "standing": "  []"}
    (estate / "stagewall.yaml").write_text(ESTATE.format(**values), encoding="utf-8")
    monkeypatch.delenv("STAGEWALL_HOME")
    monkeypatch.chdir(work)
    return estate, work


def test_the_store_follows_the_estate_file_not_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12: `--config ../stagewall.yaml` from another directory created a second,
    empty store there (even for read-only commands)."""
    from stagewall.access import AccessContext
    from stagewall.audit import AuditLog

    estate, work = _estate_elsewhere(tmp_path, monkeypatch)
    ctx = AccessContext.open("../estate/stagewall.yaml")
    ctx.store.dispose()
    store_file = estate / ".stagewall" / "stagewall.db"
    assert store_file.exists()
    # a CLI command given --config reads that same store, and creates nothing here
    r = run_cli("audit", "verify", "--config", "../estate/stagewall.yaml")
    assert "there is no stagewall store" not in r.stderr, r.stderr
    # STAGEWALL_CONFIG is followed the same way
    monkeypatch.setenv("STAGEWALL_CONFIG", "../estate/stagewall.yaml")
    r = run_cli("audit", "tail")
    assert r.exit_code == 0, r.stderr
    assert "estate.changed" in r.stdout
    assert not (work / ".stagewall").exists()
    from stagewall.store import open_store

    store = open_store(f"sqlite:///{store_file}")
    try:
        assert [e.code for e in AuditLog(store).events()] == ["estate.changed"]
    finally:
        store.dispose()


def test_a_reading_command_without_a_store_is_an_error_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _estate, work = _estate_elsewhere(tmp_path, monkeypatch)
    for args in (("audit", "tail"), ("mask", "runs")):
        r = run_cli(*args)
        assert r.exit_code == 2, (args, r.stderr)
        assert "error[SW890]: there is no stagewall store at" in r.stderr
        assert "nothing was created" in r.stderr and "Traceback" not in r.stderr
    assert not (work / ".stagewall").exists()


@pytest.mark.parametrize("via", ["--db", "STAGEWALL_DB"])
def test_a_reading_command_given_a_missing_store_file_is_an_error_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, via: str
) -> None:
    """`audit tail --db sqlite:///missing.db` created an empty store and exited 0 with no
    output (`audit verify` reported an empty log as verified); so did STAGEWALL_DB."""
    _estate_elsewhere(tmp_path, monkeypatch)
    missing = tmp_path / "typo" / "stagewall.db"
    (tmp_path / "typo").mkdir()
    url = f"sqlite:///{missing}"
    extra: tuple[str, ...] = ("--db", url) if via == "--db" else ()
    if via == "STAGEWALL_DB":
        monkeypatch.setenv("STAGEWALL_DB", url)
    commands = (
        ("audit", "tail"),
        ("audit", "verify"),
        ("audit", "proof", "0"),
        ("audit", "export", "--out", str(tmp_path / "bundle")),
        ("mask", "runs"),
        ("evidence", "checks", "--config", str(tmp_path / "estate" / "stagewall.yaml")),
        ("server", "pipeline-token", "list"),
    )
    for args in commands:
        r = run_cli(*args, *extra)
        assert r.exit_code == 2, (args, r.exit_code, r.stdout, r.stderr)
        assert f"error[SW890]: there is no stagewall store at {missing}" in r.stderr, (args, r)
        assert "nothing was created" in r.stderr and "Traceback" not in r.stderr
        assert f"check the path in {via}" in r.stderr
        assert not missing.exists(), args
