"""A row's own known values: the data contract between the engine, text_scrub and verify.

The engine reads, for every row it copies, the source values of the row's masked
structured columns (and of the rows it references by foreign key) *before* they
are transformed, and hands them to a transformer that asks for them
(:attr:`wants_known`) as one :data:`Known` per row: ``(transformer, value)`` pairs,
e.g. ``(("full_name", "Yésica Carrasco"), ("street_address", "Calle Mayor 7"))``.
The transformer name says what the value is (see :data:`KIND`).

Matching is on a folded form of text that keeps every character's position:
accents stripped (``é`` → ``e``), lower case, so a match found in the folded text
is the same span of the original. A value is searched as a phrase of its words
separated by any run of non-word characters, with word boundaries on both sides
(``calle mayor 7`` finds ``Calle  Mayor, 7``); long identifiers (phones, IBANs,
cards, ids) also as their compact alphanumeric form with any separators between
the characters. See docs/masking.md ("What verify checks").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import cache, lru_cache
from itertools import chain, compress, filterfalse, repeat
from operator import itemgetter, methodcaller
from typing import Any

import numpy as np

from stagewall.masking.transformers._birthdates import (
    DATE_KIND,
    DATE_MARK,
    date_hits,
    date_patterns,
)
from stagewall.masking.transformers._confusables import LOOK_ALIKE
from stagewall.masking.transformers._entities import (
    ENTITY,
    ESCAPE,
    decoded,
    entity_char,
    escape_chars,
    has_entity,
    has_escape,
    unescaped,
)
from stagewall.masking.transformers._readings import (
    ESCAPE_BREAK,
    HYPHEN_BREAK,
    MIN_STEM,
    may_find_more,
    split_reading,
    split_readings,
)
from stagewall.masking.transformers._shortwords import COMMON_TWO_LETTER_WORDS
from stagewall.masking.transformers._streetwords import (
    DE_NL_STREET_SUFFIXES,
    EN_STREET_WORDS,
    KNOWN_STREET_WORDS,
    ROMANCE_STREET_WORDS,
    SWAP_AFTER,
    SWAP_BEFORE,
    written_forms,
)

Known = tuple[tuple[str, str], ...]
NO_KNOWN: Known = ()

# What a masked column's value is, by the transformer the plan gives it; columns
# whose transformer is not listed here and not in NOT_KNOWN count as identifiers.
KIND: dict[str, str] = {
    "full_name": "name",
    "first_name": "name",
    "last_name": "name",
    "email": "email",
    "phone": "phone",
    "street_address": "street",
    "postcode": "postcode",
    "iban": "iban",
    "card_number": "card",
    "ip_address": "ip",
    "username": "username",
    # a row's own date of birth (see _birthdates: only columns the plan gives
    # birth_date; other dates are ordinary values)
    "birth_date": DATE_KIND,
    # not a transformer: a row's given name and surname of two columns, joined (see
    # joined_names)
    "joined_name": "name",
}
JOINED = "joined_name"
# Not a value that identifies the row in free text: kept, free text itself, or a
# value that is an ordinary word or number (cities, companies, dates other than a
# date of birth, amounts).
NOT_KNOWN = frozenset(
    {
        "keep",
        "text_scrub",
        "json_mask",
        "city",
        "company",
        "date_shift",
        "numeric_noise",
        "null",
        "constant",
        "tsvector",
    }
)
# Name particles: searched only as part of the full name, never alone.
_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "da", "das", "dos", "du", "des"}
    | {"la", "le", "lo", "ter", "ten", "te", "y", "e", "el", "al", "bin", "ben", "mac", "st"}
)
MIN_PART = 3  # a name part this long is searched alone (see name_parts)
SHORT_PART = 2  # a name part this long is searched alone unless a common word
MIN_SPACED = 4  # a name part this long is also searched letter-spaced: C a r r a s c o
MIN_LOGIN = 4  # a name word this long is also searched after an initial: ycarrasco
MIN_JOINED = 8  # a name's words joined, this long, are searched inside any word
MIN_PHRASE = 3
MIN_DIGITS = 4  # an all-digit value needs this many digits (postcodes: 4)
MIN_COMPACT = 8  # identifiers this long are also searched without separators
_COMPACT_KINDS = frozenset({"phone", "iban", "card", "id"})
_WORDS = re.compile(r"[^\W_]+")


def name_parts(ws: Sequence[str]) -> list[str]:
    """The words of a name (folded words ``ws``) searched alone, each as a whole word
    (text_scrub and verify: :func:`_patterns_of`, ``_anchors.anchors_of``): those of
    MIN_PART letters or more, and those of two letters (``ng``, ``xu``, ``li``: very
    common Chinese, Vietnamese, Korean names) that are not a common word of a
    supported language (:data:`COMMON_TWO_LETTER_WORDS`: ``an``, ``do``, ``le``);
    particles (``van``, ``de``) and digits never. A part left out (one letter, a
    particle, a listed word) is searched only inside the full name."""
    return [
        w
        for w in ws
        if w not in _PARTICLES
        and not w.isdigit()
        and (
            len(w) >= MIN_PART
            or (len(w) == SHORT_PART and w.isalpha() and w not in COMMON_TWO_LETTER_WORDS)
        )
    ]


# The transformers of a name kept in two or more columns (given name, surname).
_SPLIT_NAMES = frozenset({"first_name", "last_name"})


def joined_names(transformers: Sequence[str], rows: list[Known]) -> list[Known]:
    """``rows`` (one table's rows' own values, of columns of ``transformers``) with,
    for a row holding values of two or more columns of :data:`_SPLIT_NAMES`, the
    full name they make, in column order, as one more ``(JOINED, ...)`` pair: its
    patterns find the given name and surname written joined (``yesicacarrasco``,
    ``CarrascoYesica``, and for two names the other way round,
    ``carrasco.yesica2019``: see :func:`_patterns_of`). The engine (text_scrub's
    values) and verify both add it.

    Every pattern of such a pair is a pattern of one of the row's names or holds
    the words of one of them: so :class:`Pairs` takes it as a candidate where one
    of the row's names is one (see :meth:`Pairs.candidates`), without folding it.

    Where a surname column comes before a given-name column (``apellido, nombre``;
    ``last_name, first_name``), the given names then the surnames make a second full
    name: the initials of two given names before or after the surname (``jmganthriv``)
    are patterns of the full name in that order only. And for a surname of two
    words or more, the given names with each of them alone (:func:`_each_surname`).
    """
    if sum(t in _SPLIT_NAMES for t in transformers) < 2:
        return rows
    # (a table whose columns hold given names before surnames makes one full name)
    surname_first = (
        "last_name" in transformers
        and "first_name" in transformers[list(transformers).index("last_name") :]
    )
    out: list[Known] = []
    for known in rows:
        names = [v for t, v in known if t in _SPLIT_NAMES]
        if len(names) < 2:
            out.append(known)
            continue
        full = " ".join(names)
        joined: Known = ((JOINED, full),)
        # (more only for a name of several words, a space or hyphen inside a value: C-level
        # tests of the full name; most rows have none)
        if surname_first or "-" in full or full.count(" ") >= len(names):
            joined += _more_full_names(known, full, surname_first)
        out.append(known + joined)
    return out


def _more_full_names(known: Known, full: str, surname_first: bool) -> Known:
    """The full names :func:`joined_names` adds to ``full`` (the row's names in column
    order): given names first, and given names with each word of a double surname."""
    given = [v for t, v in known if t == "first_name"]
    family = [v for t, v in known if t == "last_name"]
    out: Known = ()
    if surname_first and " ".join(given + family) != full:
        out += ((JOINED, " ".join(given + family)),)
    return (out + _each_surname(" ".join(given), family)) if given else out


def _each_surname(given: str, values: list[str]) -> Known:
    """For surnames of two words or more (``Carrasco-Ruiz``, ``Carrasco Ruiz``: a
    Spanish or Portuguese person's two family names; particles aside), the given
    names with each of them alone, as more ``(JOINED, ...)`` pairs: a login of the
    initial and the first family name (``ycarrasco``, ``jmcarrasco``) is a pattern
    of that full name only. A surname without a space or hyphen (most) is one word."""
    if not any(" " in v or "-" in v for v in values):
        return ()
    parts = [w for v in values for w in name_parts(words(v))]
    if len(parts) < 2:
        return ()
    return tuple((JOINED, f"{given} {w}") for w in dict.fromkeys(parts))


def surnames(known: Iterable[tuple[str, str]]) -> list[str]:
    """The folded surnames of one row's known values (the words of a ``last_name``
    value, the last word of a ``full_name`` one) longer than MIN_STEM letters: the
    names whose prefix glued to digits is searched (``_readings.stem_spans``)."""
    out: list[str] = []
    for t, v in known:
        if t == "last_name":
            ws = [w for w in words(v) if w not in _PARTICLES]
        elif t == "full_name":
            ws = words(v)[-1:]
        else:
            continue
        out += [w for w in ws if len(w) > MIN_STEM and w.isalpha()]
    return out


def kind_of(transformer: str) -> str | None:
    """The kind of a masked column's values, or None when they are not searched."""
    if transformer in NOT_KNOWN:
        return None
    return KIND.get(transformer, "id")


# What a value's patterns are built as (:func:`_patterns_of`): its kind, but a
# ``last_name`` value is a "surname", a name whose word is searched in the plural
# too even when it is the row's only name (``the Ganthrivs`` for a table whose one
# name column is the surname); reported as a name everywhere (:data:`KIND`).
SURNAME = "surname"
_NAME_KINDS = frozenset({"name", SURNAME})


def pattern_kind(transformer: str) -> str | None:
    """The kind :func:`_patterns_of` builds a value of ``transformer`` as."""
    return SURNAME if transformer == "last_name" else kind_of(transformer)


# Other spellings people write for a name or street: a German umlaut or ß, and
# the Danish/Norwegian ø, spelt with two letters (Müller as MUELLER, Straße as
# STRASSE, Søgaard as Soegaard), and a two-letter spelling read as the umlaut
# (source Mueller, note Müller: folded "muller").
_SPELT_KINDS = frozenset({"name", "street"})
_TWO_LETTERS = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "ẞ": "SS"}
    | {"ø": "oe", "Ø": "Oe"}
)
_UMLAUT_PAIR = re.compile("(?<=[^\\W\\d_])([aouAOU])[eE]")
_SPELLABLE = re.compile("[äöüÄÖÜßẞøØ]|[aouAOU][eE]")


@lru_cache(maxsize=1 << 16)
def spellings(transformer: str, value: str) -> tuple[str, ...]:
    """Other spellings of a name or street value (empty for other kinds)."""
    if kind_of(transformer) not in _SPELT_KINDS or _SPELLABLE.search(value) is None:
        return ()
    out = [value.translate(_TWO_LETTERS), _UMLAUT_PAIR.sub("\\1", value)]
    return tuple(v for v in dict.fromkeys(out) if v != value)


def _spellable(known: Sequence[tuple[str, str]]) -> list[int]:
    """Indices of the ``(transformer, value)`` pairs that may have other spellings:
    the names and streets with an umlaut, ß, ø or a two-letter spelling of one.

    Where :data:`_SPELLABLE` matches, found in NumPy passes over the joined values'
    code points: a character of its first class, or one of ``aouAOU`` before ``e``
    or ``E`` (a value holds a match exactly when it holds such a place, and no match
    crosses the NUL between values)."""
    at = list(compress(range(len(known)), map(_SPELT.__contains__, map(_first, known))))
    if not at:
        return []
    values = list(map(_second, map(known.__getitem__, at)))
    starts = np.zeros(len(values), dtype=np.int64)  # of each value in the joined text
    np.cumsum(np.fromiter(map(len, values[:-1]), np.int64, len(values) - 1) + 1, out=starts[1:])
    joined = "\x00".join(values)
    points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32)
    marks = _SPELL_MARKS[np.minimum(points, len(_SPELL_MARKS) - 1)]
    hit = (marks & 1).astype(bool)
    hit[:-1] |= ((marks[:-1] & 2) != 0) & ((marks[1:] & 4) != 0)
    found = np.flatnonzero(hit)
    if not len(found):
        return []
    idx = np.searchsorted(starts, found, side="right") - 1
    return [at[j] for j in np.unique(idx).tolist()]


# _SPELLABLE as marks by code point: 1 its first class, 2 a vowel of its second
# alternative, 4 an e after one; code points past the table (none of these) read
# its last entry, 0
_SPELL_MARKS = np.zeros(0x1E9F + 1, np.uint8)
_SPELL_MARKS[[ord(c) for c in "äöüÄÖÜßẞøØ"]] = 1
_SPELL_MARKS[[ord(c) for c in "aouAOU"]] = 2
_SPELL_MARKS[[ord(c) for c in "eE"]] = 4


