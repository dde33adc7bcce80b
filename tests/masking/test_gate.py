"""The detector gate of verify's whole-target scan (masking/_gate.py).

The gate lets the detector skip target texts that hold no sensitive source unit.
It must never change a result: these tests check its premise (every detected
token is a piece of its text), that it never says "no" to a text holding a unit
(properties), and that the scan finds exactly the same hits with and without it
on randomised databases with planted survivors (differential).
"""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from stagewall.keys import MaskingKey
from stagewall.masking import _hashscan, _late
from stagewall.masking._gate import SIGMA, Gate, lowered, read_forms, unit_keys
from stagewall.masking._units import H
from stagewall.masking.classify import detect_texts
from stagewall.masking.db import Marker, MarkerStatus, open_database
from stagewall.masking.lint import scoped_schema
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan, consistency_salt
from stagewall.masking.transformers import build_transformer
from stagewall.masking.transformers._batch import keyed_hash
from stagewall.masking.verify import verify
from tests.masking.copier import masked_rows

KEY = MaskingKey("mk-gate", bytes(range(32)))
FIRST = ["Anna", "Jan", "Zofia", "Σοφία", "Νικόλαος", "Yésica", "Ömer", "İlkay", "Maria", "Lukas"]
LAST = ["Kowalska", "de Vries", "Carrasco", "Παπαδόπουλος", "Öztürk", "Ganthriv", "Dubois"]
STREETS = ["Calle Mayor", "Ganthriv Lane", "Οδός Ερμού", "Hauptstraße", "High Street"]
IBANS = ["DE89370400440532013000", "GB82WEST12345698765432", "NL91ABNA0417164300"]


def _hash(units: list[str]) -> H:
    return keyed_hash(b"k" * 16, "gate-test", units)


def _gate(units: list[str]) -> Gate:
    units = [lowered(u).strip() for u in units]
    units = [u for u in units if len(u) >= 4]
    lengths = [len(u) for u in units]
    import numpy as np

    return Gate(_hash(units), unit_keys(units), np.array(lengths, dtype=np.int64), _hash)


# ---- the premise: a token is a piece of the text it was found in ----------------------

_PIECES = st.sampled_from(
    [
        "Spoke with ",
        "Yésica Carrasco",
        "ΣΟΦΊΑ ΠΑΠΑΔΌΠΟΥΛΟΣ",
        " call +49 30 1234567",
        " mail anna.kowalska@corp-mail.example",
        " IBAN DE89 3704 0044 0532 0130 00",
        " lives at 222 Ganthriv Lane.",
        " 10.1.2.3 ",
        "\n",
        "; ",
        " Calle Mayor 7",
        " 4111 1111 1111 1111",
        # other forms of a finding (classify.other_forms)
        " anna&#64;example.com",
        " jörg12@bücher.de",
        " anna@xn--bcher-kva.de",
        " de89 3704 0044 0532 0130 00",
        " \u0430nna@example.com",
        " call +\u0664\u0669 \u0663\u0660 \u0661\u0662\u0663\u0664\u0665\u0666\u0667",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_PIECES, min_size=1, max_size=6).map("".join), min_size=1, max_size=8))
def test_every_detected_token_is_a_piece_of_its_text(texts: list[str]) -> None:
    """A token is a piece of its text, or (another form of a finding: the value read,
    an IBAN without its spaces) of one of the text's read forms, which the gate
    tests too; a text whose read forms are True is admitted whole."""
    for k, token in detect_texts(texts):
        forms = read_forms(texts[k])
        assert forms is True or any(lowered(token) in lowered(t) for t in [texts[k], *forms]), (
            token,
            texts[k],
        )


# ---- the gate never says "no" to a text holding a unit --------------------------------

