"""HTML character references in free text: ``anna&#64;example.com``, ``&commat;``,
``&#x40;``, ``J&ouml;rg``, ``Tom &amp; Jerry``.

Notes copied from a web page, a rich-text editor or an HTML e-mail hold characters
written as references. The detector reads each as the character it stands for
(``classify._forms``), and so does the search for a row's own values
(``_known``). A reference is ``&#`` and decimal digits, ``&#x`` and hex digits
(the ``;`` may be left off, as browsers read it), or ``&`` a name ``;`` of HTML5's
list; one that names no character (or more than one) is left as it is.
"""

from __future__ import annotations

import re
from html.entities import html5

ENTITY = re.compile(r"&(?:#[0-9]{1,7};?|#[xX][0-9A-Fa-f]{1,6};?|[A-Za-z][A-Za-z0-9]{1,31};)")


def entity_char(ref: str) -> str | None:
    """The one character the reference ``ref`` (a match of :data:`ENTITY`) stands
    for, or None (no character, a surrogate, NUL, or several characters)."""
    if ref[1] == "#":
        digits = ref[2:].rstrip(";")
        cp = int(digits[1:], 16) if digits[:1] in ("x", "X") else int(digits)
        if not 0 < cp < 0x110000 or 0xD800 <= cp <= 0xDFFF:
            return None
        return chr(cp)
    got = html5.get(ref[1:])
    return got if got is not None and len(got) == 1 else None


def has_entity(text: str) -> bool:
    """Whether ``text`` holds a reference :func:`entity_char` reads (C-level first
    test: an ``&``)."""
    if "&" not in text:
        return False
    return any(entity_char(m.group()) is not None for m in ENTITY.finditer(text))


def decoded(text: str) -> str:
    """``text`` with each reference :func:`entity_char` reads as its character."""
    if "&" not in text:
        return text
    return ENTITY.sub(_one, text)


def _one(m: re.Match[str]) -> str:
    got = entity_char(m.group())
    return m.group() if got is None else got


__all__ = ["ENTITY", "decoded", "entity_char", "has_entity"]