@cache
def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in range(0x80, 0x2000):
        c = chr(cp)
        d = unicodedata.normalize("NFKD", c)
        if len(d) > 1 and all(unicodedata.combining(x) for x in d[1:]) and d[0] != c:
            table[cp] = d[0]
    table[0x130] = "I"  # "İ".lower() is two characters; "I" keeps positions
    # letters Unicode does not decompose but people write without their mark
    # (Turkish dotless i as in YILDIZ, Danish o-slash, Polish l-stroke, Croatian d-stroke)
    table.update({0x131: "i", 0xF8: "o", 0xD8: "O", 0x142: "l", 0x141: "L", 0x111: "d"})
    table.update({0x110: "D", 0x127: "h", 0x126: "H", 0x167: "t", 0x166: "T"})
    # full-width forms (Japanese and Chinese input): U+FF2D (M) is M, U+FF10 (0) is 0
    table.update({cp: chr(cp - 0xFEE0) for cp in range(0xFF01, 0xFF5F)})
    # compatibility forms of one letter or digit, marks aside (mathematical bold and
    # script letters, circled letters, superscript digits, no-break and other spaces,
    # CJK compatibility ideographs): U+1D406 (bold G) is g, U+2076 (superscript 6) is 6,
    # as NFKD reads them
    beyond_ascii = "".join(map(chr, range(0x80, 0x110000)))
    for c in filter(unicodedata.decomposition, beyond_ascii):
        base = "".join(filterfalse(unicodedata.combining, unicodedata.normalize("NFKD", c)))
        if len(base) == 1 and base != c:
            table.setdefault(ord(c), base)
    # every script's decimal digits as the ASCII digit (Arabic-Indic, Persian,
    # Devanagari, Bengali, Thai, ...): a phone, card or IBAN written with them is the
    # same number (U+0666 is 6)
    table.update({ord(c): str(unicodedata.decimal(c)) for c in _DECIMAL.findall(beyond_ascii)})
    # (one pass of str.translate: a form of a character the table maps maps as it does)
    return {cp: table.get(ord(c), c) for cp, c in table.items()}


_DECIMAL = re.compile(r"\d")  # (on str: every character of category Nd)


def fold(text: str) -> str:
    """Lower case without accents, one character for one character (positions kept)."""
    if text.isascii():  # O(1) test; the table maps only non-ASCII characters
        return text.lower()
    return text.translate(_fold_table()).lower()


_NON_ASCII_RUN = re.compile("([^\x00-\x7f]+)")


def translate_runs(text: str, table: dict[int, str]) -> str:
    """``text.translate(table)`` for a ``table`` that maps only non-ASCII characters:
    only the runs of them are translated (a split and a map at C level, then a join),
    several times faster on a long text mostly ASCII, such as a batch of notes."""
    parts = _NON_ASCII_RUN.split(text)
    parts[1::2] = map(str.translate, parts[1::2], repeat(table))
    return "".join(parts)


def fold_runs(text: str) -> str:
    """:func:`fold` by :func:`translate_runs` (the same string: str.translate maps
    each character alone, and the whole text is lower-cased after)."""
    if text.isascii():
        return text.lower()
    return translate_runs(text, _fold_table()).lower()


@cache
def _fold_known_table() -> dict[int, str]:
    """:func:`_fold_table` with the look-alike Cyrillic and Greek letters as Latin."""
    table = {cp: c.translate(LOOK_ALIKE) for cp, c in _fold_table().items()}
    return {**LOOK_ALIKE, **table}


def fold_known(text: str) -> str:
    """:func:`fold`, and every Cyrillic or Greek letter that looks like a Latin one
    read as it (``Anna`` written with a Cyrillic A, U+0410, is ``anna``): how a row's own values
    and the texts searched for them are compared (one character for one)."""
    if text.isascii():
        return text.lower()
    return text.translate(_fold_known_table()).lower()


# Invisible characters that may sit inside a word (copied from a web page or a
# word processor: soft hyphen, zero-width space/joiners, word joiner, BOM): they
# are dropped before a text is split into words, so "Gan\u00adthriv" is "ganthriv".
# So are combining marks left standing alone: an accent typed or stored decomposed
# (NFD, as macOS and some forms give it: "Ga\u0301nthriv" is "ganthriv", like the
# precomposed "Gánthriv"), Arabic vowel signs ("محمد" written with them), Hebrew points.
_INVISIBLE = dict.fromkeys(
    [0xAD, 0x180E, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF]
    + [cp for cp in range(0x300, 0x10000) if unicodedata.category(chr(cp)) in ("Mn", "Me")]
)
# Scripts written without spaces between words (Chinese, Japanese kana, and Korean
# names with their attached titles): each character is a word of its own, so the
# name 田中 is the words 田 中, found in 田中様より電話.
_UNSPACED = re.compile("[\u1100-\u11ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff"
                       "\uac00-\ud7af\uf900-\ufaff]")  # fmt: skip


def _several(cp: int) -> str | None:
    """The letters and digits NFKD reads in ``chr(cp)``, marks aside, when they are
    more than one (else None)."""
    c = chr(cp)
    if not unicodedata.decomposition(c):
        return None
    base = "".join(filterfalse(unicodedata.combining, unicodedata.normalize("NFKD", c)))
    return base if len(base) > 1 and any(map(str.isalnum, base)) else None


# Compatibility forms of several letters or digits: the ligatures text copied from a
# PDF holds (U+FB00 ff, U+FB01 fi, U+FB03 ffi: "Hoffmann" written with U+FB00),
# U+0133 ij, U+01C6 dz with caron, Roman numerals, circled and parenthesised numbers
# (U+2473 is 20): read as their letters and digits, like the characters NFKD gives
# (the text grows; find_known maps positions back)
_EXPANDED = {
    cp: got
    for cp in chain(range(0x80, 0x10000), range(0x1F100, 0x1F250))
    if (got := _several(cp)) is not None
}
_SPACING: dict[int, str | None] = {**_EXPANDED, **_INVISIBLE}


def char_class(cps: Iterable[int]) -> str:
    """A regex class of the code points ``cps``, as runs (compiled compactly: a class
    of single characters made the search of a batch 2x slower)."""
    runs: list[list[int]] = []
    for cp in sorted(set(cps)):
        if runs and runs[-1][1] == cp - 1:
            runs[-1][1] = cp
        else:
            runs.append([cp, cp])
    ends = (re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "") for a, b in runs)
    return "[" + "".join(ends) + "]"


# an invisible character, or one that stands for several
_DROPPED = re.compile(char_class(chain(_INVISIBLE, _EXPANDED)))
_DROPPED_OR_ENTITY = re.compile(_DROPPED.pattern + "|" + ENTITY.pattern + "|" + ESCAPE.pattern)
_SPECIAL = re.compile(
    _DROPPED.pattern + "|" + _UNSPACED.pattern
)  # one C-level scan tells whether _spaced has anything to do


def _spaced(text: str) -> str:
    """``text`` with URL-encoded and JSON-escaped characters as those (``jane%40corp``
    is ``jane@corp``, ``M%C3%BCller`` and ``M\\u00fcller`` are ``Müller``: see
    ``_entities.ESCAPE``), without invisible characters, each character that stands
    for several as those (:data:`_EXPANDED`), with a space around each character of
    an unspaced script (only non-ASCII text can hold those)."""
    text = unescaped(text)
    if "&" in text:  # HTML character references as their characters (_entities)
        text = decoded(text)
    if text.isascii() or _SPECIAL.search(text) is None:
        return text
    return _UNSPACED.sub(" \\g<0> ", _DROPPED.sub(_written_out, text))


def _written_out(m: re.Match[str]) -> str:
    """What :func:`_spaced` writes for a :data:`_DROPPED` character."""
    return _SPACING[ord(m.group())] or ""


# Where a text reads otherwise: a JSON one-letter escape before a word (``\n``,
# ``\t``, ... written as two characters, a JSON document kept in a text column:
# ``call back\nCarrasco``, read as it is the word "ncarrasco") and a word
# hyphenated across a line (``Carras-`` newline ``co``, ``Carras- co``, or a JSON
# ``\n`` after the hyphen), and an HTML tag (``Calle Mayor <b>7</b>``). A text
# holding one is searched as it is and also as its other reading
# (:func:`other_reading`): the escape and the tag a space, the hyphen and the line
# break gone. Both readings: ``C:\Users\nadia`` is the word "nadia".
# (a run of them is one break: ``Lindenweg\r\n8a`` is the street Lindenweg 8a)
# (the patterns: _readings' ESCAPE_BREAK and HYPHEN_BREAK, which its split reading uses too)
_ESCAPE_BREAK = ESCAPE_BREAK
_HYPHEN_BREAK = HYPHEN_BREAK
# an HTML tag between a value's words (a note or JSON string written as HTML:
# ``Calle Mayor <b>7</b>``, ``<td>Calle Mayor</td><td>7</td>``, ``Lane<br>22``): a
# space in the other reading (as it is, its name is a word: "b", "td", "br")
# (never across the NUL that joins a batch's texts)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:[\s/][^<>\x00]*)?>")
_BREAKS = re.compile(_ESCAPE_BREAK.pattern + "|" + _HYPHEN_BREAK.pattern + "|" + _TAG.pattern)
# a run of HTML tags inside a word (``Gan<b>thriv</b>``, ``Yé<i>sica</i>``): nothing in
# a third reading (:func:`glued_reading`), the other breaks as in the other reading
_IN_WORD_TAGS = re.compile(f"(?<=[^\\W_])(?:{_TAG.pattern})+(?=[^\\W_])")
_GLUED = re.compile(f"(?P<glued>{_IN_WORD_TAGS.pattern})|{_BREAKS.pattern}")
# the hyphen of every _HYPHEN_BREAK match and what follows it: one C-level scan first
# (for the "-" alone, then the character after each)
_AFTER_HYPHEN = re.compile(r"-[ \t\n\r\\]")
# what separates a text's readings in its search forms (never a word character, and
# norm_many makes every other non-word character a space: no phrase crosses it)
READINGS = "\x01"


def _may_break(text: str) -> bool:
    """Whether ``text`` has another reading (C-level tests first)."""
    if "\\" in text and _ESCAPE_BREAK.search(text) is not None:
        return True
    if "<" in text and _TAG.search(text) is not None:
        return True
    return _AFTER_HYPHEN.search(text) is not None and _HYPHEN_BREAK.search(text) is not None


def other_reading(text: str) -> str | None:
    """``text`` read with its JSON escapes and HTML tags as spaces and its words
    hyphenated across a line joined (see :data:`_BREAKS`), or None when it reads one
    way only."""
    if not _may_break(text):
        return None
    return _BREAKS.sub(_broken, text)


def _broken(m: re.Match[str]) -> str:
    return " " if m.group()[0] in "\\<" and m.lastgroup is None else ""


def _other_readings(texts: Sequence[str]) -> dict[int, str]:
    """Index → :func:`other_reading` of the texts that have one (see :func:`breaking`)."""
    return {i: _BREAKS.sub(_broken, texts[i]) for i in breaking(texts)}


def glued_reading(text: str) -> str | None:
    """``text`` read with an HTML tag inside a word as nothing (``Gan<b>thriv</b>`` is
    the word Ganthriv) and its other breaks as :func:`other_reading` reads them, or
    None when no tag is inside a word."""
    if "<" not in text or _IN_WORD_TAGS.search(text) is None:
        return None
    return _GLUED.sub(_broken, text)


def _glued_readings(texts: Sequence[str], other: Iterable[int]) -> dict[int, str]:
    """Index → :func:`glued_reading` of the texts of ``other`` (those with another
    reading, :func:`breaking`: a tag is a break) that have one."""
    out = {}
    for i in other:
        got = glued_reading(texts[i])
        if got is not None:
            out[i] = got
    return out


def breaking(texts: Sequence[str]) -> list[int]:
    """Indices of the texts that have another reading (:func:`other_reading`), in
    order: found in C-level passes over the joined batch (most batches have none),
    the texts that hold a break told by where the breaks are (no break crosses the
    NUL between texts)."""
    if not texts:
        return []
    joined = "\x00".join(texts)
    if not _may_break(joined):
        return []
    if joined.count("\x00") != len(texts) - 1:  # a text holding NUL: one at a time
        return [i for i, t in enumerate(texts) if _may_break(t)]
    at = [m.start() for m in _ESCAPE_BREAK.finditer(joined)] if "\\" in joined else []
    if _AFTER_HYPHEN.search(joined) is not None:
        at += [m.start() for m in _HYPHEN_BREAK.finditer(joined)]
    if "<" in joined:
        at += [m.start() for m in _TAG.finditer(joined)]
    starts = np.zeros(len(texts), dtype=np.int64)  # of each text in the joined batch
    np.cumsum(np.fromiter(map(len, texts[:-1]), np.int64, len(texts) - 1) + 1, out=starts[1:])
    rows: list[int] = np.unique(np.searchsorted(starts, at, side="right") - 1).tolist()
    return rows


def norm_texts(texts: Sequence[str]) -> list[str]:
    """:func:`norm_many` of texts to search (not of values): a text with another
    reading (:func:`other_reading`) gets that reading's form after it, behind
    :data:`READINGS`."""
    out = norm_many(texts)
    other = _other_readings(texts)
    if other:
        for i, n in zip(other, norm_many(list(other.values())), strict=True):
            out[i] += READINGS + n
        glued = _glued_readings(texts, other)  # a tag inside a word (Gan<b>thriv</b>)
        for i, n in zip(glued, norm_many(list(glued.values())), strict=True):
            out[i] += READINGS + n
    split = split_readings(texts)  # a login carrasco87, a base64 token (_readings)
    if split:
        for i, n in zip(split, norm_many(list(split.values())), strict=True):
            out[i] += READINGS + n
    return out


def words(text: str) -> list[str]:
    """The folded words of a text (letters and digits; anything else separates)."""
    return _WORDS.findall(fold_known(_spaced(text)))


def norm(text: str) -> str:
    """A text as its folded words between single spaces, padded: ``" calle mayor 7 "``."""
    ws = words(text)
    return " " + " ".join(ws) + " " if ws else " "


def norm_many(texts: Sequence[str]) -> list[str]:
    """:func:`norm` of every text, in a few C-level passes over the joined batch."""
    if not texts:
        return []
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(texts) - 1:
        return [norm(t) for t in texts]
    folded = fold_known(_spaced(joined))
    # ASCII: every non-word character becomes a space in one C pass
    ascii_ = folded.isascii()
    spaced = folded.translate(_ASCII_NONWORD) if ascii_ else _NONWORD.sub(" ", folded)
    # Each text's words between single spaces, padded (" " for none), for the whole
    # batch at once: every text padded on both sides, then every run of spaces one
    # space. The only whitespace left is the space (every other character that
    # str.split() splits on is a non-word character, replaced above), so this is
    # f" {' '.join(t.split())} " of each text (test_text_scrub_known.py compares)
    padded = " " + spaced.replace("\x00", " \x00 ") + " "
    return single_spaced(padded).split("\x00")


