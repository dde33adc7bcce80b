"""Red team: an offline bundle proves only what the pinned key signed.

A forger with the store (no signing key) builds a bundle: events, chain, no
checkpoint, or the genuine checkpoints plus events appended after the newest one.
Every event must be covered by a checkpoint signed by the pinned key, else the
bundle is refused (exit 1); bad files in a bundle are a clear error, never a
traceback.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from stagewall.audit import AuditLog, WitnessPolicy
from stagewall.audit._bundle import export_bundle, verify_bundle
from stagewall.cli import root
from stagewall.errors import UnsignedEvents, UsageError
from stagewall.keys import SigningKey
from stagewall.store import open_store
from tests.audit.conftest import make_event

KEY = SigningKey("test.example/audit", bytes(range(32)))


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    log = AuditLog(store, checkpoint_every=4, checkpoint_interval=None, signing_key=KEY)
    for i in range(10):
        log.append(make_event(i))
    export_bundle(log, tmp_path / "bundle", signing_key=KEY, public_key=KEY.public)
    store.dispose()
    (tmp_path / "pub.key").write_text(KEY.public.vkey() + "\n")
    return tmp_path / "bundle"


def _forged(tmp_path: Path, events: int, *, checkpoints: bool) -> Path:
    """A bundle the forger writes from a store of their own (no key: no checkpoint)."""
    store = open_store(f"sqlite:///{tmp_path / 'forged.db'}")
    log = AuditLog(store, checkpoint_every=None, checkpoint_interval=None)
    for i in range(events):
        log.append(make_event(100 + i))
    out = tmp_path / "forged"
    export_bundle(log, out, signing_key=None, public_key=KEY.public)
    store.dispose()
    assert checkpoints is False and not any((out / "checkpoints").iterdir())
    return out


def test_a_bundle_without_any_signed_checkpoint_is_refused(tmp_path: Path) -> None:
    forged = _forged(tmp_path, 5, checkpoints=False)
    with pytest.raises(UnsignedEvents, match=r"events 0\.\.4 are not covered") as exc:
        verify_bundle(forged, public_key=KEY.public)
    assert exc.value.code == "SW930" and exc.value.exit_code == 1


def test_events_after_the_newest_checkpoint_are_refused(exported: Path) -> None:
    # Drop the fresh export checkpoint: events 8 and 9 are signed by nobody.
    (exported / "checkpoints" / "checkpoint-000000000010.txt").unlink()
    with pytest.raises(UnsignedEvents, match=r"events 8\.\.9 are not covered"):
        verify_bundle(exported, public_key=KEY.public)


def test_the_cli_refuses_an_unsigned_bundle_with_exit_1(tmp_path: Path) -> None:
    forged = _forged(tmp_path, 3, checkpoints=False)
    (tmp_path / "pub.key").write_text(KEY.public.vkey() + "\n")
    args = ["audit", "verify", "--bundle", str(forged), "--public-key", str(tmp_path / "pub.key")]
    res = CliRunner().invoke(root, args)
    assert res.exit_code == 1, res.output
    assert "error[SW930]" in res.output and "not covered by a checkpoint" in res.output
    res = CliRunner().invoke(root, [*args, "--format", "json"])
    assert res.exit_code == 1
    assert json.loads(res.stdout)["error"] == "SW930"


def test_an_honest_export_of_an_empty_log_verifies(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'e.db'}")
    export_bundle(AuditLog(store), tmp_path / "b", signing_key=KEY, public_key=KEY.public)
    store.dispose()
    report = verify_bundle(tmp_path / "b", public_key=KEY.public)
    assert report.size == 0 and report.checkpoints == (0,)


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        ("checkpoint_dir", "checkpoints/checkpoint-000000000008.txt is not a readable file"),
        ("checkpoint_binary", "checkpoints/checkpoint-000000000008.txt is not UTF-8 text"),
        ("cosignature_binary", "cosignatures/cosigned-000000000008-000000.txt is not UTF-8"),
        ("events_binary_ok", None),
    ],
)
def test_bad_files_in_a_bundle_are_usage_errors(
    exported: Path, damage: str, expected: str | None
) -> None:
    cp = exported / "checkpoints" / "checkpoint-000000000008.txt"
    if damage == "checkpoint_dir":
        cp.unlink()
        cp.mkdir()
    elif damage == "checkpoint_binary":
        cp.write_bytes(b"\xff\xfe\n")
    elif damage == "cosignature_binary":
        (exported / "cosignatures").mkdir()
        (exported / "cosignatures" / "cosigned-000000000008-000000.txt").write_bytes(b"\xff")
        policy = WitnessPolicy((), 1, timedelta(minutes=10))
        with pytest.raises(UsageError, match=expected):
            verify_bundle(exported, public_key=KEY.public, policy=policy)
        return
    if expected is None:
        assert verify_bundle(exported, public_key=KEY.public).size == 10
        return
    with pytest.raises(UsageError, match=expected):
        verify_bundle(exported, public_key=KEY.public)


def test_cli_bad_public_key_and_checkpoint_paths_are_usage_errors(
    exported: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    res = runner.invoke(
        root, ["audit", "verify", "--bundle", str(exported), "--public-key", str(tmp_path)]
    )
    assert res.exit_code == 2, res.output
    assert "is not a readable text file" in res.output
    shutil.rmtree(exported / "checkpoints")
    (exported / "checkpoints").mkdir()
    (exported / "checkpoints" / "x.txt").mkdir()
    res = runner.invoke(
        root,
        ["audit", "verify", "--bundle", str(exported), "--public-key", str(tmp_path / "pub.key")],
    )
    assert res.exit_code == 2, res.output
    assert "x.txt is not a readable file" in res.output
