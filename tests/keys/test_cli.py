"""`stagewall keys ...` end to end."""

from __future__ import annotations

import json
from pathlib import Path

from stagewall.keys import load_signing_key, parse_public_key
from tests.cli_helpers import run_cli


def test_init_twice_and_rotate(_isolated_home: Path) -> None:
    res = run_cli("keys", "init", "--name", "example.com/audit")
    assert res.exit_code == 0
    assert "created audit signing key example.com/audit" in res.stdout
    res = run_cli("keys", "init")
    assert res.exit_code == 0
    assert "already exists" in res.stdout and "not overwritten" in res.stdout
    res = run_cli("keys", "init", "--rotate-masking", "--format", "json")
    data = json.loads(res.stdout)
    assert data["rotated_to"] == data["current_masking_key"] and not data["signing_key_created"]
    listing = run_cli("keys", "list").stdout
    assert f"masking key: {data['current_masking_key']}  (current)" in listing
    assert "secret" not in listing


def test_export_public_vkey_and_pem(tmp_path: Path) -> None:
    run_cli("keys", "init", "--name", "example.com/audit")
    res = run_cli("keys", "export-public")
    assert res.exit_code == 0
    assert parse_public_key(res.stdout) == load_signing_key().public
    assert res.stdout.startswith("example.com/audit+")
    out = tmp_path / "pub.pem"
    res = run_cli("keys", "export-public", "--format", "pem", "--out", str(out))
    assert res.exit_code == 0 and out.read_text().startswith("-----BEGIN PUBLIC KEY-----")


def test_export_public_without_keys() -> None:
    res = run_cli("keys", "export-public")
    assert res.exit_code == 2
    assert "error[SW102]: no public key at" in res.stderr
    assert "hint: run `stagewall keys init`" in res.stderr


def test_open_key_file_is_refused(_isolated_home: Path) -> None:
    run_cli("keys", "init")
    (_isolated_home / "masking_keys.json").chmod(0o644)
    res = run_cli("keys", "list")
    assert res.exit_code == 2
    assert "masking_keys.json has mode 0644: group or other users can access it" in res.stderr


def test_init_records_key_ids_in_the_audit_log(tmp_path: Path) -> None:
    from stagewall.audit import AuditLog
    from stagewall.keys import masking_key_ids
    from stagewall.store import open_store

    url = f"sqlite:///{tmp_path / 'store.db'}"
    assert run_cli("keys", "init", "--db", url).exit_code == 0
    assert run_cli("keys", "init", "--db", url).exit_code == 0  # nothing new: no event
    store = open_store(url)
    events = AuditLog(store).events()
    store.dispose()
    assert [e.code for e in events] == ["keys.created"]
    _ids, current = masking_key_ids()
    assert events[0].details["masking_current_id"] == current
    raw = events[0].raw.decode()
    assert "PRIVATE" not in raw


def test_init_with_a_store_out_of_reach_creates_no_key(_isolated_home: Path) -> None:
    # The key would exist without its keys.created event, and a second run (which finds
    # the key and creates nothing) would never record it: the log would miss a key.
    res = run_cli("keys", "init", "--db", "postgresql+psycopg://sw:Pa55w0rdXYZzy@127.0.0.1:1/x")
    assert res.exit_code == 2
    assert "cannot" in res.stderr or "failed" in res.stderr
    assert "Pa55w0rdXYZzy" not in res.stderr + res.stdout
    assert not list(_isolated_home.glob("*.key")) and not list(_isolated_home.glob("masking*"))
    assert "OperationalError" not in res.stderr
    res = run_cli("keys", "init")
    assert res.exit_code == 0 and "created audit signing key" in res.stdout
    tail = run_cli("audit", "tail", "--format", "json")
    assert "keys.created" in tail.stdout