def single_spaced(text: str) -> str:
    """``text`` with every run of spaces one space (``_SPACE_RUN.sub(" ", text)``):
    pairs of spaces replaced until none is left, a few C-level passes (a run of
    ``k`` spaces takes about log2 ``k``), twice as fast as the regex on a batch."""
    while "  " in text:
        text = text.replace("  ", " ")
    return text


# one run of non-word characters (underscores included: "a-_b" is the words a, b)
_NONWORD = re.compile(r"(?:[^\w\x00]|_)+")
_SPACE_RUN = re.compile(" {2,}")
_ASCII_NONWORD = {c: " " for c in range(1, 128) if not chr(c).isalnum()}


def compact_many(normed: Sequence[str]) -> list[str]:
    """Normalised texts without spaces: ``" 612 345 678 "`` → ``"612345678"``."""
    return [t.replace(" ", "") for t in normed]


@lru_cache(maxsize=1 << 16)
def patterns(transformer: str, value: str) -> tuple[tuple[str, bool], ...]:
    """The search patterns of one known value: ``(pattern, compact)`` pairs.

    A word pattern is padded with spaces (``" calle mayor 7 "``) and is searched in
    :func:`norm` text; a compact one (``"es9121000418450200051332"``) in
    :func:`compact_many` text. Empty for values too short to identify anyone.
    """
    out = _patterns(transformer, value)
    for other in spellings(transformer, value):
        out += _patterns(transformer, other)
    found = tuple(dict.fromkeys(out))
    # a street's core marks first, every spelling's (Pairs.hits looks for them at the
    # front only; patterns_many orders them so): Annaßcalle's and Annasscalle's marks
    # both before their word patterns
    if len(found) > 1 and any(p[:1] == CORE for p, _ in found[1:]):
        found = (
            *(pc for pc in found if pc[0][:1] == CORE),
            *(pc for pc in found if pc[0][:1] != CORE),
        )
    return found


def _patterns(transformer: str, value: str) -> list[tuple[str, bool]]:
    kind = pattern_kind(transformer)
    out = _patterns_of(kind, words(value))
    local = _local_parts([kind], [value])
    return [*out, (local[0], False)] if local else out


def _patterns_of(kind: str | None, ws: list[str]) -> list[tuple[str, bool]]:
    """The patterns of a value of ``kind`` whose folded words are ``ws``."""
    if kind is None or not ws:
        return []
    if kind == DATE_KIND:
        return date_patterns(ws)
    out: list[tuple[str, bool]] = []
    phrase = " ".join(ws)
    if kind in _NAME_KINDS:
        parts = name_parts(ws)
        out += [(f" {w} ", False) for w in dict.fromkeys(parts)]
        if len(ws) > 1 and len(phrase) >= MIN_PHRASE:
            out.append((f" {phrase} ", False))
        if len(ws) > 1 and len(ws[0]) <= 2 and not ws[0].isdigit():
            # O'Brien, D'Angelo, L'Estrange as systems store them without the
            # apostrophe: OBrien, DAngelo
            out.append((f" {ws[0]}{ws[1]} ", False))
        if len(ws) > 1 and len(phrase) >= MIN_PART * 2:
            # a name of several words written as one: Jean-Luc as Jeanluc, van der
            # Berg as VanDerBerg, a handle linkedin.com/in/yesicacarrasco
            out.append((f" {''.join(ws)} ", False))
        # written letter by letter: C a r r a s c o, C-a-r-r-a-s-c-o, C.A.R.R.A.S.C.O
        # (a part of MIN_SPACED letters or more: "L i" is a list, not a name)
        out += [(f" {' '.join(w)} ", False) for w in parts if len(w) >= MIN_SPACED and w.isalpha()]
        if len(ws) > 1 and not any(map(str.isdigit, phrase)):
            # its words joined inside a longer word or handle, in their order and, for
            # two words, the other way round: @yesicacarrasco88, carrasco.yesica2019
            # (MIN_JOINED letters or more: "ling" is in "billing", not Li Ng)
            joined = ["".join(ws)] + ([ws[1] + ws[0]] if len(ws) == 2 else [])
            out += [(j, True) for j in joined if len(j) >= MIN_JOINED]
        if len(ws) > 1:
            out += _initial_logins(ws)
            out += _plurals(ws[-1])
        elif kind == SURNAME:  # (a surname column's one word: see pattern_kind)
            out += _plurals(ws[0])
        return list(dict.fromkeys(out))
    compact = "".join(ws)
    if kind == "phone":
        national = national_number(compact)
        if national is not None:
            out.append((national, True))
    if kind == "id" and not any(c.isdigit() for c in compact):
        return []  # an identifier without a digit is a word like any other
    if kind == "postcode":
        out += _postcode_spacings(ws, compact)
    if kind in _COMPACT_KINDS and len(compact) >= MIN_COMPACT:
        out.append((compact, True))
    if kind == "iban":  # its account part alone: 2100 0418 4502 0005 1332
        bban = account_part(compact)
        if bban is not None:
            out.append((bban, True))
        # its account apart from its bank's code: Konto 0532013000, Kto 532013000
        out += [(f, True) for f in account_numbers(compact)]
    if kind == "id":  # its number without its letters: 12345678 of 12345678Z
        out += [(f, True) for f in id_numbers(compact)]
        # a zero-padded number without its zeros, as a word: 47113 of 0047113
        out += [(f" {f} ", False) for f in unpadded(compact)]
    if len(phrase) >= MIN_PHRASE and not (phrase.isdigit() and len(phrase) < MIN_DIGITS):
        out.append((f" {phrase} ", False))
    if kind == "street" and len(ws) > 1:
        out += _street_forms(ws)
        # (the core marks first: Pairs.hits looks for them at the front only)
        marks = _core_forms(ws)
        street = without_flat(ws)
        if street:
            more = _patterns_of(kind, street)
            k = next((i for i, (p, _) in enumerate(more) if p[:1] != CORE), len(more))
            marks, out = marks + more[:k], out + more[k:]
        if marks:
            return marks + out
    return out


def _street_forms(ws: list[str]) -> list[tuple[str, bool]]:
    """A street's other forms (text_scrub and verify search the same): its house
    number moved or after a mark (:func:`_house_number_moved`), one street word
    written the other way (:func:`street_variants`: ``C/ Mayor 7`` for ``Calle
    Mayor 7``, ``Hauptstr. 5`` for ``Hauptstraße 5``), and both at once: ``c. mayor
    nº 7``, ``Ganthriv Ln. 22`` for ``22 Ganthriv Lane``, ``Hauptstr. Nr. 5``."""
    out = _house_number_moved(ws)
    # a street word written the other way changes neither which words hold a digit
    # nor which are a house number (_PLAIN_ALTS): a street whose number cannot be
    # moved has no variant of its length whose number can (most streets of a batch)
    moved = bool(out) or not _PLAIN_ALTS
    for v in street_variants(ws):
        out.append((f" {' '.join(v)} ", False))
        if moved and len(v) == len(ws):  # (a street word changed, not the number's letter)
            out += _house_number_moved(v)
    for v in _regrouped(ws):
        out.append((f" {' '.join(v)} ", False))
        out += _house_number_moved(v)
    return list(dict.fromkeys(out))


# the small words between a street word and a street's name (Calle de Alcalá, Rua
# das Flores, Rue d'Alésia), dropped when it is shortened: C/ Alcalá, R. Flores
_STREET_PARTICLES = frozenset(
    {"de", "del", "della", "di", "da", "das", "dos", "do", "du", "des", "d", "la", "le"}
    | {"les", "los", "las", "l", "el", "der", "den"}
)


def _regrouped(ws: list[str]) -> list[list[str]]:
    """A street's words with two things changed at once, as people write it: the
    particles after its street word dropped, that word as written or the other way
    (``calle de alcala 5`` → ``calle alcala 5``, ``c alcala 5``; ``avenida de america
    10`` → ``av america 10``); a German or Dutch ending written apart, as written or
    the other way (``hauptstraße 5`` → ``haupt straße 5``, ``haupt str 5``); and an
    ending word written onto the name before it (``berliner straße 5`` →
    ``berlinerstraße 5``, ``berlinerstr 5``). Each keeps the street's name words."""
    out: list[list[str]] = []
    for i, w in enumerate(ws[:-1]):
        if w not in _ANY_STREET or ws[i + 1] not in _STREET_PARTICLES:
            continue
        j = i + 1
        while j < len(ws) and ws[j] in _STREET_PARTICLES:
            j += 1
        if j < len(ws) and ws[j].isalpha() and ws[j] not in _ANY_STREET:
            for a in (w, *_STREET_WORD_ALTS.get(w, ())):
                out.append([*ws[:i], a, *ws[j:]])
    for i, w in enumerate(ws):
        if w.endswith(_STREET_ENDS):
            for end, others in _STREET_END_ALTS.items():
                if len(w) > len(end) + 1 and w.endswith(end):
                    out += [[*ws[:i], w[: -len(end)], e, *ws[i + 1 :]] for e in (end, *others)]
        if (
            i + 1 < len(ws)
            and ws[i + 1] in _STREET_END_ALTS
            and w.isalpha()
            and w not in _STREET_WORD_ALTS
            and w not in _STREET_PARTICLES
        ):
            others = (ws[i + 1], *_STREET_END_ALTS[ws[i + 1]])
            out += [[*ws[:i], w + e, *ws[i + 2 :]] for e in others]
    return out


# The mark of a street's core pattern (:func:`_core_forms`): ``"\x02\x03ganthriv\x0314"``
# is never in a text (norm text holds no control character); :func:`core_hits` reads it
# as the core next to its number or a street word; NUMBER parts the mark's fields.
CORE = "\x02"
NUMBER = "\x03"


def _core_forms(ws: list[str]) -> list[tuple[str, bool]]:
    """A street's core (its name's words, without its street word, the small words
    after that and its house number: ``alcala`` of ``Calle de Alcalá 5``, ``ganthriv``
    of ``14 Ganthriv Lane``) as its mark ``CORE + "ganthriv" + NUMBER + "14"``, which
    :func:`core_hits` reads: the core next to its own house number, either side
    (``alcala 5``, ``5 alcala``, ``ganthriv 14``), or next to any street word of
    SWAP_BEFORE or SWAP_AFTER (``Ganthriv Road``, ``Avenida Mayor``, ``Cl. Mayor``).
    Only a street of separate words with a street word; a core of letters (3 or
    more), one run of words. The mark holds the value's anchor (``_anchors``:
    :func:`street_anchor`), or is left out: verify searches only the rows whose
    text holds it (the core's street-word forms only when the core holds it)."""
    if len(ws) == 2:
        glued = _glued_form(ws)
        if glued:
            return glued
    number = None
    body = ws
    last = bool(_NUMBER.fullmatch(ws[-1]))
    if last:
        number, body = ws[-1], ws[:-1]
    elif _NUMBER.fullmatch(ws[0]):
        number, body = ws[0], ws[1:]
    # its street words, the small words after them, the core, its street words
    n = len(body)
    i = 0
    while i < n and body[i] in _NOT_CORE:
        i += 1
    before = i
    while before and i < n and body[i] in _STREET_PARTICLES:
        i += 1
    start = i
    while i < n and body[i] not in _NOT_CORE:
        w = body[i]
        if not w.isalpha() or w.endswith(_STREET_ENDS):
            return []
        i += 1
    core = body[start:i]
    if not core or (not before and i == n) or not all(v in _NOT_CORE for v in body[i:]):
        return []
    joined = "".join(core)
    if len(joined) < 3 or core[0] in _STREET_PARTICLES:
        return []
    # street_anchor(without_flat(ws) or ws), as _anchors has it, cut short: such a
    # street has no flat for without_flat to cut (its one word with a digit is the
    # number at an end), and of its words only the core's (letters, none a street
    # word or ending) and the number are not street words or small words
    longest = max((w for w in core if w not in _STREET_PARTICLES), key=len, default="")
    if number is None or len(longest) > len(number):
        anchor = longest
    elif len(longest) < len(number):
        anchor = number
    else:  # (the first of the same length, in the street's order)
        anchor = longest if last else number
    phrase = " ".join(core)
    if anchor in joined:
        return [(f"{CORE}{NUMBER}{phrase}{NUMBER}{number or ''}", False)]
    if anchor == number:  # (its number forms only: "n")
        return [(f"{CORE}n{NUMBER}{phrase}{NUMBER}{number}", False)]
    return []


def _glued_form(ws: list[str]) -> list[tuple[str, bool]]:
    """A German or Dutch street of one word and its house number (``hauptstraße 5``,
    ``kerkstraat 5``, ``5 lindenweg``) as its mark ``CORE + "g" + NUMBER +
    "kerkstraat kerkstr" + NUMBER + "5"``: the word as written and with its ending
    written the other way (:data:`_STREET_END_ALTS`), which :func:`core_hits` reads
    next to its own number with a letter or ``bis`` glued on or after a mark
    (``Kerkstr 5A``, ``Hauptstraße 5a``, ``Hauptstr. Nr. 5b``: :func:`_marked_number`).
    Every hit holds the word's stem and the number, so the value's anchor
    (:func:`street_anchor`) and its probe (``_street_cores``); [] for any other
    street."""
    a, b = ws
    if _NUMBER.fullmatch(a) and b.isalpha():
        a, b = b, a
    if not (b.isdigit() and a.isalpha() and a.endswith(_DE_NL_ENDS)) or a in _NOT_CORE:
        return []
    forms = [a]
    if a.endswith(_STREET_ENDS):
        for end, others in _STREET_END_ALTS.items():
            if len(a) > len(end) + 1 and a.endswith(end):
                forms += [a[: -len(end)] + o for o in others]
    return [(f"{CORE}g{NUMBER}{' '.join(dict.fromkeys(forms))}{NUMBER}{b}", False)]


