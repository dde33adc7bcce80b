"""Find personal data inside free text: e-mails, phones, IBANs, cards, IPs, ids, names."""

from __future__ import annotations

import bisect
import operator
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import accumulate, compress, islice, repeat
from operator import or_
from typing import TypeVar

import numpy as np

from stagewall.masking.classify._addresses import (
    DENSE,
    EN_GATE,
    find_streets,
    find_streets_in,
    gate_texts,
    re2_set,
    search,
)
from stagewall.masking.classify._categories import Category
from stagewall.masking.classify._forms import Where, detect_view, original_spans
from stagewall.masking.classify._reference import is_reference_value
from stagewall.masking.classify._validators import (
    EMAIL_RE2,
    email_pattern,
    is_card,
    is_iban,
    is_ip,
)
from stagewall.masking.transformers import _dicts
from stagewall.masking.transformers._checksums import IBAN_LENGTHS
from stagewall.masking.transformers._confusables import idn_decoded, skeleton
from stagewall.masking.transformers._known import fold


@dataclass(frozen=True)
class Match:
    """One finding in a text: ``text[start:end]`` is of ``category`` (value hidden from repr).

    :attr:`value` is the value as the detector read it, the one to pseudonymise:
    ``text`` itself, unless the finding is a :class:`Read` (written with other
    characters: see :mod:`._forms`)."""

    category: Category
    start: int
    end: int
    text: str = field(repr=False)

    @property
    def value(self) -> str:
        return self.text

    @property
    def plain(self) -> str | None:
        """The value read when it differs from ``text`` (else None)."""
        return None


@dataclass(frozen=True)
class Read(Match):
    """A finding written with other characters than the detector reads: ``read`` is
    the value read (another script's digits as ASCII digits, invisible characters
    dropped, ...). (A subclass, so the usual finding is built with four fields.)"""

    read: str = field(default="", repr=False)

    @property
    def value(self) -> str:
        return self.read

    @property
    def plain(self) -> str | None:
        return self.read


# Every pattern starts by consuming one character of a small class and checks what
# precedes it with a lookbehind afterwards (instead of a leading \b or lookbehind):
# the regex engine then skips ahead to candidate characters instead of trying a
# match at every position, 1.3-8x faster on long texts. tests/masking/classify/
# test_patterns.py checks each against its plain form.
# (upper or lower case: ``de89 3704 0044 0532 0130 00`` typed in a note is an IBAN)
_IBAN = re.compile(r"[A-Za-z](?<!\w[A-Za-z])[A-Za-z][0-9]{2}(?: ?[A-Za-z0-9]){11,34}")
# an IBAN written with a lower-case letter needs this many digits: every country's
# IBAN has more, and a word of letters that passes mod-97 by chance has fewer
_LOWER_IBAN_DIGITS = 10
_CARD = re.compile(r"[2-6](?<![\w+][2-6])[0-9](?:[ -]?[0-9]){10,17}(?!\w)")
_PHONE_INTL = r"[1-9][0-9]{0,2}[ .-]?(?:\(0?[0-9]{1,4}\)[ .-]?)?[0-9]{1,4}(?:[ .-]?[0-9]{2,4}){1,4}"
_PHONE = re.compile(
    r"(?:\+(?<![\w+]\+)"
    + _PHONE_INTL
    + r"|0(?<![\w+]0)0"
    + _PHONE_INTL
    + r"|\((?<![\w+]\()(?:\+[1-9][0-9]{0,2}\)[ .-]?[0-9]{1,4}(?:[ .-]?[0-9]{2,4}){1,4}"
    + r"|[0-9]{3}\) ?[0-9]{3}[-. ][0-9]{4})"
    + r"|[0-9](?<![\w+][0-9])[0-9]{2}[-.][0-9]{3}[-.][0-9]{4}"
    + r"|0(?<![\w+]0)[0-9]{2,4}[ /-]?[0-9]{3,4}[ -]?[0-9]{3,4})(?!\w)"
)
# _PHONE for the gated search: every alternative starts with one of these characters,
# so the lookahead changes no match, and the engine skips to them (an alternation
# gives it no first character to skip to)
_PHONE_AT = re.compile("(?=[0-9+(])(?:" + _PHONE.pattern + ")")
_ANY_DIGIT = re.compile(r"[0-9]")
# The German, Dutch and Romance street forms take a house number in any script's
# digits (\d): they are searched in every text holding one, whatever its neighbours
_ANY_DECIMAL = re.compile(r"\d")


