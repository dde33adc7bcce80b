"""Realistic pseudonyms from dictionaries: names, e-mail, username, address parts, company."""

from __future__ import annotations

import copy
import operator
import re
from abc import abstractmethod
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
from pydantic import Field

from stagewall.masking.transformers import _dicts
from stagewall.masking.transformers._base import (
    ParamsModel,
    Transformer,
    as_text,
    kept_as_is,
    passing,
    register,
)
from stagewall.masking.transformers._batch import (
    keyed_hash,
    keyed_hash_groups,
    pick,
    stream,
)
from stagewall.masking.transformers._flat import (
    _fields_out,
    _length_groups,
    _printable_batch,
    by_length,
    rows_to_texts,
)
from stagewall.masking.transformers._scripts import digit_scripts

_ASCII = re.compile(r"[^a-z]")


def _lower_ascii(words: list[str]) -> list[str]:
    return [_ASCII.sub("", w.lower()) for w in words]


@cache
def _lower_firsts() -> Any:
    return np.array(_lower_ascii(_dicts.first_names().tolist()), dtype=object)


@cache
def _lower_lasts() -> Any:
    return np.array(_lower_ascii(_dicts.last_names().tolist()), dtype=object)


_MAX_AVOID_ROUNDS = 8
_WORD = re.compile(r"[a-z]{3,}")


def _norm(value: object) -> str:
    return str(value).strip().casefold()


@cache
def _name_words() -> frozenset[str]:
    return frozenset(_lower_ascii(_dicts.first_names().tolist())) | frozenset(
        _lower_ascii(_dicts.last_names().tolist())
    )


def _reveals_input(output: object, value: object) -> bool:
    """True when a pseudonym is the input itself or repeats one of its names.

    "Jane Smith" → "John Smith" keeps the surname; "Anna Foster, 1 Elm Road" →
    "12 Foster Crescent" keeps a name too. Verification rightly reports those as
    production values left in place, so such outputs are drawn again.
    """
    out, inp = _norm(output), _norm(value)
    if out == inp:
        return True
    names = _name_words()
    for word in _WORD.findall(out):
        # cheap substring test first; confirm as a whole word only when it passes
        if word in names and word in inp and word in _WORD.findall(inp):
            return True
    return False


def _revealing(values: list[Any], outputs: list[object]) -> list[int]:
    """Positions where :func:`_reveals_input` holds; the same test, inlined for speed."""
    names = _name_words()
    findall = _WORD.findall
    redo: list[int] = []
    for i, (v, o) in enumerate(zip(values, outputs, strict=True)):
        if v is None or o is None:
            continue
        out = str(o).strip().casefold()
        inp = (v if isinstance(v, str) else str(v)).strip().casefold()
        if out == inp:
            redo.append(i)
            continue
        for word in findall(out):
            if word in inp and word in names and word in findall(inp):
                redo.append(i)
                break
    return redo


# A drawn pseudonym is built from dictionary entries. For each entry, its "probes"
# are its name words (or, if it has none, the whole folded entry): every probe is a
# substring of the folded output, and an output that reveals its input (equal to
# it, or sharing a name word with it) always has a probe inside the folded input.
# So one C-level substring test per probe and value finds every candidate, and
# only candidates go through the exact rule (:func:`_reveals_input`).
_NEVER = "\x00"  # padding probe: folded inputs never hold NUL (checked)

# outputs, and per part of them (dictionary, indices, words_only). A part may be
# words_only when another part always has a probe (that one covers equality). A
# part (None, probes, False) gives one probe string per value directly.
Draw = tuple[list[object], list[tuple[Any, Any, bool]]]


