"""Street addresses inside free text (English, German, Dutch, French, Spanish, Italian,
Portuguese forms). Precise rather than exhaustive: a street needs its house number
and a street word, and its name words must be capitalised, so ordinary sentences
("we walked 3 miles down the road") are left alone."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import re2

from stagewall.masking.transformers._known import fold, fold_runs, translate_runs
from stagewall.masking.transformers._streetwords import (
    DE_NL_STREET_SUFFIXES,
    EN_STREET_WORDS,
    ROMANCE_STREET_WORDS,
    written_forms,
)


def _words(table: dict[str, tuple[str, ...]]) -> str:
    """The street words of ``table`` (_streetwords: the table the row's own street is
    also searched with) as a case-insensitive alternative."""
    return "(?i:" + "|".join(map(re.escape, written_forms(table))) + ")"


_UP = r"[A-ZÀ-ÖØ-Þ]"
_NAME = _UP + r"[\w'.-]*"
# 12 High Street, 222 Ganthriv Lane, 5B Elm Rd.
_EN = re.compile(
    r"[0-9](?<![\w-][0-9])\d{0,4}[A-Za-z]?(?:-\d{1,5})?,?[ \t]+(?:"
    + _NAME
    + r"[ \t]+){1,4}"
    + _words(EN_STREET_WORDS)
    + r"\b\.?"
)
# Hauptstraße 5, Lindenweg 12a, Keizersgracht 123, Lange Laan 4
_DE_NL_SUFFIX = _words(DE_NL_STREET_SUFFIXES)
_DE_NL = re.compile(
    r"(?<![\w-])(?:" + _NAME + r"[ \t]+)?" + _UP + r"[\w'-]*" + _DE_NL_SUFFIX
    + r"[ \t]+\d{1,5}[a-zA-Z]?\b"
)  # fmt: skip
# Calle Mayor 7, 3 rue de la Paix, Via Roma 12, Rua das Flores 45, Avenida de América, 10
_ROMANCE_WORD = _words(ROMANCE_STREET_WORDS)
_ROMANCE = re.compile(
    r"(?<![\w-])(?:(?P<pre>\d{1,5}[a-zA-Z]?),?[ \t]+)?" + _ROMANCE_WORD + r"[ \t]+"
    r"(?:(?i:de|del|de la|de las|de los|des|du|de l'|d'|la|le|les|da|di|della|delle|dei|"
    r"dos|das|do|l')[ \t]*)*" + _NAME + r"(?:[ \t]+" + _NAME + r"){0,3}"
    r"(?:,?[ \t]*(?:n[º°o]\.?[ \t]*)?(?P<post>\d{1,5}[a-zA-Z]?)\b)?"
)


# What every match of a pattern holds, found fast: a text of a joined batch (texts
# separated by NULs, which no pattern matches) is searched only when it holds one.
# The gates run without IGNORECASE (6-10x faster) over the text folded to lower
# case without accents, plus the two letters that IGNORECASE equates with an ASCII
# letter and fold does not (U+017F long s ~ "s", U+0131 dotless i ~ "i"): every
# character the patterns' case-insensitive street words accept folds to the folded
# word's letter (checked
# over all of Unicode in tests/masking/classify/test_text.py). _DE_NL: the street
# word, blanks and a digit; _ROMANCE: the street word and a blank.
_GATE_FOLD = {0x17F: "s", 0x131: "i"}


def _gate(words: str, after: str) -> re.Pattern[str]:
    assert words.startswith("(?i:") and words.endswith(")")
    return re.compile("(?:" + fold(words[4:-1]) + ")" + after)


_DE_NL_GATE = _gate(_DE_NL_SUFFIX, r"[ \t]+\d")
_ROMANCE_GATE = _gate(_ROMANCE_WORD, r"[ \t]")


# The same gates for a joined batch, run by RE2 over each text's UTF-8 bytes at once
# (one re2.Set call per text: a DFA, no Python per character). \d in the gates
# becomes \p{Nd}: RE2's decimal digits include every one Python's \d takes (tested).
def _re2_gate(gate: re.Pattern[str]) -> str:
    return gate.pattern.replace("\\d", "\\p{Nd}")


def re2_set(patterns: Sequence[str]) -> re2._re2.Set:
    """A compiled RE2 set of ``patterns``, searched unanchored in UTF-8 bytes."""
    options = re2.Options()
    options.max_mem = 64 << 20
    gates = re2.Set.SearchSet(options)
    for p in patterns:
        gates.Add(p.encode())
    gates.Compile()
    # the compiled set itself: its Match returns the list of patterns found (empty
    # when none), with no wrapper call per text
    return gates._set


FOLDED_GATES = re2_set([_re2_gate(_DE_NL_GATE), _re2_gate(_ROMANCE_GATE)])
_SEP_BYTES = b"\x00\n\x00"


_BLOCK = 32  # texts tested together before each is tested alone
DENSE = 4  # a pattern picked for more than 1/DENSE of the texts runs over them all


def gate_texts(gates: re2._re2.Set, raw: bytes, pieces: list[bytes], count: int) -> list[list[int]]:
    """For each of the ``count`` patterns of ``gates``: the indices of the ``pieces``
    (``raw`` split at the separator) that may hold a match, in order: every piece
    that holds one, and maybe others. No gate matches across a NUL, so a run of
    pieces joined by the separator holds a match of a gate exactly when one of them
    does: the whole batch is tested first, then blocks of pieces, then each piece
    of the first block holding a match. A gate found in most blocks and in most
    pieces of that first one picks every piece (its pattern then runs over the whole
    batch, see :func:`search`, as it would for the pieces that hold a match: a batch
    of e-mails is one call per block); for the others, each piece of a block holding
    one of them is tested alone (a batch of first names is one call)."""
    picked: list[list[int]] = [[] for _ in range(count)]
    if not gates.Match(raw):
        return picked
    sep = len(_SEP_BYTES)
    pos = 0
    hits: list[tuple[int, list[bytes], list[int]]] = []
    for first in range(0, len(pieces), _BLOCK):
        block = pieces[first : first + _BLOCK]
        size = sum(map(len, block)) + sep * (len(block) - 1)
        hit = gates.Match(raw[pos : pos + size])
        pos += size + sep
        if hit:
            hits.append((first, block, hit))
    if not hits:  # (cannot be: no gate matches across a separator)
        return picked
    seen = [0] * count
    for _, _, hit in hits:
        for g in hit:
            seen[g] += 1
    first, block, _ = hits[0]
    for k, one in enumerate(map(gates.Match, block), first):
        for g in one:
            picked[g].append(k)
    blocks = -(-len(pieces) // _BLOCK)
    every = range(len(pieces))
    alone = []
    for g in range(count):
        if 4 * seen[g] > 3 * blocks and 2 * len(picked[g]) > len(block):
            picked[g] = list(every)
        elif seen[g] > 1 or (seen[g] and not picked[g]):
            alone.append(g)
    if not alone:
        return picked
    wanted = frozenset(alone)
    for first, block, hit in hits[1:]:
        if wanted.isdisjoint(hit):
            continue
        for k, one in enumerate(map(gates.Match, block), first):
            for g in one:
                if g in wanted:
                    picked[g].append(k)
    return picked


def search(
    pattern: re.Pattern[str], text: str, bounds: Sequence[tuple[int, int]], picked: list[int]
) -> Iterator[re.Match[str]]:
    """The matches of ``pattern`` in the texts ``picked`` of a joined batch (the
    ``k``-th text is ``text[a:b]`` for ``(a, b) = bounds[k]``), in order: those texts
    searched one by one, or, when they are many, the whole batch at once (the same
    matches: none crosses a separator, see :func:`find_streets_in`)."""
    if len(picked) * DENSE > len(bounds):
        yield from pattern.finditer(text)
        return
    for k in picked:
        yield from pattern.finditer(text, *bounds[k])


def find_streets_in(
    text: str, bounds: Sequence[tuple[int, int]], en: list[int]
) -> list[tuple[int, int]] | None:
    """:func:`find_streets` of ``text``, a batch of texts joined with NUL, newline,
    NUL whose ``k``-th text is ``text[a:b]`` for ``(a, b) = bounds[k]``: the same
    spans in the same order, each pattern run only over the texts its gate picks.
    ``en``: the texts the caller's gate for :data:`_EN` picked. The caller searches
    only a batch holding a decimal digit of some script (every street form needs
    one); whether a text holds one decides nothing else, so a text's findings do
    not depend on its neighbours in the batch.
    None when the texts cannot be told apart in the folded text's bytes (a text
    holds the separator itself): then the caller searches the plain way.

    No street pattern matches across a NUL and each sees a NUL as it sees the end
    of the text (neither is a word character), so a pattern run over one text finds
    exactly its matches in the joined text; a text whose folded form has no match of
    a pattern's gate holds no match of the pattern."""
    out = [m.span() for m in search(_EN, text, bounds, en)]
    # (fold(text).translate(_GATE_FOLD), translating only the non-ASCII runs)
    folded = text.lower() if text.isascii() else translate_runs(fold_runs(text), _GATE_FOLD)
    raw = folded.encode()  # (the caller encoded the text)
    pieces = raw.split(_SEP_BYTES)
    if len(pieces) != len(bounds):
        return None
    de_nl, romance = gate_texts(FOLDED_GATES, raw, pieces, 2)
    out += [m.span() for m in search(_DE_NL, text, bounds, de_nl)]
    out += [
        m.span()
        for m in search(_ROMANCE, text, bounds, romance)
        if m.group("pre") or m.group("post")
    ]
    return out


