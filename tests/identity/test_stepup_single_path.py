"""Every privileged act checks its second factor through ``stepup.verify_step_up`` only.

A module that calls ``mfa.verify`` directly would accept a TOTP code but silently
ignore passkeys and the step-up window, and write no step-up into the audit context.
Only login, account confirmation and the step-up module itself may call it.
"""

from __future__ import annotations

import re
from pathlib import Path

import stagewall

ALLOWED = {
    "identity/stepup.py",  # the one step-up check
    "identity/login.py",  # the second factor of a local login (not a step-up)
    "identity/accounts.py",  # confirming a new account's first code
    "mfa/totp.py",  # defines it
    "mfa/__init__.py",
}
DIRECT = re.compile(r"\bmfa\.verify\(|from stagewall\.mfa(?:\.totp)? import[^\n]*\bverify\b")


def test_no_privileged_module_bypasses_the_step_up_check() -> None:
    root = Path(stagewall.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel in ALLOWED or rel.startswith("cli/"):
            continue
        if DIRECT.search(path.read_text(encoding="utf-8")):
            offenders.append(rel)
    assert offenders == []


def test_the_pattern_finds_a_direct_call() -> None:
    assert DIRECT.search("    mfa.verify(store, who, otp)")
    assert DIRECT.search("from stagewall.mfa import verify as verify_otp")
    assert not DIRECT.search("stepup.verify_step_up(store, who, otp)")
