"""A text's split reading: where a row's own value hides inside one word or token.

Searched after a text's own reading and its other reading (``_known.other_reading``),
behind the same separator, by text_scrub and verify alike (``_known.norm_texts``,
``_known.find_known``). The split reading is the text with

- a letter followed by a digit set apart (``carrasco87`` is ``carrasco 87``,
  ``D10115`` is ``D 10115``, ``NL1012AB`` is ``NL 1012AB``): a login of a surname
  and digits, a postcode behind its country prefix;
- a base64 token decoded (:func:`decoded_token`): ``eWVzaWNhQGV4YW1wbGUuY29t``
  is ``yesica@example.com``; a token that is no text as a whole gives its pieces
  of printable text read at each of the four character alignments (a value
  between binary bytes, or a piece cut out of a longer token: :func:`_pieces`);
- the other reading's JSON escapes and line-end hyphens read (a run of escapes,
  ``\\r\\n``, one space): ``Lindenweg\\r\\n8a`` is ``Lindenweg 8a``.

A shortened surname glued to digits (``ganthr7``) is no reading: text_scrub and
verify test the runs of letters before a digit against the row's surnames
(:func:`stem_spans`).

Only texts holding a letter right before a digit or a base64-looking token have
one (found by C-level regex passes over a whole batch); the rest cost one scan.
The compact forms (the candidates' prefilter) need it only for decoded tokens:
setting words apart leaves a text's compact form as it is.
"""

from __future__ import annotations

import base64
import binascii
import re
import string
from collections.abc import Sequence
from operator import gt

import numpy as np

from stagewall.masking.transformers._entities import ESCAPE, has_escape

# a letter right before a digit of any script (zero-width: a space goes between them); the same as
# the digit after the letter, for the passes over a whole batch (a pattern that
# starts with a character class lets the regex engine skip to the digits: 20% less)
_JUNCTION = re.compile(r"(?<=[^\W\d_])(?=\d)")
_DIGIT_AFTER_LETTER = re.compile(r"\d(?<=[^\W\d_]\d)")
# a token base64 may write (standard or URL-safe alphabet): a whole run of MIN_TOKEN
# such characters or more (leftmost and greedy: never a piece of a longer run; no
# lookbehind, which made the pass 40% slower), padding included; one longer than
# MAX_TOKEN is data (an image), not a value written in a note
MIN_TOKEN = 12
MAX_TOKEN = 4096
_TOKEN = re.compile(rf"[A-Za-z0-9+/_-]{{{MIN_TOKEN},}}={{0,2}}")
# a run of JSON one-letter escapes before a word character; a word hyphenated across
# a line (the hyphen first: the regex engine skips to each "-" instead of trying every
# position; the letter before it is a lookbehind after it). _known reads its other
# reading of a text with these same two patterns (ESCAPE_BREAK, HYPHEN_BREAK).
ESCAPE_BREAK = re.compile(r"(?:\\[nrtbf])+(?=[^\W_])")
HYPHEN_BREAK = re.compile(
    r"-(?<=[^\W\d_]-)(?:[ \t]*(?:\r\n|\r|\n|\\r\\n|\\n|\\r)[ \t]*|[ \t]+)(?=[^\W\d_])"
)
_SPLIT = re.compile(
    f"(?P<esc>{ESCAPE_BREAK.pattern})|(?P<hyphen>{HYPHEN_BREAK.pattern})|(?P<junction>{_JUNCTION.pattern})"
)


def decoded_token(token: str) -> str | None:
    """What the base64 ``token`` writes, when it reads as text: both cases of letters
    in it (a word or a hex digest is not base64 of a value), a length base64 can
    have, bytes that are valid UTF-8, and the text printable with four letters or
    digits or more. Else None. A run of random characters passes with a chance of
    about (95/256)^9 (nine bytes all printable ASCII): ordinary words and ids do
    not (see docs/masking.md for the measured rate)."""
    body = token.rstrip("=")
    if body.islower() or body.isupper() or body.isdigit():
        return None
    if "-" in body or "_" in body:
        if "+" in body or "/" in body:
            return None
        body = body.replace("-", "+").replace("_", "/")
    text: str | None = None
    if len(body) % 4 != 1:
        try:
            raw = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
            text = raw.decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            text = None
    if text is None or not text.isprintable():
        return _pieces(body)
    return text if sum(map(str.isalnum, text)) >= 4 else None


