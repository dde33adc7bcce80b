"""The text_scrub own-value search as it was at commit fe93366 (main before the
fastscrub changes), kept verbatim as the reference the faster code is checked
against (test_scrub_reference.py), with the candidate rules the red-team round
added to main afterwards (a phone is also probed by its national number, an e-mail
by its mailbox: marked "red-team round" below; without them the reference missed
what main finds, and the test failed on main at 86d9b47), and a street's core next
to a street word (marked "streetwords round") and streets probed by their core
(marked "streetforms round"). Not used by stagewall itself."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import chain, compress

import numpy as np

from stagewall.masking.transformers._known import (
    _ASCII_NONWORD,
    _HOUSE_NUMBER,
    _NAME_TRANSFORMERS,
    _NONWORD,
    _PROBED_BY_PART,
    _STREETS,
    CORE,
    KIND,
    READINGS,
    Known,
    _first,
    _second,
    _spaced,
    _spellable,
    _street_cores,
    core_hits,
    find_known,
    fold_known,
    kind_of,
    national_number,
    norm_many,
    patterns_many,
    spellings,
    words,
)
from stagewall.masking.transformers._readings import split_readings
from stagewall.masking.transformers._structured import _MAX_RESIDUAL_PASSES, _Patterns


def texts_hits(known: Sequence[Known], texts: Sequence[str]) -> list[list[tuple[str, bool, str]]]:
    """:func:`row_hits` of raw texts: the compact forms come from one C-level pass
    (:func:`_spaced_many`), the :func:`norm` forms only for the texts that have a
    candidate value (most have none), in one :func:`norm_many` pass."""
    compact = _spaced_many(list(texts), compact=True)

    def normed(rows: list[int]) -> list[str]:
        need = list(dict.fromkeys(rows))
        done = dict(
            zip(
                need,
                _with_split(norm_many([texts[r] for r in need]), [texts[r] for r in need]),
                strict=True,
            )
        )
        return list(map(done.__getitem__, rows))

    return _row_hits(known, compact, normed)


def _with_split(normed: list[str], texts: list[str]) -> list[str]:
    """Red-team round (scrubgaps): each text's split reading (a letter set apart from
    the digits after it, a base64 token decoded: ``_readings``) after it, behind
    READINGS, as main searches it since the scrubgaps branch."""
    split = split_readings(texts)
    out = list(normed)
    for i, n in zip(split, norm_many(list(split.values())), strict=True):
        out[i] += READINGS + n
    return out


def rows_with_candidates(known: Sequence[Known], texts: Sequence[str]) -> list[bool]:
    """For each row: whether any of its known values can have a pattern in its text.

    The first test :func:`texts_hits` makes (see :func:`_candidates`): False means
    texts_hits finds none of the row's values in this text, nor in any text whose
    folded words run inside this text's (a JSON string inside its document's text,
    when the document has no escapes)."""
    n = len(known)
    out = [False] * n
    flat = list(chain.from_iterable(known))
    if not flat:
        return out
    tv_row = np.repeat(np.arange(n), np.fromiter(map(len, known), np.int64, n))
    compact = _spaced_many(list(texts), compact=True)
    for row in np.unique(tv_row[_candidates(flat, tv_row, compact)]).tolist():
        out[row] = True
    return out


def _row_hits(
    known: Sequence[Known],
    compact: Sequence[str],
    normed: Callable[[list[int]], list[str]],
) -> list[list[tuple[str, bool, str]]]:
    """:func:`row_hits` with ``normed(rows)`` giving the :func:`norm` texts of ``rows``."""
    n = len(known)
    out: list[list[tuple[str, bool, str]]] = [[] for _ in range(n)]
    flat = list(chain.from_iterable(known))
    if not flat:
        return out
    tv_row = np.repeat(np.arange(n), np.fromiter(map(len, known), np.int64, n))
    keep = _candidates(flat, tv_row, compact)
    flat = [flat[i] for i in keep.tolist()]
    tv_row = tv_row[keep]
    per_value = patterns_many(flat)
    pair_tv = np.repeat(
        np.arange(len(flat)), np.fromiter(map(len, per_value), np.int64, len(per_value))
    )
    pairs = list(chain.from_iterable(per_value))
    if not pairs:
        return out
    pats, comps = zip(*pairs, strict=True)
    pair_row = tv_row[pair_tv]
    is_comp = np.fromiter(comps, bool, len(pairs))
    hay: list[str] = [""] * len(pairs)
    at = np.flatnonzero(is_comp).tolist()
    for j, t in zip(at, map(compact.__getitem__, pair_row[at].tolist()), strict=True):
        hay[j] = t
    at = np.flatnonzero(~is_comp).tolist()
    for j, t in zip(at, normed(pair_row[at].tolist()), strict=True):
        hay[j] = t
    hit = np.fromiter(map(str.__contains__, hay, pats), bool, len(pairs))
    found: dict[int, dict[tuple[str, bool], str]] = {}
    js = np.flatnonzero(hit)
    for j, row, tv in zip(js.tolist(), pair_row[js].tolist(), pair_tv[js].tolist(), strict=True):
        mine = found.setdefault(row, {})
        if pairs[j] not in mine:
            mine[pairs[j]] = kind_of(flat[tv][0]) or "id"
    # streetwords round: a street's core mark (_known.CORE) is in no text; its places
    # next to its number or a street word (core_hits) are the patterns found, for a
    # value none of whose other patterns is in the text
    seen = set(pair_tv[js].tolist())
    for j, (p, _) in enumerate(pairs):
        if p[:1] == CORE and int(pair_tv[j]) not in seen:
            row, tv = int(pair_row[j]), int(pair_tv[j])
            for got in core_hits(p, hay[j]):
                found.setdefault(row, {}).setdefault((got, False), kind_of(flat[tv][0]) or "id")
    for k, mine in found.items():
        out[k] = sorted(((p, c, kind) for (p, c), kind in mine.items()), key=lambda x: -len(x[0]))
    return out


def _candidates(
    flat: list[tuple[str, str]], tv_row: np.ndarray, compact: Sequence[str]
) -> np.ndarray:
    """Indices of the known values that can have a pattern in their row's text.

    Every pattern of a value holds its words: a word pattern ``" a b "`` found in
    the :func:`norm` text puts ``"ab"`` in the compact text, a compact pattern is
    ``"ab"`` itself. So a name (searched by its parts) can only be found when one of
    its words is in the row's compact text, any other value only when its compact
    form is. Tested for the whole batch in C-level passes, the values' words split
    out of one :func:`_spaced_many` pass (no per-value Python: most values are seen
    once, so a cache would only miss); only the values that pass get their
    patterns built (most rows' text holds none of its values)."""
    m = len(flat)
    named = np.fromiter(map(_NAME_TRANSFORMERS.__contains__, map(_first, flat)), bool, m)
    spelt: dict[int, str] = {}  # spelt otherwise: probed by the words of all spellings
    for i in _spellable(flat):
        alike = spellings(*flat[i])
        if alike:
            spelt[i] = " ".join((flat[i][1], *alike))
            named[i] = True
    hits: list[np.ndarray] = []
    names = np.flatnonzero(named)
    if len(names):
        texts = [spelt.get(i, flat[i][1]) for i in names.tolist()]
        words = list(map(str.split, _spaced_many(texts)))
        owner = np.repeat(names, np.fromiter(map(len, words), np.int64, len(words)))
        hay = map(compact.__getitem__, tv_row[owner].tolist())
        probes = chain.from_iterable(words)
        hits.append(owner[np.fromiter(map(str.__contains__, hay, probes), bool, len(owner))])
    others = np.flatnonzero(~named)
    if len(others):
        # every non-word character is a space in the spaced form: without them, the
        # value's words joined (its compact form); a street's without its house
        # number, which may stand on either side (see _patterns_of)
        pairs = [flat[i] for i in others.tolist()]
        values = list(map(_second, pairs))
        is_street = map(_STREETS.__contains__, map(_first, pairs))
        streets = list(compress(range(len(values)), is_street))
        if streets:
            joined = "\x00".join(values[j] for j in streets)
            if joined.count("\x00") == len(streets) - 1:
                bare = _HOUSE_NUMBER.sub("", joined).split("\x00")
            else:  # a value holding NUL itself (SQLite text can): one at a time
                bare = [_HOUSE_NUMBER.sub("", values[j]) for j in streets]
            # streetforms round: a street is probed by its core, as main's Pairs has
            # probed it since (``baker`` of 221B Baker Street, which a residue such as
            # ``Oval221B Baker`` holds; the compact ``bakerstreet`` missed it, and the
            # reference kept what main stars: found by Hypothesis on 2026-12-07)
            for j, c, b in zip(streets, _street_cores(bare), bare, strict=True):
                if any(map(str.isalnum, c)):
                    values[j] = c
                elif any(map(str.isalnum, b)):
                    values[j] = ""  # (street words alone: in every text)
        # red-team round: a phone's national number and an e-mail's mailbox are
        # patterns of their own, probed by those (main's Pairs at 86d9b47)
        phones = []
        for j in compress(range(len(pairs)), map(_PROBED_BY_PART.__contains__, map(_first, pairs))):
            if KIND[pairs[j][0]] != "email":
                phones.append(j)
            elif "@" in values[j]:
                values[j] = values[j].rpartition("@")[0]
        forms = _spaced_many(values, compact=True)
        for j in phones:
            national = national_number(forms[j])
            if national is not None:
                forms[j] = national
        hay = map(compact.__getitem__, tv_row[others].tolist())
        hits.append(others[np.fromiter(map(str.__contains__, hay, forms), bool, len(others))])
    return np.unique(np.concatenate(hits)) if hits else np.zeros(0, np.intp)


def _spaced_many(texts: list[str], compact: bool = False) -> list[str]:
    """Each text folded, every run of non-word characters a space (the words of
    :func:`norm_many`, unsqueezed: ``str.split`` gives them), in C-level passes;
    with ``compact``, the words joined without the spaces."""
    if not texts:
        return []
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(texts) - 1:
        return ["".join(words(t)) if compact else " ".join(words(t)) for t in texts]
    # look-alike Greek and Cyrillic letters read as Latin, as main folds texts and
    # values since ab2664b (with fold, a value's Greek words were not found in the
    # compact form of a batch holding a NUL, which words() folds with fold_known)
    folded = fold_known(_spaced(joined))
    spaced = folded.translate(_ASCII_NONWORD) if folded.isascii() else _NONWORD.sub(" ", folded)
    out = (spaced.replace(" ", "") if compact else spaced).split("\x00")
    # red-team round (scrubgaps): a decoded base64 token's words, behind READINGS
    tokens = split_readings(texts, tokens_only=True)
    for i, t in tokens.items():
        out[i] += READINGS + _spaced_many([t], compact)[0]
    return out


def _own_spans(
    texts: list[str], pats: _Patterns, only: list[int] | None = None
) -> list[list[tuple[int, int, str]]]:
    """Spans of each text (of the rows ``only``, default all) holding one of its row's
    known values. A C-level substring test on the normalised batch finds the few
    texts that need the (slower, position-keeping) search."""
    out: list[list[tuple[int, int, str]]] = [[] for _ in texts]
    rows = [i for i in (range(len(texts)) if only is None else only) if pats.known[i]]
    if not rows:
        return out
    found = texts_hits([pats.known[i] for i in rows], [texts[i] for i in rows])
    for i, hits in zip(rows, found, strict=True):
        if hits:
            out[i] = find_known(texts[i], hits)
    return out


def _no_residue(texts: list[str], pats: _Patterns, touched: list[int]) -> list[str]:
    """Star out (same length) any known value still in a text: one a pseudonym or
    the cut to ``max_length`` happened to recreate. Only the ``touched`` rows (with a
    replacement or cut) can hold one: the others were searched before, whole."""
    out = list(texts)
    for _ in range(_MAX_RESIDUAL_PASSES):
        spans = _own_spans(out, pats, touched)
        if not any(spans):
            return out
        for i, found in enumerate(spans):
            for s, e, _ in found:
                out[i] = out[i][:s] + "*" * (e - s) + out[i][e:]
    last = _own_spans(out, pats, touched)
    return [("*" * len(t)) if any(sp) else t for t, sp in zip(out, last, strict=True)]
