"""Verify's search for source people's *rare name words* inside longer text.

The whole-target scan's units are whole values, JSON leaves and keys, and what the
detector finds (:mod:`._units`); the row-by-row search reads a row's own values in
its own and related rows (:mod:`._rowcheck`). Neither saw another row's surname
that no name list knows (``Ganthriv``) written inside a longer text or key of an
unrelated row: ``{"Ganthriv family": 1}``, ``Dinner with the Ganthrivs and Ana``.

Here the source's name columns (planned ``first_name``, ``last_name``, and
``full_name`` in a table that looks like people: :func:`name_columns`) give their
words; those that are *rare* are searched as words in every text cell and JSON
document of the target (keys and leaves alike), folded (case, accents, look-alike
letters, invisible characters), in the plural (``-s``, ``-es``), glued to
digits (``ganthriv87``, ``87ganthriv``: :data:`_GLUED`) and, six letters or more,
glued to initials, a known word or a camelCase part (``jmganthriv``,
``GanthrivFamily``: :func:`_inside`). A word is rare when it has
at least :data:`MIN_LETTERS` letters and is none of: a name of the detector's name
lists (any of its locales: the transformers draw their pseudonyms from a subset of
them), a word of the pseudonyms' city and street lists, a common English word or
reviewed technical term (:func:`._ordinary.ordinary`), a word of a column the plan
keeps (public: film titles, product names). What is left are words that name someone
and nothing else, so a target cell holding one is the person's name surviving; a hit
is reported as table, column, kind (surname or given name) and cell count, never the
word. A street column's rare name words (:mod:`._streetcores`) are searched the same
way, kind :data:`STREET`, and also with a street ending glued on (``Ganthrivweg``);
so are a city column's rare words (``Quarrington``: :func:`._streetcores.city_words`),
kind :data:`CITY`.
See docs/masking.md ("What verify checks").
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from typing import Any

from stagewall.masking._streetcores import (
    CITY,
    CITY_TRANSFORMERS,
    ENDINGS,
    STREET,
    STREET_TRANSFORMERS,
    city_columns,
    city_words,
    compound_stem,
    core_words,
    street_columns,
)
from stagewall.masking._streetcores import is_common as street_common
from stagewall.masking.types import ColumnKind, binary_text

MIN_LETTERS = 4
SURNAME, GIVEN = "surname", "given name"
NONE = ""  # (a word that is no hit: see :func:`rare`)
_RANK = {SURNAME: 0, GIVEN: 1, STREET: 2, CITY: 3, NONE: 4}
_PLACES = (STREET, CITY)  # (kinds judged by _streetcores.is_common)
# the planned name transformers whose values' words are searched: one person's
# given name or surname each
NAME_TRANSFORMERS = frozenset({"first_name", "last_name"})
# a full name's surname-like words are searched only in a table that looks like
# people: one with a column planned as one of these beside it (a full name elsewhere
# often holds bands, firms and several people: Chinook's Track.Composer, "Black
# Sabbath", "Jobim, Vinicius de Moraes")
FULL_NAME = "full_name"
PERSON_MARKS = frozenset({"email", "phone", "birth_date", *NAME_TRANSFORMERS})
# a word: a run of letters with neither a letter nor a digit on either side (the
# letters of a pseudonym's random tail, ``4qdkqy4bale``, are no word)
_WORD = re.compile(rf"(?<![^\W_])[^\W\d_]{{{MIN_LETTERS},}}(?![^\W_])")
# such a word glued to digits on either side or both, the run of letters and digits
# holding no other letter (``ganthriv87``, ``87ganthriv``, ``4ganthriv2``; the word
# is group 1 or 2). A pseudonym e-mail's random tail, ``4qdkqy4bale``, holds none.
# Searched in the text a column passes through or scrubs, not in values the plan
# generates (fpe_alnum writes random letters beside digits: noise), and not when the
# word is one letter glued to a word of no one in particular (see :func:`_glued`)
_GLUED = re.compile(
    rf"(?<![^\W_])(?:\d+([^\W\d_]{{{MIN_LETTERS},}})\d*|([^\W\d_]{{{MIN_LETTERS},}})\d+)(?![^\W_])"
)
# public text is read for both: its words and its words glued to digits (group 1)
_PUBLIC = re.compile(rf"(?<![^\W_])\d*([^\W\d_]{{{MIN_LETTERS},}})\d*(?![^\W_])")
_DIGIT = re.compile(r"\d")
# glued to other letters (:func:`_inside`): a rare word of at least this many letters
# inside a longer run of letters (``jmganthriv``, ``ganthrivwedding``); shorter
# words are too often a piece of an unrelated longer word
GLUE_LETTERS = 6
# what is left of such a run beside the word may be this many letters (initials,
# ``jm``, ``ana``) or a known word or name (``family``, ``maria``)
GLUE_REST = 3
_RUN = re.compile(rf"[^\W\d_]{{{GLUE_LETTERS + 1},}}")  # a run of letters that long
# a letter run with a lower-case letter before an upper-case one (``GanthrivFamily``)
_CAMEL_HINT = re.compile(r"[a-z][A-Z]")
_FIRST = re.compile(r"[^\W_]+")  # a full name's first word (of any length)
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _unescape(m: re.Match[str]) -> str:
    cp = int(m[1], 16)
    return " " if cp == 0 or 0xD800 <= cp < 0xE000 else chr(cp)


def fold_text(text: str) -> str:
    """``text`` lower-cased, accents and invisible characters gone, look-alike
    Cyrillic and Greek letters as Latin, JSON ``\\u`` escapes decoded."""
    from stagewall.masking.transformers._known import fold_known

    return fold_known(plain_text(text))


def plain_text(text: str) -> str:
    """``text`` with its JSON ``\\u`` escapes decoded and invisible characters gone,
    its case and accents kept (:func:`fold_text` before folding)."""
    from stagewall.masking.transformers._known import _INVISIBLE

    if "\\u" in text:
        text = _JSON_ESCAPE.sub(_unescape, text)
    if not text.isascii():
        text = text.translate(_INVISIBLE)
    return text


def name_columns(planned: Mapping[str, str]) -> dict[str, str]:
    """The columns of a table (column → planned transformer: ``planned``) whose words
    are the source's name words, with their transformer: those planned
    ``first_name`` or ``last_name``, and ``full_name`` when the table looks like
    people (a column planned as one of :data:`PERSON_MARKS` beside it)."""
    out = {c: t for c, t in planned.items() if t in NAME_TRANSFORMERS}
    if any(t in PERSON_MARKS for t in planned.values()):
        out.update({c: t for c, t in planned.items() if t == FULL_NAME})
    return out


def source_columns(planned: Mapping[str, str]) -> dict[str, str]:
    """The columns of a table whose words are searched when rare: its name columns
    (:func:`name_columns`), its street columns (:func:`._streetcores.street_columns`:
    a street's rare name words) and its city columns (:func:`._streetcores.city_columns`).
    Only the first make a table one about people."""
    return {**city_columns(planned), **street_columns(planned), **name_columns(planned)}


def source_words(transformer: str, values: Sequence[object], into: dict[str, str]) -> None:
    """The words of a name column's ``values`` (planned ``transformer``: ``first_name``,
    ``last_name`` or ``full_name``) with their kind, into ``into`` (a surname wins over
    a given name for a word that is both). A full name gives its surname-like words
    only: those after its first (``Ana Maria Ganthriv``: ``maria``, ``ganthriv``), or
    those before a comma (``Ganthriv, Ana``); its first word may be a title."""
    texts = [v for v in values if type(v) is str and v]
    if not texts:
        return
    folded = fold_text("\x00".join(texts))
    if transformer in STREET_TRANSFORMERS:  # a street's rare name (_streetcores)
        for w in core_words(folded.split("\x00")):
            if into.get(w, CITY) == CITY:  # (a word that is a name too is a name)
                into[w] = STREET
        return
    if transformer in CITY_TRANSFORMERS:  # a city's rare words (_streetcores)
        for w in city_words(folded):
            into.setdefault(w, CITY)  # (a name's or a street's word is that)
        return
    kind = GIVEN if transformer == "first_name" else SURNAME
    if transformer == FULL_NAME:
        found: set[str] = set()
        for one in folded.split("\x00"):
            head = one.split(",", 1)[0] if "," in one else _FIRST.sub("", one, count=1)
            found.update(_WORD.findall(head))
    else:
        found = set(_WORD.findall(folded))
    for w in found:
        if into.get(w) != SURNAME:
            into[w] = kind


def merge_word(into: dict[str, str], word: str, kind: str) -> None:
    """``word`` of ``kind`` into ``into``: a surname wins over a given name, a name
    over a street (the same whatever the order words are read in)."""
    if _RANK[kind] < _RANK.get(into.get(word, ""), 9):
        into[word] = kind


def public_words(values: Sequence[object], into: set[str]) -> None:
    """The words of a kept column's text ``values`` (documents too), into ``into``."""
    public_texts(_texts(values), into)


