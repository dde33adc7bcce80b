"""An independent survivor checker for the test suite: deliberately simple and slow.

It shares no code with ``stagewall.masking`` verify or text_scrub: it reads the
source and target with the plain drivers, pairs rows by primary key (the trap
database keeps its keys), and tests every source value of every listed column,
one by one, against every text cell of the same target row and of the target rows
that reference it. A value counts as found when its words appear, in order and
as whole words, in the cell after both are folded the way people spell a value
interchangeably (see :func:`plain`); digits of phone numbers are also compared
without separators. :func:`survivors_anywhere` tests every cell against the
values of every row, linked or not.
"""

from __future__ import annotations

import base64
import html
import json
import re
import sqlite3
import unicodedata
from itertools import pairwise
from typing import Any
from urllib.parse import unquote, urlparse

PARTICLES = {"van", "der", "den", "de", "del", "la", "le", "da", "di", "von", "du"}
# Two-letter words of English, German, French, Spanish, Portuguese, Italian and
# Dutch running text: a two-letter name part that is one of them is not searched
# alone (kept apart from stagewall's list; fewer words than it is fine, as long
# as the quiet cases' notes hold none of the names searched)
# fmt: off
COMMON_PAIRS = {
    "am", "an", "as", "at", "be", "by", "do", "go", "he", "hi", "if", "in", "is", "it", "me",
    "my", "no", "of", "oh", "ok", "on", "or", "so", "to", "up", "us", "we", "ab", "da", "du",
    "er", "es", "im", "ja", "je", "ob", "wo", "zu", "au", "de", "en", "et", "il", "la", "le",
    "lo", "ma", "mi", "ne", "se", "si", "su", "te", "tu", "un", "ya", "yo", "el", "al", "os",
    "ao", "em", "eu", "um", "na", "ou", "ha", "ci", "di", "io", "ik", "om", "op", "ze", "zo",
    "nu", "ga", "uw", "mr", "ms", "dr", "st", "id", "re",
}
# fmt: on
# Cyrillic and Greek lower-case letters a reader takes for Latin ones (a name spelt
# with them to hide it), written as code points; kept apart from stagewall's table
_LOOKS_LATIN = str.maketrans(
    "\u0430\u0432\u0435\u0456\u0458\u043a\u043c\u043d\u043e\u0440\u0441\u0442"
    "\u0443\u0445\u0455\u03b1\u03b2\u03b5\u03b9\u03ba\u03bc\u03bd\u03bf\u03c1"
    "\u03c4\u03c5\u03c7\u03b6\u03b7",
    "abeijkmhopctyxsabeikmnoptyxzh",
)
# letters that Unicode does not decompose but people write without their stroke
_BARE = str.maketrans({0x131: "i", 0xF8: "o", 0x142: "l", 0x111: "d", 0x127: "h", 0x167: "t"})


def plain(text: str) -> str:
    """Words of ``text`` as people write them interchangeably: case-folded (``ß`` is
    ``ss``), compatibility forms and accents gone (full-width ``U+FF21`` is ``a``),
    invisible format characters (zero-width space, soft hyphen) dropped, a German
    umlaut equal to its two-letter spelling (``ue``, ``u`` and ``ü`` all read
    ``u``), every script's digits the ASCII digits (``k٣`` is ``k3``: NFKD leaves
    Arabic-Indic digits as they are), Cyrillic and Greek letters that look like
    Latin ones as those (Ganthriv with a Cyrillic a, U+0430), and each Chinese,
    Japanese or Korean letter a word of its own."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LOOKS_LATIN))
    no_marks = "".join(
        str(unicodedata.digit(ch)) if ch.isdigit() else ch  # any script's digits
        for ch in decomposed
        if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf"
    ).translate(_BARE)
    for pair in ("ae", "oe", "ue"):
        no_marks = no_marks.replace(pair, pair[0])
    # Chinese, Japanese and Korean run words together: each of their letters is a word
    spaced = "".join(f" {ch} " if _unspaced(ch) else ch for ch in no_marks)
    return " " + " ".join(re.findall(r"[^\W_]+", spaced)) + " "


def _unspaced(ch: str) -> bool:
    return ord(ch) > 0x1000 and unicodedata.name(ch, "").startswith(
        ("CJK", "HIRAGANA", "KATAKANA", "HANGUL")
    )


def _digits(text: str) -> str:
    """The digits of ``text`` as ASCII (full-width ``U+FF11`` is ``1``)."""
    return "".join(str(unicodedata.digit(ch)) for ch in text if ch.isdigit())


# Street words and how people shorten them, written out here (not stagewall's table):
# a street's own words with one of them shortened, or written out, are the street
_SHORT_STREET = {
    "calle": ["c"],
    "avenida": ["av", "avda"],
    "avenue": ["av", "ave"],
    "boulevard": ["bd", "blvd"],
    "street": ["st"],
    "road": ["rd"],
    "lane": ["ln"],
    "drive": ["dr"],
    "square": ["sq"],
    "place": ["pl"],
    "court": ["ct"],
    "crescent": ["cres"],
    "circle": ["cir"],
    "highway": ["hwy"],
    "parkway": ["pkwy"],
    "strasse": ["str"],  # (plain folds ß to ss)
    # French rue (plain reads "ru": ue is u), Polish ulica
    "ru": ["r"],
    "ulica": ["ul"],
}
_LONG_STREET: dict[str, list[str]] = {}
for _full, _shorts in _SHORT_STREET.items():
    for _short in _shorts:
        _LONG_STREET.setdefault(_short, []).append(_full)


def _street_respelt(words: list[str]) -> list[str]:
    """The street ``words`` with one word shortened or written out, each as a needle
    (``hauptstrasse 5`` → ``hauptstr 5``; ``c mayor 7`` → ``calle mayor 7``), or
    its house number's letter apart or joined."""
    out = []
    for i, w in enumerate(words):
        forms = [plain(f).strip() for f in _SHORT_STREET.get(w, []) + _LONG_STREET.get(w, [])]
        forms += _SHORT_STREET.get(w + "e", [])  # (plain reads "avenue" as "avenu")
        if w.endswith("strasse") and len(w) > 8:
            forms.append(w[:-7] + "str")
        elif w.endswith("straat") and len(w) > 7:  # Dutch: Kerkstraat as Kerkstr.
            forms.append(w[:-6] + "str")
        elif w.endswith("str") and len(w) > 4:
            forms.append(w[:-3] + "strasse")
        out += [" " + " ".join([*words[:i], f, *words[i + 1 :]]) + " " for f in forms]
    # the house number's letter apart or joined: Lindenweg 8a as Lindenweg 8 a
    spaced = re.sub(r"\b(\d+)([a-z])\b", r"\1 \2", " ".join(words))
    joined = re.sub(r"\b(\d+) ([a-z])\b", r"\1\2", " ".join(words))
    out += [f" {form} " for form in (spaced, joined) if form != " ".join(words)]
    return out


def _number_elsewhere(words: list[str]) -> list[tuple[str, str]]:
    """Needles for a street's ``words`` with the house number on the other side, or
    after "Nr.", "No.", "nº", "n.", "núm.": Hauptstraße Nr. 5."""
    out = []
    if any(c.isdigit() for c in words[-1]):
        out.append((" " + " ".join(words[-1:] + words[:-1]) + " ", "words"))
    if any(c.isdigit() for c in words[0]):
        out.append((" " + " ".join(words[1:] + words[:1]) + " ", "words"))
    number = next((w for w in (words[-1], words[0]) if w.isdigit()), None)
    if number is not None:
        street = " ".join(w for w in words if w != number)
        for mark in ("nr", "no", "n", "num", "numero", "nro", "na", "number", "nummer", *_SIGNS):
            out.append((f" {street} {mark} {number} ", "words"))
    return out


# words that name a flat or unit written before or after the street (not stagewall's)
_FLAT = r"(?:flat|apt|apartment|appt|app|unit|suite|ste|piso|dpto|depto|whg|wohnung)"
# the small words people leave out after a street word when they shorten it:
# "Calle de Alcalá" as "C/ Alcalá", "Rua das Flores" as "Rua Flores"
_STREET_FIRST = {"calle", "avenida", "av", "avda", "rua", "rue", "paseo", "plaza", "praca"}
_STREET_FIRST |= {"camino", "carrer", "via", "viale", "piazza", "avenue", "boulevard", "bd"}
_STREET_FIRST |= {"ru", "r", "ulica", "ul"}
_SMALL = {"de", "del", "della", "di", "da", "das", "dos", "do", "du", "des", "d", "la", "le"}
_SMALL |= {"les", "los", "las", "l", "el", "der", "den"}
# German and Dutch street endings, and how the first is shortened (plain: ß is ss)
_ENDINGS = {"strasse": ["strasse", "str"], "str": ["str", "strasse"], "weg": ["weg"]}
_ENDINGS |= {"gasse": ["gasse"], "platz": ["platz"], "allee": ["allee"]}
_ENDINGS |= {"straat": ["straat", "str"]}


