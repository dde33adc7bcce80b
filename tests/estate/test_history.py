"""Estate-change events (issue 12): every change of stagewall.yaml's effective content
is an ``estate.changed`` audit event with old/new hashes and file digests, a summary
of what changed and what weakened; the server records it when it reloads the file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from stagewall.access import AccessContext
from stagewall.audit import AuditLog
from stagewall.server._state import ServerState
from stagewall.store import open_store
from tests.access.conftest import ESTATE

pytestmark = pytest.mark.postgres  # the estate declares PostgreSQL resources (not touched)


def _write(path: Path, **fmt: str) -> None:
    values = {"db": "app", "extra_eligible": "", "prod_rule": "two-sre", "standing": "  []"}
    values.update(fmt)
    path.write_text(ESTATE.format(**values), encoding="utf-8")


def _changes(store_url: str) -> list[Any]:

    store = open_store(store_url)
    try:
        return [e for e in AuditLog(store).events() if e.code == "estate.changed"]
    finally:
        store.dispose()


def test_first_open_records_the_estate_and_an_unchanged_file_records_nothing(
    tmp_path: Path, sqlite_store_url: str
) -> None:
    config = tmp_path / "stagewall.yaml"
    _write(config)
    AccessContext.open(config, sqlite_store_url).store.dispose()
    AccessContext.open(config, sqlite_store_url).store.dispose()
    # a comment is not a change of the effective content
    config.write_text(config.read_text() + "# a comment\n", encoding="utf-8")
    AccessContext.open(config, sqlite_store_url).store.dispose()
    [first] = _changes(sqlite_store_url)
    assert first.details["old_hash"] is None and first.details["new_hash"].startswith("sha256:")
    assert first.details["summary"] == {"first_record": True}


def test_weakening_a_rule_is_an_event_with_hashes_summary_and_weakenings(
    tmp_path: Path, sqlite_store_url: str
) -> None:
    config = tmp_path / "stagewall.yaml"
    _write(config, prod_rule="two-sre")
    old_digest = "sha256:" + hashlib.sha256(config.read_bytes()).hexdigest()
    AccessContext.open(config, sqlite_store_url).store.dispose()
    _write(config, prod_rule="one-sre", extra_eligible=", erin")
    new_digest = "sha256:" + hashlib.sha256(config.read_bytes()).hexdigest()
    AccessContext.open(config, sqlite_store_url).store.dispose()
    first, second = _changes(sqlite_store_url)
    d = second.details
    assert d["old_hash"] == first.details["new_hash"] != d["new_hash"]
    assert d["old_file_sha256"] == old_digest and d["new_file_sha256"] == new_digest
    assert d["summary"]["roles"]["changed"]["prod-read"]["approval"] == ["two-sre", "one-sre"]
    assert "role prod-read: approvals required lowered from 2 to 1" in d["weakened"]
    assert "role prod-read: eligible widened by erin" in d["weakened"]
    assert d["severity"] == "warning"
    assert "WEAKENED" in second.message


def test_affiliation_and_tier_changes_are_weakenings(tmp_path: Path, sqlite_store_url: str) -> None:
    config = tmp_path / "stagewall.yaml"
    _write(config)
    AccessContext.open(config, sqlite_store_url).store.dispose()
    text = config.read_text()
    text = text.replace(
        "dana: {affiliation: external, vendor: devshop}", "dana: {affiliation: internal}"
    )
    text = text.replace("production: {tier: production}", "production: {tier: non-production}")
    config.write_text(text, encoding="utf-8")
    AccessContext.open(config, sqlite_store_url).store.dispose()
    weak = _changes(sqlite_store_url)[-1].details["weakened"]
    assert "principal dana: external → internal" in weak
    assert "environment production: no longer production" in weak
    assert "role prod-read: no longer production" in weak


def test_the_server_records_the_change_when_it_reloads(
    tmp_path: Path, sqlite_store_url: str
) -> None:
    config = tmp_path / "stagewall.yaml"
    _write(config, prod_rule="two-sre")
    home = tmp_path / "home"
    home.mkdir()
    state = ServerState.open(config, sqlite_store_url, home)
    try:
        assert len(_changes(sqlite_store_url)) == 1
        _write(config, prod_rule="one-sre")
        st = config.stat()
        os.utime(config, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
        state.refresh()
        assert state.estate.roles["prod-read"].approval == "one-sre"
        changes = _changes(sqlite_store_url)
        assert len(changes) == 2
        assert changes[-1].details["weakened"] == [
            "role prod-read: approvals required lowered from 2 to 1"
        ]
    finally:
        state.ctx.store.dispose()
