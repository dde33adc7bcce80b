"""Two adjacent name words of one source row: a person's name, or two words.

A schema name or a copied literal whose two adjacent words are each a source
value of a name column (``max_price`` beside customers called Max and Price)
names a person only if a person is called so. First and last names live in
separate columns, so the words alone cannot tell: two customers, Max Young and
Mark Price, make ``max_price`` two words (a column's name in its technical sense)
and no one's name. A real Max Price is one source row whose first name is Max and
whose last name is Price (or the other way round: ``price_max``), so the pair is
looked up as such (:func:`source_pairs`: one read of each table that holds a
column the plan masks as a first name and one it masks as a last name, for the
rows whose both values are words of the pairs, and those beyond ASCII, folded
here). A pair that is one row's is judged as a name (SW520), as a run of words
that is one value of a full-name column is; any other pair is judged word by word
(:mod:`._schemanames`: a lone word of no English list is still a name).

A person whose first and last names are kept in two tables (joined by a key) is
not found so: the lone-word rules are what judge such a pair.

The same rule judges the *data*: a source person's full name written in any row's
text (:class:`FullNames`, learnt in the copy's and verify's pre-pass,
:func:`._namewords.learn`). Another customer's name, common words both
(``Tomasz Berger``), written ``TOMASZ BERGER``, ``tomasz berger``, ``Berger,
Tomasz`` or with two spaces, is no detector's finding and no rare word; it is one
source row's first and last name, two adjacent words of a text (either order, an
optional comma between, any case, any run of spaces), so text_scrub and json_mask
replace it in every row (:func:`pair_spans`) and verify searches every target
text for it (:func:`cells_holding_pairs`, kind :data:`FULL`). A pair that kept
text or the scrubbed text of a table not about people holds (a film's
description, an artist kept as reference data) is public, and not searched.

A person's pairs are more than one (:func:`person_keys`): each two adjacent words
of a name of three words or more and each given name with each surname word
(``Maria José`` ``Carrasco Pérez`` written ``José Carrasco``, ``Maria Carrasco``,
``José Pérez`` or ``Carrasco Pérez, Maria``; a particle is no word of a pair),
and the first given name's initial beside each surname word: ``T. Berger``, ``T
Berger``, ``Berger, T.``, ``BERGER T.`` (:func:`_initial_spans`). An initial is a capital standing
alone; a lower-case ``a`` or ``t.``, and a bare ``A`` or ``I``, are words, and a
bare capital needs a capitalised surname (``Plan B Young`` is still one, if a
customer is B. Young). Up to two middle initials of any letter and particles may
come between the initial and the surname (``T. K. Berger``, ``J. R. Berger`` of
Jan Berger, ``T.K.R. Berger``, ``T. van Berg``), and one to three initials between
a pair's two words (``Tomasz K. Berger``, ``Tomasz K Berger``, ``Maria J.
Carrasco``): the first initial is the given name's, the others anyone's (``O. K.
Berger`` is no one's if no Berger is an O.); a bare capital among them needs a
capitalised surname. A word between (``Tomasz and Berger``) or a comma after the
given name (``Tomasz, K. Berger``: a list, not one name; ``K. Berger`` is still
found if a Berger is a K.) is no such writing. Still only one person's words:
customers Max Young and Mark Price make no ``max price``.

Words between a pair's two words, spaces only around them (:func:`_between_key`):
up to two middle *names* (:func:`_middle_name`: a given name of the name lists in
any case, ``tomasz karol berger``; a title-case word, even a common one, ``Tomasz
May Berger``; in capitals a word that is no common English word, ``TOMASZ KAROL
ADAM BERGER``; between a capitalised given name and surname any lower-case word,
``Tomasz may Berger``; never a particle or a connective, so ``Tomasz and Berger``
and ``TOMASZ AND BERGER`` stay), then the particles the source surname has right
before that word (``tomasz van berg`` of a Tomasz van Berg, ``Luis de la Cruz``:
the key word ``van berg``, :func:`_particled`; a ``Tomasz de Berger`` of a Tomasz
Berger is no pair). The order of the two words is not checked (``Berger Karol
Tomasz`` is found too). Surname first (the word after the surname is the first
given name of a person of that surname: :func:`_surname_first`), the middle names
and up to two middle initials after the given name or its initial are in the span
(``Berger, Tomasz Karol``, ``Berger, T. K.``, ``Berger, T K``: :func:`_trailing`).
A table's several first-name columns (``first_name``, ``middle_name``) are one
person's given names in order (``ewa may zielinska``). A possessive's ``'s`` is no
part of a word (``Berger's``); a hyphenated name's parts are words of the name
(``Jean Pierre``, ``Nowak`` of ``Berger-Nowak``) and a hyphenated first given name's
initials glued are a key word (``JP Lefebvre``). A person whose first and last names
are not in one row, an initial of a script other than Latin, four initials or more,
three middle names, a common word as a middle name in lower case between lower-case
words or in capitals (``tomasz may berger``, ``TOMASZ MAY BERGER``) unless a
middle-name column holds it, ``J-P Lefebvre``, ``Carrasco y Pérez`` and plurals are
not found so.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import cache
from itertools import accumulate, compress, pairwise
from operator import and_, sub
from typing import Any

from stagewall.masking.plan import Plan
from stagewall.masking.schema import Schema
from stagewall.masking.transformers._known import _PARTICLES

FIRST_NAME = "first_name"
LAST_NAME = "last_name"
Pair = frozenset[str]


def adjacent_pairs(texts: Iterable[str], singles: set[str]) -> set[Pair]:
    """The pairs of adjacent words of ``texts`` (names or literals, split as
    :func:`._schemanames.runs` splits them) whose both words are in ``singles``
    (single words that are source values of name columns), as unordered pairs."""
    from stagewall.masking._schemanames import runs

    out: set[Pair] = set()
    for text in texts:
        for run in runs(text):
            if len(run) == 2 and run[0] in singles and run[1] in singles:
                out.add(frozenset(run))
    return out


def source_pairs(db: Any, plan: Plan, schema: Schema, pairs: set[Pair]) -> set[Pair]:
    """Which of ``pairs`` are the first and last name of one row of the source
    ``db`` (in either order): for each table with a column the plan masks as a
    first name and one it masks as a last name, one read of the rows whose both
    values are words of the pairs once lower-cased, or beyond ASCII (folded here)."""
    from stagewall.masking._schemanames import _NON_ASCII, _text, fold

    if not pairs:
        return set()
    wanted = sorted({w for p in pairs for w in p})
    out: set[Pair] = set()
    for table in schema.tables:
        tplan = plan.tables.get(table.qualified)
        if tplan is None or tplan.reference:
            continue
        by: dict[str, list[str]] = {FIRST_NAME: [], LAST_NAME: []}
        for col in table.columns:
            cp = tplan.columns.get(col.name)
            if cp is not None and cp.transformer in by:
                by[cp.transformer].append(col.name)
        for first in by[FIRST_NAME]:
            for last in by[LAST_NAME]:
                for a, b in _rows(db, table, first, last, wanted, _NON_ASCII[db.backend]):
                    if a is not None and b is not None:
                        got = frozenset((fold(_text(a)), fold(_text(b))))
                        if got in pairs:
                            out.add(got)
    return out


def _rows(db: Any, table: Any, first: str, last: str, wanted: list[str], beyond: str) -> list[Any]:
    """The distinct lower-cased ``(first, last)`` values of ``table`` whose both
    values are in ``wanted`` (lower-cased) or beyond ASCII."""

    def q(name: Any) -> str:  # a % in a name is no placeholder
        text = str(name)
        return text.replace("%", "%%") if db.placeholder == "%s" else text

    params: list[Any]
    if db.backend == "postgresql":
        marks, params = "= ANY(%s::text[])", [wanted, wanted]
    else:
        marks = "IN (" + ", ".join([db.placeholder] * len(wanted)) + ")"
        params = [*wanted, *wanted]
    f, la = q(db.q(first)), q(db.q(last))
    where = " AND ".join(f"(lower({c}) {marks} OR {beyond.format(c=c)})" for c in (f, la))
    sql = f"SELECT DISTINCT lower({f}), lower({la}) FROM {q(db.qt(table))} WHERE {where}"  # noqa: S608 - identifiers quoted by q()
    return list(db.select(sql, params))


# --- a source full name written in any row's text (copy and verify) -------------

FULL = "name"  # the report's kind for a cell holding a source person's full name
FULL_NAME = "full_name"
# a name word: letters, with inner apostrophes or hyphens (``o'neil``, ``smith-jones``),
# no letter or digit beside it; two letters at least (an initial is no name here);
# a possessive's ``'s`` is no part of it (``Berger's``: the word ``berger``)
_NAME_WORD = r"[^\W\d_]+(?:(?:-|['\u2019](?!s(?![^\W_])))[^\W\d_]+)*"
_TOKEN = re.compile(rf"(?<![^\W_]['\u2019-])(?<![^\W_]){_NAME_WORD}(?![^\W_])")
# the batch's tokens and its cells' separators (NUL), in order (see _candidates)
_TOKEN_OR_NUL = re.compile(rf"\x00|(?<![^\W_]['\u2019-])(?<![^\W_]){_NAME_WORD}(?![^\W_])")
# what may part the two words of a full name: spaces, an optional comma
_BETWEEN = re.compile(r"\s*,?\s*")
_NUL = re.compile("\x00")
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "mx", "herr", "frau"})
# An initial: a capital letter (Latin) with no letter or digit before it, followed
# by a period or by spaces (or, the surname first, a comma), then the surname: in
# the text (_BY_INITIAL) and, for the surname before it, in the text reversed
# (_BY_INITIAL_REVERSED: the same shape read backwards, ``.T ,regreB``). A bare
# ``A`` or ``I`` (no period) is the English word, never an initial; a bare one needs
# a capitalised surname (checked for the few whose surname is a source one). Both
# start with the class, so a text without a capital standing alone costs two
# C-level scans.
_CAPITALS = "".join(
    c for c in map(chr, range(0x41, 0x250)) if c.isalpha() and c.isupper() and len(c.lower()) == 1
)
_LONE_CAPITAL = rf"[{_CAPITALS}](?<![^\W_].)(?<![^\W_]['\u2019-].)"
# Between the initial and the surname, up to two middle initials of any letter (a
# bare ``A`` or ``I`` is a word) and particles: ``T. K. Berger``, ``T.K.R. Berger``,
# ``T. van Berg`` (group 1: the middle initials, group 2: the surname). The same run
# after a given name (``Tomasz K. Berger``: the run's first capital a middle initial
# too) writes the given name and the surname (_WORD_BEFORE, looked at per hit only).
_MIDDLES = rf"((?:[{_CAPITALS}](?:\.\s*|(?<![AI])\s+)){{0,2}})"
_PARTICLE_RUN = rf"(?:(?i:{'|'.join(sorted(_PARTICLES, key=lambda p: (-len(p), p)))})\s+)*"
_BY_INITIAL = re.compile(
    rf"{_LONE_CAPITAL}(?:\.\s*|\s+){_MIDDLES}{_PARTICLE_RUN}({_NAME_WORD})(?![^\W_])"
)
# (matched in the text reversed, at the initial: spaces, then a whole word; the
# surname after it in _BY_INITIAL_REVERSED a lookahead, so in ``Berger, T K`` read
# backwards, ``K T ,regreB``, the bare middle K beside T does not consume T's match)
_WORD_BEFORE_REVERSED = re.compile(rf"\s+({_NAME_WORD})(?![^\W_])(?!['\u2019-][^\W_])")
_BY_INITIAL_REVERSED = re.compile(rf"{_LONE_CAPITAL}(?=(?:\s*,\s*|\s+)({_NAME_WORD})(?![^\W_]))")
PairKey = tuple[str, str]  # the two folded words, in order of their letters
Near = tuple[int, int]  # a pair's first word's index among a text's words, and the step


def pair_key(a: str, b: str) -> PairKey:
    return (a, b) if a <= b else (b, a)


class FullNames:
    """The source's full names as pairs of folded words (:data:`PairKey`), learnt in
    one pass over the name columns (:meth:`rows`) and then over the public text
    (:meth:`public`): one row's first and last name's words as :func:`person_keys`
    pairs them (``Mary Ann`` ``Smith``: ``mary ann``, ``ann smith``, ``mary smith``,
    ``m. smith``); a ``full_name`` column's first word as the given name and the
    rest as the surname (a title first is passed over). Each word two letters or
    more."""

    def __init__(self) -> None:
        self.found: set[PairKey] = set()
        self._public: set[PairKey] = set()

    def rows(self, planned: Mapping[str, str], read: Sequence[str], columns: Sequence[Any]) -> None:
        """The pairs of one batch of a table: ``columns`` (values per column, the
        columns ``read``) of a table planned ``planned`` (column → transformer)."""
        from stagewall.masking._namewords import name_columns

        at = {c: i for i, c in enumerate(read)}
        named = {c: t for c, t in name_columns(planned).items() if c in at}
        firsts = [at[c] for c, t in named.items() if t == FIRST_NAME]
        lasts = [at[c] for c, t in named.items() if t == LAST_NAME]
        given = {f: _words_of(columns[f]) for f in firsts}
        for la in lasts:
            lw = _words_of(columns[la])
            for fw in given.values():
                for a, b in zip(fw, lw, strict=True):
                    if a and b:
                        self.found.update(person_keys(a, b))
            if len(firsts) > 1:  # a middle name column: the given names in order
                for *gs, b in zip(*given.values(), lw, strict=True):
                    a = [w for g in gs for w in g]
                    if a and b:
                        self.found.update(person_keys(a, b))
        for c, t in named.items():
            if t == FULL_NAME:
                for w in _words_of(columns[at[c]]):
                    if w and w[0] in _TITLES:
                        w = w[1:]
                    if len(w) >= 2:
                        self.found.update(person_keys(w[:1], w[1:]))

    def public(self, values: Sequence[object]) -> None:
        """The source pairs that a kept or catalogue text of ``values`` holds."""
        from stagewall.masking._namewords import _texts, plain_text
        from stagewall.masking.transformers._known import fold_known

        if not self.found:
            return
        texts = list(dict.fromkeys(_texts(values)))
        if texts:
            joined = plain_text("\x00".join(texts))
            self._public.update(_keys_in(fold_known(joined), self.found, joined))
            self._public.update(_initial_keys(joined, self.found))

    def result(self) -> frozenset[PairKey]:
        """The pairs searched: the source's, less the public ones."""
        return frozenset(self.found - self._public)


