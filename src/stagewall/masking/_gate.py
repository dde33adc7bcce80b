"""Which target texts the detector must read: a substring prefilter for verify's scan.

In the whole-target scan (:mod:`._hashscan`), a text's detected tokens (e-mails,
phones, names, ...) count only when a token's normalised form (``strip().lower()``)
is one of the source's *sensitive* units. A token is a piece of the text it was
found in, so a text can hold such a token only if some sensitive unit occurs in
its lower-cased form as a substring. :class:`Gate` answers "does any sensitive
unit occur in this text?" with no false negatives, for a whole batch of texts in
a few NumPy passes; only the texts it admits go through the detector. The hits
are the same as with the detector on every text (tests/masking/test_gate.py
checks that on randomised planted data), at a fraction of the cost: most target
text is pseudonyms and scrubbed notes that hold no source unit at all.

How: every sensitive unit is reduced to a 64-bit key of its first
:data:`SHORT` characters (units shorter than :data:`LONG`) or of its first
:data:`LONG` characters (the others). A text is admitted when one of its
:data:`SHORT`- or :data:`LONG`-character windows has one of those keys. Unit
``u`` inside text ``t`` puts the window of ``u``'s own prefix in ``t``, whose key
is the same (one function computes both), so ``t`` is admitted. Equal keys of
different windows only admit a text needlessly. Windows across the NUL that
separates texts only admit a text needlessly.

``str.lower`` maps each character on its own except the Greek final sigma, which
depends on the next character; both sides map it (U+03C2) to sigma (U+03C3) so a token lowered
alone is still a substring of its text lowered whole.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from typing import cast

import numpy as np
import numpy.typing as npt

from stagewall.masking._units import (
    EMPTY,
    H,
    Members,
    top_bits_bitmap,
    unique_sorted,
    v6_canonical,
)
from stagewall.masking.classify._forms import ESCAPED, detect_view
from stagewall.masking.transformers._confusables import skeleton

SHORT = 4  # no unit is shorter (_units.MIN_TEXT)
LONG = 8
SEP = "\x00"
_MULT = np.uint64(0x100000001B3)  # FNV-64 prime: odd, spreads code points
_MIX = np.uint64(0x9E3779B97F4A7C15)
_BITS = 26  # bitmap of 2**26 bits (8 MB): the exact check runs only where it says "maybe"
FINAL_SIGMA, SIGMA = "\u03c2", "\u03c3"
_SIGMA = str.maketrans(FINAL_SIGMA, SIGMA)
UNGATED = np.uint64(0)  # the key of a unit too short to key: turns the gate off


def lowered(text: str) -> str:
    """``text`` as the gate compares it (lower case, final sigma folded)."""
    low = text.lower()
    return low.translate(_SIGMA) if FINAL_SIGMA in low else low


def _windows(joined: str) -> tuple[H, H]:
    """The keys of every :data:`SHORT`- and every :data:`LONG`-character window of
    ``joined`` (index = window start), in one pass."""
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if codes.size < SHORT:
        return EMPTY, EMPTY
    with np.errstate(over="ignore"):
        acc = codes
        short = EMPTY
        for k in range(1, LONG):
            m = codes.size - k  # windows of k + 1 characters
            if m <= 0:
                break
            acc = acc[:m] * _MULT + codes[k : k + m]
            if k + 1 == SHORT:
                short = _final(acc, SHORT)
        long = _final(acc, LONG) if codes.size >= LONG else EMPTY
    return short, long


def _final(acc: H, width: int) -> H:
    with np.errstate(over="ignore"):
        return (acc ^ np.uint64(width)) * _MIX


def unit_keys(units: Sequence[str]) -> H:
    """The gate key of each (normalised) unit, in order: of its first :data:`LONG`
    characters, or :data:`SHORT` when it is shorter than that."""
    if not units:
        return EMPTY
    # only each unit's first LONG characters are keyed (slicing before lowering is
    # the same: units are lower-cased already, and a final sigma is folded anyway)
    heads = [u[:LONG] for u in units]
    joined = lowered(SEP.join(heads))
    lengths = np.fromiter(map(len, heads), dtype=np.int64, count=len(heads))
    if len(joined) != int(lengths.sum()) + len(heads) - 1:  # lower() grew a unit
        return np.concatenate([unit_keys([u]) for u in map(lowered, units)])
    starts = np.zeros(len(units), dtype=np.int64)
    starts[1:] = np.cumsum(lengths[:-1] + 1)
    # the windows at the units' starts alone (what _windows gives there): each head's
    # code points as one row, padded past the end (a short unit's key uses only its
    # first SHORT columns)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    codes = np.concatenate([codes, np.zeros(LONG, dtype=np.uint64)])
    rows = codes[starts.reshape(-1, 1) + np.arange(LONG)]
    with np.errstate(over="ignore"):
        acc = rows[:, 0]
        for k in range(1, LONG):
            acc = acc * _MULT + rows[:, k]
            if k + 1 == SHORT:
                short = _final(acc, SHORT)
    out = np.full(len(units), UNGATED, dtype=np.uint64)
    is_long = lengths >= LONG
    is_short = ~is_long & (lengths >= SHORT)
    out[is_long] = _final(acc, LONG)[is_long]
    out[is_short] = short[is_short]
    return out


def distinct_pairs(keys: H, lengths: npt.NDArray[np.int64]) -> tuple[H, npt.NDArray[np.int64]]:
    """The distinct ``(key, length)`` pairs, sorted by key, then length.

    Keys are hashes, so few are equal: the pairs are sorted by key alone and only
    the runs of equal keys are sorted by length too (a two-key sort of all of them
    took seconds for the millions of units of a large source)."""
    if not keys.size:
        return EMPTY, np.zeros(0, np.int64)
    order = np.argsort(keys)
    k, n = keys[order], lengths[order].astype(np.int64)
    same = k[1:] == k[:-1]
    if same.any():
        run = np.zeros(k.size, dtype=bool)  # members of runs of equal keys, in order
        run[1:] |= same
        run[:-1] |= same
        at = np.flatnonzero(run)
        by = np.lexsort((n[at], k[at]))  # runs stay where they are: keys ascend
        k[at], n[at] = k[at][by], n[at][by]
    keep = np.ones(k.size, dtype=bool)
    keep[1:] = (k[1:] != k[:-1]) | (n[1:] != n[:-1])
    return k[keep], n[keep]


def _bitmap(keys: H) -> npt.NDArray[np.uint8]:
    """A bitmap of :data:`_BITS` bits with the bit of every key's top bits set."""
    return top_bits_bitmap(keys, _BITS)


