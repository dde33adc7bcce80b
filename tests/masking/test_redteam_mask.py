"""Red-team findings on issue 11's promise (staging holds no production values, and
verify proves it): each test failed before its fix.

- A PostgreSQL domain over an extension's type (an e-mail domain over ``citext``)
  made the unedited auto plan's run fail creating the tables: the extension was
  looked for among the columns' own types only, not behind a domain.
- A note repeating its own row's phone as people write it at home (without the
  country code, or the source's national number with it), its e-mail's mailbox
  on its own (a login, ``jg1987 [at] corp [dot] example``), or an ``O'Brien``
  stored as ``OBrien``: text_scrub left each and verify passed.
- An account's notes naming its contacts (rows of another table that reference
  the account): text_scrub knew the values of the rows a row references, not of
  those that reference it, and verify searched the same way; both passed.
- A phone number stored as an integer (a call record's BIGINT ``msisdn``): the
  name rules were for text columns only, so the plan kept it, and verify, which
  knew the number only as written (``+34 612 345 678``), passed.
- A production value written into a schema object (a column default holding a
  customer's e-mail, a trigger or view special-casing a surname): the copy
  recreated it (the detector does not take a lone surname for personal data) and
  verify, which read rows only, passed.
- A PostgreSQL ``text[]`` of e-mails or phones: kept by the plan (its samples were
  lists, not text, so nothing looked sensitive), and verify then failed the
  unedited plan's run.
- A birth date in a unique key with the names (``UNIQUE (last_name, first_name,
  birth_date)``, a register's duplicate check): no date transformer was
  unique-safe, so the unedited plan failed lint and the run refused it.
- A phone written ``(+34) 612 345 678`` (the country code in brackets, as Spanish
  and Latin American forms print it) was no phone to the detector: in a table
  with no reference to the customer it was neither scrubbed nor seen.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stagewall.errors import SchemaPersonalData
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import ColumnPlan
from stagewall.masking.planner import build_plan
from stagewall.masking.transformers._known import national_number, patterns
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import BACKENDS, KEY, acknowledging, url_maker
from tests.masking.survivors import _rows as rows_of
from tests.masking.survivors import survivors
from tests.masking.test_leak_traps import (
    _with,
    scrubbed_and_seen,
)


@pytest.fixture(params=BACKENDS)
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[], str]:
    """Fresh empty databases of one backend (SQLite, PostgreSQL, MariaDB)."""
    return url_maker(request, tmp_path, request.param)


# ---- a domain over an extension's type, an enum behind a domain --------------------

PG_DOMAINS = [
    "CREATE EXTENSION IF NOT EXISTS citext",
    "CREATE DOMAIN email_addr AS citext CHECK (VALUE ~ '^[^@]+@[^@]+$')",
    "CREATE TYPE tier AS ENUM ('free', 'gold')",
    "CREATE DOMAIN tier_d AS tier",
    "CREATE TABLE customers (id integer PRIMARY KEY, name text NOT NULL, "
    "email email_addr UNIQUE NOT NULL, tier tier_d NOT NULL)",
]


@pytest.mark.postgres
def test_a_domain_over_an_extension_type_is_recreated(pg_url_factory: Any) -> None:
    """``email email_addr`` with ``email_addr`` a domain over ``citext`` (as Rails
    and Django applications declare case-insensitive e-mails): the run failed with
    'type "public.citext" does not exist' before any row moved."""
    import psycopg

    src, tgt = pg_url_factory(), pg_url_factory()
    with psycopg.connect(src, autocommit=True) as conn:
        for stmt in PG_DOMAINS:
            conn.execute(stmt.encode())
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO customers VALUES (%s, %s, %s, %s)",
                [
                    (i, f"Anna Kowalska{i}", f"Anna.K{i}@Mail.Example.org", "gold")
                    for i in range(30)
                ],
            )
    plan = build_plan(src).plan
    assert plan.tables["public.customers"].columns["email"].transformer == "email"
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    assert report.passed, report.to_json()
    emails = {r[0] for r in rows_of(tgt, "SELECT email::text FROM customers")}
    assert len(emails) == 30 and not emails & {f"Anna.K{i}@Mail.Example.org" for i in range(30)}
    (typ,) = rows_of(tgt, "SELECT pg_typeof(email)::text FROM customers LIMIT 1")[0]
    assert typ == "email_addr"


# ---- a row's own values as people write them otherwise -------------------------------

# (the trap customer's own values, the note that repeats one, the repeated text)
WRITTEN: list[tuple[dict[str, str], str, str]] = [
    ({"phone": "+34 612 345 678"}, "Call her on 612 345 678 after six", "612 345 678"),
    ({"phone": "+44 20 7946 0958"}, "rang 020.7946.0958 twice", "7946.0958"),
    ({"phone": "+1 212 555 0142"}, "cell (212) 555-0142", "555-0142"),
    ({"phone": "020 7946 0959"}, "new number +44 (0)20 7946 0959", "7946 0959"),
    ({"email": "jg1987@corp.example"}, "write to jg1987 [at] corp [dot] example", "jg1987"),
    ({"email": "kt_2291@corp.example"}, "login kt_2291 locked out", "kt_2291"),
    ({"last_name": "O'Brien"}, "OBrien will call back", "OBrien"),
    ({"last_name": "D\u2019Angelo"}, "Spoke with DAngelo", "DAngelo"),
]


def test_values_written_otherwise_are_scrubbed_and_seen(make: Callable[[], str]) -> None:
    """Each note repeats its own row's value as people write it: a phone without
    its country code (or the source's national number with one), the e-mail's
    mailbox alone, a name without its apostrophe. The auto plan used to copy them
    all and verify passed; now text_scrub replaces them, verify passes and the
    checker finds nothing, and with the notes kept verify sees every one."""
    scrubbed_and_seen(make, WRITTEN)


@pytest.mark.parametrize(
    ("phone", "national"),
    [
        ("+34 612 345 678", "612345678"),
        ("0034 612 345 678", "612345678"),
        ("+44 20 7946 0958", "2079460958"),
        ("020 7946 0958", "2079460958"),
        ("+1 (212) 555-0142", "2125550142"),
        ("+353 86 123 4567", "861234567"),
        ("+39 06 1234 5678", "0612345678"),  # Italy keeps its 0 after the code
        ("612 345 678", None),  # already national: 61 would leave seven digits
        ("+45 12 34 56 78", "12345678"),  # Denmark: eight digits at home
    ],
)
def test_the_national_number_of_a_phone(phone: str, national: str | None) -> None:
    compact = "".join(c for c in phone if c.isdigit())
    assert national_number(compact) == national
    if national is not None:
        assert (national, True) in patterns("phone", phone)


@pytest.mark.parametrize(
    ("email", "mailbox"),
    [
        ("jg1987@corp.example", " jg1987 "),
        ("Anna.Kowalska1@mail.example.org", " anna kowalska1 "),
        ("Anna.Kowalska@mail.example.org", None),  # a name: the row's name columns give it
        ("info@shop.example", None),  # a role, not a person
        ("b0b@shop.example", None),  # too short to tell anyone apart
    ],
)
def test_the_mailbox_of_an_email_is_searched_alone(email: str, mailbox: str | None) -> None:
    got = [p for p, compact in patterns("email", email) if not compact]
    if mailbox is None:
        assert got == [
            " " + " ".join(email.replace("@", " ").replace(".", " ").lower().split()) + " "
        ]
    else:
        assert mailbox in got


# ---- a row's free text naming the rows that reference it ------------------------------

LAST = ["Kowalska", "Novak", "Rossi", "Dubois", "Jensen", "Ganthriv", "Smith", "Berger"]
FIRST = ["Anna", "Peter", "Maria", "Lukas", "Elena"]
ACCOUNTS = 24


def _accounts(url: str) -> str:
    """Accounts (a company, free-text notes) and two contacts per account; the notes
    of every other account name its main contact by surname, as a CRM user writes."""
    from tests.masking.test_leak_traps import _execute

    contacts = [
        (i * 2 + k, i, FIRST[(i + k) % 5], LAST[(i * 2 + k) % len(LAST)],
         f"c{i}.{k}@firma{i}.example", f"+49 30 {1000000 + i * 2 + k}")
        for i in range(1, ACCOUNTS + 1)
        for k in range(2)
    ]  # fmt: skip
    accounts = [
        (i, f"Firma {i} GmbH", f"Main contact: {LAST[(i * 2) % len(LAST)]}, ask for the invoice"
         if i % 2 else "Key account, quarterly review")
        for i in range(1, ACCOUNTS + 1)
    ]  # fmt: skip
    _execute(
        url,
        [
            ("CREATE TABLE accounts (id INTEGER PRIMARY KEY, company VARCHAR(60), notes TEXT)", []),
            (
                "CREATE TABLE contacts (id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, "
                "first_name VARCHAR(40), last_name VARCHAR(40), email VARCHAR(80), "
                "phone VARCHAR(30), FOREIGN KEY (account_id) REFERENCES accounts (id))",
                [],
            ),
            ("INSERT INTO accounts VALUES (?, ?, ?)", accounts),
            ("INSERT INTO contacts VALUES (?, ?, ?, ?, ?, ?)", contacts),
        ],
    )
    return url


CONTACTS = {"first_name": "name", "last_name": "name", "email": "email", "phone": "phone"}


def test_notes_naming_the_rows_that_reference_them(make: Callable[[], str]) -> None:
    """``accounts.notes`` says "Main contact: Novak": Novak is a contact, a row of
    ``contacts`` that references the account. The copy kept every surname (the
    detector does not take a lone surname for a name) and verify passed. Now
    text_scrub is handed the values of the rows that reference a row, verify
    searches them in its scrubbed columns, and the checker agrees."""
    from tests.masking.survivors import survivors_down

    src = _accounts(make())
    plan = build_plan(src).plan
    notes = plan.tables[_q(plan, "accounts")].columns["notes"]
    assert notes.transformer == "text_scrub", notes
    tgt = make()
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    assert report.passed, report.to_json()
    down = {"accounts": ["notes"]}
    assert survivors_down(src, tgt, "contacts", "account_id", CONTACTS, down) == {}
    got = [n for (n,) in rows_of(tgt, "SELECT notes FROM accounts ORDER BY id")]
    assert got[1] == "Key account, quarterly review"  # clean text stays as it was
    assert not any(last in str(n) for n in got for last in LAST), got

    # a copy whose scrubber missed them: verify and the checker both see every one
    named = {
        i: f"Ask {last} about it"
        for i, last in rows_of(src, "SELECT account_id, last_name FROM contacts WHERE id % 2 = 0")
        if i % 3 == 0
    }
    from tests.masking.test_leak_traps import _execute

    _execute(
        tgt, [("UPDATE accounts SET notes = ? WHERE id = ?", [(n, i) for i, n in named.items()])]
    )
    report = verify(plan, src, tgt, KEY)
    assert [(h.table.rsplit(".", 1)[-1], h.column, h.kind, h.cells) for h in report.row_hits] == [
        ("accounts", "notes", "name", len(named))
    ], report.to_json()
    assert survivors_down(src, tgt, "contacts", "account_id", CONTACTS, down) == {
        "accounts.notes": len(named)
    }


def _q(plan: Any, name: str) -> str:
    return next(q for q in plan.tables if q.rsplit(".", 1)[-1] == name)


# ---- a phone number stored as an integer ---------------------------------------------

CALLERS = 30


def _calls(url: str) -> str:
    from tests.masking.test_leak_traps import _execute

    _execute(
        url,
        [
            (
                "CREATE TABLE customers (id INTEGER PRIMARY KEY, name VARCHAR(60), phone VARCHAR(30))",
                [],
            ),
            (
                "CREATE TABLE calls (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, "
                "msisdn BIGINT, other_party BIGINT, seconds INTEGER, "
                "FOREIGN KEY (customer_id) REFERENCES customers (id))",
                [],
            ),
            (
                "INSERT INTO customers VALUES (?, ?, ?)",
                [
                    (i, f"{FIRST[i % 5]} {LAST[i % 8]}", f"+34 6{i:02d} 345 {i:03d}")
                    for i in range(1, CALLERS + 1)
                ],
            ),
            (  # the customer's own number, and the number the customer called (also theirs
                # in a call-forwarding record): both as integers
                "INSERT INTO calls VALUES (?, ?, ?, ?, ?)",
                [
                    (i, i, int(f"346{i:02d}345{i:03d}"), int(f"346{i:02d}345{i:03d}"), 60 + i)
                    for i in range(1, CALLERS + 1)
                ],
            ),
        ],
    )
    return url


def test_a_phone_number_stored_as_an_integer(make: Callable[[], str]) -> None:
    """``calls.msisdn BIGINT`` is the customer's phone: the plan masks it now
    (format-preserving, same number of digits). ``other_party`` says nothing by its
    name, so the plan keeps it; verify fails, naming it, where it passed before."""
    src = _calls(make())
    plan = build_plan(src).plan
    calls = plan.tables[_q(plan, "calls")].columns
    assert calls["msisdn"].transformer == "fpe_integer", calls["msisdn"]
    assert calls["other_party"].transformer == "keep"
    tgt = make()
    run(plan, src, tgt, KEY, RunOptions())
    before = {r[0] for r in rows_of(src, "SELECT msisdn FROM calls")}
    after = {r[0] for r in rows_of(tgt, "SELECT msisdn FROM calls")}
    assert len(after) == CALLERS and not before & after
    assert {len(str(v)) for v in after} == {len(str(v)) for v in before}
    report = verify(plan, src, tgt, KEY)
    assert not report.passed
    assert [(h.table.rsplit(".", 1)[-1], h.column, h.hits) for h in report.hits] == [
        ("calls", "other_party", CALLERS)
    ], report.to_json()
    found = survivors(
        src, tgt, "customers", {"phone": "phone"}, {"calls": ["msisdn", "other_party"]},
        {"calls": "customer_id", "customers": "id"},
    )  # fmt: skip
    assert found == {"calls.other_party": CALLERS}

    masked = _with(plan, "calls", "other_party", ColumnPlan(transformer="fpe_integer"))
    tgt2 = make()
    run(masked, src, tgt2, KEY, RunOptions())
    report = verify(masked, src, tgt2, KEY)
    assert report.passed, report.to_json()


# ---- a production value in a schema object's definition -------------------------------

VIP = "vip.ganthriv7@mail.example.org"


def _objects_ddl(backend: str) -> list[str]:
    """A default holding a customer's e-mail and a trigger (a view on MariaDB and
    PostgreSQL too) that special-cases a customer's surname."""
    pk = {"sqlite": "INTEGER PRIMARY KEY", "postgresql": "integer PRIMARY KEY"}.get(
        backend, "INT PRIMARY KEY"
    )
    out = [
        f"CREATE TABLE members (id {pk}, first_name VARCHAR(40), last_name VARCHAR(40), "
        f"email VARCHAR(80) DEFAULT '{VIP}', tier VARCHAR(10))",
        "CREATE TABLE perks (perk VARCHAR(40))",
    ]
    if backend == "sqlite":
        out.append(
            "CREATE TRIGGER vip_perk AFTER INSERT ON members WHEN NEW.last_name = 'Ganthriv' "
            "BEGIN INSERT INTO perks (perk) VALUES ('lounge'); END"
        )
    elif backend == "postgresql":
        out.append(
            "CREATE FUNCTION vip_perk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.last_name = 'Ganthriv' THEN INSERT INTO perks (perk) VALUES ('lounge'); "
            "END IF; RETURN NEW; END $$"
        )
        out.append(
            "CREATE TRIGGER vip_perk AFTER INSERT ON members FOR EACH ROW EXECUTE FUNCTION vip_perk()"
        )
    else:
        out.append(
            "CREATE TRIGGER vip_perk AFTER INSERT ON members FOR EACH ROW BEGIN "
            "IF NEW.last_name = 'Ganthriv' THEN INSERT INTO perks (perk) VALUES ('lounge'); "
            "END IF; END"
        )
    return out


