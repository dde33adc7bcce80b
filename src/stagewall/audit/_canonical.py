"""Canonical JSON: the exact bytes that are hashed into the audit log.

Sorted keys, no insignificant whitespace, UTF-8 (no ``\\u`` escapes for non-ASCII),
no NaN/Infinity. Only JSON-safe values are accepted (str, int, finite float,
bool, None, lists and str-keyed dicts of those); anything else is refused so an
event can never depend on a ``repr`` or on a serialiser's defaults.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from stagewall.errors import ConfigError

MAX_DEPTH = 32
# Integers up to an unsigned 64-bit value (a PostgreSQL system identifier fits);
# beyond it JSON readers disagree, and Python's str() of a huge one raises.
_INT_LIMIT = 2**64

# Words that, as part of a details key, suggest the value is a secret.
_SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "passphrase",
        "pwd",
        "secret",
        "secrets",
        "token",
        "tokens",
        "otp",
        "totp",
        "hotp",
        "apikey",
        "privatekey",
        "seed",
        "mnemonic",
    }
)
# Adjacent word pairs that name key material.
_SECRET_PAIRS = frozenset(
    {
        ("private", "key"),
        ("api", "key"),
        ("key", "material"),
        ("secret", "key"),
        ("access", "key"),
        ("signing", "key"),
        ("session", "key"),
        ("client", "secret"),
    }
)
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_PEM_PRIVATE = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")


def canonical_bytes(obj: Any) -> bytes:
    """Serialise a JSON-safe value canonically (call :func:`check_json_safe` first)."""
    return json.dumps(
        obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


@functools.lru_cache(maxsize=4096)
def looks_secret(key: str) -> bool:
    """Whether a mapping key names something that must never be logged."""
    words = [w.lower() for w in _WORD_SPLIT.split(key) if w]
    if any(w in _SECRET_WORDS for w in words):
        return True
    if any(pair in _SECRET_PAIRS for pair in itertools.pairwise(words)):
        return True
    joined = "".join(words)
    return any(s in joined for s in ("password", "passwd", "privatekey", "apikey"))


def check_json_safe(value: Any, path: str = "details", depth: int = 0) -> Any:
    """A plain JSON copy of ``value``; ConfigError unless it is JSON-safe and secret-free."""
    if depth > MAX_DEPTH:
        raise ConfigError(f"audit event {path} is nested deeper than {MAX_DEPTH} levels")
    kind = type(value)
    if kind is str:
        if "PRIVATE KEY-----" in value and _PEM_PRIVATE.search(value):
            raise ConfigError(
                f"audit event {path} contains a PEM private key",
                hint="never put key material into audit events; record a key id instead",
            )
        if not value.isascii():
            _check_text(value, path)
        return value
    if kind is int:
        if -_INT_LIMIT <= value <= _INT_LIMIT:
            return value
        raise ConfigError(
            f"audit event {path} is an integer beyond 64 bits",
            hint="JSON readers disagree on such numbers; record it as text",
        )
    if value is None or kind is bool:
        return value
    if isinstance(value, int):  # an IntEnum and the like: its plain value
        return check_json_safe(int(value), path, depth)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(f"audit event {path} is {value!r}, which JSON cannot represent")
        return value
    if isinstance(value, str):
        if _PEM_PRIVATE.search(value):
            raise ConfigError(
                f"audit event {path} contains a PEM private key",
                hint="never put key material into audit events; record a key id instead",
            )
        _check_text(value, path)
        return value
    if isinstance(value, list | tuple):
        return [check_json_safe(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value)]
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ConfigError(
                    f"audit event {path} has a non-string key {key!r}",
                    hint="JSON object keys must be strings",
                )
            if not key.isascii():
                _check_text(key, f"{path} key")
            if looks_secret(key):
                raise ConfigError(
                    f"audit event {path}.{key} looks like a secret and is refused",
                    hint="audit events must never carry passwords, tokens, OTPs or key "
                    "material; record an id or a fingerprint instead",
                )
            out[key] = check_json_safe(item, f"{path}.{key}", depth + 1)
        return out
    raise ConfigError(
        f"audit event {path} has a value of type {type(value).__name__}, which is not JSON-safe",
        hint="use str, int, float, bool, None, lists and dicts (convert times to ISO 8601 text)",
    )


def _check_text(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ConfigError(f"audit event {path} is not valid Unicode text") from exc


__all__ = ["canonical_bytes", "check_json_safe", "looks_secret"]