def person_keys(first: Sequence[str], last: Sequence[str]) -> set[PairKey]:
    """The pairs of one person whose given names are the folded words ``first`` and
    surnames ``last`` (two letters or more each): every two adjacent words of the
    whole name, and each given name with each surname word (``Maria José``
    ``Carrasco Pérez``: ``maria josé``, ``josé carrasco``, ``carrasco pérez``,
    ``maria carrasco``, ``maria pérez``, ``josé pérez``), a particle no word of a
    pair (``Luis de la Cruz``: ``luis cruz``), and each given name with a surname
    word and the particles right before it as one key word (``luis de la cruz``:
    :func:`_particled`); and the first given name's initial (:func:`initial_key`)
    beside each surname word (``m. carrasco``). A hyphenated word's parts are words
    of the name too (:func:`_parts`: ``jean pierre``, ``pierre lefebvre``, ``tomasz
    nowak`` of Tomasz Berger-Nowak), and a hyphenated first given name's initials
    glued a key word (``jp lefebvre``). A full name of one column is its first word
    and the rest."""
    from stagewall.masking.transformers._known import _PARTICLES

    given = [w for w in first if w not in _PARTICLES]
    sur = [w for w in last if w not in _PARTICLES]
    out = {pair_key(a, b) for a, b in pairwise(given + sur)}
    # a hyphenated word's parts are words of the name too (``Jean-Pierre`` written
    # ``Jean Pierre``, ``Berger-Nowak`` written ``Nowak``)
    given_parts, sur_parts = _parts(given), _parts(sur)
    if given_parts != given or sur_parts != sur:
        out.update(pair_key(a, b) for a, b in pairwise(given_parts + sur_parts))
        given = list(dict.fromkeys(given + given_parts))
        sur = list(dict.fromkeys(sur + sur_parts))
    out.update(pair_key(g, w) for g in given for w in sur)
    out.update(pair_key(g, w) for g in given for w in _particled(last))
    if given:
        out.update(pair_key(initial_key(given[0]), w) for w in sur)
        # a hyphenated first given name's initials, glued: ``JP`` of Jean-Pierre
        glued = "".join(p[0] for p in given[0].split("-") if p)
        if "-" in given[0] and len(glued) >= 2:
            out.update(pair_key(glued, w) for w in sur)
    return out


