"""Alert webhooks and witnesses over plain http are refused unless the estate says so.

Before, ``url: http://hooks.example.com/...`` was accepted: every alert (people's
names, resources, reasons) crossed the network in the clear, and nothing said so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stagewall.alerts.sinks import sinks_from_config
from stagewall.errors import ConfigError
from stagewall.estate import parse_estate
from tests.cli_helpers import run_cli

BASE = """version: 1
environments:
  production: {tier: production}
principals:
  alice: {affiliation: internal}
"""
HOOK = "alerts:\n  - type: webhook\n    url: {url}\n"


def _write(tmp: Path, text: str) -> Path:
    path = tmp / "stagewall.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_check_refuses_a_plain_http_webhook_and_changes_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE + HOOK.format(url="http://hooks.example.com/T0/secretpath"))
    before = sorted(p.name for p in tmp_path.iterdir())
    r = run_cli("check", "--config", str(path))
    assert r.exit_code == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    assert f"{path}:7" in r.stderr and "alerts[0]" in r.stderr
    assert "plain http" in r.stderr and "https://" in r.stderr
    assert "allow_plaintext: true" in r.stderr
    assert "secretpath" not in r.stderr  # the path of a webhook URL is often its secret
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # nothing created
    r = run_cli("check", "--config", str(path), "--format", "json")
    assert r.exit_code == 2 and json.loads(r.stderr)["code"] == "SW100"


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/x",
        "http://127.0.0.1:9000/hook",
        "http://localhost/hook",
        "http://[::1]:8080/hook",
    ],
)
def test_https_and_loopback_webhooks_load(url: str) -> None:
    parse_estate(BASE + HOOK.format(url=url))


def test_allow_plaintext_is_accepted_and_reported_by_check(tmp_path: Path) -> None:
    text = BASE + HOOK.format(url="http://hooks.example.com/x") + "    allow_plaintext: true\n"
    path = _write(tmp_path, text)
    r = run_cli("check", "--config", str(path), "--format", "json")
    assert r.exit_code == 0, r.stderr
    [warning] = json.loads(r.stdout)["warnings"]
    assert warning["rule"] == "SW-EST-W02" and "alerts.0" in warning["message"]
    assert warning["where"] == f"{path}:7"


def test_a_plain_http_witness_is_refused_unless_allowed(tmp_path: Path) -> None:
    from stagewall.witness._state import init_witness

    key = init_witness(tmp_path / "w", "witness.example/w1").key.public.vkey()
    block = (
        f"audit:\n  witnesses:\n    - public_key: {key}\n      url: http://witness.example:7380\n"
    )
    path = _write(tmp_path, BASE + block)
    r = run_cli("check", "--config", str(path))
    assert r.exit_code == 2 and "witness url http://witness.example/..." in r.stderr, r.stderr
    _write(tmp_path, BASE + block + "      allow_plaintext: true\n")
    r = run_cli("check", "--config", str(path))
    assert r.exit_code == 0 and "SW-EST-W02" in r.stdout, r.stdout + r.stderr


def test_a_plain_http_webhook_in_url_env_is_refused_when_the_sinks_are_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    estate = parse_estate(BASE + "alerts:\n  - type: webhook\n    url_env: SW_TEST_HOOK\n").estate
    monkeypatch.setenv("SW_TEST_HOOK", "http://hooks.example.com/T0/secretpath")
    with pytest.raises(ConfigError) as err:
        sinks_from_config(estate.alerts)
    assert "SW_TEST_HOOK" in err.value.message and "plain http" in err.value.message
    assert "secretpath" not in err.value.message
    monkeypatch.setenv("SW_TEST_HOOK", "https://hooks.example.com/T0/secretpath")
    assert len(sinks_from_config(estate.alerts)) == 1
