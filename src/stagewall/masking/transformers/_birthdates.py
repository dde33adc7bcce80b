"""A row's own date of birth as a known value (kind ``date``): its text form, the
writings it is searched in, and the pseudonym written in the same writing.

Only columns the plan gives ``birth_date`` are such values (:data:`DATE_TRANSFORMERS`):
an order date or a ticket's creation time identifies no one. The value is handed
on as ISO text (:func:`date_text`: ``1948-09-06``). Its one pattern is a mark
(:func:`date_patterns`, read like a street's core mark by ``_known.core_hits``):
:func:`date_hits` reads the folded words around each place the text holds the
date's year, four digits or two, and gives back the phrases that write the date:

- numbers: year first (``1948-09-06``, any separators: ``1948/9/6``), day first
  or month first with a four- or two-digit year (``06/09/1948``, ``6.9.48``,
  ``09/06/48``), each number with or without its leading zero;
- a month's name or usual abbreviation (:data:`MONTH_NAMES`: English, German,
  Dutch, French, Spanish, Portuguese, Italian) before or after the day, four- or
  two-digit year (``6 September 1948``, ``Sep 6, '48``, ``6. März 1948``,
  ``6 févr. 48``), the day also an ordinal (``6th``, French ``1er``, ``1º``), with
  ``of``/``de`` between day and month (``the 6th of September 1948``, ``6 de
  septiembre de 1948``), ``de``/``del`` before the year, ``the`` before an ordinal
  after the month (``September the 6th, 1948``); the day also in words, English
  (``sixth``, ``twenty-sixth``) or another of those languages (:data:`_DAY_NAMES`:
  ``neunten``, ``negen``, ``dix-sept``, ``vinte e um``, ``nove``);
- compact, one run of digits with leading zeros (:func:`compact_forms`): year
  first, day first or month first with a four-digit year (``19480906``,
  ``06091948``, ``09061948``), year first or day first with a two-digit year
  (``480906``, ``060948``); a whole word of the text, letters glued before or after
  it (``dob19480906``, ``file_19480906.pdf``), never inside a longer run of digits.

A year alone, a day and month without a year, another date: no phrase. Every
writing holds the year's last two digits (the probe of text_scrub and the anchor
of verify's row search). text_scrub replaces a found span by a keyed pseudonym
date written the same way (:func:`pseudonym_dates`: numbers as wide, an ordinal
an ordinal, a two-digit year two digits, the month in the span's language, form
and case, a compact date compact in the same order).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache

DATE_KIND = "date"
DATE_TRANSFORMERS = frozenset({"birth_date"})
# The mark a date's one pattern starts with: _known.CORE ("\x02", never in a norm
# text, so the plain substring tests never find it) and "\x04" (what _known.core_hits
# hands to date_hits); the date's ISO text follows.
DATE_MARK = "\x02\x04"


def _split(names: str) -> tuple[str, ...]:
    return tuple(names.split())


# Month names and their usual abbreviations (the first of a month's is the one
# written), by language, as written; read folded (accents gone, lower case).
MONTH_NAMES: dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]] = {
    "en": (
        _split("january february march april may june july august september october "
              "november december"),
        (("jan",), ("feb",), ("mar",), ("apr",), ("may",), ("jun",), ("jul",), ("aug",),
         ("sep", "sept"), ("oct",), ("nov",), ("dec",)),
    ),
    "de": (
        _split("januar februar märz april mai juni juli august september oktober "
              "november dezember"),
        (("jan", "jän"), ("feb",), ("mär", "mrz"), ("apr",), ("mai",), ("jun",), ("jul",),
         ("aug",), ("sep", "sept"), ("okt",), ("nov",), ("dez",)),
    ),
    "nl": (
        _split("januari februari maart april mei juni juli augustus september oktober "
              "november december"),
        (("jan",), ("feb",), ("mrt", "maa"), ("apr",), ("mei",), ("jun",), ("jul",),
         ("aug",), ("sep", "sept"), ("okt",), ("nov",), ("dec",)),
    ),
    "fr": (
        _split("janvier février mars avril mai juin juillet août septembre octobre "
              "novembre décembre"),
        (("janv", "jan"), ("févr", "fév"), ("mars",), ("avr",), ("mai",), ("juin",),
         ("juil",), ("août",), ("sept",), ("oct",), ("nov",), ("déc",)),
    ),
    "es": (
        _split("enero febrero marzo abril mayo junio julio agosto septiembre octubre "
              "noviembre diciembre"),
        (("ene",), ("feb",), ("mar",), ("abr",), ("may",), ("jun",), ("jul",), ("ago",),
         ("sep", "sept", "set"), ("oct",), ("nov",), ("dic",)),
    ),
    "pt": (
        _split("janeiro fevereiro março abril maio junho julho agosto setembro outubro "
              "novembro dezembro"),
        (("jan",), ("fev",), ("mar",), ("abr",), ("mai",), ("jun",), ("jul",), ("ago",),
         ("set",), ("out",), ("nov",), ("dez",)),
    ),
    "it": (
        _split("gennaio febbraio marzo aprile maggio giugno luglio agosto settembre "
              "ottobre novembre dicembre"),
        (("gen",), ("feb",), ("mar",), ("apr",), ("mag",), ("giu",), ("lug",), ("ago",),
         ("set",), ("ott",), ("nov",), ("dic",)),
    ),
}  # fmt: skip
# other spellings of a full name: Jänner, Feber (Austria), Maerz, setiembre
_MORE_NAMES = {("de", 1): ("jänner",), ("de", 2): ("feber",), ("de", 3): ("maerz",)}
_MORE_NAMES |= {("es", 9): ("setiembre",)}
MONTHS = MONTH_NAMES["en"][0]
# the words written between a date's parts: the 6th *of* September, 6 *de* septiembre
# *de* 1948, septiembre 6 *de* 1948, September *the* 6th
_BEFORE_MONTH = frozenset({"of", "de"})
_BEFORE_YEAR = frozenset({"de", "del"})
_FILLERS = _BEFORE_MONTH | _BEFORE_YEAR | {"the"}
_ENGLISH_ENDS = frozenset({"st", "nd", "rd", "th"})
_ORDINAL = re.compile(r"([0-9]{1,2})(st|nd|rd|th|er|o)?")
# English days as words: first .. thirty-first (twenty-first: twenty and first)
_UNITS = _split("first second third fourth fifth sixth seventh eighth ninth")
_SPELLED = [*_UNITS, *_split(
    "tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth "
    "eighteenth nineteenth twentieth"
)]  # fmt: skip
_SPELLED += [f"twenty {u}" for u in _UNITS] + ["thirtieth", "thirty first"]
_SPELLED_DAY = {w: k for k, w in enumerate(_SPELLED, 1)}
_TENS = {"twenty": 20, "thirty": 30}


def _german(ends: str) -> tuple[str, ...]:
    """German days in words: the cardinals (``ends`` empty) or the ordinals with the
    ending ``ends`` (``neunte``, ``neunten``, ``neunter``); the first an ordinal."""
    units = _split("ein zwei drei vier fünf sechs sieben acht neun")
    cardinals = [*units[1:], *_split("zehn elf zwölf dreizehn vierzehn fünfzehn sechzehn")]
    cardinals += _split("siebzehn achtzehn neunzehn zwanzig")
    cardinals += [f"{u}undzwanzig" for u in units] + ["dreißig", "einunddreißig"]
    if not ends:
        return ("erste", *cardinals)
    stems = ["erst", "zweit", "dritt", "viert", "fünft", "sechst", "siebt", "acht", "neunt"]
    stems += [cardinals[d - 2] + ("st" if d >= 20 else "t") for d in range(10, 32)]
    return tuple(f"{w}{ends}" for w in stems)


# days in words in the other languages (English: _SPELLED): (language, form) → the
# 31 days as written; the first of a month as its ordinal (premier, primero), the
# cardinal "one" being no day people write (un, uno, een: articles)
_DAY_NAMES: dict[tuple[str, str], tuple[str, ...]] = {
    ("de", "te"): _german("e"),
    ("de", "ten"): _german("en"),
    ("de", "ter"): _german("er"),
    ("de", ""): _german(""),
    ("nl", "de"): _split(
        "eerste tweede derde vierde vijfde zesde zevende achtste negende tiende elfde "
        "twaalfde dertiende veertiende vijftiende zestiende zeventiende achttiende "
        "negentiende twintigste eenentwintigste tweeëntwintigste drieëntwintigste "
        "vierentwintigste vijfentwintigste zesentwintigste zevenentwintigste "
        "achtentwintigste negenentwintigste dertigste eenendertigste"
    ),
    ("nl", ""): _split(
        "eerste twee drie vier vijf zes zeven acht negen tien elf twaalf dertien veertien "
        "vijftien zestien zeventien achttien negentien twintig eenentwintig tweeëntwintig "
        "drieëntwintig vierentwintig vijfentwintig zesentwintig zevenentwintig "
        "achtentwintig negenentwintig dertig eenendertig"
    ),
    ("fr", ""): (
        *_split("premier deux trois quatre cinq six sept huit neuf dix onze douze treize"),
        *_split("quatorze quinze seize dix-sept dix-huit dix-neuf vingt"),
        "vingt et un",
        *(f"vingt-{u}" for u in _split("deux trois quatre cinq six sept huit neuf")),
        "trente",
        "trente et un",
    ),
    ("es", ""): (
        *_split("primero dos tres cuatro cinco seis siete ocho nueve diez once doce trece"),
        *_split("catorce quince dieciséis diecisiete dieciocho diecinueve veinte veintiuno"),
        *_split("veintidós veintitrés veinticuatro veinticinco veintiséis veintisiete"),
        *_split("veintiocho veintinueve treinta"),
        "treinta y uno",
    ),
    ("pt", ""): (
        *_split("primeiro dois três quatro cinco seis sete oito nove dez onze doze treze"),
        *_split("catorze quinze dezesseis dezessete dezoito dezenove vinte"),
        *(f"vinte e {u}" for u in _split("um dois três quatro cinco seis sete oito nove")),
        "trinta",
        "trinta e um",
    ),
    ("it", ""): (
        *_split("primo due tre quattro cinque sei sette otto nove dieci undici dodici"),
        *_split("tredici quattordici quindici sedici diciassette diciotto diciannove"),
        *_split("venti ventuno ventidue ventitré ventiquattro venticinque ventisei"),
        *_split("ventisette ventotto ventinove trenta trentuno"),
    ),
}
# other spellings: quatorze (Brazil catorze), dezasseis.. dezanove (Portugal)
_MORE_DAY_NAMES = {("pt", ""): {14: "quatorze", 16: "dezasseis", 17: "dezassete", 19: "dezanove"}}


def _day_keys(phrase: str) -> set[str]:
    """A day's words as a norm text and :func:`_folded` read them: accents gone, words
    apart (dix-sept: ``dix sept``), ß as it is and as ``ss``."""
    words = _SPLIT.findall(phrase)
    kept = unicodedata.normalize("NFKD", " ".join(words).lower())
    return {" ".join(map(_folded, words)), "".join(c for c in kept if not unicodedata.combining(c))}


def _other_days() -> dict[str, list[tuple[str, str, int]]]:
    out: dict[str, list[tuple[str, str, int]]] = {}
    for (lang, form), days in _DAY_NAMES.items():
        more = _MORE_DAY_NAMES.get((lang, form), {})
        for day, w in [*enumerate(days, 1), *more.items()]:
            for key in _day_keys(w):
                out.setdefault(key, []).append((lang, form, day))
    return out


_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_SPLIT = re.compile(r"([^\W_]+)")
# the compact writings of a date, one run of digits (Y: four-digit year, y: two): year
# first, day first, month first with a four-digit year; year first and day first with
# a two-digit year (month first with a two-digit year: no; see docs/masking.md)
COMPACT_ORDERS = ("Ymd", "dmY", "mdY", "ymd", "dmy")
_COMPACT = re.compile(r"([^\W\d_]*)([0-9]{8}|[0-9]{6})([^\W\d_]*)")
_PIVOT = 30  # a two-digit year below this is 20yy, else 19yy (fixed: masking is deterministic)


def _folded(word: str) -> str:
    """``word`` as a norm text writes it: lower case, accents gone (``º`` is ``o``)."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _month_words() -> dict[str, list[tuple[str, int, int]]]:
    """Folded month word → its (language, month, form: 0 name, 1 abbreviation):
    English first, then the languages where it is the month's first word of its
    form (``set``: Portuguese and Italian, then Spanish, which also writes ``sep``),
    each in the languages' order."""
    first: dict[str, list[tuple[str, int, int]]] = {}
    other: dict[str, list[tuple[str, int, int]]] = {}
    for lang, (full, short) in MONTH_NAMES.items():
        for m in range(1, 13):
            written = [(full[m - 1], 0), *((w, 0) for w in _MORE_NAMES.get((lang, m), ()))]
            written += [(s, 1) for s in short[m - 1]]
            for k, (w, form) in enumerate(written):
                entry = (lang, m, form)
                canonical = k == 0 or (form == 1 and w == short[m - 1][0])
                mine = (first if canonical else other).setdefault(_folded(w), [])
                if entry not in mine:
                    mine.append(entry)
    out = {w: list(e) for w, e in first.items()}
    for w, entries in other.items():
        out.setdefault(w, []).extend(e for e in entries if e not in out[w])
    # English before any other language that writes the same word (Sept)
    return {w: sorted(e, key=lambda x: x[0] != "en") for w, e in out.items()}