def public_texts(texts: Sequence[str], into: set[str]) -> None:
    """The words of ``texts``, into ``into`` (a text repeated in ``texts`` read once:
    kept columns repeat their values, a country or a status on every row)."""
    if texts:
        into.update(_PUBLIC.findall(fold_text("\x00".join(dict.fromkeys(texts)))))


@cache
def _common() -> frozenset[str]:
    """Words that name no one in particular: the detector's names, the pseudonyms'
    words, common English words and technical terms."""
    from stagewall.masking._ordinary import TECHNICAL, common_english
    from stagewall.masking.transformers import _dicts

    out: set[str] = set(_dicts.detection_first_names()) | set(_dicts.detection_last_names())
    pools = [_dicts.first_names(), _dicts.last_names(), _dicts.cities(), _dicts.regions()]
    pools += [_dicts.countries(), _dicts.street_suffixes(), _dicts.company_suffixes()]
    for arr in pools:
        out.update(_WORD.findall(fold_text("\x00".join(map(str, arr.tolist())))))
    # and Faker's English nouns, verbs, adjectives and adverbs (2,239 words with the
    # lorem list: ``sweet``, ``midnight``, ``queen``)
    from faker.providers.lorem.en_US import Provider

    speech = getattr(Provider, "parts_of_speech", {})
    out.update(w.lower() for ws in speech.values() for w in ws)
    return frozenset(out | TECHNICAL | common_english())


