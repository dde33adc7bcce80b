"""Ordinary words: a lone word of a schema name that is one names no one by itself.

A lone word of an object's name that is also a source value of a name column
(``tenant_maria``, ``export_ganthriv``, ``smith_orders``) is personal data
(:mod:`._schemanames`). Many given names and surnames are ordinary words too:
``grace_period`` next to a customer called Grace, ``price_list`` next to a Mr
Price. Such a word is not judged alone when it is

- one of the most common English words: Faker's ``lorem`` word list for
  ``en_US`` (971 words from an English frequency list, shipped with the Faker
  package stagewall already reads its name lists from: ``price``, ``day``,
  ``young``, ``last``, ``bill``, ``hope``, ``green``, ``white``); or
- a word of the reviewed list :data:`TECHNICAL` below: terms of schemas and
  software that are also names. Each is an ordinary noun, adjective or
  calendar word in its own right — virtues and abstract nouns (``grace``),
  months and seasons (``june``, ``summer``), colours and materials (``rose``,
  ``amber``), money and software terms (``sterling``, ``penny``, ``max``,
  ``grant``), landscape nouns (``hill``, ``park``).

Used in a standard technical sense beside its neighbour (:data:`SENSES`,
:data:`MODIFIERS`, :func:`technical`: ``grace_period``, ``max_length``,
``max_users``, ``mark_as_read``, ``will_call``) such a word is silent: customers
called Max, Mark or Grace made every such object a warning to acknowledge one by
one.

Otherwise, not judged alone is not silent: such a word that is a source value of a name
column is a finding the user must acknowledge in each object holding it (a word
of Faker's list that the schema also uses in two places aside:
``_schemanames.terms``) (:mod:`._schemanames`: a ``schema-name-word`` warning of ``mask plan``
and ``mask lint``, SW528 from ``mask run`` until the plan acknowledges it); beside
a word that names people (:data:`PEOPLE`: ``tenant_grace``) it is judged as a name
(SW520).

Deliberately **not** ordinary: surnames that are mainly surnames, whatever their
old meaning (``smith``, ``baker``, ``miller``, ``taylor``, ``cook``, ``hunter``,
``king``), and names that are no English word (``maria``, ``ganthriv``). Runs
of two name words (``grace_smith``) are judged whatever the words are.
"""

from __future__ import annotations

from functools import cache

TECHNICAL = frozenset(
    [
        "grace", "faith", "joy", "patience", "charity", "honor", "honour", "glory", "mercy",
        "liberty", "unity", "destiny", "justice", "april", "june", "august", "autumn",
        "summer", "winter", "spring", "dawn", "rose", "amber", "olive", "violet", "ruby",
        "jade", "pearl", "coral", "ivory", "hazel", "ginger", "scarlet", "crystal", "silver",
        "gold", "golden", "sky", "indigo", "cherry", "berry", "sterling", "penny", "cash",
        "rich", "art", "max", "min", "grant", "mark", "marks", "bill", "will", "sage", "lane",
        "hill", "wood", "woods", "field", "fields", "stone", "park", "brook", "marsh", "bond",
        "bonds", "price", "sharp", "moor", "rock", "forest", "river",
    ]
)  # fmt: skip


@cache
def common_english() -> frozenset[str]:
    """Faker's ``lorem`` word list for ``en_US``, lower-cased."""
    from faker.providers.lorem.en_US import Provider

    return frozenset(w.lower() for w in Provider.word_list)


# words that name people as the objects of a schema: an ordinary word that is a
# source value of a name column beside one of them (``tenant_grace``,
# ``customer_june``, ``grace_user``) reads as a person's name, and is judged as
# one (a plural, ``customers_grace``, too)
PEOPLE = frozenset(
    [
        "tenant", "customer", "client", "user", "member", "employee", "patient", "person",
        "people", "owner", "contact", "student", "guest", "subscriber", "account", "buyer",
        "seller", "driver", "agent", "manager", "partner", "donor", "applicant", "candidate",
        "passenger", "resident", "shopper", "vip", "cust", "usr", "emp",
    ]
)  # fmt: skip


