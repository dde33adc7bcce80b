"""Reading commits with the git CLI: ranges, parsing, refusals."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from stagewall.errors import ConfigError
from stagewall.gates._git import Repo, parse_commit
from tests.gates.conftest import World, digest, git_env, submit, to_staging

ART = digest("a")


def test_parse_commit_splits_signature_from_payload() -> None:
    raw = (
        b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
        b"author Dana <dana@devshop.example> 1700000000 +0100\n"
        b"committer Bob <bob@example.com> 1700000001 +0000\n"
        b"gpgsig -----BEGIN SSH SIGNATURE-----\n"
        b" U1NIU0lH\n"
        b" -----END SSH SIGNATURE-----\n"
        b"\n"
        b"msg\n\nCo-authored-by: Carol <carol@example.com>\n"
    )
    c = parse_commit("a" * 40, raw)
    assert c.author.email == "dana@devshop.example"
    assert c.committer.email == "bob@example.com"
    assert [p.email for p in c.coauthors] == ["carol@example.com"]
    assert c.signature == b"-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n"
    assert c.signature_kind == "ssh"
    assert (
        b"gpgsig" not in c.payload
        and c.payload.startswith(b"tree ")
        and c.payload.endswith(b"carol@example.com>\n")
    )


def test_range_starts_after_the_last_promoted_change(world: World) -> None:
    first = world.commit("dana@devshop.example")
    to_staging(world, first, ART)
    world.commit("bob@example.com")
    second = world.commit("carol@example.com")
    r = world.gate(
        "submit",
        "--repo",
        str(world.repo),
        "--change",
        second,
        "--artifact",
        digest("b"),
        "--to",
        "staging",
        "--as",
        "dana",
        "--format",
        "json",
    )
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["commits"] == 2 and doc["base"] == first
    named = sorted(a["principal"] for a in doc["authors"] if a["principal"] is not None)
    assert named == ["bob", "carol"]
    # unsigned commits: no declared key vouches for them, so an external wrote them too
    unverified = [a for a in doc["authors"] if a["principal"] is None]
    assert len(unverified) == 2 and all(a["affiliation"] == "external" for a in unverified)


def test_commit_cap_fails_closed(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    for _ in range(3):
        sha = world.commit("dana@devshop.example")
    monkeypatch.setenv("STAGEWALL_GATES_MAX_COMMITS", "2")
    r = world.gate(
        "submit",
        "--repo",
        str(world.repo),
        "--change",
        sha,
        "--artifact",
        ART,
        "--to",
        "staging",
        "--as",
        "dana",
    )
    assert r.exit_code == 2
    assert "more than 2 commits" in r.stderr
    monkeypatch.setenv("STAGEWALL_GATES_MAX_COMMITS", "lots")
    r = world.gate(
        "submit",
        "--repo",
        str(world.repo),
        "--change",
        sha,
        "--artifact",
        ART,
        "--to",
        "staging",
        "--as",
        "dana",
    )
    assert r.exit_code == 2 and "STAGEWALL_GATES_MAX_COMMITS='lots'" in r.stderr


def test_shallow_clone_is_refused(world: World, tmp_path: Path) -> None:
    world.commit("dana@devshop.example")
    world.commit("dana@devshop.example")
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{world.repo}", str(shallow)],
        check=True,
        env=git_env("x@x"),
    )
    with pytest.raises(ConfigError, match="shallow clone"):
        Repo(shallow)


def test_replace_refs_are_ignored(world: World) -> None:
    real = world.commit("dana@devshop.example")
    fake = world.git("commit-tree", f"{real}^{{tree}}", "-m", "fake", author="alice@example.com")
    world.git("replace", "-f", real, fake)
    assert (
        world.git("log", "-1", "--format=%ae", real) == "alice@example.com"
    )  # git itself is fooled
    c = Repo(world.repo).commit(real)
    assert c.author.email == "dana@devshop.example"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("main", "is not a commit id"),
        ("--help", "is not a commit id"),
        ("ffffffffffffffffffffffffffffffffffffffff", "no such commit"),
    ],
)
def test_bad_change_is_refused(world: World, change: str, message: str) -> None:
    world.commit("dana@devshop.example")
    r = world.gate(
        "submit",
        "--repo",
        str(world.repo),
        "--change",
        change,
        "--artifact",
        ART,
        "--to",
        "staging",
        "--as",
        "dana",
    )
    assert r.exit_code == 2
    assert message in r.stderr


def test_abbreviated_sha_is_resolved(world: World) -> None:
    sha = world.commit("dana@devshop.example")
    pid = submit(world, sha[:10], ART, "staging", "dana")
    r = world.gate("list", "--format", "json")
    assert pid in r.stdout and sha in r.stdout


def test_not_a_repository(world: World, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    r = world.gate(
        "submit",
        "--repo",
        str(empty),
        "--change",
        "abcdef12",
        "--artifact",
        ART,
        "--to",
        "staging",
        "--as",
        "dana",
    )
    assert r.exit_code == 2 and "not a git repository" in r.stderr


def test_commit_with_two_author_lines_is_refused() -> None:
    from stagewall.errors import BackendError

    raw = (
        b"tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n"
        b"author Dana <dana@devshop.example> 1700000000 +0100\n"
        b"author Alice <alice@example.com> 1700000000 +0100\n"
        b"committer Bob <bob@example.com> 1700000001 +0000\n\nmsg\n"
    )
    with pytest.raises(BackendError, match="exactly one author and one committer"):
        parse_commit("b" * 40, raw)