@cache
def _probe_table(words: tuple[str, ...], words_only: bool) -> tuple[Any, list[Any], list[Any]]:
    """``(counts, columns, real)``: per entry its number of probes, probe columns, and
    per column which entries have a probe there that is not the padding ``_NEVER``."""
    names = _name_words()
    probes = []
    for w in words:
        folded = w.strip().casefold()
        found = [x for x in dict.fromkeys(_WORD.findall(folded)) if x in names]
        probes.append(found or [_NEVER if words_only else folded or _NEVER])
    width = max(map(len, probes), default=1)
    cols = []
    for j in range(width):
        col = np.empty(len(probes), dtype=object)
        col[:] = [p[j] if j < len(p) else _NEVER for p in probes]
        cols.append(col)
    # compared one by one: NumPy would read "\x00" as "" (its strings drop trailing NULs)
    real = [np.array([p != _NEVER for p in col.tolist()], dtype=bool) for col in cols]
    return np.array([len(p) for p in probes], dtype=np.intp), cols, real


def _probes(dictionary: Any, words_only: bool) -> tuple[Any, list[Any], list[Any]]:
    return _probe_table(tuple(dictionary.tolist()), words_only)


def _fold_batch(texts: list[str]) -> list[str] | None:
    """``t.casefold()`` for every text in one C-level pass; None if a text holds NUL."""
    joined = _NEVER.join(texts)
    if joined.count(_NEVER) != len(texts) - 1:
        return None
    return joined.casefold().split(_NEVER)


def _candidates(values: list[str], parts: list[tuple[Any, Any, bool]]) -> list[int] | None:
    """Positions whose output may reveal the input (a superset; None: use the exact rule)."""
    folded = _fold_batch(values)
    if folded is None:
        return None
    return _folded_candidates(folded, parts)


def _folded_candidates(folded: list[str], parts: list[tuple[Any, Any, bool]]) -> list[int]:
    """:func:`_candidates` of the inputs' case folds (none holds NUL)."""
    n = len(folded)
    hit = np.zeros(n, dtype=bool)
    contains = operator.contains
    for dictionary, idx, words_only in parts:
        if dictionary is None:  # the probes themselves, one per value
            hit |= np.fromiter(map(contains, folded, idx), dtype=bool, count=n)
            continue
        _, cols, real = _probes(dictionary, words_only)
        for col, live in zip(cols, real, strict=True):
            # only the values whose entry has a probe in this column: the padding
            # probe _NEVER is in no folded text (_fold_batch refused any with NUL)
            has = live[idx]
            if has.all():
                probes = col[idx].tolist()
                hit |= np.fromiter(map(contains, folded, probes), dtype=bool, count=n)
                continue
            rows = np.flatnonzero(has)
            if not len(rows):
                continue
            probes = col[idx[rows]].tolist()
            texts = [folded[r] for r in rows.tolist()]
            hit[rows] |= np.fromiter(map(contains, texts, probes), dtype=bool, count=len(rows))
    return np.flatnonzero(hit).tolist()


def _plain_rows(text: str, m: int) -> bool:
    """Whether ``text`` is ``m`` rows joined by newlines that COPY text writes as they
    are (no backslash, tab or carriage return: its encoder escapes those)."""
    return text.count("\n") == m - 1 and not ("\\" in text or "\t" in text or "\r" in text)


_WORD_OR_ROW = re.compile(r"[a-z]{3,}|\x00")


def _word_candidates(values: list[str], outputs: list[object]) -> list[int] | None:
    """Positions whose output may reveal the input, for outputs not drawn from entries.

    Equal (folded, stripped) pairs, and the words of all outputs from one regex
    pass over the joined batch (row separators are tokens too, so each word knows
    its row), kept when a name and a substring of the input. None: use the exact
    rule (a value holds NUL, or an output is not text).
    """
    if set(map(type, outputs)) != {str}:
        return None
    inp, out = _fold_batch(values), _fold_batch(outputs)  # type: ignore[arg-type]
    if inp is None or out is None:
        return None
    n = len(values)
    hit = np.fromiter(
        map(operator.eq, map(str.strip, inp), map(str.strip, out)), dtype=bool, count=n
    )
    tokens = _WORD_OR_ROW.findall(_NEVER.join(out))
    if len(tokens) > n - 1:  # some output has a word
        # a row separator is the one token shorter than 3 (NumPy would read "\x00" as "")
        sep = np.fromiter(map(len, tokens), dtype=np.intp, count=len(tokens)) == 1
        rows = np.cumsum(sep)[~sep]
        words = np.array(tokens, dtype=object)[~sep]
        names = _name_words()
        named = np.fromiter(map(names.__contains__, words), dtype=bool, count=len(words))
        rows, words = rows[named], words[named]
        texts = [inp[r] for r in rows.tolist()]
        inside = np.fromiter(
            map(operator.contains, texts, words.tolist()), dtype=bool, count=len(texts)
        )
        hit[rows[inside]] = True
    return np.flatnonzero(hit).tolist()


