"""Realistic pseudonyms from dictionaries: names, e-mail, username, address parts, company."""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np

from stagewall.masking.transformers import _dicts
from stagewall.masking.transformers._base import Transformer, as_text, register
from stagewall.masking.transformers._batch import (
    keyed_hash,
    length_groups,
    pick,
    stream,
)

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
        out = super().transform(items)
        if not self._avoid_reveal:
            return out
        redo = _revealing(items, out)
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
        return out


@register
class FirstName(_Dictionary):
    name = "first_name"
    lossy = True

    def max_output_length(self, input_max: int | None) -> int | None:
        return max(map(len, _dicts.first_names().tolist()))

    def _apply(self, values: list[Any]) -> list[object]:
        return pick(_dicts.first_names(), self._hash(values))  # type: ignore[return-value]


@register
class LastName(_Dictionary):
    name = "last_name"
    lossy = True

    def max_output_length(self, input_max: int | None) -> int | None:
        return max(map(len, _dicts.last_names().tolist()))

    def _apply(self, values: list[Any]) -> list[object]:
        return pick(_dicts.last_names(), self._hash(values))  # type: ignore[return-value]


@register
class FullName(_Dictionary):
    name = "full_name"
    lossy = True

    def max_output_length(self, input_max: int | None) -> int | None:
        return FirstName.max_output_length(self, None) + 1 + LastName.max_output_length(self, None)  # type: ignore[arg-type,operator]

    def _apply(self, values: list[Any]) -> list[object]:
        h = self._hash(values)
        firsts = pick(_dicts.first_names(), h)
        lasts = pick(_dicts.last_names(), h >> np.uint64(32))
        return [f"{a} {b}" for a, b in zip(firsts, lasts, strict=True)]


@register
class Username(_Dictionary):
    """``jsmith42``-style handles (not unique-safe: use fpe_alnum for unique logins)."""

    name = "username"
    lossy = True

    def max_output_length(self, input_max: int | None) -> int | None:
        return 1 + max(map(len, _dicts.last_names().tolist())) + 2

    def _apply(self, values: list[Any]) -> list[object]:
        h = self._hash(values)
        firsts = pick(_lower_firsts(), h)
        lasts = pick(_lower_lasts(), h >> np.uint64(24))
        nums = ((h >> np.uint64(48)) % np.uint64(100)).tolist()
        return [f"{f[:1]}{b}{n:02d}" for f, b, n in zip(firsts, lasts, nums, strict=True)]


@register
class StreetAddress(_Dictionary):
    name = "street_address"
    lossy = True

    def max_output_length(self, input_max: int | None) -> int | None:
        return 4 + 1 + max(map(len, _dicts.last_names().tolist())) + 1 + 12

    def _apply(self, values: list[Any]) -> list[object]:
        h = self._hash(values)
        lasts = pick(_dicts.last_names(), h)
        sufs = pick(_dicts.street_suffixes(), h >> np.uint64(20))
        nums = ((h >> np.uint64(40)) % np.uint64(9999) + np.uint64(1)).tolist()
        return [f"{n} {a} {s}" for n, a, s in zip(nums, lasts, sufs, strict=True)]


@register
class City(_Dictionary):
    name = "city"
    lossy = True

    def max_output_length(self, input_max: int | None) -> int | None:
        return max(map(len, _dicts.cities().tolist()))

    def _apply(self, values: list[Any]) -> list[object]:
        return pick(_dicts.cities(), self._hash(values))  # type: ignore[return-value]


@register
class Company(_Dictionary):
    name = "company"
    lossy = True

    def max_output_length(self, input_max: int | None) -> int | None:
        return 2 * max(map(len, _dicts.last_names().tolist())) + 1

    def _apply(self, values: list[Any]) -> list[object]:
        h = self._hash(values)
        a = pick(_dicts.last_names(), h)
        b = pick(_dicts.last_names(), h >> np.uint64(16))
        sufs = pick(_dicts.company_suffixes(), h >> np.uint64(32))
        style = ((h >> np.uint64(56)) % np.uint64(2)).tolist()
        return [
            f"{x} {s}" if st == 0 else f"{x}-{y}"
            for x, y, s, st in zip(a, b, sufs, style, strict=True)
        ]


@register
class Postcode(_Dictionary):
    """Same shape as the input: each digit → a keyed digit, each letter → a letter."""

    name = "postcode"
    lossy = True

    def _apply(self, values: list[Any]) -> list[object]:
        texts = as_text(self.name, values)
        h = keyed_hash(self._key, self._label(), texts)
        blobs = [t.encode("utf-8", "surrogatepass") for t in texts]
        out: list[object] = [None] * len(texts)
        for n, members, rows in length_groups(blobs):
            r = stream(h[members], max(n, 1))[:, :n]
            new = rows.copy()
            digit = (rows >= 48) & (rows <= 57)
            upper = (rows >= 65) & (rows <= 90)
            lower = (rows >= 97) & (rows <= 122)
            new[digit] = (48 + r[digit] % np.uint64(10)).astype(np.uint8)
            new[upper] = (65 + r[upper] % np.uint64(26)).astype(np.uint8)
            new[lower] = (97 + r[lower] % np.uint64(26)).astype(np.uint8)
            raw = new.tobytes()
            for j, i in enumerate(members):
                out[i] = raw[j * n : (j + 1) * n].decode("utf-8", "surrogatepass")
        return out


__all__ = [
    "City",
    "Company",
    "FirstName",
    "FullName",
    "LastName",
    "Postcode",
    "StreetAddress",
    "Username",
]
