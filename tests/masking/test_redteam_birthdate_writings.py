"""A customer's own date of birth in the writings the first DOB round did not search
(ordinal days, two-digit years, another language's month), in a note and in a ticket
about the customer (the first three tests failed before the fix).

``6th September 1948``, ``06/09/48``, ``6 de septiembre de 1948``, ``6. März 1948``
were copied as they were and verify passed, while the independent checker
(tests/masking/survivors.py, its own month tables) found each one. Now text_scrub
and json_mask replace each by the keyed pseudonym date written the same way (an
ordinal stays an ordinal, a two-digit year two digits, the month in the same
language and form) and verify's row search reports a kept one as kind ``date``.
Only the row's own date of birth: another date written ``dd/mm/yy``, a year alone,
a day and month without a year, ``the 48 items`` stay as they are.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.masking import test_redteam_birthdates as birthdates
from tests.masking.integration.helpers import BACKENDS, url_maker
from tests.masking.survivors import date_needles, holds

# month names and abbreviations as people write them, accents included (the test's own)
FULL = {
    "en": "January February March April May June July August September October November December",
    "de": "Januar Februar März April Mai Juni Juli August September Oktober November Dezember",
    "nl": "januari februari maart april mei juni juli augustus september oktober november december",
    "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre "
    "diciembre",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro "
    "dezembro",
    "it": "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre "
    "dicembre",
}
SHORT = {
    "en": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
    "de": "Jan Feb Mär Apr Mai Jun Jul Aug Sep Okt Nov Dez",
    "nl": "jan feb mrt apr mei jun jul aug sep okt nov dec",
    "fr": "janv févr mars avr mai juin juil août sept oct nov déc",
    "es": "ene feb mar abr may jun jul ago sep oct nov dic",
    "pt": "jan fev mar abr mai jun jul ago set out nov dez",
    "it": "gen feb mar apr mag giu lug ago set ott nov dic",
}


def full(lang: str, d: dt.date) -> str:
    return FULL[lang].split()[d.month - 1]


def short(lang: str, d: dt.date) -> str:
    return SHORT[lang].split()[d.month - 1]


def ordinal(day: int) -> str:
    suffix = "th" if day % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


_UNITS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"]
_TEENS = "tenth eleventh twelfth thirteenth fourteenth fifteenth sixteenth seventeenth "
_TEENS += "eighteenth nineteenth"
DAY_WORDS = [*_UNITS, *_TEENS.split(), "twentieth", *(f"twenty-{u}" for u in _UNITS)]
DAY_WORDS += ["thirtieth", "thirty-first"]


def words(day: int) -> str:
    return DAY_WORDS[day - 1]


def yy(d: dt.date) -> str:
    return f"{d.year % 100:02d}"


# (label, month of the customer's birth or None, the note writing the date)
WRITINGS: list[tuple[str, int | None, Callable[[dt.date], str]]] = [
    # ordinal days
    ("ordinal day first", None, lambda d: f"Born {ordinal(d.day)} {full('en', d)} {d.year}"),
    ("ordinal month first", None, lambda d: f"dob: {full('en', d)} {ordinal(d.day)}, {d.year}"),
    ("the ordinal of", None, lambda d: f"born on the {ordinal(d.day)} of {full('en', d)} {d.year}"),
    ("ordinal of Sept", 9, lambda d: f"b. {ordinal(d.day)} of Sept {d.year}"),
    ("Sept. ordinal", 9, lambda d: f"Sept. {ordinal(d.day)} {d.year} is the birthday"),
    # two-digit years
    ("dd/mm/yy", None, lambda d: f"DOB {d:%d/%m}/{yy(d)}, called about the invoice"),
    ("d.m.yy", None, lambda d: f"b. {d.day}.{d.month}.{yy(d)}"),
    ("mm/dd/yy", None, lambda d: f"dob {d:%m/%d}/{yy(d)} (US form)"),
    ("d Mon yy", None, lambda d: f"born {d.day} {short('en', d)} {yy(d)}"),
    ("Mon. d, 'yy", None, lambda d: f"Birthday {short('en', d)}. {d.day}, '{yy(d)}"),
    ("ordinal Mon 'yy", None, lambda d: f"born {ordinal(d.day)} {short('en', d)} '{yy(d)}"),
    # other languages' month names and their abbreviations
    ("es", 9, lambda d: f"nació el {d.day} de {full('es', d)} de {d.year}"),
    ("es short", 12, lambda d: f"fecha de nacimiento: {d.day}-{short('es', d)}-{d.year}"),
    ("de", 3, lambda d: f"geboren am {d.day}. {full('de', d)} {d.year}"),
    ("de short", 10, lambda d: f"geb. {d.day}. {short('de', d)}. {d.year}"),
    ("fr", 8, lambda d: f"né le {d.day} {full('fr', d)} {d.year}, client fidèle"),
    ("fr short", 2, lambda d: f"née le {d.day} {short('fr', d)}. {d.year}"),
    ("pt", 3, lambda d: f"nascido em {d.day} de {full('pt', d)} de {d.year}"),
    ("pt short", 9, lambda d: f"nasc. {d.day}/{short('pt', d)}/{d.year}"),
    ("it", 9, lambda d: f"nato il {d.day} {full('it', d)} {d.year}"),
    ("it short", 10, lambda d: f"nata il {d.day} {short('it', d)} {d.year}"),
    ("nl", 5, lambda d: f"geboren op {d.day} {full('nl', d)} {d.year}"),
    ("nl short", 3, lambda d: f"geb. {d.day} {short('nl', d)}. {d.year}"),
    ("de two-digit year", 12, lambda d: f"geb. {d.day}. {full('de', d)} {yy(d)}"),
    ("es two-digit year", 1, lambda d: f"{d.day} de {full('es', d)} de {yy(d)}"),
    # a two-digit year first (failed before: not searched)
    ("yy-mm-dd", None, lambda d: f"DOB {yy(d)}-{d:%m-%d} per the form"),
    ("yy/mm/dd", None, lambda d: f"born {yy(d)}/{d:%m/%d}"),
    ("yy.m.d", None, lambda d: f"geb. {yy(d)}.{d.month}.{d.day}, bitte prüfen"),
    # 1.º with its dot, the first of a month (Spanish, Portuguese)
    ("es 1.º", 9, lambda d: f"nació el 1.º de {full('es', d)} de {d.year}"),
    ("pt 1.º", 3, lambda d: f"nascido em 1.º de {full('pt', d)} de {d.year}"),
    # an English day in words
    ("day in words of", None, lambda d: f"born the {words(d.day)} of {full('en', d)}, {d.year}"),
    ("month day in words", None, lambda d: f"DOB {full('en', d)} {words(d.day)}, {d.year}"),
    ("day in words", None, lambda d: f"b. {words(d.day).title()} {full('en', d)} {d.year}"),
]
# the customer's day where a writing needs its own: the first of a month (1.º), a
# day in words of two words (twenty-sixth)
DAY = {"es 1.º": 1, "pt 1.º": 1, "day in words of": 26, "month day in words": 21}
DAY["day in words"] = 22
N = len(WRITINGS)
# the customers, one per writing: none named Jan (customer 9, 19...: a given name that
# is a month's abbreviation is starred out where a pseudonym date writes it, by the
# residue pass)
IDS = [i for i in range(1, 2 * N) if i % 10 != 9][:N]
WRITING = {i: k for k, i in enumerate(IDS)}
# each customer's date of birth: day 13 or later (day first and month first differ),
# a year of its own (so a two-digit year is the customer's), the month the writing names
BORN = {
    i: dt.date(1930 + k, WRITINGS[k][1] or 1 + k % 12, DAY.get(WRITINGS[k][0], 13 + k % 15))
    for k, i in enumerate(IDS)
}


def _note(i: int) -> str:
    return WRITINGS[WRITING[i]][2](BORN[i])


def _source(url: str, notes: Callable[[int], str], tickets: Callable[[int], str]) -> None:
    birthdates._source(url, notes, tickets, BORN)


def _guard_note(i: int) -> str:
    """Dates and numbers that are not the customer's date of birth: another date in
    every writing (its day and month with another year, another day of its month and
    two-digit year), its year alone, its day and month without a year, its two-digit
    year as a count, a day and month written as numbers."""
    d = BORN[i]
    other = d.replace(day=d.day + 1)
    return (
        f"build {yy(d)}.{d.month:02d}.{d.day + 1} and v1.{yy(d)}.{d.month:02d}, "
        f"form {(d.year + 1) % 100:02d}-{d:%m-%d} then form {yy(other)}/{other:%m/%d}; "
        f"Order placed 14/04/23, renewal {d:%d/%m}/{(d.year + 1) % 100:02d}, "
        f"visit {other:%d/%m}/{yy(other)} and {other.day} {full('en', other)} '{yy(other)}; "
        f"born in {d.year}; call on {d.day} {full('en', d)}; the {yy(d)} items came "
        f"{d.day}/{d.month}, next {ordinal(d.day)} of {full('en', d)} {d.year + 1}; "
        f"el {d.day} de {full('es', d)} no; am {d.day}. {full('de', d)} nicht"
    )


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    return url_maker(request, tmp_path, request.param)


# the independent checker's cells holding their own customer's birth date
def _ticket(i: int) -> str:
    return f"Customer called. {_note(i)}"


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _shape(text: str) -> list[object]:
    """What a writing of a date looks like, not which date: each number's width, an
    ordinal as such, a month word as the languages and form (name, abbreviation)
    that write it, any other word and the separators as they are."""
    out: list[object] = []
    for tok in re.findall(r"[^\W_]+|[\W_]+", text):
        f = _fold(tok)
        langs = (
            frozenset(
                (lang, form)
                for form, table in (("full", FULL), ("short", SHORT))
                for lang, names in table.items()
                if f in map(_fold, names.split())
            )
            | ({("en", "short")} if f == "sept" else set())
            | ({("de", "short")} if f == "mrz" else set())
        )
        if tok.isdigit():  # (a day or month may be written 9 where it was 13)
            out.append("year" if len(tok) == 4 else "number")
        elif re.fullmatch(r"\d+(st|nd|rd|th)", tok):
            out.append("ordinal")
        elif langs:
            out.append(langs)
        else:
            out.append(tok)
    return out


_IN_WORDS = re.compile(r"(?i)\b(?:(?:twenty|thirty)[- ])?(?:" + "|".join(DAY_WORDS) + r")\b")


def _same_writing(old: str, new: str) -> bool:
    """``new`` writes a date as ``old`` does: same words, separators, number widths,
    ordinals (a day in words one too); its month word of one of the languages and
    forms of the old one's; ``1.º`` the number of the first (``23`` on another day)."""
    old, new = (_IN_WORDS.sub("1st", re.sub(r"(\d)\.?º", r"\1", t)) for t in (old, new))
    a, b = _shape(old), _shape(new)
    if len(a) != len(b):
        return False
    return all(
        (x & y) if isinstance(x, frozenset) and isinstance(y, frozenset) else x == y
        for x, y in zip(a, b, strict=True)
    )