def _index(words: Any, h: Any) -> Any:
    return (h % np.uint64(len(words))).astype(np.intp)


class _Dictionary(Transformer):
    """Base: one keyed hash per value, then vectorised dictionary lookups.

    A pseudonym drawn from a dictionary can by chance be the input itself (a
    customer called Kim who is mapped to "Kim") or repeat one of its names (Jane
    Smith → John Smith): that would leave a production value in place. Such values
    are drawn again under a derived hash label, which keeps the output
    deterministic (it still depends only on key, params, salt and input).
    """

    _label_suffix = ""
    # Only a subclass whose outputs provably never repeat its input may turn this off
    # (``email`` is no longer a subclass: its keyed TOKEN already guarantees that).
    _avoid_reveal = True

    def _label(self) -> str:
        return self.name + self._label_suffix

    def _hash(self, values: list[Any]) -> Any:
        return keyed_hash(self._key, self._label(), as_text(self.name, values))

    def transform(self, values: Sequence[object] | np.ndarray[Any, Any]) -> list[object]:
        items = values.tolist() if isinstance(values, np.ndarray) else list(values)
        if not self._avoid_reveal:
            return super().transform(items)
        if kept_as_is(items):
            out: list[object] = list(items)  # NULLs, empty and blank strings stay as they are
            idx = passing(items)
            for i, o in zip(idx, self._unrevealing([items[i] for i in idx]), strict=True):
                out[i] = o
            return out
        return self._unrevealing(items)

    def _unrevealing(self, items: list[Any]) -> list[object]:
        """Pseudonyms for non-null values, drawn again where one would reveal its input."""
        if not items:
            return []
        out, maybe = self._first_draw(items)
        if maybe is None:
            redo = _revealing(items, out)
        else:
            redo = [i for i in maybe if _reveals_input(out[i], items[i])]
        self._redraw(items, out, redo)
        return out

    def _redraw(self, items: list[Any], out: list[object], redo: list[int]) -> None:
        """Draw ``out[i]`` again (in place) for the positions ``redo`` whose first draw
        reveals its input, under derived labels, until none does."""
        for round_ in range(1, _MAX_AVOID_ROUNDS + 1):
            if not redo:
                break
            again = copy.copy(self)
            again._label_suffix = f"/avoid-identity/{round_}"
            fresh = again._apply([items[i] for i in redo])
            still = []
            for i, o in zip(redo, fresh, strict=True):
                out[i] = o
                if _reveals_input(o, items[i]):
                    still.append(i)
            redo = still

    def _first_draw(self, items: list[Any]) -> tuple[list[object], list[int] | None]:
        """The outputs, and the positions that may reveal their input (None: all)."""
        out = self._apply(items)
        return out, (_word_candidates(items, out) if self._probed else None)

    # the candidate prefilter (tests turn it off to compare with the exact rule alone)
    _probed = True