class Gate:
    """The sensitive units (their hashes, gate keys and lengths); :meth:`admits`
    says which texts hold one."""

    def __init__(
        self,
        sensitive: H,
        keys: H,
        lengths: npt.NDArray[np.int64],
        hash_many: Callable[[list[str]], H],
        spaced_ibans: bool = True,
    ) -> None:
        """``spaced_ibans``: whether a unit may be an IBAN's compact form, which a
        text writes with spaces (:func:`holds_compact_iban`; True when unknown)."""
        self.spaced_ibans = spaced_ibans
        self._keys, self._lengths = distinct_pairs(keys, lengths)
        # sorted, as contains() needs; most pieces a window key admits are no unit:
        # a bitmap of the units' top bits answers those (exactly as contains())
        self._sensitive = Members(unique_sorted(sensitive))
        self._hash = hash_many
        self.disabled = bool(self._keys.size) and self._keys[0] == UNGATED
        self._bitmap = _bitmap(self._keys)

    def _maybe(self, keys: H) -> npt.NDArray[np.bool_]:
        slot = keys >> np.uint64(64 - _BITS)
        byte = self._bitmap[(slot >> np.uint64(3)).astype(np.int64)]
        return ((byte >> (slot & np.uint64(7)).astype(np.uint8)) & 1).astype(bool)

    def admits(self, texts: Sequence[str]) -> list[bool]:
        """For each text: whether a sensitive unit occurs in it (lower-cased), or in
        the text as the detector reads it (:func:`read_forms`): a finding's other
        forms (``classify.other_forms``) are units too, and they are pieces of that."""
        if self.disabled:
            return [True] * len(texts)
        if not texts or not self._keys.size:
            return [False] * len(texts)
        hit = self._admits(texts)
        if hit.all():
            return cast("list[bool]", hit.tolist())
        rest = np.flatnonzero(~hit)
        # the texts left that can have other forms, found in one C-level scan of them
        # joined (most batches have none: ASCII text without "&", "%", "xn--" or an
        # IBAN written with spaces)
        left = SEP.join(map(texts.__getitem__, rest.tolist()))
        found: list[int] = spaced_iban_starts(left) if self.spaced_ibans else []
        for pattern, there in (
            (_BEYOND_ASCII, not left.isascii()),
            (ESCAPED, "&" in left or "%" in left),
            (_IDN, "n--" in left or "N--" in left),
            (_V6_MAYBE, ":" in left),
        ):  # (C-level tests first: each scan only where it can find something)
            if there:
                found += [m.start() for m in pattern.finditer(left)]
        if not found:
            return cast("list[bool]", hit.tolist())
        lengths = np.fromiter(map(len, map(texts.__getitem__, rest.tolist())), np.int64, rest.size)
        starts = np.zeros(rest.size, dtype=np.int64)
        starts[1:] = np.cumsum(lengths[:-1] + 1)
        which = np.unique(np.searchsorted(starts, found, side="right") - 1)
        at: list[int] = []
        forms: list[str] = []
        for i in rest[which].tolist():
            got = read_forms(texts[i])
            if got is True:
                hit[i] = True
            elif got:
                at += [i] * len(got)
                forms += got
        if forms:
            where = np.asarray(at, dtype=np.int64)
            hit[where[self._admits(forms)]] = True
        return cast("list[bool]", hit.tolist())

    def _admits(self, texts: Sequence[str]) -> npt.NDArray[np.bool_]:
        """:meth:`admits` of the texts as they are written."""
        # a NUL inside a text only adds windows that span it: positions stay exact
        joined = lowered(SEP.join(texts))
        lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
        if len(joined) != int(lengths.sum()) + len(texts) - 1:  # lower() grew a text
            low = [lowered(t) for t in texts]
            joined = SEP.join(low)
            lengths = np.fromiter(map(len, low), dtype=np.int64, count=len(low))
        starts = np.zeros(len(texts), dtype=np.int64)
        starts[1:] = np.cumsum(lengths[:-1] + 1)
        hit = np.zeros(len(texts), dtype=bool)
        for keys in _windows(joined):
            if not keys.size:
                continue
            pos = np.flatnonzero(self._maybe(keys))
            if not pos.size:
                continue
            # every (position, unit length) whose window key is a unit's
            k = keys[pos]
            lo = np.searchsorted(self._keys, k, side="left")
            n = np.searchsorted(self._keys, k, side="right") - lo
            if not n.any():
                continue
            at = np.repeat(pos, n)
            first = np.repeat(lo - (np.cumsum(n) - n), n)
            size = self._lengths[first + np.arange(at.size)]
            inside = at + size <= len(joined)
            at, size = at[inside], size[inside]
            pieces = [joined[a : a + b] for a, b in zip(at.tolist(), size.tolist(), strict=True)]
            if not pieces:
                continue
            # a unit equals its lowered piece unless it holds a final sigma: pieces
            # with a sigma are admitted without the hash comparison
            found = self._sensitive(self._hash(pieces))
            if SIGMA in joined:
                found |= np.fromiter((SIGMA in x for x in pieces), dtype=bool, count=len(pieces))
            hit[np.searchsorted(starts, at[found], side="right") - 1] = True
        return hit