def _street_without_flat(value: str) -> list[str]:
    """The street ``value`` without a flat or unit before or after it, as people
    write it: ``Flat 3B, 14 Oak Lane``, ``Apt 3, ...``, ``3/14 Oak Lane`` (unit 3,
    number 14), ``14 Oak Lane Apt 3``, ``Calle Mayor, 7, 2ºB``, ``Oakweg 14 Whg. 3``."""
    out = []
    low = value.casefold()
    cut = re.sub(rf"^\s*{_FLAT}\.?\s*[\w\u00ba\u00aa]+\s*,?\s*", "", low)
    cut = re.sub(r"^\s*\d+[a-z]?\s*/\s*(?=\d)", "", cut)
    cut = re.sub(rf"[\s,]+(?:{_FLAT}\.?|#)\s*[\w\u00ba\u00aa]+\s*$", "", cut)
    if cut != low:
        out.append(cut)
    parts = low.split(",")
    if len(parts) > 2 and len(parts[-1].split()) <= 2 and _digits(parts[-1]):
        out.append(" ".join(parts[:-1]))  # Calle Mayor, 7, 2ºB
    return [o for o in out if _digits(o) and len(plain(o).split()) > 1]


def _street_twice_changed(words: list[str]) -> list[str]:
    """The street ``words`` (plain) written with two changes at once: the small words
    after its first street word left out, that word shortened or not (``calle de
    alcala 5`` as ``c alcala 5``); an ending written apart and shortened or not
    (``hauptstrasse 5`` as ``haupt str 5``); an ending word glued to the name before
    it (``berliner strasse 5`` as ``berlinerstr 5``)."""
    out = []
    for i, w in enumerate(words[:-1]):
        if w in _STREET_FIRST and words[i + 1] in _SMALL:
            j = i + 1
            while j < len(words) and words[j] in _SMALL:
                j += 1
            if j < len(words) and words[j].isalpha():
                for form in [w, *_SHORT_STREET.get(w, []), *_SHORT_STREET.get(w + "e", [])]:
                    out.append(" ".join([*words[:i], form, *words[j:]]))
    for i, w in enumerate(words):
        for end, forms in _ENDINGS.items():
            if w.endswith(end) and len(w) > len(end) + 1:
                out += [" ".join([*words[:i], w[: -len(end)], f, *words[i + 1 :]]) for f in forms]
        if i + 1 < len(words) and words[i + 1] in _ENDINGS and w.isalpha():
            for f in _ENDINGS[words[i + 1]]:
                out.append(" ".join([*words[:i], w + f, *words[i + 2 :]]))
    return [f" {o} " for o in out]


# A street's name written with another street word than its own, or without one:
# "Ganthriv Road" or "Ganthriv 14" for "14 Ganthriv Lane", "Avenida Mayor", "Cl.
# Mayor 7" for "Calle Mayor 7". The words people write before a street's name
# (Spanish, Catalan, Italian, Portuguese, French) and after it (English, German,
# Dutch), abbreviations included; written out here, not stagewall's table. Ordinary
# English next to a name (way, court, place, square, drive, close, ...) is not one.
_WORD_BEFORE = re.split(
    r"\s+",
    """calle cl clle cll c avenida avda avd av avinguda avgda paseo pso plaza pza
    plza pl carrer camino cno ronda rda carretera ctra travesia trva glorieta gta pasaje
    pje rambla bulevar blvr via viale vle vicolo corso piazza pzza largo rua travessa tv
    praca rue ru r chemin impasse imp quai allee boulevard bd bld bvd avenue ulica ul""",
)
_WORD_AFTER = re.split(
    r"\s+",
    """street st road rd lane ln avenue ave av boulevard blvd bd highway hwy
    parkway pkwy alley terrace tce crescent cres mews strasse str weg gasse platz pl allee
    damm ufer ring straat laan gracht plein kade steeg dijk singel""",
)
# every word that names no street but says it is one: the name is what is left
_NOT_NAME = set(_WORD_BEFORE) | set(_WORD_AFTER) | set(_SHORT_STREET) | set(_LONG_STREET)
_NOT_NAME |= _STREET_FIRST | set(_ENDINGS) | {"way", "court", "place", "square", "drive"}
_NOT_NAME |= {"close", "row", "walk", "hill", "grove", "gardens", "trail", "circle", "dr"}
_NOT_NAME |= {"ct", "sq", "cir", "praca", "impasse", "chemin", "quai"}


def _street_name_needles(words: list[str]) -> list[tuple[str, str]]:
    """A street's name (its words but its house number, its street words and the small
    words right after those: ``alcala`` of ``calle de alcala 5``) next to its own
    number, either side, or next to a street word (a "named" needle): ``alcala 5``,
    ``5 alcala``, ``avda alcala``, ``ganthriv road``."""
    number = None
    rest = list(words)
    glued = _glued_street(words)
    if glued:
        return glued
    if re.fullmatch(r"\d+[a-z]?", rest[-1]):
        number = rest.pop()
    elif re.fullmatch(r"\d+[a-z]?", rest[0]):
        number = rest.pop(0)
    name: list[str] = []
    said = False  # whether the street says it is one (a street word before or after)
    for i, w in enumerate(rest):
        if w in _NOT_NAME:
            said = True
            if name:  # the name ends at a street word after it; only those may follow
                if not all(v in _NOT_NAME for v in rest[i:]):
                    return []
                break
        elif not name and said and w in _SMALL:
            continue  # (calle de alcala: the small words after the street word)
        elif w.isalpha():
            name.append(w)
        else:
            return []
    if not said or not name or len("".join(name)) < 3:
        return []
    phrase = " ".join(name)
    out = [(phrase, "named")]
    if number is not None:
        out += [(f" {phrase} {number} ", "words"), (f" {number} {phrase} ", "words")]
        # and with a number sign between (Alcalá nº 5, Alcalá, nº5, nº 5 de Alcalá)
        out.append((f"{phrase}|{number}", "marked"))
    return out


def _glued_street(words: list[str]) -> list[tuple[str, str]]:
    """A street of one word ending in a German or Dutch street ending and its number
    (``hauptstrasse 5``, ``kerkstraat 5``): the word, or it shortened (``hauptstr``,
    ``kerkstr``), next to the number with a letter glued on or after a sign
    (``Hauptstraße 5a``, ``Kerkstr 5A``, ``Kerkstr. Nr. 5b``): "marked" needles."""
    if len(words) != 2:
        return []
    word, number = words if words[1].isdigit() else words[::-1]
    if not (number.isdigit() and word.isalpha()):
        return []
    end = next((e for e in _GLUED_ENDINGS if word.endswith(e) and len(word) > len(e) + 1), None)
    if end is None:
        return []
    forms = {word}
    if end in ("strasse", "straat"):
        forms.add(word[: -len(end)] + "str")
    return [(f"{form}|{number}", "marked") for form in sorted(forms)]


# the signs people write before a house number, as plain reads them: "nº" is "no",
# "n.º" is "n o", "n°" and "n." are "n", "núm." is "num", "Nr." is "nr", "nª" is
# "na", "n.ª" is "n a", "numéro" is "numero"; English "number", German "Nummer"; "#"
# is no word (alcala 5: the name next to its number)
# German "Hausnummer", "Hausnr.", Dutch "huisnummer", Italian "civico", "civ."
_SIGNS = ("hausnummer", "hausnr", "huisnummer", "civico", "civ")
_SIGN = rf"(?:{'|'.join(_SIGNS)}|n o|n a|number|nummer|numero|num|nro|nr|no|na|n)"


# what people glue onto a house number: a building's letter or bis, ter (42A, 42bis)
_GLUED_TO_NUMBER = r"(?:[a-z]|bis|ter)?"


