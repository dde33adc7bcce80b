"""Verification stays per-leaf sound after the speed work: the manifest re-signed with the
real log key (an operator forging), one changed leaf, event or CSV row is still refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from stagewall.errors import PackInvalid
from stagewall.evidence.pack import build_pack
from stagewall.evidence.verify import verify_pack
from stagewall.keys import load_public_key, load_signing_key
from tests.evidence.history import History
from tests.evidence.packs import read_pack, signed_zip


@pytest.fixture
def pack(history: History, tmp_path: Path) -> Path:
    out = tmp_path / "pack.zip"
    build_pack(history.inputs(), out, signing_key=load_signing_key(), pdf=False)
    assert verify_pack(
        signed_zip(*read_pack(out), tmp_path / "same.zip"), public_key=load_public_key()
    )
    return out


def _forged(pack: Path, name: str, at: int) -> Path:
    """``name`` with the byte at ``at`` changed (to "0", or to "1" if it was "0")."""
    files, manifest = read_pack(pack)
    data = bytearray(files[name])
    data[at] = ord("1") if data[at] == ord("0") else ord("0")
    files[name] = bytes(data)
    return signed_zip(files, manifest, pack.with_name(f"forged-{at}.zip"))


@pytest.mark.parametrize("leaf", [0, 7, -1])
def test_one_changed_leaf_is_refused(pack: Path, leaf: int) -> None:
    n = len(read_pack(pack)[0]["leaves.bin"]) // 32
    at = (leaf % n) * 32 + 5
    with pytest.raises(PackInvalid, match="does not recompute to the signed checkpoint's root"):
        verify_pack(_forged(pack, "leaves.bin", at), public_key=load_public_key())


def test_one_changed_event_is_refused(pack: Path) -> None:
    events = read_pack(pack)[0]["events.jsonl"]
    at = events.index(b'"time":"') + len(b'"time":"') + 3  # a digit of the first event's year
    with pytest.raises(PackInvalid, match="is not the event the signed log holds"):
        verify_pack(_forged(pack, "events.jsonl", at), public_key=load_public_key())


def test_one_changed_csv_row_is_refused(pack: Path) -> None:
    csv = read_pack(pack)[0]["populations/production_grants.csv"]
    row = csv.index(b"\n") + 2  # inside the first row's grant id
    with pytest.raises(PackInvalid, match="does not match its audit event"):
        verify_pack(
            _forged(pack, "populations/production_grants.csv", row), public_key=load_public_key()
        )


def test_one_changed_proof_is_refused(pack: Path) -> None:
    proofs = read_pack(pack)[0]["proofs.json"]
    at = proofs.index(b'"path":["') + len(b'"path":["') + 2
    with pytest.raises(PackInvalid, match=r"inclusion proof of event \d+ does not verify"):
        verify_pack(_forged(pack, "proofs.json", at), public_key=load_public_key())
