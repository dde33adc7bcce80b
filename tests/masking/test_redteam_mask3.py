"""Red-team findings (round 3) on the free-text detector: each test failed before its fix.

The detector's patterns read ASCII only, so a value in a table with no link to
the row holding it (a log line, a note of another table: the row's own values
are not searched there, only the detector finds it) escaped text_scrub and
verify's whole-target scan when it was written

- with another script's digits: a phone in Arabic-Indic, Persian, Devanagari,
  full-width or mathematical digits, an e-mail whose mailbox ends in them right
  before the ``@`` (``anna.k٣@example.com``, ``jörg12@mail.de`` in full-width
  digits), an IP address;
- with full-width letters or signs (an IBAN, ``anna@…``);
- with other separators: no-break, thin or narrow spaces, en dashes, minus signs;
- URL-encoded, as a link or a web server's log holds it
  (``email=anna%40example.com``, ``to=%2B34%20612%20345%20678``);
- with invisible characters inside: zero-width space, non-joiner, joiner, word
  joiner, soft hyphen, BOM, combining marks on a digit (a strike-through, a
  keycap).

Now the detector reads each text's view (``classify._forms``: those characters as
ASCII, the invisible ones dropped), maps its findings back to spans of the
original, and text_scrub replaces the span with the pseudonym of the value read
(the one its ASCII spelling gets). The independent checker gained
``survivors_anywhere`` (every cell against every row's values) and reads every
script's digits (NFKD leaves Arabic-Indic digits as they are).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.masking.classify import Category, detect_in_text, detect_many
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import ColumnPlan
from stagewall.masking.planner import build_plan
from stagewall.masking.transformers import build_transformer
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, url_maker
from tests.masking.survivors import _rows as rows_of
from tests.masking.survivors import plain, survivors_anywhere
from tests.masking.test_leak_traps import _execute, _with


def _digits_in(text: str, zero: str) -> str:
    """``text`` with its ASCII digits written in the script whose zero is ``zero``."""
    return text.translate({ord("0") + i: chr(ord(zero) + i) for i in range(10)})


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


ARABIC, PERSIAN, DEVANAGARI, FULL, BOLD = "\u0660", "\u06f0", "\u0966", "\uff10", "\U0001d7ce"
PHONE = "+34 612 345 678"
# (how the value is written in the note, the value the detector must read, its kind)
FORMS: list[tuple[str, str, Category]] = [
    *((_digits_in(PHONE, z), PHONE, Category.PHONE) for z in (ARABIC, PERSIAN, DEVANAGARI)),
    (_digits_in(PHONE, FULL), PHONE, Category.PHONE),
    (_digits_in(PHONE, BOLD), PHONE, Category.PHONE),
    (_digits_in("0612 345 678", ARABIC), "0612 345 678", Category.PHONE),
    ("anna.k\u0663@example.com", "anna.k3@example.com", Category.EMAIL),
    ("j\u00f6rg\uff11\uff12@mail.de", "j\u00f6rg12@mail.de", Category.EMAIL),  # RFC 6531
    (_digits_in("jg1987", PERSIAN) + "@corp.example", "jg1987@corp.example", Category.EMAIL),
    # separators
    (PHONE.replace(" ", "\u00a0"), PHONE, Category.PHONE),
    (PHONE.replace(" ", "\u2009"), PHONE, Category.PHONE),
    (PHONE.replace(" ", "\u202f"), PHONE, Category.PHONE),
    ("030\u20131234567", "030-1234567", Category.PHONE),
    ("+34\u2011612\u2011345\u2011678", "+34-612-345-678", Category.PHONE),
    ("4111\u20131111\u20131111\u20131111", "4111-1111-1111-1111", Category.CARD_NUMBER),
    ("4111\u22121111\u22121111\u22121111", "4111-1111-1111-1111", Category.CARD_NUMBER),
    (
        "DE89\u00a03704\u00a00044\u00a00532\u00a00130\u00a000",
        "DE89 3704 0044 0532 0130 00",
        Category.IBAN,
    ),
    # full-width and mathematical letters and signs
    (_full_width("DE89 3704 0044 0532 0130 00"), "DE89 3704 0044 0532 0130 00", Category.IBAN),
    ("\uff41\uff4e\uff4e\uff41\uff20example.com", "anna@example.com", Category.EMAIL),
    ("anna\ufe6bexample.com", "anna@example.com", Category.EMAIL),  # small commercial at
    ("\uff0b34 612 345 678", PHONE, Category.PHONE),
    (_digits_in("192.168.10.7", ARABIC), "192.168.10.7", Category.IP_ADDRESS),
    # (the Arabic decimal separator between the parts)
    (
        _digits_in("192.168.10.7", ARABIC).replace(".", "\u066b"),
        "192.168.10.7",
        Category.IP_ADDRESS,
    ),
    ("+34\u2800612\u2800345\u2800678", PHONE, Category.PHONE),  # braille blanks
    # URL-encoded (a link, a web server's log)
    ("anna%40example.com", "anna@example.com", Category.EMAIL),
    ("%2B34%20612%20345%20678", PHONE, Category.PHONE),
    # invisible characters inside
    ("+34 612\u200b345 678", "+34 612345 678", Category.PHONE),
    ("+34 6\u200c12 3\u200d45 6\u206078", PHONE, Category.PHONE),
    ("+34 612 34\u00ad5 678", PHONE, Category.PHONE),
    ("+34 612 \ufeff345 678", PHONE, Category.PHONE),
    ("anna\u200b@example.com", "anna@example.com", Category.EMAIL),
    ("anna@exam\u00adple.com", "anna@example.com", Category.EMAIL),
    ("4111 1111 1111 11\u200b11", "4111 1111 1111 1111", Category.CARD_NUMBER),
    ("".join(c + "\u0336" for c in PHONE), PHONE, Category.PHONE),  # strike-through text
    ("+34 6\ufe0f\u20e31\ufe0f\u20e32\ufe0f\u20e3 345 678", PHONE, Category.PHONE),  # keycaps
]


@pytest.mark.parametrize(("written", "value", "kind"), FORMS)
def test_the_detector_reads_values_written_with_other_characters(
    written: str, value: str, kind: Category
) -> None:
    """Each form is found in a sentence, its span is the written value in the text,
    and the value read is the ASCII spelling; alone and in a joined batch alike."""
    text = f"Bitte zurückrufen: {written} (danke)"
    found = [m for m in detect_in_text(text) if m.category is kind]
    assert [m.value for m in found] == [value], (written, found)
    (m,) = found
    assert m.text == text[m.start : m.end]
    # the whole written value (invisible characters and marks inside and on its last
    # character included; the whole mailbox of jörg12@, letters beyond ASCII too)
    assert m.text == written
    assert detect_many(["x 1", text, "nothing here"])[1] == detect_in_text(text)


def test_ascii_findings_are_unchanged() -> None:
    """Findings of texts without such characters keep their values (no ``plain``)."""
    text = "Call +34 612 345 678 or mail jane@corp.example, Hauptstraße 5, Anna Miller."
    found = detect_in_text(text)
    assert {m.category for m in found} >= {Category.PHONE, Category.EMAIL}
    assert all(m.plain is None and m.value == m.text for m in found)


@pytest.mark.parametrize(("written", "value", "kind"), FORMS)
def test_text_scrub_replaces_the_written_value(written: str, value: str, kind: Category) -> None:
    """text_scrub (no known values: only the detector) replaces the written value,
    invisible characters inside included, with the pseudonym its ASCII spelling
    gets in the same note."""
    t = build_transformer("text_scrub", {}, key=KEY)
    before, after = "Bitte zurückrufen: ", " (danke)"
    text = before + written + after
    (m,) = (m for m in detect_in_text(text) if m.category is kind)
    out, ascii_out = t.transform_known([text, before + value + after], [(), ()])  # type: ignore[attr-defined]
    assert ascii_out.startswith(before) and ascii_out.endswith(after)
    pseudonym = ascii_out[len(before) : -len(after)]
    assert pseudonym != value
    assert out == text[: m.start] + pseudonym + text[m.end :]
    assert plain(value) not in plain(out), out


# ---- end to end: a table with no link to the customers -------------------------------


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


N = 30
UNLINKED = [  # (a customer's phone and e-mail, the log line holding one of them)
    (
        "+34 612 345 601",
        "anna.k3@example.com",
        "callback on " + _digits_in("+34 612 345 601", ARABIC),
    ),
    ("+34 612 345 602", "ben7@example.com", "sms to " + _digits_in("0034 612 345 602", PERSIAN)),
    ("+34 612 345 603", "cleo@example.com", "fax " + _digits_in("+34 612 345 603", FULL)),
    ("+34 612 345 604", "dora.k3@example.com", "login dora.k\u0663@example.com failed"),
    ("+34 612 345 605", "emil@example.com", "tel +34\u00a0612\u00a0345\u00a0605"),
    ("+34 612 345 606", "fritz@example.com", "tel +34 612\u200b345 606"),
    ("+34 612 345 607", "gina@example.com", "mail gina\u200b@example.com"),
    ("+34 612 345 608", "hugo12@mail.de", "mail hugo\uff11\uff12@mail.de"),
    ("+34 612 345 609", "ivy@example.com", "GET /reset?email=ivy%40example.com&t=1"),
    ("+34 612 345 610", "jo@example.com", "GET /call?to=%2B34%20612%20345%20610"),
]


def _source(url: str) -> str:
    customers = [
        (i, f"+34 612 {i:03d} 111", f"person{i}@shop.example") for i in range(1, N + 1)
    ] + [(N + 1 + k, p, e) for k, (p, e, _) in enumerate(UNLINKED)]
    lines = [(i, "job finished", "nightly run") for i in range(1, N + 1)]
    lines += [(N + 1 + k, line, line) for k, (_, _, line) in enumerate(UNLINKED)]
    _execute(
        url,
        [
            ("CREATE TABLE customers (id INTEGER PRIMARY KEY, phone VARCHAR(40), "
             "email VARCHAR(120))", []),
            ("CREATE TABLE event_log (id INTEGER PRIMARY KEY, line TEXT, note TEXT)", []),
            ("INSERT INTO customers VALUES (?, ?, ?)", customers),
            ("INSERT INTO event_log VALUES (?, ?, ?)", lines),
        ],
    )  # fmt: skip
    return url


def test_values_in_other_characters_in_an_unlinked_table(make: Callable[[], str]) -> None:
    """An event log with no link to the customers holds their phones and e-mails
    written with other scripts' digits, full-width digits, a no-break space, a
    zero-width space or URL-encoded. Kept, verify reports every line (it passed: the detector
    read none of them) and the checker agrees; scrubbed, text_scrub replaces each
    (it copied them), verify passes and the checker finds none."""
    src = _source(make())
    plan = build_plan(src).plan
    keep = ColumnPlan(transformer="keep", reason="test: a log")
    scrub = ColumnPlan(transformer="text_scrub", reason="test: free text")
    plan = _with(_with(plan, "event_log", "line", keep), "event_log", "note", scrub)
    assert (
        plan.tables[next(q for q in plan.tables if q.endswith("customers"))]
        .columns["phone"]
        .transformer
        == "phone"
    )
    tgt = make()
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    hits = {(h.table.rsplit(".", 1)[-1], h.column): h.hits for h in report.hits}
    assert hits == {("event_log", "line"): len(UNLINKED)}, report.to_json()
    sensitive = {"phone": "phone", "email": "email"}
    found = survivors_anywhere(src, tgt, "customers", sensitive, {"event_log": ["line", "note"]})
    assert found == {"event_log.line": len(UNLINKED)}
    notes = [r[0] for r in rows_of(tgt, f"SELECT note FROM event_log WHERE id > {N} ORDER BY id")]
    assert all(n != line for n, (_, _, line) in zip(notes, UNLINKED, strict=True)), notes

    scrubbed = _with(plan, "event_log", "line", scrub)
    tgt2 = make()
    run(scrubbed, src, tgt2, KEY, RunOptions())
    report = verify(scrubbed, src, tgt2, KEY)
    assert report.passed, report.to_json()
    assert survivors_anywhere(src, tgt2, "customers", sensitive, {"event_log": ["line"]}) == {}


def test_the_checker_reads_every_scripts_digits() -> None:
    """The independent checker's folding: NFKD keeps Arabic-Indic digits, so a
    mailbox ending in one (``k٣``) was another word to it than ``k3``."""
    assert plain("anna.k\u0663@example.com") == plain("anna.k3@example.com")
    assert plain(_digits_in("612", PERSIAN)) == " 612 "


def test_an_unlinked_sqlite_log_line_planned_from_its_samples(tmp_path: Path) -> None:
    """The auto plan's own choice: a log whose samples hold Arabic-Indic phones was
    kept (its samples looked clean); now it is scrubbed."""
    db = tmp_path / "s.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE event_log (id INTEGER PRIMARY KEY, line TEXT)")
        conn.executemany(
            "INSERT INTO event_log VALUES (?, ?)",
            [(i, "call back on " + _digits_in(f"+34 612 345 {i:03d}", ARABIC)) for i in range(40)],
        )
    plan: Any = build_plan(f"sqlite:///{db}").plan
    assert plan.tables["event_log"].columns["line"].transformer == "text_scrub"
