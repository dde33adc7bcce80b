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


# A run of URL-encoded bytes (``M%C3%BCller``: the UTF-8 bytes of ü, as a link or a
# search URL pasted into a note writes a name) and a JSON ``\u`` escape
# (``M\u00fcller``: JSON text written with ASCII-only output, Python's default; an
# astral character as its surrogate pair): each read as the characters it stands for.
ESCAPE = re.compile(
    r"(?:%[0-9A-Fa-f]{2})+"
    r"|\\u[dD][89abAB][0-9A-Fa-f]{2}\\u[dD][c-fC-F][0-9A-Fa-f]{2}"
    r"|\\u[0-9A-Fa-f]{4}"
)


def has_escape(text: str) -> bool:
    """Whether ``text`` holds a URL or JSON escape (C-level first tests)."""
    return ("%" in text or "\\u" in text) and ESCAPE.search(text) is not None


def escape_chars(esc: str) -> list[tuple[str, int]]:
    """The characters the escape ``esc`` (a match of :data:`ESCAPE`) stands for, each
    with the number of characters of ``esc`` that write it. URL-encoded bytes are
    read as UTF-8, a byte that starts no valid UTF-8 sequence as Latin-1
    (``M%FCller``, older forms); a control character or a lone surrogate is a space
    (it separates words and is never a NUL, which joins texts of a batch)."""
    if esc[0] == "\\":
        units = [int(esc[i + 2 : i + 6], 16) for i in range(0, len(esc), 6)]
        cp = units[0] if len(units) == 1 else 0x10000 + ((units[0] - 0xD800) << 10)
        cp += 0 if len(units) == 1 else units[1] - 0xDC00
        return [(_printable(chr(cp)), len(esc))]
    raw = bytes.fromhex(esc.replace("%", ""))
    out: list[tuple[str, int]] = []
    i = 0
    while i < len(raw):
        b = raw[i]
        n = 1 if b < 0xC0 else 2 if b < 0xE0 else 3 if b < 0xF0 else 4
        try:
            c, width = (raw[i : i + n].decode("utf-8"), n) if n > 1 else (chr(b), 1)
        except UnicodeDecodeError:
            c, width = chr(b), 1
        out.append((_printable(c), 3 * width))
        i += width
    return out


def _printable(c: str) -> str:
    cp = ord(c)
    return " " if cp < 0x20 or 0x7F <= cp < 0xA0 or 0xD800 <= cp <= 0xDFFF else c


def unescaped(text: str) -> str:
    """``text`` with each URL or JSON escape as the characters it stands for."""
    if not has_escape(text):
        return text
    return ESCAPE.sub(lambda m: "".join(c for c, _ in escape_chars(m.group())), text)


__all__ = [
    "ENTITY",
    "ESCAPE",
    "decoded",
    "entity_char",
    "escape_chars",
    "has_entity",
    "has_escape",
    "unescaped",
]