_WORD = st.text(
    alphabet=st.sampled_from(list("abcdefgxyzAXZ0123456789 .@+-_ςσΣéÉİıöÖß")),
    min_size=0,
    max_size=14,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    units=st.lists(_WORD.filter(lambda u: len(u.strip()) >= 4), min_size=1, max_size=12),
    texts=st.lists(st.tuples(_WORD, _WORD, st.integers(0, 40), st.booleans()), max_size=12),
)
def test_gate_admits_every_text_holding_a_unit(
    units: list[str], texts: list[tuple[str, str, int, bool]]
) -> None:
    gate = _gate(units)
    made = []
    for before, after, which, upper in texts:
        unit = units[which % len(units)].strip()
        inner = unit.upper() if upper else unit
        made.append(before + inner + after)
        made.append(before + after)
    got = gate.admits(made)
    normal = [lowered(u).strip() for u in units]
    for text, admitted in zip(made, got, strict=True):
        holds = any(len(u) >= 4 and u in lowered(text) for u in normal)
        if holds:
            assert admitted, (text, units)
        elif SIGMA not in lowered(text):
            assert not admitted, (text, units)  # exact, up to 64-bit hash collisions


def test_gate_on_known_cases() -> None:
    gate = _gate(["Anna", "Miller123", "user5@mail5.example.org", "ΣΟΦΊΑΣ", "+49 30 1000005"])
    got = gate.admits(
        [
            "Spoke with ANNA today",
            "nothing here",
            "call +49 30 1000005 now",
            "short",
            "",
            "\u0397 \u03c3\u03bf\u03c6\u03af\u03b1\u03c2 x",  # sigma: final in the unit
            "millER1234",
            "milleR12",
            "USER5@MAIL5.EXAMPLE.ORG.",
            "user5@mail5.example.or",
        ]
    )
    assert got == [True, False, True, False, False, True, True, False, True, False]


# ---- differential: the scan with and without the gate, on planted survivors -----------

DDL = """
CREATE TABLE people (id INTEGER PRIMARY KEY, email TEXT, first TEXT, last TEXT, phone TEXT,
  street TEXT, iban TEXT, notes TEXT, doc TEXT, status TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, person_id INTEGER REFERENCES people(id),
  note TEXT, ship_street TEXT, memo TEXT);
"""


def _cp(t: str, **p: Any) -> ColumnPlan:
    return ColumnPlan(transformer=t, params=p, reason="test")


PLAN = Plan(
    tables={
        "people": TablePlan(
            columns={
                "id": _cp("keep"),
                "email": _cp("email"),
                "first": _cp("first_name"),
                "last": _cp("last_name"),
                "phone": _cp("phone"),
                "street": _cp("street_address"),
                "iban": _cp("iban"),
                "notes": _cp("text_scrub"),
                "doc": _cp("json_mask", unknown_keys="scrub"),
                "status": _cp("keep"),
            }
        ),
        "orders": TablePlan(
            columns={
                "id": _cp("keep"),
                "person_id": _cp("keep"),
                "note": _cp("keep"),  # kept free text: only what it holds decides
                "ship_street": _cp("street_address"),
                "memo": _cp("text_scrub"),
            }
        ),
    }
)


def _person(rng: random.Random, i: int) -> dict[str, str]:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    return {
        "first": first,
        "last": last,
        "email": f"{first.lower()}.{i}@mail{i % 5}.example.org",
        "phone": f"+49 30 {rng.randrange(1_000_000, 9_999_999)}",
        "street": f"{rng.choice(STREETS)} {rng.randrange(1, 300)}",
        "iban": rng.choice(IBANS),
    }


def _source(path: Path, rng: random.Random, n: int) -> tuple[str, list[dict[str, str]]]:
    conn = sqlite3.connect(path)
    conn.executescript(DDL)
    people = [_person(rng, i) for i in range(n)]
    for i, p in enumerate(people):
        notes = rng.choice(
            [
                f"Spoke with {p['first']} {p['last']}; she moved to {p['street']}",
                f"Call {p['phone']} or mail {p['email']}",
                "Paid by transfer, no issues so far.",
                "",
                None,
            ]
        )
        doc = json.dumps({"channel": rng.choice(["web", "app"]), "contact": p["email"]})
        conn.execute(
            "INSERT INTO people VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (i + 1, p["email"], p["first"], p["last"], p["phone"], p["street"], p["iban"],
             notes, doc, rng.choice(["active", "closed"])),
        )  # fmt: skip
        conn.execute(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
            (i + 1, i + 1, rng.choice(["Gift wrap please.", "Ring twice.", None]),
             p["street"], rng.choice(["Call first.", "asap", None])),
        )  # fmt: skip
    conn.commit()
    conn.close()
    return f"sqlite:///{path}", people


