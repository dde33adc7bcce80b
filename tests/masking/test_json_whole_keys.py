"""json_mask's whole-key pseudonym meeting a source person's full name by chance.

A JSON key that still holds a word of itself once scrubbed (``Gift for Ana Lopez
wedding``: the name replaced, ``wedding`` left) is renamed whole by a full-name
pseudonym (``JsonMask._wholly``). The pseudonyms are common names, so one may be
another customer's first and last name; verify searches every target text for the
source's full names (``_namepairs``, word_hits kind ``name``), keys included, so a
clean copy failed verify. text_scrub draws such a name again (up to 4 passes, then
stars it out); the whole key was not drawn again, nor was a leaf a path's own
transformer writes (``$.contact: full_name``). Now both are, the same way. (The
three tests failed before: the key or leaf was the customer's name and verify
failed on it.)
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from stagewall.masking.engine import RunOptions, run
from stagewall.masking.planner import build_plan
from stagewall.masking.verify import verify
from tests.masking.integration.helpers import KEY
from tests.masking.test_leak_traps import _customer

N = 20
WHOLE = "Gift for Ana Lopez wedding"  # renamed whole (``wedding`` survives the scrub)
PLAIN: dict[str, Any] = {"theme": "dark"}


def _source(path: Path, extra: tuple[str, str] | None) -> str:
    people = [_customer(i) for i in range(1, N + 1)]
    rows = [
        (p["id"], p["first_name"], p["last_name"], p["email"], "Deliver before noon.",
         json.dumps({WHOLE: 1} if p["id"] == 1 else PLAIN))
        for p in people
    ]  # fmt: skip
    if extra is not None:  # a customer named as the key's pseudonym
        rows.append((N + 1, *extra, "x.y@mail.example.org", "Deliver before noon.", "{}"))
    conn = sqlite3.connect(path)
    conn.execute(
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, first_name VARCHAR(40), "
        "last_name VARCHAR(40), email VARCHAR(100), notes TEXT, prefs JSON)"
    )
    conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def _key_of_row_1(url: str) -> str:
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        (doc,) = conn.execute("SELECT prefs FROM customers WHERE id = 1").fetchone()
    finally:
        conn.close()
    (key,) = json.loads(doc)
    return str(key)


def test_a_whole_key_pseudonym_that_is_a_customers_name_is_drawn_again(tmp_path: Path) -> None:
    """The key's pseudonym, made a customer of the source: the copy renames the key to
    another name, and verify passes. Before: the key was that customer's full name
    and verify failed (word_hits, kind name, in customers.prefs)."""
    src = _source(tmp_path / "s1.db", None)
    plan = build_plan(src).plan
    assert plan.tables["customers"].columns["prefs"].transformer == "json_mask"
    run(plan, src, f"sqlite:///{tmp_path / 't1.db'}", KEY, RunOptions())
    drawn = _key_of_row_1(f"sqlite:///{tmp_path / 't1.db'}")
    first, last = drawn.split()  # a full-name pseudonym
    src2, tgt2 = _source(tmp_path / "s2.db", (first, last)), f"sqlite:///{tmp_path / 't2.db'}"
    plan2 = build_plan(src2).plan
    run(plan2, src2, tgt2, KEY, RunOptions())
    report = verify(plan2, src2, tgt2, KEY)
    assert report.passed, report.to_json()
    assert _key_of_row_1(tgt2) != drawn


def test_the_whole_key_is_drawn_again_with_the_pairs_learnt() -> None:
    """The transformer alone: with the drawn name among the learnt full names, the
    key's new name writes no learnt pair; without it, the first draw stays."""
    from stagewall.masking._namepairs import pair_key, pair_spans
    from stagewall.masking._namewords import Learnt, fold_text
    from stagewall.masking.transformers import build_transformer

    def mask(pairs: set[tuple[str, str]]) -> str:
        tr = build_transformer(
            "json_mask", {"unknown_keys": "scrub"}, key=KEY, salt="customers.prefs"
        )
        learnt = Learnt()
        learnt.pairs = frozenset(pairs)
        tr.learn(learnt)
        (key,) = json.loads(str(tr.transform([json.dumps({WHOLE: 1})])[0]))
        return str(key)

    other = pair_key("tomasz", "berger")
    first = mask({other})
    drawn = fold_text(first).split()
    assert len(drawn) == 2
    met = pair_key(drawn[0], drawn[-1])
    again = mask({other, met})
    assert again != first
    assert pair_spans([again], frozenset({other, met})) == [[]]


def test_a_path_pseudonym_that_is_a_customers_name_is_drawn_again(tmp_path: Path) -> None:
    """A JSON path planned ``full_name`` (``$.contact``): its pseudonym, made a
    customer of the source, is drawn again, and verify passes. Before: the leaf was
    that customer's full name and verify failed (word_hits, kind name)."""
    from stagewall.masking.plan import ColumnPlan, Plan, TablePlan

    def planned(url: str) -> Plan:
        plan = build_plan(url).plan
        cols = dict(plan.tables["customers"].columns)
        cols["prefs"] = ColumnPlan(
            transformer="json_mask",
            params={"paths": {"$.contact": {"transformer": "full_name"}}, "unknown_keys": "scrub"},
        )
        return Plan(tables={"customers": TablePlan(columns=cols)})

    def contact(url: str) -> str:
        conn = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            (doc,) = conn.execute("SELECT prefs FROM customers WHERE id = 2").fetchone()
        finally:
            conn.close()
        return str(json.loads(doc)["contact"])

    def source(path: Path, extra: tuple[str, str] | None) -> str:
        url = _source(path, extra)
        conn = sqlite3.connect(path)
        conn.execute(
            "UPDATE customers SET prefs = ? WHERE id = 2", (json.dumps({"contact": "Ana Lopez"}),)
        )
        conn.commit()
        conn.close()
        return url

    src = source(tmp_path / "s1.db", None)
    tgt = f"sqlite:///{tmp_path / 't1.db'}"
    run(planned(src), src, tgt, KEY, RunOptions())
    drawn = contact(tgt)
    first, last = drawn.split()
    src2, tgt2 = source(tmp_path / "s2.db", (first, last)), f"sqlite:///{tmp_path / 't2.db'}"
    plan2 = planned(src2)
    run(plan2, src2, tgt2, KEY, RunOptions())
    report = verify(plan2, src2, tgt2, KEY)
    assert report.passed, report.to_json()
    assert contact(tgt2) != drawn
