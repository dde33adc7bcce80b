"""Red team: the promotions population must be exactly what the signed log records.

`evidence verify` checked that every production *grant* an event of the window records
is in the pack's population, but not promotions: deleting a production promotion's row
from the store took it out of the population and the pack still verified, and the
approvers listed beside each promotion rested on nothing (an approval row written
straight into the store made an unapproved promotion look approved). Now each listed
promotion and each listed approver rests on its signed event, and each production
promotion and approval the pack's events record is listed. Both directions are
tampered here: in the store (the insider) and in the pack re-signed with the log key
(a forging or older builder).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from stagewall.errors import PackInvalid
from stagewall.evidence.verify import verify_pack
from stagewall.keys import load_public_key
from tests.evidence.history import History
from tests.evidence.packs import (
    pack_of,
    population,
    read_pack,
    signed_zip,
    store_sql,
    with_population,
)

POP = "populations/production_promotions.csv"


def _rows(pack: Path) -> list[dict[str, str]]:
    return population(pack, POP)


def _with_rows(pack: Path, rows: list[dict[str, str]], out: str) -> Path:
    return with_population(pack, POP, rows, out)


def _break_glass_promotion(history: History) -> str:
    sha = history.commit("carol@example.com", 90)
    promo = history.gate().submit(
        repo=str(history.repo),
        change=sha,
        artifact="sha256:" + hashlib.sha256(b"hotfix").hexdigest(),
        stage="production",
        submitter="carol",  # the one whose codes the history took on the real clock only
        break_glass_reason="incident 7",
        otp=history.gate_otp("carol"),
    )
    return promo.id


def test_an_honest_pack_lists_each_promotion_with_its_approval_event(
    history: History, tmp_path: Path
) -> None:
    pack = pack_of(history, tmp_path)
    report = verify_pack(pack, public_key=load_public_key())
    [row] = _rows(pack)
    assert row["promotion"] == history.promotions[0] and row["approvers"] == "carol"
    assert row["approval_events"].isdigit()
    assert not [w for w in report.warnings if "production stages" in w]


def test_a_deleted_production_promotion_row_is_refused(history: History, tmp_path: Path) -> None:
    [pid] = history.promotions
    store_sql(
        history,
        ("DELETE FROM gate_deployments WHERE request_id = ?", (pid,)),
        ("DELETE FROM gate_promotions WHERE request_id = ?", (pid,)),
    )
    pack = pack_of(history, tmp_path)
    assert _rows(pack) == []
    with pytest.raises(PackInvalid, match=rf"production promotion {pid}, which {POP} leaves out"):
        verify_pack(pack, public_key=load_public_key())


def test_a_deleted_break_glass_promotion_row_is_refused(history: History, tmp_path: Path) -> None:
    pid = _break_glass_promotion(history)
    assert pid in {r["promotion"] for r in _rows(pack_of(history, tmp_path, "before.zip"))}
    store_sql(history, ("DELETE FROM gate_promotions WHERE request_id = ?", (pid,)))
    with pytest.raises(PackInvalid, match=rf"production promotion {pid}, which {POP} leaves out"):
        verify_pack(pack_of(history, tmp_path), public_key=load_public_key())


def test_an_approval_written_into_the_store_is_refused(history: History, tmp_path: Path) -> None:
    """bob never approved; a review row saying he did makes the promotion look approved
    by two."""
    [pid] = history.promotions
    store_sql(
        history,
        (
            "INSERT INTO access_reviews (request_id, reviewer, decision, reason, mfa_method,"
            " mfa_time, created_at) SELECT request_id, 'bob', decision, reason, mfa_method,"
            " mfa_time, created_at FROM access_reviews WHERE request_id = ?",
            (pid,),
        ),
    )
    pack = pack_of(history, tmp_path)
    # since sealgaps the builder lists it apart, as gate check does not count it
    [row] = _rows(pack)
    assert row["approvers"] == "carol" and row["approvers_not_counted"] == "bob"
    assert row["not_counted_events"] == "-" and row["not_counted_why"].startswith("bob: ")
    verify_pack(pack, public_key=load_public_key())
    # a builder that lists it as an approver again is refused
    moved = {**row, "approvers": "bob carol", "approval_events": f"- {row['approval_events']}"}
    moved.update(approvers_not_counted="", not_counted_events="", not_counted_why="")
    with pytest.raises(PackInvalid, match=rf"promotion {pid} lists approver bob, but no approval"):
        verify_pack(_with_rows(pack, [moved], "moved.zip"), public_key=load_public_key())


def test_a_deleted_approval_row_is_refused(history: History, tmp_path: Path) -> None:
    [pid] = history.promotions
    store_sql(history, ("DELETE FROM access_reviews WHERE request_id = ?", (pid,)))
    pack = pack_of(history, tmp_path)
    assert _rows(pack)[0]["approvers"] == ""
    with pytest.raises(
        PackInvalid, match=rf"approval of promotion {pid} by carol, which {POP} leaves out"
    ):
        verify_pack(pack, public_key=load_public_key())


def test_a_promotion_listed_twice_is_refused(history: History, tmp_path: Path) -> None:
    pack = pack_of(history, tmp_path)
    [row] = _rows(pack)
    with pytest.raises(PackInvalid, match="one recorded act is counted twice"):
        verify_pack(_with_rows(pack, [row, row], "twice.zip"), public_key=load_public_key())


def test_an_approver_added_to_the_pack_is_refused(history: History, tmp_path: Path) -> None:
    pack = pack_of(history, tmp_path)
    [row] = _rows(pack)
    forged = _with_rows(pack, [{**row, "approvers": "alice carol"}], "added.zip")
    with pytest.raises(PackInvalid, match="lists approver alice, but no approval event"):
        verify_pack(forged, public_key=load_public_key())


def test_an_approver_dropped_from_the_pack_is_refused(history: History, tmp_path: Path) -> None:
    pack = pack_of(history, tmp_path)
    [row] = _rows(pack)
    forged = _with_rows(pack, [{**row, "approvers": "", "approval_events": ""}], "dropped.zip")
    with pytest.raises(PackInvalid, match=rf"by carol, which {POP} leaves out"):
        verify_pack(forged, public_key=load_public_key())


def test_a_promotion_outside_the_window_is_refused(history: History, tmp_path: Path) -> None:
    """A window that starts just after the promotion was submitted, with the promotion still
    listed (a builder that let the row in by a store time moved into the window)."""
    pack = pack_of(history, tmp_path)
    [row] = _rows(pack)
    files, manifest = read_pack(pack)
    submitted = int(row["audit_index"])
    events = [json.loads(line) for line in files["events.jsonl"].splitlines()]
    after = next(e for e in events if e["metadata"]["log_index"] == submitted + 1)
    manifest["window_events"]["first"] = submitted + 1
    manifest["window"]["from"] = after["time"]
    forged = signed_zip(files, manifest, tmp_path / "moved.zip")
    with pytest.raises(PackInvalid, match=rf"promotion {row['promotion']} was submitted by event"):
        verify_pack(forged, public_key=load_public_key())


def test_a_pack_without_production_stages_warns(history: History, tmp_path: Path) -> None:
    files, manifest = read_pack(pack_of(history, tmp_path))
    del manifest["production_stages"]
    report = verify_pack(
        signed_zip(files, manifest, tmp_path / "old.zip"), public_key=load_public_key()
    )
    assert any("promotions population is complete was NOT checked" in w for w in report.warnings)


def test_a_deleted_break_glass_grant_row_is_refused(history: History, tmp_path: Path) -> None:
    """Break-glass access is a production grant: the grants completeness covers it."""
    gid = history.grants["alice_bg"]
    store_sql(
        history,
        ("DELETE FROM access_followups WHERE grant_id = ?", (gid,)),
        ("DELETE FROM access_campaign_items WHERE grant_id = ?", (gid,)),
        ("DELETE FROM access_grants WHERE id = ?", (gid,)),
    )
    with pytest.raises(PackInvalid, match=rf"production grant {gid}, which"):
        verify_pack(pack_of(history, tmp_path), public_key=load_public_key())