def _marked(text: str, needle: str) -> bool:
    """``text`` (plain) holds a street's name and its house number (``needle``:
    ``"name|number"``) with a number sign between, the number apart or glued to the
    sign (``alcala no 5``, ``alcala no5``), or the number first (after a sign or
    not) and the name after, small words or English ``of`` between (``no 5 de
    alcala``, ``nr 5 berliner``, ``5 de alcala``, ``number 5 of alcala``); the
    number may have a letter or ``bis``/``ter`` glued on (``alcala 5a``, ``5b de
    alcala``)."""
    name, number = (re.escape(p) for p in needle.split("|"))
    number += _GLUED_TO_NUMBER
    small = "|".join(map(re.escape, _SMALL | {"of", "on"}))
    return (
        re.search(
            rf" {name} (?:{_SIGN} ?)?{number} | (?:{_SIGN} ?)?{number}(?: (?:{small}))* {name} ",
            text,
        )
        is not None
    )


def _named(text: str, name: str) -> bool:
    """``text`` (plain) holds the street name ``name`` right after a street word (small
    words between: ``avenida de alcala``) or right before one (``ganthriv road``)."""
    before = "|".join(map(re.escape, _WORD_BEFORE))
    after = "|".join(map(re.escape, _WORD_AFTER))
    small = "|".join(map(re.escape, _SMALL))
    name = re.escape(name)
    return (
        re.search(rf" (?:{before})(?: (?:{small}))* {name} | {name} (?:{after}) ", text) is not None
    )


# German and Dutch street endings written onto a street's name (plain: ß is ss), read
# by the checker on its own: a name's letters before one of them (Ganthrivweg,
# Ganthrivstr., Ganthrivstrasse) are that name written as a street
_GLUED_ENDINGS = ("strasse", "str", "weg", "gasse", "platz", "allee", "ring", "damm")
_GLUED_ENDINGS += ("ufer", "straat", "laan", "gracht", "plein", "kade", "steeg", "dijk")
_GLUED_ENDINGS += ("singel",)


def street_core_words(value: str) -> list[str]:
    """The words of a street's name (its words but its house number, flat, street
    words and the small words after those), an ending glued on cut off: ``ganthriv``
    of ``Ganthrivweg 14`` and of ``14 Ganthriv Court``, ``alcala`` of ``Calle de
    Alcalá 5``; 4 letters or more. For a street whose name the test knows is no
    ordinary word (the checker cannot tell which are: ``where`` picks the rows)."""
    out = []
    for w in plain(value.split(",")[0]).split():
        if not w.isalpha() or w in _NOT_NAME or w in _SMALL:
            continue
        for end in sorted(_GLUED_ENDINGS, key=len, reverse=True):
            if w.endswith(end) and len(w) - len(end) >= 4:
                w = w[: -len(end)]
                break
        if len(w) >= 4:
            out.append(w)
    return out


def street_core_needles(value: str) -> list[tuple[str, str]]:
    """Needles for a street's name alone (:func:`street_core_words`): as a word
    (``lives near the Ganthriv one``, ``Ganthriv Court``) or with a German or Dutch
    street ending glued on (``Ganthrivweg``, ``Ganthrivstr.``), one word."""
    return [(w, n) for w in street_core_words(value) for n in ("core", "compound")]


def city_needles(value: str) -> list[tuple[str, str]]:
    """Needles for a city's name in a text: each of its words of 4 letters or more, as
    a word (``the Quarrington branch`` for ``Quarrington`` or ``Quarrington Magna``).
    For cities the test knows are no ordinary word (``where`` picks the rows)."""
    return [(w, "core") for w in plain(value).split() if w.isalpha() and len(w) >= 4]


def _compound(word: str, core: str) -> bool:
    return word.startswith(core) and word[len(core) :] in _GLUED_ENDINGS


def login_needles(names: list[str]) -> list[tuple[str, str]]:
    """Needles for a row's names written inside one word of a login or a mailbox:
    ``carrasco1987``, ``ycarrasco``, ``carrascoy87`` (digits after the name, or one or
    two initials of the row's names on one side). ``names``: the row's name values."""
    ws = [w for v in names for w in plain(v).split() if w not in PARTICLES]
    initials = "".join(sorted({w[0] for w in ws}))
    return [(f"{w}|{initials}", "login") for w in dict.fromkeys(ws) if len(w) >= 4]


def _login(word: str, needle: str) -> bool:
    name, initials = needle.split("|")
    ini = f"[{re.escape(initials)}]"
    return (
        re.fullmatch(rf"{ini}{{1,2}}{name}\d*|{name}(?:{ini}{{1,2}})?\d+|{name}{ini}{{1,2}}", word)
        is not None
    )


def stem_needles(surname: str) -> list[tuple[str, str]]:
    """Needles for a surname shortened and glued to digits, a login: ``ganthr7``,
    ``carras12`` (five letters or more, fewer than the surname's)."""
    return [(w, "stem") for w in plain(surname).split() if len(w) > 5 and w.isalpha()]


def _stem(word: str, surname: str) -> bool:
    return any(
        len(letters) < len(surname) and surname.startswith(letters)
        for letters in re.findall(r"(?<![^\W\d_])([^\W\d_]{5,})(?=\d)", word)
    )


def glued_needles(surname: str) -> list[tuple[str, str]]:
    """Needles for a surname glued to digits on either side or both, one word:
    ``ganthriv87``, ``87ganthriv``, ``4ganthrivs2`` (four letters or more)."""
    return [(w, "glued") for w in plain(surname).split() if len(w) >= 4 and w.isalpha()]


def _glued(word: str, surname: str) -> bool:
    return re.fullmatch(rf"\d*{surname}(?:s|es)?\d*", word) is not None


def inside_needles(surname: str) -> list[tuple[str, str]]:
    """Needles for a surname of six letters or more glued to other letters, anywhere
    in a run of letters: ``jmganthriv``, ``ganthrivwedding``, ``GanthrivFamily``."""
    return [(w, "inside") for w in plain(surname).split() if len(w) >= 6 and w.isalpha()]


def _inside(text: str, surname: str) -> bool:
    return any(surname in run for run in re.findall(r"[^\W\d_]+", text))


def full_name_surnames(value: str) -> list[str]:
    """The words of a person's full name that may be a surname: those before its
    comma (``Ganthriv, Ana``), else all but its first (``Ana Maria Ganthriv``: a
    middle name too; the first word may be a title)."""
    if "," in value:
        return plain(value.split(",")[0]).split()
    return plain(value).split()[1:]


