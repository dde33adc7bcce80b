"""Two-letter words too common to search as a person's name part on their own.

A name part of two letters (``Ng``, ``Xu``, ``Li``, ``Wu``, ``Vu``: very common
Chinese, Vietnamese and Korean surnames and given names) is searched as a whole
word in its own row's text (``_known.name_parts``: text_scrub and verify share
it), except the folded two-letter words below, which are common words in the
languages stagewall supports (English, German, French, Spanish, Portuguese,
Italian, Dutch) or abbreviations people write in notes. Searched alone they would
make text_scrub replace an article or a pronoun in the note of every customer
so named (``Do`` and ``An``, Vietnamese names, are English words; ``Le`` is
French). Such a part is searched as before: inside the row's full name
(``Anh Le``, ``Le Van An``) and, by the free-text name detector, after a title
(``Ms. Le``).

Reviewed choices: ``li``, ``ho``, ``vu`` and ``ed`` are *not* listed although
Italian ``li``/``lì``, ``ho`` and ``ed`` and French ``vu`` are words: Li, Ho and Vu
are among the most common surnames in the world and Ed a common given name, a
false hit costs only a replaced word in the note of the one person so named,
while a listed part leaks. ``ha`` (Spanish, Italian, Portuguese ``ha``/``há``) and
``oh`` are listed: far more frequent in running text than as names. So are ``ma``
(French, Italian) and ``he`` (English, Spanish), although Ma and He are common
Chinese surnames: each is among the most frequent words of its languages, so
searched alone it would replace a pronoun or a conjunction in nearly every note
of a person so named; ``Ma Wei`` and ``Mr. He`` are still found.

The entries are folded as :func:`~stagewall.masking.transformers._known.fold`
folds (lower case, accents stripped: ``tú`` is ``tu``, ``où`` is ``ou``).
tests/masking/survivors.py keeps its own, independent list.
"""

from __future__ import annotations

COMMON_TWO_LETTER_WORDS = frozenset(
    # English
    {"ah", "am", "an", "as", "at", "aw", "ax", "be", "by", "do", "eh", "go", "ha", "he"}
    | {"hi", "hm", "id", "if", "in", "is", "it", "me", "my", "no", "of", "oh", "ok", "on"}
    | {"or", "ox", "so", "to", "uh", "um", "up", "us", "we", "ye", "yo"}
    # English abbreviations in notes (Mr, Dr, St, No. 5, e.g., i.e., p.m., P.S., Re:)
    | {"mr", "ms", "dr", "st", "nr", "vs", "eg", "ie", "pm", "ps", "re", "cc", "fw", "tv"}
    | {"uk", "eu", "pc", "hr", "qa", "it"}
    # German
    | {"ab", "an", "am", "da", "du", "eh", "ei", "er", "es", "im", "in", "ja", "je", "ob"}
    | {"so", "um", "wo", "zu", "au", "na", "ol", "ag"}
    # French
    | {"au", "ca", "ce", "de", "du", "en", "es", "et", "il", "je", "la", "le", "ma", "me"}
    | {"ne", "ni", "on", "ou", "sa", "se", "si", "ta", "te", "tu", "un", "va", "ai", "as"}
    | {"mm", "cm", "km", "kg"}
    # Spanish
    | {"al", "da", "de", "di", "el", "en", "es", "fe", "ha", "he", "ir", "la", "le", "lo"}
    | {"me", "mi", "ni", "no", "os", "se", "si", "su", "te", "ti", "tu", "un", "va", "ve"}
    | {"ya", "yo", "sr", "uf"}
    # Portuguese
    | {"ao", "as", "da", "de", "do", "em", "eu", "ja", "la", "lo", "me", "na", "no", "nu"}
    | {"os", "ou", "pe", "se", "so", "te", "tu", "um", "vi", "vo", "ai"}
    # Italian
    | {"ad", "ai", "al", "ce", "ci", "da", "di", "fa", "fu", "il", "io", "la", "le"}
    | {"lo", "ma", "mi", "ne", "no", "se", "si", "su", "te", "ti", "tu", "un", "va", "vi"}
    | {"re", "sa"}
    # Dutch
    | {"af", "al", "as", "bv", "en", "er", "ga", "ik", "in", "is", "je", "me"}
    | {"na", "nu", "of", "om", "op", "te", "to", "uw", "we", "ze", "zo", "ja", "da"}
)
