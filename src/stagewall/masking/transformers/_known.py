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
from collections.abc import Iterable, Sequence
from functools import cache, lru_cache
from itertools import compress

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
}
# Not a value that identifies the row in free text: kept, free text itself, or a
# value that is an ordinary word or number (cities, companies, dates, amounts).
NOT_KNOWN = frozenset(
    {
        "keep",
        "text_scrub",
        "json_mask",
        "city",
        "company",
        "birth_date",
        "date_shift",
        "numeric_noise",
        "null",
        "constant",
    }
)
# Name particles: searched only as part of the full name, never alone.
_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "di", "da", "das", "dos", "du", "des"}
    | {"la", "le", "lo", "ter", "ten", "te", "y", "e", "el", "al", "bin", "ben", "mac", "st"}
)
MIN_PART = 3  # a name part shorter than this is searched only inside the full name
MIN_PHRASE = 3
MIN_DIGITS = 4  # an all-digit value needs this many digits (postcodes: 4)
MIN_COMPACT = 8  # identifiers this long are also searched without separators
_COMPACT_KINDS = frozenset({"phone", "iban", "card", "id"})
_WORDS = re.compile(r"[^\W_]+")


def kind_of(transformer: str) -> str | None:
    """The kind of a masked column's values, or None when they are not searched."""
    if transformer in NOT_KNOWN:
        return None
    return KIND.get(transformer, "id")


@cache
def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for cp in range(0x80, 0x2000):
        c = chr(cp)
        d = unicodedata.normalize("NFKD", c)
        if len(d) > 1 and all(unicodedata.combining(x) for x in d[1:]) and d[0] != c:
            table[cp] = d[0]
    table[0x130] = "I"  # "İ".lower() is two characters; "I" keeps positions
    return table


def fold(text: str) -> str:
    """Lower case without accents, one character for one character (positions kept)."""
    return text.translate(_fold_table()).lower()


def words(text: str) -> list[str]:
    """The folded words of a text (letters and digits; anything else separates)."""
    return _WORDS.findall(fold(text))


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
    spaced = _NONWORD.sub(" ", fold(joined))
    return [" " + p.strip(" ") + " " if p.strip(" ") else " " for p in spaced.split("\x00")]


_NONWORD = re.compile(r"[^\w\x00]+|_+")


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
    return tuple(_patterns(transformer, value))


def _patterns(transformer: str, value: str) -> list[tuple[str, bool]]:
    kind = kind_of(transformer)
    if kind is None:
        return []
    ws = words(value)
    if not ws:
        return []
    out: list[tuple[str, bool]] = []
    phrase = " ".join(ws)
    if kind == "name":
        parts = [w for w in ws if len(w) >= MIN_PART and w not in _PARTICLES]
        out += [(f" {w} ", False) for w in dict.fromkeys(parts) if not w.isdigit()]
        if len(ws) > 1 and len(phrase) >= MIN_PHRASE:
            out.append((f" {phrase} ", False))
        return out
    compact = "".join(ws)
    if kind == "id" and not any(c.isdigit() for c in compact):
        return []  # an identifier without a digit is a word like any other
    if kind in _COMPACT_KINDS and len(compact) >= MIN_COMPACT:
        out.append((compact, True))
    if len(phrase) >= MIN_PHRASE and not (phrase.isdigit() and len(phrase) < MIN_DIGITS):
        out.append((f" {phrase} ", False))
    return out


def known_patterns(known: Iterable[tuple[str, str]]) -> list[tuple[str, bool, str]]:
    """``(pattern, compact, kind)`` of every known value of one row, longest first."""
    seen: dict[tuple[str, bool], str] = {}
    for transformer, value in known:
        for p, c in patterns(transformer, value):
            seen.setdefault((p, c), kind_of(transformer) or "id")
    return sorted(((p, c, k) for (p, c), k in seen.items()), key=lambda x: -len(x[0]))


def find_known(text: str, pats: Sequence[tuple[str, bool, str]]) -> list[tuple[int, int, str]]:
    """Spans ``(start, end, kind)`` of ``text`` holding any of ``pats`` (non-overlapping,
    longest pattern first), found among the words of the folded text (positions are
    the original's: :func:`fold` keeps them). No regex is compiled per pattern: a
    word pattern is a run of consecutive words (found with ``str.find`` and checked
    at word boundaries), a compact one a substring of the words joined without
    separators."""
    if not pats:
        return []
    folded = fold(text)
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
                take(at, end, kind)
            at = folded.find(ws[0], at + 1)
    return sorted(taken)


def _words_at(folded: str, at: int, ws: list[str]) -> int | None:
    r"""The end of the words ``ws`` when they are whole consecutive words of ``folded``
    starting at ``at`` (separated by runs of non-word characters), else None. A word
    character is one of ``[^\W_]``, which is what ``str.isalnum`` tests."""
    if at and folded[at - 1].isalnum():
        return None
    pos = at + len(ws[0])
    n = len(folded)
    for w in ws[1:]:
        j = pos
        while j < n and not folded[j].isalnum():
            j += 1
        if j == pos or not folded.startswith(w, j):
            return None
        pos = j + len(w)
    if pos < n and folded[pos].isalnum():
        return None
    return pos


__all__ = [
    "KIND",
    "NOT_KNOWN",
    "NO_KNOWN",
    "Known",
    "compact_many",
    "find_known",
    "fold",
    "kind_of",
    "known_patterns",
    "norm",
    "norm_many",
    "patterns",
    "words",
]