def test_the_checker_knows_every_writing() -> None:
    """The checker finds each writing of its own customer's date and no other
    customer's (its needles are the date's, not any date's)."""
    for i, j in zip(IDS, IDS[1:] + IDS[:1], strict=True):
        assert holds(_note(i), date_needles(BORN[i])), _note(i)
        assert not holds(_note(i), date_needles(BORN[j])), _note(i)
        assert not holds(_guard_note(i), date_needles(BORN[i])), _guard_note(i)


def test_the_unedited_plan_replaces_every_writing(make: Callable[[], str]) -> None:
    """Each customer's note and ticket write their birth date (twenty-five writings):
    the unedited auto plan replaces every one by another date written the same way,
    the checker finds nothing and verify passes. Before: all 50 cells kept it, verify
    passed."""
    src, tgt = make(), make()
    _source(src, _note, _ticket)
    texts = {i: (_note(i), _ticket(i)) for i in IDS}
    birthdates.replaced_the_same_way(src, tgt, texts, _same_writing)


def test_verify_reports_every_writing_kept(make: Callable[[], str]) -> None:
    """A plan that keeps the notes and the tickets: the copy holds every customer's
    birth date in both and verify fails with the checker's counts, as dates. Before:
    verify passed."""
    src, tgt = make(), make()
    _source(src, _note, _ticket)
    birthdates.kept_reported(src, tgt, N)


