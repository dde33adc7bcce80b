"""Pseudonym dictionaries, built once from the data files shipped in the Faker package.

Nothing is drawn at random: the lists are read from Faker's provider tables,
de-duplicated and sorted, so the same Faker version always gives the same
dictionaries in every process (a test checks this across processes). Lookups
index them with keyed hashes, so a pseudonym depends only on key and input.
"""

from __future__ import annotations

import hashlib
import importlib
import re
from collections.abc import Iterable
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

ObjArray = npt.NDArray[np.object_]

_PSEUDONYM_LOCALE = "en_US"
_DETECTION_LOCALES = (
    "en_US",
    "en_GB",
    "de_DE",
    "fr_FR",
    "nl_NL",
    "es_ES",
    "es_MX",
    "it_IT",
    "pt_BR",
    "pt_PT",
    "pl_PL",
)
_WORD = re.compile(r"^[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?$")
_ANY_WORD = re.compile(r"^[^\W\d_][^\W\d_'-]+(?:[-'][^\W\d_]+)?$")


def _provider(kind: str, locale: str) -> Any:
    module = importlib.import_module(f"faker.providers.{kind}.{locale}")
    return module.Provider


def _clean(words: Iterable[str]) -> list[str]:
    return sorted({w.strip() for w in words if _WORD.match(w.strip())})


def _names(attr: str, locales: Iterable[str]) -> list[str]:
    out: set[str] = set()
    for loc in locales:
        p = _provider("person", loc)
        for a in (attr, f"{attr}_male", f"{attr}_female"):
            out.update(getattr(p, a, ()) or ())
    return _clean(out)


def _array(words: list[str]) -> ObjArray:
    arr = np.empty(len(words), dtype=object)
    arr[:] = words
    return arr


@cache
def first_names() -> ObjArray:
    return _array(_names("first_names", [_PSEUDONYM_LOCALE]))


@cache
def last_names() -> ObjArray:
    return _array(_names("last_names", [_PSEUDONYM_LOCALE]))


@cache
def street_suffixes() -> ObjArray:
    return _array(_clean(_provider("address", _PSEUDONYM_LOCALE).street_suffixes))


@cache
def cities() -> ObjArray:
    a = _provider("address", _PSEUDONYM_LOCALE)
    lasts = last_names().tolist()
    made = [f"{n}{s}" for n in lasts[:300] for s in a.city_suffixes]
    made += [f"{p} {n}" for p in a.city_prefixes for n in lasts[:100]]
    return _array(sorted(set(made)))


@cache
def regions() -> ObjArray:
    return _array(sorted(set(_provider("address", _PSEUDONYM_LOCALE).states)))


@cache
def region_codes() -> ObjArray:
    return _array(sorted(set(_provider("address", _PSEUDONYM_LOCALE).states_abbr)))


@cache
def countries() -> ObjArray:
    return _array(sorted(set(_provider("address", _PSEUDONYM_LOCALE).countries)))


@cache
def country_codes(width: int) -> ObjArray:
    p = importlib.import_module("faker.providers.address").Provider
    codes = p.alpha_2_country_codes if width == 2 else p.alpha_3_country_codes
    return _array(sorted(set(codes)))


@cache
def company_suffixes() -> ObjArray:
    return _array(sorted(set(_provider("company", _PSEUDONYM_LOCALE).company_suffixes)))


def _folded_names(attr: str) -> frozenset[str]:
    """Names of every detection locale, accents kept in the lists but folded here
    (``Yésica`` → ``yesica``), so a lookup is by :func:`_known.fold` of the word."""
    from stagewall.masking.transformers._known import fold

    out: set[str] = set()
    for loc in _DETECTION_LOCALES:
        p = _provider("person", loc)
        for a in (attr, f"{attr}_male", f"{attr}_female"):
            out.update(w.strip() for w in getattr(p, a, ()) or () if _ANY_WORD.match(w.strip()))
    return frozenset(fold(w) for w in out)


@cache
def detection_first_names() -> frozenset[str]:
    """Folded first names of the detection locales (see :func:`_folded_names`)."""
    return _folded_names("first_names")


@cache
def detection_last_names() -> frozenset[str]:
    """Folded last names of the detection locales (see :func:`_folded_names`)."""
    return _folded_names("last_names")


def fingerprint() -> str:
    """A digest of all pseudonym dictionaries (tests compare it across processes)."""
    h = hashlib.sha256()
    for arr in (first_names(), last_names(), street_suffixes(), cities(), company_suffixes()):
        h.update("\x1f".join(arr.tolist()).encode())
        h.update(b"\x1e")
    return h.hexdigest()


__all__ = [
    "cities",
    "company_suffixes",
    "countries",
    "country_codes",
    "detection_first_names",
    "detection_last_names",
    "fingerprint",
    "first_names",
    "last_names",
    "region_codes",
    "regions",
    "street_suffixes",
]