def street_anchor(ws: Sequence[str]) -> str:
    """The longest :func:`street_word_core` of a street's words ``ws`` that are not a
    street word (written any way: _NOT_CORE) nor a small word (which _regrouped drops
    after a street word); "" when there is none. Every pattern of the street holds it:
    the row search's anchor (``_anchors``)."""
    return max(
        (street_word_core(w) for w in ws if w not in _NOT_CORE and w not in _STREET_PARTICLES),
        key=len,
        default="",
    )


def street_word_core(w: str) -> str:
    """The part of a street's word every way :func:`street_variants` writes it holds:
    the word, "" for a street word written otherwise whole (Calle, C), or the stem
    before the longest of its street endings (haupt of Hauptstraße, Hauptstr)."""
    if w in _STREET_WORD_ALTS:
        return ""
    if not w.endswith(_STREET_ENDS):
        return w
    cut = max(
        (len(e) for e in _STREET_END_ALTS if len(w) > len(e) + 1 and w.endswith(e)), default=0
    )
    return w[: len(w) - cut]


def core_hits(pattern: str, normed: str) -> list[str]:
    """The places of a core mark ``pattern`` (:func:`_core_forms`) in the :func:`norm`
    text ``normed``, as word patterns: the core next to its house number, either side
    (``alcala 5``, ``5 alcala``), right after a word of SWAP_BEFORE (small words such
    as ``de`` between: ``avenida de alcala``) or right before one of SWAP_AFTER
    (``ganthriv road``). Empty when the core is not there (one C-level test; most
    texts). A date of birth's mark (``_birthdates.DATE_MARK``) is read by
    :func:`~stagewall.masking.transformers._birthdates.date_hits`: the phrases that
    write the date."""
    if pattern[1:2] == DATE_MARK[1]:
        return date_hits(pattern, normed)
    numbers_only, core, number = pattern[1:].split(NUMBER)
    if numbers_only == "g":  # (a street of one word: _glued_form)
        glued: list[str] = []
        for form in core.split(" "):
            at = normed.find(f" {form} ")
            if at >= 0:
                glued += _marked_number(form, number, normed, at)
        return glued
    needle = f" {core} "
    at = normed.find(needle)
    if at < 0:
        return []
    out: list[str] = []
    if number:
        out += [f for f in (f" {core} {number} ", f" {number} {core} ") if f in normed]
        # (a mark's word with the number: one C-level test first; most texts have none)
        if number in normed:
            out += _marked_number(core, number, normed, at)
    if numbers_only:  # (the core does not hold the anchor: its number forms only)
        return out
    while at >= 0:
        end = at + len(needle)
        stop = normed.find(" ", end)
        after = normed[end : len(normed) if stop < 0 else stop]
        if after in _SWAP_AFTER:
            out.append(f" {core} {after} ")
        before = normed[:at].rsplit(" ", 4)[1:]
        small: list[str] = []
        while before and before[-1] in _STREET_PARTICLES:
            small.insert(0, before.pop())
        if before and before[-1] in _SWAP_BEFORE:
            out.append(f" {' '.join([before[-1], *small, core])} ")
        at = normed.find(needle, end - 1)
    return out


def _marked_number(core: str, number: str, normed: str, at: int) -> list[str]:
    """The places in ``normed`` of a street's core ``core`` (first at ``at``) and its
    house number ``number`` with a mark (:data:`NUMBER_MARKS`, or ``n o``, ``n a``:
    ``n.º``, ``n.ª`` as norm folds them) between, the number apart or glued to the mark: ``alcala no
    42``, ``alcala n o 42``, ``alcala no42`` (``Alcalá, nº42``); or the mark and
    the number before the core, small words between: ``no 42 de alcala``, ``nr 42
    alcala``, ``number 42 of alcala``. Without a mark, the number first and small
    words between (``42 de alcala``: ``# 42 de Alcalá``, ``el 42 de Alcalá``, ``42 of
    alcala``). The number may have a letter or ``bis``/``ter`` glued on
    (:func:`_own_number`: ``alcala 42a``, ``42a de alcala``, ``alcala no 42b``). Only
    these next to each other (``order no 42 for the alcala store``, ``page 42 of the
    alcala file`` are not the street)."""
    out: list[str] = []
    needle = f" {core} "
    while at >= 0:
        end = at + len(needle)
        # (the word after and the word before first: most are neither a mark, the
        # number nor a small word, and need no more)
        nxt = normed[end : normed.find(" ", end)]
        if nxt in _MARKS or nxt.endswith(number):
            after = normed[end:].split(" ", 3)[:3]
            marked = _marked(after, number)
            if marked:
                out.append(f" {' '.join([core, *after[:marked]])} ")
        elif nxt.startswith(number) and _own_number(nxt, number):  # (alcala 42a)
            out.append(f" {core} {nxt} ")
        prev = normed[normed.rfind(" ", 0, at) + 1 : at]
        if (
            prev.endswith(number)
            or prev in _NUMBER_SMALL
            or prev in _SWAP_BEFORE
            or _own_number(prev, number)
        ):
            before = normed[:at].rsplit(" ", 6)[1:]
            small: list[str] = []
            while before and before[-1] in _NUMBER_SMALL:
                small.insert(0, before.pop())
            for k in (3, 2, 1):  # (the longest: "n o 42" before "o 42")
                if len(before) >= k and _marked(before[-k:], number) == k:
                    out.append(f" {' '.join([*before[-k:], *small, core])} ")
                    break
            else:  # (no mark: the number itself, 42 de alcala, 42a alcala)
                if before and _own_number(before[-1], number) and (small or before[-1] != number):
                    out.append(f" {' '.join([before[-1], *small, core])} ")
                # or a street word between (12bis rue de rivoli, 5a r rivoli)
                elif (
                    len(before) > 1
                    and before[-1] in _SWAP_BEFORE
                    and _own_number(before[-2], number)
                    and before[-2] != number
                ):
                    out.append(f" {' '.join([*before[-2:], *small, core])} ")
        at = normed.find(needle, end - 1)
    return out


# the small words between a house number written first and a street's core: those
# after a street word (de, di, da, der: "el 42 de Alcalá", "al 5 di Garibaldi") and
# English "of" and "on" ("number 42 of Alcalá", "12 on Oak" for 12 Oak Street)
_NUMBER_SMALL = _STREET_PARTICLES | {"of", "on"}
# what people glue onto a house number: a building's letter (42A) or bis, ter
_NUMBER_ENDS = frozenset({"bis", "ter"})


def _own_number(w: str, number: str) -> bool:
    """Whether the word ``w`` is the house number ``number``, or it with one letter
    or ``bis``/``ter`` glued on (``42a``, ``42bis`` for ``42``; not ``420``, ``42nd``)."""
    if not w.startswith(number):
        return False
    end = w[len(number) :]
    return not end or (len(end) == 1 and end.isalpha()) or end in _NUMBER_ENDS


def _marked(ws: list[str], number: str) -> int:
    """How many of the words ``ws`` (from the first) are a mark and the house number
    ``number``: ``no 42`` (2), ``n o 42`` and ``n a 42`` (3), ``no42`` (1), ``n o42``
    (2), the number apart with a letter glued on too (``no 42a``: :func:`_own_number`);
    0 when they are not."""
    first = ws[0] if ws else ""
    if first in _MARKS:
        if len(ws) > 1 and _own_number(ws[1], number):
            return 2
        if (
            first == "n"
            and ws[1:2] in (["o"], ["a"])
            and len(ws) > 2
            and _own_number(ws[2], number)
        ):
            return 3
        if first == "n" and ws[1:2] in (["o" + number], ["a" + number]):
            return 2
    if first.endswith(number) and first[: -len(number)] in _MARKS:
        return 1
    return 0


def _core_found(
    pats: Sequence[tuple[str, bool]], normed: str, mine: dict[tuple[str, bool], str], kind: str
) -> None:
    """Add to ``mine`` the places of the core marks among ``pats`` (first in a street's
    patterns) in ``normed`` (:func:`core_hits`). text_scrub reads them only for a
    street none of whose other patterns is in the text: a text holding the street as
    it is gets the same patterns as before these marks (no more work for
    :func:`find_known`), and another mention, ``Ganthriv Road`` beside ``14 Ganthriv
    Lane``, is found by the residue pass once the street is replaced."""
    for p, _ in pats:
        if p[:1] != CORE:
            break
        for got in core_hits(p, normed):
            mine.setdefault((got, False), kind)


def _initial_logins(ws: list[str]) -> list[tuple[str, bool]]:
    """A name's first initial and last word written as one word, a login: ``ycarrasco``
    for Yésica Carrasco (``ycarrasco7`` in the split reading: ``_readings``), and for
    two words the other way round (``cyesica``). For a person of two given names
    (Jorge Manuel Ganthriv), the initials of all of them before or after the last
    word: ``jmganthriv``, ``ganthrivjm`` (``j.m.ganthriv`` is the word ganthriv).
    Only where the word is a name of MIN_LOGIN letters or more (``jng`` is not Li
    Ng's). And the first given name's first two letters or more before or after the
    last word: ``yecarrasco``, ``yescarrasco``, ``carrascoyes``."""
    pairs = [(ws[0], ws[-1])] + ([(ws[1], ws[0])] if len(ws) == 2 else [])
    out = [
        (f" {a[0]}{b} ", False)
        for a, b in pairs
        if a[0].isalpha() and b.isalpha() and len(b) >= MIN_LOGIN and b not in _PARTICLES
    ]
    last = ws[-1]
    if _surname_like(last) and ws[0][0].isalpha():  # and after it: carrascoy
        out.append((f" {last}{ws[0][0]} ", False))
    first = ws[0]
    if _surname_like(last) and first.isalpha() and first not in _PARTICLES:
        # the given name's first two letters or more glued to the surname, either
        # side: yecarrasco, yescarrasco, carrascoyes (a login; ye.carrasco is the word)
        for k in range(2, len(first) + 1):
            out += [(f" {first[:k]}{last} ", False), (f" {last}{first[:k]} ", False)]
    given = [w for w in ws[:-1] if w not in _PARTICLES]
    if len(given) > 1 and last.isalpha() and len(last) >= MIN_LOGIN and last not in _PARTICLES:
        initials = "".join(w[0] for w in given)
        if initials.isalpha():
            out += [(f" {initials}{last} ", False), (f" {last}{initials} ", False)]
    return out


def _surname_like(w: str) -> bool:
    """Whether the last word ``w`` of a name of several words is searched in the
    plural and after its login's initial: MIN_LOGIN letters or more, not a particle."""
    return len(w) >= MIN_LOGIN and w.isalpha() and w not in _PARTICLES


def _plurals(last: str) -> list[tuple[str, bool]]:
    """The last word of a name of several words (its surname, or in a table whose
    surname column comes first its given name) in the plural or possessive without
    an apostrophe: ``the Ganthrivs``, ``Carrascos'``, ``the Sanchezes`` (``-es``
    after ``s x z ch sh``, and only that after an ``s``: ``Joneses``). Only a row's own
    names, of MIN_LOGIN letters or more (``Max``, ``Roe`` are not)."""
    if not _surname_like(last):
        return []
    es = last.endswith(("s", "x", "z", "ch", "sh"))
    return ([] if last.endswith("s") else [(f" {last}s ", False)]) + (
        [(f" {last}es ", False)] if es else []
    )


def _street_alternatives() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """Folded street word → the folded words it is also written as (both ways: Calle
    and C/, Rd and Road), and the same for the German and Dutch word endings
    (Hauptstraße and Hauptstr.), from the detector's table (_streetwords)."""
    whole: dict[str, list[str]] = {}
    ends: dict[str, list[str]] = {}
    for table, into in (
        (EN_STREET_WORDS, whole),
        (ROMANCE_STREET_WORDS, whole),
        (KNOWN_STREET_WORDS, whole),
        (DE_NL_STREET_SUFFIXES, ends),
    ):
        for full, short in table.items():
            (f,) = words(full)
            for s in short:
                (a,) = words(s)
                into.setdefault(f, []).append(a)
                into.setdefault(a, []).append(f)
    # an ending is also a word of its own (Berliner Straße 5, Berliner Str. 5)
    for w, alts in ends.items():
        whole.setdefault(w, []).extend(alts)
    return (
        {w: tuple(dict.fromkeys(a)) for w, a in whole.items()},
        {w: tuple(dict.fromkeys(a)) for w, a in ends.items()},
    )


_STREET_WORD_ALTS, _STREET_END_ALTS = _street_alternatives()
_STREET_ENDS = tuple(_STREET_END_ALTS)
# whether every street word and ending street_variants writes, and every one it
# replaces, is free of digits and of a house number's shape (_street_forms relies on
# it to skip moving the number of a variant; the tables hold words, not numbers)
_PLAIN_ALTS = not any(
    any(map(str.isdigit, w))
    for table in (_STREET_WORD_ALTS, _STREET_END_ALTS)
    for w in chain(table, chain.from_iterable(table.values()))
) and all(len(e) >= 2 for e in chain(_STREET_END_ALTS, *_STREET_END_ALTS.values()))