class _Drawn(_Dictionary):
    """A dictionary pseudonym built from dictionary entries, whose probes find the
    candidates that may reveal their input (see :func:`_candidates`)."""

    # whether transform_copy_fields takes printable ASCII batches (a subclass whose
    # output is not only a function of _draw's entries, e.g. codes, leaves it off)
    _copy_fields = False

    @abstractmethod
    def _draw(self, h: Any) -> Draw:
        """Outputs and the dictionary entries they were built from."""

    def _draw_text(self, h: Any) -> tuple[str, list[tuple[Any, Any, bool]]]:
        """:meth:`_draw` with the outputs joined by newlines."""
        out, parts = self._draw(h)
        return "\n".join(out), parts  # type: ignore[arg-type]

    def _apply(self, values: list[Any]) -> list[object]:
        return self._draw(self._hash(values))[0]

    def _first_draw(self, items: list[Any]) -> tuple[list[object], list[int] | None]:
        out, parts = self._draw(self._hash(items))
        return out, (_candidates(items, parts) if self._probed else None)

    def transform_copy_fields(self, fields: list[bytes], suffix: bytes) -> list[bytes] | None:
        """COPY text fields of a text column in, COPY text fields (each followed by
        ``suffix``) out: the bytes that decoding, :meth:`transform` and encoding give,
        for a batch of printable ASCII with no escape (NULL, empty and blank fields
        kept: :func:`~._flat._printable_batch`), without a ``str`` per input value;
        None for any other batch (the caller then takes that path).

        An ASCII text's UTF-8 bytes are its characters, so the keyed hash reads the
        fields' bytes, and the candidates (:func:`_candidates`) come from the batch's
        lower-cased bytes decoded once (an ASCII text's case fold is its lower case).
        """
        if not self._copy_fields or not self._probed:
            return None
        batch = _printable_batch(fields)
        if batch is None:
            return None
        todo, kept, joined = batch
        buf, groups = _length_groups(todo, joined)
        m = len(todo)
        text, parts = self._draw_text(keyed_hash_groups(self._key, self._label(), buf, groups, m))
        if not _plain_rows(text, m):
            return None  # an entry COPY would escape: the str path encodes it
        # an ASCII text's case fold is its lower case
        maybe = _folded_candidates(joined.lower().decode("ascii").split("\n"), parts)
        if maybe:
            items = [todo[i].decode("ascii") for i in maybe]
            out: list[object] = list(text.split("\n"))
            redo = [i for i, v in zip(maybe, items, strict=True) if _reveals_input(out[i], v)]
            if redo:
                values: list[Any] = [None] * m
                for i in redo:
                    values[i] = todo[i].decode("ascii")
                self._redraw(values, out, redo)
                text = "\n".join(out)  # type: ignore[arg-type]
                if not _plain_rows(text, m):
                    return None
        return _fields_out(text.encode(), fields, kept, suffix)


class BoundedParams(ParamsModel):
    # the column's declared length: only dictionary entries that fit are drawn
    max_length: int | None = Field(default=None, ge=1)


_MIN_ENTRIES = 10


@cache
def _within(kind: str, limit: int | None) -> Any:
    """Dictionary ``kind`` restricted to entries of at most ``limit`` characters."""
    words = _SOURCES[kind]()
    if limit is None:
        return words
    return _dicts._array([w for w in words.tolist() if len(w) <= limit])


_SOURCES = {
    "first": _dicts.first_names,
    "last": _dicts.last_names,
    "suffix": _dicts.street_suffixes,
    "city": _dicts.cities,
    "company": _dicts.company_suffixes,
    "region": _dicts.regions,
    "region_code": _dicts.region_codes,
    "country": _dicts.countries,
}


def _longest(words: Any) -> int:
    return max(map(len, words.tolist()))