_MONTH_WORDS = _month_words()
# folded month word → its month (the same in every language that writes it)
_MONTH_OF = {w: entries[0][1] for w, entries in _MONTH_WORDS.items()}
# folded day in words (its words spaced) → (language, form, day) of each that writes it
_OTHER_DAY = _other_days()
# the first words of the days in words of several words (twenty, dix, vinte): a text's
# words hold one of them before such a day is looked up (a set test)
_PHRASE_FIRST = frozenset(p.split()[0] for p in [*_SPELLED_DAY, *_OTHER_DAY] if " " in p)


def date_text(value: object) -> object:
    """A date-of-birth column's value as ISO text (``1948-09-06``), from a ``date``,
    a ``datetime`` or text that starts with an ISO date (COPY or SQLite text); any
    other value as it is (not text: not a known value)."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if type(value) is str:
        m = _ISO.match(value)
        return m.group(0) if m else None
    return value


def date_column(col: Sequence[object]) -> list[object]:
    """:func:`date_text` of each value of a column."""
    return list(map(date_text, col))


def date_patterns(ws: list[str]) -> list[tuple[str, bool]]:
    """The pattern of an ISO date whose words are ``ws`` (``1948 09 06``): its mark
    (:data:`DATE_MARK` and the date), which :func:`date_hits` reads; none for a value
    that is no valid date."""
    day = _parsed(ws)
    return [(f"{DATE_MARK}{day.isoformat()}", False)] if day is not None else []


def date_anchor(ws: list[str]) -> list[tuple[str, bool]]:
    """The anchor of a date's writings: its year's last two digits, which every
    writing holds (``1948`` and ``'48``)."""
    return [(ws[0][2:], True)] if _parsed(ws) is not None else []


def _parsed(ws: list[str]) -> dt.date | None:
    if len(ws) != 3 or not all(w.isdigit() for w in ws) or len(ws[0]) != 4:
        return None
    try:
        return dt.date(int(ws[0]), int(ws[1]), int(ws[2]))
    except ValueError:
        return None


def date_hits(mark: str, normed: str) -> list[str]:
    """The phrases of the :func:`norm` text ``normed`` that write the date of
    ``mark`` (:func:`date_patterns`), as word patterns (``" 6th of september 1948 "``),
    the compact words first (:func:`_compact_hits`), then those of its four-digit
    year; empty when the text holds neither its year's last two digits (one C-level
    test: most texts) nor a form of its year as a word or a compact form."""
    long, short, month, day = _mark_parts(mark)
    if long[3:5] not in normed:  # (the year's last two digits: in every writing)
        return []
    out = _compact_hits(mark, normed)
    if long not in normed and short not in normed:
        return out
    for needle in (long, short):
        at = normed.find(needle)
        while at >= 0:
            # up to seven words before the year (6 de septiembre de), two after (09 06)
            # (seven: vinte e um de março de)
            before = normed[max(0, at - 64) : at].rsplit(" ", 7)[-7:]
            got = _written_before(before, month, day)
            if got:
                out.append(f" {' '.join(got)} {needle[1:-1]} ")
            # year first, four digits or two (1948-09-06, 48/09/06)
            after = normed[at + len(needle) : at + len(needle) + 8].split(" ")[:2]
            if len(after) == 2 and _number(after[0]) == month and _number(after[1]) == day:
                out.append(f"{needle}{after[0]} {after[1]} ")
            at = normed.find(needle, at + len(needle) - 1)
    return out


def _compact_hits(mark: str, normed: str) -> list[str]:
    """The words of ``normed`` that write the date of ``mark`` as one run of digits
    (:func:`compact_forms`: ``19480906``, ``060948``), letters glued either side
    (``dob19480906``), no digit: as word patterns."""
    out: list[str] = []
    for form in compact_forms(mark[len(DATE_MARK) :]):
        at = normed.find(form)
        while at >= 0:  # (a norm text starts and ends with a space)
            end = at + len(form)
            if not normed[at - 1].isdigit() and not normed[end].isdigit():
                start = normed.rfind(" ", 0, at) + 1
                stop = normed.find(" ", end)
                head, tail = normed[start:at], normed[end:stop]
                if (not head or head.isalpha()) and (not tail or tail.isalpha()):
                    out.append(f" {normed[start:stop]} ")
            at = normed.find(form, end)
    return out


@lru_cache(maxsize=1 << 14)
def compact_forms(iso: str) -> tuple[str, ...]:
    """An ISO date's compact writings, one run of digits each (:data:`COMPACT_ORDERS`):
    ``1948-09-06`` → ``19480906``, ``06091948``, ``09061948``, ``480906``, ``060948``."""
    y, m, d = iso[:4], iso[5:7], iso[8:10]
    parts = {"Y": y, "y": y[2:], "m": m, "d": d}
    return tuple(dict.fromkeys("".join(parts[c] for c in o) for o in COMPACT_ORDERS))


@lru_cache(maxsize=1 << 14)
def _mark_parts(mark: str) -> tuple[str, str, int, int]:
    """A date mark's year as words (``" 1948 "``, ``" 48 "``), its month and day."""
    iso = mark[len(DATE_MARK) :]
    return f" {iso[:4]} ", f" {iso[2:4]} ", int(iso[5:7]), int(iso[8:10])


def _written_before(ws: list[str], month: int, day: int) -> list[str] | None:
    """The words at the end of ``ws`` that, before a year, write ``day`` and
    ``month`` (any writing of the module's), or None."""
    n = len(ws)
    i = n
    if i and ws[i - 1] in _BEFORE_YEAR:  # (6 de septiembre *de* 1948)
        i -= 1
    if i < 2:
        return None
    last, prev = ws[i - 1], ws[i - 2]
    # day and month as numbers, either order (no word between: 06/09/1948, 9/6/48)
    if i == n and last.isdigit() and prev.isdigit():
        a, b = _number(prev), _number(last)
        return ws[i - 2 :] if (a, b) in ((day, month), (month, day)) else None
    if _MONTH_OF.get(last) == month:  # day first: 6 (of|de) september
        j = i - 2 if prev in _BEFORE_MONTH else i - 1
        got = _day_back(ws, j - 1)
        return ws[got[1] :] if got is not None and got[0] == day else None
    got = _day_back(ws, i - 1)
    if got is not None and got[0] == day:  # month first: september (the) 6th
        j = got[1] - 1 if ws[got[1] - 1 : got[1]] != ["the"] else got[1] - 2
        return ws[j:] if j >= 0 and _MONTH_OF.get(ws[j]) == month else None
    return None


def _day_back(ws: list[str], k: int) -> tuple[int, int] | None:
    """The day whose last word is ``ws[k]`` and the index of its first word: a
    number or an ordinal (6, 6th, 1er), ``1 o`` (1.º), a word (sixth, twenty sixth)."""
    if k < 0:
        return None
    w = ws[k]
    if w == "o" and k and _number(ws[k - 1]) is not None:  # 1.º (the dot apart)
        return int(ws[k - 1]), k - 1
    for n in (3, 2):  # (the longest first: sixth is never read out of twenty sixth)
        if k >= n - 1 and ws[k - n + 1] in _PHRASE_FIRST:
            got = _in_words(" ".join(ws[k - n + 1 : k + 1]))
            if got is not None:
                return got, k - n + 1
    got = _day(w) if w[:1].isdigit() else _in_words(w)
    return (got, k) if got is not None else None


def _in_words(phrase: str) -> int | None:
    """The day a folded day in words writes (its words spaced: ``twenty sixth``,
    ``neunten``, ``dix sept``, ``vinte e um``), else None."""
    got = _SPELLED_DAY.get(phrase)
    if got is None and phrase in _OTHER_DAY:
        return _OTHER_DAY[phrase][0][2]
    return got


def _number(w: str) -> int | None:
    """A number of one or two digits (a day or a month), else None."""
    return int(w) if len(w) <= 2 and w.isdigit() else None


def _day(w: str) -> int | None:
    """A day written as a number or an ordinal (6, 06, 6th, 1er, 1o for 1º) or an
    English ordinal word (sixth; twenty-sixth read as one word ``twenty sixth``),
    else None."""
    m = _ORDINAL.fullmatch(w)
    return int(m.group(1)) if m else _in_words(w)


def read_written(text: str) -> tuple[dt.date, Callable[[dt.date], str]] | None:
    """The date a found span writes and a function that writes another date the
    same way (its separators, the width of its numbers, an ordinal as an ordinal,
    a two-digit year as two digits, its month word's language, length and case);
    None when the span is no date of a known writing. A two-digit year is read in
    20yy below :data:`_PIVOT`, else 19yy; day first is read before month first."""
    parts = _SPLIT.split(text)  # separators and words in turn: words at odd places
    tokens = parts[1::2]
    if len(tokens) == 1 and (whole := _COMPACT.fullmatch(tokens[0])) is not None:
        return _read_compact(parts, whole)
    if text.isascii():  # (tokens are word characters: no NUL among them)
        folded = "\x00".join(tokens).lower().split("\x00")
    else:
        folded = list(map(_folded, tokens))
    # the º of 1.º (Spanish, Portuguese) after its number, apart: a suffix, no part
    apart = {
        i
        for i, w in enumerate(folded)
        if w == "o" and i and folded[i - 1].isdigit() and len(folded[i - 1]) <= 2
    }
    # a day in words of several words (twenty-sixth, dix-sept, vinte e um): read as one
    # in its last word's place, the others apart
    joined = _joined_days(folded)
    for last, first in joined.items():
        folded[last] = " ".join(folded[first : last + 1])
    tens = {j for last, first in joined.items() for j in range(first, last)}
    apart |= tens
    core = [i for i, w in enumerate(folded) if w not in _FILLERS and i not in apart]
    if len(core) != 3:
        return None
    ws = [folded[i] for i in core]
    named = [k for k, w in enumerate(ws) if w in _MONTH_OF]
    if len(named) == 2 and named[0] == 0 and ws[0] in _OTHER_DAY:  # (sept mars, dez de março)
        named = named[1:]
    roles: list[str]
    if named:
        if len(named) != 1 or named[0] == 2 or len(ws[2]) not in (2, 4) or not ws[2].isdigit():
            return None
        roles = ["n", "o", "y"] if named[0] == 0 else ["o", "n", "y"]
    elif not all(w.isdigit() for w in ws):
        return None
    elif len(ws[0]) == 4:
        roles = ["y", "m", "d"]
    elif len(ws[0]) <= 2 and len(ws[1]) <= 2 and len(ws[2]) <= 4:
        # day first, month first, then year first with two digits (48-09-06, 48/9/6)
        tries = [["d", "m", "y"], ["m", "d", "y"]] if len(ws[2]) in (2, 4) else []
        tries += [["y", "m", "d"]] if len(ws[0]) == 2 and len(ws[2]) <= 2 else []
        found = next((r for r in tries if _date(ws, r) is not None), None)
        if found is None:
            return None
        roles = found
    else:
        return None
    day = _date(ws, roles)
    if day is None:
        return None
    lang = _language(folded, ws[named[0]]) if named else ""
    padded = _padded([w for w, r in zip(ws, roles, strict=True) if r in "mdo"], bool(named))

    def write(new: dt.date) -> str:
        out = parts.copy()
        for i, role in zip(core, roles, strict=True):
            if i not in joined:  # (a day of several words: below)
                out[2 * i + 1] = _written(new, role, tokens[i], lang, padded)
        for i in apart - tens if new.day != 1 else ():  # (1.º de: 23 de, the first only)
            out[2 * i] = out[2 * i + 1] = ""
        for last, first in joined.items():  # the day in words in the last word's place
            old = "".join(tokens[first : last + 1])
            word = _day_written(new.day, folded[last], lang, parts[2 * first + 2], old)
            for j in range(first, last):
                out[2 * j + 1] = out[2 * j + 2] = ""
            out[2 * last + 1] = _cased(word, tokens[first])
        return "".join(out)

    return day, write


def _read_compact(
    parts: list[str], whole: re.Match[str]
) -> tuple[dt.date, Callable[[dt.date], str]] | None:
    """A span of one word whose digits write a date compact (``19480906``,
    ``DOB060948``): the date in the first of :data:`COMPACT_ORDERS` of its width that
    reads as one (a two-digit year in its century: :data:`_PIVOT`), and the function
    writing another date in that order, the letters around as they are."""
    digits = whole.group(2)
    for order in COMPACT_ORDERS:
        if 2 * len(order) + 2 * order.count("Y") != len(digits):
            continue
        cut: dict[str, str] = {}
        at = 0
        for c in order:
            width = 4 if c == "Y" else 2
            cut[c.lower() if c == "Y" else c] = digits[at : at + width]
            at += width
        ws = [cut["y"], cut["m"], cut["d"]]
        day = _date(ws, ["y", "m", "d"])
        if day is not None:
            return day, _compact_writer(parts, whole, order)
    return None


def _compact_writer(parts: list[str], whole: re.Match[str], order: str) -> Callable[[dt.date], str]:
    def write(new: dt.date) -> str:
        parts_of = {"Y": f"{new.year:04d}", "y": f"{new.year % 100:02d}"}
        parts_of |= {"m": f"{new.month:02d}", "d": f"{new.day:02d}"}
        digits = "".join(parts_of[c] for c in order)
        return f"{parts[0]}{whole.group(1)}{digits}{whole.group(3)}{parts[2]}"

    return write


def _joined_days(folded: list[str]) -> dict[int, int]:
    """The days in words of several words among ``folded`` (longest first): the index
    of each one's last word → its first's."""
    out: dict[int, int] = {}
    if _PHRASE_FIRST.isdisjoint(folded):
        return out
    i = 0
    while i < len(folded) - 1:
        n = next(
            (
                n
                for n in (3, 2)
                if i + n <= len(folded) and _in_words(" ".join(folded[i : i + n])) is not None
            ),
            1,
        )
        if n > 1:
            out[i + n - 1] = i
        i += n
    return out


def _day_written(day: int, was: str, lang: str, joiner: str, old: str) -> str:
    """``day`` in words as the folded day in words ``was`` is written: English with its
    joiner (``twenty-sixth``), another language in its form (``neunten``: ``zweiten``;
    ``nove``: ``ventidue`` in Italian, ``vinte e dois`` in Portuguese: the month's
    language ``lang`` first), without accents when ``old`` (the words as written) has
    none."""
    if was in _SPELLED_DAY:
        return _SPELLED[day - 1].replace(" ", joiner)
    entries = _OTHER_DAY[was]
    mine, form, _ = next((e for e in entries if e[0] == lang), entries[0])
    word = _DAY_NAMES[(mine, form)][day - 1]
    if old.isascii() and not word.isascii():
        kept = unicodedata.normalize("NFKD", word.replace("ß", "ss"))
        word = "".join(c for c in kept if not unicodedata.combining(c))
    return word


def _date(ws: list[str], roles: list[str]) -> dt.date | None:
    parts: dict[str, int] = {}
    for w, r in zip(ws, roles, strict=True):
        if r == "n":
            parts["m"] = _MONTH_OF[w]
        elif r == "o":
            got = _day(w)
            if got is None:
                return None
            parts["d"] = got
        elif w.isdigit():
            parts[r] = int(w)
        else:
            return None
    if "y" in parts and len(ws[roles.index("y")]) == 2:
        parts["y"] += 2000 if parts["y"] < _PIVOT else 1900
    try:
        return dt.date(parts["y"], parts["m"], parts["d"])
    except (KeyError, ValueError):
        return None


def _language(folded: list[str], month_word: str) -> str:
    """The language a span's month word is read in: of those that write the word,
    the one its other words point to (``de``: Spanish, then Portuguese; ``of``,
    ``the`` or an English ordinal: English; ``1er``: French), else the first."""
    langs = [lang for lang, _, _ in _MONTH_WORDS[month_word]]
    if len(langs) == 1:
        return langs[0]
    # a day in words says its language (nove marzo: Italian)
    hints = [lg for w in folded if w != month_word for lg, _, _ in _OTHER_DAY.get(w, ())]
    if "de" in folded or "del" in folded:
        hints += ["es", "pt"]
    ends = [w[-2:] for w in folded if w[:1].isdigit()]
    english = any(e in _ENGLISH_ENDS for e in ends) or any(w in _SPELLED_DAY for w in folded)
    if "of" in folded or "the" in folded or english:
        hints.append("en")
    if "er" in ends:
        hints.append("fr")
    return next((h for h in hints if h in langs), langs[0])


def _padded(numbers: list[str], named: bool) -> bool:
    """Whether a span writes its day and month with two digits (``numbers``: their
    words, digits first): yes when one has a leading zero (``06/11``), no when one
    has one digit (``6/11``, ``6th``); both of two digits from 10 on (``13/11/48``,
    ``22. Dezember``) say nothing: two digits when they are numbers alone, as
    written without a month's name otherwise."""
    digits = [n[:2] if n[1:2].isdigit() else n[:1] for n in numbers]
    if any(len(d) == 2 and d[0] == "0" for d in digits):
        return True
    if any(len(d) == 1 for d in digits):
        return False
    return not named


def _written(new: dt.date, role: str, old: str, lang: str, padded: bool) -> str:
    """``new``'s part ``role`` written as ``old`` writes its own (``padded``: a day
    or month below 10 with a leading zero)."""
    if role == "y":
        return f"{new.year:04d}" if len(old) == 4 else f"{new.year % 100:02d}"
    if role == "n":
        return _month_written(new.month, old, lang)
    if role == "o" and not old[:1].isdigit():  # a day in words: sixth, neunten, nove
        return _cased(_day_written(new.day, _folded(old), lang, "-", old), old)
    if role == "o":
        m = _ORDINAL.fullmatch(_folded(old))
        digits, suffix = (m.group(1), m.group(2)) if m else (old, None)
        number = _width(new.day, padded)
        if suffix in ("st", "nd", "rd", "th"):
            end = _english_suffix(new.day)
            return number + (end.upper() if old[len(digits) :].isupper() else end)
        if suffix and new.day == 1:  # (French 1er, Portuguese 1º: the first only)
            return number + old[len(digits) :]
        return number
    return _width(new.month if role == "m" else new.day, padded)


def _cased(word: str, old: str) -> str:
    """``word`` in ``old``'s case: upper, capitalised or lower."""
    if old.isupper():
        return word.upper()
    return word.capitalize() if old[:1].isupper() else word


def _width(n: int, padded: bool) -> str:
    return f"{n:02d}" if padded else str(n)


def _english_suffix(day: int) -> str:
    if day in (11, 12, 13):
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _month_written(month: int, old: str, lang: str) -> str:
    """``month``'s word in ``lang``, as a name or an abbreviation as ``old`` is, in
    its case; without accents when ``old`` has none (German umlauts as ``ae``)."""
    folded = _folded(old)
    was, form = next((m, f) for lg, m, f in _MONTH_WORDS[folded] if lg == lang)
    full, short = MONTH_NAMES[lang]
    if form == 0:
        word = full[month - 1]
    else:  # the same of its month's abbreviations, where there is one: Sept, Sept
        k = [_folded(s) for s in short[was - 1]].index(folded)
        word = short[month - 1][k if k < len(short[month - 1]) else 0]
    if old.isascii() and not word.isascii():
        # its spelling without accents: another of the month's words (Mrz for Mär,
        # Maerz for März), else the word with its accents dropped (fevr, aout)
        others = short[month - 1] if form else _MORE_NAMES.get((lang, month), ())
        word = next(
            (w for w in others if w.isascii()),
            "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c)),
        )
    if old.isupper():
        return word.upper()
    return word.capitalize() if old[:1].isupper() else word


def pseudonym_dates(
    items: Sequence[str], shift: Callable[[list[str]], list[object]]
) -> dict[str, str | None]:
    """Each found span → the keyed pseudonym of the date it writes (``shift``: ISO
    texts → shifted ISO texts, date_shift's), written the same way; None (starred
    out) for a span that is no date of a known writing."""
    read = {s: read_written(s) for s in items}
    isos = sorted({r[0].isoformat() for r in read.values() if r is not None})
    moved = dict(zip(isos, shift(isos), strict=True)) if isos else {}
    out: dict[str, str | None] = {}
    for s, r in read.items():
        if r is None:
            out[s] = None
            continue
        new = moved.get(r[0].isoformat())
        m = _ISO.match(new) if type(new) is str else None
        out[s] = r[1](dt.date.fromisoformat(m.group(0))) if m else None
    return out


@lru_cache(maxsize=64)
def month_words(month: int) -> tuple[str, ...]:
    """The folded words that write ``month`` (every language's name and abbreviations)."""
    return tuple(w for w, m in _MONTH_OF.items() if m == month)


__all__ = [
    "COMPACT_ORDERS",
    "DATE_KIND",
    "DATE_MARK",
    "DATE_TRANSFORMERS",
    "MONTHS",
    "MONTH_NAMES",
    "compact_forms",
    "date_anchor",
    "date_column",
    "date_hits",
    "date_patterns",
    "date_text",
    "month_words",
    "pseudonym_dates",
    "read_written",
]
