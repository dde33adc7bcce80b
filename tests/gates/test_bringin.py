"""Authorship that can be hidden (issue 12): submodule pointer changes, vendored
directories declared in the estate, and merge commits bring in the authors of what
they bring in."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from stagewall.estate import load_estate
from stagewall.gates import Gate, Promotion
from stagewall.store import open_store
from tests.gates.conftest import ESTATE, World, digest, git_env, make_world


def _submit(w: World, sha: str) -> Promotion:
    store = open_store(w.db)
    try:
        return Gate(store, load_estate(w.config)).submit(
            repo=str(w.repo),
            change=sha,
            artifact=digest(sha),
            stage="staging",
            submitter="alice",
        )
    finally:
        store.dispose()


def _authors(w: World, promo: Promotion) -> tuple[frozenset[str], list[str]]:
    who = promo.authorship(load_estate(w.config).estate)
    return who.vendors, [i for a in who.authors if not a.internal for i in a.identities]


def _git(repo: Path, *args: str, author: str = "alice@example.com") -> str:
    return subprocess.run(
        ["git", "-c", "protocol.file.allow=always", "-C", str(repo), *args],
        env=git_env(author),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _vendor_repo(root: Path) -> Path:
    lib = root / "vendorlib"
    lib.mkdir()
    _git(lib, "init", "-q", "-b", "main")
    (lib / "core.txt").write_text("v1\n")
    _git(lib, "add", "-A")
    _git(lib, "commit", "-q", "-m", "first (internal)", author="alice@example.com")
    return lib


def _bump_a_vendored_submodule(world: World) -> str:
    """A submodule whose vendor writes code in it; an internal person bumps the pointer."""
    lib = _vendor_repo(world.root)
    world.commit("alice@example.com")
    _git(world.repo, "submodule", "add", "-q", str(lib), "lib")
    _git(world.repo, "commit", "-q", "-m", "add lib")
    (lib / "core.txt").write_text("v2, with a backdoor\n")
    _git(lib, "commit", "-q", "-am", "vendor change", author="dana@devshop.example")
    _git(world.repo / "lib", "pull", "-q", "origin", "main")
    _git(world.repo, "commit", "-q", "-am", "bump lib")
    return _git(world.repo, "rev-parse", "HEAD")


def test_a_submodule_bump_brings_in_the_vendor_commits(world: World) -> None:
    promo = _submit(world, _bump_a_vendored_submodule(world))
    vendors, _external = _authors(world, promo)
    assert vendors == {"devshop"}, promo.contributions


def test_a_submodule_whose_history_is_missing_counts_as_an_unknown_external(
    world: World,
) -> None:
    world.commit("alice@example.com")
    ghost = "1234567890abcdef1234567890abcdef12345678"
    _git(world.repo, "update-index", "--add", "--cacheinfo", f"160000,{ghost},ext")
    _git(world.repo, "commit", "-q", "-m", "add a submodule nobody has")
    promo = _submit(world, _git(world.repo, "rev-parse", "HEAD"))
    _vendors, external = _authors(world, promo)
    assert "submodule:ext@1234567890ab" in external


def test_a_commit_touching_a_vendored_directory_brings_in_its_vendor(tmp_path: Path) -> None:
    text = ESTATE + "vendored:\n  - {path: third_party/pay, vendor: devshop}\n"
    w = make_world(tmp_path, text)
    with w.stack:
        w.commit("alice@example.com")
        clean = _submit(w, _git(w.repo, "rev-parse", "HEAD"))
        assert _authors(w, clean)[0] == frozenset()
        (w.repo / "third_party" / "pay").mkdir(parents=True)
        (w.repo / "third_party" / "pay" / "sdk.js").write_text("// vendor code\n")
        _git(w.repo, "add", "-A")
        _git(w.repo, "commit", "-q", "-m", "update the payment sdk")  # by alice
        promo = _submit(w, _git(w.repo, "rev-parse", "HEAD"))
        vendors, external = _authors(w, promo)
        assert vendors == {"devshop"} and "vendored:third_party/pay" in external


def test_a_merge_brings_in_the_authors_of_the_merged_branch(world: World) -> None:
    world.commit("alice@example.com")
    world.git("checkout", "-q", "-b", "vendor-branch")
    world.commit("dana@devshop.example")
    world.git("checkout", "-q", "main")
    world.commit("bob@example.com")
    world.git("merge", "-q", "--no-ff", "vendor-branch", "-m", "merge", author="alice@example.com")
    promo = _submit(world, world.git("rev-parse", "HEAD"))
    assert _authors(world, promo)[0] == {"devshop"}


# ---- through the server: the client sends trees, the server verifies them by hash ------


def _server_submit(w: World, sha: str) -> dict[str, Any]:
    r = w.gate(
        "submit", "--repo", str(w.repo), "--change", sha, "--artifact", digest(sha),
        "--to", "staging", "--format", "json",
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    return dict(json.loads(r.stdout))


def _names(promo: dict[str, Any]) -> set[str]:
    return {a["principal"] or a["identities"][0] for a in promo["authors"]}


def test_through_the_server_a_submodule_bump_brings_in_the_vendor_commits(world: World) -> None:
    promo = _server_submit(world, _bump_a_vendored_submodule(world))
    # The same rule as the local path: the vendor's commit inside the bump is an author.
    assert "dana" in _names(promo), promo["authors"]


def test_through_the_server_an_unreadable_submodule_counts_as_unknown(world: World) -> None:
    world.commit("alice@example.com")
    ghost = "1234567890abcdef1234567890abcdef12345678"
    _git(world.repo, "update-index", "--add", "--cacheinfo", f"160000,{ghost},ext")
    _git(world.repo, "commit", "-q", "-m", "add a submodule nobody has")
    promo = _server_submit(world, _git(world.repo, "rev-parse", "HEAD"))
    assert any("submodule:ext@1234567890ab" in n for n in _names(promo)), promo["authors"]


def test_through_the_server_a_vendored_directory_brings_in_its_vendor(tmp_path: Path) -> None:
    text = ESTATE + "vendored:\n  - {path: third_party/pay, vendor: devshop}\n"
    w = make_world(tmp_path, text)
    with w.stack:
        w.commit("alice@example.com")
        clean = _server_submit(w, _git(w.repo, "rev-parse", "HEAD"))
        assert not any("vendored:" in n for n in _names(clean)), clean["authors"]
        (w.repo / "third_party" / "pay").mkdir(parents=True)
        (w.repo / "third_party" / "pay" / "sdk.js").write_text("// vendor code\n")
        _git(w.repo, "add", "-A")
        _git(w.repo, "commit", "-q", "-m", "update the payment sdk")  # by alice
        promo = _server_submit(w, _git(w.repo, "rev-parse", "HEAD"))
        assert any("vendored:third_party/pay" in n for n in _names(promo)), promo["authors"]


def test_through_the_server_a_hidden_tree_or_a_doctored_tree_is_refused(
    tmp_path: Path,
) -> None:
    """Leaving out the tree that holds the vendored change, or changing a tree object,
    cannot hide it: the server needs every differing tree and checks each by hash."""
    import base64

    import httpx

    from stagewall.gates._git import Repo
    from stagewall.gates._trees import Recorder

    text = ESTATE + "vendored:\n  - {path: third_party/pay, vendor: devshop}\n"
    w = make_world(tmp_path, text)
    with w.stack:
        w.commit("alice@example.com")
        (w.repo / "third_party" / "pay").mkdir(parents=True)
        (w.repo / "third_party" / "pay" / "sdk.js").write_text("// vendor code\n")
        _git(w.repo, "add", "-A")
        _git(w.repo, "commit", "-q", "-m", "update the payment sdk")
        head = _git(w.repo, "rev-parse", "HEAD")
        git = Repo(w.repo)
        shas = git.rev_list(head, None, cap=100)
        recorder = Recorder(git, git.raw_commits(shas))
        recorder.changes(shas)
        payload = recorder.payload()
        pay_tree = _git(w.repo, "rev-parse", f"{head}:third_party/pay")
        assert pay_tree in payload["trees"]

        def post(trees: dict[str, str] | None) -> httpx.Response:
            body = {"stage": "staging", "change": head, "artifact": digest(head), **payload}
            body["trees"] = trees
            return httpx.post(
                w.server() + "/api/v1/promotions",
                json=body,
                headers={"Authorization": f"Bearer {w.token('alice')}"},
                timeout=30,
            )

        hidden = {k: v for k, v in payload["trees"].items() if k != pay_tree}
        res = post(hidden)
        assert res.status_code == 403 and f"tree object {pay_tree} was not sent" in res.text
        doctored = dict(payload["trees"])
        doctored[pay_tree] = base64.b64encode(b"100644 other.js\0" + b"\1" * 20).decode()
        res = post(doctored)
        assert res.status_code == 403 and "does not hash to that id" in res.text
        res = post(None)  # an old client that sends no trees: refused, not waved through
        assert res.status_code == 403 and "carries no tree objects" in res.text
        res = post(payload["trees"])
        assert res.status_code == 200, res.text