# where a text may have other forms: a character beyond ASCII, an "&" or "%" (an
# HTML reference, a URL escape), a punycode label, or the start of an IBAN written
# with a space (from its first digit, so the scan skips to the digits)
_IDN = re.compile("(?i)xn--")
_BEYOND_ASCII = re.compile("[^\x00-\x7f]+")
_SPACED_IBAN = re.compile("[0-9](?<=[A-Za-z][A-Za-z][0-9])[0-9][A-Za-z0-9]{0,34} [A-Za-z0-9]")
_ASCII_LETTERS = frozenset(string.ascii_letters.encode())
_ASCII_DIGITS = frozenset(string.digits.encode())
# ASCII text as bytes with its letters read as "a", its digits as "0", a space as
# itself and any other byte as ".": there the same IBAN starts with the literal
# "aa00" (its country code and check digits), which the regex engine skips to
_CLASSES = bytes(
    97 if b in _ASCII_LETTERS else 48 if b in _ASCII_DIGITS else 32 if b == 32 else 46
    for b in range(256)
)
_SPACED_IBAN_CLASSES = re.compile(b"aa00[a0]{0,34} [a0]")


def spaced_iban_starts(joined: str) -> list[int]:
    """Where an IBAN written with spaces may start in ``joined`` (texts joined by
    NUL): a place in each text holding one (:data:`_SPACED_IBAN`), none in the
    others. ASCII text is searched in its classes (``_CLASSES``): the same match, found
    from its country code instead of its first digit; no class holds the NUL, so a
    match is in one text either way."""
    if not joined.isascii():
        return [m.start() for m in _SPACED_IBAN.finditer(joined)]
    classes = joined.encode("ascii").translate(_CLASSES)
    return [m.start() for m in _SPACED_IBAN_CLASSES.finditer(classes)]