def _has_decimal(text: str, ascii_digit: bool) -> bool:
    return ascii_digit or (not text.isascii() and _ANY_DECIMAL.search(text) is not None)


_IPV4 = re.compile(r"[0-9](?<![\w.][0-9])[0-9]{0,2}\.(?:[0-9]{1,3}\.){2}[0-9]{1,3}(?!\w|\.[0-9])")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")
# an IPv6 address written with an IPv4 tail (``::ffff:192.0.2.1``): found before
# the tail alone is taken for an IPv4 address
_IPV6_V4 = re.compile(
    r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,6}[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?![\w:]|\.[0-9])"
)
_SSN = re.compile(
    r"[0-8](?<!\w[0-8])(?!(?<=0)00|(?<=6)66)[0-9]{2}-(?!00)[0-9]{2}-(?!0000)[0-9]{4}\b"
)
_NINO = re.compile(
    r"[A-CEGHJ-PR-TW-Z](?<!\w[A-CEGHJ-PR-TW-Z])"
    r"(?!(?<=B)G|(?<=G)B|(?<=N)K|(?<=K)N|(?<=T)N|(?<=N)T|(?<=Z)Z)"
    r"[A-CEGHJ-NPR-TW-Z] ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]\b"
)
# A Spanish DNI (8 digits, or 2.3.3 with dots) or NIE (X, Y or Z and 7 digits), its
# control letter after, kept only when the letter is the number's mod 23
# (:func:`is_dni`): a random number with a letter passes one time in 23
_DNI = re.compile(
    r"[0-9XYZxyz](?<!\w[0-9XYZxyz])"
    r"(?:(?<=[XYZxyz])-?[0-9]{7}|(?<=[0-9])[0-9]{7}|(?<=[0-9])[0-9]\.[0-9]{3}\.[0-9]{3})"
    r"(?:-?[A-Za-z]| [A-Z])(?!\w)"
)
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def is_dni(text: str) -> bool:
    """Whether ``text`` (a :data:`_DNI` match) ends in its number's control letter."""
    body = "".join(c for c in text[:-1] if c.isalnum()).upper()
    number = str("XYZ".find(body[0])) + body[1:] if body[0] in "XYZ" else body
    return _DNI_LETTERS[int(number) % 23] == text[-1].upper()


# An Italian codice fiscale: 6 letters, year (its first digit a digit; the others a
# digit or its omocodia letter), month letter, day, a letter and 3 digits of the
# place, the check letter (:func:`is_codice_fiscale`); either case
_CF_D = "0-9LMNPQRSTUVlmnpqrstuv"
_CODICE_FISCALE = re.compile(
    f"[A-Za-z](?<!\\w[A-Za-z])[A-Za-z]{{5}}[0-9][{_CF_D}][ABCDEHLMPRSTabcdehlmprst]"
    f"[{_CF_D}]{{2}}[A-Za-z][{_CF_D}]{{3}}[A-Za-z](?!\\w)"
)
_CF_ODD = dict(
    zip(
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        [1, 0, 5, 7, 9, 13, 15, 17, 19, 21] * 2 + [2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10]
        + [22, 25, 24, 23],
        strict=True,
    )
)  # fmt: skip


def is_codice_fiscale(text: str) -> bool:
    """Whether ``text`` (a :data:`_CODICE_FISCALE` match) ends in its check letter:
    the sum of its first 15 characters' values (odd places by a table, even ones a
    digit's value or a letter's place in the alphabet) mod 26."""
    t = text.upper()
    total = sum(_CF_ODD[c] for c in t[0:15:2])
    total += sum(int(c) if c.isdigit() else ord(c) - 65 for c in t[1:15:2])
    return chr(65 + total % 26) == t[15]


