"""A street's *rare* name words (its core), learnt like rare names (:mod:`._namewords`).

A row's own street is searched in its text with its number or next to a street word
(``_known._core_forms``): the core alone is not, since a common core would make noise
(``el alcalde mayor`` for ``Calle Mayor 7``, ``prices are high`` for ``12 High
Street``). But a core no word list knows (``Ganthriv`` of ``Ganthrivweg 14`` or ``14
Ganthriv Lane``) names one place as a rare surname names one person: ``lives on the
Ganthrivweg``, ``the Ganthriv one``, ``Ganthriv Court``, in any row's text.

So the words of the source's street columns (planned :data:`STREET_TRANSFORMERS`)
that are no number, flat, street word or small word, with a German or Dutch street
ending glued on cut off (:func:`core_words`), are rare when they have
:data:`MIN_LETTERS` letters or more and are in none of the word lists the product
ships (:func:`common`: the rare-name rule's lists, plus Faker's common words of every
language it has a word list for, its address lists, and a reviewed list of place
words, :data:`PLACE_WORDS`), nor public in the source. They are searched as a word
and as the stem of a word ending in a glued street ending (:func:`compound_stem`:
``ganthrivweg``, ``ganthrivstr``, ``ganthrivstraße``), kind :data:`STREET`.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Mapping, Sequence
from functools import cache

STREET = "street"
MIN_LETTERS = 4
# the planned transformers whose values are streets
STREET_TRANSFORMERS = frozenset({"street_address"})
# German and Dutch street endings written onto the name (folded: ß kept, or ss)
ENDINGS: tuple[str, ...] = tuple(
    sorted(
        {"straße", "strasse", "str", "weg", "gasse", "platz", "allee", "ring", "damm"}
        | {"ufer", "straat", "laan", "gracht", "plein", "kade", "steeg", "dijk", "singel"},
        key=len,
        reverse=True,
    )
)
# Words of street names so common across towns that they name no one place (German
# and Dutch stems before an ending, a few English and Romance ones no shipped list
# holds): reviewed, like ``_ordinary.TECHNICAL``
PLACE_WORDS = frozenset(
    [
        "haupt", "bahnhof", "kirch", "kirchen", "schul", "schule", "markt", "dorf", "berg",
        "garten", "wald", "feld", "linden", "birken", "eichen", "buchen", "tannen",
        "rosen", "blumen", "wiesen", "mühlen", "muhlen", "muehlen", "mühl", "muhl", "brunnen",
        "schloss", "burg", "kerk", "molen", "dorps", "stations", "school", "nieuwe", "oude",
        "lange", "korte", "goethe", "schiller", "mozart", "beethoven", "friedrich", "kaiser",
        "konig", "koenig", "könig", "industrie", "gewerbe", "sonnen", "maple", "cedar",
        "pine", "willow", "chestnut", "birch", "cherry", "station", "mill", "bridge",
        "market", "chapel", "manor", "meadow", "orchard", "highfield", "riverside",
    ]
)  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+|\d\w*")


def street_columns(planned: Mapping[str, str]) -> dict[str, str]:
    """The columns of a table (column → planned transformer) that hold streets."""
    return {c: t for c, t in planned.items() if t in STREET_TRANSFORMERS}


def core_words(folded: Sequence[str]) -> set[str]:
    """The core words of the streets ``folded`` (:func:`._namewords.fold_text`'d): each
    street's words but those with a digit (its number, a flat: ``2ob``), a flat's
    words (``flat``, ``apt``, ``piso``), street words and small words, a glued ending cut off
    (``ganthriv`` of ``ganthrivweg 14``, ``haupt`` of ``hauptstraße 5``); 4 letters or
    more."""
    from stagewall.masking.transformers._known import _NOT_CORE, _STREET_PARTICLES

    out: set[str] = set()
    # (each word is judged alone: the batch's distinct words, read in one pass)
    for w in set(_WORD.findall("\x00".join(folded))):
        if not w.isalpha() or w in _NOT_CORE or w in _STREET_PARTICLES or w in _FLAT:
            continue
        if w.endswith(ENDINGS):
            end = next(e for e in ENDINGS if w.endswith(e))
            if len(w) - len(end) >= MIN_LETTERS:
                w = w[: -len(end)]
        if len(w) >= MIN_LETTERS:
            out.add(w)
    return out


_FLAT = frozenset({"flat", "apt", "apartment", "unit", "suite", "piso", "planta", "puerta"})


def compound_stem(word: str, words: Mapping[str, str]) -> str | None:
    """The stem of ``word`` when it is a rare word of ``words`` with a street ending
    glued on (``ganthrivweg``: ``ganthriv``), else None: a street's rare core, or a
    rare name a street is named after (a word that is both is kept as the name)."""
    if not word.endswith(ENDINGS):
        return None
    for end in ENDINGS:
        if word.endswith(end):
            stem = word[: -len(end)]
            if words.get(stem):  # (not a plural kept as no hit: NONE)
                return stem
    return None


@cache
def common() -> frozenset[str]:
    """Words that name no one place: the rare-name rule's (:func:`._namewords._common`),
    Faker's common words of every language it ships a word list for (``mayor``,
    ``nueva`` in Spanish, ``paix`` in French), the words of its address lists for the
    detection locales (cities, regions, street names and prefixes), and
    :data:`PLACE_WORDS`. Folded as text is."""
    import faker.providers.lorem as lorem

    from stagewall.masking._namewords import _common, fold_text

    texts: list[str] = []
    for m in pkgutil.iter_modules(lorem.__path__):
        provider = importlib.import_module(f"{lorem.__name__}.{m.name}").Provider
        texts += map(str, getattr(provider, "word_list", ()))
    from stagewall.masking.transformers._dicts import _DETECTION_LOCALES, _provider

    for loc in _DETECTION_LOCALES:
        provider = _provider("address", loc)
        for attr in dir(provider):
            v = getattr(provider, attr, None)
            if not attr.startswith("_") and isinstance(v, (list, tuple)):
                texts += [x for x in v if isinstance(x, str) and "{" not in x]
    found = set(re.findall(r"[^\W\d_]+", fold_text("\x00".join(texts))))
    return frozenset(found | PLACE_WORDS | {fold_text(w) for w in PLACE_WORDS} | _common())


def is_common(word: str) -> bool:
    """``word`` names no one place (:func:`common`), nor does a place's adjective
    (``berliner``, ``hamburger``: ``berlin`` is a city)."""
    words = common()
    return word in words or (word.endswith("er") and word[:-2] in words)


__all__ = [
    "ENDINGS",
    "MIN_LETTERS",
    "PLACE_WORDS",
    "STREET",
    "STREET_TRANSFORMERS",
    "common",
    "compound_stem",
    "core_words",
    "is_common",
    "street_columns",
]