def test_other_dates_and_numbers_are_kept(make: Callable[[], str]) -> None:
    """Another date in a two-digit year or another language, the birth year alone, the
    birth day and month without a year, the two-digit year as a count: not the date
    of birth. Copied unchanged (notes and tickets), verify passes."""
    src, tgt = make(), make()
    _source(src, _guard_note, _guard_note)
    birthdates.copied_unchanged(src, tgt, _guard_note, IDS)


@pytest.mark.parametrize("k", range(N), ids=[w[0] for w in WRITINGS])
def test_text_scrub_replaces_the_writing(k: int) -> None:
    """text_scrub alone, one writing at a time, with the row's date among other
    dates: the date is gone (the checker's word), written the same way, and the
    same under the same key."""
    born = BORN[IDS[k]]
    note = f"{WRITINGS[k][2](born)}. Order placed 14/04/23."
    out = birthdates.scrubbed(note, born)
    assert _same_writing(note, out), (note, out)
    assert out.endswith(". Order placed 14/04/23.")


def test_written_forms_are_read_back_and_rewritten_the_same_way() -> None:
    """The pseudonym is written as the span was: an ordinal as an ordinal, a
    two-digit year as two digits, the month in the span's language and form."""
    from stagewall.masking.transformers._birthdates import read_written

    new = dt.date(1950, 4, 23)
    cases = {
        "6th September 1948": "23rd April 1950",
        "6th of Sept 1948": "23rd of Apr 1950",
        "Sept. 6th 1948": "Apr. 23rd 1950",
        "SEPTEMBER 6TH, 1948": "APRIL 23RD, 1950",
        "06/09/48": "23/04/50",
        "6.9.48": "23.4.50",
        "09/16/48": "04/23/50",
        "6 Sep 48": "23 Apr 50",
        "Sept. 6, '48": "Apr. 23, '50",
        "6 de septiembre de 1948": "23 de abril de 1950",
        "6 DE SEPTIEMBRE DEL 1948": "23 DE ABRIL DEL 1950",
        "6-dic-1948": "23-abr-1950",
        "6. März 1948": "23. April 1950",
        "6. Okt. 1948": "23. Apr. 1950",
        "6 août 1948": "23 avril 1950",
        "6 févr. 1948": "23 avr. 1950",
        "1er février 1948": "23 avril 1950",
        "6 de março de 1948": "23 de abril de 1950",
        "6/set/1948": "23/abr/1950",
        "6 settembre 1948": "23 aprile 1950",
        "6 ott 48": "23 apr 50",
        "6 mei 1948": "23 april 1950",
        "6 mrt. 1948": "23 apr. 1950",
        "6. Dezember 48": "23. April 50",
        "48-09-06": "50-04-23",
        "48/9/6": "50/4/23",
        "48.09.06": "50.04.23",
        "sixth of September 1948": "twenty-third of April 1950",
        "September Sixth, 1948": "April Twenty-third, 1950",
        "TWENTY-SIXTH SEPTEMBER 48": "TWENTY-THIRD APRIL 50",
        "twenty sixth of Sept 1948": "twenty third of Apr 1950",
        "1.º de septiembre de 1948": "23 de abril de 1950",
    }
    birthdates.rewrites(cases, new)
    # the first of a month: French 1er, Portuguese 1º, English 1st
    first = {
        "1er février 1948": "1er avril 1950",
        "1º de setembro de 1948": "1º de abril de 1950",
        "6th May 1948": "1st April 1950",
        "1.º de setembro de 1948": "1.º de abril de 1950",
        "sixth of May 1948": "first of April 1950",
    }
    birthdates.rewrites(first, dt.date(1950, 4, 1))
    # a two-digit year read in its century (pivot 30): the date the span writes
    got = read_written("06/09/48")
    assert got is not None and got[0] == dt.date(1948, 9, 6)
    got = read_written("06/09/12")
    assert got is not None and got[0] == dt.date(2012, 9, 6)
    assert read_written("Room 12") is None
    assert read_written("6 of 1948") is None
    got = read_written("48-09-06")  # day first, month first, then year first
    assert got is not None and got[0] == dt.date(1948, 9, 6)
    got = read_written("twenty-sixth of September 1948")
    assert got is not None and got[0] == dt.date(1948, 9, 26)
    assert read_written("6/9/4") is None


