"""The built-in checks; importing this package registers them."""

from stagewall.evidence.checks import access, changes, oversight, quarantine, reviews

__all__ = ["access", "changes", "oversight", "quarantine", "reviews"]
