"""Red team: a small pack that unpacks to gigabytes must not exhaust the auditor's memory.

`evidence verify` bounded the size of the zip file but read every entry whole: a 3 MB
zip of zeros unpacked to 3 GB in memory (MemoryError traceback, or the machine's
memory). The entries' unpacked sizes are now summed from their headers and bounded
before anything is read.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from stagewall.errors import PackInvalid
from stagewall.evidence import verify
from stagewall.evidence.pack import build_pack
from stagewall.evidence.verify import verify_pack
from stagewall.keys import load_public_key, load_signing_key
from tests.evidence.history import History


def _bomb(path: Path, megabytes: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", b"{}")
        z.writestr("manifest.sig", b"key AAAA")
        with z.open("events.jsonl", "w", force_zip64=True) as f:
            for _ in range(megabytes):
                f.write(b"\0" * (1 << 20))
    return path


def test_a_zip_bomb_is_refused_before_it_is_unpacked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 4 MiB instead of 2 GiB (raising=False: on code without the bound the test still runs)
    monkeypatch.setattr(verify, "MAX_UNPACKED_BYTES", 4 << 20, raising=False)
    bomb = _bomb(tmp_path / "bomb.zip", 8)
    assert bomb.stat().st_size < 100_000
    with pytest.raises(PackInvalid, match=r"unpacks to 83886\d\d bytes, more than the 4194304"):
        verify_pack(bomb, public_key=None)


def test_the_default_bound_leaves_room_for_real_packs(history: History, tmp_path: Path) -> None:
    assert verify.MAX_UNPACKED_BYTES >= 2 << 30
    out = tmp_path / "pack.zip"
    build_pack(history.inputs(), out, signing_key=load_signing_key(), pdf=False)
    assert verify_pack(out, public_key=load_public_key()).events > 0