def _parts(words: Sequence[str]) -> list[str]:
    """``words`` with each hyphenated one as its parts of two letters or more (no
    particle)."""
    if not any("-" in w for w in words):
        return list(words)
    parts = [p for w in words for p in w.split("-")]
    return [p for p in parts if len(p) >= 2 and p not in _PARTICLES]


def _particled(last: Sequence[str]) -> list[str]:
    """Each surname word of ``last`` that particles come right before, with them, as
    one key word (``van berg`` of ``van Berg``, ``de la cruz``): a word with spaces,
    which no text's token is, so only :func:`_written` (the particles between a given
    name and the surname word) meets it."""
    out: list[str] = []
    run: list[str] = []
    for w in last:
        if w in _PARTICLES:
            run.append(w)
        else:
            if run:
                out.append(" ".join([*run, w]))
            run = []
    return out


def initial_key(word: str) -> str:
    """The key word of ``word``'s initial: its first letter and a period (``t.``), a
    word no text's token is, so a pair of name words never meets an initial's."""
    return word[0] + "."


def _words_of(values: Sequence[object]) -> list[list[str]]:
    """Each value's folded name words of two letters or more (none: not text)."""
    from stagewall.masking._namewords import fold_text

    texts = [v if type(v) is str else "" for v in values]
    folded = fold_text("\x00".join(texts)).split("\x00")
    if len(folded) != len(texts):  # (a value held a NUL: each on its own)
        folded = [fold_text(t) for t in texts]
    return [name_words(f) for f in folded]