def rare(words: Mapping[str, str], public: Iterable[str]) -> dict[str, str]:
    """The rare ``words`` (word → kind): see the module docstring (a street's by
    :func:`._streetcores.is_common`, which knows more words). A rare surname's
    plural the source makes public (``gables`` of a film title, ``Gable`` an actor)
    is there too, with the kind :data:`NONE`: no hit."""
    common = _common()
    drop = set(public)
    out = {
        w: k
        for w, k in words.items()
        if w not in common and w not in drop and (k not in _PLACES or not street_common(w))
    }
    for w in [w for w, k in out.items() if k == SURNAME]:
        for plural in (f"{w}s", f"{w}es"):
            if plural in drop and plural not in out:
                out[plural] = NONE
    # a public word holding a rare word of GLUE_LETTERS letters or more (a film
    # title's ``shakespeare``, a rare ``spear`` were it that long) is no hit either:
    # it is not searched inside (:func:`_inside` passes over a run of ``words``)
    n = GLUE_LETTERS
    by_head: dict[str, list[str]] = {}
    for w, k in out.items():
        if k and len(w) >= n:
            by_head.setdefault(w[:n], []).append(w)
    if by_head:
        for p in drop:
            if len(p) > n and p not in out and _holds_long(p, by_head):
                out[p] = NONE
    return out


def _holds_long(run: str, by_head: Mapping[str, list[str]]) -> bool:
    """True when ``run`` holds, and is longer than, one of the words of ``by_head``
    (their first :data:`GLUE_LETTERS` letters → the words)."""
    n = GLUE_LETTERS
    return any(
        run.startswith(w, i) and len(w) < len(run)
        for i in range(len(run) - n + 1)
        for w in by_head.get(run[i : i + n], ())
    )


