"""Red team: an offline bundle verification never trusts a key or estate the bundle brings.

Without ``--public-key`` the verifier trusts the key in the state directory, which is
``./.stagewall`` when nothing else is configured, and reads the witnesses from
``./stagewall.yaml``. A forger who rewrote the log and signed it with a key of their
own ships ``.stagewall/audit_signing.pub`` (and a ``stagewall.yaml``) inside the bundle:
an auditor who ran ``stagewall audit verify --bundle .`` inside it got "ok" (exit 0).
Now a key or estate file from inside the bundle is refused (exit 2, SW970).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from stagewall.audit import AuditLog
from stagewall.audit._bundle import export_bundle
from stagewall.cli import root
from stagewall.keys import SigningKey
from stagewall.store import open_store
from tests.audit.conftest import make_event

GENUINE = SigningKey("test.example/audit", bytes(range(32)))
FORGER = SigningKey("test.example/audit", bytes(range(1, 33)))


def _bundle(tmp_path: Path, key: SigningKey, name: str) -> Path:
    store = open_store(f"sqlite:///{tmp_path / (name + '.db')}")
    log = AuditLog(store, checkpoint_every=None, checkpoint_interval=None, signing_key=key)
    for i in range(5):
        log.append(make_event(i))
    out = tmp_path / name
    export_bundle(log, out, signing_key=key, public_key=key.public)
    store.dispose()
    return out


@pytest.fixture
def forged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A forged bundle carrying its own key where the default state directory is."""
    out = _bundle(tmp_path, FORGER, "forged")
    (out / ".stagewall").mkdir()
    (out / ".stagewall" / "audit_signing.pub").write_text(FORGER.public.vkey() + "\n")
    monkeypatch.delenv("STAGEWALL_HOME")
    return out


def test_the_default_key_inside_the_bundle_is_refused(
    forged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(forged)
    res = CliRunner().invoke(root, ["audit", "verify", "--bundle", "."])
    assert res.exit_code == 2, res.output
    assert "error[SW970]" in res.output and "comes from inside that bundle" in res.output
    assert "ok:" not in res.output
    res = CliRunner().invoke(root, ["audit", "verify", "--bundle", ".", "--format", "json"])
    assert res.exit_code == 2 and "SW970" in res.output


def test_a_public_key_file_inside_the_bundle_is_refused(forged: Path) -> None:
    for key in (forged / "public.key", forged / ".stagewall" / "audit_signing.pub"):
        res = CliRunner().invoke(
            root, ["audit", "verify", "--bundle", str(forged), "--public-key", str(key)]
        )
        assert res.exit_code == 2 and "error[SW970]" in res.output, res.output


def test_a_link_in_the_bundle_to_a_key_shipped_beside_it_is_refused(
    forged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    beside = forged.parent / "keys"
    (forged / ".stagewall").rename(beside)
    (forged / ".stagewall").symlink_to(beside, target_is_directory=True)
    monkeypatch.chdir(forged)
    res = CliRunner().invoke(root, ["audit", "verify", "--bundle", "."])
    assert res.exit_code == 2 and "error[SW970]" in res.output, res.output


def test_an_estate_file_inside_the_bundle_is_refused(tmp_path: Path) -> None:
    out = _bundle(tmp_path, GENUINE, "bundle")
    (tmp_path / "pub.key").write_text(GENUINE.public.vkey() + "\n")
    # a valid estate without witnesses: "no witness" is only a warning
    (out / "stagewall.yaml").write_text(
        "version: 1\nenvironments:\n  production: {tier: production}\n"
    )
    args = ["audit", "verify", "--bundle", str(out), "--public-key", str(tmp_path / "pub.key")]
    res = CliRunner().invoke(root, [*args, "--config", str(out / "stagewall.yaml")])
    assert res.exit_code == 2 and "error[SW970]" in res.output, res.output
    assert "estate file" in res.output


def test_a_genuine_bundle_with_a_key_kept_outside_still_verifies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _bundle(tmp_path, GENUINE, "bundle")
    (tmp_path / "pub.key").write_text(GENUINE.public.vkey() + "\n")
    monkeypatch.chdir(out)  # inside the bundle, with the trusted key from elsewhere
    res = CliRunner().invoke(
        root,
        ["audit", "verify", "--bundle", ".", "--public-key", "../pub.key", "--format", "json"],
    )
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["size"] == 5
    # the key in STAGEWALL_HOME (outside the bundle) is still the default pin
    home = tmp_path / "home"
    home.mkdir()
    (home / "audit_signing.pub").write_text(GENUINE.public.vkey() + "\n")
    monkeypatch.setenv("STAGEWALL_HOME", str(home))
    res = CliRunner().invoke(root, ["audit", "verify", "--bundle", "."])
    assert res.exit_code == 0, res.output
