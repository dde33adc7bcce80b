"""How the free-text detector reads values written with other characters.

The detector's patterns (e-mail, IBAN, card, national ids, IPs, phone, street)
are written for ASCII digits, letters and separators. People and attackers write
the same values otherwise: another script's decimal digits (Arabic-Indic ``٦١٢``,
Persian ``۶۱۲``, Devanagari, full-width U+FF10 on, mathematical U+1D7CE on,
superscripts), full-width or mathematical letters and signs (an IBAN or
``anna@`` typed in full width: U+FF21 on, U+FF20 for ``@``), other spaces
(no-break, thin, ideographic) and dashes (en dash, minus sign, non-breaking
hyphen), and invisible characters inside (zero-width space and joiners, word
joiner, soft hyphen, BOM, bidi marks, and combining marks not on a letter, such
as a strike-through U+0336 or a keycap on a digit); and URL-encoded, as links and
web servers' logs hold them (``anna%40example.com``); and as HTML character
references, as notes copied from a web page or an HTML e-mail hold them
(``anna&#64;example.com``, ``&commat;``, ``J&ouml;rg``: see ``transformers._entities``).

:func:`detect_view` gives the text the patterns read: each such character as its
ASCII form (one for one; an escape as its character), the invisible ones
dropped, and where each character of
the view stands in the text, so findings map back to spans of the original. Pure
ASCII text, and text holding none of these characters, is its own view (one
C-level test). See docs/masking.md ("What the detector reads").
"""

from __future__ import annotations

import re
import string
import unicodedata
from functools import cache
from itertools import repeat
from typing import Any

import numpy as np
import numpy.typing as npt
import re2

from stagewall.masking.transformers._entities import ENTITY, entity_char
from stagewall.masking.transformers._known import char_class

Where = npt.NDArray[np.int64]
_ALL = 0x110000
_LOW = 0x20000
# invisible characters: format characters, and combining marks (see _tables)
_FORMAT, _MARK = 1, 2
_KIND = {"Cf": _FORMAT, "Mn": _MARK, "Me": _MARK}
# ASCII characters a form may stand for besides letters and digits: what the
# patterns take as part of a value or between its parts
_PUNCT = frozenset("@+-.()/:%'_")
# every dash (Unicode category Pd) and the minus signs: the ASCII hyphen-minus
_DASHES = (
    "\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2e17\u2e1a"
    "\u2e3a\u2e3b\u2e40\u2e5d\u301c\u3030\u30a0\ufe31\ufe32\ufe58\ufe63\uff0d\u2796"
    "\U00010ead"
)


# URL-encoded characters a value is written with in a link or a web server's log
# (``email=anna%40example.com``, ``to=%2B34%20612%20345%20678``): read as those
_UNESCAPED = {"40": "@", "2B": "+", "20": " ", "2D": "-", "2E": ".", "28": "(", "29": ")"}
_ESCAPE = re.compile("%(?:40|2[BbDdEe089]|20)")
# where an ASCII text's view may differ from it: a URL escape or an HTML reference
ESCAPED = re.compile(_ESCAPE.pattern + "|" + ENTITY.pattern)


@cache
def _tables() -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint8], npt.NDArray[np.bool_], Any]:
    """(code point → code point it reads as, code point → :data:`_FORMAT`,
    :data:`_MARK` or 0, code point → a letter, a class of every character that is
    not its own view (BMP) or any astral character)."""
    every = np.arange(_ALL, dtype=np.uint32)
    # (every character of these kinds is in the first two planes, but for the
    # invisible tags and variation selectors of plane 14)
    beyond = every[0x80:_LOW].tobytes().decode("utf-32-le", "surrogatepass")
    to: dict[int, str] = {}
    # compatibility forms of one ASCII letter, digit or separator, marks aside (NFKD):
    # full-width, mathematical, circled, superscript and small forms; a letter that
    # IGNORECASE already takes for its ASCII letter (U+017F long s) stays, so the
    # street forms' spans and values do not change
    for c in filter(unicodedata.decomposition, beyond):
        if not unicodedata.decomposition(c).startswith("<"):
            continue  # a canonical decomposition: an accented letter (é), kept
        base = "".join(
            ch for ch in unicodedata.normalize("NFKD", c) if not unicodedata.combining(ch)
        )
        ascii_ = len(base) == 1 and base.isascii() and (base.isalnum() or base in _PUNCT)
        if ascii_ and not (base.isalpha() and re.fullmatch("(?i)" + base, c)):
            to[ord(c)] = base
    # every decimal digit (category Nd) and every other digit (superscripts, ❶) of
    # every script: its ASCII digit
    for c in filter(str.isdigit, beyond):
        to[ord(c)] = str(unicodedata.digit(c))
    for c in re.findall(r"\s", beyond):  # no-break, thin, ideographic and other spaces
        to[ord(c)] = " "
    for c in _DASHES:
        to[ord(c)] = "-"
    # blank characters that are not spaces to Unicode (braille blank, Hangul fillers)
    for c in "\u2800\u3164\u115f\u1160\uffa0":
        to[ord(c)] = " "
    to[0x066B] = "."  # the Arabic decimal separator: an IP address written with it
    table = every.copy()
    keys = np.fromiter(to, dtype=np.int64, count=len(to))
    table[keys] = np.fromiter(map(ord, to.values()), dtype=np.uint32, count=len(to))
    # invisible characters: format characters (Cf: soft hyphen, zero-width space and
    # joiners, word joiner, BOM, bidi marks, tags), always dropped; combining marks
    # (Mn, Me: a strike-through or underline, a keycap, a variation selector) dropped
    # unless they sit on a letter (an accent stored apart stays with its letter, as
    # the patterns read it before)
    kinds = np.zeros(_ALL, dtype=np.uint8)
    kinds[0x80:_LOW] = list(map(_KIND.get, map(unicodedata.category, beyond), repeat(0)))
    plane14 = every[0xE0000:0xE1000].tobytes().decode("utf-32-le")
    kinds[0xE0000:0xE1000] = [_KIND.get(unicodedata.category(c), 0) for c in plane14]
    letters = np.zeros(_ALL, dtype=bool)
    letters[0x80:_LOW] = list(map(str.isalpha, beyond))
    letters[_LOW:0x40000] = True  # (CJK ideographs of planes 2 and 3)
    ascii_letters = np.frombuffer(string.ascii_letters.encode(), dtype=np.uint8)
    letters[ascii_letters] = True
    special = np.flatnonzero((table != every) | (kinds != 0))
    bmp = [int(c) for c in special if c < 0x10000]
    # (one class, tested by RE2's DFA: Python's re took 17-25 ns a character for it)
    return table, kinds, letters, re2.compile(char_class(bmp)[:-1] + "\U00010000-\U0010ffff]")