def test_json_mask_replaces_another_languages_birth_date() -> None:
    """json_mask replaces the row's date of birth in Spanish, and with a two-digit
    year, in a leaf's text, and keeps another date."""
    doc = '{"nota": "nació el 6 de septiembre de 1948", "dob": "06/09/48", "pedido": "14/04/23"}'
    out = birthdates.json_masked(doc, "1948-09-06")
    assert not holds(out, date_needles("1948-09-06")), out
    assert '"pedido": "14/04/23"' in out
    assert re.search(r"nació el \d+ de [a-z]+ de 19\d\d", out), out


def test_json_mask_replaces_the_third_rounds_writings() -> None:
    """json_mask replaces a two-digit year first, 1.º and a day in words in a leaf's
    text, each written the same way, and keeps another date in that shape and a
    version number. Before: all three were kept."""
    doc = (
        '{"a": "DOB 48-09-06", "b": "the sixth of September, 1948", '
        '"c": "September sixth, 1948", "v": "v1.48.09", "d": "49-09-06"}'
    )
    out = birthdates.json_masked(doc, "1948-09-06")
    assert not holds(out, date_needles("1948-09-06")), out
    assert '"v": "v1.48.09"' in out and '"d": "49-09-06"' in out, out
    assert re.search(r'"a": "DOB \d\d-\d\d-\d\d"', out), out
    assert re.search(r'"b": "the [a-z-]+ of [A-Z][a-z]+, 19\d\d"', out), out
    first = birthdates.json_masked('{"n": "nascido em 1.º de setembro de 1948"}', "1948-09-01")
    assert not holds(first, date_needles("1948-09-01")), first
    assert re.search(r"nascido em (1\.º|\d+) de [a-zç]+ de 19\d\d", first), first