# a run of MIN_PIECE printable characters or more in decoded bytes: ASCII, or a
# well-formed UTF-8 sequence of two to four bytes (what a value's bytes are)
MIN_PIECE = 8
_PRINTABLE_RUN = re.compile(
    rb"(?:[\x20-\x7e]|[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}"
    rb"|[\xf0-\xf4][\x80-\xbf]{3}){%d,}" % MIN_PIECE
)


def _pieces(body: str) -> str | None:
    """The text pieces of a token that is not base64 of text as a whole: a value's
    bytes encoded inside a longer token between other bytes (binary ones, which
    make the whole no UTF-8 text), or a piece cut out of a longer base64 token at
    any character. Decoded from each of the four characters a group of four may
    start at (a value's bytes start at an offset of 0, 1 or 2 modulo 3 in the
    encoded bytes: one of those alignments reads them), the runs of
    :data:`MIN_PIECE` printable characters or more with four letters or digits,
    between spaces; None when there are none. A random run of bytes holds such a
    run at a given place with a chance of about (95/256)^8, 4e-4."""
    found: list[str] = []
    for shift in range(4):
        part = body[shift:]
        if len(part) % 4 == 1:  # (a last character that writes no whole byte)
            part = part[:-1]
        if len(part) < MIN_TOKEN:
            break
        try:
            raw = base64.b64decode(part + "=" * (-len(part) % 4), validate=True)
        except (binascii.Error, ValueError):
            continue
        for m in _PRINTABLE_RUN.finditer(raw):
            piece = m.group().decode("utf-8", "replace")
            if piece.isprintable() and sum(map(str.isalnum, piece)) >= 4:
                found.append(piece)
    return " ".join(found) if found else None


# A shortened surname glued to digits, a login: ``ganthr7``, ``carras12`` for
# Ganthriv, Carrasco. A run of letters (not after a letter) right before a digit,
# searched as a prefix of the row's own surname shorter than it, of MIN_STEM letters
# or more: measured on the sample databases the tests load (Pagila, Sakila,
# Chinook), no row's own text holds one at any floor from 3 to 6, and runs that are
# a prefix of *any* surname of the database (how often another person's handle reads
# as one) fall from 89 (4 letters) to 55 (5) to 27 (6) of Pagila's 10,500 runs glued to
# digits (its staff e-mails, daniel8391@...). Five letters keeps carra12 and ganth7,
# and leaves Smith's smit7 (a prefix of four is a word: ross, mart, hern).
MIN_STEM = 5
STEM_RUN = re.compile(rf"(?<![^\W\d_])[^\W\d_]{{{MIN_STEM},}}(?=\d)")


def stem_spans(folded: str, surnames: Sequence[str]) -> list[tuple[int, int]]:
    """Spans of the runs of letters of ``folded`` (a folded text) glued to a digit
    after them that are a prefix of one of ``surnames`` (folded words) shorter than
    it, of :data:`MIN_STEM` letters or more (a surname glued to digits is its own
    word in the split reading: carrasco87)."""
    return [
        m.span()
        for m in STEM_RUN.finditer(folded)
        if any(len(n) > m.end() - m.start() and n.startswith(m.group()) for n in surnames)
    ]


_ASCII_DIGITS = "0123456789"
# ASCII bytes by class (stem_rows): a letter is "a", a digit "0", anything else a space
_CLASSES = (
    bytes(
        ord("a") if chr(b).isalpha() else ord("0") if chr(b).isdigit() else ord(" ")
        for b in range(128)
    )
    + b" " * 128
)
_STEM_TAIL = re.compile(b"a" * MIN_STEM + b"0")
_A, _0 = ord("a"), ord("0")  # (a letter and a digit there)