def name_words(folded: str) -> list[str]:
    """The name words of ``folded`` (two letters or more)."""
    return [w for w in _TOKEN.findall(folded) if len(w) >= 2]


def singles_of(pairs: Iterable[PairKey]) -> frozenset[str]:
    return frozenset(w for p in pairs for w in p)


# the words of the last pair sets asked about, by identity (a run's set is fixed)
_SINGLES: dict[int, tuple[frozenset[PairKey], frozenset[str]]] = {}


def _singles(pairs: frozenset[PairKey]) -> frozenset[str]:
    return _by_identity(_SINGLES, pairs, singles_of)


def _by_identity(
    cache: dict[int, tuple[frozenset[PairKey], frozenset[str]]],
    pairs: frozenset[PairKey],
    build: Callable[[frozenset[PairKey]], frozenset[str]],
) -> frozenset[str]:
    """``build(pairs)``, kept in ``cache`` by the identity of ``pairs`` (one run asks
    about the same few sets batch after batch; the set itself is kept, so a new set
    at an old one's address is built anew)."""
    hit = cache.get(id(pairs))
    if hit is not None and hit[0] is pairs:
        return hit[1]
    if len(cache) >= 8:
        cache.clear()
    got = build(pairs)
    cache[id(pairs)] = (pairs, got)
    return got