def street_variants(ws: Sequence[str]) -> list[list[str]]:
    """The folded words of a street (with a word of a name or a house number besides
    its street word) with one street word written the other way
    (:data:`_STREET_WORD_ALTS`): ``calle mayor 7`` → ``c mayor 7``, ``hauptstraße 5``
    → ``hauptstr 5``, ``5 elm rd`` → ``5 elm road``; or with its house number's
    letter apart or joined: ``lindenweg 8a`` → ``lindenweg 8 a`` and back."""
    if len(ws) < 2:
        return []
    out: list[list[str]] = []
    for i, w in enumerate(ws):
        alts: Sequence[str] = _STREET_WORD_ALTS.get(w, ())
        if w.endswith(_STREET_ENDS):  # (one C-level test first: most words end otherwise)
            ended = list(alts)
            for end, others in _STREET_END_ALTS.items():
                if len(w) > len(end) + 1 and w.endswith(end):
                    ended += [w[: -len(end)] + o for o in others]
            alts = ended
        if alts:
            before, after = ws[:i], ws[i + 1 :]
            out += [[*before, a, *after] for a in alts]
        # a house number's letter written apart, or joined: Lindenweg 8a, Lindenweg 8 a
        # (only a word starting with a digit can be one: most words are skipped here)
        if w[:1].isdigit():
            num = _NUMBER_LETTER.fullmatch(w)
            if num:
                out.append([*ws[:i], num[1], num[2], *ws[i + 1 :]])
            elif w.isdigit() and i + 1 < len(ws) and len(ws[i + 1]) == 1 and ws[i + 1].isalpha():
                out.append([*ws[:i], w + ws[i + 1], *ws[i + 2 :]])
    return out


_NUMBER_LETTER = re.compile("([0-9]+)([^\\W\\d_])")


# Country calling codes of one and two digits (ITU-T E.164; the codes are
# prefix-free, every other one has three digits).
_CC_2 = frozenset(
    re.findall(
        r"\d\d",
        "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 "
        "60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98",
    )
)


def national_number(compact: str) -> str | None:
    """The digits of a phone number as it is written at home, without the country
    code or the trunk prefix: ``+34 612 345 678`` → ``612345678``, ``+44 20 7946
    0958`` and ``020 7946 0958`` → ``2079460958``; None when that leaves fewer than
    :data:`MIN_COMPACT` digits or is the number itself. People write their own
    number without the country code ("call her on 612 345 678"), and a source kept
    in the national form is written with it elsewhere."""
    lead = _LEADING_DIGITS.match(compact)  # (a piece of the compact form: see Pairs)
    if lead is None:
        return None
    digits = lead.group(0)
    if digits.startswith("00"):  # an international prefix, then the country code
        digits = digits[2:]
        digits = digits[_cc_length(digits) :]
    elif digits.startswith("0"):  # a trunk prefix
        digits = digits[1:]
    else:  # a country code when it is written with "+" (the words lost the sign)
        digits = digits[_cc_length(digits) :]
    if len(digits) < MIN_COMPACT or digits == compact:
        return None
    return digits


_LEADING_DIGITS = re.compile("[0-9]+")

# An IBAN's compact form: the country, two check digits, the account part (BBAN).
_IBAN = re.compile("[a-z]{2}[0-9]{2}([0-9a-z]+)")
# An identifier of a number between one or two letters (a check letter, a type
# letter): 12345678Z (Spain's DNI), X1234567L (NIE), C4100000X (a passport).
_LETTERED_ID = re.compile("([a-z]{1,2})?([0-9]{7,})([a-z]{1,2})?")


def account_part(compact: str) -> str | None:
    """An IBAN's account part (its BBAN: the IBAN without its country code and check
    digits), the account as its bank writes it: ``es9121000418450200051332`` →
    ``21000418450200051332`` (Spain's ``2100-0418-45-0200051332``); None when it is
    no IBAN's compact form or shorter than :data:`MIN_COMPACT`."""
    m = _IBAN.fullmatch(compact)
    return m.group(1) if m is not None and len(m.group(1)) >= MIN_COMPACT else None


def id_numbers(compact: str) -> list[str]:
    """An identifier's forms without the letters at one end or both, people leave
    out a check or type letter (``12345678`` of ``12345678z``; ``1234567l`` and
    ``x1234567`` of ``x1234567l``): those of :data:`MIN_COMPACT` characters or
    more, the compact form itself aside."""
    m = _LETTERED_ID.fullmatch(compact)
    if m is None or not (m.group(1) or m.group(3)):
        return []
    head, number, tail = (g or "" for g in m.groups())
    forms = dict.fromkeys((number + tail, head + number, number))
    return [f for f in forms if f != compact and len(f) >= MIN_COMPACT]


# An IBAN whose account part is a bank's code and an account, written apart by its
# bank (Germany: an 8-digit BLZ, then a 10-digit account, ``BLZ 37040044 Konto
# 0532013000``; Austria: a 5-digit bank code; the Netherlands: a 4-letter bank; the
# UK: a 4-letter bank, a 6-digit sort code, an 8-digit account, ``60-16-13
# 31926819``). Group 1: a UK sort code; 2: the account; 3: the account without its
# leading zeros when that leaves MIN_COMPACT digits or more, else its last
# MIN_COMPACT digits or more (every form holds group 3).
_ACCOUNT = re.compile(
    "(?:de[0-9]{10}|at[0-9]{7}|nl[0-9]{2}[a-z]{4}|gb[0-9]{2}[a-z]{4}([0-9]{6}))"
    f"(0*([0-9]{{{MIN_COMPACT},}}))"
)
# A zero-padded number: group 1, the number without its zeros, of 5 digits or more
_PADDED = re.compile("0+([1-9][0-9]{4,})")


def account_numbers(compact: str) -> list[str]:
    """An IBAN's account as its bank writes it apart from the bank's code (see
    :data:`_ACCOUNT`): ``de89370400440532013000`` → ``0532013000``, ``532013000``;
    ``gb29nwbk60161331926819`` → ``31926819``, and with its sort code,
    ``60161331926819``; [] for other IBANs."""
    m = _ACCOUNT.fullmatch(compact)
    if m is None:
        return []
    sort, account, cut = m.groups()
    forms = [account, cut] + ([sort + account] if sort else [])
    return list(dict.fromkeys(f for f in forms if len(f) >= MIN_COMPACT))


def unpadded(compact: str) -> list[str]:
    """A zero-padded identifier without its zeros, when that leaves 5 digits or more
    (``47113`` of ``0047113``; not ``1234`` of ``0001234``): searched as a word."""
    m = _PADDED.fullmatch(compact)
    return [m[1]] if m is not None else []


# The piece every pattern of such a value holds (see id_probe), as group 1 of a
# whole compact form: an IBAN's account part; a lettered identifier's number, when
# id_numbers gives it forms (letters on both sides, or 8 digits or more); or group 2:
# a zero-padded number without its zeros (unpadded). An IBAN of _ACCOUNT's: its
# group 3 (account_numbers), before _IBAN_PROBE.
_IBAN_PROBE = re.compile(f"[a-z]{{2}}[0-9]{{2}}([0-9a-z]{{{MIN_COMPACT},}})")
_ID_PROBE = re.compile(
    f"(?=[a-z]{{1,2}}[0-9]{{7,}}[a-z]|[a-z]{{1,2}}[0-9]{{{MIN_COMPACT}}}|[0-9]{{{MIN_COMPACT},}}[a-z])"
    f"[a-z]{{0,2}}([0-9]+)[a-z]{{0,2}}|{_PADDED.pattern}"
)
# an IBAN's probe in one pass: _ACCOUNT's group 3, else _IBAN_PROBE's group 1 (4 here)
_IBAN_PROBES = re.compile(f"{_ACCOUNT.pattern}|{_IBAN_PROBE.pattern}")


def id_probe(kind: str | None, compact: str) -> str | None:
    """The piece of a value's compact form that every pattern of it holds when it is
    shorter than the form: an IBAN's account (or account part), a lettered
    identifier's number, a padded one's without its zeros
    (tests/masking/test_redteam_numforms.py checks :func:`id_probes` agrees)."""
    pattern = _IBAN_PROBES if kind == "iban" else _ID_PROBE if kind == "id" else None
    m = pattern.fullmatch(compact) if pattern is not None else None
    if m is None:
        return None
    return (m[3] or m[4]) if kind == "iban" else (m[1] or m[2])


def id_probes(kind: str, compacts: list[str]) -> list[str]:
    """Each of ``compacts`` (values of ``kind``, "iban" or "id") as :func:`id_probe`
    cuts it, or as it is (the matches in C-level passes)."""
    iban = kind == "iban"
    found = map((_IBAN_PROBES if iban else _ID_PROBE).fullmatch, compacts)
    return [
        c if m is None else (m[3] or m[4]) if iban else (m[1] or m[2])
        for c, m in zip(compacts, found, strict=True)
    ]


# national_number of every text of a NUL-joined batch in one findall: at each text's
# start, the prefix national_number strips (an international prefix and a country
# code, a trunk prefix, or a country code; each group atomic: the lengths
# _cc_length picks, never another split) and the digits after it. A text with no
# match gets "" (an empty group): so does one whose leading digits are too few for
# its prefix, which national_number refuses as too short either way.
_CC = "(?>[17]|" + "|".join(sorted(_CC_2)) + "|[0-9]{3})"
_NATIONAL = re.compile(rf"(?:^|(?<=\x00))(?:(?>00{_CC}|0|{_CC})([0-9]*))?")


def national_numbers(compacts: list[str]) -> list[str | None]:
    """:func:`national_number` of each of ``compacts``, in one regex pass over the
    batch (tests/masking/transformers/test_known_national.py checks they agree)."""
    if not compacts:
        return []
    joined = "\x00".join(compacts)
    if joined.count("\x00") != len(compacts) - 1:
        return list(map(national_number, compacts))  # a text holding NUL: one at a time
    rests = _NATIONAL.findall(joined)  # one match at each text's start, none elsewhere
    return [
        r if len(r) >= MIN_COMPACT and r != c else None
        for r, c in zip(rests, compacts, strict=True)
    ]


def _cc_length(digits: str) -> int:
    if digits[:1] in ("1", "7"):
        return 1
    return 2 if digits[:2] in _CC_2 else 3


def _local_parts(kinds: Sequence[str | None], values: Sequence[str]) -> dict[int, str]:
    """Index → the pattern of the local part of each e-mail among ``values`` (of
    ``kinds``), searched on its own: a login ``jg1987``, or ``jg1987 [at] corp [dot]
    example`` written out. Only a local part of five characters or more that holds a
    digit: one without is a role (``info@``) or a name, which the row's name
    columns give (one C-level pass over the batch's e-mails)."""
    at = [i for i, k in enumerate(kinds) if k == "email" and "@" in values[i]]
    out: dict[int, str] = {}
    for i, n in zip(at, norm_many([values[i].rpartition("@")[0] for i in at]), strict=True):
        if len(n) >= 7 and any(map(str.isdigit, n)):  # padded: five characters or more
            out[i] = n
    return out


_NUMBER = re.compile(r"[0-9]+[^\W\d_]?")


# the words written between a street and its house number: "Hauptstraße Nr. 5",
# "Calle Mayor No. 7" ("nº" folds to "no", "nª" to "na"), "Via Roma n. 12", "núm.",
# "número" (French "numéro", Italian "numero"), "n°" (folds to "n"), English "number",
# German "Nummer", "Hausnummer", "Hausnr.", Dutch "huisnummer", Italian "civico",
# "civ."; "#" is no word ("Alcalá #42" is the core next to its number)
NUMBER_MARKS: tuple[str, ...] = ("no", "nr", "n", "num", "numero", "nro", "na", "number")
NUMBER_MARKS += ("nummer", "hausnummer", "hausnr", "huisnummer", "civico", "civ")
_MARKS = frozenset(NUMBER_MARKS)


def _house_number_moved(ws: list[str]) -> list[tuple[str, bool]]:
    """A street with its house number on the other side: ``Ganthrivweg 14`` is also
    ``14 Ganthrivweg``, ``222 Ganthriv Lane`` also ``Ganthriv Lane 222`` (when the
    rest names the street without digits), and the number after a mark
    (:data:`NUMBER_MARKS`): ``Ganthrivweg Nr. 14``, ``Ganthriv Lane No. 222``."""
    # (any(map(str.isdigit, ...)) over the joined words: a C-level pass over the
    # characters, not a generator's Python per character)
    if _NUMBER.fullmatch(ws[-1]) and not any(map(str.isdigit, "".join(ws[:-1]))):
        street, number = " ".join(ws[:-1]), ws[-1]
        first = f" {number} {street} "
    elif _NUMBER.fullmatch(ws[0]) and not any(map(str.isdigit, "".join(ws[1:]))):
        street, number = " ".join(ws[1:]), ws[0]
        first = f" {street} {number} "
    else:
        return []
    return [(first, False), *((f" {street} {m} {number} ", False) for m in NUMBER_MARKS)]


