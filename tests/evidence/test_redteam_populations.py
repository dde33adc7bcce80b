"""Red team: a production grant the log records cannot vanish from the evidence.

The insider can write the store but not the log's signed history. Deleting the row of
a production grant (and its logins) left the signed log's ``access.grant.created``
event in place, but the checks and the auditor's population are computed from the
rows: the grant disappeared from both, and the pack verified. The checks must name
it, and `evidence verify` must refuse a population that leaves out a production
grant an event of the window records.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from stagewall.errors import PackInvalid
from stagewall.evidence import CheckStatus, evaluate
from stagewall.evidence.pack import build_pack
from stagewall.evidence.verify import verify_pack
from stagewall.keys import load_public_key, load_signing_key
from tests.evidence.history import History


def _delete_grant_row(history: History, grant_id: str) -> None:
    # The insider's own connection: SQLite enforces no foreign keys unless asked.
    db = sqlite3.connect(str(history.db).removeprefix("sqlite:///"))
    with db:
        for table in ("access_credentials", "access_campaign_items"):
            db.execute(f"DELETE FROM {table} WHERE grant_id = ?", (grant_id,))
        db.execute("DELETE FROM access_grants WHERE id = ?", (grant_id,))
    db.close()


def test_a_deleted_production_grant_row_fails_the_check(history: History) -> None:
    gid = history.grants["alice_prod"]
    assert evaluate(history.inputs()).results["access.production_approvals"].status is (
        CheckStatus.PASS
    )
    _delete_grant_row(history, gid)
    r = evaluate(history.inputs()).results["access.production_approvals"]
    assert r.status is CheckStatus.FAIL, r.summary
    assert any(i["grant"] == gid and "no row in the store" in i["problem"] for i in r.items), (
        r.items
    )


def test_a_pack_whose_population_omits_a_recorded_grant_is_refused(
    history: History, tmp_path: Path
) -> None:
    gid = history.grants["alice_prod"]
    _delete_grant_row(history, gid)
    out = tmp_path / "pack.zip"
    build_pack(history.inputs(), out, signing_key=load_signing_key(), pdf=False)
    with pytest.raises(
        PackInvalid,
        match=rf"production grant {gid}, which populations/production_grants.csv leaves",
    ):
        verify_pack(out, public_key=load_public_key())


def test_an_honest_pack_has_every_recorded_grant(history: History, tmp_path: Path) -> None:
    out = tmp_path / "pack.zip"
    build_pack(history.inputs(), out, signing_key=load_signing_key(), pdf=False)
    assert verify_pack(out, public_key=load_public_key()).rows_bound == 5


def test_a_deleted_production_deployment_row_fails_the_check(history: History) -> None:
    """The same for deployments: the signed log's gate check event of a production
    deployment stays when its gate_deployments row is deleted, and the deployment
    vanished from gates.production_promotions (which then passed on what was left)."""
    check = "gates.production_promotions"
    [pid] = history.promotions
    before = evaluate(history.inputs()).results[check]
    assert before.status is CheckStatus.PASS and before.figures["production_deployments"] == 1
    db = sqlite3.connect(str(history.db).removeprefix("sqlite:///"))
    with db:
        db.execute("DELETE FROM gate_deployments WHERE request_id = ?", (pid,))
    db.close()
    r = evaluate(history.inputs()).results[check]
    assert r.status is CheckStatus.FAIL, r.summary
    assert r.figures["production_deployments"] == 1
    assert any(i["promotion"] == pid and "no row" in i["problem"] for i in r.items), r.items