def test_a_production_value_in_a_schema_object(make: Callable[[], str]) -> None:
    """The copy recreates the default and the trigger as the source has them, so the
    e-mail and the surname are in staging's schema: verify must say so, naming the
    objects, where it passed."""
    from stagewall.masking.db import DatabaseURL
    from tests.masking.survivors import definition_survivors
    from tests.masking.test_leak_traps import _execute

    src = make()
    backend = DatabaseURL.parse(src).backend
    members = [
        (i, FIRST[i % 5], "Ganthriv" if i == 7 else LAST[i % 8],
         VIP if i == 7 else f"m{i}@mail.example.org", "gold")
        for i in range(1, 31)
    ]  # fmt: skip
    _execute(
        src,
        [
            *((stmt, []) for stmt in _objects_ddl(backend)),
            ("INSERT INTO members VALUES (?, ?, ?, ?, ?)", members),
        ],
    )
    plan = build_plan(src).plan
    tgt = make()
    # the e-mail literal of the default is refused before anything is written
    # (SW520); acknowledged, the copy goes ahead, and verify still finds the
    # source values: an acknowledgement hides no source value
    with pytest.raises(SchemaPersonalData, match=r"default|table members"):
        run(plan, src, tgt, KEY, RunOptions())
    plan = acknowledging(plan, src)
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    assert not report.passed
    assert not report.row_hits and all(h.table == "(schema)" for h in report.hits)
    objects = " ".join(h.column for h in report.hits)
    found = definition_survivors(tgt, ["Ganthriv", VIP])
    # the checker and verify name the same objects: the default, and the trigger
    # where the backend's copy recreates it
    default = "table members" if backend == "sqlite" else "members.email"  # SQLite: in its DDL
    assert default in objects and any(v == VIP for v in found.values()), (objects, found)
    assert ("vip_perk" in objects) == ("Ganthriv" in found.values()), (objects, found)
    if backend != "sqlite":
        assert "vip_perk" in objects, objects


