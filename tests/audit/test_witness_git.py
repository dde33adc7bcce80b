"""A git repository as a witness (issue 12): real git, a bare repository in tmp.

The repository plays the auditor's: it refuses non-fast-forward pushes and branch
deletions. The log commits each cosigned checkpoint to it; ``verify_store`` reads it
back and counts it in the quorum.
"""

from __future__ import annotations

import base64
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from stagewall.audit import AuditLog, LogBroken, WitnessPolicy, witness_checkpoints
from stagewall.audit._checkpoint import CheckpointInvalid
from stagewall.audit._verify import verify_store
from stagewall.audit._witness_git import GitWitness, commit_checkpoint, read_committed_note
from stagewall.errors import ConfigError, GitWitnessFailed, WitnessConflict, WitnessQuorumMissing
from stagewall.estate.models import AuditSettings
from stagewall.keys import init_keys, load_public_key
from stagewall.store import Store
from stagewall.witness import init_witness
from tests.audit.conftest import allow_tampering, forget_signed, make_event


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """The auditor's repository: bare, fast-forward only, no deletions."""
    path = tmp_path / "auditor-witness.git"
    subprocess.run(["git", "init", "--bare", "-q", str(path)], check=True)
    _git(path, "config", "receive.denyNonFastForwards", "true")
    _git(path, "config", "receive.denyDeletes", "true")
    return path


def _settings(tmp_path: Path, repo: Path, **extra: object) -> AuditSettings:
    state = init_witness(tmp_path / "gitwitness", f"git.auditor.example/{tmp_path.name[-6:]}")
    return AuditSettings.model_validate(
        {
            "witnesses": [
                {
                    "type": "git",
                    "public_key": state.key.public.vkey(),
                    "repository": str(repo),
                    "path": "logs/stagewall/checkpoint.txt",
                    "signing_key_file": "gitwitness/witness.key",
                }
            ],
            **extra,
        }
    )


def _policy(tmp_path: Path, repo: Path) -> WitnessPolicy:
    policy = WitnessPolicy.from_settings(_settings(tmp_path, repo), tmp_path)
    assert policy is not None and len(policy.git) == 1
    return policy


def _log(store: Store, n: int) -> AuditLog:
    init_keys()
    log = AuditLog(store, checkpoint_every=None, checkpoint_interval=None)
    log.append_many([make_event(i) for i in range(n)])
    return log


def _round(log: AuditLog, policy: WitnessPolicy) -> None:
    witness_checkpoints(log, policy.witnesses, git=policy.git)


def _two_rounds(store: Store, policy: WitnessPolicy, first: int, total: int) -> AuditLog:
    """Witness the log at ``first`` events, then again at ``total``."""
    log = _log(store, first)
    _round(log, policy)
    log.append_many([make_event(i) for i in range(first, total)])
    _round(log, policy)
    return log


def _commits(repo: Path) -> int:
    return int(_git(repo, "rev-list", "--count", "main").strip())


def test_checkpoints_become_cosigned_commits_that_count_in_the_quorum(
    sqlite_store: Store, repo: Path, tmp_path: Path
) -> None:
    policy = _policy(tmp_path, repo)
    log = _two_rounds(sqlite_store, policy, 10, 13)
    assert _commits(repo) == 2
    committed = _git(repo, "show", "main:logs/stagewall/checkpoint.txt")
    assert committed.split("\n")[1] == "13"
    assert committed == read_committed_note(policy.git[0])
    # two signature lines: the log's, then the git witness's cosignature
    assert [line.split(" ")[1] for line in committed.splitlines() if line.startswith("\u2014")] == [
        load_public_key().name,
        policy.git[0].name,
    ]
    assert "checkpoint" in _git(repo, "log", "-1", "--format=%s", "main")
    report = verify_store(log, load_public_key(), policy=policy, online=True)
    assert report.witnesses is not None
    assert report.witnesses.fresh_witnesses == (policy.git[0].name,)
    assert report.witnesses.newest_cosigned_size == 13
    assert {"witness": policy.git[0].name, "type": "git", "reachable": True,
            "cosigned_size": 13} in report.witnesses.probed  # fmt: skip
    # the committed file is also a checkpoint an auditor checks the log against directly
    kept = tmp_path / "kept-checkpoint.txt"
    kept.write_text(committed, encoding="utf-8")
    assert verify_store(log, load_public_key(), checkpoint_files=[kept]).size == 13


def _cut(store: Store, size: int) -> None:
    """An operator with DDL rights removes events and everything in the store covering them."""
    allow_tampering(store)
    with store.transaction() as conn:
        conn.execute(text("DROP TRIGGER IF EXISTS audit_cosignatures_no_delete"))
        conn.execute(text("DELETE FROM audit_events WHERE idx >= :n"), {"n": size})
        conn.execute(text("DELETE FROM audit_checkpoints WHERE size > :n"), {"n": size})
        conn.execute(text("DELETE FROM audit_cosignatures WHERE size > :n"), {"n": size})