_UP = "A-ZÀ-ÖØ-Þ"
_LOW = "a-zß-öø-ÿ"
_WORD = re.compile(f"[{_UP}](?<!\\w[{_UP}])[{_LOW}]+(?:[-'][{_UP}][{_LOW}]+)?\\b")
_TITLES = frozenset({"Mr", "Mrs", "Ms", "Miss", "Dr", "Prof", "Herr", "Frau", "Mme", "Mlle", "Sr"})
# First names that are also everyday words; only taken as names next to a surname or title.
_AMBIGUOUS = frozenset(
    {
        "April",
        "August",
        "Austin",
        "Autumn",
        "Baker",
        "Bell",
        "Berry",
        "Bill",
        "Black",
        "Brook",
        "Brown",
        "Carolina",
        "Carter",
        "Case",
        "Chance",
        "Chase",
        "Chelsea",
        "Christian",
        "Cook",
        "Dakota",
        "Dallas",
        "Dawn",
        "Don",
        "Eve",
        "Faith",
        "Florence",
        "Ford",
        "Frank",
        "Georgia",
        "Grant",
        "Gray",
        "Green",
        "Grey",
        "Guy",
        "Hill",
        "Holly",
        "Hope",
        "Houston",
        "Hunter",
        "Iris",
        "Ivy",
        "Jade",
        "Jet",
        "Jordan",
        "Joy",
        "June",
        "King",
        "Lane",
        "Lincoln",
        "London",
        "Long",
        "Love",
        "Lucky",
        "Madison",
        "Major",
        "Mark",
        "Marshal",
        "Mason",
        "May",
        "Miller",
        "Montana",
        "Page",
        "Paris",
        "Park",
        "Pearl",
        "Price",
        "Ray",
        "Rice",
        "Rich",
        "Rose",
        "Royal",
        "Ruby",
        "Santiago",
        "Sky",
        "Star",
        "Story",
        "Summer",
        "Sunny",
        "Sydney",
        "Trinity",
        "Victoria",
        "Virginia",
        "White",
        "Will",
        "Wood",
        "Young",
    }
)


def _ibans(text: str, pos: int = 0, endpos: int | None = None) -> list[Match]:
    out: list[Match] = []
    for m in _IBAN.finditer(text, pos, len(text) if endpos is None else endpos):
        raw = m.group(0)
        want = IBAN_LENGTHS.get(raw[:2].upper())
        if want is None:
            continue
        # j: the index of the want-th character that is not a space (the least j
        # with j = want - 1 + the spaces up to it, reached from below), if any
        j = want - 1
        while j < len(raw) and (n := want - 1 + raw.count(" ", 0, j + 1)) != j:
            j = n
        if j < len(raw):
            cand = raw[: j + 1]
            if is_iban(cand) and (
                cand.isupper() or sum(map(str.isdigit, cand)) >= _LOWER_IBAN_DIGITS
            ):
                out.append(Match(Category.IBAN, m.start(), m.start() + j + 1, cand))
    return out


def _names(text: str) -> list[Match]:
    firsts = _dicts.detection_first_names()
    lasts = _dicts.detection_last_names()
    # the capitalised words and the text between them, as strings (C-level): the
    # split finds the matches finditer finds; pieces[2i + 1] is word i, pieces[2i + 2]
    # the text after it, and ends[2i], ends[2i + 1] its start and end
    pieces = _WORD_SPLIT.split(text)
    if len(pieces) == 1:
        return []
    raw = pieces[1::2]
    ends = list(accumulate(map(len, pieces)))
    # the capitalised words hold no NUL: fold them all in one pass (fold keeps lengths)
    folded = fold("\x00".join(raw)).split("\x00")
    # only a title or a first name starts a finding: pick those in C-level passes,
    # then walk just them (a word taken as the second of a pair is skipped)
    starts = compress(
        range(len(raw)),
        map(or_, map(_TITLES.__contains__, raw), map(firsts.__contains__, folded)),
    )
    out: list[Match] = []
    free = 0  # first word index not yet taken by a pair
    last = len(raw) - 1
    for i in starts:
        if i < free:
            continue
        gap = pieces[2 * i + 2] if i < last else None  # the text up to the next word
        if raw[i] in _TITLES and gap in (" ", ". "):
            out.append(Match(Category.PERSON_NAME, ends[2 * i + 2], ends[2 * i + 3], raw[i + 1]))
            free = i + 2
            continue
        if folded[i] in firsts:
            if gap == " " and folded[i + 1] in lasts:
                start, end = ends[2 * i], ends[2 * i + 3]
                out.append(Match(Category.PERSON_NAME, start, end, text[start:end]))
                free = i + 2
                continue
            if raw[i] not in _AMBIGUOUS:
                out.append(Match(Category.PERSON_NAME, ends[2 * i], ends[2 * i + 1], raw[i]))
    return out


_WORD_SPLIT = re.compile("(" + _WORD.pattern + ")")
_group = operator.methodcaller("group", 0)