# ---- arrays of personal data (PostgreSQL) -----------------------------------------------


@pytest.mark.postgres
def test_an_array_of_emails_or_phones_is_not_kept(pg_url_factory: Any) -> None:
    """``emails text[]`` and ``phones varchar(30)[]``: no transformer rewrites an
    array element by element, so the plan sets them to NULL (as it does for a
    composite holding personal data), with the reason; a tags array of plain words
    is kept. The unedited plan's run verifies clean."""
    import psycopg

    from stagewall.masking.classify import classify_column
    from stagewall.masking.types import ColumnKind

    src, tgt = pg_url_factory(), pg_url_factory()
    with psycopg.connect(src, autocommit=True) as conn:
        conn.execute(
            b"CREATE TABLE customers (id integer PRIMARY KEY, name text, emails text[], "
            b"phones varchar(30)[], tags text[])"
        )
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO customers VALUES (%s, %s, %s, %s, %s)",
                [
                    (i, f"{FIRST[i % 5]} {LAST[i % 8]}", [f"c{i}@mail.example.org", f"alt{i}@corp.example"],
                     [f"+34 612 {i:03d} 111"], ["vip", "newsletter"])
                    for i in range(1, 31)
                ],
            )  # fmt: skip
    plan = build_plan(src).plan
    cols = plan.tables["public.customers"].columns
    assert cols["emails"].transformer == "null", cols["emails"]
    assert "an array" in cols["emails"].reason and "email" in cols["emails"].reason
    assert cols["phones"].transformer == "null", cols["phones"]
    assert cols["tags"].transformer == "keep", cols["tags"]
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    assert report.passed, report.to_json()
    assert rows_of(
        tgt, "SELECT count(*) FROM customers WHERE emails IS NOT NULL OR phones IS NOT NULL"
    ) == [(0,)]
    assert rows_of(tgt, "SELECT DISTINCT tags FROM customers") == [(["vip", "newsletter"],)]
    # by name alone, with no samples (--sample 0)
    f = classify_column(table="t", column="backup_emails", kind=ColumnKind.ARRAY)
    assert f.transformer == "null", f