def junctions_apart(text: str) -> str:
    """``text`` with a space before each digit that follows a letter
    (``_DIGIT_AFTER_LETTER.sub(r" \\g<0>", text)``: ``carrasco87`` is ``carrasco 87``).

    ASCII text (most) is cut where a byte translation (:data:`_CLASSES`) puts a
    letter right before a digit, found in one NumPy pass (on ASCII ``\\d`` is
    ``[0-9]`` and ``[^\\W\\d_]`` a letter): 7x faster than the regex, whose template
    is expanded in Python for every match (tests/masking/transformers/
    test_readings_fast.py checks both agree)."""
    if not text.isascii():
        return _DIGIT_AFTER_LETTER.sub(r" \g<0>", text)
    classes = np.frombuffer(text.encode("ascii").translate(_CLASSES), np.uint8)
    at: list[int] = (np.flatnonzero((classes[:-1] == _A) & (classes[1:] == _0)) + 1).tolist()
    if not at:
        return text
    return " ".join(map(text.__getitem__, map(slice, [0, *at], [*at, len(text)])))


def stem_rows(texts: Sequence[str]) -> list[int]:
    """The indices of ``texts`` holding a run of :data:`STEM_RUN` (a run of letters
    right before a digit), in order: one C-level search of the joined batch, after
    one that skips to the digits (most batches' texts hold no letter before a digit
    or only short runs: codes, e-mails of dictionary names), and for ASCII text
    without digits (a batch of JSON documents of words) none."""
    joined = "\x00".join(texts)
    if joined.isascii():
        if not any(map(joined.__contains__, _ASCII_DIGITS)):
            return []  # (ten memchr-like scans: 30x faster than the regex on text without digits)
        # ASCII: a letter of STEM_RUN is [A-Za-z], a digit [0-9], so a text holds a
        # run exactly when it holds MIN_STEM letters right before a digit (the last
        # ones of its run). One byte translation (letters to "a", digits to "0",
        # the rest to a space) and a literal search: 8x faster than the regex.
        at = [m.start() for m in _STEM_TAIL.finditer(joined.encode("ascii").translate(_CLASSES))]
    else:
        if _DIGIT_AFTER_LETTER.search(joined) is None:
            return []
        # (NUL is no letter: a run never spans two texts, and a text holding NUL itself
        # only shifts where the next one starts)
        at = [m.start() for m in STEM_RUN.finditer(joined)]
    if not at:
        return []
    starts = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(np.fromiter(map(len, texts[:-1]), np.int64, len(texts) - 1) + 1, out=starts[1:])
    return np.unique(np.searchsorted(starts, at, side="right") - 1).tolist()  # type: ignore[no-any-return]


# the characters of a _TOKEN run, by code point (any code point past the table: its
# last entry, DEL, not one)
_TOKEN_CHAR = np.zeros(128, np.int8)
_TOKEN_CHAR[[ord(c) for c in string.ascii_letters + string.digits + "+/_-"]] = 1


def token_spans(text: str) -> list[tuple[int, int]]:
    """The spans of ``_TOKEN.finditer(text)``, found in NumPy passes over the text's
    code points (for a whole batch: the regex tried its run of 12 at every letter of
    every word, 5x slower). A match is a whole run of token characters (the regex
    starts at a run's first character, the one before is none of them, and takes it
    all) of MIN_TOKEN or more, then up to two "=" (never a token character); so these
    are the runs of that length, each with the "=" after it
    (tests/masking/transformers/test_readings_fast.py checks they agree)."""
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), np.uint32)
    inside = np.zeros(len(points) + 2, np.int8)
    inside[1:-1] = _TOKEN_CHAR[np.minimum(points, len(_TOKEN_CHAR) - 1)]
    edges = np.diff(inside)
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    long = ends - starts >= MIN_TOKEN
    out = []
    for a, b in zip(starts[long].tolist(), ends[long].tolist(), strict=True):
        if text.startswith("=", b):
            b += 2 if text.startswith("==", b) else 1
        out.append((a, b))
    return out


def _may_split(text: str) -> bool:
    # (a digit after a letter: where _JUNCTION is, found by a scan that skips to digits)
    return _DIGIT_AFTER_LETTER.search(text) is not None or _has_token(text)


def _has_token(text: str) -> bool:
    return any(decoded_token(m.group()) is not None for m in _TOKEN.finditer(text))


