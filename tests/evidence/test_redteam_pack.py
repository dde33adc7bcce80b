"""Red team: an evidence pack verifies only against a key the auditor pinned.

Someone without the log key (an insider with the store, anyone who hands the auditor
a file) forges a pack: checks.json says what they like, and they sign manifest and
checkpoint with a key of their own, shipped as the pack's public.key. Verifying with
no pinned key must refuse it, not pass it with a warning.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from stagewall.audit._checkpoint import parse_note, sign_checkpoint
from stagewall.errors import KeyMissing, SignatureInvalid
from stagewall.evidence.pack import build_pack, sign_manifest
from stagewall.evidence.verify import verify_pack
from stagewall.keys import SigningKey, load_public_key, load_signing_key
from tests.cli_helpers import run_cli
from tests.evidence.history import History
from tests.evidence.packs import read_pack


def _forged(history: History, tmp_path: Path) -> Path:
    genuine = tmp_path / "pack.zip"
    build_pack(history.inputs(), genuine, signing_key=load_signing_key(), pdf=False)
    files, manifest = read_pack(genuine)
    forger = SigningKey(load_signing_key().name, b"\x07" * 32)
    checks = json.loads(files["checks.json"])
    for c in checks["checks"]:
        c["summary"] = "all good"
    files["checks.json"] = json.dumps(checks).encode()
    cp, _sigs = parse_note(files["checkpoint.txt"].decode())
    files["checkpoint.txt"] = sign_checkpoint(cp, forger).encode()
    files["public.key"] = (forger.public.vkey() + "\n").encode()
    manifest["files"] = {
        n: hashlib.sha256(d).hexdigest() for n, d in files.items() if not n.startswith("manifest.")
    }
    raw = json.dumps(manifest).encode()
    out = tmp_path / "forged.zip"
    with zipfile.ZipFile(out, "w") as z:
        for name, data in files.items():
            if not name.startswith("manifest."):
                z.writestr(name, data)
        z.writestr("manifest.json", raw)
        z.writestr("manifest.sig", sign_manifest(raw, forger))
    return out


def test_a_pack_signed_by_its_own_key_is_refused_without_a_pinned_key(
    history: History, tmp_path: Path
) -> None:
    forged = _forged(history, tmp_path)
    with pytest.raises(KeyMissing, match="needs a pinned public key"):
        verify_pack(forged)
    with pytest.raises(SignatureInvalid):
        verify_pack(forged, public_key=load_public_key())


def test_the_cli_pins_the_home_key_or_refuses(history: History, tmp_path: Path) -> None:
    forged = _forged(history, tmp_path)
    # STAGEWALL_HOME holds the log's key: it is the pin, and the forgery fails on it.
    r = run_cli("evidence", "verify", str(forged))
    assert r.exit_code == 1, r.stdout + r.stderr
    assert "error[SW502]" in r.stderr
    # no key anywhere: a usage error naming what to pass, nothing reported as ok
    empty = tmp_path / "empty-home"
    empty.mkdir()
    r = run_cli("evidence", "verify", str(forged), env={"STAGEWALL_HOME": str(empty)})
    assert r.exit_code == 2, r.stdout + r.stderr
    assert "error[SW102]" in r.stderr and "--public-key" in r.stderr
    assert "ok:" not in r.stdout