# ---- a birth date in a unique key ---------------------------------------------------------


def test_date_shift_per_block_is_a_derangement_within_blocks() -> None:
    """``per: block``: distinct days stay distinct, none stays where it was, none moves
    out of its 64-day block; dates, ISO text (as COPY and SQLite give them) and
    timestamps (time of day kept) agree."""
    import datetime as dt

    from stagewall.masking.transformers import build_transformer
    from stagewall.masking.transformers._numeric import BLOCK_DAYS

    tr = build_transformer("date_shift", {"per": "block"}, key=KEY, salt="t")
    assert tr.is_unique_safe()
    assert not build_transformer("date_shift", {}, key=KEY, salt="t").is_unique_safe()
    days = [dt.date(1940, 1, 1) + dt.timedelta(days=k) for k in range(30_000)]
    out = tr.transform(days)
    assert len(set(out)) == len(days)
    assert all(a != b for a, b in zip(days, out, strict=True))
    epoch = dt.date(1970, 1, 1)
    assert all(
        ((a - epoch).days // BLOCK_DAYS) == ((b - epoch).days // BLOCK_DAYS)
        for a, b in zip(days, out, strict=True)
    )
    texts = tr.transform([d.isoformat() for d in days[:500]])
    assert texts == [d.isoformat() for d in out[:500]]
    stamps = [dt.datetime(d.year, d.month, d.day, 13, 5, 7) for d in days[:500]]
    moved = tr.transform(stamps)
    assert [m.date() for m in moved] == out[:500] and {m.time() for m in moved} == {
        dt.time(13, 5, 7)
    }
    again = build_transformer("date_shift", {"per": "block"}, key=KEY, salt="t").transform(
        days[:50]
    )
    assert again == out[:50]


def test_a_birth_date_in_a_unique_key_with_the_names(make: Callable[[], str]) -> None:
    """``UNIQUE (last_name, first_name, birth_date)``: the plan gave the date the
    per-value ``date_shift`` (two dates may land on one day), lint refused it, and the
    run would not start. Now the date moves within its 64-day block, unique-safe: the
    unedited plan lints clean, runs and verifies, and the key still holds."""
    import datetime as dt

    from stagewall.masking.lint import Severity
    from stagewall.masking.planner import build_plan as plan_of
    from tests.masking.test_leak_traps import _execute

    src = make()
    _execute(
        src,
        [
            (
                "CREATE TABLE members (id INTEGER PRIMARY KEY, first_name VARCHAR(40) NOT NULL, "
                "last_name VARCHAR(40) NOT NULL, birth_date DATE NOT NULL, "
                "UNIQUE (last_name, first_name, birth_date))",
                [],
            ),
            (
                "INSERT INTO members VALUES (?, ?, ?, ?)",
                # the same name on neighbouring days: a per-value shift can merge them
                [(i, FIRST[i % 2], LAST[i % 2], (dt.date(1960, 1, 1) + dt.timedelta(days=i)).isoformat())
                 for i in range(1, 801)],
            ),
        ],
    )  # fmt: skip
    result = plan_of(src)
    assert not [p for p in result.problems if p.severity is Severity.ERROR], result.problems
    birth = result.plan.tables[_q(result.plan, "members")].columns["birth_date"]
    assert (birth.transformer, birth.params) == ("date_shift", {"per": "block"}), birth
    tgt = make()
    run(result.plan, src, tgt, KEY, RunOptions())
    report = verify(result.plan, src, tgt, KEY)
    assert report.passed, report.to_json()
    got = rows_of(tgt, "SELECT last_name, first_name, birth_date FROM members")
    assert len(set(got)) == 800


@pytest.mark.parametrize(
    ("params", "refused"), [({}, True), ({"per": "salt"}, False), ({"per": "block"}, False)]
)
def test_lint_asks_whether_the_params_make_a_date_shift_unique_safe(
    params: dict[str, str], refused: bool
) -> None:
    """``orders.placed`` in a unique key: refused with a per-value shift only."""
    from dataclasses import replace

    from stagewall.masking.lint import Rule, lint_plan
    from stagewall.masking.plan import Plan
    from stagewall.masking.schema import Schema
    from tests.masking.test_lint import _cols, _good, _schema

    schema = _schema()
    orders = replace(schema.tables[1], unique_constraints=(("id", "placed"),))
    tables = _good()
    tables["orders"] = _cols(
        id=("keep",), customer_id=("keep",), customer_email=("keep",), placed=("date_shift", params)
    )
    found = lint_plan(Plan(tables=tables), Schema("sqlite", (schema.tables[0], orders)))
    rules = {(p.rule, p.column) for p in found}
    assert ((Rule.NOT_UNIQUE_SAFE, "placed") in rules) is refused


# ---- the country code in brackets ---------------------------------------------------------


def test_a_phone_with_its_country_code_in_brackets(tmp_path: Path) -> None:
    """An event log with no foreign key (only the whole-target scan covers it) whose
    sample was clean, so the plan kept it; one row, written after planning as when
    the sample misses it, holds a customer's phone as ``(+34) 612 001 111``."""
    import sqlite3

    from stagewall.masking.classify import detect_in_text

    assert [m.text for m in detect_in_text("call (+44) 20 7946 0958 now")] == ["(+44) 20 7946 0958"]
    db = tmp_path / "source.db"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, phone TEXT)")
        conn.execute("CREATE TABLE event_log (id INTEGER PRIMARY KEY, line TEXT)")
        conn.executemany(
            "INSERT INTO customers VALUES (?, ?, ?)",
            [(i, f"{FIRST[i % 5]} {LAST[i % 8]}", f"+34 612 {i:03d} 111") for i in range(1, 31)],
        )
        conn.executemany(
            "INSERT INTO event_log VALUES (?, ?)", [(i, "job finished") for i in range(1, 30)]
        )
    src = f"sqlite:///{db}"
    plan = build_plan(src).plan
    assert plan.tables["event_log"].columns["line"].transformer == "keep"
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO event_log VALUES (99, 'callback requested on (+34) 612 001 111')")
    tgt = f"sqlite:///{tmp_path / 'target.db'}"
    run(plan, src, tgt, KEY, RunOptions())
    report = verify(plan, src, tgt, KEY)
    assert [(h.table, h.column, h.hits) for h in report.hits] == [("event_log", "line", 1)]