class _Bounded(_Drawn):
    """A drawn pseudonym whose parts come from length-bounded dictionaries."""

    Params = BoundedParams
    optional_params = frozenset({"max_length"})
    # (dictionary kind, share of max_length it may use, fixed characters around it)
    _parts: tuple[str, ...] = ()

    def budgets(self, limit: int) -> dict[str, int]:
        """Longest entry allowed per part so that every output fits ``limit``."""
        return {kind: limit for kind in self._parts}

    def setup(self) -> None:
        limit: int | None = self.params.max_length  # type: ignore[attr-defined]
        caps = self.budgets(limit) if limit is not None else {}
        self._dicts = {kind: _within(kind, caps.get(kind)) for kind in self._parts}
        for kind, words in self._dicts.items():
            if len(words) < min(_MIN_ENTRIES, len(_SOURCES[kind]())):
                from stagewall.errors import ConfigError

                raise ConfigError(
                    f"transformer {self.name!r}: max_length {limit} leaves too few "
                    f"pseudonyms ({len(words)} {kind} entries fit)",
                    hint="raise max_length (the column length), or use redact or partial "
                    "for so narrow a column",
                )

    def max_output_length(self, input_max: int | None) -> int | None:
        return self._shape_length({k: _longest(w) for k, w in self._dicts.items()})

    def _shape_length(self, longest: dict[str, int]) -> int:
        return sum(longest.values())


@register
class FirstName(_Bounded):
    _copy_fields = True
    name = "first_name"
    lossy = True
    _parts = ("first",)

    def _draw(self, h: Any) -> Draw:
        words = self._dicts["first"]
        i = _index(words, h)
        return np.take(words, i).tolist(), [(words, i, False)]


@register
class LastName(_Bounded):
    _copy_fields = True
    name = "last_name"
    lossy = True
    _parts = ("last",)

    def _draw(self, h: Any) -> Draw:
        words = self._dicts["last"]
        i = _index(words, h)
        return np.take(words, i).tolist(), [(words, i, False)]