def needles(kind: str, value: str) -> list[tuple[str, str]]:
    """(needle, where) pairs for one source value; where: "words" (the cell's words),
    "digits" (its digits alone) or "pairs" (its words and each two neighbours
    written together: a postcode with or without its space)."""
    words = plain(value).split()
    if not words:
        return []
    if "".join(words).isdigit() and len("".join(words)) < 4:
        # Sakila's postcode "3": a number of one to three digits names no one, and
        # with letters read apart from the digits after them (carrasco87) any
        # pseudonym e-mail ending in a 3 holds it; verify's floor is four digits too
        return []
    out = []
    if kind == "name":
        out += [(f" {w} ", "words") for w in words if len(w) >= 3 and w not in PARTICLES]
        # a two-letter name (Ng, Xu, Li, Vu) alone, unless a common word
        out += [(f" {w} ", "words") for w in words if len(w) == 2 and w.isalpha()
                and w not in COMMON_PAIRS]  # fmt: skip
        if "'" in value or "\u2019" in value:  # O'Brien stored as OBrien
            out.append(
                (" " + re.sub(r"['\u2019]", "", value.casefold()).split()[-1] + " ", "words")
            )
    if kind == "phone":
        digits = _digits(value)
        if len(digits) >= 8:
            out.append((digits, "digits"))
            # written at home without the country code or trunk prefix: the last
            # eight digits are as telling ("call her on 612 345 678")
            out.append((digits[-8:], "digits"))
    if kind == "email" and "@" in value:
        # the mailbox on its own: a login, or "jg1987 [at] corp [dot] example"
        mailbox = plain(value.split("@")[0])
        if len(mailbox.replace(" ", "")) >= 5 and any(c.isdigit() for c in mailbox):
            out.append((mailbox, "words"))
    if kind == "postcode":
        out.append((f" {''.join(words)} ", "pairs"))
    joined = "".join(words)
    if kind == "iban" and re.fullmatch(r"[a-z][a-z]\d\d[a-z0-9]{8,}", joined):
        # the account part alone, as the bank writes it: 2100-0418-45-0200051332,
        # NWBK 6016 1331 9268 19 (the IBAN without its country and check digits)
        out.append((joined[4:], "letters"))
        # the account apart from the bank's code, with its zeros or without, as a
        # German, Austrian or Dutch bank writes it (Konto 0532013000, Kto 532013000 of
        # DE89 3704 0044 0532 0130 00); a UK sort code and account, and the account
        # alone (60-16-13 31926819 of GB29 NWBK 6016 1331 9268 19)
        account = {"de": joined[12:], "at": joined[9:], "nl": joined[8:]}.get(joined[:2])
        if joined[:2] == "gb" and len(joined) == 22:
            out += [(joined[8:], "letters"), (joined[14:], "letters")]
        elif account is not None and account.isdigit():
            out += [(a, "letters") for a in {account, account.lstrip("0")} if len(a) >= 8]
    if kind == "id":
        # an id of seven digits or more between one or two letters, written without
        # its letter at one end or both (12345678 of 12345678Z, X1234567 of
        # X1234567L), when that leaves eight characters or more
        m = re.fullmatch(r"([a-z]{0,2})(\d{7,})([a-z]{0,2})", joined)
        if m and (m[1] or m[3]):
            cut = {m[2] + m[3], m[1] + m[2], m[2]} - {joined}
            out += [(c, "letters") for c in sorted(cut) if len(c) >= 8]
        # written without its separators, eight characters or more: 123456789 of the
        # SSN 123-45-6789
        if len(words) > 1 and len(joined) >= 8 and re.search(r"\d", joined):
            out.append((joined, "letters"))
        # a zero-padded number without its zeros, five digits or more, as a word
        # (47113 of the customer number 0047113)
        if joined.isdigit() and joined[0] == "0" and len(joined.lstrip("0")) >= 5:
            out.append((f" {joined.lstrip('0')} ", "words"))
    if kind == "street" and len(words) > 1:
        out += _number_elsewhere(words)
        # or shortened: Hauptstr. 5, C/ Mayor 7, 14 Oak St; and shortened with its
        # number elsewhere too: c. mayor nº 7, Oak St. 14 for 14 Oak Street
        for respelt in _street_respelt(words):
            out.append((respelt, "words"))
            out += _number_elsewhere(respelt.split())
        # the street without the flat after its first comma: "Calle Mayor 7, 2ºB" is
        # Calle Mayor 7, "14 Oak Street, Apt 3" 14 Oak Street
        head = value.split(",")[0]
        if head != value and _digits(head) and len(plain(head).split()) > 1:
            out += needles(kind, head)
        # a flat or unit before the street or after it without a comma (Flat 3B, 14
        # Oak Lane; 3/14 Oak Lane; Oakweg 14 Whg. 3), or a comma between its name and
        # its number (Calle Mayor, 7, 2ºB): the street without it
        for street in _street_without_flat(value):
            if plain(street) != plain(value):
                out += needles(kind, street)
        # two changes at once: C/ Alcalá 5 for Calle de Alcalá 5, Haupt-Str. 5 for
        # Hauptstraße 5, Berlinerstr. 5 for Berliner Straße 5 (number elsewhere too)
        for changed in _street_twice_changed(words):
            out.append((changed, "words"))
            out += _number_elsewhere(changed.split())
        # its name without its street word next to its number, or with another street
        # word: Alcalá 5, 5 Alcalá, Avda. Alcalá for Calle de Alcalá 5; Ganthriv Road
        # for 14 Ganthriv Lane; Cl. Mayor for Calle Mayor 7
        out += _street_name_needles(words)
    if kind == "name" and len(words) > 1:
        # a login of the first initial and the last name: ycarrasco (ycarrasco7),
        # for two words also the other way round (cyesica)
        for first, last in {(words[0], words[-1]), (words[-1], words[0])}:
            if len(last) >= 4 and last.isalpha() and (len(words) == 2 or last == words[-1]):
                out.append((f" {first[0]}{last} ", "words"))
        # and the last name then the first initial, one word: carrascoy (carrascoy87)
        last = words[-1]
        if len(last) >= 4 and last.isalpha() and last not in PARTICLES:
            out.append((f" {last}{words[0][0]} ", "words"))
            # the first given name's first two letters or more glued to the last name,
            # either side: yecarrasco, yescarrasco, carrascoyes (yecarrasco7)
            if words[0].isalpha() and words[0] not in PARTICLES and len(words[0]) > 1:
                out.append((f"{words[0]}|{last}", "prefix"))
            # the last name in the plural or possessive, no apostrophe: the Ganthrivs,
            # Carrascos', the Sanchezes (-es after s, x, z, ch, sh)
            if not last.endswith("s"):
                out.append((f" {last}s ", "words"))
            if re.search(r"(?:s|x|z|ch|sh)$", last):
                out.append((f" {last}es ", "words"))
    if kind == "surname":  # a surname column's value: also in the plural (the Ganthrivs)
        last = words[-1]
        if len(words) == 1 and len(last) >= 4 and last.isalpha() and last not in PARTICLES:
            out += [(f" {last}{end} ", "words") for end in _plural_ends(last)]
        return out
    if kind == "name" and len(words) > 2:
        # a person of two given names: the initials of all of them before or after
        # the last name, one word: jmganthriv (jmganthriv42), ganthrivjm
        last, given = words[-1], [w for w in words[:-1] if w not in PARTICLES]
        if len(given) > 1 and len(last) >= 4 and last.isalpha():
            initials = "".join(w[0] for w in given)
            out += [(f" {initials}{last} ", "words"), (f" {last}{initials} ", "words")]
    if kind == "name" and len(words) > 1:  # Jean-Luc written Jeanluc
        out.append((" " + "".join(words) + " ", "words"))
        # inside a longer word or handle (@yesicacarrasco88, carrasco.yesica2019),
        # either way round for two words, when 8 letters or more
        for joined in {"".join(words), "".join(reversed(words)) if len(words) == 2 else ""}:
            if len(joined) >= 8 and joined.isalpha():
                out.append((joined, "letters"))
    if kind == "name":  # spelt out letter by letter: C a r r a s c o, C.A.R.R.A.S.C.O
        out += [
            (" " + " ".join(w) + " ", "words")
            for w in words
            if len(w) >= 4 and w.isalpha() and w not in PARTICLES
        ]
    if kind == "name" and len(value.strip()) == 2 and "".join(words) in COMMON_PAIRS:
        # a name that is a common word of two letters alone (An, Do; not Zoë, read
        # "zo"): searched only inside the full name
        return out
    out.append((" " + " ".join(words) + " ", "words"))
    return out


# month names and their usual abbreviations, by language (English, German, Dutch,
# French, Spanish, Portuguese, Italian), written out here (not stagewall's tables)
_MONTHS_BY_LANGUAGE = {
    "en": "january february march april may june july august september october november december",
    "de": "januar februar marz april mai juni juli august september oktober november dezember",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "fr": "janvier fevrier mars avril mai juin juillet aout septembre octobre novembre decembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "pt": "janeiro fevereiro marco abril maio junho julho agosto setembro outubro novembro dezembro",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre "
    "dicembre",
}
_MONTH_SHORTS = {
    "en": "jan feb mar apr may jun jul aug sep oct nov dec",
    "de": "jan feb mar apr mai jun jul aug sep okt nov dez",
    "nl": "jan feb mrt apr mei jun jul aug sep okt nov dec",
    "fr": "janv fevr mars avr mai juin juil aout sept oct nov dec",
    "es": "ene feb mar abr may jun jul ago sep oct nov dic",
    "pt": "jan fev mar abr mai jun jul ago set out nov dez",
    "it": "gen feb mar apr mag giu lug ago set ott nov dic",
}
# other spellings people use: Sept, Jänner, Feber, März as Maerz or Mrz, Setiembre
_MONTH_MORE = {2: ["feber", "fev"], 1: ["janner"], 3: ["maerz", "mrz"], 9: ["sept", "setiembre"]}


def month_words(month: int) -> set[str]:
    """The words a month is written with in the languages above, as :func:`plain`
    reads them (accents gone, "ae" read "a": März, Maerz and Marz are one word)."""
    out = set(_MONTH_MORE.get(month, []))
    for table in (_MONTHS_BY_LANGUAGE, _MONTH_SHORTS):
        out |= {names.split()[month - 1] for names in table.values()}
    return {plain(w).strip() for w in out}


_DAY_WORDS = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
]


