"""Look-alike letters and IDN domains: the forms one value is written in to hide it.

A Cyrillic a (U+0430) or a Greek omicron (U+03BF) in an otherwise Latin name or
e-mail looks the same to a reader and differs to every comparison; a domain is
written in Unicode (``bücher.de``) or in punycode (``xn--bcher-kva.de``).
:func:`skeleton` reads each Cyrillic and Greek letter that looks like a Latin one
as that letter (one character for one, case kept), so the row's own values are
found however they are spelt (see ``_known.fold_known``); :func:`idn_decoded`
writes an e-mail's punycode domain labels in Unicode. See docs/masking.md
("What the detector reads").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import suppress

# Cyrillic and Greek letters that look like a Latin letter, both cases (a lower-case
# letter whose capital looks Latin reads as that letter too, so a word matches
# itself whatever its case: folding lowers after this). Written as code points:
# the letters themselves are what a reader cannot tell apart.
_CYRILLIC = (
    "\u0410\u0412\u0415\u0405\u0406\u0408\u041a\u041c\u041d\u041e\u0420\u0421\u0422"
    "\u0423\u0425\u04ae\u04ba\u0500\u051a\u051c\u04c0",
    "ABESIJKMHOPCTYXYHDQWI",
    "\u0430\u0432\u0435\u0455\u0456\u0458\u043a\u043c\u043d\u043e\u0440\u0441\u0442"
    "\u0443\u0445\u04af\u04bb\u0501\u051b\u051d\u04cf",
    "abesijkmhopctyxyhdqwl",
)
_GREEK = (
    "\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5\u03a7",
    "ABEZHIKMNOPTYX",
    "\u03b1\u03b2\u03b5\u03b6\u03b7\u03b9\u03ba\u03bc\u03bd\u03bf\u03c1\u03c4\u03c5\u03c7",
    "abezhikmnoptyx",
)
LOOK_ALIKE: dict[int, str] = {
    ord(a): b
    for upper, latin_upper, lower, latin_lower in (_CYRILLIC, _GREEK)
    for a, b in zip(upper + lower, latin_upper + latin_lower, strict=True)
}


def skeleton(text: str) -> str:
    """``text`` with every look-alike Cyrillic and Greek letter as its Latin letter
    (same length)."""
    return text if text.isascii() else text.translate(LOOK_ALIKE)


_WORD = re.compile(r"[^\W\d_]+")
_LOOKS = frozenset(chr(c) for c in LOOK_ALIKE)
_LOOK_CLASS = "[" + "".join(f"\\u{c:04x}" for c in LOOK_ALIKE) + "]"
_LOOKS_ONLY = re.compile(_LOOK_CLASS)
# a Latin letter next to a look-alike one: a word mixing the two
_MIXED = re.compile(f"[A-Za-z]{_LOOK_CLASS}|{_LOOK_CLASS}[A-Za-z]")


def _reads_latin(word: str) -> bool:
    """Whether every letter of ``word`` (look-alikes read as Latin) is a Latin one
    (ASCII, or of the Latin-1 and Latin Extended blocks: ``é``, ``ł``)."""
    return all(c < "\u0250" for c in word)


def _genuine_class() -> re.Pattern[str]:
    """Greek and Cyrillic letters that look like no Latin one."""
    others = "".join(
        f"\\u{c:04x}" for c in range(0x370, 0x530) if chr(c).isalpha() and c not in LOOK_ALIKE
    )
    return re.compile(f"[{others}]")


_GENUINE = _genuine_class()


def latin_readings(texts: Sequence[str]) -> list[tuple[int, str]]:
    """``(index, Latin reading)`` of each of ``texts`` with a word written in
    look-alike letters: every word whose letters are Latin or look-alike Cyrillic
    and Greek ones (Ganthriv with a Cyrillic a U+0430, Maria with a Greek capital
    mu U+039C), read as Latin (:func:`skeleton`, one character for one). In a text
    of another script (one of its letters looks like no Latin letter: Russian,
    Greek), only a word mixing Latin and look-alike letters is read so (``как``
    and ``он`` are Russian words); a word of another script stays as it is. One
    C-level pass when the batch is ASCII."""
    try:
        if "".join(texts).isascii():
            return []
    except TypeError:  # not all text
        texts = [t if type(t) is str else "" for t in texts]
    out: list[tuple[int, str]] = []
    for i, text in enumerate(texts):
        if text.isascii() or _LOOKS.isdisjoint(text):
            continue
        genuine = _GENUINE.search(text) is not None
        if genuine and _MIXED.search(text) is None:
            continue

        def read(m: re.Match[str], genuine: bool = genuine) -> str:
            word = m.group(0)
            latin = word.translate(LOOK_ALIKE)
            if latin == word or not _reads_latin(latin):
                return word
            if genuine and _LOOKS_ONLY.sub("", word) == "":
                return word  # a word of look-alikes alone, in a text of their script
            return latin

        latin = _WORD.sub(read, text)
        if latin != text:
            out.append((i, latin))
    return out


def idn_decoded(email: str) -> str:
    """``email`` with each punycode label of its domain (``xn--…``) in Unicode; a
    label that is not valid punycode stays as it is."""
    local, at, domain = email.rpartition("@")
    labels = []
    for label in domain.split("."):
        if label[:4].lower() == "xn--":
            with suppress(UnicodeError, ValueError):
                label = label[4:].encode("ascii").decode("punycode")
        labels.append(label)
    return local + at + ".".join(labels)


__all__ = ["LOOK_ALIKE", "idn_decoded", "latin_readings", "skeleton"]