def _texts(values: Sequence[object]) -> list[str]:
    """The texts of the cells of ``values`` that hold text (strings; JSON documents
    and arrays as their text; bytes that are UTF-8 text, as the scan reads them)."""
    texts: list[str] = []
    for v in values:
        t = type(v)
        if t is str:
            if v:
                texts.append(v)  # type: ignore[arg-type]
        elif t is dict or t is list:
            try:
                texts.append(json.dumps(v, ensure_ascii=False, default=str))
            except (TypeError, ValueError):
                continue
        elif t is bytes or t is bytearray or t is memoryview:  # text kept as bytes
            text = binary_text(v)  # type: ignore[arg-type]
            if text:
                texts.append(text)
    return texts


def _named(found: Iterable[str], words: Mapping[str, str]) -> dict[str, str]:
    """Which of the distinct ``found`` words are a rare word, or a rare surname's
    plural that is no common word itself (``pitts``, ``spears``: pseudonyms): found
    word → kind."""
    out: dict[str, str] = {}
    common = None
    for w in found:
        kind = words.get(w)
        if kind is None and w.endswith(ENDINGS):  # a street's name, an ending glued on
            kind = STREET if compound_stem(w, words) is not None else None
        if kind is None and w[-1] == "s":
            plural = words.get(w[:-1])
            if plural is None and w[-2:] == "es":
                plural = words.get(w[:-2])
            if plural == SURNAME:
                common = _common() if common is None else common
                kind = None if w in common else plural
        if kind:
            out[w] = kind
    return out


def _glued_found(folded: str) -> set[str]:
    """The words of ``folded`` glued to digits (:data:`_GLUED`)."""
    if _DIGIT.search(folded) is None:
        return set()
    return {a or b for a, b in _GLUED.findall(folded)}


def _glued(found: Iterable[str], words: Mapping[str, str]) -> dict[str, str]:
    """:func:`_named` for words found glued to digits, less those that are one letter
    glued to a word of no one in particular: that is the shape of the ``username``
    pseudonym (an initial, a dictionary surname, two digits: ``t`` ``horn`` ``66``)
    that the copy writes, in a login column and for a row's own mailbox in scrubbed
    text; Pagila's rare surname ``Thorn`` was found in the pseudonym ``thorn66``."""
    named = _named(found, words)
    if not named:
        return named
    common = _common()
    return {w: k for w, k in named.items() if w[1:] not in common}


# the rare words searched inside longer runs of letters, of the last mappings asked
# about, by identity (a copy's learned words and verify's are fixed for a run)
_ELIGIBLE: dict[int, tuple[Mapping[str, str], dict[str, str], frozenset[str]]] = {}


def _eligible(words: Mapping[str, str]) -> tuple[dict[str, str], frozenset[str]]:
    """Those of ``words`` searched inside a longer run of letters (:func:`_inside`):
    :data:`GLUE_LETTERS` letters or more, a hit's kind, and not one letter beside a
    word of no one in particular (the ``username`` pseudonym's shape, ``t`` ``horn``:
    :func:`_glued`); and their first :data:`GLUE_LETTERS` letters."""
    hit = _ELIGIBLE.get(id(words))
    if hit is not None and hit[0] is words:
        return hit[1], hit[2]
    common = _common()
    long = {
        w: k
        for w, k in words.items()
        if k and len(w) >= GLUE_LETTERS and w[1:] not in common and w[:-1] not in common
    }
    heads = frozenset(w[:GLUE_LETTERS] for w in long)
    if len(_ELIGIBLE) >= 8:
        _ELIGIBLE.clear()
    _ELIGIBLE[id(words)] = (words, long, heads)  # (held: ids stay theirs)
    return long, heads


