"""--server URLs that cannot be used are refused before anything is sent, without echoing
what may be a password."""

from __future__ import annotations

import json

import pytest

from tests.cli_helpers import run_cli

SECRET = "Pa55w0rdXYZzy"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://[::1", "is malformed"),
        ("https://127.0.0.1:99999999", "is malformed"),
        ("https:///api", "has no host name"),
        ("https://host name.example", "spaces or control characters"),
        (f"https://alice:{SECRET}@127.0.0.1:1", "carries a user name or password"),
        (f"https://alice:{SECRET}@stagewall.example.com", "carries a user name or password"),
    ],
)
def test_unusable_server_url_is_refused(url: str, says: str) -> None:
    res = run_cli("gate", "list", "--server", url)
    assert res.exit_code == 2, res.stdout + res.stderr
    assert says in res.stderr
    assert SECRET not in res.stdout + res.stderr
    assert "Traceback" not in res.stderr and "ValueError" not in res.stderr


def test_unusable_server_url_as_problem_object() -> None:
    res = run_cli("gate", "list", "--server", f"https://bob:{SECRET}@h.example", "--format", "json")
    assert res.exit_code == 2
    problem = json.loads(res.stderr)
    assert problem["code"] == "SW101" and "user name or password" in problem["detail"]
    assert SECRET not in res.stderr


def test_unreachable_server_says_why_in_words() -> None:
    res = run_cli("login", "--server", "http://127.0.0.1:1")
    assert res.exit_code != 0
    assert "cannot reach the stagewall server at http://127.0.0.1:1" in res.stderr
    assert "refused" in res.stderr and "ConnectError" not in res.stderr
