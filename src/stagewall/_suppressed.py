"""One wording for "how many findings were suppressed, per rule and by what".

The scanner (inline comments, baselines), monitoring (``monitoring.suppress`` entries)
and the evidence checks that report them all say it the same way.
"""

from __future__ import annotations


def suppressed_line(by_rule: dict[str, dict[str, int]]) -> str:
    """``SW-SCAN-001 2 (inline 1, baseline 1), ...``: every rule with a suppressed finding."""
    return ", ".join(
        f"{rule} {sum(by.values())} ("
        + ", ".join(f"{kind} {n}" for kind, n in sorted(by.items()) if n)
        + ")"
        for rule, by in sorted(by_rule.items())
    )


__all__ = ["suppressed_line"]