def detect_in_text(text: str) -> list[Match]:
    """All non-overlapping findings in ``text``, in order of position.

    Where findings overlap, the earlier-listed kind wins: e-mail, IBAN, card,
    national id, IP, phone, street address, then person names.
    """
    return _non_overlapping(_candidates(text))


SEP = "\x00\n\x00"  # joins texts for one search; no pattern matches NUL or crosses it
_CHUNK = 65_536  # characters per joined search


# While verify runs (:func:`remembering`), each text's findings are kept: the
# scrubbers verify recomputes detect the very source texts whose units verify has
# just found. Findings depend on the text alone, so a remembered list is the one a
# new search gives.
_remembered: dict[str, list[Match]] | None = None
REMEMBERED = 200_000  # texts kept at most (then forgotten, all at once)
REMEMBERED_CHARS = 4_096  # longer texts are searched each time


@contextmanager
def remembering() -> Iterator[None]:
    """Within the block, :func:`detect_many` and :func:`detect_texts` remember each
    text's findings (in this process and the processes it forks); forgotten after."""
    global _remembered
    before = _remembered
    if before is None:
        _remembered = {}
    try:
        yield
    finally:
        _remembered = before


def _recall(texts: Sequence[str], memo: dict[str, list[Match]]) -> list[list[Match]]:
    """:func:`detect_many` through ``memo``: only texts not in it are searched (the
    findings are taken out of the memo first, so another thread clearing it cannot
    take them away)."""
    have = {t: f for t in dict.fromkeys(texts) if (f := memo.get(t)) is not None}
    todo = [t for t in dict.fromkeys(texts) if t not in have]
    if todo:
        got = dict(zip(todo, _detect_many(todo), strict=True))
        if len(memo) + len(todo) > REMEMBERED:
            memo.clear()
        kept = ((t, f) for t, f in got.items() if len(t) <= REMEMBERED_CHARS)
        memo.update(islice(kept, max(0, REMEMBERED - len(memo))))
        have.update(got)
    return [list(have[t]) for t in texts]


def detect_many(texts: Sequence[str]) -> list[list[Match]]:
    """:func:`detect_in_text` of every text (the same findings, positions relative to
    each text), searching the texts joined a large chunk at a time: one regex pass
    per pattern per chunk instead of per text.

    No pattern matches the separator's NUL characters and the reference-value
    check stops at them, so a text's findings do not depend on its neighbours;
    candidates that would span a separator are dropped before overlaps are resolved.
    tests/masking/classify/test_text.py checks the equivalence.
    """
    memo = _remembered
    if memo is not None:
        return _recall(texts, memo)
    return _detect_many(texts)


def _detect_many(texts: Sequence[str]) -> list[list[Match]]:
    """:func:`detect_many` without the memo."""
    return _per_text(texts, _moved)


def _moved(m: Match, offset: int) -> Match:
    """The finding ``m`` of a joined search at its text's positions (``offset``: where
    the text starts in the joined one)."""
    s, e = m.start - offset, m.end - offset
    if type(m) is Match:
        return Match(m.category, s, e, m.text)
    return Read(m.category, s, e, m.text, m.value)


# A finding as text_scrub replaces it: (start, end, category value, value read)
Found = tuple[int, int, str, str]


def detect_findings(texts: Sequence[str]) -> list[list[Found]]:
    """:func:`detect_many` as :data:`Found` tuples (the same findings, in the same
    order), without a :class:`Match` built per finding at each text's positions."""
    memo = _remembered
    if memo is not None:
        return [[_found(m, 0) for m in found] for found in _recall(texts, memo)]
    return _per_text(texts, _found)


def _found(m: Match, offset: int) -> Found:
    """:func:`_moved` as a :data:`Found` tuple."""
    return (m.start - offset, m.end - offset, m.category._value_, m.value)


_T = TypeVar("_T")


def _per_text(texts: Sequence[str], made: Callable[[Match, int], _T]) -> list[list[_T]]:
    """``made(finding, offset)`` of each finding of each text, searched joined (each
    distinct text once)."""
    distinct = dict.fromkeys(texts)
    if len(distinct) < len(texts):
        found = dict(zip(distinct, _per_text(list(distinct), made), strict=True))
        return [list(found[t]) for t in texts]
    out: list[list[_T]] = [[] for _ in texts]
    for first, offsets, kept, at in _joined(texts):
        for k, m in zip(at, kept, strict=True):
            out[first + k].append(made(m, offsets[k]))
    return out