# a whole ASCII word (a run of [a-z0-9]) holding a letter right before a digit (on
# lower-case ASCII text: what _JUNCTION splits); the lookbehind lets each run be
# tried from its start only
_JOINT_WORD = re.compile(r"(?<![a-z0-9])[a-z0-9]*[a-z][0-9][a-z0-9]*")
# the pieces _JUNCTION cuts such words into: digits then letters, or letters alone (a
# letter right before a digit ends a piece); a pattern that starts with a character
# class: a C-level scan, where _JUNCTION tries its lookbehind at every position
_PIECE = re.compile(r"[0-9]+[a-z]*|[a-z]+")


def may_find_more(text: str, words: set[str]) -> bool:
    """Whether the split reading of ``text`` can hold a run of the words ``words``
    (the words of the word patterns found in it) that ``text`` does not: only when
    one of the words it sets apart is one of them (a run of words that are all
    whole words of ``text`` too is a run of ``text``), or a token decodes. A C-level test
    for ASCII text without escapes or references (most); any other text: True."""
    if not text.isascii() or "%" in text or "&" in text or "\\" in text:
        return True
    # a word of ``words`` more often a word of the split reading than of ``text``:
    # one it set apart. Only the words holding a letter right before a digit read
    # otherwise (each is its pieces there, the other words stay), so a word is more
    # often among the split reading's words exactly when it is more often among
    # those words' pieces than among those words themselves: counted on them alone
    # (tests/masking/transformers/test_readings_fast.py checks both counts agree)
    joints = _JOINT_WORD.findall(text.lower())
    if joints:
        pieces = _PIECE.findall(" ".join(joints))
        if any(map(gt, map(pieces.count, words), map(joints.count, words))):
            return True
    return _has_token(text)


# a NUL (between two texts of a batch) or a word _JOINT_WORD takes: the joint words of
# each text of a batch, in one C-level pass (NUL is no [a-z0-9]: a match never spans
# two texts, and a lookbehind sees a NUL as it sees a text's start). The junction is
# asked by a lookahead from the word's start, which then takes the whole word: 30%
# faster than _JOINT_WORD's backtracking, the same words
_JOINT_OR_NUL = re.compile("\x00|(?<![a-z0-9])(?=[a-z0-9]*[a-z][0-9])[a-z0-9]+")


def may_find_more_many(texts: Sequence[str], words: Sequence[set[str]]) -> list[bool]:
    """:func:`may_find_more` of each text of a batch with its words: the joint words
    and the tokens of the batch's plain texts (ASCII, without escapes or references)
    are found in C-level passes over them joined (one regex pass, one
    :func:`token_spans`) instead of two regex calls per text.

    The same answer: a piece (``[0-9]+[a-z]*`` or ``[a-z]+``) never holds a letter
    right before a digit and a joint word always does, so a word is more often
    among a text's pieces than among its joint words exactly when it is one of the
    pieces (tests/masking/transformers/test_readings_fast.py checks both agree)."""
    out = [True] * len(texts)
    plain = [
        k
        for k, t in enumerate(texts)
        if t.isascii() and "%" not in t and "&" not in t and "\\" not in t
    ]
    if not plain:
        return out
    joined = "\x00".join(map(texts.__getitem__, plain))
    if joined.count("\x00") != len(plain) - 1:  # a text holding NUL: one at a time
        for k in plain:
            out[k] = may_find_more(texts[k], words[k])
        return out
    # each text's joint words, space-separated (its pieces are those of the string)
    joints = " ".join(_JOINT_OR_NUL.findall(joined.lower())).split("\x00")
    tokens: set[int] = set()
    spans = [a for a, b in token_spans(joined) if decoded_token(joined[a:b]) is not None]
    if spans:
        starts = np.zeros(len(plain), dtype=np.int64)
        lengths = np.fromiter(map(len, map(texts.__getitem__, plain[:-1])), np.int64)
        np.cumsum(lengths + 1, out=starts[1:])
        tokens.update((np.searchsorted(starts, spans, side="right") - 1).tolist())
    for j, (k, mine) in enumerate(zip(plain, joints, strict=True)):
        if j not in tokens:
            # (a text without joint words has the segment "" or spaces: no piece)
            out[k] = not words[k].isdisjoint(_PIECE.findall(mine)) if mine else False
    return out


