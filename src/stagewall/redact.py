"""The one redaction function: no password of a connection string reaches any output.

Every error message (:class:`stagewall.errors.StagewallError` redacts its own
message and hint), every access and gates audit event and alert, and every driver error
built from a connection string goes through :func:`redact`. It removes

* the password of anything shaped like a URL authority, well-formed or not
  (``postgresql://user:pw@host``, ``postgres//user:pw@host``, ``user:pw@host``),
  up to the last ``@`` of the token, so a raw ``@`` or ``%`` in it changes nothing;
* ``password=`` / ``passwd=`` / ``pwd=`` values of libpq-style key=value strings
  and URL query parameters, quoted or not;
* every literal secret the caller knows (:func:`secrets_of` a connection string
  gives its password raw and percent-decoded), wherever it appears, e.g. inside
  a driver's ``invalid percent-encoded token: "..."``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import unquote

MASK = "***"

# user:password@host inside one whitespace-free token; the password runs to the token's
# last "@" (the lookahead allows no further "@" before whitespace or the end).
# Either after a scheme ("postgresql://" or a malformed "postgres//"), or bare; a bare
# "user:" must not be a scheme itself ("postgresql://host" has no password).
_AUTHORITY = re.compile(r"(?P<pre>(?:^|(?<=[\s\"'(=,<\[]))(?:[A-Za-z][A-Za-z0-9+.-]*:?//"
                        r"[^\s:/@\"'<>]*:|[^\s:/@\"'<>]*:(?!//)))"
                        r"(?P<pw>\S*)@(?=[^\s@]*(?:\s|$))")  # fmt: skip
_KEYVALUE = re.compile(
    r"(?i)(?P<pre>\b(?:password|passwd|pwd|pass)\s*=\s*)(?P<pw>'(?:[^'\\]|\\.)*'?|\S+)"
)
_MIN_SECRET = 4


def secrets_of(conninfo: str | None) -> tuple[str, ...]:
    """The password of a connection URL or key=value string (raw and decoded), if any."""
    if not conninfo:
        return ()
    found: list[str] = []
    for m in _AUTHORITY.finditer(conninfo):
        found.append(m.group("pw"))
    for m in _KEYVALUE.finditer(conninfo):
        found.append(m.group("pw").strip("'"))
    out: list[str] = []
    for pw in found:
        for candidate in (pw, unquote(pw)):
            if len(candidate) >= _MIN_SECRET and candidate not in out:
                out.append(candidate)
    return tuple(out)


def redact(text: str, *, secrets: Iterable[str] = ()) -> str:
    """``text`` without any connection-string password or known secret."""
    for secret in sorted({s for s in secrets if len(s) >= _MIN_SECRET}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    text = _KEYVALUE.sub(lambda m: m.group("pre") + MASK, text)
    return _AUTHORITY.sub(lambda m: m.group("pre") + MASK + "@", text)


def redact_tree(value: Any) -> Any:
    """``value`` (JSON-like) with :func:`redact` applied to every string in it."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: redact_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_tree(v) for v in value]
    return value


__all__ = ["MASK", "redact", "redact_tree", "secrets_of"]