def _day_word(day: int) -> str:
    """An English day in words, as its words: ``sixth``, ``twenty sixth``."""
    if day < 20:
        return _DAY_WORDS[day - 1]
    tens = {2: "twent", 3: "thirt"}[day // 10]
    return f"{tens}ieth" if day % 10 == 0 else f"{tens}y {_DAY_WORDS[day % 10 - 1]}"


# days in words in the other languages, 1 to 31 (the first as people write it in a
# date: an ordinal); German also as ordinals with their endings (neunte, neunten, neunter)
_OTHER_DAYS = {
    "de": "erste zwei drei vier fünf sechs sieben acht neun zehn elf zwölf dreizehn vierzehn "
    "fünfzehn sechzehn siebzehn achtzehn neunzehn zwanzig einundzwanzig zweiundzwanzig "
    "dreiundzwanzig vierundzwanzig fünfundzwanzig sechsundzwanzig siebenundzwanzig "
    "achtundzwanzig neunundzwanzig dreißig einunddreißig",
    "de-ord": "erst zweit dritt viert fünft sechst siebt acht neunt zehnt elft zwölft dreizehnt "
    "vierzehnt fünfzehnt sechzehnt siebzehnt achtzehnt neunzehnt zwanzigst einundzwanzigst "
    "zweiundzwanzigst dreiundzwanzigst vierundzwanzigst fünfundzwanzigst "
    "sechsundzwanzigst siebenundzwanzigst achtundzwanzigst neunundzwanzigst dreißigst "
    "einunddreißigst",
    "nl": "eerste twee drie vier vijf zes zeven acht negen tien elf twaalf dertien veertien "
    "vijftien zestien zeventien achttien negentien twintig eenentwintig tweeëntwintig "
    "drieëntwintig vierentwintig vijfentwintig zesentwintig zevenentwintig achtentwintig "
    "negenentwintig dertig eenendertig",
    "nl-ord": "eerste tweede derde vierde vijfde zesde zevende achtste negende tiende elfde "
    "twaalfde dertiende veertiende vijftiende zestiende zeventiende achttiende negentiende "
    "twintigste eenentwintigste tweeëntwintigste drieëntwintigste vierentwintigste "
    "vijfentwintigste zesentwintigste zevenentwintigste achtentwintigste "
    "negenentwintigste dertigste eenendertigste",
    "fr": "premier deux trois quatre cinq six sept huit neuf dix onze douze treize quatorze "
    "quinze seize dix-sept dix-huit dix-neuf vingt vingt-et-un vingt-deux vingt-trois "
    "vingt-quatre vingt-cinq vingt-six vingt-sept vingt-huit vingt-neuf trente trente-et-un",
    "es": "primero dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce "
    "quince dieciséis diecisiete dieciocho diecinueve veinte veintiuno veintidós veintitrés "
    "veinticuatro veinticinco veintiséis veintisiete veintiocho veintinueve treinta "
    "treinta-y-uno",
    "pt": "primeiro dois três quatro cinco seis sete oito nove dez onze doze treze catorze "
    "quinze dezesseis dezessete dezoito dezenove vinte vinte-e-um vinte-e-dois vinte-e-três "
    "vinte-e-quatro vinte-e-cinco vinte-e-seis vinte-e-sete vinte-e-oito vinte-e-nove "
    "trinta trinta-e-um",
    "it": "primo due tre quattro cinque sei sette otto nove dieci undici dodici tredici "
    "quattordici quindici sedici diciassette diciotto diciannove venti ventuno ventidue "
    "ventitré ventiquattro venticinque ventisei ventisette ventotto ventinove trenta trentuno",
}
_OTHER_DAYS_MORE = {14: ["quatorze"], 16: ["dezasseis"], 17: ["dezassete"], 19: ["dezanove"]}


def other_day_words(day: int) -> set[str]:
    """``day`` in words in German, Dutch, French, Spanish, Portuguese and Italian, as
    :func:`plain` reads them, words apart (``vingt et un``, ``vinte e um``)."""
    out = set(_OTHER_DAYS_MORE.get(day, []))
    for lang, days in _OTHER_DAYS.items():
        w = days.split()[day - 1]
        out |= {w + end for end in ("e", "en", "er")} if lang == "de-ord" else {w}
    return {" ".join(plain(w.replace("-", " ")).split()) for w in out}


def _ordinal(day: int) -> str:
    if day % 100 in (11, 12, 13):
        return f"{day}th"
    return f"{day}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(day % 10, 'th') }"


def date_needles(value: Any) -> list[tuple[str, str]]:
    """(needle, "words") pairs of a date of birth (a ``date``, or text starting
    ``YYYY-MM-DD``): year-month-day (the year also of two digits: ``48-09-06``), day-month-year and month-day-year with or
    without leading zeros, the last two also with a two-digit year (``06/09/48``);
    day and year around a month's name or abbreviation in English, German, Dutch,
    French, Spanish, Portuguese or Italian (:func:`month_words`), either order, the
    day also an English ordinal (``6th``, ``the 6th of September``, ``September the
    6th``), French ``1er`` or ``1º`` (``1.º``) for the first, an English day in
    words (``sixth of September``, ``September twenty-sixth``) or in German, Dutch,
    French, Spanish, Portuguese or Italian words (``neunten März``, ``vinte e um de
    março``, :func:`other_day_words`), with ``de`` between (``6 de
    septiembre de 1948``, ``del``), four- or two-digit year. Any separators: the
    cell's words are compared (a year written ``'48`` is the word ``48``). Compact, one
    word of digits with leading zeros: ``19480906``, ``06091948``, ``09061948``, and with a
    two-digit year year first or day first, ``480906``, ``060948``."""
    import datetime as dt

    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, str):
        m = re.match(r"(\d{4})-(\d\d)-(\d\d)", value)
        value = dt.date(int(m[1]), int(m[2]), int(m[3])) if m else None
    if not isinstance(value, dt.date):
        return []
    y, mo, d = str(value.year), value.month, value.day
    years = {y, y[2:]}
    days, months = {str(d), f"{d:02d}"}, {str(mo), f"{mo:02d}"}
    seqs: list[tuple[str, ...]] = [(y, a, b) for a in months for b in days]
    seqs += [(y[2:], a, b) for a in months for b in days]  # 48-09-06
    seqs += [(b, a, yy) for a in months for b in days for yy in years]
    seqs += [(a, b, yy) for a in months for b in days for yy in years]
    dd, mm = f"{d:02d}", f"{mo:02d}"
    seqs += [(y + mm + dd,), (dd + mm + y,), (mm + dd + y,), (y[2:] + mm + dd,), (dd + mm + y[2:],)]
    names = month_words(mo)
    said = days | {_ordinal(d), _day_word(d)} | ({"1er", "1o", "1 o"} if d == 1 else set())
    said |= other_day_words(d)
    for n in names:
        for yy in years:
            for b in said:
                seqs += [(b, n, yy), (n, b, yy), (b, "of", n, yy), (n, "the", b, yy)]
                seqs += [(b, "de", n, "de", yy), (b, "de", n, "del", yy), (b, "de", n, yy)]
                seqs += [(n, b, "de", yy)]
    return [(f" {' '.join(s)} ", "words") for s in sorted(set(seqs))]


def _plural_ends(last: str) -> list[str]:
    """English plural endings of a surname: -s (not after s), -es after s, x, z, ch, sh."""
    return ([] if last.endswith("s") else ["s"]) + (
        ["es"] if re.search(r"(?:s|x|z|ch|sh)$", last) else []
    )


def _prefix_login(word: str, needle: str) -> bool:
    """``word`` is a login of the given name's first letters (two or more) glued to
    the last name, either side, digits after: ``yecarrasco``, ``carrascoyes7``."""
    first, last = needle.split("|")
    head = "|".join(re.escape(first[:k]) for k in range(len(first), 1, -1))
    return re.fullmatch(rf"(?:{head}){last}\d*|{last}(?:{head})\d*", word) is not None


def holds(text: str, mine: list[tuple[str, str]]) -> bool:
    """True when ``text`` holds one of the :func:`needles` ``mine`` (URL-encoded
    characters decoded: a link's ``jane%40corp.example`` is an e-mail, and JSON
    ``\\u`` escapes: ``M\\u00fcller`` in JSON text written ASCII-only is Müller).
    URL-encoded bytes are read as UTF-8 and, apart, as Latin-1 (``M%FCller``)."""
    return any(
        _holds(re.sub(r"(?:\\u[0-9A-Fa-f]{4})+", _json_chars, unquote(reading, encoding)), mine)
        for encoding in ("utf-8", "latin-1")
        for reading in _readings(text)
    )


