"""Street addresses inside free text (English, German, Dutch, French, Spanish, Italian,
Portuguese forms). Precise rather than exhaustive: a street needs its house number
and a street word, and its name words must be capitalised, so ordinary sentences
("we walked 3 miles down the road") are left alone."""

from __future__ import annotations

import re

from stagewall.masking.transformers._known import fold

_UP = r"[A-ZÀ-ÖØ-Þ]"
_NAME = _UP + r"[\w'.-]*"
# 12 High Street, 222 Ganthriv Lane, 5B Elm Rd.
_EN = re.compile(
    r"[0-9](?<![\w-][0-9])\d{0,4}[A-Za-z]?(?:-\d{1,5})?,?[ \t]+(?:" + _NAME + r"[ \t]+){1,4}"
    r"(?i:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Way|Court|Ct|"
    r"Place|Pl|Terrace|Close|Crescent|Cres|Highway|Hwy|Parkway|Pkwy|Square|Sq|Row|"
    r"Gardens|Grove|Hill|Mews|Walk|Circle|Cir|Trail|Alley)\b\.?"
)
# Hauptstraße 5, Lindenweg 12a, Keizersgracht 123, Lange Laan 4
_DE_NL_SUFFIX = (
    r"(?i:stra(?:ß|ss)e|str\.|weg|gasse|platz|allee|ring|damm|ufer|straat|laan|gracht|"
    r"plein|kade|steeg|dijk|singel)"
)
_DE_NL = re.compile(
    r"(?<![\w-])(?:" + _NAME + r"[ \t]+)?" + _UP + r"[\w'-]*" + _DE_NL_SUFFIX
    + r"[ \t]+\d{1,5}[a-zA-Z]?\b"
)  # fmt: skip
# Calle Mayor 7, 3 rue de la Paix, Via Roma 12, Rua das Flores 45, Avenida de América, 10
_ROMANCE_WORD = (
    r"(?i:rue|avenue|av\.|boulevard|bd|chemin|allée|impasse|place|quai|calle|c/|avenida|"
    r"avda\.|paseo|plaza|carrer|camino|ronda|via|viale|piazza|corso|vicolo|largo|rua|"
    r"travessa|praça)"
)
_ROMANCE = re.compile(
    r"(?<![\w-])(?:(?P<pre>\d{1,5}[a-zA-Z]?),?[ \t]+)?" + _ROMANCE_WORD + r"[ \t]+"
    r"(?:(?i:de|del|de la|de las|de los|des|du|de l'|d'|la|le|les|da|di|della|delle|dei|"
    r"dos|das|do|l')[ \t]*)*" + _NAME + r"(?:[ \t]+" + _NAME + r"){0,3}"
    r"(?:,?[ \t]*(?:n[º°o]\.?[ \t]*)?(?P<post>\d{1,5}[a-zA-Z]?)\b)?"
)


# What every match of a pattern holds, found fast: a text of a joined batch (texts
# separated by NULs, which no pattern matches) is searched only when it holds one.
# The gates run without IGNORECASE (6-10x faster) over the text folded to lower
# case without accents, plus the two letters that IGNORECASE equates with an ASCII
# letter and fold does not (U+017F long s ~ "s", U+0131 dotless i ~ "i"): every
# character the patterns' case-insensitive street words accept folds to the folded
# word's letter (checked
# over all of Unicode in tests/masking/classify/test_text.py). _DE_NL: the street
# word, blanks and a digit; _ROMANCE: the street word and a blank.
_GATE_FOLD = {0x17F: "s", 0x131: "i"}


def _gate(words: str, after: str) -> re.Pattern[str]:
    assert words.startswith("(?i:") and words.endswith(")")
    return re.compile("(?:" + fold(words[4:-1]) + ")" + after)


_DE_NL_GATE = _gate(_DE_NL_SUFFIX, r"[ \t]+\d")
_ROMANCE_GATE = _gate(_ROMANCE_WORD, r"[ \t]")


def find_streets(text: str) -> list[tuple[int, int]]:
    """Spans of the street addresses (with their house number) found in ``text``."""
    out = [m.span() for m in _EN.finditer(text)]
    folded = text.lower() if text.isascii() else fold(text).translate(_GATE_FOLD)
    for a, b in _gated(text, folded, _DE_NL_GATE):
        out += [m.span() for m in _DE_NL.finditer(text, a, b)]
    for a, b in _gated(text, folded, _ROMANCE_GATE):
        out += [
            m.span() for m in _ROMANCE.finditer(text, a, b) if m.group("pre") or m.group("post")
        ]
    return out


def _gated(text: str, folded: str, gate: re.Pattern[str]) -> list[tuple[int, int]]:
    """The NUL-bounded pieces of ``text`` whose ``folded`` form holds a match of
    ``gate``, as ``(start, end)`` (no match of the street patterns crosses a NUL, and
    a search bounded there sees the same neighbours: a NUL is not a word character)."""
    out: list[tuple[int, int]] = []
    end = -1
    for m in gate.finditer(folded):
        if m.start() < end:
            continue
        start = text.rfind("\x00", 0, m.start()) + 1
        end = text.find("\x00", m.end())
        if end == -1:
            end = len(text)
        out.append((start, end))
    return out


__all__ = ["find_streets"]