def test_the_date_mark_is_read_where_a_core_mark_is() -> None:
    """A date's one pattern is a mark that no plain substring test finds (it starts
    with _known.CORE), read by core_hits: every phrase writing the date, none of
    another date's, a year alone or a day and month alone."""
    from stagewall.masking.transformers._birthdates import DATE_MARK, date_patterns
    from stagewall.masking.transformers._known import CORE, core_hits, norm

    assert DATE_MARK.startswith(CORE)
    ((mark, compact),) = date_patterns(["1948", "09", "06"])
    assert not compact and mark.startswith(DATE_MARK)
    text = norm(
        "born the 6th of Sept. 1948 (06/09/48), 1948 again; 6 September; 07/09/48; "
        "the 48 items; 6 de septiembre del 48; 1948-9-6"
    )
    assert sorted(core_hits(mark, text)) == [
        " 06 09 48 ",
        " 1948 9 6 ",
        " 6 de septiembre del 48 ",
        " 6th of sept 1948 ",
    ]
    assert core_hits(mark, norm("born in 1948, on 6 September, 07/09/48, 6/9")) == []
    text = norm(
        "48-09-06 or 48/9/6; v 1.48.09; 49-09-06; the sixth of September, 1948; "
        "twenty-sixth of September 1948"
    )
    assert sorted(core_hits(mark, text)) == [" 48 09 06 ", " 48 9 6 ", " sixth of september 1948 "]
    ((first, _),) = date_patterns(["1948", "09", "01"])
    assert core_hits(first, norm("nació el 1.º de septiembre de 1948")) == [
        " 1 o de septiembre de 1948 "
    ]
