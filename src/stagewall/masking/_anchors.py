"""Anchors: a few substrings of a known value that every pattern verify searches for it holds.

The row search (``_rowcheck``) tests each source row's patterns
(:func:`~stagewall.masking.transformers._known.checked_patterns_many`: padded
phrases, compact forms, name words of logins, street variants, ...) against its
target row's text. Most rows hold none, and building every row's patterns cost
more than searching them. So each value gets its *anchors* first, and only the
rows where an anchor occurs in the compact text (the row's :func:`norm` text
without its spaces) get their patterns built and searched.

Why that loses nothing: a word pattern ``" a b "`` found in a row's norm text puts
``"ab"`` (the pattern without spaces) in its compact text, and a compact pattern is
searched in the compact text itself; a name word searched inside a login
(``_rowcheck.embedded``) is a one-word pattern's word, found in a cell of the same
row. So when every pattern's form without spaces holds one of the value's anchors,
a row whose text holds a pattern holds an anchor. :func:`anchors_of` keeps to that
kind by kind (the argument is at each rule), and falls back to the patterns' forms
themselves wherever a rule does not apply. A value has anchors exactly when it has
patterns (so a row is in the lookup exactly when it was before).
tests/masking/test_anchors.py checks both on generated values of every kind.
"""

from __future__ import annotations

from collections.abc import Sequence

from stagewall.masking.transformers._birthdates import DATE_KIND, date_anchor
from stagewall.masking.transformers._known import (
    _NAME_KINDS,
    MIN_DIGITS,
    MIN_PHRASE,
    _cached,
    _checked_patterns_of,
    id_probe,
    name_parts,
    national_number,
    street_anchor,
    without_flat,
)

Anchors = tuple[tuple[str, bool], ...]


def anchors_of(kind: str | None, ws: list[str]) -> list[tuple[str, bool]]:
    """Anchors of a value of ``kind`` whose folded words are ``ws``, as ``(text,
    True)`` (compact forms): every pattern of :func:`_checked_patterns_of` of the
    same words holds one without its spaces, and there is one exactly when there is
    a pattern."""
    if kind is None or not ws:
        return []
    if kind == DATE_KIND:  # (every writing of a date holds its year: date_patterns)
        return date_anchor(ws)
    if kind in _NAME_KINDS:  # (a surname column's value: its plural holds the word)
        # _patterns_of: each part alone (and letter-spaced: the same letters); the
        # phrase, the words joined either way (the words of all parts); a login of an
        # initial and a word of MIN_LOGIN letters or more, not a particle (a part), or
        # initials and the last word (a part). Only "O'Brien" as "obrien" (a first word
        # of two letters or less glued to the second) may hold no part: then that.
        parts = name_parts(ws)
        if parts:
            # (a first word that is a part itself, "ed" of Ed O'Brien, is in that form)
            if len(ws) > 1 and len(ws[0]) <= 2 and not ws[0].isdigit() and not {*ws[:2]} & {*parts}:
                parts.append(ws[0] + ws[1])
            return [(a, True) for a in dict.fromkeys(parts)]
    elif _has_phrase(ws):
        if kind == "street":
            # _patterns_of: the phrase, and the house number moved or after a mark (the
            # same words, in another order); street_variants: one word written another
            # way (a whole street word; an ending, after the same stem) or a house
            # number's letter apart or joined (the same letters without spaces);
            # _regrouped: the small words after a street word dropped. So the longest
            # core of a word that is neither a street word nor a small word (a word no
            # variant changes, or the stem before its ending) is in every pattern. A
            # street with its flat after it is also searched without (without_flat:
            # its first words): a core of those. Its name's
            # words next to its number or a street word (_core_forms) are built only
            # where they hold this core.
            core = street_anchor(without_flat(ws) or ws)
            if core:
                return [(core, True)]
        else:
            compact = "".join(ws)
            if kind == "id" and not any(c.isdigit() for c in compact):
                return []  # (no pattern)
            # _patterns_of: the phrase, the compact form, a postcode with or without its
            # space: the compact form; a phone's national number, which its compact
            # form holds (the digits after a prefix).
            # An IBAN's account part, an identifier's number without its letters
            # (id_probe), which all its patterns hold.
            national = national_number(compact) if kind == "phone" else None
            return [(national or id_probe(kind, compact) or compact, True)]
    # (a short value, a name without a part: its patterns' forms themselves)
    return [(p if c else p.replace(" ", ""), True) for p, c in _checked_patterns_of(kind, ws)]


def _has_phrase(ws: list[str]) -> bool:
    """Whether :func:`_patterns_of` gives a value of other kinds than names its phrase."""
    phrase = " ".join(ws)
    return len(phrase) >= MIN_PHRASE and not (phrase.isdigit() and len(phrase) < MIN_DIGITS)


_ANCHORS: dict[tuple[str, str], Anchors] = {}


def checked_anchors_many(known: Sequence[tuple[str, str]]) -> list[Anchors]:
    """The anchors of every ``(transformer, value)`` pair, built as
    :func:`~stagewall.masking.transformers._known.checked_patterns_many` builds their
    patterns (the same normalising pass, the value's other spellings, an e-mail's
    local part as its own pattern ``(" jg1987 ", False)``; its own cache): an entry
    ``(text, False)`` is a padded pattern, whose anchor is itself without spaces."""
    return _cached(_ANCHORS, known, anchors_of)


__all__ = ["Anchors", "anchors_of", "checked_anchors_many"]