def without_flat(ws: Sequence[str]) -> list[str] | None:
    """The words of a street that holds its flat or more after it, without those:
    ``Calle Mayor 7, 2ºB`` → ``calle mayor 7``, ``Ganthrivweg 14, 3B`` →
    ``ganthrivweg 14`` (a name and street word, then the first word with a digit, a
    house number, with more than one letter after it), ``14 Ganthriv Lane, Apt 3`` →
    ``14 ganthriv lane`` (a house number, a name, then an English street word, with
    more after it); None for any other street. People write the street without the
    flat. And a street with its flat before it (:func:`_flat_first`), without it:
    ``Flat 3B, 14 Ganthriv Lane`` → ``14 ganthriv lane``, ``3/14 Ganthriv Lane`` too."""
    if len(ws) < 3:
        return None
    lead = _flat_first(ws)
    if lead:
        after = list(ws[lead:])
        street = without_flat(after) or after
        return street if _is_street(street) else None
    if _NUMBER.fullmatch(ws[0]):
        for k in range(1, len(ws) - 1):
            if any(map(str.isdigit, ws[k])):
                return None
            if ws[k] in _EN_STREET:
                named = any(v not in _ANY_STREET for v in ws[1:k])
                return list(ws[: k + 1]) if named else None
        return None
    for i, w in enumerate(ws):
        if any(map(str.isdigit, w)):
            rest = ws[i + 1 :]
            if (
                not rest
                or (len(rest) == 1 and len(rest[0]) == 1)  # Lindenweg 8 a: its house number
                or all(v in _ANY_STREET for v in ws[:i])  # (no name)
                or not _NUMBER.fullmatch(w)
                or not any(v in _ANY_STREET or v.endswith(_DE_NL_ENDS) for v in ws[:i])
            ):
                return None
            return list(ws[: i + 1])
    return None


# the words that name a flat written before its street (Flat 3B, 14 Ganthriv Lane;
# Apt 3, ...; Piso 2, Calle Mayor 7; Whg. 3, Ganthrivweg 14)
FLAT_WORDS = frozenset(
    {"flat", "apt", "apartment", "appt", "unit", "suite", "ste", "piso", "dpto", "depto"}
    | {"whg", "wohnung", "app"}
)


def _flat_first(ws: Sequence[str]) -> int:
    """How many of a street's first words are a flat before it: a flat word and its
    number (``flat 3b``), or a unit number before the house number, as Australians
    write it (``3/14 Ganthriv Lane``: ``3 14 ganthriv lane``); 0 for none."""
    if ws[0] in FLAT_WORDS and _NUMBER.fullmatch(ws[1]):
        return 2
    if _NUMBER.fullmatch(ws[0]) and _NUMBER.fullmatch(ws[1]):
        return 1
    return 0


def _is_street(ws: Sequence[str]) -> bool:
    """Whether the words ``ws`` (a street cut from a longer value) hold a house number,
    a street word and a word of a name."""
    return (
        len(ws) > 1
        and any(map(str.isdigit, "".join(ws)))
        and any(w in _ANY_STREET or w.endswith(_DE_NL_ENDS) for w in ws)
        and any(w.isalpha() and w not in _ANY_STREET and w not in FLAT_WORDS for w in ws)
    )


def _folded_words(table: dict[str, tuple[str, ...]]) -> frozenset[str]:
    return frozenset(w for form in written_forms(table) for w in words(form))


_EN_STREET = _folded_words(EN_STREET_WORDS)
_ANY_STREET = _EN_STREET | _folded_words(ROMANCE_STREET_WORDS)
_ANY_STREET |= _folded_words(KNOWN_STREET_WORDS)
_DE_NL_ENDS = tuple(_folded_words(DE_NL_STREET_SUFFIXES))
_ANY_STREET |= frozenset(_DE_NL_ENDS)
_SWAP_BEFORE = frozenset(w for form in SWAP_BEFORE for w in words(form))
_SWAP_AFTER = frozenset(w for form in SWAP_AFTER for w in words(form))
# what is not a street's name (_core_forms, street_anchor): its street words, written
# any way the table knows (the words the probe of Pairs leaves out; SWAP_BEFORE and
# SWAP_AFTER are searched next to the core, not cut from the row's own street)
_NOT_CORE = _ANY_STREET | frozenset(_STREET_WORD_ALTS)


_NL_POSTCODE = re.compile(r"([0-9]{4})([a-z]{2})")


def _postcode_spacings(ws: list[str], compact: str) -> list[tuple[str, bool]]:
    """A postcode as it is written with or without its space: ``SW1A 1AA`` is also
    ``SW1A1AA``; ``K1A0B1`` (and ``SW1A1AA``) also ``K1A 0B1``, the inward code of
    three characters apart; ``1012AB`` also ``1012 AB`` (Dutch digits, letters)."""
    if not (any(c.isdigit() for c in compact) and any(c.isalpha() for c in compact)):
        return []  # all digits: a number written otherwise is another number
    if len(ws) > 1:
        return [(f" {compact} ", False)] if len(compact) >= 5 else []
    out = []
    outward, inward = compact[:-3], compact[-3:]
    if 5 <= len(compact) <= 7 and inward[0].isdigit() and not outward.isdigit():
        out.append((f" {outward} {inward} ", False))
    nl = _NL_POSTCODE.fullmatch(compact)
    if nl:
        out.append((f" {nl[1]} {nl[2]} ", False))
    return out


def patterns_many(known: Sequence[tuple[str, str]]) -> list[tuple[tuple[str, bool], ...]]:
    """:func:`patterns` of every ``(transformer, value)`` pair of a batch; the values
    not seen recently are folded and split into words in a few C-level passes over
    the whole batch (:func:`norm_many`) instead of one regex call per value."""
    return _cached(_MANY, known, _patterns_of)


_MANY: dict[tuple[str, str], Any] = {}
_CACHE_MAX = 1 << 18


def _cached(
    cache: dict[tuple[str, str], Any],
    known: Sequence[tuple[str, str]],
    build: Callable[[str | None, list[str]], Any],
) -> list[Any]:
    """``build(kind, words)`` of every ``(transformer, value)`` pair, from ``cache``;
    the values not in it are normalised in one :func:`norm_many` pass."""
    got = list(map(cache.get, known))
    miss = [i for i, g in enumerate(got) if g is None]
    if miss:
        if len(cache) + len(miss) > _CACHE_MAX:
            cache.clear()
        todo = list(dict.fromkeys(known[i] for i in miss))
        kinds = {t: pattern_kind(t) for t in set(map(itemgetter(0), todo))}  # (once each)
        normed = norm_many([v for _, v in todo])
        for tv, n in zip(todo, normed, strict=True):
            cache[tv] = tuple(build(kinds[tv[0]], n.split()))
        # an e-mail's local part on its own (see _local_parts)
        local = _local_parts([kinds[t] for t, _ in todo], [v for _, v in todo])
        for j, pattern in local.items():
            cache[todo[j]] += ((pattern, False),)
        for j in _spellable(todo):  # Müller is also Mueller
            tv = todo[j]
            others = [build(kinds[tv[0]], words(o)) for o in spellings(*tv)]
            merged = list(chain(cache[tv], *others))
            # (a street's core marks first, as _patterns_of gives them: Pairs.hits)
            marks = [m for m in merged if m[0][:1] == CORE]
            cache[tv] = tuple(dict.fromkeys(chain(marks, merged)))
        for i in miss:
            got[i] = cache[known[i]]
    return got


# What verify searches a row's text for is what text_scrub searches: since the
# street forms (:func:`_street_forms`) are text_scrub's patterns too (before,
# text_scrub left ``Ganthriv Ln. 22`` to its street detector, which takes an
# English street only with its number first, and verify failed the unedited plan's
# run), verify's names for them are the same functions, with the same cache.
_checked_patterns_of = _patterns_of
checked_patterns_many = patterns_many
checked_patterns = patterns


def known_patterns(known: Iterable[tuple[str, str]]) -> list[tuple[str, bool, str]]:
    """``(pattern, compact, kind)`` of every known value of one row, longest first
    (the patterns verify searches too: :data:`checked_patterns`)."""
    seen: dict[tuple[str, bool], str] = {}
    for transformer, value in known:
        for p, c in patterns(transformer, value):
            seen.setdefault((p, c), kind_of(transformer) or "id")
    return sorted(((p, c, k) for (p, c), k in seen.items()), key=lambda x: -len(x[0]))


def row_hits(
    known: Sequence[Known], normed: Sequence[str], compact: Sequence[str]
) -> list[list[tuple[str, bool, str]]]:
    """For each row ``k`` of a batch: the patterns of ``known[k]`` that occur in its
    :func:`norm` text ``normed[k]`` (compact ones in ``compact[k]``), longest first,
    each with the kind of the first known value that gives it.

    The same answer as testing each pattern of each row in a loop (what
    ``text_scrub`` did per row; tests/masking/transformers/test_text_scrub_known.py
    checks the two agree), but the batch's (row, pattern) pairs are laid out flat
    and tested with one C-level ``map(str.__contains__, ...)``: Python runs only for
    the pairs that are found.
    """
    return Pairs(known).hits(compact, lambda rows: list(map(normed.__getitem__, rows)))


def texts_hits(known: Sequence[Known], texts: Sequence[str]) -> list[list[tuple[str, bool, str]]]:
    """:func:`row_hits` of raw texts (see :meth:`Pairs.texts_hits`)."""
    return Pairs(known).texts_hits(texts)


def rows_with_candidates(known: Sequence[Known], texts: Sequence[str]) -> list[bool]:
    """For each row: whether any of its known values can have a pattern in its text.

    The first test :func:`texts_hits` makes (see :meth:`Pairs.candidates`): False
    means texts_hits finds none of the row's values in this text, nor in any text
    whose folded words run inside this text's (a JSON string inside its document's
    text, when the document has no escapes)."""
    out = [False] * len(known)
    pairs = pairs_of(known)
    if pairs.flat:
        compact = _spaced_many(list(texts), compact=True)
        for row in np.unique(pairs.row[pairs.candidates(compact)]).tolist():
            out[row] = True
    return out