def _inside(
    runs: Iterable[str],
    words: Mapping[str, str],
    camel: Mapping[str, frozenset[int]],
    wants: set[str] | None = None,
) -> dict[str, list[tuple[int, int, str]]]:
    """Which of the distinct runs of letters ``runs`` (folded) hold a rare word of
    ``words`` glued to other letters: run → ``(start, end, kind)`` of each such word
    in it. A run holds one when it is longer than the word, is no word of no one in
    particular itself (``ganthrivson`` may be, ``understanding`` never holds
    ``erstan``), and each of the letters left before and after the word is either
    at most :data:`GLUE_REST` letters (initials: ``jmganthriv``, ``anaganthriv``), a
    known word or name (``ganthrivwedding``, ``ganthrivmaria``), or parted from it by
    a change from lower to upper case in the text (``GanthrivXq``: ``camel`` gives
    such a run's case changes, positions in the run); the runs that hold one but for
    an unknown rest are added to ``wants`` (their case changes are worth reading)."""
    long, heads = _eligible(words)
    if not long:
        return {}
    common = _common()
    n = GLUE_LETTERS
    out: dict[str, list[tuple[int, int, str]]] = {}
    for r in runs:
        size = len(r)
        # (most runs hold no rare word's first letters: one look-up per position)
        if not any(r[i : i + n] in heads for i in range(size - n + 1)):
            continue
        if r in common or r in words or _named((r,), words):
            continue  # (a word, or a rare surname's plural: found as a word)
        bounds = camel.get(r, frozenset())
        found: list[tuple[int, int, str]] = []
        i = 0
        while i <= size - n:
            if r[i : i + n] not in heads:
                i += 1
                continue
            for j in range(size, i + n - 1, -1):  # (the longest word first)
                kind = long.get(r[i:j])
                if kind is None or (i == 0 and j == size) or _covered(r, i, j, common):
                    continue
                before, after = r[:i], r[j:]
                if (
                    len(before) <= GLUE_REST or i in bounds or before in common or before in words
                ) and (len(after) <= GLUE_REST or j in bounds or after in common or after in words):
                    found.append((i, j, kind))
                    i = j - 1
                    break
                if wants is not None:
                    wants.add(r)
            i += 1
        if found:
            out[r] = found
    return out


def _covered(run: str, i: int, j: int, common: frozenset[str]) -> bool:
    """True when the letters ``run[i:j]`` lie inside a longer word of no one in
    particular in ``run``: an initial glued to a pseudonym's surname (``irandall``
    holds ``randal``, ``aodonnell`` ``donnell``: the ``username`` pseudonym the copy
    writes), a longer name or word beside initials."""
    return any(
        run[a:b] in common
        for a in range(i + 1)
        for b in range(len(run), j - 1, -1)
        if (a, b) != (i, j)
    )


def _inside_found(
    raw: str, folded: str, words: Mapping[str, str]
) -> tuple[dict[str, list[tuple[int, int, str]]], dict[str, list[tuple[int, int, str]]]]:
    """:func:`_inside` for the distinct runs of letters of ``folded``, one C-level pass
    each when there is no rare word of :data:`GLUE_LETTERS` letters or more: the runs
    found whatever their case (folded run → spans), and those found only by their
    case changes (``GanthrivXq``), keyed by the run *as written* in ``raw``: a run's
    case is its own, not that of the same letters elsewhere in the batch (keyed by
    the folded run, a camel-case run in one text made the same letters found in
    another text written without it, and a longer run holding them lent its case
    changes: a text's spans depended on the rest of its batch)."""
    from stagewall.masking.transformers._known import fold_known

    long, _ = _eligible(words)
    if not long:
        return {}, {}
    runs = set(_RUN.findall(folded))
    if not runs:
        return {}, {}
    wants: set[str] = set()
    out = _inside(runs, words, {}, wants)
    cased: dict[str, list[tuple[int, int, str]]] = {}
    if wants and _CAMEL_HINT.search(raw) is not None:
        # (rare: a run holding a rare word beside an unknown rest) each such run as
        # written, a whole run of letters, with its own case changes
        for c in set(_RUN.findall(raw)):
            f = fold_known(c)
            if f not in wants or len(f) != len(c) or _CAMEL_HINT.search(c) is None:
                continue
            bounds = frozenset(k for k in range(1, len(c)) if c[k - 1].islower() and c[k].isupper())
            got = _inside((f,), words, {f: bounds}).get(f)
            if got:
                cased[c] = got
    return out, cased


