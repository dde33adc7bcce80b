"""Red team: the approvers a pack lists for production grants must be what the signed log
records.

The production grants population listed each grant's approvers straight from the store's
review rows, and `evidence verify` checked nothing about them: an approval row written
into the store made a grant look approved by someone who never approved it, a deleted one
hid an approver, and a grant row pointed at another request borrowed that request's
approvals. Now each row cites the event of each approver (``approval_events``), its
request is bound to the grant's own event, and each approving review of a listed grant's
request that the pack holds must be listed: tampered both in the store (the insider) and
in the pack re-signed with the log key (a forging or older builder), as the promotions
population is.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stagewall.errors import PackInvalid
from stagewall.evidence.verify import verify_pack
from stagewall.keys import load_public_key
from tests.evidence.history import History
from tests.evidence.packs import (
    pack_of,
    population,
    store_sql,
    with_population,
)

POP = "populations/production_grants.csv"

_COPY_REVIEW = (
    "INSERT INTO access_reviews (request_id, reviewer, decision, reason, mfa_method,"
    " mfa_time, created_at{extra}) SELECT request_id, ?, decision, reason, mfa_method,"
    " mfa_time, created_at{extra} FROM access_reviews WHERE request_id = ?"
)


def _row(pack: Path, grant: str) -> dict[str, str]:
    [row] = [r for r in population(pack, POP) if r["grant"] == grant]
    return row


def _request(history: History, grant: str) -> str:
    return str(next(g["request_id"] for g in history.inputs().grants if g["id"] == grant))


def _forged(pack: Path, grant: str, out: str, **changes: str) -> Path:
    rows = [{**r, **changes} if r["grant"] == grant else r for r in population(pack, POP)]
    return with_population(pack, POP, rows, out)


def _verify(pack: Path) -> None:
    verify_pack(pack, public_key=load_public_key())


def test_an_honest_pack_lists_each_grant_approver_with_its_event(
    history: History, tmp_path: Path
) -> None:
    pack = pack_of(history, tmp_path)
    report = verify_pack(pack, public_key=load_public_key())
    row = _row(pack, history.grants["alice_prod"])
    assert row["approvers"] == "bob" and row["approval_events"].isdigit()
    bg = _row(pack, history.grants["alice_bg"])
    assert (bg["request"], bg["approvers"], bg["approval_events"]) == ("", "", "")
    assert not [w for w in report.warnings if "approval_events" in w]


def test_an_approval_written_into_the_store_is_refused(history: History, tmp_path: Path) -> None:
    """carol never approved alice's request; a review row saying she did makes the grant
    look approved by two."""
    gid = history.grants["alice_prod"]
    req = _request(history, gid)
    store_sql(history, (_COPY_REVIEW.format(extra=""), ("carol", req)))
    pack = pack_of(history, tmp_path)
    assert _row(pack, gid)["approvers"] == "bob carol"
    with pytest.raises(
        PackInvalid, match=rf"grant {gid} \(request {req}\) lists approver carol, but no approval"
    ):
        _verify(pack)


def test_an_approval_copied_with_its_event_is_refused(history: History, tmp_path: Path) -> None:
    """The copied row also carries bob's event: one signed approval counted for two."""
    gid = history.grants["alice_prod"]
    req = _request(history, gid)
    store_sql(history, (_COPY_REVIEW.format(extra=", audit_index, audit_leaf"), ("carol", req)))
    with pytest.raises(PackInvalid, match="one recorded approval is counted twice"):
        _verify(pack_of(history, tmp_path))


def test_a_deleted_approval_row_is_refused(history: History, tmp_path: Path) -> None:
    gid = history.grants["alice_prod"]
    req = _request(history, gid)
    store_sql(history, ("DELETE FROM access_reviews WHERE request_id = ?", (req,)))
    pack = pack_of(history, tmp_path)
    assert _row(pack, gid)["approvers"] == ""
    with pytest.raises(
        PackInvalid, match=rf"approval of grant {gid} \(request {req}\) by bob, which {POP}"
    ):
        _verify(pack)


def test_a_grant_moved_to_another_request_is_refused(history: History, tmp_path: Path) -> None:
    """The break-glass grant pointed at alice's approved request borrows its approval."""
    bg, prod = history.grants["alice_bg"], history.grants["alice_prod"]
    req = _request(history, prod)
    store_sql(
        history,
        ("UPDATE access_grants SET request_id = NULL WHERE id = ?", (prod,)),
        ("UPDATE access_grants SET request_id = ? WHERE id = ?", (req, bg)),
    )
    pack = pack_of(history, tmp_path)
    assert _row(pack, bg)["approvers"] == "bob"
    # both rows now differ from their grants' events; the first in the pack is named
    with pytest.raises(PackInvalid, match=rf"grant ({bg}|{prod}) does not match its audit event"):
        _verify(pack)


def test_an_approver_added_to_the_pack_is_refused(history: History, tmp_path: Path) -> None:
    pack = pack_of(history, tmp_path)
    gid = history.grants["alice_prod"]
    with pytest.raises(PackInvalid, match="lists approver carol, but no approval event"):
        _verify(_forged(pack, gid, "added.zip", approvers="bob carol"))


def test_an_approver_dropped_from_the_pack_is_refused(history: History, tmp_path: Path) -> None:
    pack = pack_of(history, tmp_path)
    gid = history.grants["alice_prod"]
    forged = _forged(pack, gid, "dropped.zip", approvers="", approval_events="")
    with pytest.raises(PackInvalid, match=rf"by bob, which {POP} leaves out"):
        _verify(forged)


def test_another_grants_approval_cited_in_the_pack_is_refused(
    history: History, tmp_path: Path
) -> None:
    """The break-glass grant (no request) citing alice's approval as its own."""
    pack = pack_of(history, tmp_path)
    cited = _row(pack, history.grants["alice_prod"])["approval_events"]
    bg = history.grants["alice_bg"]
    forged = _forged(pack, bg, "borrowed.zip", approvers="bob", approval_events=cited)
    with pytest.raises(PackInvalid, match=rf"grant {bg} cites event {cited}, not an approval"):
        _verify(forged)


def test_a_pack_without_grant_approval_events_warns(history: History, tmp_path: Path) -> None:
    """A pack of an older stagewall verifies, saying what was not checked."""
    pack = pack_of(history, tmp_path)
    rows = [{k: v for k, v in r.items() if k != "approval_events"} for r in population(pack, POP)]
    report = verify_pack(with_population(pack, POP, rows, "old.zip"), public_key=load_public_key())
    assert any("approvers rest on signed approvals was NOT checked" in w for w in report.warnings)
