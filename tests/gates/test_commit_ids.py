"""A commit is named by its full object id wherever stagewall compares or records one.

A 7-digit prefix can be matched on purpose: an attacker grinds a commit whose id
starts with the same digits as the change a pipeline means to deploy, has *that*
commit promoted, and its genuine attestation then passes ``gate verify --commit
<prefix>``. Prefixes are refused (SW946, exit 2) before anything is checked.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from stagewall.errors import CommitNotFull
from stagewall.gates.attestation import expect_subject, sign_envelope, verify_envelope
from stagewall.keys import PublicKey, SigningKey
from tests.cli_helpers import run_cli
from tests.gates.conftest import World, digest, gate_check, report, submit

VECTOR = json.loads(Path(__file__).with_name("vectors").joinpath("dsse_promotion.json").read_text())
KEY = SigningKey("stagewall.test/vector", bytes.fromhex(VECTOR["seed_hex"]))
PUBLIC = PublicKey(None, bytes.fromhex(VECTOR["public_hex"]))
INTENDED = "3f9c2a1" + "0123456789abcdef0123456789abcdef0"  # what the pipeline deploys
CRAFTED = INTENDED[:7] + "f" * 33  # shares the first 7 digits, nothing else


def _attestation_for(sha: str, tmp_path: Path) -> Path:
    stmt = json.loads(json.dumps(VECTOR["statement"]))
    stmt["predicate"]["sha"] = sha
    out = tmp_path / f"att-{sha[:12]}.json"
    out.write_bytes(sign_envelope(stmt, KEY))
    return out


def _verify(att: Path, tmp_path: Path, *extra: str) -> tuple[int, str]:
    pub = tmp_path / "key.pem"
    pub.write_text(PUBLIC.pem())
    r = run_cli("gate", "verify", str(att), "--public-key", str(pub), *extra)
    return r.exit_code, r.stderr


@pytest.mark.parametrize("prefix_len", [7, 12, 39])
def test_verify_refuses_a_prefix_that_a_crafted_commit_matches(
    tmp_path: Path, prefix_len: int
) -> None:
    crafted = _attestation_for(CRAFTED, tmp_path)
    code, err = _verify(crafted, tmp_path, "--commit", INTENDED[:prefix_len])
    assert code == 2, err
    assert "error[SW946]" in err
    assert f"--commit {INTENDED[:prefix_len]!r} is not a full commit SHA" in err
    assert f"it has {prefix_len} hex digits, not 40 (SHA-1) or 64 (SHA-256)" in err
    assert "hint: pass the full object id" in err


def test_verify_compares_the_full_id_case_insensitively(tmp_path: Path) -> None:
    crafted = _attestation_for(CRAFTED, tmp_path)
    code, err = _verify(crafted, tmp_path, "--commit", INTENDED)
    assert code == 1 and "error[SW513]" in err and f"not {INTENDED}" in err
    genuine = _attestation_for(INTENDED, tmp_path)
    code, err = _verify(genuine, tmp_path, "--commit", INTENDED.upper())
    assert code == 0, err
    code, _err = _verify(genuine, tmp_path, "--commit", f"  {INTENDED}\n")
    assert code == 0


def test_verify_names_a_ref_or_a_sha256_prefix(tmp_path: Path) -> None:
    genuine = _attestation_for("ab" * 32, tmp_path)  # a SHA-256 repository
    code, _err = _verify(genuine, tmp_path, "--commit", "AB" * 32)
    assert code == 0
    code, err = _verify(genuine, tmp_path, "--commit", "ab" * 20)  # 40 of 64 digits
    assert code == 1 and "error[SW513]" in err
    code, err = _verify(genuine, tmp_path, "--commit", "ab" * 21)
    assert code == 2 and "it has 42 hex digits" in err
    code, err = _verify(genuine, tmp_path, "--commit", "main")
    assert code == 2 and "not a hexadecimal object id" in err


def test_expect_subject_refuses_a_prefix() -> None:
    crafted = verify_envelope(sign_envelope({**VECTOR["statement"]}, KEY), PUBLIC)
    sha = crafted.predicate["sha"]
    with pytest.raises(CommitNotFull, match="is not a full commit SHA"):
        expect_subject(crafted, commit=sha[:7])
    expect_subject(crafted, commit=sha.upper())


def test_the_server_refuses_a_prefix_on_every_route_that_takes_a_commit(world: World) -> None:
    """Report, submit and gate check: a prefix is refused with SW946 and changes nothing;
    the full id in upper case is the same commit."""
    sha = world.commit("dana@devshop.example")
    art = digest("build")
    submit(world, sha, art, "staging", "dana")
    r = world.gate("report", "--change", sha[:7], "--stage", "staging", "--check", "tests",
                   "--status", "pass", "--as", "ci-bot")  # fmt: skip
    assert r.exit_code == 2 and "error[SW946]" in r.stderr
    r = gate_check(world, sha.upper(), art, "staging")
    assert r.exit_code == 1 and "tests" in r.stderr  # the prefix's report was not recorded
    report(world, sha.upper(), "staging")
    r = gate_check(world, sha[:7], art, "staging")
    assert r.exit_code == 2 and "error[SW946]" in r.stderr and "hint: pass the full" in r.stderr
    listed = world.gate("list", "--format", "json")
    assert [p["state"] for p in json.loads(listed.stdout)] == ["pending"]
    r = gate_check(world, sha.upper(), art, "staging")
    assert r.exit_code == 0, r.stderr
    res = httpx.post(
        world.server() + "/api/v1/promotions",
        headers={"Authorization": f"Bearer {world.token('dana')}"},
        json={"stage": "staging", "change": sha[:7], "artifact": art, "commits": {}, "trees": {}},
    )
    assert res.status_code == 400 and res.json()["code"] == "SW946", res.text