def _candidates(
    joined: str, pairs: frozenset[PairKey], singles: frozenset[str]
) -> dict[int, list[Near]]:
    """Which cells of ``joined`` (folded texts parted by NUL) hold two words that are
    a pair of ``pairs``, side by side or with a word or two between (:func:`_near`),
    whatever parts them (checked by :func:`_written`): cell → its hits, the index
    among the cell's own words."""
    toks = _TOKEN_OR_NUL.findall(joined)
    if len(toks) < 2:
        return {}
    hits = _near(toks, pairs, singles)
    if not hits:
        return {}
    cell = list(accumulate(map("\x00".__eq__, toks)))
    nuls = list(compress(range(len(toks)), map("\x00".__eq__, toks)))
    out: dict[int, list[Near]] = {}
    for i, step in hits:
        c = cell[i]
        if cell[i + step] == c:  # (not a word of the next cell)
            out.setdefault(c, []).append((i - nuls[c - 1] - 1 if c else i, step))
    return out


def _near(toks: list[str], pairs: frozenset[PairKey], singles: frozenset[str]) -> list[Near]:
    """``(i, step)``: the words ``toks[i]`` and ``toks[i + step]`` are a pair of
    ``pairs`` side by side (step 1), or with one to three words between, the first
    no connective (:data:`_CONNECTIVES`; :func:`_between_key` judges them: middle
    names, then particles). C-level passes: which words are words of a pair, which
    two such are side by side, or two to four apart (among the words of a pair
    alone: few); only those are looked up."""
    flags = list(map(singles.__contains__, toks))
    both = compress(range(len(toks) - 1), map(and_, flags, flags[1:]))
    out = [(i, 1) for i in both if pair_key(toks[i], toks[i + 1]) in pairs]
    at = list(compress(range(len(toks)), flags))
    for k in (1, 2, 3):  # the next word of a pair, and the two after
        apart = map(_STEPS.__contains__, map(sub, at[k:], at))
        for i, j in compress(zip(at, at[k:], strict=False), apart):
            if toks[i + 1] not in _CONNECTIVES and pair_key(toks[i], toks[j]) in pairs:
                out.append((i, j - i))
    return out


_STEPS = frozenset({2, 3, 4})
# words that never stand between a given name and a surname as a middle name:
# connectives, articles and prepositions of the supported languages
_CONNECTIVES = (
    frozenset(
        {"and", "or", "nor", "but", "the", "of", "to", "for", "with", "from", "not", "vs", "per"}
        | {"a", "an", "at", "in", "on", "by", "as", "is", "was", "are", "were"}
        | {"und", "oder", "et", "ou", "o", "ed", "en", "og", "i", "u"}
    )
    - _PARTICLES
)


def _spans_in(
    folded: str, pairs: frozenset[PairKey], raw: str | None, near: list[Near] | None
) -> list[tuple[int, int]]:
    """The spans of ``folded`` (one text; ``raw`` its text with case, if of the same
    length; ``near`` its :func:`_candidates` hits, if known) that write a pair of
    ``pairs`` (:func:`_written`), overlapping ones merged."""
    return _merged([(a, b) for a, b, _ in _written(folded, pairs, raw, near)])