def _plant(
    rng: random.Random, rows: dict[str, list[list[Any]]], people: list[dict[str, str]]
) -> int:
    """Put source values into random target text cells; returns how many were planted."""
    spots = [("people", 7), ("people", 8), ("orders", 2), ("orders", 4), ("people", 9)]
    planted = 0
    for k in range(rng.randrange(1, 12)):
        table, col = rng.choice(spots)
        row = rng.choice(rows[table])
        p = rng.choice(people)
        # the first is an e-mail, which the whole-target scan must find wherever it is
        value = p[
            "email" if k == 0 else rng.choice(["email", "phone", "iban", "street", "first", "last"])
        ]
        value = rng.choice([value, value.upper(), value.lower(), value.title()])
        if col == 8:  # a JSON document: as a leaf of its own
            row[col] = json.dumps({"channel": "web", "note": rng.choice([value, f"x {value} y"])})
        else:
            row[col] = rng.choice([value, f"see {value}, thanks", f"{value}!"])
        planted += 1
    return planted


def _write(target: Path, rows: dict[str, list[list[Any]]]) -> str:
    conn = sqlite3.connect(target)
    conn.executescript(DDL.replace("REFERENCES people(id)", ""))
    for table, data in rows.items():
        ph = ", ".join("?" * len(data[0]))
        conn.executemany(f"INSERT INTO {table} VALUES ({ph})", data)
    conn.commit()
    conn.close()
    url = f"sqlite:///{target}"
    with open_database(url, role="target", read_only=False) as t:
        t.write_marker(
            Marker("run1", MarkerStatus.COMPLETE, PLAN.sha256(), KEY.key_id, "t0", "t1", "{}")
        )
    return url


def _scan_both(source: str, target: str) -> tuple[list[dict[str, int]], list[dict[str, int]]]:
    """Hits per table and column: as verify finds them (gated scan, late tokens
    resolved), and the reference (every output's tokens found up front, every
    target text read by the detector)."""
    with open_database(source, role="source") as db:
        schema = scoped_schema(PLAN, db.introspect())
        db.begin_read()
        sets = _hashscan.collect(PLAN, schema, db, KEY, 37, None)
        full_sets = _hashscan.collect(PLAN, schema, db, KEY, 37, None, late=False)
        assert sets.gate is not None and not sets.gate.disabled
        assert sets.late and not full_sets.late
        full_sets.gate = None
        with open_database(target, role="target", read_only=True) as tdb:
            tschema = tdb.introspect()
            tdb.begin_read()
            gated = _hashscan.scan(tschema, tdb, sets, 37, None)
            _late.resolve(gated, sets, PLAN, schema, db, KEY, 37)
            full = _hashscan.scan(tschema, tdb, full_sets, 37, None)
    assert not any(r.pending for r in full)
    return [r.counts for r in gated], [r.counts for r in full]


