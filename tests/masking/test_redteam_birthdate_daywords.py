"""A customer's own date of birth with the day in words in German, Dutch, French,
Spanish, Portuguese or Italian (``geboren am neunten März 1975``, ``nata il nove
marzo 1975``, ``nascido em vinte e um de março de 1957``), in a note and in a ticket
about the customer (the first three tests failed before the fix).

English days in words were read (``the sixth of September 1948``); the other
languages' were not, so such a date was copied as it was and verify passed, while
the independent checker (its own tables, tests/masking/survivors.py) found it. Now
text_scrub and json_mask replace it by the keyed pseudonym date, the day in words of
the same language and form (``neunten``: ``siebten``; ``dix-sept``: ``trente``), and
verify's row search reports a kept one as kind ``date``. Only the row's own date: the
same words with another year, without a year, ``vinte e um`` (21) for a customer born
on the first stay as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from tests.masking import test_redteam_birthdates as birthdates
from tests.masking.survivors import date_needles, holds

# (label, date of birth, the text before the date, the date as written)
WRITINGS: list[tuple[str, dt.date, str, str]] = [
    ("de ordinal", dt.date(1975, 3, 9), "geboren am ", "neunten März 1975"),
    ("de ordinal -er", dt.date(1962, 5, 21), "Geburtstag: ", "einundzwanzigster Mai 1962"),
    ("de thirtieth", dt.date(1950, 6, 30), "geb. am ", "Dreißigsten Juni 1950"),
    ("nl cardinal", dt.date(1971, 3, 9), "geboren op ", "negen maart 1971"),
    ("nl ordinal", dt.date(1968, 7, 22), "geboren op ", "tweeëntwintigste juli 1968"),
    ("fr", dt.date(1959, 3, 17), "née le ", "dix-sept mars 1959"),
    ("fr twenty-one", dt.date(1944, 8, 21), "né le ", "vingt et un août 1944"),
    ("fr premier", dt.date(1983, 2, 1), "né le ", "premier février 1983"),
    ("es", dt.date(1976, 3, 9), "nacida el ", "nueve de marzo de 1976"),
    ("es thirty-one", dt.date(1947, 10, 31), "nació el ", "treinta y uno de octubre de 1947"),
    ("es one word", dt.date(1966, 4, 22), "nació el ", "veintidós de abril de 1966"),
    ("pt", dt.date(1957, 3, 21), "nascido em ", "vinte e um de março de 1957"),
    ("pt quatorze", dt.date(1979, 7, 14), "nascida a ", "quatorze de julho de 1979"),
    ("it", dt.date(1973, 3, 9), "nata il ", "nove marzo 1973"),
    ("it accent", dt.date(1961, 9, 23), "nato il ", "ventitré settembre 1961"),
    ("it primo", dt.date(1952, 12, 1), "nato il ", "primo dicembre 1952"),
]
N = len(WRITINGS)
# the customers, one per writing: none named Jan (customer 9, 19: see the writings test)
IDS = [i for i in range(1, 2 * N) if i % 10 != 9][:N]
WRITING = {i: k for k, i in enumerate(IDS)}
BORN = {i: WRITINGS[k][1] for k, i in enumerate(IDS)}


def _note(i: int) -> str:
    _, _, before, date = WRITINGS[WRITING[i]]
    return f"{before}{date}, called about the invoice"


def _ticket(i: int) -> str:
    return f"Customer called. {_note(i)}"


def _source(url: str, notes: Callable[[int], str], tickets: Callable[[int], str]) -> None:
    birthdates._source(url, notes, tickets, BORN)


def _guard_note(i: int) -> str:
    """The same words with the next year, the day and month without a year; for a
    customer born on the first, the same words for the 21st (vinte e um, vingt et un)."""
    _, d, before, date = WRITINGS[WRITING[i]]
    year = str(d.year)
    out = f"{before}{date.replace(year, str(d.year + 1))}; call on {date.replace(year, '')}"
    if d.day == 1:
        out += f"; vinte e um de março de {d.year}, vingt et un mars {d.year}"
    return out


make = birthdates.make  # (the database maker of each backend)


def _same_writing(old: str, new: str) -> bool:
    """``new`` writes another date after the same words, read as a date (the day in
    words a day in words), and the same text after it."""
    from stagewall.masking.transformers._birthdates import read_written

    for _, _, before, date in WRITINGS:
        at = old.find(before + date)
        if at >= 0:
            end = old[at + len(before + date) :]
            if not new.startswith(old[: at + len(before)]) or not new.endswith(end):
                return False
            span = new[at + len(before) : len(new) - len(end)]
            got = read_written(span)
            return got is not None and span != date and not span[:1].isdigit()
    return False


def test_the_checker_knows_every_writing() -> None:
    """The checker finds each writing of its own customer's date and no other
    customer's, and none of the guard note's."""
    for i, j in zip(IDS, IDS[1:] + IDS[:1], strict=True):
        assert holds(_note(i), date_needles(BORN[i])), _note(i)
        assert not holds(_note(i), date_needles(BORN[j])), _note(i)
        assert not holds(_guard_note(i), date_needles(BORN[i])), _guard_note(i)


def test_the_unedited_plan_replaces_every_writing(make: Callable[[], str]) -> None:
    """Each customer's note and ticket write their birth date, the day in words: the
    unedited auto plan replaces every one by another date written the same way, the
    checker finds nothing and verify passes. Before: all 32 cells kept it (the
    checker's count), verify passed."""
    src, tgt = make(), make()
    _source(src, _note, _ticket)
    texts = {i: (_note(i), _ticket(i)) for i in IDS}
    birthdates.replaced_the_same_way(src, tgt, texts, _same_writing)


def test_verify_reports_every_writing_kept(make: Callable[[], str]) -> None:
    """A plan that keeps the notes and the tickets: verify fails with the checker's
    counts (16 and 16), as dates. Before: verify passed."""
    src, tgt = make(), make()
    _source(src, _note, _ticket)
    birthdates.kept_reported(src, tgt, N)


def test_other_dates_are_kept(make: Callable[[], str]) -> None:
    """The same words with another year or none, the 21st in words for a customer
    born on the first: copied unchanged, verify passes."""
    src, tgt = make(), make()
    _source(src, _guard_note, _guard_note)
    birthdates.copied_unchanged(src, tgt, _guard_note, IDS)


@pytest.mark.parametrize("k", range(N), ids=[w[0] for w in WRITINGS])
def test_text_scrub_replaces_the_writing(k: int) -> None:
    """text_scrub alone, one writing at a time: the date is gone (the checker's
    word), written the same way, and the same under the same key."""
    i = IDS[k]
    out = birthdates.scrubbed(_note(i), BORN[i])
    assert _same_writing(_note(i), out), (_note(i), out)


def test_days_in_words_are_rewritten_in_their_language_and_form() -> None:
    """The day in words of the pseudonym is in the span's language and form: a German
    ordinal with its ending, a Dutch ordinal or cardinal, French, Spanish, Portuguese
    (``e`` between), Italian; without accents where the span had none (as a month
    word: ``negende``, no accent, gives ``tweeentwintigste``)."""
    new = dt.date(1950, 4, 22)
    birthdates.rewrites(
        {
            "neunten März 1975": "zweiundzwanzigsten April 1950",
            "Neunte Maerz 1975": "Zweiundzwanzigste April 1950",
            "negende maart 1975": "tweeentwintigste april 1950",
            "Dertigste maart 1975": "Tweeentwintigste april 1950",
            "dix-sept mars 1975": "vingt-deux avril 1950",
            "nueve de marzo de 1975": "veintidos de abril de 1950",
            "Dieciséis de marzo de 1975": "Veintidós de abril de 1950",
            "nove de março de 1975": "vinte e dois de abril de 1950",
            "nove marzo 1975": "ventidue aprile 1950",
            "NOVE MARZO 1975": "VENTIDUE APRILE 1950",
            "vingt et un mars 1975": "vingt-deux avril 1950",
            "treinta y uno de marzo de 1975": "veintidos de abril de 1950",
        },
        new,
    )
    birthdates.rewrites(
        {"neunten März 1975": "ersten April 1950", "nove marzo 1975": "primo aprile 1950"},
        dt.date(1950, 4, 1),
    )


def test_json_mask_replaces_a_day_in_words() -> None:
    """json_mask replaces the row's date of birth with the day in Italian words in a
    leaf's text and keeps the same words with another year."""
    doc = '{"a": "nata il nove marzo 1975", "b": "nove marzo 1976"}'
    out = birthdates.json_masked(doc, "1975-03-09")
    assert not holds(out, date_needles("1975-03-09")), out
    assert '"b": "nove marzo 1976"' in out and '"a": "nata il ' in out, out