def _written(
    folded: str, pairs: frozenset[PairKey], raw: str | None, near: list[Near] | None
) -> list[tuple[int, int, PairKey]]:
    """Where ``folded`` (one text) writes a pair of ``pairs``: the two words with what
    parts them (:data:`_BETWEEN`), or with one or two words between, spaces only
    around them (:func:`_between_key`): ``(start, end, pair)``. ``near``: its words'
    :func:`_near` hits, if known."""
    out: list[tuple[int, int, PairKey]] = []
    toks = list(_TOKEN.finditer(folded))
    if near is None:
        near = _near([t[0] for t in toks], pairs, _singles(pairs))
    for i, step in near:
        if i + step >= len(toks):  # (a cell folded otherwise than the batch)
            continue
        first, last = toks[i], toks[i + step]
        if step == 1:
            key: PairKey | None = pair_key(first[0], last[0])
            if key not in pairs or not _BETWEEN.fullmatch(folded, first.end(), last.start()):
                key = None
        else:
            key = _between_key(folded, raw, toks[i : i + step + 1], pairs)
        if key is not None:
            end = last.end()
            if step == 1 and raw is not None and _surname_first(first[0], last[0], pairs):
                end = _trailing(folded, raw, end)
            out.append((first.start(), end, key))
    return out


def _surname_first(a: str, b: str, pairs: frozenset[PairKey]) -> bool:
    """The pair's words ``a`` then ``b`` are a surname then a person's first given
    name (``Berger, Tomasz``): ``b``'s initial beside ``a`` is a pair."""
    return pair_key(initial_key(b), a) in pairs


_NEXT_WORD = re.compile(rf"\s+({_NAME_WORD})(?![^\W_])")
# one or two middle initials after a given name or initial: `` K.``, ``K.``, `` K``
# (a bare ``A`` or ``I`` is a word)
_TRAILING_INITIALS = re.compile(
    rf"(?:\s*(?<![^\W_])[{_CAPITALS}]\.|\s+(?![AI](?![^\W_.]))[{_CAPITALS}]"
    rf"(?![^\W_.'\u2019-])){{1,2}}"
)


def _trailing(folded: str, raw: str, end: int) -> int:
    """Where a name written surname first (``Berger, Tomasz``, ending at ``end``)
    ends with the middle names (at most two, :func:`_middle_name`, capitalised or
    given names) and middle initials (at most two) after it: ``Berger, Tomasz Karol
    K.``."""
    for _ in range(2):
        m = _NEXT_WORD.match(folded, end)
        if m is None or not _middle_name(m[1], m.start(1), raw, False):
            break
        end = m.end()
    m = _TRAILING_INITIALS.match(raw, end)
    return end if m is None else m.end()


_SPACES = re.compile(r"\s+")


def _between_key(
    folded: str, raw: str | None, run: Sequence[re.Match[str]], pairs: frozenset[PairKey]
) -> PairKey | None:
    """The pair ``run`` (tokens of ``folded``, spaces only between them) writes with
    words between its first and last: one or two middle names (:func:`_middle_name`:
    ``Tomasz Karol Berger``, ``tomasz karol berger``, ``Tomasz May Berger``,
    ``Tomasz may Berger``, ``Tomasz Karol Adam Berger``), then the particles the
    source surname has before that word (``Tomasz van Berg``: the key ``van berg``,
    :func:`_particled`, so a ``Tomasz de Berger`` of a Tomasz Berger is no pair), or
    both (``Tomasz Karol van Berg``). ``None`` if it writes none."""
    first, last, mids = run[0][0], run[-1][0], [t[0] for t in run[1:-1]]
    if not all(_SPACES.fullmatch(folded, a.end(), b.start()) for a, b in pairwise(run)):
        return None
    lead = next((k for k, w in enumerate(mids) if w in _PARTICLES), len(mids))
    if lead > 2:
        return None
    around = raw is not None and raw[run[0].start()].isupper() and raw[run[-1].start()].isupper()
    if not all(_middle_name(t[0], t.start(), raw, around) for t in run[1 : 1 + lead]):
        return None
    particles = mids[lead:]
    if not all(map(_PARTICLES.__contains__, particles)):
        return None
    key = pair_key(first, " ".join([*particles, last]) if particles else last)
    return key if key in pairs else None


