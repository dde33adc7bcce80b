"""Red team: `audit verify` of a store passed with events no signed checkpoint covers.

Anyone who can write the store can append such events (or rewrite them): they are only
self-consistent. For an auditor they are unproven, so they now fail verification
(SW977) unless --allow-uncheckpointed asks for the old warning.
"""

from __future__ import annotations

import json

from stagewall.audit import AuditLog
from stagewall.audit._verify import verify_store
from stagewall.keys import init_keys, load_public_key
from stagewall.store import open_store
from tests.audit.conftest import make_event
from tests.cli_helpers import run_cli


def _populate(n: int, every: int | None) -> None:
    init_keys(name="test.example/cli")
    store = open_store()
    log = AuditLog(store, checkpoint_every=every, checkpoint_interval=None)
    for i in range(n):
        log.append(make_event(i))
    store.dispose()


def test_events_after_the_newest_checkpoint_fail_verification() -> None:
    _populate(10, every=4)  # checkpoints at 4 and 8; events 8 and 9 unproven
    res = run_cli("audit", "verify")
    assert res.exit_code == 1
    assert "error[SW977]: audit events 8..9 are not covered by a signed checkpoint" in res.stderr
    assert "--allow-uncheckpointed" in res.stderr  # the hint names the way out
    res = run_cli("audit", "verify", "--format", "json")
    assert res.exit_code == 1
    data = json.loads(res.stdout)
    assert (data["ok"], data["error"], data["index"]) == (False, "SW977", 8)
    # opt-out: the old behaviour, a warning
    res = run_cli("audit", "verify", "--allow-uncheckpointed")
    assert res.exit_code == 0 and "events 8..9 are not yet covered" in res.stderr
    # a checkpoint covering everything makes the log verify
    assert run_cli("audit", "checkpoint").exit_code == 0
    res = run_cli("audit", "verify")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.startswith("ok: audit log verified: 10 events")


def test_a_store_with_no_signed_checkpoint_fails() -> None:
    _populate(3, every=None)
    res = run_cli("audit", "verify")
    assert res.exit_code == 1
    assert "audit events 0..2 are not covered" in res.stderr
    assert "no signed checkpoint exists" in res.stderr


def test_an_empty_store_verifies() -> None:
    init_keys(name="test.example/cli")
    open_store().dispose()
    res = run_cli("audit", "verify")
    assert res.exit_code == 0, res.stderr


def test_the_opt_out_is_refused_for_a_bundle(tmp_path: object) -> None:
    res = run_cli("audit", "verify", "--bundle", "somewhere", "--allow-uncheckpointed")
    assert res.exit_code == 2 and "applies to a store, not to a bundle" in res.stderr


def test_the_library_default_is_unchanged_for_the_servers_own_checks() -> None:
    """The evidence check (audit.log_integrity) names the unproven tail itself."""
    _populate(5, every=4)
    store = open_store()
    report = verify_store(AuditLog(store), load_public_key())
    assert report.size == 5 and any("4..4" in w for w in report.warnings)
    store.dispose()
