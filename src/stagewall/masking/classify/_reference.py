"""Public reference data: values nobody needs to mask (countries, world regions,
currencies, languages, genres).

The dictionaries come from data files of installed packages (pycountry's ISO 3166,
ISO 4217 and ISO 639 tables, Faker's country list) plus short lists of world regions,
genres and product categories written here. A column whose sampled values are mostly such
entries holds reference data, not personal data, and is kept (with the reason in
the plan); so are the columns of a table that is only a list of such things.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from functools import cache

# Music, film and book genres and common product categories (written for stagewall).
_GENRES = """
rock, pop, jazz, blues, metal, heavy metal, classical, latin, reggae, soul, funk, punk,
alternative, alternative & punk, indie, folk, country, hip hop, hip hop/rap, rap, r&b,
r&b/soul, electronic, electronica/dance, dance, house, techno, trance, disco, gospel,
opera, soundtrack, easy listening, world, world music, bossa nova, samba, tango, salsa,
rock and roll, grunge, ambient, new age, comedy, drama, horror, thriller, action,
adventure, animation, children, family, documentary, music, musical, romance, sci-fi,
science fiction, fantasy, mystery, crime, western, war, sports, travel, games, classics,
foreign, new, biography, history, poetry, cooking, business, self-help, tv shows,
sci fi & fantasy, beverages, condiments, confections, dairy products, grains/cereals,
meat/poultry, produce, seafood, electronics, books, clothing, toys, garden, furniture,
groceries, hardware, software, accessories, office supplies, health, beauty, pets,
audio, video, mpeg audio file, protected aac audio file, protected mpeg-4 video file,
purchased aac audio file, aac audio file
"""

# Continents and world regions (written for stagewall): the UN M49 regions and
# subregions, and the usual other names of a few. MySQL's sample "world" database
# lists continents ("North America") and regions ("Western Africa", "Southeast
# Asia") whose last word is also a first name (America, Africa, Asia). A bare
# "America" is not here: it is a person's name too.
_REGIONS = """
africa, antarctica, asia, europe, oceania, australasia, eurasia, americas, the americas,
north america, northern america, south america, central america, latin america,
latin america and the caribbean, caribbean, the caribbean, northern africa, eastern africa,
middle africa, central africa, southern africa, western africa, sub-saharan africa,
central asia, eastern asia, south-eastern asia, southeast asia, south-east asia,
southern asia, western asia, southern and central asia, middle east, eastern europe,
northern europe, southern europe, western europe, central europe, baltic countries,
baltic states, nordic countries, scandinavia, british isles, british islands,
australia and new zealand, melanesia, micronesia, polynesia
"""


def fold(text: str) -> str:
    """Case-, accent- and space-insensitive form used for dictionary look-ups."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def _fold_all(words: Iterable[str]) -> set[str]:
    return {fold(w) for w in words if w and w.strip()}


@cache
def countries() -> frozenset[str]:
    import pycountry
    from faker.providers.address.en_US import Provider

    out: set[str] = set(Provider.countries)
    for c in pycountry.countries:
        for attr in ("name", "common_name", "official_name", "alpha_2", "alpha_3"):
            value = getattr(c, attr, None)
            if value:
                out.add(value)
    out.update({"USA", "UK", "United States", "Great Britain", "England", "Scotland", "Wales"})
    return frozenset(_fold_all(out))


@cache
def regions() -> frozenset[str]:
    """Continents and world regions (UN M49 names and a few usual others)."""
    return frozenset(_fold_all(_REGIONS.replace("\n", " ").split(",")))


@cache
def currencies() -> frozenset[str]:
    import pycountry

    out: set[str] = set()
    for c in pycountry.currencies:
        out.update({c.alpha_3, c.name})
    return frozenset(_fold_all(out))


@cache
def languages() -> frozenset[str]:
    """Languages with a two-letter ISO 639-1 code (the ones people name), and the codes."""
    import pycountry

    out: set[str] = set()
    for lang in pycountry.languages:
        code = getattr(lang, "alpha_2", None)
        if code:
            out.update({lang.name, code, lang.alpha_3})
    return frozenset(_fold_all(out))


@cache
def genres() -> frozenset[str]:
    return frozenset(_fold_all(_GENRES.replace("\n", " ").split(",")))


_KINDS = (
    ("country names or codes", countries),
    ("continent or world region names", regions),
    ("currency codes or names", currencies),
    ("language names or codes", languages),
    ("genres or categories", genres),
)
_MIN_SHARE = 0.8
_LONGEST = 60


@cache
def _all() -> frozenset[str]:
    return countries() | regions() | currencies() | languages() | genres()


def reference_values() -> frozenset[str]:
    """Every reference entry, folded (see :func:`fold`)."""
    return _all()


def is_reference_value(text: str) -> bool:
    """True when the whole ``text`` is a reference entry ("Chad", "German", "Bossa Nova",
    "South America").

    Such a text is a country, world region, language, currency or genre, not a person's name,
    even where a word of it is also a first name.
    """
    return len(text) <= _LONGEST and fold(text) in _all()


def reference_kind(samples: Iterable[object]) -> tuple[str, int, int] | None:
    """``(what, hits, distinct)`` when most distinct sampled texts are reference entries."""
    distinct = {fold(s) for s in samples if isinstance(s, str) and s.strip()}
    if len(distinct) < 2:
        return None
    for what, table in _KINDS:
        words = table()
        hits = sum(1 for d in distinct if d in words)
        if hits >= _MIN_SHARE * len(distinct):
            return what, hits, len(distinct)
    return None


__all__ = [
    "countries",
    "currencies",
    "fold",
    "genres",
    "is_reference_value",
    "languages",
    "reference_kind",
    "reference_values",
    "regions",
]