# a unit that is an IBAN without spaces (lower case): only a source holding one
# makes the gate look for IBANs written with spaces. A line of the units joined
# (``^...$`` with re.MULTILINE) written from the newline before it: a pattern that
# starts with a literal is searched from each newline alone, several times faster
# than ``^`` tried at every character; the same lines match.
_COMPACT_IBAN = re.compile("\n[a-z]{2}[0-9]{2}[a-z0-9]{11,30}(?=\n|\\Z)")


def holds_compact_iban(units: Sequence[str]) -> bool:
    """Whether one of the (normalised) ``units`` is a compact IBAN (one C-level scan)."""
    return _COMPACT_IBAN.search("\n" + "\n".join(units)) is not None


# two colons with at most four hex digits between them: maybe an IPv6 address
_V6_MAYBE = re.compile(":[0-9A-Fa-f]{0,4}:")
_V6_IN_TEXT = re.compile(
    r"(?<![\w:.])[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?:\.[0-9]{1,3}){0,3}(?![\w:])"
)


def _v6_spelt(match: re.Match[str]) -> str:
    return v6_canonical(match.group(0).lower())


def read_forms(text: str) -> list[str] | bool:
    """Texts every other form of a finding in ``text`` (``classify.other_forms``) is
    a piece of: the text as the detector reads it (its view: ``classify._forms``),
    that with the look-alike letters folded (``_confusables.skeleton``), and, when
    it holds an IBAN written with spaces, the view without its spaces. Empty when that is
    ``text`` itself; True for a text holding a punycode label (a decoded domain is
    no piece of anything: such a text is admitted)."""
    if _IDN.search(text) is not None:
        return True
    view = detect_view(text)[0]
    out = [view] if view != text else []
    folded = skeleton(view)
    if folded != view:
        out.append(folded)
    if _SPACED_IBAN.search(view) is not None:  # (an IBAN's compact form is a piece)
        out.append(view.replace(" ", ""))
    if ":" in view:  # an IPv6 address in its canonical spelling (its unit)
        canonical = _V6_IN_TEXT.sub(_v6_spelt, view)
        if canonical.lower() != view.lower():
            out.append(canonical)
    return out


__all__ = [
    "LONG",
    "SHORT",
    "UNGATED",
    "Gate",
    "distinct_pairs",
    "holds_compact_iban",
    "lowered",
    "read_forms",
    "unit_keys",
]