def test_truncation_is_refused_by_the_repository_and_fails_verification(
    sqlite_store: Store, repo: Path, tmp_path: Path
) -> None:
    policy = _policy(tmp_path, repo)
    log = _two_rounds(sqlite_store, policy, 10, 14)  # 14 committed
    _cut(sqlite_store, 10)
    assert verify_store(log, load_public_key()).size == 10  # the store alone looks fine
    with pytest.raises(LogBroken, match=r"cosigned a tree of 14 events .* only 10: .*truncated"):
        verify_store(log, load_public_key(), policy=policy, online=True)
    later = datetime.now(UTC) + timedelta(minutes=11)
    with pytest.raises(WitnessQuorumMissing):
        verify_store(log, load_public_key(), policy=policy, now=later)
    with pytest.raises(CheckpointInvalid, match="rolled back"):
        _round(log, policy)  # the server that signed 14 refuses to sign the cut log
    forget_signed()  # one that does not remember it signs, and the repository refuses
    with pytest.raises(WitnessConflict, match=r"holds a checkpoint of 14 events .* only 10"):
        _round(log, policy)
    assert _commits(repo) == 2  # nothing committed
    # regrow past 14 with other events: not an extension of what was committed
    log.append_many([make_event(i, forged=True) for i in range(20, 26)])
    with pytest.raises(WitnessConflict, match="not an extension of the checkpoint of 14"):
        _round(log, policy)
    assert _commits(repo) == 2
    assert _git(repo, "show", "main:logs/stagewall/checkpoint.txt").split("\n")[1] == "14"


def test_a_forged_cosignature_in_the_repository_fails(
    sqlite_store: Store, repo: Path, tmp_path: Path
) -> None:
    policy = _policy(tmp_path, repo)
    log = _log(sqlite_store, 5)
    _round(log, policy)
    note = read_committed_note(policy.git[0])
    assert note is not None
    # someone with push rights replaces the cosignature with one over another time
    line = note.splitlines()[-1]
    blob = bytearray(base64.b64decode(line.rsplit(" ", 1)[1]))
    blob[-1] ^= 1  # one bit of the Ed25519 signature
    forged = note[: note.rindex(line)] + line.rsplit(" ", 1)[0] + " "
    forged += base64.b64encode(bytes(blob)).decode() + "\n"
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "-b", "main", str(repo), str(clone)], check=True)
    (clone / "logs/stagewall/checkpoint.txt").write_text(forged, encoding="utf-8")
    subprocess.run(
        ["git", "-C", str(clone), "-c", "user.name=m", "-c", "user.email=m@x", "commit",
         "-qam", "forged"], check=True,
    )  # fmt: skip
    subprocess.run(["git", "-C", str(clone), "push", "-q", "origin", "HEAD:main"], check=True)
    with pytest.raises(CheckpointInvalid, match="does not verify"):
        verify_store(log, load_public_key(), policy=policy, online=True)


def test_unreachable_repository_and_wrong_key_are_reported_not_fatal(
    sqlite_store: Store, repo: Path, tmp_path: Path
) -> None:
    policy = _policy(tmp_path, repo)
    log = _log(sqlite_store, 3)
    gone = GitWitness(policy.git[0].key, str(tmp_path / "missing.git"), "main",
                      "checkpoint.txt", policy.git[0].signing_key_file)  # fmt: skip
    failures: list[str] = []
    assert witness_checkpoints(log, (), git=[gone], failures=failures) == []
    assert len(failures) == 1 and "missing.git" in failures[0]
    with pytest.raises(GitWitnessFailed) as exc:
        read_committed_note(gone)
    assert exc.value.code == "SW515"
    other = init_witness(tmp_path / "other", "other.example/w")
    wrong = GitWitness(other.key.public, str(repo), signing_key_file=policy.git[0].signing_key_file)
    with pytest.raises(ConfigError, match="does not belong to the configured public_key"):
        commit_checkpoint(wrong, log.checkpoint(), log.leaf_hashes(), load_public_key())
    assert not _git(repo, "for-each-ref").strip()  # nothing was pushed


def test_git_witness_settings_are_validated(tmp_path: Path, repo: Path) -> None:
    with pytest.raises(ValueError, match="contains a password"):
        AuditSettings.model_validate(
            {
                "witnesses": [
                    {
                        "type": "git",
                        "public_key": init_witness(tmp_path / "k", "k.example/w").key.public.vkey(),
                        "repository": "https://user:hunter2@git.example/w.git",
                        "signing_key_file": "k/witness.key",
                    }
                ]
            }
        )
    with pytest.raises(ValueError, match="witness_quorum 2 is more than the 1 cosigning"):
        _settings(tmp_path, repo, witness_quorum=2)


def test_cli_witness_and_verify_with_a_git_witness_in_the_estate(
    tmp_path: Path, repo: Path
) -> None:
    from stagewall.store import open_store
    from tests.cli_helpers import run_cli

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(db)
    _log(store, 4)
    store.dispose()
    key = init_witness(tmp_path / "gitwitness", "git.auditor.example/cli").key
    config = tmp_path / "stagewall.yaml"
    config.write_text(
        "version: 1\nenvironments:\n  staging: {tier: non-production}\naudit:\n"
        f"  witnesses:\n    - type: git\n      public_key: {key.public.vkey()}\n"
        f"      repository: {repo}\n      signing_key_file: gitwitness/witness.key\n"
        "  witness_quorum: 1\n  witness_max_age: 5m\n"
    )
    r = run_cli("audit", "verify", "--db", db, "--config", str(config))
    assert r.exit_code == 1 and "error[SW511]: only 0 of the required 1" in r.stderr
    r = run_cli("audit", "witness", "--db", db, "--config", str(config))
    assert r.exit_code == 0 and f"cosigned by {key.name}: tree size 4" in r.stdout
    r = run_cli("audit", "verify", "--db", db, "--config", str(config), "--format", "json")
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["witnesses"]["fresh_witnesses"] == [key.name]
    assert data["witnesses"]["probed"] == [
        {"witness": key.name, "type": "git", "reachable": True, "cosigned_size": 4}
    ]
    assert _commits(repo) == 1