def split_reading(text: str) -> tuple[str, list[int], list[int]] | None:
    """The split reading of ``text`` with, for each of its characters, where the
    characters of ``text`` that write it start and end (a decoded token's characters
    all stand for the whole token), or None when it reads no other way."""
    if not _may_split(text):
        return None
    # the decoded tokens, then what sets words apart outside them, in text order
    cuts = [(m.start(), m.end(), f" {got} ") for m in _TOKEN.finditer(text)
            if (got := decoded_token(m.group())) is not None]  # fmt: skip
    # (not inside a token nor inside a URL or JSON escape: %C3%BC is one letter)
    inside = [(s, e) for s, e, _ in cuts]
    if has_escape(text):
        inside += [m.span() for m in ESCAPE.finditer(text)]
    for m in _SPLIT.finditer(text):
        s, e = m.start(), m.end()
        if not any(a <= s < b for a, b in inside):
            cuts.append((s, e, "" if m.lastgroup == "hyphen" else " "))
    if not cuts:
        return None
    cuts.sort(key=lambda c: (c[0], c[1]))
    parts: list[str] = []
    origin: list[int] = []
    ends: list[int] = []
    pos = 0
    for s, e, new in cuts:
        if s < pos:
            continue
        parts.append(text[pos:s])
        origin += range(pos, s)
        ends += range(pos + 1, s + 1)
        parts.append(new)
        # a decoded token's characters (a space either side: its words are not the
        # neighbours') all stand for the whole token
        origin += [s] * len(new)
        ends += [max(e, s + 1)] * len(new)
        pos = e
    parts.append(text[pos:])
    origin += range(pos, len(text))
    ends += range(pos + 1, len(text) + 1)
    return "".join(parts), origin, ends


def split_readings(texts: Sequence[str], tokens_only: bool = False) -> dict[int, str]:
    """Index → split reading of the texts of a batch that have one (with
    ``tokens_only``: of those holding a decoded base64 token, the only ones whose
    compact form it changes). A batch without decoded tokens and escapes (most) is
    read in three C-level substitutions over the joined batch (the same words as
    :func:`split_reading`, which keeps positions); the texts of any other batch
    that need it are told by where the matches are and read one at a time."""
    if not texts:
        return {}
    joined = "\x00".join(texts)
    if joined.count("\x00") != len(texts) - 1:  # a text holding NUL: one at a time
        rows = list(range(len(texts)))
    else:
        tokens = [a for a, b in token_spans(joined) if decoded_token(joined[a:b])]
        if tokens_only and not tokens:
            return {}
        if not tokens and not has_escape(joined):
            if _DIGIT_AFTER_LETTER.search(joined) is None:
                return {}  # (escapes and hyphens alone: the other reading's words)
            read = ESCAPE_BREAK.sub(" ", joined) if "\\" in joined else joined
            read = HYPHEN_BREAK.sub("", read) if "-" in read else read
            split = junctions_apart(read)
            return {
                i: r
                for i, (r, t) in enumerate(
                    zip(split.split("\x00"), read.split("\x00"), strict=True)
                )
                if r != t
            }
        at = tokens
        if not tokens_only:
            at += [m.start() for m in _DIGIT_AFTER_LETTER.finditer(joined)]
        if not at:
            return {}
        starts = np.zeros(len(texts), dtype=np.int64)
        np.cumsum(np.fromiter(map(len, texts[:-1]), np.int64, len(texts) - 1) + 1, out=starts[1:])
        rows = np.unique(np.searchsorted(starts, at, side="right") - 1).tolist()
    out: dict[int, str] = {}
    for i in rows:
        t = texts[i]
        if tokens_only and not _has_token(t):
            continue
        got = split_reading(t)
        if got is not None:
            out[i] = got[0]
    return out


__all__ = [
    "MIN_STEM",
    "MIN_TOKEN",
    "STEM_RUN",
    "decoded_token",
    "junctions_apart",
    "may_find_more",
    "may_find_more_many",
    "split_reading",
    "split_readings",
    "stem_rows",
    "stem_spans",
]