@pytest.mark.parametrize("seed", range(8))
def test_gated_scan_finds_the_same_hits_as_the_full_scan(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    source, people = _source(tmp_path / "src.db", rng, 40 + seed * 7)
    rows = masked_rows(PLAN, source, KEY)
    planted = _plant(rng, rows, people)
    target = _write(tmp_path / "tgt.db", rows)
    gated, full = _scan_both(source, target)
    assert gated == full
    assert planted and sum(sum(c.values()) for c in full) > 0  # the planted values are found


def test_clean_copy_has_no_hits_either_way(tmp_path: Path) -> None:
    rng = random.Random(99)
    source, _ = _source(tmp_path / "src.db", rng, 60)
    target = _write(tmp_path / "tgt.db", masked_rows(PLAN, source, KEY))
    gated, full = _scan_both(source, target)
    assert gated == full
    assert verify(PLAN, source, target, KEY).passed


@pytest.mark.parametrize("jobs", [1, 2])
def test_planted_email_in_kept_free_text_fails_verify(tmp_path: Path, jobs: int) -> None:
    rng = random.Random(7)
    source, people = _source(tmp_path / "src.db", rng, 50)
    rows = masked_rows(PLAN, source, KEY)
    rows["orders"][3][2] = f"Customer {people[17]['email'].upper()} called"
    rows["orders"][4][2] = f"IBAN {people[2]['iban']} on file"
    target = _write(tmp_path / "tgt.db", rows)
    report = verify(PLAN, source, target, KEY, jobs=jobs)
    assert not report.passed
    assert {(h.table, h.column): h.hits for h in report.hits}.get(("orders", "note")) == 2


def _names_of_street_pseudonyms_as_first_names(
    path: Path, source: str, people: list[dict[str, str]], most: int
) -> list[str]:
    """Make source first names of the names the street pseudonymiser writes inside
    its outputs ("6619 David Alley"); returns the street pseudonyms."""
    with open_database(source, role="source") as db:
        schema = db.introspect()
    street = build_transformer(
        "street_address", {}, key=KEY, salt=consistency_salt(schema, "people", "street")
    )
    outputs: list[str] = street.transform([p["street"] for p in people])  # type: ignore[assignment]
    tokens = sorted(
        {t for _, t in detect_texts(outputs) if t.isalpha() and len(t) >= 4 and " " not in t}
    )
    assert tokens, "no name inside the street pseudonyms: pick another seed"
    conn = sqlite3.connect(path)
    for i, t in enumerate(tokens[:most]):
        conn.execute("UPDATE people SET first = ? WHERE id = ?", (t, i + 1))
    conn.commit()
    conn.close()
    return outputs


def test_late_tokens_of_a_pseudonymiser_resolve_as_before(tmp_path: Path) -> None:
    """Source first names that the street pseudonymiser also writes inside its
    outputs ("6619 David Alley"): the tokens are legitimate street outputs, found
    only by _late.resolve(); an e-mail planted in a street cell stays a hit."""
    rng = random.Random(5)
    source, people = _source(tmp_path / "src.db", rng, 400)
    _names_of_street_pseudonyms_as_first_names(tmp_path / "src.db", source, people, 50)
    rows = masked_rows(PLAN, source, KEY)
    rows["people"][7][5] = f"12 Main St, see {people[3]['email']}"
    target = _write(tmp_path / "tgt.db", rows)
    with open_database(source, role="source") as db:
        sets = _hashscan.collect(PLAN, scoped_schema(PLAN, db.introspect()), db, KEY, 37, None)
        with open_database(target, role="target", read_only=True) as tdb:
            found = _hashscan.scan(tdb.introspect(), tdb, sets, 37, None)
    pending = {(r.table, c): len(p.texts) for r in found for c, p in r.pending.items()}
    assert pending.get(("people", "street"), 0) > 1  # the names, and the e-mail
    gated, full = _scan_both(source, target)
    assert gated == full
    assert {c: k for r in full for c, k in r.items() if k} == {"street": 1}


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 5)), max_size=60),
    st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=4),
)
def test_distinct_pairs_and_bitmap_equal_the_plain_way(
    pairs: list[tuple[int, int]], pool: list[int]
) -> None:
    """The gate's (key, length) pairs and bitmap as the two-key sort and the
    bit-by-bit ``bitwise_or.at`` gave them (many equal keys: a small key pool)."""
    from stagewall.masking._gate import _BITS, _bitmap, distinct_pairs

    keys = np.array([pool[a % len(pool)] for a, _ in pairs], dtype=np.uint64)
    lengths = np.array([4 + b for _, b in pairs], dtype=np.int64)
    got_k, got_n = distinct_pairs(keys, lengths)
    want = sorted(set(zip(keys.tolist(), lengths.tolist(), strict=True)))
    assert list(zip(got_k.tolist(), got_n.tolist(), strict=True)) == want
    plain = np.zeros(1 << (_BITS - 3), dtype=np.uint8)
    slot = keys >> np.uint64(64 - _BITS)
    np.bitwise_or.at(
        plain,
        (slot >> np.uint64(3)).astype(np.int64),
        (np.uint8(1) << (slot & np.uint64(7)).astype(np.uint8)),
    )
    assert np.array_equal(_bitmap(keys), plain)


