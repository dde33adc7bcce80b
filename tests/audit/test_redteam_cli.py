"""Red team: `audit verify-proof` on forged or broken input.

A proof file is the prover's own text: without a signed checkpoint its root proves
nothing, so the command must say so; bad files are usage errors, never tracebacks.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.audit.test_cli import _populate
from tests.cli_helpers import run_cli


def test_a_forged_proof_without_a_checkpoint_is_not_called_authenticated(tmp_path: Path) -> None:
    event = '{"message":"nobody approved anything"}'
    leaf = hashlib.sha256(b"\x00" + event.encode()).hexdigest()
    forged = {"leaf_index": 0, "tree_size": 1, "root_hash": leaf, "leaf_hash": leaf,
              "audit_path": [], "event": event}  # fmt: skip
    path = tmp_path / "p.json"
    path.write_text(json.dumps(forged))
    res = run_cli("audit", "verify-proof", str(path))
    assert res.exit_code == 0
    assert "NOT bound to a signed checkpoint" in res.stderr
    assert "--checkpoint" in res.stderr


@pytest.mark.parametrize("damage", ["dir", "binary"])
def test_a_bad_checkpoint_file_is_a_usage_error(tmp_path: Path, damage: str) -> None:
    _populate(4)
    path = tmp_path / "p.json"
    path.write_text(run_cli("audit", "proof", "1", "--format", "json").stdout)
    cp = tmp_path / "cp.txt"
    if damage == "dir":
        cp.mkdir()
    else:
        cp.write_bytes(b"\xff\xfe")
    res = run_cli("audit", "verify-proof", str(path), "--checkpoint", str(cp))
    assert res.exit_code == 2, res.stdout + res.stderr
    assert f"checkpoint file {cp}" in res.stderr


@pytest.mark.parametrize("value", ["1e400", "-1e400", "true", "[1]"])
def test_a_non_integer_index_is_a_usage_error(tmp_path: Path, value: str) -> None:
    path = tmp_path / "p.json"
    rest = '"tree_size":2,"root_hash":"00","audit_path":[],"leaf_hash":"00"'
    path.write_text(f'{{"leaf_index":{value},{rest}}}')
    res = run_cli("audit", "verify-proof", str(path))
    assert res.exit_code == 2, res.stdout + res.stderr
    assert f"the proof {path} is malformed" in res.stderr