def detect_texts(texts: Sequence[str]) -> Iterator[tuple[int, str]]:
    """``(index, matched text)`` of every finding of :func:`detect_many`, in order
    of text and position, without building per-text positions (what verify needs);
    after a finding's text, its other forms (:func:`other_forms`), when it has any."""
    if _remembered is not None:
        for k, found in enumerate(_recall(texts, _remembered)):
            for m in found:
                yield k, m.text
                if _formed(m):
                    for other in other_forms(m):
                        yield k, other
        return
    iban, email, nid = Category.IBAN, Category.EMAIL, Category.NATIONAL_ID
    for first, _, kept, at in _joined(texts):
        for k, m in zip(at, kept, strict=True):
            yield first + k, m.text
            # (no call for a finding that can have no other form: see _formed)
            c = m.category
            if (c is iban or c is email or c is nid or type(m) is not Match) and _formed(m):
                for other in other_forms(m):
                    yield first + k, other


def _formed(m: Match) -> bool:
    """Whether ``m`` may have other forms (:func:`other_forms`): a finding read
    otherwise than written, an IBAN, or an e-mail beyond ASCII or with a punycode
    label (no function call for the usual ASCII e-mail), or a national id written
    with separators."""
    if type(m) is not Match or m.category is Category.IBAN:
        return True
    t = m.text
    if m.category is Category.NATIONAL_ID:
        return not t.isalnum()
    return m.category is Category.EMAIL and (not t.isascii() or "n--" in t or "N--" in t)


def other_forms(m: Match) -> list[str]:
    """The forms of a finding besides its text, as the same value is written
    elsewhere: the value read (``anna@example.com`` for ``anna&#64;example.com``,
    ASCII digits for a phone in Arabic-Indic digits); an e-mail with look-alike
    letters of another script folded to Latin (:func:`skeleton`) and with its
    punycode domain labels decoded (``xn--bcher-kva`` is ``bücher``); an IBAN
    compact, upper case; a national id without its separators (``48213957T`` of
    ``48.213.957-T``, ``123456789`` of ``123-45-6789``). Verify hashes these as units too, so
    a value written one way in the source and another in the target is found."""
    value = m.value
    out = [value] if value != m.text else []
    if m.category is Category.EMAIL and not value.isascii():
        out.append(skeleton(value))
    if m.category is Category.EMAIL and "xn--" in value.lower():
        out.append(idn_decoded(value))
    if m.category is Category.IBAN:
        out.append(value.replace(" ", "").upper())
    if m.category is Category.NATIONAL_ID and not value.isalnum():
        out.append("".join(c for c in value if c.isalnum()))
    return [f for f in dict.fromkeys(out) if f != m.text]


def _joined(texts: Sequence[str]) -> Iterator[tuple[int, list[int], list[Match], list[int]]]:
    """``(first, offsets, findings, at)`` per joined chunk of ``texts``: the chunk
    holds ``texts[first:]``, the ``k``-th of them at ``offsets[k]``; its findings are
    in joined coordinates, in order, the ``i``-th in text ``first + at[i]``."""
    start = 0
    while start < len(texts):
        offsets: list[int] = []
        parts: list[str] = []
        size = 0
        while start < len(texts) and (not parts or size < _CHUNK):
            offsets.append(size)
            parts.append(texts[start])
            size += len(texts[start]) + len(SEP)
            start += 1
        first = start - len(parts)
        if len(parts) == 1:
            found = detect_in_text(parts[0])
            yield first, offsets, found, [0] * len(found)
            continue
        joined = SEP.join(parts)
        cands = _candidates_joined(joined, offsets, parts)
        if cands is None:
            cands = _candidates(joined)
        # only a candidate holding a NUL can span a separator (no pattern matches
        # NUL, so none should): check those against the offsets
        if any(map(operator.contains, map(_text_of, cands), repeat("\x00"))):
            cands = [m for m in cands if "\x00" not in m.text or _inside(m, offsets, parts)]
        kept = _non_overlapping(cands)
        # each finding's text: the last offset at or before its start (C-level calls)
        at = list(
            map(
                operator.sub,
                map(bisect.bisect_right, repeat(offsets), map(_start_of, kept)),
                repeat(1),
            )
        )
        yield first, offsets, kept, at