def _late_legit_reference(
    sets: Any, table: Any, column: str, got: Any, db: Any, schema: Any
) -> list[int]:
    """_late._late_legit as it was before it looked only at the rows whose output
    holds a pending unit (every row's input and output units found)."""
    from stagewall.masking._units import HashSet, contains, unique_sorted

    cp = PLAN.column(table.qualified, column)
    assert cp is not None
    tr = build_transformer(
        cp.transformer, cp.params, key=KEY, salt=consistency_salt(schema, table.qualified, column)
    )
    wanted = unique_sorted(np.concatenate(got.hashes))
    texts = list(dict.fromkeys(got.texts))
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    gate = Gate(wanted, unit_keys(texts), lengths, sets.hasher.hash_many)
    legit = HashSet()
    for _, (values,) in db.iter_columns(table, [column], None, 37):
        units = sets.hasher.flat(values, gate)
        out = sets.hasher.flat(_hashscan.transform(tr, list(values), table, column), gate)
        new = ~contains(unique_sorted(units.pair_keys()), out.pair_keys())
        mine = out.hashes[new]
        legit.add_array(mine[contains(wanted, mine)])
    return sorted(legit.array().tolist())


@pytest.mark.parametrize("seed", range(4))
def test_late_legit_of_the_pending_rows_equals_every_rows(tmp_path: Path, seed: int) -> None:
    """Only the rows whose output holds a pending unit have their input's units
    found: the legitimate units are those of the plain way (every row)."""
    rng = random.Random(seed)
    source, people = _source(tmp_path / "src.db", rng, 120)
    # names that street pseudonyms hold as source first names: pending hits
    outputs = _names_of_street_pseudonyms_as_first_names(tmp_path / "src.db", source, people, 30)
    rows = masked_rows(PLAN, source, KEY)
    for k in range(rng.randrange(3, 12)):  # other rows' pseudonyms, own values, e-mails
        row = rng.choice(rows["people"])
        row[5] = rng.choice([rng.choice(outputs), people[k]["street"], people[k]["email"]])
    target = _write(tmp_path / "tgt.db", rows)
    with open_database(source, role="source") as db:
        schema = scoped_schema(PLAN, db.introspect())
        db.begin_read()
        sets = _hashscan.collect(PLAN, schema, db, KEY, 37, None)
        with open_database(target, role="target", read_only=True) as tdb:
            tdb.begin_read()
            found = _hashscan.scan(tdb.introspect(), tdb, sets, 37, None)
        checked = 0
        for result in found:
            table = schema.table(sets.source_name_of(result.table))
            assert table is not None
            for column, got in result.pending.items():
                fast = _late._late_legit(PLAN, schema, db, KEY, sets, table, column, got, 37)
                plain = _late_legit_reference(sets, table, column, got, db, schema)
                assert sorted(fast.tolist()) == plain
                checked += len(plain)
    assert checked  # some pending units are legitimate street outputs