def cells_holding(
    values: Sequence[object], words: Mapping[str, str], glued: bool = True
) -> dict[str, int]:
    """Cells of ``values`` holding a rare word of ``words`` (or its plural), or with
    ``glued`` one glued to digits (:data:`_GLUED`) or to other letters
    (:func:`_inside`), per kind (a cell counts once per kind)."""
    if not words:
        return {}
    texts = _texts(values)
    if not texts:
        return {}
    raw = "\x00".join(texts)
    folded = fold_text(raw)
    # (a word is one of ``words`` or its plural: only those of the batch are tried)
    named = _named(set(_WORD.findall(folded)), words)
    stuck = _glued(_glued_found(folded), words) if glued else {}
    inside, cased = _inside_found(raw, folded, words) if glued else ({}, {})
    if not named and not stuck and not inside and not cased:
        return {}
    counts: dict[str, int] = {}
    cells = folded.split("\x00")
    if len(cells) != len(texts):  # a text held NUL: each on its own
        cells = [fold_text(t) for t in texts]
    probes = list(named.keys() | stuck.keys() | inside.keys())
    for at, cell in enumerate(cells):
        kinds: set[str] = set()
        if cased:  # (rare) runs found by their own case changes, read as written
            kinds.update(k for r in _RUN.findall(texts[at]) if r in cased for _, _, k in cased[r])
        if not kinds and not any(p in cell for p in probes):
            continue
        kinds.update(named[w] for w in _WORD.findall(cell) if w in named)
        if stuck:
            kinds.update(stuck[w] for w in _glued_found(cell) if w in stuck)
        if inside:
            kinds.update(k for r in _RUN.findall(cell) if r in inside for _, _, k in inside[r])
        for kind in kinds:
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def spans(texts: Sequence[str], words: Mapping[str, str]) -> list[list[tuple[int, int]]]:
    """:func:`kinded_spans` without their kinds."""
    return [[(a, b) for a, b, _ in got] for got in kinded_spans(texts, words)]


def kinded_spans(
    texts: Sequence[str], words: Mapping[str, str]
) -> list[list[tuple[int, int, str]]]:
    """Where each of ``texts`` holds a rare word of ``words`` (or a rare surname's
    plural, or a rare street core with a street ending glued on: the span is the
    core's letters), as a word, glued to digits (:data:`_GLUED`; the span is its
    letters) or to other letters (:func:`_inside`; the span is the word's, the rest
    is kept): ``(start, end, kind)`` spans, positions of the text itself (folded one
    character for one: no JSON escapes or invisible characters read here). A batch
    without one costs one C-level pass."""
    from stagewall.masking.transformers._known import fold_known

    out: list[list[tuple[int, int, str]]] = [[] for _ in texts]
    if not words or not texts:
        return out
    raw = "\x00".join(texts)
    joined = fold_known(raw)
    named = _named(set(_WORD.findall(joined)), words)
    stuck = _glued(_glued_found(joined), words)
    inside, cased = _inside_found(raw, joined, words)
    if not named and not stuck and not inside and not cased:
        return out
    # the texts holding one: from the joined text's own word matches (a NUL is no
    # word character, so each match lies inside one text), not by testing every
    # named word against every text (a batch naming many people cost texts x words);
    # every text when one holds a NUL itself, or when a run is found by its own case
    # changes (rare: read in each text as written)
    seps = [m.start() for m in _SEP.finditer(joined)]
    if len(seps) == len(texts) - 1 and not cased:
        at = {bisect_right(seps, m.start()) for m in _WORD.finditer(joined) if m[0] in named}
        if stuck:
            at.update(
                bisect_right(seps, m.start())
                for m in _GLUED.finditer(joined)
                if (m[1] or m[2]) in stuck
            )
        if inside:
            at.update(
                bisect_right(seps, m.start()) for m in _RUN.finditer(joined) if m[0] in inside
            )
        holding: Iterable[int] = sorted(at)
    else:
        holding = range(len(texts))
    for i in holding:
        t = texts[i]
        folded = fold_known(t)
        if len(folded) == len(t):
            got = [
                _span(m.start(), m[0], named[m[0]], words)
                for m in _WORD.finditer(folded)
                if m[0] in named
            ]
            if stuck:  # (a run of letters touches a digit or not: no overlap)
                for m in _GLUED.finditer(folded):
                    w = m[1] or m[2]
                    if w in stuck:
                        got.append(_span(m.start(1 if m[1] else 2), w, stuck[w], words))
            if inside:  # (the word's letters only: the rest of the run is kept)
                got += [
                    (m.start() + a, m.start() + b, k)
                    for m in _RUN.finditer(folded)
                    if m[0] in inside
                    for a, b, k in inside[m[0]]
                ]
            if cased:  # (rare) a run found by its own case changes, as written
                got += [
                    (m.start() + a, m.start() + b, k)
                    for m in _RUN.finditer(t)
                    if m[0] in cased
                    for a, b, k in cased[m[0]]
                ]
            if stuck or inside or cased:
                got = sorted(set(got))  # (a glued street ending may be found twice)
            out[i] = got
    return out