_text_of = operator.attrgetter("text")
_start_of = operator.attrgetter("start")
_end_of = operator.attrgetter("end")


def _inside(m: Match, offsets: list[int], parts: list[str]) -> bool:
    """Whether ``m`` (of the ``parts`` joined, the ``k``-th at ``offsets[k]``) ends
    within the text it starts in."""
    k = bisect.bisect_right(offsets, m.start) - 1
    return m.end <= offsets[k] + len(parts[k])


def _candidates(text: str) -> list[Match]:
    """Every finding of every kind in ``text``, in priority order, overlaps included.

    Every kind but person names is searched in the text's view (:mod:`._forms`:
    other scripts' digits, full-width forms, other spaces and dashes as ASCII,
    invisible characters dropped) and mapped back; names in the text itself."""
    view, where = detect_view(text)
    found = _in_view(text, view, where, _patterned(view))
    found += [m for m in _names(text) if not _in_reference_value(text, m)]
    return found


def _in_view(text: str, view: str, where: Where | None, found: list[Match]) -> list[Match]:
    """Findings in ``view`` (of ``text``) as findings in ``text``, each with the
    value the view holds."""
    if view is text or not found:
        return found
    spans = original_spans([(m.start, m.end) for m in found], where, len(text))
    out: list[Match] = []
    for m, (s, e) in zip(found, spans, strict=True):
        written = text[s:e]
        out.append(
            Match(m.category, s, e, written)
            if written == m.text
            else Read(m.category, s, e, written, m.text)
        )
    return out


def _patterned(text: str) -> list[Match]:
    """The findings of every kind but person names in ``text``, in priority order."""
    # Cheap gates first: every pattern below needs an "@", an ASCII digit or a ":",
    # and most text has few of them, so most detectors are skipped outright.
    found: list[Match] = (
        [
            Match(Category.EMAIL, m.start(), m.end(), m.group(0))
            for m in email_pattern(text).finditer(text)
        ]
        if "@" in text
        else []
    )
    if _ANY_DIGIT.search(text) is not None:
        found += _ibans(text)
        found += [
            Match(Category.CARD_NUMBER, m.start(), m.end(), m.group(0))
            for m in _CARD.finditer(text)
            if is_card(m.group(0))
        ]
        found += [
            Match(Category.NATIONAL_ID, m.start(), m.end(), m.group(0)) for m in _SSN.finditer(text)
        ]
        found += [
            Match(Category.NATIONAL_ID, m.start(), m.end(), m.group(0))
            for m in _NINO.finditer(text)
        ]
        found += [
            Match(Category.NATIONAL_ID, m.start(), m.end(), m.group(0))
            for m in _DNI.finditer(text)
            if is_dni(m.group(0))
        ]
        found += [
            Match(Category.NATIONAL_ID, m.start(), m.end(), m.group(0))
            for m in _CODICE_FISCALE.finditer(text)
            if is_codice_fiscale(m.group(0))
        ]
        if ":" in text:
            found += [
                Match(Category.IP_ADDRESS, m.start(), m.end(), m.group(0))
                for m in _IPV6_V4.finditer(text)
                if is_ip(m.group(0))
            ]
        found += [
            Match(Category.IP_ADDRESS, m.start(), m.end(), m.group(0))
            for m in _IPV4.finditer(text)
            if is_ip(m.group(0))
        ]
    if ":" in text:
        found += [
            Match(Category.IP_ADDRESS, m.start(), m.end(), m.group(0))
            for m in _IPV6.finditer(text)
            if is_ip(m.group(0))
        ]
    digit = _ANY_DIGIT.search(text) is not None
    if digit:
        found += [
            Match(Category.PHONE, m.start(), m.end(), m.group(0))
            for m in _PHONE.finditer(text)
            if 7 <= sum(map(str.isdigit, m.group(0))) <= 15
        ]
    if _has_decimal(text, digit):
        found += [Match(Category.STREET_ADDRESS, s, e, text[s:e]) for s, e in find_streets(text)]
    return found