def detect_view(text: str) -> tuple[str, Where | None]:
    """The text the detector's patterns read (see the module doc) and, when it
    dropped characters, the position in ``text`` of each of its characters (None:
    every position is its own). The view holds a NUL or a line break exactly where
    ``text`` does; it is ``text`` itself when nothing changes."""
    escaped = "%" in text and _ESCAPE.search(text) is not None
    refs = _references(text)
    if text.isascii() and not escaped and not refs:
        return text, None
    table, kinds, letters, special = _tables()
    if not escaped and not refs and not _holds(special, text):
        return text, None
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).copy()
    gone = np.zeros(codes.size, dtype=bool)
    if escaped:  # each escape as its character, at the "%", the two digits dropped
        pct = [m.start() for m in _ESCAPE.finditer(text)]
        codes[pct] = [ord(_UNESCAPED[text[a + 1 : a + 3].upper()]) for a in pct]
        gone[np.add.outer(np.asarray(pct, dtype=np.int64), [1, 2]).ravel()] = True
    for a, b, c in refs:  # each reference as its character, at the "&", the rest dropped
        if not gone[a:b].any():
            codes[a] = ord(c)
            gone[a + 1 : b] = True
    # only the characters beyond ASCII are looked up (in most text, a few)
    beyond = np.flatnonzero((codes >= 0x80) & ~gone)
    looked = codes[beyond]
    kind = kinds[looked]
    out = codes.copy()
    out[beyond] = table[looked]
    gone[beyond[kind == _FORMAT]] = True
    marks = beyond[kind == _MARK]
    if marks.size:  # each mark's base: the last character before it that is neither
        # a mark nor a format character (none: the mark starts the text)
        other = beyond[kind != 0]
        at = np.arange(codes.size)
        at[other] = -1
        at[gone] = -1
        base = np.maximum.accumulate(at)[marks]
        on_letter = (base >= 0) & letters[codes[np.maximum(base, 0)]]
        gone[marks[~on_letter]] = True
    where: Where | None = None
    if gone.any():
        where = np.flatnonzero(~gone)
        out = out[where]
    view = out.tobytes().decode("utf-32-le", "surrogatepass")
    if where is None and view == text:
        return text, None
    return view, where


def _references(text: str) -> list[tuple[int, int, str]]:
    """``(start, end, character)`` of each HTML character reference in ``text`` that
    stands for one character (see ``transformers._entities``); C-level first test."""
    if "&" not in text:
        return []
    out = []
    for m in ENTITY.finditer(text):
        c = entity_char(m.group())
        if c is not None:
            out.append((m.start(), m.end(), c))
    return out


def _holds(special: Any, text: str) -> bool:
    """Whether ``text`` holds a character of the class ``special`` (one that is not
    its own view, or any beyond the Basic Multilingual Plane)."""
    try:
        return special.search(text) is not None
    except UnicodeEncodeError:  # a lone surrogate, which UTF-8 cannot hold: look
        return True


def original_spans(
    spans: list[tuple[int, int]], where: Where | None, length: int
) -> list[tuple[int, int]]:
    """Spans of the view as spans of the text (``length`` characters): a span starts
    at its first character and reaches to the next character the view kept (the
    invisible characters right after it, such as the marks on its last character,
    belong to it)."""
    if where is None or not spans:
        return spans
    ends = np.append(where, length)
    return [(int(where[s]), int(ends[e])) for s, e in spans]


def plain(text: str) -> str:
    """The view of ``text`` (the value the detector reads in it)."""
    return detect_view(text)[0]


__all__ = ["ESCAPED", "Where", "detect_view", "original_spans", "plain"]