class Pairs:
    """The (row, known value) pairs of a batch and each value's probes, built once
    and tested against any texts of the batch's rows: text_scrub tests the same
    values against each note and then against the scrubbed note, so the values are
    folded and split once per batch (in C-level passes; no per-value Python)."""

    __slots__ = ("flat", "forms", "joined", "multi", "n", "named", "row", "spaced")

    def __init__(self, known: Sequence[Known]) -> None:
        self.n = n = len(known)
        self.flat: list[tuple[str, str]] = list(chain.from_iterable(known))
        m = len(self.flat)
        self.row: np.ndarray = np.repeat(np.arange(n), np.fromiter(map(len, known), np.int64, n))
        flat = self.flat
        # each pair's kind as a small code, in one pass (see _KIND_CODE): the kinds
        # tested below are NumPy comparisons instead of a pass over the pairs each
        codes = np.fromiter(map(_KIND_CODE.__getitem__, map(_first, flat)), np.int8, m)
        named = codes == _C_NAME
        # a row's names of two columns joined (joined_names): probed by its names
        # (see candidates), not folded here
        self.joined: np.ndarray = codes == _C_JOINED
        self.named: np.ndarray = named.copy()
        values = list(map(_second, flat))
        # spelt otherwise (Müller is also Mueller): probed by the words of all spellings
        for i in _spellable(flat):
            alike = spellings(*flat[i])
            if alike:
                values[i] = " ".join((flat[i][1], *alike))
                named[i] = True
                if codes[i] == _C_STREET:  # (its street words cut: see below)
                    values[i] = _STREET_WORD.sub(" ", " ".join(words(values[i])))
                    if not any(
                        map(str.isalnum, _STREET_WORD.sub(" ", " ".join(words(flat[i][1]))))
                    ):
                        values[i] = ""  # (street words alone: in every text)
                        named[i] = False
        if self.joined.any():
            named &= ~self.joined
            for j in np.flatnonzero(self.joined).tolist():
                values[j] = ""
        # a street's compact form without its house number, which may stand on either
        # side (see _patterns_of), and only its first run of words without a street
        # word, which a variant may write otherwise (_street_forms: Ganthriv Lane as
        # Ganthriv Ln., Calle Mayor as C/ Mayor, Hauptstraße as Hauptstr.), or a digit
        # (a flat after it: without_flat): "ganthriv", "mayor", "haupt"
        streets = np.flatnonzero((codes == _C_STREET) & ~named).tolist()
        if streets:
            joined = "\x00".join(values[j] for j in streets)
            if joined.count("\x00") == len(streets) - 1:
                bare = _HOUSE_NUMBER.sub("", joined).split("\x00")
            else:  # a value holding NUL itself (SQLite text can): one at a time
                bare = [_HOUSE_NUMBER.sub("", values[j]) for j in streets]
            for j, c, b in zip(streets, _street_cores(bare), bare, strict=True):
                if any(map(str.isalnum, c)):
                    values[j] = c
                elif any(map(str.isalnum, b)):
                    values[j] = ""  # street words (and digits) alone: in every text
        # a phone's national number and an e-mail's local part are patterns of their
        # own (see _patterns_of): probed by those, pieces of the whole value's form
        # (an e-mail's local part: rsplit's first piece is the text before the last "@",
        # or the whole value without one; C-level passes over the batch's e-mails)
        emails = np.flatnonzero(codes == _C_EMAIL).tolist()
        at_sign = repeat("@")
        parts = map(str.rsplit, map(values.__getitem__, emails), at_sign, repeat(1))
        for j, local in zip(emails, map(_first, parts), strict=True):
            values[j] = local
        self.spaced, self.forms = _spaced_and_compact(values)
        # (the compact form is the words the national number is cut from)
        phones = np.flatnonzero(codes == _C_PHONE).tolist()
        forms = self.forms
        national = national_numbers(list(map(forms.__getitem__, phones)))
        for j, got in zip(phones, national, strict=True):
            if got is not None:
                forms[j] = got
        # an IBAN by its account part, a lettered identifier by its number (see
        # id_probe: every pattern of theirs holds it)
        for code, kind in ((_C_IBAN, "iban"), (_C_ID, "id")):
            cut = np.flatnonzero(codes == code).tolist()
            if cut:
                probes = id_probes(kind, list(map(forms.__getitem__, cut)))
                for j, probe in zip(cut, probes, strict=True):
                    forms[j] = probe
        # a date of birth is probed by its year's last two digits, which every
        # writing of it holds (_birthdates.date_hits: 06/09/1948, 6th Sep '48)
        for j in np.flatnonzero(codes == _C_DATE).tolist():
            forms[j] = forms[j][2:4]
        if named.any():
            # spaced forms hold word characters (str.isalnum) and spaces: isalnum is
            # "exactly one word"
            at = np.flatnonzero(named)
            spaced = map(self.spaced.__getitem__, at.tolist())
            named[at] = ~np.fromiter(map(str.isalnum, spaced), bool, len(at))
        self.multi: np.ndarray = named  # names of several words (or none)

    def take(self, rows: Sequence[int]) -> Pairs:
        """The pairs of the rows ``rows`` (in that order, a row may come twice): what
        ``Pairs([known[r] for r in rows])`` builds, taken from these pairs instead of
        folded and split again (each pair's probes depend on its value alone)."""
        at = np.asarray(rows, dtype=np.int64).reshape(-1)
        if len(at) == self.n and np.array_equal(at, np.arange(self.n)):
            return self  # every row, in order (a batch's pairs are not changed once made)
        counts = np.bincount(self.row, minlength=self.n).astype(np.int64)
        starts = np.zeros(self.n + 1, np.int64)
        np.cumsum(counts, out=starts[1:])
        got = counts[at]
        total = int(got.sum())
        # the pair indices of each picked row, one after the other
        before = np.zeros(len(at), np.int64)
        np.cumsum(got[:-1], out=before[1:])
        idx = np.repeat(starts[at] - before, got) + np.arange(total, dtype=np.int64)
        out = Pairs.__new__(Pairs)
        out.n = len(at)
        out.row = np.repeat(np.arange(len(at)), got)
        picked = idx.tolist()
        out.flat = list(map(self.flat.__getitem__, picked))
        out.forms = list(map(self.forms.__getitem__, picked))
        out.spaced = list(map(self.spaced.__getitem__, picked))
        out.multi = self.multi[idx]
        out.joined = self.joined[idx]
        out.named = self.named[idx]
        return out

    def candidates(self, compact: Sequence[str], sel: np.ndarray | None = None) -> np.ndarray:
        """Indices of the pairs (of ``sel``, default all) whose value can have a
        pattern in its row's text; ``compact[r]`` is the compact text of row ``r``.

        Every pattern of a value holds its words: a word pattern ``" a b "`` found
        in the :func:`norm` text puts ``"ab"`` in the compact text, a compact one is
        ``"ab"`` itself. So a name (searched by its parts) can only be found when one
        of its words is in the row's compact text, any other value only when its
        compact form is. A one-word name's word is its compact form, so every value
        gets the same test, in one C-level pass over the pairs; only names of several
        words (or none) are tested word by word. Only the values that pass get their
        patterns built (most rows' text holds none of its values)."""
        if sel is None:
            rows = self.row.tolist()
            forms = self.forms
            multi = np.flatnonzero(self.multi)
        else:
            rows = self.row[sel].tolist()
            forms = list(map(self.forms.__getitem__, sel.tolist()))
            multi = np.flatnonzero(self.multi[sel])
        hay = list(map(compact.__getitem__, rows))
        hit = np.fromiter(map(str.__contains__, hay, forms), bool, len(rows))
        for j in multi.tolist():
            h = hay[j]
            hit[j] = any(w in h for w in self.spaced[j if sel is None else sel[j]].split())
        joined = self.joined if sel is None else self.joined[sel]
        if joined.any():
            # a row's joined names (joined_names): each of their patterns is one of
            # the row's names' or holds their words, so they can be found only
            # where one of the row's names can
            at = np.asarray(rows, dtype=np.int64)
            named = hit & (self.named if sel is None else self.named[sel]) & ~joined
            has = np.zeros(self.n, bool)
            has[at[named]] = True
            hit[joined] = has[at[joined]]
        keep = np.flatnonzero(hit)
        return keep if sel is None else sel[keep]

    def texts_hits(
        self, texts: Sequence[str], rows: list[int] | None = None
    ) -> list[list[tuple[str, bool, str]]]:
        """:func:`row_hits` of the raw texts of ``rows`` (default all; the other rows
        get ``[]``): the compact forms come from one C-level pass
        (:func:`_spaced_many`), the :func:`norm` forms only for the texts that have
        a candidate value (most have none), in one :func:`norm_many` pass."""
        sel = None
        if rows is None:
            compact = _spaced_many(list(texts), compact=True)
        else:
            compact = [""] * self.n
            for r, c in zip(
                rows, _spaced_many([texts[r] for r in rows], compact=True), strict=True
            ):
                compact[r] = c
            mask = np.zeros(self.n, bool)
            mask[rows] = True
            sel = np.flatnonzero(mask[self.row])

        def normed(need_rows: list[int]) -> list[str]:
            need = list(dict.fromkeys(need_rows))
            done = dict(zip(need, norm_texts([texts[r] for r in need]), strict=True))
            return list(map(done.__getitem__, need_rows))

        return self.hits(compact, normed, sel)

    def hits(
        self,
        compact: Sequence[str],
        normed: Callable[[list[int]], list[str]],
        sel: np.ndarray | None = None,
    ) -> list[list[tuple[str, bool, str]]]:
        """:func:`row_hits` of the pairs ``sel`` (default all), with ``normed(rows)``
        giving the :func:`norm` texts of ``rows``; rows without a pair get ``[]``."""
        out: list[list[tuple[str, bool, str]]] = [[] for _ in range(self.n)]
        if not self.flat:
            return out
        keep = self.candidates(compact, sel).tolist()
        if not keep:
            return out
        # few values pass (about one per row whose text holds one): a plain loop
        # over their patterns costs less than laying them out for a C-level pass
        flat = list(map(self.flat.__getitem__, keep))
        rows = self.row[keep].tolist()
        norm_of = dict(zip(rows, normed(rows), strict=True))
        found: dict[int, dict[tuple[str, bool], str]] = {}
        for r, (transformer, _), pats in zip(rows, flat, patterns_many(flat), strict=True):
            seen = False
            for pc in pats:
                if pc[0] in (compact[r] if pc[1] else norm_of[r]):
                    seen = True
                    mine = found.get(r)
                    if mine is None:
                        mine = found[r] = {}
                    if pc not in mine:
                        # kind_of(transformer): a value of a NOT_KNOWN column has no pattern
                        mine[pc] = KIND.get(transformer, "id")
            if not seen and pats and pats[0][0][:1] == CORE:
                _core_found(pats, norm_of[r], found.setdefault(r, {}), KIND[transformer])
        for r, mine in found.items():
            if len(mine) == 1:
                (((p, c), kind),) = mine.items()
                out[r] = [(p, c, kind)]
            else:
                out[r] = sorted(
                    ((p, c, kind) for (p, c), kind in mine.items()), key=lambda x: -len(x[0])
                )
        return out


class KnownBatch(list[Known]):
    """A batch's known values (row ``i``'s :data:`Known` at index ``i``) whose
    :class:`Pairs` are built once, at first use, and shared by every consumer of the
    batch: the engine hands one to each column whose transformer takes known values
    (an order's note and its JSON document test the same values), and :func:`pick`
    gives a consumer's rows as a KnownBatch sharing them. Not to be changed once made
    (its pairs would no longer be its values')."""

    def __init__(self, rows: Iterable[Known] = ()) -> None:
        super().__init__(rows)
        self._root: KnownBatch = self
        self._at: list[int] | None = None  # rows of the root, for a picked batch
        self._pairs: Pairs | None = None  # (built on the root only)

    def pick(self, rows: Sequence[int]) -> KnownBatch:
        """``[self[i] for i in rows]``, sharing the root batch's pairs."""
        out = KnownBatch(map(self.__getitem__, rows))
        out._root = self._root
        out._at = list(rows) if self._at is None else list(map(self._at.__getitem__, rows))
        return out

    def pairs(self) -> Pairs:
        """:class:`Pairs` of these rows (the root's, built once, or taken from them)."""
        root = self._root
        built = root._pairs
        if built is None:
            built = root._pairs = Pairs(root)
        return built if self._at is None else built.take(self._at)


def pick(known: Sequence[Known], rows: Sequence[int]) -> list[Known]:
    """``[known[i] for i in rows]``; a :class:`KnownBatch`'s pick shares its pairs."""
    if isinstance(known, KnownBatch):
        return known.pick(rows)
    return list(map(known.__getitem__, rows))


def pairs_of(known: Sequence[Known]) -> Pairs:
    """``Pairs(known)``; those of a :class:`KnownBatch` are built once per batch."""
    return known.pairs() if isinstance(known, KnownBatch) else Pairs(known)


_first = itemgetter(0)
_second = itemgetter(1)
# the transformers whose values are names: searched by their parts (see _patterns_of)
_NAME_TRANSFORMERS = frozenset(t for t, k in KIND.items() if k == "name")
# the transformers whose values may be spelt otherwise (see spellings), and streets
_SPELT = frozenset(t for t, k in KIND.items() if k in _SPELT_KINDS)
_STREETS = frozenset(t for t, k in KIND.items() if k == "street")
_PROBED_BY_PART = frozenset(t for t, k in KIND.items() if k in ("phone", "email"))
# the kinds Pairs tells apart, by transformer (any other transformer: 0)
_C_NAME, _C_STREET, _C_EMAIL, _C_PHONE, _C_JOINED, _C_DATE = 1, 2, 3, 4, 5, 6
_C_IBAN, _C_ID = 7, 8


class _KindCodes(dict[str, int]):
    """Transformer → kind code; a transformer not listed is an identifier's (see
    :func:`kind_of`: ``fpe_alnum``, ``fpe_integer``, ...) or no value's, asked once."""

    def __missing__(self, transformer: str) -> int:
        code = self[transformer] = _C_ID if kind_of(transformer) == "id" else 0
        return code


_KIND_CODE = _KindCodes(
    {
        t: {
            "name": _C_NAME,
            "street": _C_STREET,
            "email": _C_EMAIL,
            "phone": _C_PHONE,
            "iban": _C_IBAN,
            DATE_KIND: _C_DATE,
        }.get(k, 0)
        for t, k in KIND.items()
    }
    | {JOINED: _C_JOINED}  # (probed by its compact form: see joined_names)
)
# a street's house number, first or last (``14`` of ``Ganthrivweg 14``, ``222 …``).
# Every match starts with a digit: the pattern starts with that digit, which lets the
# regex engine skip to the digits instead of trying both alternatives at every
# position (a leading lookahead did so too, 2x slower); what stood before the first
# digit is asked after it, by lookbehinds two characters wide: the start of a value
# (NUL or the text's start before it) or of a word (no word character before it, as
# ``\b`` before a digit). The same matches: tests/masking/transformers/test_known_patterns.py
_HOUSE_NUMBER = re.compile(
    r"[0-9](?:(?<![^\x00][0-9])[0-9]*[^\W\d_]?\b|(?<!\w[0-9])[0-9]*[^\W\d_]?(?=\s*(?:\x00|$)))"
)
# a street word in a value's folded words (whole: any of _streetwords, Lane, Ln,
# Calle, C, Weg; or a word's ending that street_variants writes otherwise: the straße
# of Hauptstraße, after two letters or more)
_STREET_WORD = re.compile(
    "\\b(?:"
    + "|".join(sorted(map(re.escape, _ANY_STREET | set(_STREET_WORD_ALTS)), key=len, reverse=True))
    + ")\\b|(?<=\\w\\w)(?:"
    + "|".join(sorted(map(re.escape, _STREET_END_ALTS), key=len, reverse=True))
    + ")\\b"
)
# what a value's probe keeps (see Pairs): its first run of words that holds neither a
# street word of _STREET_WORD nor a house number (digits and at most a letter: where
# without_flat cuts a street; one first is not the run's start, as a house number the
# value's first word may be moved: 7 Calle Mayor as Calle Mayor 7), nor a flat word
# before the street, which without_flat cuts, nor particles before a word of letters,
# which _regrouped drops after a street word (Flat 3B, 14 Ganthriv Lane; Calle de
# Alcalá). _street_cores marks street words and house numbers \x01 by a dict lookup
# per word (a word ending in a street word, the straße of Hauptstraße, keeps its stem:
# Haupt\x01), not by _STREET_WORD: one regex of some eighty alternatives tried at
# every character cost ~0.7 s per 300 k free-text rows; only a street holding a flat
# word or a particle takes _STREET_WORD, _LEADING_CUTS and _AFTER_CUT.
_STREET_MARKS: dict[str, str] = dict.fromkeys(_ANY_STREET | set(_STREET_WORD_ALTS), "\x01")
_ENDINGS = frozenset(_STREET_END_ALTS)
_ENDS_WITH_ENDING = methodcaller("endswith", tuple(_STREET_END_ALTS))
_LEAD = " \x01"
_CUT_WORDS = FLAT_WORDS | _STREET_PARTICLES
_LEADING_CUTS = re.compile(
    "(?:^|(?<=\x00))(?:[^\\w\x00\x01]*\\b(?:"
    + "|".join(sorted(FLAT_WORDS, key=len, reverse=True))
    + ")[^\\w\x00\x01]+[0-9]+[^\\W\\d_]?\\b)?(?:[^\\w\x00]|\\b[0-9]+[^\\W\\d_]?\\b|\\b(?:"
    + "|".join(sorted(_STREET_PARTICLES, key=len, reverse=True))
    + ")\\b(?=[^\\w\x00\x01]+[^\\W\\d_]))*"
)
_AFTER_CUT = re.compile("(?:\x01|\\b[0-9]+[^\\W\\d_]?\\b)[^\x00]*")


