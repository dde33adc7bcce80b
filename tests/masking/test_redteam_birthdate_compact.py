"""A customer's own date of birth written compact, one run of digits (``19480906``,
``06091948``, ``09061948``, ``480906``, ``060948``: exports, IDs, file names), in a
note and in a ticket about the customer (the first three tests failed before the fix).

``born 19480906`` was copied as it was and verify passed, while the date written
``1948/09/06`` was replaced: the date's writings were read around its year as a
word of its own, and a compact date holds the year inside a longer word. Now
text_scrub and json_mask replace it by the keyed pseudonym date written the same
compact way (same order, same width, the letters glued around it as they are) and
verify's row search reports a kept one as kind ``date``. Only the row's own date
of birth, and only as a whole run of digits: another 8-digit number, an order date
written compact, a 6-digit order number, the date's digits inside a longer run of
digits stay as they are.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest

from tests.masking import test_redteam_birthdates as birthdates
from tests.masking.survivors import date_needles, holds


def yy(d: dt.date) -> str:
    return f"{d.year % 100:02d}"


# (label, the note writing the date)
WRITINGS: list[tuple[str, Callable[[dt.date], str]]] = [
    ("yyyymmdd", lambda d: f"born {d:%Y%m%d}, called about the invoice"),
    ("ddmmyyyy", lambda d: f"DOB {d:%d%m%Y} per the passport"),
    ("mmddyyyy", lambda d: f"dob {d:%m%d%Y} (US form)"),
    ("file name", lambda d: f"scan in export_{d:%Y%m%d}.pdf"),
    ("id with a suffix", lambda d: f"national ID {d:%Y%m%d}-4821 checked"),
    ("after a colon", lambda d: f"DOB:{d:%Y%m%d}"),
    ("letters glued before", lambda d: f"login born{d:%Y%m%d} requested"),
    ("yymmdd", lambda d: f"ref {yy(d)}{d:%m%d} on the form"),
    ("ddmmyy", lambda d: f"geb. {d:%d%m}{yy(d)}, bitte prüfen"),
]
N = len(WRITINGS)
IDS = list(range(1, N + 1))
# each customer's date of birth: day 13 or later (day first and month first differ), a
# year of its own
BORN = {i: dt.date(1935 + 3 * i, 1 + i % 12, 13 + i % 15) for i in IDS}


def _note(i: int) -> str:
    return WRITINGS[i - 1][1](BORN[i])


def _ticket(i: int) -> str:
    return f"Customer called. {_note(i)}"


def _source(url: str, notes: Callable[[int], str], tickets: Callable[[int], str]) -> None:
    birthdates._source(url, notes, tickets, BORN)


def _guard_note(i: int) -> str:
    """Numbers that are not the customer's date of birth written compact: another
    8-digit number, an order date written compact, the date's digits inside a longer
    run of digits, a 6-digit order number, the next day compact, the year and month
    alone, the date with another year."""
    d = BORN[i]
    nxt = d + dt.timedelta(days=1)
    return (
        f"invoice 20231114 paid, ordered {2023}{d:%m%d}; ref {d:%Y%m%d}12 and "
        f"7{d:%Y%m%d}; order 482913 shipped; visit {nxt:%Y%m%d} and {nxt:%d%m%Y}; "
        f"period {d:%Y%m}; renewal {d:%d%m}{(d.year + 1) % 100:02d} and "
        f"{(d.year + 1) % 100:02d}{d:%m%d}; batch 1{d:%Y%m%d}"
    )


make = birthdates.make  # (the database maker of each backend)


def _shape(text: str) -> str:
    """What a writing looks like, not which date: each run of digits as its width."""
    return re.sub(r"[0-9]+", lambda m: f"<{len(m.group())}>", text)


def _same_shape(old: str, new: str) -> bool:
    return _shape(old) == _shape(new)


def test_the_checker_knows_every_writing() -> None:
    """The checker finds each compact writing of its own customer's date and no other
    customer's, and none of the guard note's numbers."""
    for i, j in zip(IDS, IDS[1:] + IDS[:1], strict=True):
        assert holds(_note(i), date_needles(BORN[i])), _note(i)
        assert not holds(_note(i), date_needles(BORN[j])), _note(i)
        assert not holds(_guard_note(i), date_needles(BORN[i])), _guard_note(i)


def test_the_unedited_plan_replaces_every_writing(make: Callable[[], str]) -> None:
    """Each customer's note and ticket write their birth date compact: the unedited
    auto plan replaces every one by another date written the same way, the checker
    finds nothing and verify passes. Before: all 18 cells kept it (the checker's
    count), verify passed."""
    src, tgt = make(), make()
    _source(src, _note, _ticket)
    texts = {i: (_note(i), _ticket(i)) for i in IDS}
    birthdates.replaced_the_same_way(src, tgt, texts, _same_shape)


def test_verify_reports_every_writing_kept(make: Callable[[], str]) -> None:
    """A plan that keeps the notes and the tickets: the copy holds every customer's
    birth date in both and verify fails with the checker's counts (9 and 9), as
    dates. Before: verify passed."""
    src, tgt = make(), make()
    _source(src, _note, _ticket)
    birthdates.kept_reported(src, tgt, N)


def test_other_numbers_are_kept(make: Callable[[], str]) -> None:
    """Another 8-digit number, an order date written compact, the date's digits inside
    a longer run, a 6-digit order number, the next day, the year and month alone, the
    day and month with another year: not the date of birth. Copied unchanged (notes and
    tickets), verify passes."""
    src, tgt = make(), make()
    _source(src, _guard_note, _guard_note)
    birthdates.copied_unchanged(src, tgt, _guard_note, IDS)


@pytest.mark.parametrize("k", range(N), ids=[w[0] for w in WRITINGS])
def test_text_scrub_replaces_the_writing(k: int) -> None:
    """text_scrub alone, one writing at a time, beside another compact date and a
    6-digit order number: the date is gone (the checker's word), written the same
    way, and the same under the same key."""
    born = BORN[IDS[k]]
    note = f"{WRITINGS[k][1](born)}. Order 20230414 no 482913."
    out = birthdates.scrubbed(note, born)
    assert _shape(out) == _shape(note), (note, out)
    assert out.endswith(". Order 20230414 no 482913.")


def test_compact_forms_are_read_back_and_rewritten_the_same_way() -> None:
    """The pseudonym is written in the span's order and width, letters kept; 8 digits
    read year first, then day first, then month first; 6 digits year first, then day
    first (a two-digit year in its century: pivot 30)."""
    from stagewall.masking.transformers._birthdates import read_written

    new = dt.date(1950, 4, 23)
    cases = {
        "19480906": "19500423",
        "06091948": "23041950",
        "09161948": "04231950",
        "480906": "500423",
        "160948": "230450",
        "DOB19480906": "DOB19500423",
        "born19480906x": "born19500423x",
    }
    birthdates.rewrites(cases, new)
    for text, want in {
        "19480906": dt.date(1948, 9, 6),
        "06091948": dt.date(1948, 9, 6),  # (day first before month first)
        "09161948": dt.date(1948, 9, 16),
        "480906": dt.date(1948, 9, 6),
        "160948": dt.date(1948, 9, 16),
        "120310": dt.date(2012, 3, 10),  # (year first before day first)
    }.items():
        got = read_written(text)
        assert got is not None and got[0] == want, (text, got)
    for text in ("19481306", "1948090", "194809061", "99999999", "ab12cd"):
        assert read_written(text) is None, text


def test_json_mask_replaces_a_compact_birth_date() -> None:
    """json_mask replaces the row's date of birth written compact in a leaf's text and
    keeps another compact date and a longer run of digits."""
    doc = '{"a": "born 19480906", "b": "060948", "c": "20230414", "d": "1948090612"}'
    out = birthdates.json_masked(doc, "1948-09-06")
    assert not holds(out, date_needles("1948-09-06")), out
    assert '"c": "20230414"' in out and '"d": "1948090612"' in out, out
    assert re.search(r'"a": "born 19\d{6}"', out) and re.search(r'"b": "\d{6}"', out), out


def test_the_date_mark_finds_the_compact_words() -> None:
    """core_hits finds the compact writings of the mark's date as whole words (letters
    glued either side), none inside a longer run of digits, none of another date."""
    from stagewall.masking.transformers._birthdates import date_patterns
    from stagewall.masking.transformers._known import core_hits, norm

    ((mark, _),) = date_patterns(["1948", "09", "06"])
    text = norm(
        "19480906 06091948 09061948; 480906 060948 dob19480906 file_19480906.pdf "
        "1948090612 219480906 19480907 090648 194809"
    )
    assert sorted(core_hits(mark, text)) == [
        " 06091948 ",
        " 060948 ",
        " 09061948 ",
        " 19480906 ",
        " 19480906 ",
        " 480906 ",
        " dob19480906 ",
    ]
    assert core_hits(mark, norm("order 482913, 20230414, 1948 09")) == []