def _readings(text: str) -> set[str]:
    """``text``, and as it reads with HTML character references decoded, with HTML
    tags as spaces, with JSON's one-letter escapes (``\\n`` written as two characters) as line breaks, and with a word hyphenated at a line's or a
    space's end put together (``Carras-`` newline ``co`` is Carrasco); each of those
    also with letters and the digits after them apart (``carrasco87`` is a login of
    Carrasco, ``D10115`` a postcode behind its country) and with every base64 token
    that decodes to UTF-8 text decoded (:func:`_unbase64`)."""
    unescaped = re.sub(r"\\[nrtbf]", "\n", text)
    joined = re.sub(r"(?<=[^\W\d_])-(?:[ \t]*\r?\n[ \t]*|[ \t]+)(?=[^\W\d_])", "", unescaped)
    # and with HTML character references read (Ganth&#114;iv, jane&#64;corp.example),
    # and HTML tags as spaces (Calle Mayor <b>7</b>, <td>Calle Mayor</td><td>7</td>)
    out = {text, unescaped, joined, html.unescape(text), re.sub(r"<[^<>]*>", " ", text)}
    # and with HTML tags as nothing, a tag inside a word (Gan<b>thriv</b>, Yé<i>sica</i>)
    out.add(re.sub(r"<[^<>]*>", "", text))
    out |= {re.sub(r"([^\W\d_])(?=\d)", r"\1 ", t) for t in list(out)}
    out |= {_unbase64(t) for t in list(out)}
    return out


def _unbase64(text: str) -> str:
    """``text`` with each run of 12 or more base64 characters (either alphabet) that
    decodes to UTF-8 text replaced by that text, between spaces."""

    def one(m: re.Match[str]) -> str:
        token = m.group().rstrip("=").replace("-", "+").replace("_", "/")
        try:
            got = base64.b64decode(token + "=" * (-len(token) % 4)).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            got = ""
        if got.isprintable() and got:
            return f" {got} "
        # a value's bytes inside a longer token (binary bytes around them), or a
        # piece cut out of one: read from each of the four first characters, the
        # runs of eight printable characters or more
        pieces = []
        for start in range(4):
            part = token[start:]
            part = part[: len(part) // 4 * 4 + (len(part) % 4 if len(part) % 4 > 1 else 0)]
            try:
                raw = base64.b64decode(part + "=" * (-len(part) % 4))
            except ValueError:
                continue
            text = raw.decode("utf-8", "replace")
            pieces += [p for p in re.split(r"[^\w \-.,;:=@+/!?#$%&*()'\"<>\[\]{}|~^`]", text)
                       if len(p) >= 8]  # fmt: skip
        return f" {m.group()} {' '.join(pieces)} " if pieces else m.group()

    return re.sub(r"[A-Za-z0-9+/_-]{12,}={0,2}", one, text)


def _holds(text: str, mine: list[tuple[str, str]]) -> bool:
    words = plain(text)
    ws = words.split()
    hay = {
        "words": words,
        "letters": words.replace(" ", ""),
        "digits": _digits(text),
        "pairs": f" {' '.join(ws + [a + b for a, b in pairwise(ws)])} ",
    }
    glued = [n for n, where in mine if where == "glued"]
    if glued and any(_glued(w, n) for w in ws for n in glued):
        return True
    inside = [n for n, where in mine if where == "inside"]
    if inside and any(_inside(words, n) for n in inside):
        return True
    stems = [n for n, where in mine if where == "stem"]
    if stems and any(_stem(w, n) for w in ws for n in stems):
        return True
    if any(_named(words, n) for n, where in mine if where == "named"):
        return True
    if any(_marked(words, n) for n, where in mine if where == "marked"):
        return True
    cores = [n for n, where in mine if where == "core"]
    if cores and any(w == n for w in ws for n in cores):
        return True
    compounds = [n for n, where in mine if where == "compound"]
    if compounds and any(_compound(w, n) for w in ws for n in compounds):
        return True
    prefixes = [n for n, where in mine if where == "prefix"]
    if prefixes and any(_prefix_login(w, n) for w in ws for n in prefixes):
        return True
    if any(where == "login" for _, where in mine):
        logins = [n for n, where in mine if where == "login"]
        if any(_login(w, n) for w in ws for n in logins):
            return True
    return any(
        n in hay[where]
        for n, where in mine
        if where
        not in ("login", "stem", "prefix", "named", "marked", "glued", "core", "compound", "inside")
    )


def _json_chars(m: re.Match[str]) -> str:
    """A run of JSON ``\\u`` escapes as its characters (surrogate pairs joined)."""
    units = bytes.fromhex(m.group().replace("\\u", ""))
    return units.decode("utf-16-be", "replace")


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    u = urlparse(url)
    if u.scheme == "sqlite":
        conn = sqlite3.connect(url[len("sqlite:///") :])
        try:
            return list(conn.execute(sql))
        finally:
            conn.close()
    if u.scheme.startswith("postgres"):
        import psycopg

        with psycopg.connect(url) as conn:
            return list(conn.execute(sql.encode()).fetchall())
    import pymysql

    conn2 = pymysql.connect(
        host=u.hostname,
        port=u.port or 3306,
        user=u.username or "root",
        password="",
        database=u.path.lstrip("/"),
        charset="utf8mb4",
    )
    with conn2:
        cur = conn2.cursor()
        cur.execute(sql.replace('"', "`"))
        return list(cur.fetchall())


def survivors(
    source: str,
    target: str,
    parent: str,
    sensitive: dict[str, str],
    texts: dict[str, list[str]],
    refs: dict[str, str],
    key: str = "id",
    logins: tuple[str, ...] = (),
    plan: Any = None,
) -> dict[str, int]:
    """Cells per ``table.column`` of the target holding a value of their own row.

    ``plan``: the plan the copy was made with (needed when ``sensitive`` holds
    names): the columns it gives ``last_name`` are surnames (also searched
    shortened and glued to digits, :func:`stem_needles`; a ``full_name``'s last
    word too), those it gives ``first_name`` given names (written before the
    surnames in the full name the row's name columns make, whatever their order).

    ``logins``: the ``table.column`` cells also searched for the row's names inside a
    login or mailbox (:func:`login_needles`); meant for columns copied as they are (a
    scrubbed column's pseudonym e-mails are made of dictionary names).

    ``parent``: the table with the personal data, keyed by ``key``; ``sensitive``:
    its columns → kind ("name", "email", "phone", "street", "postcode");
    ``texts``: table → its text columns to search; ``refs``: table → the column
    holding the parent's key (``key`` itself for the parent), or a parenthesised
    subquery giving it for a row further down (a grandchild's, through its parent).
    """
    cols = list(sensitive)
    planned = _planned(plan, parent, [c for c in cols if sensitive[c] == "name"])
    values: dict[Any, list[tuple[str, str]]] = {}
    login_values: dict[Any, list[tuple[str, str]]] = {}
    for row in _rows(
        source,
        f'SELECT "{key}", {", ".join(f"{chr(34)}{c}{chr(34)}" for c in cols)} FROM "{parent}"',
    ):
        found: list[tuple[str, str]] = []
        for c, v in zip(cols, row[1:], strict=True):
            if sensitive[c] == "date":
                found += date_needles(v)
            elif isinstance(v, str) and v:
                found += needles(sensitive[c], v)
                if planned.get(c) == "last_name":  # a surname, whatever its column's name
                    found += stem_needles(v) + needles("surname", v)
                elif planned.get(c) == "full_name":  # a full name's last word
                    found += stem_needles(" ".join(plain(v).split()[-1:]))
        # a given name and a surname of two columns written as one name, in column
        # order and with the given names first (a table of apellido, nombre)
        named = [(c, v) for c, v in zip(cols, row[1:], strict=True) if sensitive[c] == "name" and v]
        names = [v for _, v in named]
        if len(names) > 1:
            given = [v for c, v in named if planned.get(c) == "first_name"]
            others = [v for c, v in named if planned.get(c) != "first_name"]
            fulls = [" ".join(names), " ".join(given + others)]
            # a surname of two words (Carrasco-Ruiz): each with the given names alone
            # (ycarrasco, jmcarrasco: the login of the initials and the first surname)
            for c, v in named:
                parts = [w for w in plain(v).split() if w not in PARTICLES]
                if planned.get(c) == "last_name" and given and len(parts) > 1:
                    fulls += [" ".join([*given, w]) for w in parts]
            for full in dict.fromkeys(fulls):
                found += needles("name", full)
        values[str(row[0])] = found
        login_values[str(row[0])] = login_needles([v for v in names if isinstance(v, str)])
    out: dict[str, int] = {}
    for table, tcols in texts.items():
        ref = refs[table] if refs[table].startswith("(") else f'"{refs[table]}"'
        sel = ", ".join([ref, *(f'"{c}"' for c in tcols)])
        for row in _rows(target, f'SELECT {sel} FROM "{table}"'):
            mine = values.get(str(row[0]), [])
            for c, cell in zip(tcols, row[1:], strict=True):
                text = _text_of(cell)
                also = login_values.get(str(row[0]), []) if f"{table}.{c}" in logins else []
                if text is not None and holds(text, mine + also):
                    out[f"{table}.{c}"] = out.get(f"{table}.{c}", 0) + 1
    return out


def _planned(plan: Any, table: str, columns: list[str]) -> dict[str, str]:
    """The transformer ``plan`` gives each of ``columns`` of ``table`` (its bare name):
    a surname is a column planned as ``last_name`` whatever the column is called
    (``family_name``, ``apellido``, ``nachname``, ``lname2``). Read from the plan's
    own fields, not through stagewall's code. Without a plan there is no telling
    which name is a surname: a caller searching names must pass one."""
    if not columns:
        return {}
    if plan is None:
        raise TypeError(f"survivors: name columns of {table} need the plan (plan=...)")
    mine = [t for q, t in plan.tables.items() if q.rsplit(".", 1)[-1].strip('"`') == table]
    if not mine:
        raise TypeError(f"survivors: the plan has no table {table}")
    return {c: cp.transformer for c, cp in mine[0].columns.items() if c in columns}


def _text_of(cell: Any) -> str | None:
    """A target cell as text (bytes decoded, JSON serialised), None for NULL."""
    if cell is None:
        return None
    if isinstance(cell, (bytes, memoryview)):
        cell = bytes(cell).decode("utf-8", "replace")
    return cell if isinstance(cell, str) else json.dumps(cell, ensure_ascii=False)


def survivors_anywhere(
    source: str,
    target: str,
    parent: str,
    sensitive: dict[str, str],
    texts: dict[str, list[str]],
    where: str | None = None,
    full_names: tuple[str, ...] | None = None,
) -> dict[str, int]:
    """Cells per ``table.column`` of the target holding a source value of *any* row of
    ``parent`` (its columns ``sensitive`` → kind), whether or not the cell's row is
    linked to it: the copies only the detector can find (a log line, a note in a
    table without a foreign key). Meant for kinds whose values identify on their
    own (phones, e-mails, IBANs, cards), not for names — unless ``where`` (an SQL
    condition on ``parent``) picks the rows whose names do (a surname no list
    knows: every other row's name may be a pseudonym's too). Kind ``surname``: the
    value as a word, in the plural, glued to digits (:func:`glued_needles`) and, six
    letters or more, inside any run of letters (:func:`inside_needles`);
    ``full name``: so each of its words that may be a surname
    (:func:`full_name_surnames`); ``street core``: a street's name alone, as a word or
    with a street ending glued on (:func:`street_core_needles`); ``city``: a word of a
    city's name, as a word (:func:`city_needles`). ``full_names`` (a first-name and a
    last-name column of ``parent``, or one full-name column): also two words of each
    row's name written side by side, in either order, any case, any spacing, a
    comma or none between, or its initial beside a surname
    (:func:`full_name_pattern`)."""
    cols = list(sensitive)
    quoted = ", ".join(f'"{c}"' for c in cols)
    every: list[tuple[str, str]] = []
    cond = f" WHERE {where}" if where else ""
    for row in _rows(source, f'SELECT {quoted} FROM "{parent}"{cond}') if cols else ():
        for c, v in zip(cols, row, strict=True):
            if not isinstance(v, str) or not v:
                continue
            if sensitive[c] == "full name":  # each word that may be a surname
                for w in full_name_surnames(v):
                    if len(w) >= 4 and w not in PARTICLES:
                        every += needles("surname", w) + needles("name", w) + glued_needles(w)
                        every += inside_needles(w)
                continue
            if sensitive[c] == "city":  # a word of its name, as a word
                every += city_needles(v)
                continue
            if sensitive[c] == "street core":  # its name alone, or glued to an ending
                every += street_core_needles(v)
                continue
            every += needles(sensitive[c], v)
            if sensitive[c] == "surname":  # the surname as a word, its plural, glued
                every += needles("name", v) + glued_needles(v) + inside_needles(v)
    mine = list(dict.fromkeys(every))
    written: list[tuple[re.Pattern[str], re.Pattern[str] | None]] = []
    if full_names is not None:
        quoted_names = ", ".join(f'"{c}"' for c in full_names)
        for got in _rows(source, f'SELECT {quoted_names} FROM "{parent}"{cond}'):
            if len(got) == 3:  # first, middle (may be empty), last name columns
                got = (" ".join(v for v in got[:2] if isinstance(v, str)), got[2])
            if all(isinstance(v, str) and v.strip() for v in got):
                if len(got) == 1:  # one full-name column: its first word, then the rest
                    words = _spelt(got[0]).split()
                    if words and words[0].rstrip(".") in _TITLES:
                        words = words[1:]
                    if len(words) >= 2:
                        written.append(full_name_pattern(words[0], " ".join(words[1:])))
                else:
                    written.append(full_name_pattern(got[0], got[1]))
    out: dict[str, int] = {}
    for table, tcols in texts.items():
        sel = ", ".join(f'"{c}"' for c in tcols)
        for row in _rows(target, f'SELECT {sel} FROM "{table}"'):
            hits = [
                c
                for c, cell in zip(tcols, row, strict=True)
                if _holds_cell(cell, mine) or _writes_full_name(cell, written)
            ]
            for c in hits:
                out[f"{table}.{c}"] = out.get(f"{table}.{c}", 0) + 1
    return out


def _spelt(text: str) -> str:
    """``text`` case-folded, accents and invisible characters gone, look-alike letters
    read as Latin, its punctuation and spacing kept (unlike :func:`plain`)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LOOKS_LATIN))
    return "".join(
        ch
        for ch in decomposed
        if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf"
    ).translate(_BARE)


# titles passed over before a one-column full name; kept apart from stagewall's
_TITLES = {"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "mx", "herr", "frau"}
_LONE = r"(?<![^\W_])(?<![^\W_]['\u2019-])"  # no letter, digit, o' or x- before
_ENDS = r"(?![^\W_])"


def _cased(text: str) -> str:
    """``text`` without accents and invisible characters, its case kept."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(
        ch
        for ch in decomposed
        if not unicodedata.combining(ch) and unicodedata.category(ch) != "Cf"
    )