# What every match of _EN holds, for RE2 (no lookarounds): a digit, a word of no
# blanks, blanks, one to four such words each followed by blanks, and a street word
# in any case. Each letter of the street words is the class of every character that
# IGNORECASE lets stand for it (the dotted capital and the dotless i for i, the
# Kelvin sign for k, the long s for s: tested over all of Unicode), so the gate
# takes every text _EN can match in.
_IGNORECASE_EXTRA = {"i": "\u0130\u0131", "k": "\u212a", "s": "\u017f"}


def _any_case(word: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}{_IGNORECASE_EXTRA.get(c.lower(), '')}]" for c in word)


_EN_WORDS = re.search(r"\(\?i:([A-Za-z|]+)\)", _EN.pattern)[1].split("|")  # type: ignore[index]
_NONBLANK = "[^\\t\\n\\f\\r \\x00]"
EN_GATE = (
    f"[0-9]{_NONBLANK}*[ \\t]+(?:{_NONBLANK}+[ \\t]+){{1,4}}"
    f"(?:{'|'.join(map(_any_case, _EN_WORDS))})"
)


def find_streets(text: str) -> list[tuple[int, int]]:
    """Spans of the street addresses (with their house number) found in ``text``."""
    out = [m.span() for m in _EN.finditer(text)]
    folded = text.lower() if text.isascii() else fold(text).translate(_GATE_FOLD)
    for a, b in _gated(text, folded, _DE_NL_GATE):
        out += [m.span() for m in _DE_NL.finditer(text, a, b)]
    for a, b in _gated(text, folded, _ROMANCE_GATE):
        out += [
            m.span() for m in _ROMANCE.finditer(text, a, b) if m.group("pre") or m.group("post")
        ]
    return out


def _gated(text: str, folded: str, gate: re.Pattern[str]) -> list[tuple[int, int]]:
    """The NUL-bounded pieces of ``text`` whose ``folded`` form holds a match of
    ``gate``, as ``(start, end)`` (no match of the street patterns crosses a NUL, and
    a search bounded there sees the same neighbours: a NUL is not a word character)."""
    out: list[tuple[int, int]] = []
    end = -1
    for m in gate.finditer(folded):
        if m.start() < end:
            continue
        start = text.rfind("\x00", 0, m.start()) + 1
        end = text.find("\x00", m.end())
        if end == -1:
            end = len(text)
        out.append((start, end))
    return out


__all__ = [
    "DENSE",
    "EN_GATE",
    "FOLDED_GATES",
    "find_streets",
    "find_streets_in",
    "gate_texts",
    "re2_set",
    "search",
]
