"""Red team: the CLI's credentials file (personal tokens) cannot be redirected or planted.

``stagewall login`` writes ``$XDG_CONFIG_HOME/stagewall/credentials.json``. It used to
write through a fixed ``credentials.tmp`` opened without O_EXCL/O_NOFOLLOW (a symlink
or a file planted there — in a shared or group-writable directory — received the
token, and the symlink became the credentials file), and to read a credentials file
whoever owned it (a planted one points the CLI at another server and identity). Now
the directory must be the user's own and not writable by others, the token is
written to a fresh O_EXCL temporary file, and a credentials file that is a symlink,
not the user's, or readable or writable by others is refused (SW100) — nothing sent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from stagewall.cli._client import _ci_sessions_path, credentials_path, save_login, token_for
from stagewall.errors import ConfigError
from tests.cli_helpers import run_cli

TOKEN = "swt_" + "A" * 43
NOBODY = 65534


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("STAGEWALL_TOKEN", raising=False)
    monkeypatch.delenv("STAGEWALL_SERVER", raising=False)
    return tmp_path / "xdg" / "stagewall"


def test_a_symlink_planted_at_the_temporary_name_receives_nothing(
    xdg: Path, tmp_path: Path
) -> None:
    xdg.mkdir(parents=True, mode=0o700)
    bait = tmp_path / "attacker-readable"
    bait.write_text("")
    bait.chmod(0o666)
    (xdg / "credentials.tmp").symlink_to(bait)
    save_login("https://sw.example", TOKEN, "alice", "2099-01-01T00:00:00Z")
    assert TOKEN not in bait.read_text()
    path = credentials_path()
    assert not path.is_symlink() and path.is_file()
    assert oct(path.stat().st_mode)[-3:] == "600"
    assert token_for("https://sw.example") == TOKEN


def test_a_directory_others_may_write_is_refused(xdg: Path, tmp_path: Path) -> None:
    xdg.mkdir(parents=True)
    xdg.chmod(0o777)
    with pytest.raises(ConfigError, match="writable by others"):
        save_login("https://sw.example", TOKEN, "alice", "2099-01-01T00:00:00Z")
    assert list(xdg.iterdir()) == []


def _plant(xdg: Path, *, mode: int = 0o600, owner: int | None = None) -> Path:
    xdg.mkdir(parents=True, mode=0o700, exist_ok=True)
    path = xdg / "credentials.json"
    data = {
        "default": "https://evil.example",
        "servers": {"https://evil.example": {"token": TOKEN}},
    }
    path.write_text(json.dumps(data))
    path.chmod(mode)
    if owner is not None:
        os.chown(path, owner, owner)
    return path


@pytest.mark.skipif(os.geteuid() != 0, reason="planting another user's file needs root")
def test_a_credentials_file_of_another_user_is_refused(xdg: Path) -> None:
    _plant(xdg, owner=NOBODY)
    with pytest.raises(ConfigError, match="not owned by you"):
        token_for("https://evil.example")
    res = run_cli("gate", "list", env={"XDG_CONFIG_HOME": str(xdg.parent)})
    assert res.exit_code == 2, res.stdout + res.stderr
    assert "not owned by you" in res.stderr and "Traceback" not in res.stderr
    assert TOKEN not in res.stdout + res.stderr


def test_a_credentials_file_others_may_read_is_refused(xdg: Path) -> None:
    _plant(xdg, mode=0o644)
    with pytest.raises(ConfigError, match="readable or writable by others"):
        token_for("https://evil.example")


def test_a_symlinked_credentials_file_is_refused(xdg: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text(json.dumps({"servers": {"https://sw.example": {"token": TOKEN}}}))
    elsewhere.chmod(0o600)
    xdg.mkdir(parents=True, mode=0o700)
    (xdg / "credentials.json").symlink_to(elsewhere)
    with pytest.raises(ConfigError, match="symbolic link"):
        token_for("https://sw.example")


def test_the_ci_session_cache_is_held_to_the_same_rule(xdg: Path) -> None:
    from stagewall.cli._client import ci_session

    xdg.mkdir(parents=True, mode=0o700)
    path = _ci_sessions_path()
    path.write_text("{}")
    path.chmod(0o666)
    with pytest.raises(ConfigError, match="readable or writable by others"):
        ci_session("https://127.0.0.1:1", "a.b.c")
