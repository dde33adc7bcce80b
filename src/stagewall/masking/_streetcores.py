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

A city column's (planned :data:`CITY_TRANSFORMERS`) words are judged the same way
(:func:`city_words`): each word of 4 letters or more that no list knows is learnt
alone, kind :data:`CITY` (``quarrington`` of ``Quarrington`` and of ``Quarrington
Magna``: ``the Quarrington branch`` names the town without its second word; ``magna``
is a place word, :data:`PLACE_WORDS`, and never learnt). A city the world knows names
no one: Faker's address lists hold few real cities, so :data:`KNOWN_CITIES`, a
reviewed list of the large and well-known ones, is a common word list too.
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Mapping, Sequence
from functools import cache

STREET = "street"
CITY = "city"
MIN_LETTERS = 4
# the planned transformers whose values are streets
STREET_TRANSFORMERS = frozenset({"street_address"})
# the planned transformers whose values are cities
CITY_TRANSFORMERS = frozenset({"city"})
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
        # and the qualifiers of towns' names (Quarrington Magna, Lyme Regis)
        "magna", "parva", "regis", "cum", "super", "upon", "saint", "sainte",
    ]
)  # fmt: skip
# Cities (folded words) so well known that they name no one, which no shipped list
# holds (Faker's address lists are made-up towns and a few states): the world's large
# cities and the main markets' regional ones, reviewed; a word of their names is
# common (``kuala``, ``lumpur``), so also for a street named after one
KNOWN_CITIES = frozenset(
    [
        "tokyo", "beijing", "shanghai", "mumbai", "delhi", "karachi", "istanbul", "moscow",
        "seoul", "jakarta", "manila",
        "bogota", "aires", "toronto", "montreal", "vancouver", "calgary", "ottawa",
        "edmonton", "winnipeg", "quebec",
        "chicago", "phoenix", "philadelphia", "dallas", "boston", "seattle", "denver",
        "atlanta", "miami", "detroit",
        "angeles", "francisco", "diego", "antonio", "houston", "austin", "jose",
        "jacksonville", "columbus",
        "indianapolis", "charlotte", "nashville", "memphis", "louisville", "baltimore",
        "milwaukee",
        "albuquerque", "tucson", "fresno", "sacramento", "kansas", "omaha", "raleigh",
        "cleveland", "tampa",
        "pittsburgh", "cincinnati", "orlando", "minneapolis", "portland", "vegas",
        "honolulu", "anchorage",
        "orleans", "brooklyn", "manhattan", "queens", "bronx", "halifax",
        "birmingham", "liverpool", "leeds", "bristol", "cardiff", "belfast", "dublin",
        "cork", "sheffield",
        "newcastle", "nottingham", "leicester", "southampton", "portsmouth", "brighton",
        "plymouth", "oxford",
        "cambridge", "coventry", "bradford", "wolverhampton", "derby", "swansea",
        "aberdeen", "dundee",
        "inverness", "norwich", "exeter", "gloucester", "canterbury", "salisbury",
        "winchester", "durham",
        "sunderland", "middlesbrough", "huddersfield", "blackpool", "bournemouth",
        "peterborough",
        "luton", "stoke", "hull", "galway", "limerick", "waterford",
        "brussels", "antwerp", "ghent", "bruges", "liege", "charleroi", "namur", "vienna",
        "graz", "linz", "salzburg",
        "innsbruck", "geneva", "basel", "lausanne", "zurich", "lucerne", "lugano", "munich",
        "frankfurt", "cologne",
        "koln", "stuttgart", "dusseldorf", "dortmund", "essen", "leipzig", "dresden",
        "nuremberg", "nurnberg",
        "hannover", "bremen", "duisburg", "bochum", "wuppertal", "bielefeld", "bonn",
        "mannheim", "karlsruhe",
        "wiesbaden", "augsburg", "aachen", "kiel", "lubeck", "rostock", "erfurt", "mainz",
        "freiburg",
        "rome", "naples", "turin", "venice", "genoa", "bologna", "palermo", "bari",
        "catania", "verona", "milan",
        "milano", "roma", "napoli", "torino", "venezia", "firenze", "florence", "trieste",
        "padua", "padova",
        "seville", "sevilla", "malaga", "zaragoza", "bilbao", "alicante", "cordoba",
        "granada", "valladolid",
        "vigo", "gijon", "murcia", "palma", "valencia", "barcelona", "madrid", "pamplona",
        "santander", "salamanca",
        "toledo", "cadiz", "oviedo", "coruna", "donostia", "tarragona", "girona",
        "lisbon", "lisboa", "porto", "coimbra", "braga", "faro", "funchal",
        "lyon", "marseille", "toulouse", "bordeaux", "nantes", "strasbourg", "montpellier",
        "rennes", "lille",
        "grenoble", "dijon", "angers", "reims", "toulon", "brest", "limoges", "amiens",
        "perpignan", "metz",
        "besancon", "orleans", "rouen", "caen", "nancy", "avignon", "cannes",
        "amsterdam", "rotterdam", "hague", "utrecht", "eindhoven", "groningen", "tilburg",
        "almere", "breda",
        "nijmegen", "arnhem", "haarlem", "maastricht", "leiden", "delft",
        "warsaw", "krakow", "lodz", "wroclaw", "poznan", "gdansk", "szczecin", "lublin",
        "katowice", "prague", "brno",
        "ostrava", "budapest", "debrecen", "bratislava", "ljubljana", "zagreb", "belgrade",
        "sarajevo", "skopje",
        "sofia", "bucharest", "chisinau", "kyiv", "kiev", "kharkiv", "odesa", "odessa",
        "lviv", "minsk", "vilnius",
        "riga", "tallinn", "athens", "thessaloniki", "nicosia", "valletta", "tirana",
        "stockholm", "gothenburg", "goteborg", "malmo", "uppsala", "oslo", "bergen",
        "trondheim", "stavanger",
        "copenhagen", "aarhus", "odense", "aalborg", "helsinki", "espoo", "tampere",
        "turku", "reykjavik",
        "melbourne", "brisbane", "adelaide", "canberra", "hobart", "darwin", "auckland",
        "wellington",
        "christchurch",
        "johannesburg", "pretoria", "durban", "nairobi", "lagos", "abuja", "accra", "dakar",
        "addis", "ababa",
        "casablanca", "rabat", "marrakesh", "tunis", "algiers", "khartoum", "kinshasa",
        "luanda",
        "dubai", "abu", "dhabi", "riyadh", "jeddah", "mecca", "medina", "doha", "kuwait",
        "muscat", "manama", "amman",
        "beirut", "damascus", "baghdad", "tehran", "jerusalem", "aviv", "ankara", "izmir",
        "bangkok", "hanoi", "saigon", "kuala", "lumpur", "osaka", "kyoto", "yokohama",
        "nagoya", "sapporo", "kobe",
        "fukuoka", "hiroshima", "taipei", "kaohsiung", "dhaka", "lahore", "islamabad",
        "chennai", "kolkata",
        "calcutta", "bangalore", "bengaluru", "hyderabad", "pune", "ahmedabad", "jaipur",
        "colombo",
        "kathmandu", "yangon", "phnom", "penh", "shenzhen", "guangzhou", "chengdu", "wuhan",
        "tianjin",
        "chongqing", "nanjing", "hangzhou", "xian", "busan", "incheon", "ulaanbaatar",
        "almaty", "tashkent",
        "tbilisi", "yerevan", "baku", "novosibirsk", "yekaterinburg", "kazan",
        "janeiro", "paulo", "brasilia", "salvador", "fortaleza", "recife", "curitiba",
        "manaus", "caracas", "quito",
        "havana", "guayaquil", "medellin", "cali", "cartagena", "montevideo", "asuncion",
        "guadalajara",
        "monterrey", "tijuana", "puebla", "cancun", "guatemala", "panama",
    ]
)  # fmt: skip
_WORD = re.compile(r"[^\W\d_]+|\d\w*")