def _span(at: int, word: str, kind: str, words: Mapping[str, str]) -> tuple[int, int, str]:
    """The span of ``word`` found at ``at`` of ``kind``: a street core with an ending
    glued on (``ganthrivweg``), its core's letters only (the ending is kept)."""
    if kind == STREET and words.get(word) != STREET:
        stem = compound_stem(word, words)
        if stem is not None:
            return (at, at + len(stem), kind)
    return (at, at + len(word), kind)


_SEP = re.compile("\x00")


class Learnt(dict[str, str]):
    """:func:`learn`'s answer: the rare words (word → kind), and in :attr:`pairs` the
    source's full names searched in every row (:class:`._namepairs.FullNames`); true
    when it holds either. A dict, so every hand that passes the words to the copy's
    workers and scrubbers passes the pairs with them (pickled with its attribute);
    and in :attr:`ids` another customer's identifiers the engine adds
    (:func:`._otherids.learn_ids`)."""

    pairs: frozenset[tuple[str, str]] = frozenset()
    ids: Any = None  # an OtherIds, or None

    def __bool__(self) -> bool:
        return len(self) > 0 or bool(self.pairs) or self.ids is not None


def learn(
    plan: Any,
    schema: Any,
    db: Any,
    batch_rows: int,
    checkpoint: Callable[[], None] | None = None,
    *,
    words: bool = True,
) -> Learnt:
    """The source's rare name words (:func:`rare`), read once before a copy: the
    words of its name and street columns (:func:`source_columns`), less those its kept
    columns, and the scrubbed text of its tables not about people
    (:func:`people_tables`), make public — as verify reads them (``_hashscan``).
    In the same reads, the source's full names (:class:`._namepairs.FullNames`: one
    row's first and last name), less those the same public text writes
    (:attr:`Learnt.pairs`; with ``words`` False, those alone: verify's pre-pass).
    Memory: the distinct words and pairs.
    ``checkpoint`` is called after each batch read (the run's stop check: a large
    source's pre-pass stops there, before the target is touched)."""
    from stagewall.masking._namepairs import FullNames
    from stagewall.masking.db import copy_columns

    names: dict[str, str] = {}
    public: set[str] = set()
    full = FullNames()
    tables = []
    for table in schema.tables:
        planned: dict[str, str] = {}
        for col in copy_columns(table):
            cp = plan.column(table.qualified, col.name)
            if cp is not None:
                planned[col.name] = cp.transformer
        tables.append((table, planned))
    # the name columns first; the public text only when they hold a rare word or a
    # full name
    for table, planned in tables:
        named = source_columns(planned) if words else name_columns(planned)
        read = list(named)
        for _, columns in db.iter_columns(table, read, None, batch_rows) if read else ():
            if words:
                for name, values in zip(read, columns, strict=True):
                    source_words(named[name], values, names)
            full.rows(planned, read, columns)
            if checkpoint is not None:
                checkpoint()
    if not full.found and not (words and rare(names, ())):
        return Learnt()
    about_people = people_tables(plan, schema)
    for table, planned in tables:
        people = table.qualified in about_people
        # (numbers, times, booleans and uuids hold no word: not read)
        wordless = {c.name for c in table.columns if c.kind in WORDLESS}
        read = [
            c
            for c, t in planned.items()
            if c not in wordless and (t in _KEPT or (not people and t in _SCRUBBERS))
        ]
        for _, columns in db.iter_columns(table, read, None, batch_rows) if read else ():
            for values in columns:
                if words:
                    public_words(values, public)
                full.public(values)
            if checkpoint is not None:
                checkpoint()
    out = Learnt(rare(names, public) if words else {})
    out.pairs = full.result()
    return out