@register
class FullName(_Bounded):
    _copy_fields = True
    name = "full_name"
    lossy = True
    _parts = ("first", "last")

    def budgets(self, limit: int) -> dict[str, int]:
        first = min(_longest(_dicts.first_names()), max(4, (limit - 1) // 2))
        return {"first": first, "last": limit - 1 - first}

    def _shape_length(self, longest: dict[str, int]) -> int:
        return longest["first"] + 1 + longest["last"]

    def _draw(self, h: Any) -> Draw:
        fw, lw = self._dicts["first"], self._dicts["last"]
        fi, li = _index(fw, h), _index(lw, h >> np.uint64(32))
        out = (np.take(fw, fi) + " " + np.take(lw, li)).tolist()
        return out, [(fw, fi, False), (lw, li, True)]


_HANDLE = "{}{:02d}".format


@register
class Username(_Bounded):
    """``jsmith42``-style handles (not unique-safe: use fpe_alnum for unique logins)."""

    name = "username"
    lossy = True
    _parts = ("last",)

    def budgets(self, limit: int) -> dict[str, int]:
        return {"last": limit - 3}

    def _shape_length(self, longest: dict[str, int]) -> int:
        return 1 + longest["last"] + 2

    def setup(self) -> None:
        super().setup()
        allowed = set(_lower_ascii(self._dicts["last"].tolist()))
        lowers = _lower_lasts().tolist()
        self._lasts = _dicts._array([w for w in lowers if w in allowed])

    def _draw(self, h: Any) -> Draw:
        firsts = pick(_lower_firsts(), h)
        lasts = pick(self._lasts, h >> np.uint64(24))
        nums = ((h >> np.uint64(48)) % np.uint64(100)).tolist()
        # the letters are the output's only possible word, and part of any input
        # equal to it: the probe (the dictionaries are lower-case ASCII already)
        letters = [f[:1] + b for f, b in zip(firsts, lasts, strict=True)]
        out: list[object] = list(map(_HANDLE, letters, nums))
        return out, [(None, letters, False)]


@cache
def _numbers() -> Any:
    """House numbers 0-9999 with the space that follows them (``"12 "``), an object array."""
    out = np.empty(10_000, dtype=object)
    out[:] = [f"{n} " for n in range(10_000)]
    return out


def _street_rows(nums: Any, lasts: list[str], tails: list[str]) -> list[object]:
    """``f"{n} {last}{tail}"`` minus each tail's final newline, for every row
    (``nums``: house numbers 0-9999, a sequence or an integer array; ``tails``: each
    suffix as ``" {suffix}\n"``), built as one joined string of three items a row
    that is split again (dictionary entries hold no newline; checked by the count)."""
    m = len(nums)
    items = [""] * (3 * m)
    items[0::3] = np.take(_numbers(), nums).tolist()
    items[1::3] = lasts
    items[2::3] = tails
    out: list[object] = list("".join(items).split("\n"))
    if len(out) == m + 1:
        del out[m]
        return out
    return [f"{int(n)} {a} {t[1:-1]}" for n, a, t in zip(nums, lasts, tails, strict=True)]


def _streets(nums: list[int], lasts: list[str], sufs: list[str]) -> list[object]:
    """``f"{n} {last} {suffix}"`` for every row (see :func:`_street_rows`)."""
    return _street_rows(nums, lasts, [f" {s}\n" for s in sufs])


@register
class StreetAddress(_Bounded):
    _copy_fields = True
    name = "street_address"
    lossy = True
    _parts = ("last", "suffix")

    def budgets(self, limit: int) -> dict[str, int]:
        suffix = min(_longest(_dicts.street_suffixes()), max(4, (limit - 6) // 3))
        return {"last": limit - 6 - suffix, "suffix": suffix}

    def _shape_length(self, longest: dict[str, int]) -> int:
        return 4 + 1 + longest["last"] + 1 + longest["suffix"]

    def setup(self) -> None:
        super().setup()
        # each suffix as the end of its row in _street_rows (built once, not per value)
        tails = [f" {s}\n" for s in self._dicts["suffix"].tolist()]
        self._tails = np.empty(len(tails), dtype=object)
        self._tails[:] = tails

    def _picks(self, h: Any) -> tuple[list[str], list[tuple[Any, Any, bool]]]:
        """Per row its three items (number and space, last name, suffix tail) in one
        list, and the parts they were drawn from."""
        lw, sw = self._dicts["last"], self._dicts["suffix"]
        li, si = _index(lw, h), _index(sw, h >> np.uint64(20))
        nums = ((h >> np.uint64(40)) % np.uint64(9999) + np.uint64(1)).astype(np.intp)
        m = len(h)
        items = [""] * (3 * m)
        items[0::3] = np.take(_numbers(), nums).tolist()
        items[1::3] = np.take(lw, li).tolist()
        items[2::3] = np.take(self._tails, si).tolist()
        return items, [(lw, li, False), (sw, si, True)]

    def _draw(self, h: Any) -> Draw:
        items, parts = self._picks(h)
        nums = ((h >> np.uint64(40)) % np.uint64(9999) + np.uint64(1)).astype(np.intp)
        return _street_rows(nums, items[1::3], items[2::3]), parts

    def _draw_text(self, h: Any) -> tuple[str, list[tuple[Any, Any, bool]]]:
        # the rows of _street_rows without splitting them (a newline in an entry
        # shows in the count, and the caller then declines the batch)
        items, parts = self._picks(h)
        return "".join(items)[:-1], parts


@register
class City(_Bounded):
    _copy_fields = True
    name = "city"
    lossy = True
    _parts = ("city",)

    def _draw(self, h: Any) -> Draw:
        words = self._dicts["city"]
        i = _index(words, h)
        return np.take(words, i).tolist(), [(words, i, False)]


class _ByShape(_Bounded):
    """A place pseudonym that keeps the input's shape: an upper-case code of 2-3
    letters becomes a code from ``_codes``, anything else a name."""

    _codes: tuple[str, ...] = ()

    def setup(self) -> None:
        limit: int | None = self.params.max_length  # type: ignore[attr-defined]
        if limit is not None and limit <= 3:
            # a char(2)/char(3) column holds codes: codes are the names too
            self._dicts = {}
            codes = self._pool(self._codes[0] if limit == 2 else self._codes[-1])
            self._dicts = {self._parts[0]: codes}
            return
        super().setup()

    def _pool(self, kind: str) -> Any:
        return self._dicts[kind] if kind in self._dicts else _SOURCES[kind]()

    def _draw(self, h: Any) -> Draw:  # names only; codes are chosen in _apply
        words = self._dicts[self._parts[0]]
        i = _index(words, h)
        return np.take(words, i).tolist(), [(words, i, False)]

    def _code_of(self, value: str) -> str | None:
        if 2 <= len(value) <= 3 and value.isascii() and value.isalpha() and value.isupper():
            return self._codes[0] if len(value) == 2 else self._codes[-1]
        return None

    def _apply(self, values: list[Any]) -> list[object]:
        texts = as_text(self.name, values)
        h = self._hash(texts)
        out: list[object] = self._draw(h)[0]
        for i, v in enumerate(texts):
            kind = self._code_of(v)
            if kind is not None:
                words = self._pool(kind)
                out[i] = words[int(h[i] % np.uint64(len(words)))]
        return out

    def _first_draw(self, items: list[Any]) -> tuple[list[object], list[int] | None]:
        out = self._apply(items)
        return out, (_word_candidates(items, out) if self._probed else None)


@register
class Region(_ByShape):
    """A state, province or district: a US state name, or its two-letter code."""

    name = "region"
    lossy = True
    _parts = ("region",)
    _codes = ("region_code",)


@register
class Country(_ByShape):
    """A country name, or an ISO 3166 alpha-2/alpha-3 code for a code."""

    name = "country"
    lossy = True
    _parts = ("country",)
    _codes = ("country2", "country3")

    def _pool(self, kind: str) -> Any:
        return _dicts.country_codes(2 if kind == "country2" else 3)


@register
class Company(_Bounded):
    _copy_fields = True
    name = "company"
    lossy = True
    _parts = ("last", "company")

    def budgets(self, limit: int) -> dict[str, int]:
        half = (limit - 1) // 2
        return {"last": half, "company": limit - 1 - half}

    def _shape_length(self, longest: dict[str, int]) -> int:
        return longest["last"] + 1 + max(longest["last"], longest["company"])

    def _draw(self, h: Any) -> Draw:
        lw, cw = self._dicts["last"], self._dicts["company"]
        ai, bi, si = _index(lw, h), _index(lw, h >> np.uint64(16)), _index(cw, h >> np.uint64(32))
        a, b, sufs = np.take(lw, ai).tolist(), np.take(lw, bi).tolist(), np.take(cw, si).tolist()
        style = ((h >> np.uint64(56)) % np.uint64(2)).tolist()
        out: list[object] = [
            f"{x} {s}" if st == 0 else f"{x}-{y}"
            for x, y, s, st in zip(a, b, sufs, style, strict=True)
        ]
        # probes of parts an output does not show only add candidates (still exact)
        return out, [(lw, ai, False), (lw, bi, True), (cw, si, True)]


@register
class Postcode(_Dictionary):
    """Same shape as the input: each digit → a keyed digit, each letter → a letter."""

    name = "postcode"
    lossy = True

    @digit_scripts
    def _apply(self, values: list[Any]) -> list[object]:
        texts = as_text(self.name, values)
        if not texts:
            return []
        h = keyed_hash(self._key, self._label(), texts)

        def group(rows: Any, members: Any) -> list[str]:
            n = rows.shape[1]
            r = stream(h[members], max(n, 1))[:, :n]
            new = rows.copy()
            digit = (rows >= 48) & (rows <= 57)
            upper = (rows >= 65) & (rows <= 90)
            lower = (rows >= 97) & (rows <= 122)
            new[digit] = (48 + r[digit] % np.uint64(10)).astype(np.uint8)
            new[upper] = (65 + r[upper] % np.uint64(26)).astype(np.uint8)
            new[lower] = (97 + r[lower] % np.uint64(26)).astype(np.uint8)
            return rows_to_texts(new)

        return by_length(texts, group) or []


__all__ = [
    "BoundedParams",
    "City",
    "Company",
    "Country",
    "FirstName",
    "FullName",
    "LastName",
    "Postcode",
    "Region",
    "StreetAddress",
    "Username",
]