def street_columns(planned: Mapping[str, str]) -> dict[str, str]:
    """The columns of a table (column → planned transformer) that hold streets."""
    return {c: t for c, t in planned.items() if t in STREET_TRANSFORMERS}


def city_columns(planned: Mapping[str, str]) -> dict[str, str]:
    """The columns of a table (column → planned transformer) that hold cities."""
    return {c: t for c, t in planned.items() if t in CITY_TRANSFORMERS}


def city_words(folded: str) -> set[str]:
    """The words of the cities ``folded`` (:func:`._namewords.fold_text`'d, joined by
    NUL) that may name one: all letters, :data:`MIN_LETTERS` letters or more
    (``quarrington`` and ``magna`` of ``Quarrington Magna``; :func:`is_common` then
    keeps ``quarrington`` only)."""
    return {w for w in _WORD.findall(folded) if w.isalpha() and len(w) >= MIN_LETTERS}


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
    :data:`PLACE_WORDS` and :data:`KNOWN_CITIES`. Folded as text is."""
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
    places = PLACE_WORDS | KNOWN_CITIES
    return frozenset(found | places | {fold_text(w) for w in places} | _common())


def is_common(word: str) -> bool:
    """``word`` names no one place (:func:`common`), nor does a place's adjective
    (``berliner``, ``hamburger``: ``berlin`` is a city)."""
    words = common()
    return word in words or (word.endswith("er") and word[:-2] in words)


__all__ = [
    "CITY",
    "CITY_TRANSFORMERS",
    "ENDINGS",
    "KNOWN_CITIES",
    "MIN_LETTERS",
    "PLACE_WORDS",
    "STREET",
    "STREET_TRANSFORMERS",
    "city_columns",
    "city_words",
    "common",
    "compound_stem",
    "core_words",
    "is_common",
    "street_columns",
]
