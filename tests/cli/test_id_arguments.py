"""An id or name argument is checked before credentials and before any request.

`stagewall gate withdraw ''` while not logged in used to answer "not logged in"
(SW720): the argument was only looked at by the server. Every client command that takes
an id or a name refuses an empty or whitespace-only one first (SW110, exit 2), whether
or not the caller is logged in, and sends nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

from stagewall.cli._client import Client
from tests.cli.test_hostile_params import _run

# (command, label of its argument, what it must be, options it needs to get past click)
COMMANDS = [
    (["gate", "withdraw"], "PROMOTION", "a promotion id", ["--otp", "123456"]),
    (["gate", "approve"], "PROMOTION", "a promotion id", ["--otp", "123456"]),
    (["access", "withdraw"], "REQUEST_ID", "a request id", ["--otp", "123456"]),
    (["access", "review"], "REQUEST_ID", "a request id", ["--approve", "--otp", "123456"]),
    (["access", "credentials"], "GRANT_ID", "a grant id", []),
    (["access", "revoke"], "GRANT_ID", "a grant id", ["--reason", "done"]),
    (["review", "close"], "CAMPAIGN_ID", "a campaign id", []),
    (["vendor", "offboard"], "VENDOR", "a vendor name", ["--otp", "123456"]),
]


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    calls: list[tuple[str, str]] = []

    def record(self: Client, method: str, path: str, **_kw: Any) -> Any:
        calls.append((method, path))
        raise AssertionError(f"a request was sent: {method} {path}")

    monkeypatch.setattr(Client, "_send", record)
    return calls


@pytest.mark.parametrize("value", ["", " ", "\t  "], ids=["empty", "space", "tab-spaces"])
@pytest.mark.parametrize("logged_in", [False, True], ids=["logged-out", "logged-in"])
@pytest.mark.parametrize(
    ("command", "label", "what", "extra"), COMMANDS, ids=[" ".join(c[0]) for c in COMMANDS]
)
def test_an_empty_id_is_refused_before_credentials_and_sends_nothing(
    command: list[str],
    label: str,
    what: str,
    extra: list[str],
    value: str,
    logged_in: bool,
    env: dict[str, str],
    sent: list[tuple[str, str]],
) -> None:
    if logged_in:
        env = {**env, "STAGEWALL_TOKEN": "sw_t_not-used"}
    res = _run(env, *command, value, *extra)
    assert res.exit_code == 2, res.output
    assert f"error[SW110]: {label} is empty; it must be {what}" in res.stderr
    assert "not logged in" not in res.stderr and "SW720" not in res.stderr
    assert sent == []
