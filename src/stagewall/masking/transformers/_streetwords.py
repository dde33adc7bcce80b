"""The street words of the locales stagewall reads, with their abbreviations.

One table for both sides: text_scrub's street detector
(``classify/_addresses.py``) builds its street-word alternatives from it, and the
row's own street (``_known._patterns_of``, which text_scrub and verify share) is
also searched with each of its street words written the other way (``Calle Mayor
7`` as ``C/ Mayor 7``, ``Hauptstraße 5`` as ``Hauptstr. 5``, ``5 Elm Road`` as ``5
Elm Rd``). Each entry: a full street word → its abbreviations as people write them
(the detector's regex matches these written forms; the known-value search reads
their words, ``c/`` as ``c``). Order is the detector's alternation order.
"""

from __future__ import annotations

# 12 High Street, 222 Ganthriv Lane, 5B Elm Rd. (English: the word after the name)
EN_STREET_WORDS: dict[str, tuple[str, ...]] = {
    "Street": ("St",),
    "Road": ("Rd",),
    "Avenue": ("Ave",),
    "Lane": ("Ln",),
    "Drive": ("Dr",),
    "Boulevard": ("Blvd",),
    "Way": (),
    "Court": ("Ct",),
    "Place": ("Pl",),
    "Terrace": (),
    "Close": (),
    "Crescent": ("Cres",),
    "Highway": ("Hwy",),
    "Parkway": ("Pkwy",),
    "Square": ("Sq",),
    "Row": (),
    "Gardens": (),
    "Grove": (),
    "Hill": (),
    "Mews": (),
    "Walk": (),
    "Circle": ("Cir",),
    "Trail": (),
    "Alley": (),
}

# Hauptstraße 5, Lindenweg 12a, Keizersgracht 123 (German, Dutch: the end of the
# name's last word, or a word of its own: Berliner Straße 5)
DE_NL_STREET_SUFFIXES: dict[str, tuple[str, ...]] = {
    "straße": ("str.",),
    "strasse": ("str.",),
    "weg": (),
    "gasse": (),
    "platz": (),
    "allee": (),
    "ring": (),
    "damm": (),
    "ufer": (),
    "straat": ("str.",),
    "laan": (),
    "gracht": (),
    "plein": (),
    "kade": (),
    "steeg": (),
    "dijk": (),
    "singel": (),
}

# Calle Mayor 7, 3 rue de la Paix, Via Roma 12, Avenida de América, 10 (French,
# Spanish, Catalan, Italian, Portuguese: the word before the name)
ROMANCE_STREET_WORDS: dict[str, tuple[str, ...]] = {
    "rue": (),
    "avenue": ("av.",),
    "boulevard": ("bd",),
    "chemin": (),
    "allée": (),
    "impasse": (),
    "place": (),
    "quai": (),
    "calle": ("c/",),
    "avenida": ("av.", "avda."),
    "paseo": (),
    "plaza": (),
    "carrer": (),
    "camino": (),
    "ronda": (),
    "via": (),
    "viale": (),
    "piazza": (),
    "corso": (),
    "vicolo": (),
    "largo": (),
    "rua": (),
    "travessa": (),
    "praça": (),
}

# Street words the row's own street is also searched with (written the other way, as
# the tables above are), which the street detector does not take: too short to read
# alone in any text (French ``r.`` for ``rue``: ``12 r. de Rivoli``), or of a locale it
# does not read (Polish ``ulica``, ``ul.``: ``ul. Długa 5``). Only the row's own street's
# name next to them is searched.
KNOWN_STREET_WORDS: dict[str, tuple[str, ...]] = {
    "rue": ("r.",),
    "ulica": ("ul.",),
}


# The street words a row's own street may be written with instead of its own (its
# street word swapped, ``Ganthriv Road`` for ``14 Ganthriv Lane``, ``Avenida Mayor``
# for ``Calle Mayor 7``, or abbreviated in a way the tables above do not list: ``Cl.
# Mayor``, ``Pza. Mayor``, ``Ganthriv Rd.``), as words (lower case, without their
# dots): the row's own street's name words (its core) are searched right after one
# of SWAP_BEFORE (the Romance order; small words such as ``de`` may stand between)
# and right before one of SWAP_AFTER (English, German, Dutch). Words that are also
# ordinary English next to a name (way, row, walk, close, hill, court, place, drive,
# square, dr, ave before a name: "Ave Maria") are left out: "the High Court", "the
# main square" of a row on High Street or Main Street are no street of theirs.
SWAP_BEFORE: tuple[str, ...] = (
    *("calle", "cl", "clle", "cll", "c", "avenida", "avda", "avd", "av", "avinguda"),
    *("avgda", "paseo", "pso", "plaza", "pza", "plza", "pl", "carrer", "camino", "cno"),
    *("ronda", "rda", "carretera", "ctra", "travesia", "trva", "glorieta", "gta"),
    *("pasaje", "pje", "rambla", "bulevar", "blvr", "via", "viale", "vle", "vicolo"),
    *("corso", "piazza", "pzza", "largo", "rua", "travessa", "tv", "praca", "rue"),
    *("chemin", "impasse", "imp", "quai", "allee", "boulevard", "bd", "bld", "bvd"),
    "avenue",
    "r",
    "ulica",
    "ul",
)
SWAP_AFTER: tuple[str, ...] = (
    *("street", "st", "road", "rd", "lane", "ln", "avenue", "ave", "av", "boulevard"),
    *("blvd", "bd", "highway", "hwy", "parkway", "pkwy", "alley", "terrace", "tce"),
    *("crescent", "cres", "mews", "straße", "strasse", "str", "weg", "gasse", "platz"),
    *("pl", "allee", "damm", "ufer", "ring", "straat", "laan", "gracht", "plein"),
    *("kade", "steeg", "dijk", "singel"),
)


def written_forms(table: dict[str, tuple[str, ...]]) -> list[str]:
    """Every word of ``table``, each full word followed by its abbreviations, once."""
    return list(dict.fromkeys(w for full, short in table.items() for w in (full, *short)))


__all__ = [
    "DE_NL_STREET_SUFFIXES",
    "EN_STREET_WORDS",
    "KNOWN_STREET_WORDS",
    "ROMANCE_STREET_WORDS",
    "SWAP_AFTER",
    "SWAP_BEFORE",
    "written_forms",
]