# the people tables of the last plans and schemas asked about, by identity: verify
# asks once per table part (_hashscan._collect_part), the answer is the schema's
_PEOPLE: dict[tuple[int, int], tuple[Any, Any, frozenset[str]]] = {}


def people_tables(plan: Any, schema: Any) -> frozenset[str]:
    """:func:`_people_tables`, walked once per plan and schema."""
    hit = _PEOPLE.get((id(plan), id(schema)))
    if hit is not None and hit[0] is plan and hit[1] is schema:
        return hit[2]
    found = _people_tables(plan, schema)
    if len(_PEOPLE) >= 8:
        _PEOPLE.clear()
    _PEOPLE[(id(plan), id(schema))] = (plan, schema, found)  # (held: ids stay theirs)
    return found


def _people_tables(plan: Any, schema: Any) -> frozenset[str]:
    """The tables (qualified) whose rows are about people: those with a name column
    (:func:`name_columns`), and those that refer to one through
    their foreign keys, directly or through other tables (a customer's tickets, a
    ticket's messages; a ``customer_id`` with no foreign key declared counts as one:
    :func:`._known_rows.references`). Their scrubbed text is never catalogue text: a
    ticket saying ``Spoke to Ganthriv's neighbour`` does not make another customer's
    surname a public word. Only the other tables' scrubbed text (a film's
    description, a product's blurb) gives public words (:func:`learn`, and verify's
    ``_hashscan``, alike)."""
    from stagewall.masking._known_rows import references
    from stagewall.masking.db import copy_columns

    people = set()
    for t in schema.tables:
        planned = {
            c.name: cp.transformer
            for c in copy_columns(t)
            if (cp := plan.column(t.qualified, c.name)) is not None
        }
        if name_columns(planned):
            people.add(t.qualified)
    refs = {
        t.qualified: {
            f"{fk.ref_schema}.{fk.ref_table}" if fk.ref_schema else fk.ref_table
            for fk in references(schema, t)
        }
        for t in schema.tables
    }
    grew = True
    while grew:  # (a fixed point: at most one pass per table of a chain)
        more = {q for q, to in refs.items() if q not in people and to & people}
        people |= more
        grew = bool(more)
    return frozenset(people)


_KEPT = frozenset({"keep", "tsvector"})
# column kinds whose values hold no word (neither side reads public words there, so
# the copy's rare words and verify's are the same)
WORDLESS = frozenset(
    {
        ColumnKind.INTEGER,
        ColumnKind.DECIMAL,
        ColumnKind.FLOAT,
        ColumnKind.BOOLEAN,
        ColumnKind.DATE,
        ColumnKind.TIMESTAMP,
        ColumnKind.TIME,
        ColumnKind.UUID,
    }
)
_SCRUBBERS = frozenset({"text_scrub", "json_mask"})


def merge_counts(into: dict[tuple[str, str], int], more: Mapping[tuple[str, str], int]) -> None:
    for k, n in more.items():
        into[k] = into.get(k, 0) + n


__all__ = [
    "CITY",
    "FULL_NAME",
    "GIVEN",
    "MIN_LETTERS",
    "NAME_TRANSFORMERS",
    "PERSON_MARKS",
    "STREET",
    "SURNAME",
    "WORDLESS",
    "Learnt",
    "cells_holding",
    "fold_text",
    "kinded_spans",
    "learn",
    "merge_counts",
    "merge_word",
    "name_columns",
    "people_tables",
    "public_texts",
    "public_words",
    "rare",
    "source_columns",
    "source_words",
    "spans",
]
