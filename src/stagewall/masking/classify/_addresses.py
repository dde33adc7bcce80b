"""Street addresses inside free text (English, German, Dutch, French, Spanish, Italian,
Portuguese forms). Precise rather than exhaustive: a street needs its house number
and a street word, and its name words must be capitalised, so ordinary sentences
("we walked 3 miles down the road") are left alone."""

from __future__ import annotations

import re

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
_DE_NL = re.compile(
    r"(?<![\w-])(?:" + _NAME + r"[ \t]+)?" + _UP + r"[\w'-]*"
    r"(?i:stra(?:ß|ss)e|str\.|weg|gasse|platz|allee|ring|damm|ufer|straat|laan|gracht|"
    r"plein|kade|steeg|dijk|singel)[ \t]+\d{1,5}[a-zA-Z]?\b"
)
# Calle Mayor 7, 3 rue de la Paix, Via Roma 12, Rua das Flores 45, Avenida de América, 10
_ROMANCE = re.compile(
    r"(?<![\w-])(?:(?P<pre>\d{1,5}[a-zA-Z]?),?[ \t]+)?"
    r"(?i:rue|avenue|av\.|boulevard|bd|chemin|allée|impasse|place|quai|calle|c/|avenida|"
    r"avda\.|paseo|plaza|carrer|camino|ronda|via|viale|piazza|corso|vicolo|largo|rua|"
    r"travessa|praça)[ \t]+"
    r"(?:(?i:de|del|de la|de las|de los|des|du|de l'|d'|la|le|les|da|di|della|delle|dei|"
    r"dos|das|do|l')[ \t]*)*" + _NAME + r"(?:[ \t]+" + _NAME + r"){0,3}"
    r"(?:,?[ \t]*(?:n[º°o]\.?[ \t]*)?(?P<post>\d{1,5}[a-zA-Z]?)\b)?"
)


# Cheap gates: a pattern runs only when one of its street words occurs in the text.
_DE_NL_WORDS: tuple[str, ...] = (
    "stra",
    "str.",
    "weg",
    "gasse",
    "platz",
    "allee",
    "ring",
    "damm",
    "ufer",
    "laan",
    "gracht",
    "plein",
    "kade",
    "steeg",
    "dijk",
    "singel",
)
_ROMANCE_WORDS: tuple[str, ...] = (
    "rue",
    "av",
    "bd",
    "chemin",
    "all",
    "impasse",
    "place",
    "quai",
    "calle",
    "c/",
    "paseo",
    "plaza",
    "carrer",
    "camino",
    "ronda",
    "via",
    "piazza",
    "corso",
    "vicolo",
    "largo",
    "rua",
    "travessa",
    "pra",
)


def find_streets(text: str) -> list[tuple[int, int]]:
    """Spans of the street addresses (with their house number) found in ``text``."""
    out = [m.span() for m in _EN.finditer(text)]
    low = text.lower()
    if any(w in low for w in _DE_NL_WORDS):
        out += [m.span() for m in _DE_NL.finditer(text)]
    if any(w in low for w in _ROMANCE_WORDS):
        out += [m.span() for m in _ROMANCE.finditer(text) if m.group("pre") or m.group("post")]
    return out


__all__ = ["find_streets"]