def _street_cores(bare: list[str]) -> list[str]:
    """The words of each of the streets ``bare`` (without their house number),
    folded, that every form :func:`_street_forms` writes holds side by side, and so
    does the street :func:`without_flat` cuts: its first run of words without a
    house number or a street word (a changed ending ends the run after its stem):
    ``ganthriv`` of ``Ganthriv Lane``, ``mayor`` of ``Calle Mayor 7, 2ºB``,
    ``haupt`` of ``Hauptstraße`` (the spaces up to the cut kept: ``ganthriv ``).

    C-level passes over the batch's words: each word is looked up in a dict of the
    words to mark (:data:`_STREET_MARKS`, and the batch's few words that are a house
    number or end in a street word, found among its distinct words), the marked
    text is cut per street by ``lstrip`` and ``partition``. The same cores as
    :data:`_STREET_WORD`, ``_LEADING_CUTS`` and ``_AFTER_CUT`` over the joined
    batch gave (tests/masking/transformers/test_street_cores.py keeps those)."""
    spaced, _ = _spaced_and_compact(bare)  # (words of word characters, spaces; no NUL)
    # every NUL a word of its own, so that the words split at the spaces alone
    words_ = " \x00 ".join(spaced).split(" ")
    odd = set(words_)
    cut = not odd.isdisjoint(_CUT_WORDS)
    odd.difference_update(_STREET_MARKS)
    more = dict.fromkeys(filter(_NUMBER.fullmatch, odd), "\x01")
    for w in filter(_ENDS_WITH_ENDING, odd.difference(more)):
        # the leftmost ending after two characters or more (_STREET_WORD's lookbehind)
        stem = next((w[:k] for k in range(2, len(w)) if w[k:] in _ENDINGS), None)
        if stem is not None:
            # a stem of a house number's shape is cut as one: the whole word
            more[w] = "\x01" if _NUMBER.fullmatch(stem) else stem + "\x01"
    marks = {**_STREET_MARKS, **more} if more else _STREET_MARKS
    marked = " ".join(map(marks.get, words_, words_)).split(" \x00 ")
    cores = list(
        map(_first, map(str.partition, map(str.lstrip, marked, repeat(_LEAD)), repeat("\x01")))
    )
    if cut:
        # a street holding a flat word or a particle: the regex passes, whose cuts
        # of those words depend on what follows them (a flat word its number, a
        # particle a word of letters)
        at = [i for i, s in enumerate(spaced) if not _CUT_WORDS.isdisjoint(s.split(" "))]
        if at:
            joined = _STREET_WORD.sub("\x01", "\x00".join([spaced[i] for i in at]))
            for i, c in zip(
                at, _AFTER_CUT.sub("", _LEADING_CUTS.sub("", joined)).split("\x00"), strict=True
            ):
                cores[i] = c
    return cores


def _spaced_many(texts: list[str], compact: bool = False) -> list[str]:
    """Each text folded, every run of non-word characters a space (the words of
    :func:`norm_many`, unsqueezed: ``str.split`` gives them), in C-level passes;
    with ``compact``, the words joined without the spaces."""
    spaced, joined = _spaced_and_compact(texts, readings=True)
    return joined if compact else spaced


def _spaced_and_compact(texts: list[str], readings: bool = False) -> tuple[list[str], list[str]]:
    """:func:`_spaced_many` of ``texts`` and their compact forms, from one fold; with
    ``readings`` (texts to search, not values), a text's other reading after it,
    behind :data:`READINGS` (see :func:`norm_texts`)."""
    if not texts:
        return [], []
    if readings:
        spaced_texts, compact_texts = _spaced_and_compact(texts)
        other = _other_readings(texts)
        if other:
            more = _spaced_and_compact(list(other.values()))
            for i, s, c in zip(other, *more, strict=True):
                spaced_texts[i] += READINGS + s
                compact_texts[i] += READINGS + c
        split = split_readings(texts, tokens_only=True)  # a decoded base64 token
        if split:
            for i, s, c in zip(split, *_spaced_and_compact(list(split.values())), strict=True):
                spaced_texts[i] += READINGS + s
                compact_texts[i] += READINGS + c
        return spaced_texts, compact_texts
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(texts) - 1:
        ws = list(map(words, texts))
        return [" ".join(w) for w in ws], ["".join(w) for w in ws]
    folded = fold_known(_spaced(joined))
    spaced = folded.translate(_ASCII_NONWORD) if folded.isascii() else _NONWORD.sub(" ", folded)
    return spaced.split("\x00"), spaced.replace(" ", "").split("\x00")


def find_known(
    text: str,
    pats: Sequence[tuple[str, bool, str]],
    may_break: bool | None = None,
    may_split: bool | None = None,
) -> list[tuple[int, int, str]]:
    """:func:`find_one_reading` of ``text`` and, when it has one, of its other reading
    (:func:`other_reading`: a JSON ``\\n`` before a word a space, ``Carras-`` newline
    ``co`` joined), mapped back: each span covers the characters that write it in
    ``text`` (overlapping spans merged). ``may_break``: whether the text has another
    reading, when the caller has told it for a batch (:func:`breaking`); ``may_split``:
    whether its split reading may find more, told for a batch (:func:`split_words`,
    :func:`may_find_more_many`)."""
    spans = find_one_reading(text, pats)
    split = _split_spans(text, pats, may_split) if pats else []
    if split:  # (a login carrasco87, a base64 token: _readings)
        spans = merged_spans(spans + split)
    if not pats or not (_may_break(text) if may_break is None else may_break):
        return spans
    more = _read_back(text, _BREAKS, pats)
    if "<" in text and _IN_WORD_TAGS.search(text) is not None:  # (glued_reading)
        more += _read_back(text, _GLUED, pats)
    if not more:
        return spans
    return merged_spans(spans + more)


def _read_back(
    text: str, breaks: re.Pattern[str], pats: Sequence[tuple[str, bool, str]]
) -> list[tuple[int, int, str]]:
    """:func:`find_one_reading` of ``text`` read with each match of ``breaks`` as
    :func:`_broken` writes it, mapped back to the characters that write each span."""
    other: list[str] = []
    origin: list[int] = []  # the position in ``text`` of each character of ``other``
    pos = 0
    for m in breaks.finditer(text):
        other.append(text[pos : m.start()])
        origin += range(pos, m.start())
        if _broken(m):
            other.append(" ")
            origin.append(m.start())
        pos = m.end()
    other.append(text[pos:])
    origin += range(pos, len(text))
    return [(origin[s], origin[e - 1] + 1, k) for s, e, k in find_one_reading("".join(other), pats)]


def _longest_first(span: tuple[int, int, str]) -> tuple[int, int, str]:
    return span[0], -span[1], span[2]


def merged_spans(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """``spans`` in order, overlapping ones merged (the kind of the first one, the
    longest of those starting first: an e-mail ``ana.ganthriv7@…`` found whole and its
    mailbox's name ``ana`` read apart stay an e-mail, replaced by an e-mail pseudonym,
    not by a name)."""
    merged: list[tuple[int, int, str]] = []
    for s, e, k in sorted(spans, key=_longest_first):
        if merged and s < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]), merged[-1][2])
        else:
            merged.append((s, e, k))
    return merged


def split_words(pats: Sequence[tuple[str, bool, str]]) -> set[str]:
    """The words of the word patterns ``pats``: what :func:`may_find_more` asks about."""
    return {w for p, c, _ in pats if not c for w in p.split()}


def _split_spans(
    text: str, pats: Sequence[tuple[str, bool, str]], may_split: bool | None = None
) -> list[tuple[int, int, str]]:
    """:func:`find_one_reading` of the split reading of ``text`` (``_readings``: a
    letter set apart from the digits after it, a base64 token decoded), mapped back
    to the characters that write each span (a decoded token: all of it).
    ``may_split``: :func:`may_find_more` of the text, when the caller has told it."""
    if may_split is None:
        may_split = may_find_more(text, split_words(pats))
    if not may_split:
        return []
    got = split_reading(text)
    if got is None:
        return []
    reading, origin, ends = got
    return [(origin[s], ends[e - 1], k) for s, e, k in find_one_reading(reading, pats)]


def find_one_reading(
    text: str, pats: Sequence[tuple[str, bool, str]]
) -> list[tuple[int, int, str]]:
    """Spans ``(start, end, kind)`` of ``text`` holding any of ``pats`` (non-overlapping,
    longest pattern first), found among the words of the folded text (positions are
    the original's: :func:`fold` keeps them). No regex is compiled per pattern: a
    word pattern is a run of consecutive words (found with ``str.find`` and checked
    at word boundaries), a compact one a substring of the words joined without
    separators."""
    if not pats:
        return []
    if (
        (not text.isascii() and _DROPPED.search(text) is not None)
        or has_entity(text)
        or has_escape(text)
    ):
        # invisible characters dropped, a character that stands for several written as
        # those, an HTML character reference, a URL-encoded or JSON-escaped character as
        # its character (see _spaced): found in that text, cut from the original
        parts: list[str] = []
        origin: list[int] = []  # the original position of each character of ``plain``
        ends: list[int] = []  # and where the characters that write it end
        pos = 0
        for m in _DROPPED_OR_ENTITY.finditer(text):
            at, got = m.start(), m.group()
            parts.append(text[pos:at])
            origin += range(pos, at)
            ends += range(pos + 1, at + 1)
            pos = m.end()
            if got[0] in "%\\" and len(got) > 1:  # an escape: each character its own
                for c, width in escape_chars(got):
                    parts.append(c)
                    origin.append(at)
                    ends.append(at + width)
                    at += width
                continue
            # a reference (one that names no character stays as it is), or a character
            one = entity_char(got) if len(got) > 1 else _SPACING[ord(got)] or ""
            form = got if one is None else one
            parts.append(form)
            if one is None:
                origin += range(at, pos)
                ends += range(at + 1, pos + 1)
            else:
                origin += [at] * len(form)
                ends += [pos] * len(form)
        parts.append(text[pos:])
        origin += range(pos, len(text))
        ends += range(pos + 1, len(text) + 1)
        plain = "".join(parts)
        if plain != text:
            spans = find_one_reading(plain, pats)
            return [(origin[s], ends[e - 1], kind) for s, e, kind in spans]
    folded = fold_known(text)
    compact: str | None = None
    where: list[int] = []  # original position of each character of ``compact``
    taken: list[tuple[int, int, str]] = []

    def take(s: int, e: int, kind: str) -> None:
        if all(e <= a or s >= b for a, b, _ in taken):
            taken.append((s, e, kind))

    for p, is_compact, kind in pats:
        if is_compact:
            if compact is None:  # word characters ([^\W_]: str.isalnum) and their positions
                compact = "".join(compress(folded, map(str.isalnum, folded)))
                where = list(compress(range(len(folded)), map(str.isalnum, folded)))
            at = compact.find(p)
            while at >= 0:
                take(where[at], where[at + len(p) - 1] + 1, kind)
                at = compact.find(p, at + 1)
            continue
        ws = p.split()
        at = folded.find(ws[0])
        while at >= 0:
            end = _words_at(folded, at, ws)
            if end is not None:
                if kind == "name" and len(ws) > 1 and _CLAUSE_BREAK.search(folded, at, end):
                    # a name's words across a clause break (Talked to Wei; Ng agreed):
                    # each word its own span, so the replacement keeps the "; "
                    for s, e in _word_spans(folded, at, ws):
                        take(s, e, kind)
                else:
                    take(at, end, kind)
            at = folded.find(ws[0], at + 1)
    return sorted(taken)


# what cannot stand between the words of one written name: a name found across it is
# replaced word by word (find_one_reading), the punctuation kept
_CLAUSE_BREAK = re.compile("[;!?]")


def _word_spans(folded: str, at: int, ws: list[str]) -> list[tuple[int, int]]:
    """The span of each of the words ``ws`` found by :func:`_words_at` at ``at``."""
    out = [(at, at + len(ws[0]))]
    for w in ws[1:]:
        j = out[-1][1]
        while not folded[j].isalnum():
            j += 1
        out.append((j, j + len(w)))
    return out


def _words_at(folded: str, at: int, ws: list[str]) -> int | None:
    r"""The end of the words ``ws`` when they are whole consecutive words of ``folded``
    starting at ``at`` (separated by runs of non-word characters), else None. A word
    character is one of ``[^\W_]``, which is what ``str.isalnum`` tests."""
    if at and _joined(folded[at - 1], folded[at]):
        return None
    pos = at + len(ws[0])
    n = len(folded)
    for w in ws[1:]:
        j = pos
        while j < n and not folded[j].isalnum():
            j += 1
        if not folded.startswith(w, j) or (j == pos and _joined(folded[pos - 1], folded[pos])):
            return None
        pos = j + len(w)
    if pos < n and _joined(folded[pos - 1], folded[pos]):
        return None
    return pos


def _joined(a: str, b: str) -> bool:
    """True when the word characters ``a`` and ``b`` are one word: neither is of an
    unspaced script (where each character is a word, see :func:`_spaced`)."""
    if not (a.isalnum() and b.isalnum()):
        return False
    return (a.isascii() and b.isascii()) or not (_UNSPACED.match(a) or _UNSPACED.match(b))


__all__ = [
    "JOINED",
    "KIND",
    "NOT_KNOWN",
    "NO_KNOWN",
    "Known",
    "KnownBatch",
    "Pairs",
    "breaking",
    "checked_patterns",
    "checked_patterns_many",
    "compact_many",
    "find_known",
    "find_one_reading",
    "fold",
    "fold_known",
    "joined_names",
    "kind_of",
    "known_patterns",
    "merged_spans",
    "name_parts",
    "norm",
    "norm_many",
    "norm_texts",
    "other_reading",
    "pairs_of",
    "patterns",
    "patterns_many",
    "pick",
    "row_hits",
    "rows_with_candidates",
    "split_words",
    "surnames",
    "texts_hits",
    "without_flat",
    "words",
]