def _unit_keys_by_windows(units: list[str]) -> list[int]:
    """The code before ``unit_keys`` keyed only the units' starts: every window of
    the joined heads keyed (``_windows``), then the start of each unit picked."""
    from stagewall.masking._gate import LONG, SEP, SHORT, UNGATED, _windows

    heads = [u[:LONG] for u in units]
    joined = lowered(SEP.join(heads))
    if len(joined) != sum(map(len, heads)) + len(heads) - 1:
        return [k for u in units for k in _unit_keys_by_windows([lowered(u)])]
    short, long = _windows(joined)
    out, at = [], 0
    for h in heads:
        n = len(h)
        out.append(int(long[at]) if n >= LONG else int(short[at]) if n >= SHORT else int(UNGATED))
        at += n + 1
    return out


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.text(st.sampled_from("ab é@.7İ\u03c2\u03c3\x00"), max_size=12), min_size=1, max_size=40
    )
)
def test_unit_keys_equal_the_windows_at_the_units_starts(units: list[str]) -> None:
    assert unit_keys(units).tolist() == _unit_keys_by_windows(units)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    units=st.lists(_WORD.filter(lambda u: len(u.strip()) >= 4), min_size=1, max_size=12),
    texts=st.lists(st.tuples(_WORD, _WORD, st.integers(0, 40), st.booleans()), max_size=12),
    others=st.integers(0, 3000),
)
def test_gate_answers_as_its_plain_exact_check(
    units: list[str], texts: list[tuple[str, str, int, bool]], others: int
) -> None:
    """The exact check of the pieces a window key admits goes through a bitmap of the
    units' top bits (``_units.Members``): the texts admitted are those the plain
    ``contains`` of every piece's hash admitted, with sensitive sets of any size
    (other units whose hashes are not the pieces')."""
    from stagewall.masking._units import contains, unique_sorted

    normal = [u for u in (lowered(u).strip() for u in units) if len(u) >= 4]
    extra = [f"other unit {k}" for k in range(others)]
    sensitive = _hash(normal + extra)
    keys = unit_keys(normal + extra)
    lengths = np.array([len(u) for u in normal + extra], dtype=np.int64)
    gate = Gate(sensitive, keys, lengths, _hash)
    plain = Gate(sensitive, keys, lengths, _hash)
    array = unique_sorted(sensitive)
    plain._sensitive = lambda hashes: contains(array, hashes)  # type: ignore[assignment,method-assign]
    made = []
    for before, after, which, upper in texts:
        unit = units[which % len(units)].strip()
        made += [before + (unit.upper() if upper else unit) + after, before + after]
    made += [f"x other unit {k} y" for k in range(0, others, 97)] + ["other unit"]
    assert gate.admits(made) == plain.admits(made)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.lists(
            st.sampled_from([*"ab z09\n\r.", "de89", "gb82west", "0" * 11, "\n" * 2])
            | st.sampled_from(["de89370400440532013000", "nl91abna0417164300", "de89 3704"]),
            max_size=6,
        ).map("".join),
        max_size=8,
    )
)
def test_compact_iban_search_equals_the_multiline_search(units: list[str]) -> None:
    """holds_compact_iban as it was: ``^...$`` with re.MULTILINE over the units joined."""
    import re

    from stagewall.masking._gate import holds_compact_iban

    plain = re.compile("^[a-z]{2}[0-9]{2}[a-z0-9]{11,30}$", re.MULTILINE)
    assert holds_compact_iban(units) == (plain.search("\n".join(units)) is not None)


def _texts_at(texts: list[str], starts: list[int]) -> set[int]:
    """The texts (joined by NUL) the places ``starts`` are in."""
    first = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]])
    return set((np.searchsorted(first, starts, side="right") - 1).tolist())


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.lists(
            st.sampled_from([*"aZ0 9 .\x00é٣", "DE89", "de 89", "GB82WEST", "3704", " 0044 "])
            | st.sampled_from(["DE89 3704 0044 0532 0130 00", "nl91abna0417164300", "12 x"])
            | st.sampled_from(["AB1C D", "x" * 17, "0" * 17]),
            max_size=8,
        ).map("".join),
        min_size=1,
        max_size=8,
    )
)
@example(["AB1C D"])  # one check digit
@example(["AB12" + "x" * 34 + " 1", "AB12" + "x" * 35 + " 1"])  # the longest run, and longer
@example(["AB12 \x00D"])  # no character after the space in this text
def test_spaced_iban_places_are_in_the_texts_the_pattern_finds(texts: list[str]) -> None:
    """spaced_iban_starts (ASCII text searched in its classes) names the texts the
    plain ``_SPACED_IBAN.finditer`` of the joined texts names (the gate reads those)."""
    from stagewall.masking._gate import _SPACED_IBAN, spaced_iban_starts

    joined = "\x00".join(texts)
    plain = [m.start() for m in _SPACED_IBAN.finditer(joined)]
    assert _texts_at(texts, spaced_iban_starts(joined)) == _texts_at(texts, plain)
