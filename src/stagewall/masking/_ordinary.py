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


def ordinary(word: str) -> bool:
    """Whether the folded ``word`` is an ordinary word (see the module docstring)."""
    return word in TECHNICAL or word in common_english()


__all__ = ["TECHNICAL", "common_english", "ordinary"]
