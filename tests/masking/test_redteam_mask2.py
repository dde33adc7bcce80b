"""Red-team findings (round 2) on masking soundness after the speed work: each test
failed before its fix.

- A note repeating its own row's phone or e-mail written in another script's
  decimal digits (Arabic-Indic ``٦١٢``, Persian ``۶۱۲``, Devanagari, Bengali, Thai,
  mathematical bold) or superscript digits, or its name in mathematical bold or
  circled letters (as "fancy text" generators write them): text_scrub's search of
  the row's own values folded accents and full-width forms only, so the note was
  copied as it was and verify (whose row search folds the same way) passed, while
  the independent checker, which reads every script's digits and compatibility
  forms, found each one.
- A note naming its row's person with a ligature, as text copied from a PDF holds
  it (``Hoffmann`` written with U+FB00 ff, ``Griffin`` with U+FB03 ffi): one
  character standing for several was neither folded nor split, so text_scrub left
  the name, verify passed, and the checker (NFKD) found it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import ColumnPlan
from stagewall.masking.transformers._known import find_known, fold, known_patterns
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.survivors import survivors
from tests.masking.test_leak_traps import REFS, SENSITIVE, TEXTS, N, _masked, _notes, _with


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


def _in_digits(text: str, zero: str) -> str:
    """``text`` with its ASCII digits written in the script whose zero is ``zero``."""
    return text.translate({ord("0") + i: chr(ord(zero) + i) for i in range(10)})


def _bold(word: str) -> str:
    """``word`` in mathematical bold letters (U+1D400 on)."""
    return "".join(
        chr(0x1D400 + ord(c) - ord("A")) if c.isupper() else chr(0x1D41A + ord(c) - ord("a"))
        for c in word
    )


def _scrubbed_and_seen(make: Callable[[], str], traps: list[dict[str, str]]) -> None:
    """The auto plan's run of ``traps`` (customers with notes) passes verify and
    leaves the checker nothing; with the notes kept, verify sees every note."""
    src, tgt, plan = _masked(make, traps)
    report = verify(plan, src, tgt, KEY)
    assert report.passed, report.to_json()
    assert survivors(src, tgt, "customers", SENSITIVE, TEXTS, REFS, plan=plan) == {}, _notes(tgt, N)

    kept = _with(plan, "customers", "notes", ColumnPlan(transformer="keep", reason="test: kept"))
    tgt2 = make()
    run(kept, src, tgt2, KEY, RunOptions())
    report = verify(kept, src, tgt2, KEY)
    cells = sum(h.cells for h in report.row_hits if h.column == "notes")
    assert cells == len(traps), report.to_json()


# Arabic-Indic, Persian, Devanagari, Bengali, Thai, mathematical bold
ZEROS = ["\u0660", "\u06f0", "\u0966", "\u09e6", "\u0e50", "\U0001d7ce"]
OTHER_DIGITS = [
    *(
        {"phone": "+34 612 345 678", "notes": "llamar al " + _in_digits("612 345 678", z)}
        for z in ZEROS
    ),
    {"phone": "+44 20 7946 0958", "notes": "رقمه " + _in_digits("+44 20 7946 0958", "\u0660")},
    {"email": "jg1987@corp.example", "notes": "login " + _in_digits("jg1987", "\u06f0")},
    {
        "phone": "+34 612 345 678",
        "notes": "tel \u2076\u00b9\u00b2 \u00b3\u2074\u2075 \u2076\u2077\u2078",
    },
    {"last_name": "Ganthriv", "notes": "Spoke with " + _bold("Ganthriv")},
    {
        "last_name": "Ganthriv",
        "notes": "Spoke with \u24bc\u24d0\u24dd\u24e3\u24d7\u24e1\u24d8\u24e5",
    },
]


def test_own_values_in_another_scripts_digits_are_scrubbed_and_seen(
    make: Callable[[], str],
) -> None:
    """Each note repeats its row's phone (or a mailbox's digits) in another script's
    digits. The auto plan's text_scrub copied them all and verify passed (the
    checker found each one); now they are scrubbed, verify passes and the checker
    finds nothing, and with the notes kept verify sees every one."""
    _scrubbed_and_seen(make, OTHER_DIGITS)


def test_fold_reads_every_digit_and_compatibility_form_as_nfkd_does() -> None:
    """Over all of Unicode: every character of category Nd folds to its value's ASCII
    digit, every character whose compatibility decomposition is one character (marks
    aside) folds as that character does, and each folds to one character (fold
    keeps positions), never a NUL or a line break."""
    every = "".join(map(chr, range(0x110000)))
    digits = re.findall(r"\d", every)
    assert len(digits) > 600
    assert fold("".join(digits)) == "".join(str(unicodedata.decimal(d)) for d in digits)
    folded = fold(every)
    assert len(folded) == len(every)  # (U+0130, whose lower case is two, folds to i)
    assert "\x00" not in folded[1:] and folded.count("\n") == 1
    for c in every[0x80:]:
        base = "".join(
            ch for ch in unicodedata.normalize("NFKD", c) if not unicodedata.combining(ch)
        )
        if len(base) == 1 and base != c and not base.isdecimal():
            assert fold(c) == fold(base), hex(ord(c))


# (the trap customer's own values, the note that repeats one in a ligature)
LIGATURES = [
    {"last_name": "Hoffmann", "notes": "R\u00fcckruf von Frau Ho\ufb00mann"},
    {"last_name": "Griffin", "notes": "Spoke with Mr. Gri\ufb03n (pasted from the PDF)"},
    {"last_name": "Stafford", "notes": "Sta\ufb00ord will call back"},
    {"first_name": "Fiona", "last_name": "Ganthriv", "notes": "\ufb01ona rang"},
]


def test_a_name_written_with_a_ligature_is_scrubbed_and_seen(make: Callable[[], str]) -> None:
    """Each note names its row's person with a ligature (one character for ff, fi or
    ffi). The auto plan's text_scrub copied them and verify passed (the checker
    found each); now they are scrubbed, and with the notes kept verify sees each."""
    _scrubbed_and_seen(make, LIGATURES)


@pytest.mark.parametrize(
    ("text", "value", "found"),
    [
        ("Frau Ho\ufb00mann ruft an", "Hoffmann", "Ho\ufb00mann"),
        ("Gri\ufb03n\u00ad, Mr", "Griffin", "Gri\ufb03n"),
        ("\ufb01ona", "Fiona", "\ufb01ona"),
        ("\u2473 Ganthriv", "Ganthriv", "Ganthriv"),  # (U+2473: 20)
    ],
)
def test_find_known_maps_a_ligatures_span_back(text: str, value: str, found: str) -> None:
    """Spans found in the text with each ligature written out are the original's."""
    spans = find_known(text, known_patterns([("last_name", value)]))
    assert [text[s:e] for s, e, _ in spans] == [found]
