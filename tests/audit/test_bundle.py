"""Offline bundle verification: Hypothesis properties over tampered exports, and bad input."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stagewall.audit import AuditLog, LogBroken
from stagewall.audit._bundle import export_bundle, verify_bundle
from stagewall.audit._checkpoint import CheckpointInvalid
from stagewall.audit._verify import NO_WITNESS_WARNING
from stagewall.errors import KeyMissing, UsageError
from stagewall.keys import PublicKey, SigningKey
from stagewall.store import open_store
from tests.audit.conftest import make_event

N = 24
KEY = SigningKey("test.example/audit", bytes(range(32)))


@dataclass(frozen=True)
class Bundle:
    path: Path
    lines: list[bytes]
    public: PublicKey


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    base = tmp_path_factory.mktemp("bundle")
    store = open_store(f"sqlite:///{base / 'store.db'}")
    log = AuditLog(store, checkpoint_every=6, checkpoint_interval=None, signing_key=KEY)
    for i in range(N):
        log.append(make_event(i, note="x" * (i % 7)))
    out = base / "export"
    res = export_bundle(log, out, signing_key=KEY, public_key=KEY.public)
    store.dispose()
    assert res.size == N
    lines = (out / "events.jsonl").read_bytes().split(b"\n")[:-1]
    assert len(lines) == N
    return Bundle(out, lines, KEY.public)


def _with_events(b: Bundle, lines: list[bytes], keep_checkpoints_upto: int | None = None) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="swb-"))
    shutil.copytree(b.path, tmp / "b")
    (tmp / "b" / "events.jsonl").write_bytes(b"".join(x + b"\n" for x in lines))
    if keep_checkpoints_upto is not None:
        for f in (tmp / "b" / "checkpoints").iterdir():
            if int(f.stem.split("-")[1]) > keep_checkpoints_upto:
                f.unlink()
    return tmp / "b"


def _first_difference(old: list[bytes], new: list[bytes]) -> int:
    for i, (a, c) in enumerate(zip(old, new, strict=False)):
        if a != c:
            return i
    return min(len(old), len(new))


def _expect_broken_at(b: Bundle, lines: list[bytes], index: int, **kw: int) -> None:
    path = _with_events(b, lines, **kw)
    try:
        with pytest.raises(LogBroken) as exc:
            verify_bundle(path, public_key=b.public)
        assert exc.value.index == index, exc.value.message
    finally:
        shutil.rmtree(path.parent)


SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def test_untouched_bundle_verifies(bundle: Bundle) -> None:
    report = verify_bundle(bundle.path, public_key=bundle.public)
    assert report.size == N and report.checkpoints == (6, 12, 18, 24)
    assert report.warnings == (NO_WITNESS_WARNING,)


@SETTINGS
@given(data=st.data())
def test_any_flipped_byte_is_caught_at_its_index(bundle: Bundle, data: st.DataObject) -> None:
    j = data.draw(st.integers(0, N - 1))
    line = bundle.lines[j]
    pos = data.draw(st.integers(0, len(line) - 1))
    xor = data.draw(st.integers(1, 255))
    changed = line[:pos] + bytes([line[pos] ^ xor]) + line[pos + 1 :]
    lines = [*bundle.lines]
    lines[j] = changed
    _expect_broken_at(bundle, lines, j)


@SETTINGS
@given(j=st.integers(0, N - 1))
def test_deleted_event_is_caught(bundle: Bundle, j: int) -> None:
    lines = bundle.lines[:j] + bundle.lines[j + 1 :]
    _expect_broken_at(bundle, lines, j)


@SETTINGS
@given(j=st.integers(0, N - 1), k=st.integers(0, N - 1))
def test_reordered_events_are_caught(bundle: Bundle, j: int, k: int) -> None:
    if j == k:
        return
    lines = [*bundle.lines]
    lines[j], lines[k] = lines[k], lines[j]
    _expect_broken_at(bundle, lines, min(j, k))


@SETTINGS
@given(
    j=st.integers(0, N),
    inserted=st.one_of(st.integers(0, N - 1), st.binary(min_size=1, max_size=300)),
)
def test_inserted_event_is_caught(bundle: Bundle, j: int, inserted: int | bytes) -> None:
    line = bundle.lines[inserted] if isinstance(inserted, int) else inserted.replace(b"\n", b" ")
    lines = [*bundle.lines[:j], line, *bundle.lines[j:]]
    _expect_broken_at(bundle, lines, _first_difference(bundle.lines, lines))


@SETTINGS
@given(keep=st.integers(1, N), data=st.data())
def test_truncation_below_a_kept_checkpoint_is_caught(
    bundle: Bundle, keep: int, data: st.DataObject
) -> None:
    kept = max(s for s in (6, 12, 18, 24) if s <= max(keep, 6))
    cut = data.draw(st.integers(0, kept - 1))
    _expect_broken_at(bundle, bundle.lines[:cut], cut, keep_checkpoints_upto=kept)


def test_truncation_with_an_older_external_checkpoint(bundle: Bundle, tmp_path: Path) -> None:
    older = tmp_path / "older.txt"
    shutil.copy(bundle.path / "checkpoints" / "checkpoint-000000000018.txt", older)
    cut = _with_events(bundle, bundle.lines[:15], keep_checkpoints_upto=12)
    with pytest.raises(LogBroken, match="covers 18 events but the log has only 15") as exc:
        verify_bundle(cut, public_key=bundle.public, checkpoint_files=[older])
    assert exc.value.index == 15
    shutil.rmtree(cut.parent)


def test_older_checkpoint_gets_a_consistency_proof(bundle: Bundle, tmp_path: Path) -> None:
    older = tmp_path / "older.txt"
    shutil.copy(bundle.path / "checkpoints" / "checkpoint-000000000006.txt", older)
    report = verify_bundle(bundle.path, public_key=bundle.public, checkpoint_files=[older])
    (proof,) = report.consistency
    assert (proof["old_size"], proof["new_size"]) == (6, N)
    assert len(proof["proof"]) >= 2


def test_forged_history_with_own_key_fails_against_the_pinned_key(
    bundle: Bundle, tmp_path: Path
) -> None:
    # A forger rewrites event 3, re-exports everything and signs with their own key.
    forger = SigningKey("test.example/audit", b"\x09" * 32)
    store = open_store(f"sqlite:///{tmp_path / 'f.db'}")
    log = AuditLog(store, checkpoint_every=6, checkpoint_interval=None, signing_key=forger)
    for i in range(N):
        log.append(make_event(i if i != 3 else 333, note="x" * (i % 7)))
    export_bundle(log, tmp_path / "forged", signing_key=forger, public_key=forger.public)
    store.dispose()
    # Self-consistent, so without a pinned key it is refused outright (issue 12).
    with pytest.raises(KeyMissing, match="needs a pinned public key"):
        verify_bundle(tmp_path / "forged", public_key=None)
    with pytest.raises(CheckpointInvalid, match="not signed by the expected key"):
        verify_bundle(tmp_path / "forged", public_key=bundle.public)


def test_missing_bundle_dir(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"bundle directory .*nope does not exist"):
        verify_bundle(tmp_path / "nope", public_key=None)


def test_dir_without_events_is_not_a_bundle(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"is not an audit bundle: events.jsonl is missing"):
        verify_bundle(tmp_path, public_key=None)


def test_bundle_without_a_pinned_key_fails(bundle: Bundle, tmp_path: Path) -> None:
    shutil.copytree(bundle.path, tmp_path / "b")
    with pytest.raises(KeyMissing, match="offline verification needs a pinned public key"):
        verify_bundle(tmp_path / "b", public_key=None)


def test_corrupted_checkpoint_file(bundle: Bundle, tmp_path: Path) -> None:
    shutil.copytree(bundle.path, tmp_path / "b")
    cp = tmp_path / "b" / "checkpoints" / "checkpoint-000000000012.txt"
    cp.write_text(cp.read_text().replace("\n12\n", "\n13\n"))
    with pytest.raises(CheckpointInvalid, match=r"checkpoint-000000000012.txt: the signature by"):
        verify_bundle(tmp_path / "b", public_key=bundle.public)


def test_export_refuses_a_non_empty_directory(bundle: Bundle, tmp_path: Path) -> None:
    (tmp_path / "x").write_text("x")
    store = open_store(f"sqlite:///{tmp_path / 's.db'}")
    with pytest.raises(UsageError, match="exists and is not an empty directory"):
        export_bundle(AuditLog(store), tmp_path, signing_key=None, public_key=KEY.public)
    store.dispose()