def _middle_name(word: str, at: int, raw: str | None, around: bool) -> bool:
    """The folded word ``word`` (at ``at`` of a text whose case is ``raw``, if known)
    may be a middle name: two letters or more, no particle nor connective, and a
    given name of the name lists in any case (``karol``), or written title case
    (``May``), or in capitals and no common word (``KAROL``, not ``MAY``), or, with
    ``around`` (the given name and the surname beside it capitalised), any word in
    lower case (``Tomasz may Berger``)."""
    if len(word) < 2 or word in _PARTICLES or word in _CONNECTIVES:
        return False
    if word in _given_names():
        return True
    if raw is None:
        return False
    if not raw[at].isupper():
        return around
    written = raw[at : at + len(word)]
    return not written.isupper() or word not in _not_middle()


@cache
def _given_names() -> frozenset[str]:
    """The given names of the detection locales' name lists (folded)."""
    from stagewall.masking.transformers._dicts import detection_first_names

    return detection_first_names()


@cache
def _not_middle() -> frozenset[str]:
    """The words that stand between a pair's two words as no middle name nor particle:
    Faker's common English words and the listed two-letter words, particles aside."""
    from stagewall.masking._ordinary import common_english
    from stagewall.masking.transformers._shortwords import COMMON_TWO_LETTER_WORDS

    return frozenset((common_english() | COMMON_TWO_LETTER_WORDS) - _PARTICLES)


def _keys_in(
    joined: str, pairs: frozenset[PairKey] | set[PairKey], raw: str | None = None
) -> set[PairKey]:
    """The pairs of ``pairs`` that ``joined`` (folded texts parted by NUL; ``raw`` the
    same with case) writes."""
    fixed = frozenset(pairs)
    cells = joined.split("\x00")
    raws = raw.split("\x00") if raw is not None else []
    if len(raws) != len(cells):
        raws = []
    got: set[PairKey] = set()
    for i, near in _candidates(joined, fixed, singles_of(fixed)).items():
        cell = cells[i]
        case = raws[i] if raws and len(raws[i]) == len(cell) else None
        got.update(key for _, _, key in _written(cell, fixed, case, near))
    return got


def _surnames(pairs: frozenset[PairKey] | set[PairKey]) -> frozenset[str]:
    """The words that an initial's pair of ``pairs`` holds beside the initial."""
    return frozenset(
        b if a.endswith(".") else a for a, b in pairs if a.endswith(".") or b.endswith(".")
    )


def _initial_spans(
    text: str, pairs: frozenset[PairKey] | set[PairKey]
) -> list[tuple[int, int, PairKey]]:
    """Where ``text`` (texts, case kept, NUL between) writes a source person's
    initial and surname: ``T. Berger``, ``T.Berger``, ``T Berger``, ``Berger, T.``,
    ``BERGER T`` (the surname in any case after a period, else capitalised; a bare
    ``A`` or ``I`` never), middle initials and particles between (``T. K. Berger``,
    ``T. van Berg``), or a pair's two words with initials between (``Tomasz K.
    Berger``): ``(start, end, pair)`` spans, the periods and initials in the span.
    A capital standing alone costs a set look-up of the word after its run; only a
    source surname's (or a word beyond ASCII) is looked at further (the word before
    the run: one anchored match in the text reversed)."""
    from stagewall.masking.transformers._known import fold_known

    surnames = _surname_set(pairs)
    if not surnames:
        return []
    out: list[tuple[int, int, PairKey]] = []
    size = len(text)
    backwards = text[::-1]
    for m in _BY_INITIAL.finditer(text):
        word = m[2]
        if word.lower() not in surnames and word.isascii():
            continue
        start, letter, middles = m.start(), text[m.start()], m[1]
        # a bare capital (first or middle) needs a capitalised surname; a bare A or I
        # is a word
        if text[start + 1] != ".":
            if letter in "AI" or not word[0].isupper():
                continue
        elif middles.count(".") < sum(map(str.isalpha, middles)) and not word[0].isupper():
            continue
        sur = fold_known(word)
        key = pair_key(fold_known(letter) + ".", sur)
        if key in pairs:
            out.append((start, m.end(), key))
        before = _WORD_BEFORE_REVERSED.match(backwards, size - start)
        if before is not None:
            key = pair_key(fold_known(before[1][::-1]), sur)
            if key in pairs:
                out.append((size - before.end(), m.end(), key))
    for m in _BY_INITIAL_REVERSED.finditer(backwards):
        word = m[1][::-1]
        if word.lower() in surnames or not word.isascii():
            at = size - m.start()  # (just after the capital)
            period = at < size and text[at] == "."
            letter = text[at - 1]
            if not period and (letter in "AI" or not word[0].isupper()):
                continue
            key = pair_key(fold_known(letter) + ".", fold_known(word))
            if key in pairs:
                tail = _TRAILING_INITIALS.match(text, at + period)  # ``Berger, T. K.``
                out.append((size - m.end(1), at + period if tail is None else tail.end(), key))
    return out


