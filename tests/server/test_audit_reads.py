"""Audit reads through the server: auditors read the log without holding the store."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from stagewall.audit._bundle import verify_bundle
from stagewall.audit._merkle import leaf_hash, verify_inclusion
from stagewall.errors import IntegrityError
from stagewall.keys import load_public_key
from tests.server.conftest import Person, World


def _unpack(data: bytes, into: Path) -> Path:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(into, filter="data")
    return into / "stagewall-audit"


def test_auditor_downloads_a_bundle_that_verifies_offline(
    world: World, people: dict[str, Person], tmp_path: Path
) -> None:
    res = people["audrey"].get("/api/v1/audit/bundle")
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "application/gzip"
    bundle = _unpack(res.content, tmp_path / "got")
    pinned = load_public_key(world.home)  # given to the auditor out of band
    report = verify_bundle(bundle, public_key=pinned)
    assert report.size >= 10 and report.checkpoints  # logins, invitations, a fresh checkpoint
    # who downloaded it is itself on the record
    last = world.events()[-1]
    assert (last.code, last.actor) == ("audit.bundle.exported", "audrey")


def test_a_changed_event_in_a_downloaded_bundle_fails(
    world: World, people: dict[str, Person], tmp_path: Path
) -> None:
    bundle = _unpack(people["audrey"].get("/api/v1/audit/bundle").content, tmp_path / "b")
    events = bundle / "events.jsonl"
    lines = events.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"audrey", b"mallor", 1).replace(b"alice", b"mallo", 1)
    events.write_bytes(b"\n".join(lines))
    with pytest.raises(IntegrityError):
        verify_bundle(bundle, public_key=load_public_key(world.home))


def test_bundles_and_proofs_are_not_for_externals(world: World, people: dict[str, Person]) -> None:
    assert people["dana"].get("/api/v1/audit/bundle").status_code == 403
    assert people["dana"].get("/api/v1/audit/proofs/0").status_code == 403
    assert world.client.get("/api/v1/audit/bundle").status_code == 401


def test_inclusion_proof_and_tail(world: World, people: dict[str, Person]) -> None:
    size = len(world.events())
    res = people["audrey"].get("/api/v1/audit/proofs/3", params={"size": size})
    assert res.status_code == 200, res.text
    p = res.json()
    leaf = bytes.fromhex(p["leaf_hash"])
    assert leaf_hash(p["event"].encode("utf-8")) == leaf
    path = [bytes.fromhex(h) for h in p["audit_path"]]
    assert verify_inclusion(leaf, 3, size, path, bytes.fromhex(p["root_hash"]))
    tail = people["audrey"].get("/api/v1/audit/events", params={"start": -2, "limit": 2}).json()
    assert [e["index"] for e in tail] == [size - 2, size - 1]


@pytest.mark.parametrize(
    ("path", "params", "status", "says"),
    [
        ("/api/v1/audit/proofs/999999", {}, 400, "there is no event 999999"),
        ("/api/v1/audit/proofs/1", {"size": 999999}, 400, "no larger than the log"),
        ("/api/v1/audit/proofs/abc", {}, 422, ""),
        ("/api/v1/audit/events", {"limit": 0}, 422, ""),
        ("/api/v1/audit/events", {"limit": 5000}, 422, ""),
    ],
)
def test_bad_audit_reads_are_clear_problems(
    people: dict[str, Person], path: str, params: dict[str, int], status: int, says: str
) -> None:
    res = people["audrey"].get(path, params=params)
    assert res.status_code == status, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    assert says in res.text


def test_cli_reads_the_log_through_the_server(
    world: World, people: dict[str, Person], tmp_path: Path
) -> None:
    """`audit tail | proof | export --server` need no store and no key on the client."""
    from tests.cli_helpers import run_cli
    from tests.live_server import serve

    with serve(world.state, run_sweeper=False) as url:
        env = {
            "STAGEWALL_SERVER": url,
            "STAGEWALL_TOKEN": people["audrey"].token or "",
            "STAGEWALL_HOME": str(tmp_path / "empty-home"),  # no keys, no store here
            "STAGEWALL_DB": "",
        }
        tail = run_cli("audit", "tail", "-n", "3", env=env)
        assert tail.exit_code == 0, tail.stderr
        assert len(tail.stdout.strip().splitlines()) == 3
        proof = run_cli("audit", "proof", "2", "--format", "json", env=env)
        assert proof.exit_code == 0, proof.stderr
        proof_file = tmp_path / "proof.json"
        proof_file.write_text(proof.stdout)
        checked = run_cli("audit", "verify-proof", str(proof_file), env=env)
        assert checked.exit_code == 0 and "ok: event 2" in checked.stdout, checked.stderr
        out = tmp_path / "bundle"
        got = run_cli("audit", "export", "--out", str(out), env=env)
        assert got.exit_code == 0, got.stderr
        key = tmp_path / "audit.pub"
        key.write_text(load_public_key(world.home).vkey() + "\n")
        verified = run_cli(
            "audit", "verify", "--bundle", str(out), "--public-key", str(key), env=env
        )
        assert verified.exit_code == 0, verified.stderr + verified.stdout
        # the auditor's token cannot be stretched: an external's is refused, with a problem
        env["STAGEWALL_TOKEN"] = people["dana"].token or ""
        refused = run_cli("audit", "tail", "--format", "json", env=env)
        assert refused.exit_code != 0
        assert '"status": 403' in refused.stderr or "may not call" in refused.stderr
        both = run_cli("audit", "tail", "--db", "sqlite:///x.db", "--server", url, env=env)
        assert both.exit_code == 2 and "two different logs" in both.stderr