def full_name_pattern(first: str, last: str) -> tuple[re.Pattern[str], re.Pattern[str] | None]:
    """A person's name written in a text, as two patterns: the first for the text
    folded (:func:`_spelt`), two words of the name side by side, either order, any
    case, spaces or a comma between, each a whole word: two adjacent words of the
    whole name (``maria jose``, ``jose carrasco``, ``carrasco perez``) or a given
    name with a surname word (``maria carrasco``, ``perez, maria``, ``jose perez``);
    the second for the text with its case (:func:`_cased`), the first given name's
    initial, a capital, beside a surname word: ``T. Berger``, ``T.Berger``, ``Berger,
    T.``, ``BERGER T.`` (any case after a period), ``T Berger``, ``Berger T`` (a
    capitalised surname; a bare ``A`` or ``I`` is a word); particles left out; and a
    given name then a surname word with a middle name or the surname's particles
    between (:func:`_between_patterns`)."""
    given = _parted(_spelt(first).split())
    sur = _parted(_spelt(last).split())
    two = set(pairwise(given + sur)) | {(g, w) for g in given for w in sur}
    # the initials of a hyphenated first given name's parts glued (``JP``) beside
    # each surname word
    two |= {
        ("".join(p[0] for p in w.split("-") if p), s)
        for w in _spelt(first).split()[:1]
        if "-" in w
        for s in sur
    }
    between = r"(?:\s+|\s*,\s*)"
    alts = [f"{re.escape(a)}{between}{re.escape(b)}" for x, y in two for a, b in ((x, y), (y, x))]
    words = re.compile(rf"(?<!\w)(?:{'|'.join(alts)})(?!\w)") if alts else re.compile(r"(?!)")
    if not given or not sur:
        return words, None
    cap = _cased(first).strip()[0].upper()
    init = re.escape(cap)
    # up to two middle initials (a period after each, or, before a capitalised
    # surname, spaces; a bare A or I is a word), then particles, may come between
    # the initial and the surname; one to three such initials between a given name
    # and a surname word (the pairs above) name the person too
    dotted, spaced = r"[A-Z]\.\s*", r"(?:[A-Z]\.\s*|[B-HJ-Z]\s+)"
    parts = rf"(?:(?i:{'|'.join(sorted(PARTICLES))})\s+)*"
    inits: list[str] = []
    for w in sur:
        anycase = f"(?i:{re.escape(w)})"
        capital = f"{re.escape(w[0].upper())}(?i:{re.escape(w[1:])})"
        inits += [
            rf"{_LONE}{init}\.\s*(?:{dotted}){{0,2}}{parts}{anycase}{_ENDS}",
            rf"{_LONE}{init}\.\s*{spaced}{{0,2}}{parts}{capital}{_ENDS}",
            rf"{_LONE}{anycase}{between}{init}\.",
        ]
        if cap not in "AI":
            inits += [
                rf"{_LONE}{init}\s+{spaced}{{0,2}}{parts}{capital}{_ENDS}",
                rf"{_LONE}{capital}{between}{init}{_ENDS}(?!['\u2019-][^\W_])",
            ]
    for x, y in two:
        for a, b in ((x, y), (y, x)):
            if b in sur:
                given_word = rf"{_LONE}(?i:{re.escape(a)})\s+"
                inits += [
                    rf"{given_word}(?:{dotted}){{1,3}}{parts}(?i:{re.escape(b)}){_ENDS}",
                    rf"{given_word}{spaced}{{1,3}}{parts}{re.escape(b[0].upper())}"
                    rf"(?i:{re.escape(b[1:])}){_ENDS}",
                ]
    inits += _between_patterns(given, _spelt(last).replace("-", " ").split())
    return words, re.compile("|".join(inits))