# What every match of each pattern holds, for RE2 (no lookarounds, no \\b): a text of
# a joined batch whose bytes hold no match of a pattern's gate holds no match of the
# pattern, and is not searched for it. One re2.Set call per text runs all the gates
# (a DFA over the text's bytes); only the texts a gate picks are searched by the
# pattern itself, so the findings are the pattern's own. Each gate is the pattern
# with its lookarounds and word boundaries dropped (e-mail: with RE2's Unicode
# classes, which take every character the pattern's take), or a part every match holds
# (IBAN: its first 15 characters; card: 12 digits; IPv4: a digit, three dots with
# digits; IPv6: two colons with at most four hex digits between them; phone: seven
# digits with only the characters a phone match holds between them, as the phone
# filter keeps only matches of seven digits or more).
# tests/masking/classify/test_text.py checks the gated search against the plain one.
_GATES = (
    (Category.EMAIL, EMAIL_RE2),
    (Category.IBAN, "[A-Za-z][A-Za-z][0-9]{2}(?: ?[A-Za-z0-9]){11}"),
    (Category.CARD_NUMBER, "[2-6][0-9](?:[ -]?[0-9]){10}"),
    (Category.NATIONAL_ID, "[0-8][0-9]{2}-[0-9]{2}-[0-9]{4}"),  # SSN
    (
        Category.NATIONAL_ID,
        "[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]",
    ),
    (Category.NATIONAL_ID, "[0-9]{3}[ -]?[A-Za-z]"),  # DNI, NIE
    (Category.NATIONAL_ID, "[A-Za-z]{6}[0-9]"),  # codice fiscale
    (Category.IP_ADDRESS, "[0-9][.][0-9]{1,3}[.][0-9]{1,3}[.][0-9]"),
    (Category.IP_ADDRESS, ":[0-9A-Fa-f]{0,4}:"),
    (Category.PHONE, "[0-9](?:[ +()./-]*[0-9]){6}"),
    (Category.STREET_ADDRESS, EN_GATE),
)
_EMAIL_G, _IBAN_G, _CARD_G, _SSN_G, _NINO_G, _DNI_G, _CF_G = range(7)
_IPV4_G, _IPV6_G, _PHONE_G, _EN_G = range(7, len(_GATES))
_RAW_GATES = re2_set([p for _, p in _GATES])
_SEP_BYTES = SEP.encode()


def _candidates_joined(joined: str, offsets: list[int], parts: list[str]) -> list[Match] | None:
    """:func:`_candidates` of ``joined`` (the ``parts`` joined with :data:`SEP`, the
    ``k``-th at ``offsets[k]``): the same findings in the same order, each pattern run
    only over the texts its gate picks (see :data:`_GATES`). None when the texts
    cannot be told apart in the joined bytes (a text holds the separator, or a lone
    surrogate that UTF-8 cannot hold): then the caller searches the plain way.

    No pattern matches across a NUL, and each sees a NUL as it sees the end of the
    text (neither is a word character nor any character a pattern's lookaround
    asks for), so a pattern run over one text finds exactly its matches in the
    joined text, in order. Like :func:`_candidates`, every kind but names is
    searched in the view of the joined text (that of each text, joined)."""
    view, where = detect_view(joined)
    ends = [o + len(p) for o, p in zip(offsets, parts, strict=True)]
    if where is None:
        bounds = list(zip(offsets, ends, strict=True))
    else:  # each text's first and past-its-end positions in the view
        firsts = np.searchsorted(where, offsets).tolist()
        bounds = list(zip(firsts, np.searchsorted(where, ends).tolist(), strict=True))
    found = _patterned_joined(view, bounds)
    if found is None:
        return None
    found = _in_view(joined, view, where, found)
    found += [m for m in _names(joined) if not _in_reference_value(joined, m)]
    return found