def names_people(word: str) -> bool:
    """Whether the folded ``word`` (or its singular) names people (:data:`PEOPLE`)."""
    return word in PEOPLE or (word.endswith("s") and word[:-1] in PEOPLE)


# words that modify the word after them (or before: ``retries_max``) as a quantity:
# ``max_length``, ``min_value``, ``max_users`` (a count of users) read as the term
MODIFIERS = frozenset(["max", "min"])

# standard technical senses of ordinary words that are also names: the word with
# one of these right after it (first set) or right before it (second set) is the
# term, however the schema writes it (``grace_period``, ``mark_as_read``,
# ``will_call``, ``bill_to``, ``unit_price``); reviewed collocations, not guesses
# (``grace_rebate``, ``mark_notes``, ``days of grace`` are no sense: still to
# acknowledge)
SENSES: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    word: (frozenset(after.split()), frozenset(before.split()))
    for word, after, before in [
        ("grace", "period periods days day hours hour minutes mins seconds secs ms time "
         "end ends until expires expiry window interval", ""),
        ("mark", "as up down deleted read unread paid done complete completed sent seen "
         "dirty price scheme sweep", "check pass high low water book bench land trade "
         "question tick quote"),
        ("will", "call", ""),
        ("bill", "to date amount cycle period day run address number total payment status",
         "utility phone electric pay"),
        ("price", "list lists tier level band range rule change history point type plan",
         "unit list base sale retail total net gross avg sell buy cost strike ask bid offer "
         "mark max min"),
        ("grant", "type date amount access option options", "access permission role privilege"),
        ("young", "adult adults", ""),
    ]
}  # fmt: skip


# verbs whose subject is a person, rarely a thing: a source name that is an ordinary
# word opening a sentence of a literal or comment with one of them right after it
# is the person (``'Young called about the rebate.'``, ``'Grace said she would
# pay'``), as no price, day or grace calls, says or wants anything. Reviewed, not
# guessed: no verb a thing is the subject of (``'Price is in cents'``, ``'Price
# changed at noon'``, ``'Day starts at 6'``); no plural noun (``calls``, ``emails``,
# ``visits``: ``'Price emails go out weekly'``); no participle a thing takes as
# its object (``mailed``, ``agreed``, ``refused``, ``preferred``, ``mentioned``:
# ``'Bill mailed to the customer'``, ``'Price agreed at signing'``); and
# ``_schemanames.sentence_subjects`` passes over one followed by ``by``
# (``'Price asked by the seller'``)
PERSON_VERBS = frozenset(
    [
        "called", "phoned", "rang", "texted", "wrote", "said", "asked", "told",
        "complained", "wanted", "insisted", "replied", "answered", "spoke", "thought",
        "knew", "apologised", "apologized", "threatened", "visited", "says", "asks",
        "tells", "complains", "wants", "prefers", "agrees", "refuses", "insists", "thinks",
        "knows", "writes", "speaks", "apologises", "apologizes",
    ]
)  # fmt: skip


def technical(ws: list[str | None], k: int) -> bool:
    """Whether the ordinary word ``ws[k]`` of a name's folded words is used in a
    standard technical sense (:data:`SENSES`, :data:`MODIFIERS`) beside its
    neighbours: ``max_length``, ``max_users`` and ``retries_max`` yes, ``max`` alone,
    ``tenant_max`` and ``max_customer`` (a singular word naming people) no."""
    w = ws[k]
    before = ws[k - 1] if k > 0 else None
    after = ws[k + 1] if k + 1 < len(ws) else None
    if w in MODIFIERS:
        if after is not None and after not in PEOPLE:
            return True
        return before is not None and not names_people(before)
    sense = SENSES.get(w or "")
    if sense is None:
        return False
    return (after is not None and after in sense[0]) or (before is not None and before in sense[1])


def ordinary(word: str) -> bool:
    """Whether the folded ``word`` is an ordinary word (see the module docstring)."""
    return word in TECHNICAL or word in common_english()


__all__ = [
    "MODIFIERS",
    "PEOPLE",
    "PERSON_VERBS",
    "SENSES",
    "TECHNICAL",
    "common_english",
    "names_people",
    "ordinary",
    "technical",
]
