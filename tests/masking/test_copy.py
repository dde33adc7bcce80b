"""The COPY data path's shortcuts change no byte of the masked copy.

Differential: the same source, plan and key copied by the reference path (no
column memo, one JSON parse per field, one process) and by the fast paths (memo
across batches, memo switching itself off, JSON batches, forked workers that
inherit the coordinator's transformers, threads) must give byte-identical
targets. The source has the values that trip COPY text codecs: NULLs, empty
strings, backslashes, tabs, newlines and carriage returns inside text, unicode,
JSON with escapes, arrays, bytea, and columns with many repeats (the memo's
case) next to mostly distinct ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from stagewall.masking import _copy, _memo
from stagewall.masking.db import _postgres
from stagewall.masking.db._pgtext import decode_json_column, encode_column
from stagewall.masking.engine import RunOptions, run
from stagewall.masking.plan import ColumnPlan, Plan, TablePlan
from stagewall.masking.types import ColumnKind
from tests.masking.integration.helpers import KEY

pytestmark = pytest.mark.postgres

N = 1500  # people; orders and visits have twice as many rows

SOURCE = [
    """CREATE TABLE people (id int PRIMARY KEY, first_name text, last_name text,
       email text UNIQUE, city text, note text, profile jsonb, tags text[], photo bytea,
       born date, created timestamptz, score numeric(8,2))""",
    """CREATE TABLE orders (id int PRIMARY KEY, person_id int REFERENCES people (id),
       street text, note text, meta jsonb, ip text, amount numeric(10,2))""",
    """CREATE TABLE visits (id int PRIMARY KEY, ip text, city text, label text,
       seen timestamptz, payload json, tags int[], blob bytea, phone text)""",
    # awkward values, cycled through by every generated row (g % 12)
    """CREATE TABLE odd (i int, t text, j text)""",
    """INSERT INTO odd VALUES
       (0, NULL, NULL), (1, '', '{}'), (2, 'O\\Brien', '{"a": "back\\\\slash"}'),
       (3, E'Ann\\tMarie', '{"t": "tab\\there"}'), (4, E'line\\nbreak', '[1, 2.5, null]'),
       (5, E'cr\\rhere', '"just a string"'), (6, 'Zoë Łukasz 李雷 🙂', '{"u": "Zoë 🙂"}'),
       (7, 'tab	raw', '{"q": "say \\"hi\\""}'), (8, '\\N', '{"n": null}'),
       (9, 'Jean-Luc', '{"nested": {"name": "Jean-Luc", "list": ["x", "y\\nz"]}}'),
       (10, ' ', 'null'), (11, 'Émilie', '{"e": "mail émilie@example.org"}')""",
    f"""INSERT INTO people
       SELECT g, o.t,
              (ARRAY['Miller','Smith','Nowak','Øster','D''Arcy'])[1 + g % 5] || (g % 40),
              'p' || g || '@mail' || (g % 7) || '.example.org',
              (ARRAY['Berlin','Paris',NULL,'','Zürich','Back\\slash'])[1 + g % 6],
              CASE g % 4 WHEN 0 THEN 'Spoke with ' || coalesce(o.t, 'x') || ' on ' || g
                         WHEN 1 THEN o.t WHEN 2 THEN '' END,
              CASE WHEN g % 13 = 0 THEN NULL WHEN o.j LIKE '{{%' THEN o.j::jsonb END,
              ARRAY[o.t, 'q"uote', NULL, 'b\\s'],
              CASE WHEN g % 3 = 0 THEN NULL ELSE decode(lpad(to_hex(g), 8, '0'), 'hex') END,
              date '1970-01-01' + g, timestamptz '2024-01-01 00:00:00+00' + g * interval '37 s',
              g / 7.0
       FROM generate_series(1, {N}) g JOIN odd o ON o.i = g % 12""",
    f"""INSERT INTO orders
       SELECT g, 1 + g % {N}, (g % 50) || ' High Street' || CASE WHEN g % 9 = 0 THEN o.t END,
              CASE g % 3 WHEN 0 THEN 'Deliver to ' || coalesce(o.t, '?') WHEN 1 THEN o.t END,
              CASE WHEN g % 11 = 0 THEN NULL
                   ELSE jsonb_build_object('channel', (ARRAY['web','app'])[1 + g % 2],
                                           'gift', o.t) END,
              '10.0.' || (g % 3) || '.' || (g % 200), g % 500 / 3.0
       FROM generate_series(1, {2 * N}) g JOIN odd o ON o.i = g % 12""",
    f"""INSERT INTO visits
       SELECT g, CASE WHEN g % 17 = 0 THEN NULL ELSE '192.0.2.' || (g % 40) END,
              (ARRAY['Berlin','Paris',NULL,'','Zürich', E'Tab\\tTown'])[1 + g % 6],
              o.t, timestamptz '2024-06-01 12:00:00+00' + (g % 300) * interval '1 minute',
              CASE WHEN g % 5 = 0 THEN NULL ELSE o.j::json END,
              ARRAY[g, NULL, -g], decode(repeat('5c09', 1 + g % 3), 'hex'),
              -- phones: mostly printable ASCII (phone's COPY-field path), with the odd
              -- values (NULL, empty, blank, escapes, unicode) and digits of other scripts
              CASE WHEN g % 7 = 0 THEN o.t WHEN g % 29 = 0 THEN '+49 ' || '٣٠ ' || g
                   WHEN g % 2 = 0 THEN '+49 30 ' || (1000000 + g) ELSE '(555) ' || g || '-12' END
       FROM generate_series(1, {2 * N}) g JOIN odd o ON o.i = g % 12""",
    "DROP TABLE odd",
]

PLAN: dict[str, dict[str, tuple[str, dict[str, Any]]]] = {
    "people": {
        "first_name": ("first_name", {}),
        "last_name": ("last_name", {}),
        "email": ("email", {}),
        "city": ("city", {}),
        "note": ("text_scrub", {}),
        "profile": ("json_mask", {"unknown_keys": "scrub"}),
        "born": ("birth_date", {}),
        "created": ("date_shift", {"max_days": 30}),
    },
    "orders": {
        "street": ("street_address", {}),
        "note": ("text_scrub", {}),
        "meta": ("json_mask", {"unknown_keys": "scrub"}),
        "ip": ("ip_address", {}),
        "amount": ("numeric_noise", {}),
    },
    "visits": {  # no free text: the prefix path (transformed columns first)
        "ip": ("ip_address", {}),
        "city": ("city", {}),
        "label": ("redact", {}),
        "seen": ("date_shift", {"max_days": 10}),
        "phone": ("phone", {}),
    },
}


def plan_for(url: str, chosen_by_table: dict[str, dict[str, tuple[str, dict[str, Any]]]]) -> Plan:
    """A plan of every column of ``url``'s tables: the chosen transformer, else keep."""
    from stagewall.masking.db import open_database

    with open_database(url) as db:
        schema = db.introspect()
    tables = {}
    for t in schema.tables:
        chosen = chosen_by_table.get(t.name, {})
        tables[t.qualified] = TablePlan(
            columns={
                c.name: ColumnPlan(
                    transformer=chosen.get(c.name, ("keep", {}))[0],
                    params=chosen.get(c.name, ("keep", {}))[1],
                )
                for c in t.columns
            }
        )
    return Plan(tables=tables)


def _plan(url: str) -> Plan:
    return plan_for(url, PLAN)


def _dump(url: str) -> dict[str, bytes]:
    out = {}
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        for table in ("people", "orders", "visits"):
            with cur.copy(f"COPY (SELECT * FROM {table} ORDER BY id) TO STDOUT".encode()) as cp:
                out[table] = b"".join(bytes(chunk) for chunk in cp)
    return out


@pytest.fixture
def source(pg_url_factory: Callable[[], str]) -> str:
    url = pg_url_factory()
    with psycopg.connect(url, autocommit=True) as conn:
        for stmt in SOURCE:
            conn.execute(stmt.encode())
        conn.execute(b"ANALYZE")
    return url


def test_fast_paths_give_the_reference_bytes(
    source: str, pg_url_factory: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    plan = _plan(source)

    def copy(**options: Any) -> dict[str, bytes]:
        target = pg_url_factory()
        result = run(plan, source, target, KEY, RunOptions(**options))
        assert result.total_rows == 5 * N
        return _dump(target)

    with monkeypatch.context() as m:  # the reference: none of the shortcuts
        m.setattr(_memo, "MAX_ENTRIES", 0)
        m.setattr(_postgres, "_plain_json", lambda loader: False)
        m.setattr(_copy, "DIRECT", False)  # date_shift, phone through str, not on COPY fields
        reference = copy(jobs=1, batch_rows=97)
    src = _dump(source)
    for table in ("people", "orders", "visits"):  # masked, but not emptied
        assert reference[table] != src[table]
        assert reference[table].count(b"\n") == src[table].count(b"\n")

    assert copy(jobs=1, batch_rows=97) == reference  # memo hits across batches
    assert copy(jobs=1, batch_rows=100_000) == reference  # one batch per table
    with monkeypatch.context() as m:  # memos judged early: the distinct ones switch off
        m.setattr(_memo, "PROBATION", 150)
        assert copy(jobs=2, split_min_pages=1, batch_rows=61) == reference  # forked workers
    assert copy(jobs=2, split_min_pages=1, batch_rows=61, workers="thread") == reference


def test_a_batchs_consumers_share_its_probes(
    source: str, pg_url_factory: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table with a note and a JSON column (text_scrub and json_mask) builds its
    batch's known-value probes once (a KnownBatch), and the copy is byte for byte the
    one each consumer building its own gives; also with forked workers and the
    SQLite-style row path."""
    from stagewall.masking.transformers import _known

    plan = _plan(source)

    def copy(**options: Any) -> dict[str, bytes]:
        target = pg_url_factory()
        run(plan, source, target, KEY, RunOptions(**options))
        return _dump(target)

    with monkeypatch.context() as m:  # the code before: a plain list, pairs per consumer
        m.setattr(_copy, "KnownBatch", list)
        reference = copy(jobs=1, batch_rows=97)
    shared: list[int] = []
    real = _known.KnownBatch.pairs

    def counting(self: Any) -> Any:
        shared.append(len(self))
        return real(self)

    with monkeypatch.context() as m:
        m.setattr(_known.KnownBatch, "pairs", counting)
        assert copy(jobs=1, batch_rows=97) == reference
    assert shared  # the shared path was taken
    assert copy(jobs=2, split_min_pages=1, batch_rows=61) == reference


def test_memo_switches_off_for_distinct_fields_and_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[list[bytes]] = []

    def compute(raw: list[bytes]) -> list[bytes]:
        calls.append(raw)
        return [f.upper() + b"\t" for f in raw]

    repeated = _memo.ColumnMemo()
    batch = [b"a", b"b", b"a", b"\\N", b""] * 20
    assert repeated.column(batch, compute) == [f.upper() + b"\t" for f in batch]
    assert calls == [[b"a", b"b", b"\\N", b""]]  # each distinct field once
    assert repeated.column([*batch, b"c"], compute)[-1] == b"C\t"
    assert calls[1] == [b"c"]  # the rest came from the memo

    monkeypatch.setattr(_memo, "PROBATION", 100)
    monkeypatch.setattr(_memo, "MAX_ENTRIES", 150)
    distinct = _memo.ColumnMemo()
    for k in range(3):
        fields = [str(k * 1000 + i).encode() for i in range(60)]
        assert distinct.column(fields, compute) == [f + b"\t" for f in fields]
    assert not distinct.active and not distinct.map  # rarely repeated: off and emptied

    bounded = _memo.ColumnMemo()
    monkeypatch.setattr(_memo, "MIN_HIT_RATE", 0.0)
    for k in range(10):
        bounded.column([str(k * 1000 + i).encode() for i in range(60)], compute)
    assert len(bounded.map) <= 150 + 60  # stops growing at its bound (one batch over)


def test_memo_is_judged_only_after_it_could_have_filled() -> None:
    """20,000 distinct fields in a cycle (no repeat in the first 20,000): the memo
    stays on and serves every later field (before, judged after 12,000 fields with
    no hit, it switched itself off and every field was transformed again)."""
    computed: list[int] = []

    def compute(raw: list[bytes]) -> list[bytes]:
        computed.append(len(raw))
        return [f + b"!" for f in raw]

    memo = _memo.ColumnMemo()
    for start in range(0, 60_000, 5_000):
        fields = [str((start + i) % 20_000).encode() for i in range(5_000)]
        assert memo.column(fields, compute) == [f + b"!" for f in fields]
    assert memo.active
    assert sum(computed) == 20_000 and memo.hits == 40_000


@pytest.mark.parametrize(
    "fields",
    [
        [b'{"a": 1}', b"\\N", b"null", b'"x\\\\ty"', b"[1, 2.5, null]", b'{"u": "\\\\u00e9"}'],
        [b"\\N", b"\\N"],
        [b"{not json", b"1"],  # falls back, and fails as one parse per field does
    ],
)
def test_json_batch_decode_equals_one_parse_per_field(fields: list[bytes]) -> None:
    import json

    from stagewall.masking.db._pgtext import unescape

    def one_by_one() -> list[Any]:
        return [None if f == b"\\N" else json.loads(unescape(f)) for f in fields]

    try:
        expected = one_by_one()
    except ValueError:
        with pytest.raises(ValueError):
            decode_json_column(fields)
        return
    assert decode_json_column(fields) == expected


def test_json_documents_encode_as_before() -> None:
    from stagewall.masking.db._pgtext import encode

    docs: list[Any] = [{"a": "t\tb\\", "é": [1, None]}, None, [1, "x"], "text", True, 3]
    assert encode_column(docs, ColumnKind.JSON) == [encode(d, ColumnKind.JSON) for d in docs]
    # a batch of documents, one holding the separator the batch encoding uses
    many: list[Any] = [{"n": i, "s": "x\n" * (i % 3)} for i in range(50)]
    assert encode_column(many, ColumnKind.JSON) == [encode(d, ColumnKind.JSON) for d in many]
    many[7] = {"k": ["\x00\x01", "z"]}
    assert encode_column(many, ColumnKind.JSON) == [encode(d, ColumnKind.JSON) for d in many]
    with pytest.raises(TypeError):  # what a document cannot be encoded as, as before
        encode_column([{"a": 1}, {"b": {(1, 2): 3}}], ColumnKind.JSON, b"\t")
    assert encode_column(docs, ColumnKind.JSON, b"\t")[0] == b'{"a": "t\\\\tb\\\\\\\\", ' + (
        b'"\\\\u00e9": [1, null]}\t'
    )


class _Counter:
    """Not a function of its input: must never be memoised."""

    memoisable = False

    def __init__(self) -> None:
        self.n = 0

    def transform(self, values: list[Any]) -> list[Any]:
        self.n += len(values)
        return [f"{v}-{self.n}" for v in values]


def test_a_transformer_may_opt_out_of_the_memo() -> None:
    from stagewall.masking._copy import Mapper
    from stagewall.masking.db._pgtext import decode_text_column
    from stagewall.masking.schema import Column, Table

    table = Table(schema=None, name="t", columns=(Column("a", ColumnKind.TEXT, "text"),))
    mapper = Mapper(table, {"a": _Counter()})
    lines = [b"x\n"] * 3
    first = mapper.apply_text_batch(lines, [decode_text_column], encode_column)
    again = mapper.apply_text_batch(lines, [decode_text_column], encode_column)
    assert first == b"x-3\n" * 3
    assert again == b"x-6\n" * 3  # transformed again, not looked up
