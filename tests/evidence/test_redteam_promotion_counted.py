"""Red team (store insider): the promotions population listed approvals gate check refuses.

``populations/production_promotions.csv`` listed as ``approvers`` every approve review row
of a promotion, checking neither the server's seal on the approval's event nor the log's
withdrawals, while ``gate check`` (gates/_standing.py) counts only approvals bound to
their sealed events and not withdrawn. An approval row re-bound to an event someone
appended without the server's key was shown to the auditor as an approver. The column now
holds exactly the approvals gate check counts; every other approval row is listed apart
(``approvers_not_counted``, its event, and why), and the offline verifier accepts it there
(an approval row written into the store: tests/evidence/test_redteam_promotions_complete.py).
"""

from __future__ import annotations

from pathlib import Path

from stagewall.audit import AuditLog, Status
from stagewall.evidence.verify import verify_pack
from stagewall.gates import _events as ev
from stagewall.gates._seal import SEAL
from stagewall.keys import load_public_key
from tests.evidence.history import History
from tests.evidence.packs import pack_of, population, store_sql

POP = "populations/production_promotions.csv"


def _rebind_to_unsealed(history: History, tmp_path: Path, promo: str) -> int:
    """The approval row of ``promo`` re-bound to a well-formed approval event appended
    with the library by someone without the server's key (no seal); its index."""
    store = history.ctx.store
    insider = AuditLog(store, home=tmp_path / "insider")
    with store.read() as conn:
        row = conn.exec_driver_sql(
            "SELECT reviewer, audit_index FROM access_reviews WHERE request_id = ?", (promo,)
        ).one()
    real = AuditLog(store).events()[int(row.audit_index)]
    details = {k: v for k, v in real.details.items() if k != SEAL}
    ref = insider.append_refs(
        [
            ev.event(
                ev.APPROVED.code, Status.SUCCESS, row.reviewer, real.message, real.resource, details
            )
        ]
    )[0]
    store_sql(
        history,
        (
            "UPDATE access_reviews SET audit_index = ?, audit_leaf = ? WHERE request_id = ?",
            (ref.index, ref.leaf_hash.hex(), promo),
        ),
    )
    return int(ref.index)


def test_an_approval_on_an_unsealed_event_is_listed_as_not_counted(
    history: History, tmp_path: Path
) -> None:
    [promo] = history.promotions
    index = _rebind_to_unsealed(history, tmp_path, promo)
    pack = pack_of(history, tmp_path)
    [row] = population(pack, POP)
    assert row["approvers"] == "" and row["approval_events"] == ""
    assert row["approvers_not_counted"] == "carol"
    assert row["not_counted_events"] == str(index)
    assert row["not_counted_why"].startswith("carol: ")
    assert "not sealed by this server" in row["not_counted_why"], row
    verify_pack(pack, public_key=load_public_key())  # honest about it: the pack verifies


def test_a_withdrawn_approval_is_listed_as_not_counted(history: History, tmp_path: Path) -> None:
    [pid] = history.promotions
    store_sql(
        history,
        ("UPDATE access_reviews SET withdrawn_at = created_at WHERE request_id = ?", (pid,)),
    )
    [row] = population(pack_of(history, tmp_path), POP)
    assert row["approvers"] == "" and row["approvers_not_counted"] == "carol", row


def test_an_honest_promotion_counts_its_approver(history: History, tmp_path: Path) -> None:
    pack = pack_of(history, tmp_path)
    [row] = population(pack, POP)
    assert row["approvers"] == "carol" and row["approvers_not_counted"] == ""
    verify_pack(pack, public_key=load_public_key())