def _patterned_joined(joined: str, bounds: list[tuple[int, int]]) -> list[Match] | None:
    """:func:`_patterned` of ``joined``, whose ``k``-th text is ``joined[a:b]`` for
    ``(a, b) = bounds[k]``, gated (see :func:`_candidates_joined`)."""
    try:
        raw = joined.encode()
    except UnicodeEncodeError:
        return None
    pieces = raw.split(_SEP_BYTES)
    if len(pieces) != len(bounds):
        return None
    picked = gate_texts(_RAW_GATES, raw, pieces, len(_GATES))

    def spans(g: int, pattern: re.Pattern[str]) -> Iterator[re.Match[str]]:
        return search(pattern, joined, bounds, picked[g])

    found: list[Match] = (
        [
            Match(Category.EMAIL, m.start(), m.end(), m.group(0))
            for m in spans(_EMAIL_G, email_pattern(joined))
        ]
        if "@" in joined
        else []
    )
    digit = _ANY_DIGIT.search(joined) is not None
    if digit:
        if len(picked[_IBAN_G]) * DENSE > len(bounds):
            found += _ibans(joined)
        else:
            for k in picked[_IBAN_G]:
                found += _ibans(joined, *bounds[k])
        found += [
            Match(Category.CARD_NUMBER, m.start(), m.end(), m.group(0))
            for m in spans(_CARD_G, _CARD)
            if is_card(m.group(0))
        ]
        found += [
            Match(Category.NATIONAL_ID, m.start(), m.end(), m.group(0)) for m in spans(_SSN_G, _SSN)
        ]
        found += [
            Match(Category.NATIONAL_ID, m.start(), m.end(), m.group(0))
            for m in spans(_NINO_G, _NINO)
        ]
        found += [
            Match(Category.NATIONAL_ID, m.start(), m.end(), m.group(0))
            for m in spans(_DNI_G, _DNI)
            if is_dni(m.group(0))
        ]
        found += [
            Match(Category.NATIONAL_ID, m.start(), m.end(), m.group(0))
            for m in spans(_CF_G, _CODICE_FISCALE)
            if is_codice_fiscale(m.group(0))
        ]
        if ":" in joined:
            found += [
                Match(Category.IP_ADDRESS, m.start(), m.end(), m.group(0))
                for m in spans(_IPV6_G, _IPV6_V4)
                if is_ip(m.group(0))
            ]
        found += [
            Match(Category.IP_ADDRESS, m.start(), m.end(), m.group(0))
            for m in spans(_IPV4_G, _IPV4)
            if is_ip(m.group(0))
        ]
    if ":" in joined:
        found += [
            Match(Category.IP_ADDRESS, m.start(), m.end(), m.group(0))
            for m in spans(_IPV6_G, _IPV6)
            if is_ip(m.group(0))
        ]
    if digit:
        found += [
            Match(Category.PHONE, m.start(), m.end(), m.group(0))
            for m in spans(_PHONE_G, _PHONE_AT)
            if 7 <= sum(map(str.isdigit, m.group(0))) <= 15
        ]
    if _has_decimal(joined, digit):
        streets = find_streets_in(joined, bounds, picked[_EN_G])
        if streets is None:
            return None
        found += [Match(Category.STREET_ADDRESS, s, e, joined[s:e]) for s, e in streets]
    return found


_CELL = 60  # longest reference value looked for around a name


def _in_reference_value(text: str, m: Match) -> bool:
    """Whether the name ``m`` is part of a value that is reference data as a whole
    ("Chad" the country, "German" the language, "Bossa Nova" the genre).

    A value is the whole text, or one of the NUL-separated texts verify joins for
    one call; only short values are looked at (bounded windows, no rescans).
    """
    lo = max(0, m.start - _CELL)
    a = text.rfind("\x00", lo, m.start)
    if a == -1 and lo:
        return False
    hi = min(len(text), m.end + _CELL)
    b = text.find("\x00", m.end, hi)
    if b == -1:
        if hi != len(text):
            return False
        b = len(text)
    return is_reference_value(text[a + 1 : b].strip())


def _non_overlapping(found: list[Match]) -> list[Match]:
    """Keep each finding (in priority order) that overlaps none kept before; by position.

    The kept findings never overlap, so they are sorted by start and by end at
    once, and a candidate need only be checked against its two neighbours:
    O(n log n) for a long text with many findings.
    """
    # usually no two overlap: then all are kept, by position (checked at C level:
    # sorted by start, each ends at or before the next starts, none empty)
    by = sorted(found, key=_start_of)
    starts = list(map(_start_of, by))
    ends = list(map(_end_of, by))
    if all(map(operator.le, ends[:-1], starts[1:])) and all(map(operator.lt, starts, ends)):
        return by
    starts = []
    ends = []
    taken: list[Match] = []
    for cand in found:
        p = bisect.bisect_right(starts, cand.start)
        if p and ends[p - 1] > cand.start:
            continue
        if p < len(starts) and starts[p] < cand.end:
            continue
        starts.insert(p, cand.start)
        ends.insert(p, cand.end)
        taken.insert(p, cand)
    return taken


__all__ = [
    "SEP",
    "Found",
    "Match",
    "Read",
    "detect_findings",
    "detect_in_text",
    "detect_many",
    "detect_texts",
    "other_forms",
]