# the initials' surnames of the last pair sets asked about, by identity
_SURNAMES: dict[int, tuple[frozenset[PairKey], frozenset[str]]] = {}


def _surname_set(pairs: frozenset[PairKey] | set[PairKey]) -> frozenset[str]:
    if not isinstance(pairs, frozenset):
        return _surnames(pairs)
    return _by_identity(_SURNAMES, pairs, _surnames)


def _initial_cells(
    joined: str, pairs: frozenset[PairKey] | set[PairKey]
) -> dict[int, list[tuple[int, int]]]:
    """:func:`_initial_spans` of ``joined`` (texts parted by NUL): cell → spans in
    that cell."""
    out: dict[int, list[tuple[int, int]]] = {}
    spans = _initial_spans(joined, pairs)
    if not spans:
        return out
    # each cell's start, found once: a batch of many hits is not scanned per hit
    starts = [0] + [m.end() for m in _NUL.finditer(joined)]
    for a, b, _ in spans:
        cell = bisect_right(starts, a) - 1
        out.setdefault(cell, []).append((a - starts[cell], b - starts[cell]))
    return out


def _initial_keys(joined: str, pairs: frozenset[PairKey] | set[PairKey]) -> set[PairKey]:
    """The initials' pairs of ``pairs`` that ``joined`` (case kept) writes."""
    return {key for _, _, key in _initial_spans(joined, pairs)}


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` sorted, overlapping ones merged."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if out and a < out[-1][1]:
            out[-1] = (out[-1][0], max(b, out[-1][1]))
        else:
            out.append((a, b))
    return out


def pair_spans(texts: Sequence[str], pairs: frozenset[PairKey]) -> list[list[tuple[int, int]]]:
    """Where each of ``texts`` writes a source full name of ``pairs`` (see the module
    docstring): spans of the text itself (folded one character for one, as
    :func:`._namewords.kinded_spans`). A batch without one costs C-level passes."""
    from stagewall.masking.transformers._known import fold_known

    out: list[list[tuple[int, int]]] = [[] for _ in texts]
    if not pairs or not texts:
        return out
    raw = "\x00".join(texts)
    joined = fold_known(raw)
    hit: Mapping[int, list[Near] | None] = _candidates(joined, pairs, _singles(pairs))
    initials = _initial_cells(raw, pairs)
    if not hit and not initials:
        return out
    if raw.count("\x00") != len(texts) - 1:  # a text held a NUL: each on its own
        hit = dict.fromkeys(range(len(texts)))
        each = [[(a, b) for a, b, _ in _initial_spans(t, pairs)] for t in texts]
        initials = {i: spans for i, spans in enumerate(each) if spans}
    for i in sorted(hit.keys() | initials.keys()):
        folded = fold_known(texts[i])
        if len(folded) == len(texts[i]):
            out[i] = _spans_in(folded, pairs, texts[i], hit[i]) if i in hit else []
        if i in initials:
            out[i] = _merged(out[i] + initials[i])
    return out


def cells_holding_pairs(values: Sequence[object], pairs: frozenset[PairKey]) -> int:
    """How many text-like cells of ``values`` (text, JSON documents, text as bytes)
    write a source full name of ``pairs``."""
    from stagewall.masking._namewords import _texts, plain_text
    from stagewall.masking.transformers._known import fold_known

    if not pairs:
        return 0
    texts = _texts(values)
    if not texts:
        return 0
    raw = plain_text("\x00".join(texts))
    if raw.count("\x00") != len(texts) - 1:  # a text held a NUL: each on its own
        raw = "\x00".join(plain_text(t).replace("\x00", " ") for t in texts)
    joined = fold_known(raw)
    cells, raws = joined.split("\x00"), raw.split("\x00")
    hit = _candidates(joined, pairs, _singles(pairs))
    held = {
        i
        for i, near in hit.items()
        if _written(cells[i], pairs, raws[i] if len(raws[i]) == len(cells[i]) else None, near)
    }
    return len(held | _initial_cells(raw, pairs).keys())


__all__ = [
    "FULL",
    "FullNames",
    "adjacent_pairs",
    "cells_holding_pairs",
    "name_words",
    "pair_key",
    "pair_spans",
    "source_pairs",
]
