"""A witness is someone else's server: its redirect must not make ours fetch an address.

Before, urllib followed a 302 from the witness as a GET to the address it named (an
internal service, the cloud metadata address) and put 200 characters of that
address's answer into the witness failure, which is logged and alerted.
"""

from __future__ import annotations

from pathlib import Path

from stagewall.audit import AuditLog, WitnessEndpoint, witness_checkpoints
from stagewall.keys import init_keys
from stagewall.store import Store
from stagewall.witness import init_witness
from tests.alerts.test_redteam_delivery import redirecting_to_internal
from tests.audit.conftest import make_event


def test_a_witness_redirect_is_refused_not_followed(sqlite_store: Store, tmp_path: Path) -> None:
    key = init_witness(tmp_path / "w", "witness.example/redirect").key.public
    init_keys()
    log = AuditLog(sqlite_store, checkpoint_every=None, checkpoint_interval=None)
    log.append_many([make_event(i) for i in range(3)])
    failures: list[str] = []
    with redirecting_to_internal(b"AKIA-INTERNAL-ONLY-CREDENTIAL") as (url, fetched):
        cosigs = witness_checkpoints(log, [WitnessEndpoint(key, url, timeout=5)], failures=failures)
    assert cosigs == []
    assert fetched == []  # the address the witness named was never fetched
    assert len(failures) == 1 and "HTTP 302" in failures[0], failures
    assert "AKIA" not in failures[0]