def _parted(words: list[str]) -> list[str]:
    """``words`` with a hyphenated one read as its parts (``jean-pierre``: ``jean``,
    ``pierre``), particles and one-letter words left out."""
    out = [p for w in words for p in w.split("-")]
    return [w for w in out if w not in PARTICLES and len(w) >= 2]


# words that are no middle name between a given name and a surname (the checker's
# own short list: connectives, articles and prepositions of the supported languages)
_NO_MIDDLE = {"and", "or", "the", "of", "to", "for", "with", "from", "not", "but", "nor"}
_NO_MIDDLE |= {"und", "oder", "et", "ou", "y", "o", "e", "ed", "en", "og", "vs", "per"}
_NO_MIDDLE |= {"a", "an", "at", "in", "on", "by", "as", "is", "was", "are", "were"}


def _given_names() -> list[str]:
    """Lower-case given names of a few of Faker's locales (the checker's own list):
    a lower-case middle name between a given name and a surname is one of these."""
    import importlib

    out: set[str] = set()
    for loc in ("en_US", "en_GB", "pl_PL", "de_DE", "fr_FR", "es_ES", "it_IT"):
        p = importlib.import_module(f"faker.providers.person.{loc}").Provider
        for attr in ("first_names", "first_names_male", "first_names_female"):
            for w in getattr(p, attr, ()) or ():
                w = _spelt(w)
                if re.fullmatch(r"[a-z]{2,}", w) and w not in _NO_MIDDLE:
                    out.add(w)
    return sorted(out, key=lambda w: (-len(w), w))


_GIVEN: list[str] = []


def _between_patterns(given: list[str], last: list[str]) -> list[str]:
    """Patterns (for the text with its case) of a given name then a surname word with
    words between, spaces only: a middle name (a capital, then letters, two letters
    or more, no particle nor word of :data:`_NO_MIDDLE`: ``Tomasz Karol Berger``,
    ``TOMASZ KAROL BERGER``), the particles the surname has right before that word
    (``tomasz van berg``), or a middle name and then those particles."""
    runs: list[tuple[list[str], str]] = []
    before: list[str] = []
    for w in last:
        if w in PARTICLES:
            before.append(w)
            continue
        if len(w) >= 2:
            runs.append((before, w))
        before = []
    if not _GIVEN:
        _GIVEN.extend(_given_names())
    stop = "|".join(sorted(_NO_MIDDLE | PARTICLES))
    # a middle name: capitalised, or a given name in lower case; one or two
    middle = rf"(?:(?!(?i:{stop})\s)[A-Z][A-Za-z]+|(?:{'|'.join(_GIVEN)})(?![A-Za-z]))\s+"
    # between a capitalised given name and surname, any one or two words
    lower = rf"(?:(?!(?:{stop})\s)[a-z][a-z]+\s+)"
    out: list[str] = []
    for g in given:
        for parts, w in runs:
            head = rf"{_LONE}(?i:{re.escape(g)})\s+"
            tail = rf"(?i:{re.escape(w)}){_ENDS}"
            if parts:
                run = "".join(rf"(?i:{re.escape(p)})\s+" for p in parts)
                out.append(rf"{head}(?:{middle}){{0,2}}{run}{tail}")
            else:
                out.append(rf"{head}(?:{middle}){{1,2}}{tail}")
            cap_head = rf"{_LONE}{re.escape(g[0].upper())}(?i:{re.escape(g[1:])})\s+"
            cap_tail = rf"{re.escape(w[0].upper())}(?i:{re.escape(w[1:])}){_ENDS}"
            run = "".join(rf"(?i:{re.escape(p)})\s+" for p in parts)
            out.append(rf"{cap_head}(?:{middle}|{lower}){{1,2}}{run}{cap_tail}")
    return out


def _writes_full_name(
    cell: Any, patterns: list[tuple[re.Pattern[str], re.Pattern[str] | None]]
) -> bool:
    if not patterns:
        return False
    text = _text_of(cell)
    if text is None:
        return False
    text = re.sub(r"(?:\\u[0-9A-Fa-f]{4})+", _json_chars, text)  # JSON written ASCII-only
    spelt, cased = _spelt(text), _cased(text)
    return any(w.search(spelt) or (i is not None and i.search(cased)) for w, i in patterns)


def _holds_cell(cell: Any, mine: list[tuple[str, str]]) -> bool:
    text = _text_of(cell)
    return text is not None and holds(text, mine)


def survivors_down(
    source: str,
    target: str,
    child: str,
    fk: str,
    sensitive: dict[str, str],
    texts: dict[str, list[str]],
    key: str = "id",
) -> dict[str, int]:
    """Cells per ``table.column`` of the target holding a value of a row that
    references their own row: ``child``'s rows reference the tables of ``texts``
    (keyed by ``key``) through their column ``fk``; ``sensitive``: ``child``'s
    columns → kind. (An account's notes naming one of its contacts.)"""
    cols = list(sensitive)
    values: dict[str, list[tuple[str, str]]] = {}
    quoted = ", ".join(f'"{c}"' for c in cols)
    for row in _rows(source, f'SELECT "{fk}", {quoted} FROM "{child}"'):
        if row[0] is None:
            continue
        mine = values.setdefault(str(row[0]), [])
        for c, v in zip(cols, row[1:], strict=True):
            if isinstance(v, str) and v:
                mine += needles(sensitive[c], v)
    out: dict[str, int] = {}
    for table, tcols in texts.items():
        sel = ", ".join([f'"{key}"', *(f'"{c}"' for c in tcols)])
        for row in _rows(target, f'SELECT {sel} FROM "{table}"'):
            mine = values.get(str(row[0]), [])
            for c, cell in zip(tcols, row[1:], strict=True):
                if isinstance(cell, str) and holds(cell, mine):
                    out[f"{table}.{c}"] = out.get(f"{table}.{c}", 0) + 1
    return out


def definition_survivors(target: str, values: list[str]) -> dict[str, str]:
    """Schema objects of the target (tables, views, triggers, routines, defaults)
    whose definition holds one of ``values`` as a whole word: object → the value."""
    scheme = urlparse(target).scheme
    if scheme == "sqlite":
        sql = "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"
    elif scheme.startswith("postgres"):
        sql = (
            "SELECT proname, prosrc FROM pg_proc WHERE pronamespace = 'public'::regnamespace "
            "UNION ALL SELECT table_name || '.' || column_name, column_default "
            "FROM information_schema.columns WHERE table_schema = 'public' "
            "AND column_default IS NOT NULL "
            "UNION ALL SELECT viewname, definition FROM pg_views WHERE schemaname = 'public'"
        )
    else:
        sql = (
            "SELECT TRIGGER_NAME, ACTION_STATEMENT FROM information_schema.TRIGGERS "
            "WHERE TRIGGER_SCHEMA = DATABASE() UNION ALL "
            "SELECT CONCAT(TABLE_NAME, '.', COLUMN_NAME), COLUMN_DEFAULT "
            "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
            "AND COLUMN_DEFAULT IS NOT NULL"
        )
    out: dict[str, str] = {}
    for name, text in _rows(target, sql):
        body = text.decode() if isinstance(text, bytes) else str(text)
        for v in values:
            if re.search(rf"(?<![\w.]){re.escape(v)}(?![\w.])", body, re.IGNORECASE):
                out[str(name)] = v
    return out
